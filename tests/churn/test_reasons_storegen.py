"""The reasons planted by the second store generator (``tests/storegen.py``, not the demo) are
recovered, on a store where 5% and one where 15% of all deliveries are late."""

import pandas as pd
import pytest

from custkit.churn.definition import assess_churn
from custkit.churn.reasons import assign_reasons, stayer_signals
from custkit.churn.text import classify_feedback
from custkit.data.reduce import reduce_orders
from custkit.data.signals import reduce_order_signals
from custkit.ltv import BGNBD, summarize

TROUBLES = ("delivery", "quality", "delivery_cost", "competitor_price", "support")


@pytest.fixture(scope="module", params=[0.05, 0.15], ids=["late_5pct", "late_15pct"])
def recovered(request, storegen):
    spec = storegen.StoreSpec(
        customers=8000, seed=1, churn_reasons=storegen.ALL_REASONS, late_rate=request.param
    )
    store = storegen.generate_store(spec)
    tables = store.tables
    orders = tables["orders"]
    as_of = pd.Timestamp(spec.end) - pd.Timedelta(days=1)
    red = reduce_orders(orders, as_of, customer_days=True)
    assessment = assess_churn(red, BGNBD(penalizer=0.001).fit(summarize(red)))
    feedback = tables["feedback"].reset_index(drop=True)
    result = assign_reasons(
        assessment.status,
        reduce_order_signals(orders, as_of, recent_orders=2),
        as_of,
        classify_feedback(feedback),
        feedback,
        tables["messages"],
        None,
        tables["customers"],
        stayed=stayer_signals(orders, as_of, recent_orders=2),
    )
    truth = store.truth_churn.set_index("customer_id")["reason"]
    churned = result.reasons.loc[result.reasons["status"] == "churned"]
    both = churned.join(truth.rename("truth"), how="inner")
    named = both["reason"].astype(str)
    table = pd.DataFrame(
        {
            "recall": both.groupby("truth").apply(lambda g: (named[g.index] == g.name).mean()),
            "precision": both.groupby(named)["truth"].apply(lambda t: (t == t.name).mean()),
            "customers": both.groupby("truth").size(),
        }
    )
    print(f"\nlateness {request.param:.0%}: recovered reasons of the storegen store\n", table)
    print(result.ratios.round(3).head(15).to_string())
    return result, both, table, assessment.status


def test_every_planted_reason_is_recovered_with_recall_of_at_least_80_percent(recovered):
    _, _, table, _ = recovered
    assert set(table.index) == {"forgot", *TROUBLES}
    assert (table["customers"] >= 40).all(), table
    assert (table["recall"] >= 0.8).all(), table


def test_named_reasons_are_right_at_least_90_percent_of_the_time(recovered):
    _, _, table, _ = recovered
    assert (table["precision"].drop("forgot") >= 0.9).all(), table
    assert table.loc["forgot", "precision"] >= 0.8, table


def test_at_least_90_percent_of_leavers_with_a_trouble_are_given_its_kind_of_reason(recovered):
    _, both, _, _ = recovered
    troubled = both.loc[both["truth"].isin(TROUBLES)]
    assert both["reason"].notna().all() and (both["reason"] != "unknown").all()
    assert troubled["reason"].isin(TROUBLES).mean() >= 0.9


def test_base_rate_lateness_weighs_little_and_planted_delays_a_lot(recovered):
    result, _, _, _ = recovered
    ratio = result.ratios.set_index("sign")["likelihood_ratio"]
    # base-rate delays are 1–3 days; the planted ones 4–9
    assert (ratio.reindex(["late:1-2d", "late:2-3d", "late:3-4d"]).dropna() < 1.5).all(), ratio
    assert (ratio.reindex(["late:4-6d", "late:6-10d"]) > 2.5).all(), ratio


def test_no_customer_who_has_not_churned_gets_a_reason(recovered):
    result, _, _, status = recovered
    out = result.reasons
    churned = status.index[status["status"] == "churned"]
    assert set(out.index[out["reason"].notna()]) == set(churned)
    assert out.loc[out["status"] == "at_risk", "driver"].notna().any()


@pytest.mark.parametrize("late_rate", [0.05, 0.15])
def test_the_generator_makes_the_base_rate_of_late_deliveries_it_is_given(storegen, late_rate):
    store = storegen.generate_store(storegen.StoreSpec(customers=3000, seed=2, late_rate=late_rate))
    orders = store.tables["orders"]
    delay = (
        orders["delivered_at"].dt.normalize() - orders["promised_delivery_date"]
    ).dt.days.dropna()
    base = delay.loc[delay <= 3]  # planted delays are 4–9 days
    assert (base > 0).mean() == pytest.approx(late_rate, abs=0.015)
    assert (delay > 3).sum() > 0


@pytest.mark.parametrize("late_rate", [0.0, 0.04, 0.16, 0.5])
def test_the_generator_refuses_a_base_rate_of_late_deliveries_outside_5_to_15_percent(
    storegen, late_rate
):
    with pytest.raises(ValueError, match=r"late_rate must be in \[0.05, 0.15\]"):
        storegen.StoreSpec(late_rate=late_rate)


def test_the_generator_plants_every_reason_and_complaints_from_customers_who_stay(storegen):
    store = storegen.generate_store(
        storegen.StoreSpec(customers=3000, seed=3, churn_reasons=storegen.ALL_REASONS)
    )
    truth = store.truth_churn
    assert set(truth["reason"]) == set(storegen.ALL_REASONS)
    feedback = store.tables["feedback"]
    tickets = feedback.loc[feedback["kind"] == "ticket"]
    stayers = ~tickets["customer_id"].isin(truth["customer_id"])
    assert stayers.sum() > 100  # ~10% of the customers who stay complain
    assert set(tickets.loc[stayers, "reason"]) == set(storegen.ALL_REASONS) - {"forgot"}
    support = truth.loc[truth["reason"] == "support", "customer_id"]
    wrote = support.isin(tickets.loc[tickets["reason"] == "support", "customer_id"])
    assert wrote.mean() >= 0.9
    orders = store.tables["orders"].set_index("customer_id")
    price = truth.loc[truth["reason"] == "competitor_price", "customer_id"]
    assert (orders.loc[price, "coupon"] == "PRICEMATCH").groupby(level=0).any().all()
