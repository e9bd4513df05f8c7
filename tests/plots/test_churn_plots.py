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
