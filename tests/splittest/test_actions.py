"""The split-test report's action for the monthly summary: an experiment ready to ship is worth
the extra revenue its winner brought, checked against the difference worked out from the orders."""

from __future__ import annotations

import pandas as pd
import pytest

from custkit import splittest


def test_a_test_ready_to_ship_is_worth_the_extra_revenue_its_winner_brought(make_store, review_of):
    winning = make_store("winning", customers=4000, effect=0.4, seed=3)
    flat = make_store("flat", customers=4000, effect=0.0, seed=4, first_id=100_000)
    review = review_of(winning, flat)
    verdicts = {e: splittest.verdict(review, e).code for e in review.designs}
    assert verdicts["winning"] == "ship" and verdicts["flat"] != "ship"

    (action,) = splittest.ship_actions(review)

    # the same difference worked out from the orders: revenue per customer over the horizon
    orders, experiments = winning
    window = pd.Timedelta(days=review.horizon_days)
    joined = orders.merge(experiments, on="customer_id")
    inside = (joined["order_date"] >= joined["assigned_at"]) & (
        joined["order_date"] < joined["assigned_at"] + window
    )
    complete = experiments["assigned_at"] + window <= pd.Timestamp("2026-11-01")
    revenue = joined[inside].groupby("customer_id")["revenue"].sum()
    per_customer = experiments[complete].assign(
        revenue=lambda f: f["customer_id"].map(revenue).fillna(0.0)
    )
    means = per_customer.groupby("variant")["revenue"].mean()
    expected = (means["B"] - means["A"]) * len(per_customer)
    assert action.customers == len(per_customer)
    assert action.value == pytest.approx(expected, rel=0.05)  # the report caps at the 99th pct
    assert action.value > 0 and action.export == "splittest_results"
    assert action.title == "Ship the winner of winning"
    assert "“B” did better than “A”" in action.line
