"""Churn figures draw whatever the reasons' counts are, the extreme shares included."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custkit.churn.report import _wilson
from custkit.plots.churn import plot_reason_shares


def _summary(counts: list[int]) -> pd.DataFrame:
    customers = np.array(counts)
    total = np.full(len(counts), max(customers.sum(), 1))
    low, high = _wilson(customers, total)
    return pd.DataFrame(
        {
            "label": [f"reason {i}" for i in range(len(counts))],
            "customers": customers,
            "share": customers / total,
            "share_low": low,
            "share_high": high,
            "revenue_lost_per_year": customers * 100.0,
        }
    )


@pytest.mark.parametrize("counts", [[7], [1, 0], [0, 123_457], [3, 0, 0, 0]])
def test_reason_shares_draw_when_every_leaver_has_one_reason(counts):
    # all leavers with one reason (a store with orders only: everyone 'forgot') is a share of
    # 100%, whose Wilson upper bound is 1 - 1e-16; a negative error bar once failed the report
    fig = plot_reason_shares(_summary(counts), currency="EUR")
    assert len(fig.axes) == 2


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=8))
def test_reason_shares_draw_for_any_counts(counts):
    plot_reason_shares(_summary(counts))


def _monthly(top: float) -> pd.DataFrame:
    rate = np.linspace(top / 4, top, 12)
    return pd.DataFrame(
        {
            "month": pd.period_range("2025-11", periods=12, freq="M"),
            "churn_rate": rate,
            "churn_rate_low": rate * 0.9,
            "churn_rate_high": rate * 1.1,
            "returned_share": np.linspace(0.6, 0.05, 12),
        }
    )


@pytest.mark.parametrize("top", [0.004, 0.02, 0.09, 0.3, 0.9])
@pytest.mark.parametrize("language", ["en", "ru"])
def test_churn_axes_write_each_percent_tick_exactly(top, language):
    """Issue 15: exact axis ticks. Every share axis of the churn figures writes its ticks as
    the numbers they are ("2%", "2.5%"), never "2.0%", and never a tick outside 0…100%."""
    from custkit.i18n import use_language
    from custkit.plots.churn import plot_calibration, plot_churn_trend

    calibration = pd.DataFrame(
        {"mean_predicted": [0.1, 0.5, 0.9], "observed_rate": [0.2, 0.5, 0.8]}
    )
    with use_language(language):
        figures = [plot_churn_trend(_monthly(top)), plot_calibration(calibration)]
    ticks = []
    for fig in figures:
        fig.canvas.draw()
        for ax in fig.axes:
            for axis in (ax.xaxis, ax.yaxis):
                ticks += [t.get_text() for t in axis.get_ticklabels() if "%" in t.get_text()]
    assert ticks
    for tick in ticks:
        number = tick.rstrip("%").replace(",", ".").replace("\u2212", "-")
        assert not number.endswith(("0", ".")) or "." not in number, tick  # "2.0%", "2.50%"
        assert 0 <= float(number) <= 100, tick
