"""The reasons planted in the demo store are recovered from the evidence they left."""

import pandas as pd
import pytest

from custkit.churn.definition import assess_churn
from custkit.churn.reasons import assign_reasons
from custkit.churn.text import classify_feedback
from custkit.data.demo import SERVED_REGIONS
from custkit.data.reduce import reduce_orders
from custkit.data.signals import reduce_order_signals
from custkit.ltv import BGNBD, summarize

AS_OF = pd.Timestamp("2026-10-31")


@pytest.fixture(scope="module")
def recovered(demo_store):
    orders = demo_store["orders"]
    red = reduce_orders(orders, AS_OF, customer_days=True)
    assessment = assess_churn(red, BGNBD(penalizer=0.001).fit(summarize(red)))
    leavers = assessment.status.loc[assessment.status["status"] != "active"]
    feedback = demo_store["feedback"].reset_index(drop=True)
    result = assign_reasons(
        leavers,
        reduce_order_signals(orders, AS_OF, recent_orders=2),
        AS_OF,
        classify_feedback(feedback),
        feedback,
        demo_store["messages"],
        SERVED_REGIONS,
        demo_store["customers"],
    )
    truth = demo_store["truth_churn"]
    # leavers long gone (120+ days) and not won back: their evidence is complete
    gone = truth.loc[
        (truth["dropout_at"] <= AS_OF - pd.Timedelta(days=120)) & truth["won_back_at"].isna()
    ].set_index("customer_id")["reason"]
    both = result.reasons.join(gone.rename("truth"), how="inner")
    table = pd.DataFrame(
        {
            "recall": both.groupby("truth")["reason"].apply(
                lambda r: (r.astype(str) == r.name).mean()
            ),
            "precision": both.groupby(both["reason"].astype(str))["truth"].apply(
                lambda t: (t == t.name).mean()
            ),
            "customers": both.groupby("truth").size(),
        }
    )
    print("\nrecovered churn reasons of the demo store (20,000 customers):\n", table.round(2))
    return table, len(both)


def test_every_planted_reason_is_recovered_with_recall_of_at_least_80_percent(recovered):
    table, n = recovered
    assert n > 2000
    assert (table["recall"].dropna() >= 0.8).all(), table


def test_named_reasons_are_right_at_least_80_percent_of_the_time(recovered):
    table, _ = recovered
    assert (table["precision"].drop("unknown", errors="ignore") >= 0.8).all(), table
