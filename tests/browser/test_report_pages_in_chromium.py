"""Every report page of one run, and the index, laid out in headless Chromium at 1400×900.

Checked: no page scrolls sideways, every ``<img>`` is decoded and shown, every inline SVG draws
something, no date is broken over two lines (issue 15: "ISO dates wrapping mid-date"), and each
page's height against the issue 15 targets (:data:`TARGET_SCREENS`). The
pages come from a small demo run made for the test (about a minute), or from a finished run's
folder given in ``CUSTKIT_BROWSER_REPORTS`` (e.g. the full demo's ``reports/``).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

#: The pages every run has; a page missing from the run fails the check rather than shrinking it.
REQUIRED_PAGES = ("index", "summary", "audit", "ltv", "churn", "splittest")

#: Longest page, in screens of 900 px at 1400 px wide, a manager should have to read (issue 15,
#: "Manager pages"; the summary: "It fits one screen"). ``None``: measured, no target.
TARGET_SCREENS: dict[str, float | None] = {
    "summary": 1,
    "index": None,
    "audit": 8,
    "ltv": 6,
    "churn": 6,
    "splittest": 10,
}

#: Pages over their target on main at 133395e, with what they measured then (small demo run of
#: the test / the full 20k-customer demo). Their height check is an explicit xfail while they
#: are over target, and passes as soon as the page is shortened to its target: then delete the
#: entry here. A page not listed that grows past its target fails.
OVER_TARGET_TODAY: dict[str, str] = {}
#: Pages issue 15 adds in a later step; until a run has them their checks are expected to fail.
#: (The monthly summary, the last of them, is built: every run writes it.)
NOT_BUILT_YET: dict[str, str] = {}


def _measured(measurements: dict, page: str) -> dict:
    if page not in measurements:
        if page in NOT_BUILT_YET:
            pytest.xfail(NOT_BUILT_YET[page])
        pytest.fail(f"The run has no {page} page; pages found: {sorted(measurements)}.")
    return measurements[page]


def _longest_sections(found: dict, n: int = 3) -> str:
    """The *n* longest ``<h2>`` sections of a measured page, in screens: where to shorten it."""
    starts = found["sections"]
    ends = [s["top"] for s in starts[1:]] + [found["scroll_height"]]
    lengths = sorted(
        ((end - s["top"]) / 900, s["title"]) for s, end in zip(starts, ends, strict=True)
    )
    return ", ".join(f"{title!r} {length:.1f}" for length, title in lengths[::-1][:n])


def test_every_report_of_the_run_and_the_index_is_measured(measurements):
    missing = [page for page in REQUIRED_PAGES if page not in measurements]
    assert not missing, f"pages missing from the run: {missing}"
    for page, found in measurements.items():
        assert (found["viewport_width"], found["viewport_height"]) == (1400, 900), page
        assert found["scroll_height"] > 0, page


def test_the_height_targets_name_every_page_of_the_run(measurements):
    assert set(measurements) <= set(TARGET_SCREENS), set(measurements) - set(TARGET_SCREENS)
    assert set(OVER_TARGET_TODAY) <= {p for p, t in TARGET_SCREENS.items() if t is not None}


@pytest.mark.parametrize("page", list(TARGET_SCREENS))
def test_no_page_scrolls_sideways_at_1400_px(measurements, page):
    found = _measured(measurements, page)
    assert found["scroll_width"] <= found["viewport_width"] and not found["overflowing"], (
        f"{page} is {found['scroll_width']} px wide in a {found['viewport_width']} px window; "
        f"reaching past the right edge: {found['overflowing'][:10]}"
    )


@pytest.mark.parametrize("page", list(TARGET_SCREENS))
def test_every_image_and_chart_on_a_page_is_shown(measurements, page):
    found = _measured(measurements, page)
    broken = [
        img
        for img in found["images"]
        if not (img["complete"] and img["natural_width"] > 0 and img["shown_width"] > 0)
    ]
    assert not broken, f"{page}: {len(broken)} of {len(found['images'])} images not shown: {broken}"
    empty = [
        svg
        for svg in found["svgs"]
        if svg["shapes"] == 0 or svg["shown_width"] == 0 or svg["shown_height"] == 0
    ]
    assert not empty, f"{page}: {len(empty)} of {len(found['svgs'])} inline SVGs empty: {empty}"


@pytest.mark.parametrize("page", list(TARGET_SCREENS))
def test_no_date_on_a_page_is_broken_over_two_lines(measurements, page):
    found = _measured(measurements, page)
    assert not found["wrapped_dates"], f"{page}: dates broken over lines: {found['wrapped_dates']}"


@pytest.mark.parametrize("page", [p for p, target in TARGET_SCREENS.items() if target is not None])
def test_a_page_is_no_longer_than_its_target_in_screens(measurements, page, record_property):
    found = _measured(measurements, page)
    screens = found["scroll_height"] / 900
    record_property("screens", round(screens, 1))
    target = TARGET_SCREENS[page]
    if screens > target and page in OVER_TARGET_TODAY:
        pytest.xfail(
            f"{page}: {screens:.1f} screens, target {target} "
            f"(today's pages are not shortened yet: {OVER_TARGET_TODAY[page]}); "
            f"longest sections: {_longest_sections(found)}"
        )
    assert screens <= target, f"{page} is {screens:.1f} screens long at 1400×900; target {target}"
