import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custkit.audit.rfm import (
    RFM_SEGMENT_MAP,
    SEGMENT_ACTIONS,
    SEGMENT_GRID,
    SEGMENTS,
    rfm_finding,
    rfm_scores,
    segment_migration,
    segment_summary,
)
from custkit.data.periods import ReportPeriod
from custkit.data.reduce import reduce_orders
from custkit.errors import ParamsError

PERIOD = ReportPeriod.from_string("2024-06")


def _red(rows):
    orders = pd.DataFrame(rows, columns=["customer_id", "order_date", "revenue"])
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    return reduce_orders(orders, PERIOD.as_of)


def test_segment_map_covers_all_25_cells_exactly_once_and_uses_every_segment():
    assert sorted(RFM_SEGMENT_MAP) == [(r, f) for r in range(1, 6) for f in range(1, 6)]
    assert len(SEGMENT_GRID) == 5 and all(len(row) == 5 for row in SEGMENT_GRID)
    assert set(RFM_SEGMENT_MAP.values()) == set(SEGMENTS)
    assert set(SEGMENT_ACTIONS) == set(SEGMENTS)


def test_scores_follow_fixed_thresholds_at_their_edges():
    red = _red(
        [
            (1, "2024-05-31", 10.0),  # 30 days before as-of -> R5
            (2, "2024-05-30", 10.0),  # 31 days -> R4
            (3, "2023-06-01", 10.0),  # 395 days -> R1
        ]
        + [(4, f"2024-06-{d:02d}", 100.0) for d in range(1, 7)]  # 6 orders -> F5, champions
    )
    s = rfm_scores(red, PERIOD).set_index("customer_id")
    assert s["recency_days"].tolist() == [30, 31, 395, 24]
    assert s["r_score"].tolist() == [5, 4, 1, 5]
    assert s["f_score"].tolist() == [1, 1, 1, 5]
    assert s["segment"].tolist() == ["new", "promising", "hibernating", "champions"]


def test_thresholds_are_configurable():
    red = _red([(1, "2024-05-30", 10.0), (1, "2024-06-01", 10.0)])
    s = rfm_scores(red, PERIOD, recency_days=(7, 14, 21, 28), frequency_orders=(1, 3, 5, 8))
    assert (s["r_score"].item(), s["f_score"].item()) == (1, 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"recency_days": [90, 30]},
            "rfm recency_days must be an increasing sequence of positive integers, "
            "e.g. [30, 90, 180, 365]. Got [90, 30] instead.",
        ),
        ({"frequency_orders": [0, 1, 2, 3]}, "Got [0, 1, 2, 3] instead."),
        ({"frequency_orders": [1, 2, 3]}, "exactly 4 thresholds"),
    ],
)
def test_bad_thresholds_raise_params_error_quoting_the_value(kwargs, message):
    with pytest.raises(ParamsError) as info:
        rfm_scores(_red([(1, "2024-06-01", 1.0)]), PERIOD, **kwargs)
    assert message in str(info.value)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 900)), min_size=1, max_size=80))
def test_every_customer_gets_exactly_one_segment(rows):
    dates = pd.Timestamp("2024-06-30") - pd.to_timedelta([d for _, d in rows], unit="D")
    red = _red([(c, d, 1.0) for (c, _), d in zip(rows, dates, strict=True)])
    s = rfm_scores(red, PERIOD)
    assert s["customer_id"].is_unique
    assert s["segment"].notna().all()
    assert segment_summary(s)["customers"].sum() == s["customer_id"].nunique()


def test_summary_gives_size_revenue_share_and_action():
    red = _red([(1, "2024-06-30", 300.0), (2, "2020-01-01", 100.0)])
    summary = segment_summary(rfm_scores(red, PERIOD)).set_index("segment")
    assert summary.loc["new", "revenue_share"] == pytest.approx(0.75)
    assert summary.loc["hibernating", "customer_share"] == pytest.approx(0.5)
    assert "No discounts" in summary.loc["champions", "action"]
    assert "reactivation" in summary.loc["at_risk", "action"].lower()


def test_migration_counts_moves_and_newcomers_from_the_same_reductions():
    red = _red([(1, "2024-05-15", 10.0), (1, "2024-06-20", 10.0), (2, "2024-06-10", 10.0)])
    now = rfm_scores(red, PERIOD)
    before = rfm_scores(red, PERIOD.previous_month)
    assert before["customer_id"].tolist() == [1]
    m = segment_migration(now, before)
    assert m.loc["new", "potential_loyalists"] == 1  # customer 1: 1 order -> 2 orders
    assert m.loc["not_yet_customer", "new"] == 1  # customer 2
    assert m.to_numpy().sum() == 2
    assert "moved from a good segment" in rfm_finding(segment_summary(now), m).conclusion
