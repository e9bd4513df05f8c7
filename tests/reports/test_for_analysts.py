"""The folded "for analysts" block: what a report displays inside it ends up in one collapsed
``<details>``, figures included, with nothing dropped."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from IPython.utils.capture import capture_output

from custkit.findings import Finding
from custkit.i18n import use_language
from custkit.reports.display import (
    details_html,
    for_analysts,
    show_figure,
    show_finding,
    show_table,
)


@pytest.fixture(autouse=True)
def _shell():
    """``display`` publishes only inside an IPython shell, as in a report's kernel."""
    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.instance()
    yield
    InteractiveShell.clear_instance()


def _shown(block):
    with capture_output(stdout=False, stderr=False, display=True) as outer:
        block()
    return outer.outputs


def test_everything_displayed_inside_is_one_collapsed_block_headed_for_analysts():
    def block():
        with for_analysts("model fits"):
            show_table(pd.DataFrame({"model": ["BG/NBD"], "mae": [0.25]}), caption="Fits")
            show_finding(Finding("Fit", "converged", "nothing", "info"))
            fig, ax = plt.subplots()
            ax.set_title("Tracking plot")
            show_figure(fig)

    outputs = _shown(block)
    assert len(outputs) == 1
    page = outputs[0].data["text/html"]
    assert page.startswith('<details class="ck-details"') and " open" not in page.split(">")[0]
    assert "<summary" in page and "For analysts: model fits" in page
    assert "BG/NBD" in page and "converged" in page
    assert 'src="data:image/png;base64,' in page
    assert "Tracking plot" in outputs[0].metadata["custkit"]["texts"]


def test_an_empty_block_shows_nothing():
    assert _shown(lambda: for_analysts("nothing").__enter__().__exit__(None, None, None)) == []


def test_an_error_inside_the_block_propagates_and_shows_nothing_half_built():
    def block():
        with for_analysts("x"):
            show_table(pd.DataFrame({"a": [1]}))
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        _shown(block)


def test_the_summary_is_escaped_and_translated():
    with use_language("ru"):
        outputs = _shown(lambda: _russian_block())
    page = outputs[0].data["text/html"]
    assert "Для аналитиков: a &lt;b&gt;" in page


def _russian_block():
    with for_analysts("a <b>"):
        show_table(pd.DataFrame({"a": [1]}))


def test_details_html_can_start_open():
    assert "<details" in details_html("s", ["<p>x</p>"], open_=True).split(">")[0] + ">"
    assert " open>" in details_html("s", ["<p>x</p>"], open_=True)
