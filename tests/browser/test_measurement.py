"""The browser measurement itself, on pages whose faults are known: a check that cannot see a
wide table, a broken image or an empty chart would pass every report."""

from __future__ import annotations

import base64

import pytest

pytestmark = pytest.mark.browser

# a 1×1 PNG, and bytes that are not an image
PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5Er"
    "kJggg=="
)
NOT_AN_IMAGE = base64.b64encode(b"not a png").decode()

PAGES = {
    "fits": '<p>One short paragraph.</p><img src="data:image/png;base64,{pixel}">'
    '<svg width="20" height="20"><line x1="0" y1="0" x2="20" y2="20" stroke="black"/></svg>',
    "wide_table": '<table class="numbers"><tr><td style="min-width: 2000px">wide</td></tr></table>',
    "wide_table_in_a_scroll_box": '<div style="overflow-x: auto">'
    '<table><tr><td style="min-width: 2000px">wide</td></tr></table></div>',
    "three_screens": '<div style="height: 2700px">tall</div>',
    "broken_image": '<img src="data:image/png;base64,{broken}">'
    '<img src="data:image/png;base64,{pixel}">',
    "wrapped_dates": '<p style="width: 4em">since 2026-10-14</p><p>since 2026-10-14</p>'
    '<p style="width: 3em">14 окт. 2026</p>',
    "two_sections": '<h2 style="margin: 0; height: 100px">One¶</h2>'
    '<div style="height: 900px"></div>'
    '<h2 style="margin: 0; height: 100px">Two</h2><div style="height: 1800px"></div>',
    "folded": '<details><summary style="height: 100px">For analysts</summary>'
    '<div style="height: 2700px"></div><img src="data:image/png;base64,{pixel}">'
    '<table class="inside"><tr><td style="min-width: 2000px">wide</td></tr></table></details>',
    "empty_chart": '<svg width="20" height="20" aria-label="empty"></svg>'
    '<svg width="20" height="20" aria-label="drawn"><rect width="5" height="5"/></svg>',
}


@pytest.fixture(scope="module")
def known_pages(tmp_path_factory, measure):
    tmp_path = tmp_path_factory.mktemp("known_pages")
    pages = {}
    for name, body in PAGES.items():
        path = tmp_path / f"{name}.html"
        body = body.format(pixel=PIXEL, broken=NOT_AN_IMAGE)
        path.write_text(
            f"<!DOCTYPE html><html><head><meta charset='utf-8'></head>"
            f"<body style='margin: 0'>{body}</body></html>",
            encoding="utf-8",
        )
        pages[name] = path
    workdir = tmp_path / "measured"
    workdir.mkdir()
    return measure(pages, workdir)


def test_a_page_that_fits_measures_clean(known_pages):
    found = known_pages["fits"]
    assert (found["viewport_width"], found["viewport_height"]) == (1400, 900)
    assert (found["scroll_width"], found["scroll_height"]) == (1400, 900)
    assert found["overflowing"] == []
    assert [(i["natural_width"], i["shown_width"]) for i in found["images"]] == [(1, 1)]
    assert [s["shapes"] for s in found["svgs"]] == [1]


def test_a_table_wider_than_the_window_is_named_as_overflowing(known_pages):
    found = known_pages["wide_table"]
    # the cell is 2000 px; the table adds its border spacing and the cell's padding
    assert 2000 <= found["scroll_width"] < 2020
    assert [o["element"] for o in found["overflowing"]] == ["table.numbers"]
    assert found["overflowing"][0]["right"] == found["scroll_width"]


def test_a_wide_table_in_its_own_scroll_box_does_not_widen_the_page(known_pages):
    found = known_pages["wide_table_in_a_scroll_box"]
    assert found["scroll_width"] == 1400
    assert found["overflowing"] == []


def test_page_height_is_measured_in_css_pixels(known_pages):
    assert known_pages["three_screens"]["scroll_height"] / 900 == 3


def test_an_image_that_does_not_decode_is_seen(known_pages):
    images = known_pages["broken_image"]["images"]
    assert [i["natural_width"] for i in images] == [0, 1]


def test_an_inline_svg_without_shapes_is_seen(known_pages):
    svgs = known_pages["empty_chart"]["svgs"]
    assert [(s["label"], s["shapes"]) for s in svgs] == [("empty", 0), ("drawn", 1)]


def test_a_date_broken_over_two_lines_is_seen(known_pages):
    wrapped = known_pages["wrapped_dates"]["wrapped_dates"]
    assert [w["date"] for w in wrapped] == ["2026-10-14", "14 окт. 2026"]
    assert known_pages["fits"]["wrapped_dates"] == []


def test_each_section_is_found_where_its_heading_starts(known_pages):
    found = known_pages["two_sections"]
    assert found["sections"] == [{"title": "One", "top": 0}, {"title": "Two", "top": 1000}]
    assert found["scroll_height"] == 2900


def test_a_folded_block_counts_as_its_summary_line_yet_what_it_holds_is_checked(known_pages):
    found = known_pages["folded"]
    assert found["folded_blocks"] == 1
    assert found["scroll_height"] == 900  # the 2,700 px inside stay folded for the reader
    assert [(i["natural_width"], i["shown_width"]) for i in found["images"]] == [(1, 1)]
    assert [o["element"] for o in found["overflowing"]] == ["table.inside"]
