"""The churn definition on hand-worked purchase histories."""

import numpy as np
import pandas as pd
import pytest

from custkit.churn.definition import (
    ChurnRule,
    assess_churn,
    churn_events,
    churn_status,
    monthly_churn,
)
from custkit.data.reduce import reduce_orders
from custkit.errors import DataError, ParamsError
from custkit.ltv import BGNBD, summarize

START = pd.Timestamp("2024-01-01")


def orders_from_days(histories):
    rows = [
        (customer, START + pd.Timedelta(days=d, hours=12), 100.0)
        for customer, days in histories.items()
        for d in days
    ]
    return pd.DataFrame(rows, columns=["customer_id", "order_date", "revenue"])


def reductions(histories, as_of_day):
    orders = orders_from_days(histories)
    return reduce_orders(orders, START + pd.Timedelta(days=as_of_day), customer_days=True)


GAP_RULE = ChurnRule(method="gap", min_window_days=5, one_time_window_days=180)


def test_gap_rule_churns_after_three_median_gaps_and_flags_risk_after_one_and_a_half():
    red = reductions({1: [0, 10, 20, 30], 2: [0, 10, 20, 50], 3: [0, 20, 40, 60]}, 70)
    s = churn_status(red, rule=GAP_RULE)
    # 1: median gap 10 -> churned 30 days after day 30 (day 60); 40 days since: churned
    assert s.loc[1, "status"] == "churned" and s.loc[1, "churn_window_days"] == 30
    assert s.loc[1, "churned_at"] == START + pd.Timedelta(days=60)
    # 2: median gap 10, 20 days since the last purchase: at risk (>= 15), not churned (< 30)
    assert s.loc[2, "status"] == "at_risk" and pd.isna(s.loc[2, "churned_at"])
    # 3: median gap 20, 10 days since: active
    assert s.loc[3, "status"] == "active" and s.loc[3, "median_gap_days"] == 20
    assert set(s["basis"]) == {"gap"}
    assert s["purchase_days"].tolist() == [4, 4, 4]


def test_one_time_buyers_use_the_fixed_window():
    red = reductions({1: [0], 2: [100], 3: [150]}, 200)
    s = churn_status(red, rule=GAP_RULE)
    assert s["status"].tolist() == ["churned", "at_risk", "active"]
    assert set(s["basis"]) == {"one_time_window"} and s["median_gap_days"].isna().all()


def test_events_date_every_lapse_and_mark_who_came_back():
    # median gap of customer 1 is 10 -> window 30: the 100-day gap after day 20 is a lapse
    red = reductions({1: [0, 10, 20, 120, 130], 2: [0]}, 300)
    events = churn_events(red, rule=GAP_RULE)
    first = events.loc[events["customer_id"] == 1]
    assert first["churned_at"].tolist() == [START + pd.Timedelta(days=50)] * 1 + [
        START + pd.Timedelta(days=160)
    ]
    assert first["returned_at"].iloc[0] == START + pd.Timedelta(days=120)
    assert pd.isna(first["returned_at"].iloc[1])
    second = events.loc[events["customer_id"] == 2].iloc[0]
    assert second["churned_at"] == START + pd.Timedelta(days=180)


def test_monthly_churn_counts_active_customers_at_month_start_and_returns():
    red = reductions({1: [0, 10, 20, 120, 130], 2: [0], 3: [40, 45, 50, 280]}, 300)
    events = churn_events(red, rule=GAP_RULE)
    table = monthly_churn(events, red, months=10).set_index("month")
    # customer 3: median gap 5 -> window 15: lapse dated day 65 (2024-03-06), back on day 280
    march = table.loc[pd.Period("2024-03", "M")]
    assert march["active_at_start"] == 2  # 2 and 3; customer 1 had left on day 50
    assert march["churned"] == 1 and march["returned_since"] == 1
    feb = table.loc[pd.Period("2024-02", "M")]
    assert feb["churned"] == 1 and feb["active_at_start"] == 2  # customer 1 left on day 50
    assert feb["churn_rate"] == pytest.approx(0.5)
    assert feb["churn_rate_low"] < 0.5 < feb["churn_rate_high"]


def test_bgnbd_rule_uses_the_age_at_which_p_alive_falls_below_the_threshold():
    rng = np.random.default_rng(0)
    histories = {
        c: sorted(set(rng.integers(0, 300, rng.integers(1, 8)).tolist())) for c in range(400)
    }
    red = reductions(histories, 330)
    model = BGNBD(penalizer=0.001).fit(summarize(red))
    s = churn_status(red, model=model, rule=ChurnRule(min_window_days=1))
    repeat = s.loc[s["purchase_days"] > 1]
    assert set(repeat["basis"]) == {"p_alive"}
    summary = summarize(red).loc[repeat.index]
    expected = (
        model.age_at_p_alive(0.3, summary["frequency"], summary["recency"]) - summary["recency"]
    ) * 7
    np.testing.assert_allclose(repeat["churn_window_days"], expected.clip(lower=1))
    # churned exactly when the model's own P(alive) at as-of is below the threshold
    alive = model.p_alive(summary["frequency"], summary["recency"], summary["T"])
    churned = repeat["status"] == "churned"
    assert (alive[churned] <= 0.3 + 1e-2).all() and (alive[~churned] > 0.3 - 1e-2).all()
    assert "BG/NBD" in s.attrs["rule"]


def test_rule_and_inputs_are_validated():
    with pytest.raises(ParamsError, match=r"'p_alive_churned' parameter must be a float"):
        ChurnRule(p_alive_churned=1.5)
    with pytest.raises(ParamsError, match="p_alive_at_risk must be above"):
        ChurnRule(p_alive_churned=0.5, p_alive_at_risk=0.4)
    with pytest.raises(ParamsError, match="'method' parameter must be"):
        ChurnRule(method="pareto")
    red = reduce_orders(orders_from_days({1: [0, 5]}), START + pd.Timedelta(days=30))
    with pytest.raises(DataError, match="customer_days=True"):
        churn_status(red)


def test_assessment_gives_the_same_status_and_events_as_the_single_functions():
    red = reductions({1: [0, 10, 20, 120, 130], 2: [0], 3: [40, 45, 50, 280]}, 300)
    both = assess_churn(red, rule=GAP_RULE)
    pd.testing.assert_frame_equal(both.status, churn_status(red, rule=GAP_RULE))
    pd.testing.assert_frame_equal(both.events, churn_events(red, rule=GAP_RULE))
    assert "3× their usual gap" in both.description
