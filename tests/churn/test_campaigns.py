"""One campaign evaluation: the churn report's past win-back campaigns and the split-test report's
verdicts for the same campaigns come from one implementation and agree, on the demo store and on
constructed stores with a known effect; the literature's 60% is shown as a claim beside the
store's own measure."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import confint_proportions_2indep

import custkit as ck
from custkit.churn.campaigns import REVIEW_SETTINGS, evaluate_campaigns
from custkit.churn.report import campaigns_shown, winback_claim_finding
from custkit.i18n import use_language
from custkit.splittest import (
    compare_proportions,
    metric_table,
    review_experiments,
    summary_shown,
    verdict,
)

AS_OF = pd.Timestamp("2026-10-31")


def split_test_settings():
    """What the split-test report runs with on the demo (its notebook's defaults)."""
    return ck.reports.resolve_parameters("splittest", None)


def review_settings(settings):
    """The keyword arguments the split-test notebook passes to review_experiments."""
    return {name: settings[name] for name in REVIEW_SETTINGS}


# --- the demo store: winback_2026_04 read by both reports ---------------------------------------


@pytest.fixture(scope="module")
def demo_both():
    from custkit.data.demo import generate_demo_store

    store = generate_demo_store(20_000, dirty=False)
    reductions = ck.reduce_orders(store["orders"], AS_OF, customer_days=True)
    settings = split_test_settings()
    # the split-test report: every experiment of the store, as its notebook reviews them
    review = review_experiments(store["experiments"], reductions, **review_settings(settings))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the September campaign's windows are still open
        evaluation = evaluate_campaigns(
            store["messages"], store["experiments"], reductions, settings=settings
        )
    return review, evaluation


def test_churn_and_split_test_reports_give_winback_2026_04_one_estimate_interval_and_verdict(
    demo_both,
):
    review, evaluation = demo_both
    split = verdict(review, "winback_2026_04")
    churn = evaluation.verdicts.set_index("campaign").loc["winback_2026_04"]
    # today's main: churn said +0.07 "works", the split-test report "no difference detected"
    assert split.code == "no_difference"
    assert churn["verdict"] == split.code and churn["verdict_text"] == split.text
    assert churn[["estimate", "ci_low", "ci_high", "p_value"]].tolist() == [
        split.estimate,
        split.ci_low,
        split.ci_high,
        split.p_value,
    ]
    # the return rate is the split-test report's conversion at the horizon, customer for customer
    table = metric_table(review, "winback_2026_04")
    back = table.loc[(table["window_days"] == 90) & (table["metric"] == "conversion")].iloc[0]
    assert churn["contacted"] == back["customers_variant"] == 1642
    assert churn["holdout"] == back["customers_control"] == 412
    assert churn[["return_change", "return_change_low", "return_change_high"]].tolist() == [
        back["estimate"],
        back["ci_low"],
        back["ci_high"],
    ]
    by_campaign = evaluation.by_campaign.set_index("campaign").loc["winback_2026_04"]
    totals = review.totals("winback_2026_04", 90)
    assert by_campaign["tested_contacted"] == totals["contact"]["customers"]
    assert by_campaign["tested_returned"] == totals["contact"]["sum_conversion"]
    assert by_campaign["holdout_returned"] == totals["holdout"]["sum_conversion"]
    assert by_campaign["return_rate"] == pytest.approx(back["value_variant"])


def test_every_demo_campaign_reads_the_same_in_the_churn_table_and_the_split_test_overview(
    demo_both,
):
    review, evaluation = demo_both
    overview = summary_shown(review).set_index("Experiment")
    shown = campaigns_shown(evaluation).set_index("Campaign")
    change = next(c for c in shown.columns if c.startswith("Revenue per customer, 90 days"))
    judged = evaluation.verdicts["campaign"]
    assert len(judged) == 8
    assert set(shown.index) == set(judged)
    for campaign in judged:
        split = overview.loc[campaign]
        assert shown.loc[campaign, "Verdict of the split test"] == split["Verdict"]
        assert shown.loc[campaign, change] == split["Revenue per customer, 90 days"]
    # windows still open: no numbers yet, and the split-test report's date to judge on
    assert shown.loc["winback_2026_09", "Verdict of the split test"].startswith("too early")
    assert shown.loc["winback_2026_09", "Contacted"] == "—"
    assert shown.loc["winback_2026_04", "Verdict of the split test"] == "no difference detected"
    # uplifts as percentage points, never a bare 0.07
    row = evaluation.by_campaign.set_index("campaign").loc["winback_2026_04"]
    assert shown.loc["winback_2026_04", "Difference"] == f"{row['uplift'] * 100:+.1f} pp"
    assert shown.loc["winback_2026_04", "Difference, 95% interval"] == (
        f"{row['uplift_low'] * 100:+.1f} pp … {row['uplift_high'] * 100:+.1f} pp"
    )
    negative = shown.loc["winback_2025_09", "Difference"]  # fewer came back than held out
    assert negative.startswith("\u2212") and negative.endswith(" pp")


def test_demo_intro_shows_the_60_percent_as_a_claim_beside_the_stores_measured_uplift(demo_both):
    _, evaluation = demo_both
    finding = winback_claim_finding(evaluation, 0.6)
    text = finding.conclusion
    assert "about 60%" in text and "claim from the literature" in text
    overall = evaluation.overall.iloc[0]
    assert f"{overall['tested_return_rate']:.1%}" in text
    assert f"{overall['holdout_return_rate']:.1%}" in text
    assert f"{int(overall['tested_contacted']):,} contacted" in text
    low, high = confint_proportions_2indep(  # the pooled uplift: statsmodels' Wald interval
        overall["tested_returned"],
        overall["tested_contacted"],
        overall["holdout_returned"],
        overall["holdout"],
        method="wald",
        compare="diff",
    )
    assert (overall["uplift_low"], overall["uplift_high"]) == pytest.approx((low, high), rel=1e-3)
    assert 0.02 < overall["uplift"] < 0.08  # a few points: nowhere near 60%
    points = f"{overall['uplift'] * 100:+.1f} pp owed to the messages"
    interval = f"95% interval {low * 100:+.1f} pp … {high * 100:+.1f} pp"
    assert points in text and interval in text
    assert "0.04" not in text and "0.07" not in text
    with use_language("ru"):
        russian = winback_claim_finding(evaluation, 0.6)
    assert "утверждение из литературы" in russian.conclusion
    assert "п.\xa0п." in russian.conclusion


# --- constructed stores with a known effect -----------------------------------------------------


def campaign_store(effect, *, contacted=4000, held_out=1000, base=0.25, seed=0):
    """One win-back campaign assigned on 2026-03-16: each customer returns (one order on a day
    1…90 after) with probability *base* (held out) or *base* + *effect* (contacted); everyone
    bought once a year before. Returns (messages, experiments, orders, returned)."""
    rng = np.random.default_rng(seed)
    n = contacted + held_out
    ids = np.arange(1, n + 1)
    group = np.where(np.arange(n) < contacted, "contact", "holdout")
    p = np.where(group == "contact", base + effect, base)
    returned = rng.random(n) < p
    day = pd.Timestamp("2026-03-16 10:00")
    back_days = rng.integers(1, 91, n)
    orders = pd.DataFrame(
        {
            "order_id": np.arange(2 * n),
            "customer_id": np.r_[ids, ids],
            "order_date": np.r_[
                np.full(n, day - pd.Timedelta(days=365)),
                day + pd.to_timedelta(np.where(returned, back_days, 400), unit="D"),
            ],
            "revenue": 1500.0,
        }
    )
    orders = orders.loc[orders["order_date"] <= AS_OF]
    experiments = pd.DataFrame(
        {
            "experiment_id": "winback_2026_03",
            "customer_id": ids,
            "variant": group,
            "assigned_at": day,
        }
    )
    contact_ids = ids[group == "contact"]
    messages = pd.DataFrame(
        {
            "customer_id": contact_ids,
            "sent_at": day,
            "channel": np.where(contact_ids % 3 == 0, "sms", "email"),
            "campaign": "winback_2026_03",
        }
    )
    return messages, experiments, orders, returned


@pytest.mark.parametrize(
    ("effect", "metric", "expected"),
    [
        (0.06, "conversion", "ship"),
        (0.0, "conversion", "no_difference"),
        (-0.06, "conversion", "keep_control"),
        (0.06, "revenue", "ship"),
    ],
)
def test_a_campaign_with_a_known_effect_gets_it_back_in_both_reports(effect, metric, expected):
    messages, experiments, orders, returned = campaign_store(effect)
    reductions = ck.reduce_orders(orders, AS_OF, customer_days=True)
    settings = {**split_test_settings(), "primary_metric": metric}
    evaluation = evaluate_campaigns(messages, experiments, reductions, settings=settings)
    review = review_experiments(experiments, reductions, **review_settings(settings))

    split = verdict(review, "winback_2026_03")
    churn = evaluation.verdicts.iloc[0]
    assert churn["verdict"] == split.code == expected
    assert churn[["estimate", "ci_low", "ci_high"]].tolist() == [
        split.estimate,
        split.ci_low,
        split.ci_high,
    ]
    # the counts are the constructed ones
    overall = evaluation.overall.iloc[0]
    contact = experiments["variant"].to_numpy() == "contact"
    assert overall["tested_returned"] == returned[contact].sum()
    assert overall["holdout_returned"] == returned[~contact].sum()
    # the uplift: the planted effect inside its interval, and statsmodels' Wald interval
    assert overall["uplift_low"] < effect < overall["uplift_high"]
    low, high = confint_proportions_2indep(
        returned[contact].sum(),
        contact.sum(),
        returned[~contact].sum(),
        (~contact).sum(),
        method="wald",
        compare="diff",
    )
    # t with ~1,500 degrees of freedom against the normal quantile: equal to 4 decimals
    assert (overall["uplift_low"], overall["uplift_high"]) == pytest.approx((low, high), abs=1e-4)
    # the relative change of the return rate by the delta method, as the split-test report
    rel = compare_proportions(
        int(overall["holdout_returned"]),
        int(overall["holdout"]),
        int(overall["tested_returned"]),
        int(overall["tested_contacted"]),
    )
    assert churn[["return_change", "return_change_low", "return_change_high"]].tolist() == (
        pytest.approx([rel.estimate, rel.ci_low, rel.ci_high])
    )


@pytest.mark.parametrize("include_exposure_day", [False, True])
@pytest.mark.parametrize("horizon_days", [30, 60, 90])
def test_the_churn_evaluation_takes_the_split_test_window_whatever_it_is_set_to(
    include_exposure_day, horizon_days
):
    messages, experiments, orders, _ = campaign_store(0.05, contacted=2000, held_out=500, seed=3)
    # a purchase on the assignment day: counted only when the split-test report counts day 0
    orders = pd.concat(
        [
            orders,
            pd.DataFrame(
                {
                    "order_id": [10**6, 10**6 + 1],
                    "customer_id": [1, 2500],
                    "order_date": pd.Timestamp("2026-03-16 18:00"),
                    "revenue": 100.0,
                }
            ),
        ],
        ignore_index=True,
    )
    reductions = ck.reduce_orders(orders, AS_OF, customer_days=True)
    settings = {
        **split_test_settings(),
        "windows_days": [horizon_days],
        "horizon_days": horizon_days,
        "include_exposure_day": include_exposure_day,
    }
    evaluation = evaluate_campaigns(messages, experiments, reductions, settings=settings)
    review = review_experiments(experiments, reductions, **review_settings(settings))
    totals = review.totals("winback_2026_03", horizon_days)
    overall = evaluation.overall.iloc[0]
    assert evaluation.window_days == horizon_days
    assert overall["tested_returned"] == totals["contact"]["sum_conversion"]
    assert overall["holdout_returned"] == totals["holdout"]["sum_conversion"]
    assert overall["tested_contacted"] == totals["contact"]["customers"]


def test_without_a_holdout_group_the_claim_stays_a_claim_and_the_table_says_it_cannot_judge():
    messages, experiments, orders, _ = campaign_store(0.05, contacted=400, held_out=100)
    reductions = ck.reduce_orders(orders, AS_OF, customer_days=True)
    evaluation = evaluate_campaigns(messages, None, reductions)
    assert evaluation.verdicts.empty
    shown = campaigns_shown(evaluation)
    assert shown["Verdict of the split test"].tolist() == ["no holdout group: cannot be judged"]
    finding = winback_claim_finding(evaluation, 0.6)
    assert "claim from the literature" in finding.conclusion
    assert "cannot be checked" in finding.conclusion
    assert finding.level == "warning"
    assert "cannot be checked" in winback_claim_finding(None, 0.6).conclusion
    # a holdout far from its planned fifth: the split is broken, and the page says so
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        broken = evaluate_campaigns(
            messages.iloc[:100], experiments.iloc[np.r_[0:100, 400:500]], reductions
        )
    assert broken.verdicts["verdict"].tolist() == ["srm"]
    assert "sample-ratio mismatch" in winback_claim_finding(broken, 0.6).conclusion
    few = evaluate_campaigns(messages.iloc[:48], experiments.iloc[np.r_[0:48, 400:412]], reductions)
    assert "Too few customers" in winback_claim_finding(few, 0.6, min_customers=100).action


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    horizon_days=st.integers(1, 120),
    include_exposure_day=st.booleans(),
)
def test_any_store_counts_the_same_customers_and_returns_in_both_reports(
    data, horizon_days, include_exposure_day
):
    contacted = data.draw(st.integers(8, 60), label="contacted")
    held_out = data.draw(st.integers(2, 15), label="held_out")
    n = contacted + held_out
    assigned = pd.Timestamp("2026-03-01 09:00") + pd.to_timedelta(
        data.draw(st.lists(st.integers(0, 60), min_size=n, max_size=n), label="day"), unit="D"
    )
    purchases = data.draw(
        st.lists(st.tuples(st.integers(1, n), st.integers(-30, 250)), max_size=3 * n),
        label="purchases",
    )
    ids = np.arange(1, n + 1)
    group = np.where(ids <= contacted, "contact", "holdout")
    experiments = pd.DataFrame(
        {
            "experiment_id": "winback_x",
            "customer_id": ids,
            "variant": group,
            "assigned_at": assigned,
        }
    )
    messages = pd.DataFrame(
        {
            "customer_id": ids[:contacted],
            "sent_at": assigned[:contacted],
            "channel": "email",
            "campaign": "winback_x",
        }
    )
    who = np.array([p[0] for p in purchases] + [1], dtype=np.int64)
    when = [assigned[c - 1] + pd.Timedelta(days=d) for c, d in purchases]
    orders = pd.DataFrame(
        {
            "order_id": np.arange(len(who)),
            "customer_id": who,
            "order_date": [*when, pd.Timestamp("2025-01-01")],
            "revenue": 100.0,
        }
    )
    orders = orders.loc[orders["order_date"] <= AS_OF]
    reductions = ck.reduce_orders(orders, AS_OF, customer_days=True)
    options = {
        **split_test_settings(),
        "windows_days": [horizon_days],
        "horizon_days": horizon_days,
        "include_exposure_day": include_exposure_day,
        "planned_splits": {},
        "srm_alpha": 1e-12,  # any split: this test is about the counting
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evaluation = evaluate_campaigns(messages, experiments, reductions, settings=options)
        review = review_experiments(experiments, reductions, **review_settings(options))
        split = verdict(review, "winback_x")
    totals = review.totals("winback_x", horizon_days)
    churn = evaluation.verdicts.iloc[0]
    assert churn["verdict"] == split.code
    np.testing.assert_equal(
        churn[["estimate", "ci_low", "ci_high"]].to_numpy(float),
        [split.estimate, split.ci_low, split.ci_high],
    )
    by_group = evaluation.customers.groupby("group", observed=False)["returned"]
    for group_name, arm in (("contact", "contact"), ("holdout", "holdout")):
        assert by_group.size()[group_name] == totals.get(arm, {}).get("customers", 0)
        assert by_group.sum()[group_name] == totals.get(arm, {}).get("sum_conversion", 0)


def test_the_settings_taken_over_are_split_test_report_parameters_review_experiments_takes():
    import inspect

    from custkit.splittest import review_experiments

    notebook = split_test_settings()
    accepted = inspect.signature(review_experiments).parameters
    assert [name for name in REVIEW_SETTINGS if name not in notebook or name not in accepted] == []
