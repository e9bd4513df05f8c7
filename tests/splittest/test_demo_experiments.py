"""The demo store's planted experiments read as planted: the A/A test shows no difference, the
month-2 effect is flat at 30 days and clear at 90, the broken split raises the alarm."""

import pandas as pd
import pytest

import custkit as ck
from custkit.data.demo import generate_demo_store
from custkit.splittest import (
    metric_table,
    month_table,
    review_experiments,
    srm_p_value,
    verdict,
)

AS_OF = pd.Timestamp("2026-10-31")  # the last complete month of the default demo


@pytest.fixture(scope="module")
def demo_review():
    store = generate_demo_store(20_000, dirty=False)
    reductions = ck.reduce_orders(store["orders"], AS_OF, customer_days=True)
    return review_experiments(
        store["experiments"],
        reductions,
        planned_splits={"winback_*": {"holdout": 0.2, "contact": 0.8}},
    )


def test_the_aa_test_shows_no_significant_difference(demo_review):
    table = metric_table(demo_review, "exp_aa")
    assert len(table) == 18 and table["p_value"].notna().all()
    assert (table["p_holm"] >= 0.05).all()
    primary = table.loc[(table["metric"] == "revenue") & (table["window_days"] == 90)]
    assert primary["p_value"].iloc[0] > 0.05
    assert verdict(demo_review, "exp_aa").code in ("too_early", "no_difference")
    assert srm_p_value(demo_review, "exp_aa") > 0.01


def test_the_month_2_effect_is_flat_at_30_days_and_clear_at_90(demo_review):
    table = metric_table(demo_review, "exp_month2").set_index(["metric", "window_days"])
    for metric in ("conversion", "orders", "revenue"):
        assert table.loc[(metric, 30), "p_value"] > 0.05, metric
        assert table.loc[(metric, 30), "ci_low"] < 0 < table.loc[(metric, 30), "ci_high"]
        assert table.loc[(metric, 90), "p_holm"] < 0.01, metric
        assert table.loc[(metric, 90), "estimate"] > 0.1
    months = month_table(demo_review, "exp_month2").set_index(["metric", "month"])
    assert months.loc[("revenue", 1), "ci_low"] < 0 < months.loc[("revenue", 1), "ci_high"]
    for month in (2, 3):
        assert months.loc[("orders", month), "ci_low"] > 0
    result = verdict(demo_review, "exp_month2")
    assert result.text == "ship B" and not result.provisional


def test_the_broken_split_raises_the_sample_ratio_alarm(demo_review):
    assert srm_p_value(demo_review, "exp_srm") < 0.001
    assert verdict(demo_review, "exp_srm").code == "srm"


def test_win_back_campaigns_are_judged_against_their_planned_holdout(demo_review):
    campaigns = [e for e in demo_review.designs if e.startswith("winback_")]
    assert campaigns
    for campaign in campaigns:
        design = demo_review.designs[campaign]
        assert design.control == "holdout" and design.planned
        assert verdict(demo_review, campaign).code != "srm"
