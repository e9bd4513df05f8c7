"""Split-test figures: every figure has a title and labelled axes, draws from the computed frames
only, carries the sample-ratio warning when the test has one, and copes with no data yet."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from custkit.i18n import use_language
from custkit.plots import plot_effect_by_month, plot_effect_intervals, plot_sequential
from custkit.splittest.results import MetricResults, MonthResults, SequentialLooks


def metric_rows(srm=False):
    rows = []
    for window in (30, 60, 90):
        for metric, label in (("conversion", "Bought"), ("revenue", "Revenue per customer")):
            estimate = 0.001 * window
            rows.append(
                {
                    "window_days": window,
                    "metric": metric,
                    "label": label,
                    "variant": "B",
                    "control": "A",
                    "estimate": estimate,
                    "ci_low": estimate - 0.05 if window < 90 else -3.0,  # cut at -100%
                    "ci_high": estimate + 0.05 if window < 90 else 4.0,
                    "significant": window == 60,
                    "partial": window == 90,
                }
            )
    return MetricResults(
        table=pd.DataFrame(rows),
        experiment_id="exp_1",
        alpha=0.05,
        srm_alert=srm,
        multiple_testing="holm",
        family="Holm-adjusted over the 6 tests of this experiment (every metric × window)",
        family_tests=6,
    )


def month_rows():
    frame = pd.DataFrame(
        {
            "month": [1, 2, 3],
            "days": ["1–30", "31–60", "61–90"],
            "metric": "revenue",
            "label": "Revenue per customer",
            "variant": "B",
            "control": "A",
            "estimate": [0.0, 0.2, 0.3],
            "ci_low": [-0.1, 0.1, np.nan],
            "ci_high": [0.1, 0.3, np.nan],
        }
    )
    return MonthResults(table=frame, experiment_id="exp_1", alpha=0.05, srm_alert=False)


def looks(n=3):
    frame = pd.DataFrame(
        {
            "look_date": pd.date_range("2026-06-30", periods=n, freq="ME"),
            "information_fraction": np.linspace(0.3, 1.0, n),
            "z": np.linspace(1.0, 3.0, n),
            "boundary": np.linspace(3.9, 2.0, n),
            "crossed": [False] * (n - 1) + [True] if n else [],
        }
    )
    return SequentialLooks(
        table=frame,
        experiment_id="exp_1",
        metric="revenue",
        variant="B",
        control="A",
        crossed=bool(n),
        crossing_date=frame["look_date"].iloc[-1] if n else None,
        crossing_z=3.0 if n else None,
        judge_date=pd.Timestamp("2026-10-15"),
        provisional=True,
        alpha=0.05,
        window_days=90,
        srm_alert=False,
        planned_customers=None,
        planned_from=None,
        planned_origin=None,
        planned_lift=0.05,
        history_period=None,
    )


def labelled(fig: Figure) -> bool:
    ax = fig.axes[0]
    return bool(ax.get_title() and ax.get_xlabel() and ax.get_ylabel())


@pytest.mark.parametrize(
    ("plot", "frame"),
    [
        (plot_effect_intervals, metric_rows()),
        (plot_effect_by_month, month_rows()),
        (plot_sequential, looks()),
    ],
)
def test_every_figure_has_a_title_and_labelled_axes(plot, frame):
    fig = plot(frame)
    assert isinstance(fig, Figure) and labelled(fig)


def test_forest_plot_cuts_intervals_beyond_minus_100_percent():
    fig = plot_effect_intervals(metric_rows())
    low, _ = fig.axes[0].get_xlim()
    assert -1.2 < low < -1.0  # the -300% interval does not stretch the axis


def test_a_sample_ratio_mismatch_puts_a_warning_on_the_figure():
    fig = plot_effect_intervals(metric_rows(srm=True))
    assert "Sample-ratio mismatch" in fig.get_suptitle()
    assert plot_effect_intervals(metric_rows()).get_suptitle() == ""


def test_figures_cope_with_no_results_yet():
    empty = _none_yet(metric_rows(), experiment_id="young")
    assert labelled(plot_effect_intervals(empty))
    assert isinstance(plot_effect_by_month(_none_yet(month_rows())), Figure)
    assert isinstance(plot_sequential(looks(0)), Figure)


def _per_cent(label: str) -> float:
    """A tick label such as ``−2.5%`` or ``−2,5 %`` back to its relative change."""
    text = label.replace("\u2212", "-").replace(",", ".").replace("\u00a0", "").replace(" ", "")
    return float(text.rstrip("%")) / 100


def _none_yet(result, **fields):
    return dataclasses.replace(result, table=result.table.iloc[:0], **fields)


def _scaled(result, scale: float):
    scaled = result.table.copy()
    for column in ("estimate", "ci_low", "ci_high"):
        scaled[column] = scaled[column].clip(-0.9, 0.9) * scale
    return dataclasses.replace(result, table=scaled)


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("scale", [0.02, 0.1, 1.0, 3.0])  # changes of ±2% to ±300%
@pytest.mark.parametrize(
    ("plot", "frame", "axis"),
    [
        (plot_effect_intervals, metric_rows(), "x"),
        (plot_effect_by_month, month_rows(), "y"),
    ],
)
def test_every_per_cent_tick_label_is_its_tick_exactly(plot, frame, axis, scale, language):
    # issue 15: "exact axis ticks"; a tick at 2.5% written "2%" or "3%" (whole per cents
    # always) tells the reader a number the axis does not hold
    with use_language(language):
        fig = plot(_scaled(frame, scale))
        fig.canvas.draw()
        ax = fig.axes[0]
        getter = ax.get_xticklabels if axis == "x" else ax.get_yticklabels
        locs = ax.get_xticks() if axis == "x" else ax.get_yticks()
        labels = [t.get_text() for t in getter()]
    low, high = ax.get_xlim() if axis == "x" else ax.get_ylim()
    shown = [(loc, label) for loc, label in zip(locs, labels, strict=True) if low <= loc <= high]
    assert len(shown) >= 2
    for loc, label in shown:
        assert _per_cent(label) == pytest.approx(loc, abs=1e-9), (label, loc)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.0, "0%"), (0.1, "10%"), (-0.05, "\u22125%"), (0.025, "2.5%"), (0.0125, "1.25%")],
)
def test_a_per_cent_tick_has_as_many_decimals_as_it_needs(value, expected):
    from custkit.plots.splittest import percent_tick

    assert percent_tick(value) == expected
