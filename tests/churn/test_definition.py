"""The churn definition on hand-worked purchase histories."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custkit.churn.definition import (
    ChurnRule,
    assess_churn,
    backtest_rule,
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


GAP_RULE = ChurnRule(
    method="gap", min_window_days=5, one_time_window_days=180, one_time_at_risk_days=90
)


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
    s = churn_status(red, model=model, rule=ChurnRule(method="p_alive", min_window_days=1))
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


# --- the rhythm rule (issue 14): own rhythm and the store's, whichever fires first ---------------

RHYTHM = ChurnRule(min_window_days=1)


def lognormal_window(gaps_so_far, all_histories, quantile):
    """The own-rhythm window computed apart from the package: pandas group-bys for the store's
    empirical-Bayes figures and scipy's log-normal quantile for the predictive."""
    from scipy import stats

    rows = [
        (c, np.log(g)) for c, days in all_histories.items() for g in np.diff(days) if len(days) > 1
    ]
    logs = pd.DataFrame(rows, columns=["customer", "log_gap"])
    by = logs.groupby("customer")["log_gap"]
    n, means = by.size(), by.mean()
    several = n >= 2
    within_var = (by.var(ddof=1)[several] * (n[several] - 1)).sum() / (n[several] - 1).sum()
    between_var = max(means.var(ddof=1) - within_var * (1 / n).mean(), 1e-3 * within_var)
    k = len(gaps_so_far)
    precision = k / within_var + 1 / between_var
    mean = (np.log(gaps_so_far).sum() / within_var + means.mean() / between_var) / precision
    return stats.lognorm.ppf(quantile, s=np.sqrt(within_var + 1 / precision), scale=np.exp(mean))


def weekly_and_monthly_buyers(seed=0, customers=60):
    """Half the customers buy about weekly, half about monthly (jittered gaps), over a year."""
    rng = np.random.default_rng(seed)
    histories = {}
    for c in range(customers):
        mean_gap = 7 if c % 2 == 0 else 30
        gaps = np.maximum(1, np.round(mean_gap * rng.lognormal(0, 0.3, 400))).astype(int)
        days = np.cumsum(np.r_[0, gaps])
        histories[c] = days[days < 330].tolist()
    return histories


def test_one_time_buyers_churn_after_the_stores_quantile_of_the_time_to_a_second_purchase():
    # ten customers came back after 10, 20, ..., 100 days; five never came back
    histories = {c: [0, 10 * c] for c in range(1, 11)} | {100 + d: [d] for d in (0, 50, 150, 250)}
    red = reductions(histories, 300)
    s = churn_status(red, rule=RHYTHM)
    seconds = np.arange(10, 101, 10)
    one_time = s.loc[s["purchase_days"] == 1]
    assert (one_time["basis"] == "one_time_window").all()
    np.testing.assert_allclose(one_time["churn_window_days"], np.quantile(seconds, 0.9))
    np.testing.assert_allclose(one_time["at_risk_after_days"], np.quantile(seconds, 0.75))
    # 300, 250, 150 and 50 days since their purchase against a window of 91 days
    assert one_time["churned"].tolist() == [True, True, True, False]
    assert one_time["at_risk"].tolist() == [False, False, False, False]


@pytest.mark.parametrize("slow_gap", [200, 400, 900])
def test_a_repeat_buyer_slower_than_the_store_is_judged_by_the_stores_gap_quantile(slow_gap):
    histories = weekly_and_monthly_buyers()
    histories[999] = [0, slow_gap, 2 * slow_gap]
    as_of = 2 * slow_gap + 100
    red = reductions(histories, as_of)
    s = churn_status(red, rule=RHYTHM)
    gaps = np.concatenate([np.diff(d) for d in histories.values() if len(d) > 1])
    store = np.quantile(gaps, 0.9)
    assert s.loc[999, "basis"] == "store_rhythm"
    assert s.loc[999, "churn_window_days"] == pytest.approx(store)
    assert s.loc[999, "churned"]  # 100 days away; the store's customers buy within ~40


def test_a_weekly_buyer_is_judged_by_their_own_rhythm_as_a_log_normal_predictive_quantile():
    histories = weekly_and_monthly_buyers()
    red = reductions(histories, 330)
    s = churn_status(red, rule=RHYTHM)
    weekly = s.loc[0]
    assert weekly["basis"] == "own_rhythm"
    expected = lognormal_window(np.diff(histories[0]), histories, 0.9)
    assert weekly["churn_window_days"] == pytest.approx(expected, rel=1e-9)
    assert weekly["churn_window_days"] < 14  # a fortnight's silence is a lot for a weekly buyer
    monthly = s.loc[1]
    assert monthly["churn_window_days"] > 2 * weekly["churn_window_days"]


@pytest.mark.parametrize("quantile", [0.8, 0.9, 0.95])
def test_own_rhythm_moves_from_the_stores_towards_the_customers_own_as_gaps_accumulate(quantile):
    histories = weekly_and_monthly_buyers(seed=1)
    # a customer who buys every 3 days; their window is evaluated after each purchase day
    histories[500] = list(range(0, 61, 3))
    red = reductions(histories, 330)
    rule = ChurnRule(churn_quantile=quantile, at_risk_quantile=0.6, min_window_days=1)
    events = churn_events(red, rule=rule)
    mine = events.loc[events["customer_id"] == 500]
    # only the last purchase day is followed by a lapse: no false lapse while buying every 3 days
    assert len(mine) == 1 and pd.isna(mine["returned_at"].iloc[0])
    windows = [
        lognormal_window(np.diff(histories[500][: k + 1]), histories, quantile)
        for k in range(1, 21)
    ]
    assert np.all(np.diff(windows) < 0)  # each 3-day gap pulls the window down
    status = churn_status(red, rule=rule)
    assert status.loc[500, "churn_window_days"] == pytest.approx(windows[-1], rel=1e-9)


def test_the_churned_and_at_risk_columns_are_the_status_as_booleans():
    histories = weekly_and_monthly_buyers(seed=2) | {900: [0], 901: [250], 902: [320]}
    s = churn_status(reductions(histories, 330))
    assert s["churned"].dtype == bool and s["at_risk"].dtype == bool
    assert (s["churned"] == (s["status"] == "churned")).all()
    assert (s["at_risk"] == (s["status"] == "at_risk")).all()
    assert not (s["churned"] & s["at_risk"]).any()
    assert s["churned"].any() and s["at_risk"].any() and (s["status"] == "active").any()


@pytest.mark.parametrize("penalizer", [0.0, 0.001])
def test_the_default_rule_ignores_a_bgnbd_fit_even_one_where_nobody_drops_out(penalizer):
    """Issue 14, item 6: the churn rule must not hang on a BTYD fit. The report passes the fit it
    has; the default rule judges by rhythm, so the answer is the same with or without it."""
    histories = weekly_and_monthly_buyers(seed=3) | {700 + c: [0, 30, 60] for c in range(20)}
    red = reductions(histories, 330)
    model = BGNBD(penalizer=penalizer).fit(summarize(red))
    with_model = assess_churn(red, model)
    pd.testing.assert_frame_equal(with_model.status, assess_churn(red).status)
    gone = [700 + c for c in range(20)]  # 270 days since their last purchase, after 30-day gaps
    assert with_model.status.loc[gone, "churned"].all()


# --- the rule measured out of time ----------------------------------------------------------------


def test_backtest_counts_flagged_and_departed_customers_at_a_cutoff_six_months_back():
    # as-of 2024-12-31, cutoff 2024-06-30 (day 181); fixed one-time windows, the gap rule for
    # repeat buyers (median gap x 3)
    histories = {
        "A": [0],  # flagged at the cutoff (181 days), never back: flagged, left
        "B": [0, 200],  # flagged, came back: a false alarm
        "C": [150],  # 31 days at the cutoff: not flagged, left: missed
        "D": [150, 250],  # not flagged, came back
        "E": [10],  # flagged, left
        "F": [0, 10, 20, 300],  # window 30, 161 days away: flagged, came back
        "G": [140, 150, 160],  # window 30, 21 days away: not flagged, left: missed
    }
    red = reductions(histories, 365)
    rule = ChurnRule(
        method="gap", one_time_window_days=100, one_time_at_risk_days=50, min_window_days=1
    )
    result = backtest_rule(red, rule, months=6)
    assert result.cutoff == pd.Timestamp("2024-06-30")
    t = result.table
    assert t.loc["one_time", ["customers", "flagged", "left", "flagged_left"]].tolist() == [
        5,
        3,
        3,
        2,
    ]
    assert t.loc["repeat", ["customers", "flagged", "left", "flagged_left"]].tolist() == [
        2,
        1,
        1,
        0,
    ]
    assert t.loc["one_time", "precision"] == pytest.approx(2 / 3)
    assert t.loc["one_time", "recall"] == pytest.approx(2 / 3)
    assert t.loc["repeat", "precision"] == 0 and t.loc["repeat", "recall"] == 0
    assert result.precision == pytest.approx(0.5) and result.recall == pytest.approx(0.5)
    assert t.loc["all", "precision_low"] < 0.5 < t.loc["all", "precision_high"]


@settings(max_examples=25, deadline=None)
@given(
    st.dictionaries(
        st.integers(0, 40),
        st.lists(st.integers(0, 700), min_size=1, max_size=8, unique=True).map(sorted),
        min_size=3,
        max_size=40,
    )
)
def test_backtest_agrees_with_the_status_of_reductions_cut_at_the_cutoff(histories):
    """The backtest slices the as-of reductions; cutting the orders at the cutoff instead and
    asking churn_status must give the same flags, and the orders after it the same departures."""
    as_of = START + pd.Timedelta(days=730)
    orders = orders_from_days(histories)
    cutoff = (as_of - pd.DateOffset(months=6)).normalize()
    if not (orders["order_date"] < cutoff + pd.Timedelta(days=1)).any():
        return
    rule = ChurnRule(min_window_days=1)
    result = backtest_rule(reduce_orders(orders, as_of, customer_days=True), rule)
    at_cutoff = churn_status(reduce_orders(orders, cutoff, customer_days=True), rule=rule)
    after = orders.loc[orders["order_date"] >= cutoff + pd.Timedelta(days=1), "customer_id"]
    left = ~at_cutoff.index.isin(after)
    flagged = at_cutoff["churned"].to_numpy()
    row = result.table.loc["all"]
    assert row["customers"] == len(at_cutoff)
    assert row["flagged"] == flagged.sum() and row["left"] == left.sum()
    assert row["flagged_left"] == (flagged & left).sum()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"churn_quantile": 0.3}, r"'churn_quantile' parameter must be a float in the range"),
        ({"churn_quantile": 1.0}, r"'churn_quantile' parameter must be a float in the range"),
        ({"at_risk_quantile": 0.95}, "at_risk_quantile must be below churn_quantile"),
        ({"one_time_window_days": 0}, r"'one_time_window_days' parameter must be an int"),
        ({"one_time_window_days": 90, "one_time_at_risk_days": 120}, "must be below"),
        ({"method": "bgnbd"}, r"'method' parameter must be one of 'rhythm', 'p_alive', 'gap'"),
    ],
)
def test_rhythm_rule_parameters_are_validated_in_the_scikit_learn_style(kwargs, message):
    with pytest.raises(ParamsError, match=message):
        ChurnRule(**kwargs)


def test_backtest_refuses_a_rule_needing_a_model_and_a_bad_horizon():
    red = reductions({1: [0, 10], 2: [300]}, 330)
    with pytest.raises(ParamsError, match=r"rule\.method must be 'rhythm' or 'gap'"):
        backtest_rule(red, ChurnRule(method="p_alive"))
    with pytest.raises(ParamsError, match=r"'months' parameter must be an int"):
        backtest_rule(red, months=0)


def test_backtest_of_a_store_younger_than_the_horizon_counts_nobody_and_says_so():
    from custkit.churn.report import rule_check_finding

    result = backtest_rule(reductions({1: [0, 10], 2: [30]}, 60), months=6)
    assert (result.table[["customers", "flagged", "left"]] == 0).all().all()
    assert np.isnan(result.precision) and np.isnan(result.recall)
    finding = rule_check_finding(result)
    assert finding.level == "warning" and "too few to judge" in finding.conclusion


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(
        st.integers(0, 60),
        st.lists(st.integers(0, 500), min_size=1, max_size=10, unique=True).map(sorted),
        min_size=2,
        max_size=60,
    ),
    st.sampled_from([(0.9, 0.75), (0.8, 0.5), (0.95, 0.9)]),
)
def test_rhythm_rule_flags_exactly_the_customers_past_a_window_no_longer_than_the_stores(
    histories, quantiles
):
    churn_q, risk_q = quantiles
    rule = ChurnRule(churn_quantile=churn_q, at_risk_quantile=risk_q, min_window_days=7)
    red = reductions(histories, 520)
    both = assess_churn(red, rule=rule)
    s, rhythm = both.status, both.rhythm
    since = s["days_since_last_order"]
    assert (s["churned"] == (since >= s["churn_window_days"])).all()
    assert (s["at_risk"] == (~s["churned"] & (since >= s["at_risk_after_days"]))).all()
    assert (s["at_risk_after_days"] <= s["churn_window_days"]).all()
    assert (s["churn_window_days"] >= 7).all()
    repeat = s["purchase_days"] > 1
    # whichever fires first: never later than the store's gap quantile
    limit = max(rhythm.store_gap_days, 7)
    assert (s.loc[repeat, "churn_window_days"] <= limit + 1e-9).all()
    assert set(s.loc[repeat, "basis"].astype(str)) <= {"own_rhythm", "store_rhythm"}
    gaps = np.concatenate([np.diff(d) for d in histories.values()] + [np.array([], dtype=int)])
    if len(gaps):
        assert rhythm.store_gap_days == pytest.approx(np.quantile(gaps, churn_q))
    seconds = [d[1] - d[0] for d in histories.values() if len(d) > 1]
    one_time = s.loc[~repeat, "churn_window_days"]
    expected = np.quantile(seconds, churn_q) if seconds else 180.0
    np.testing.assert_allclose(one_time, max(expected, 7))


def test_store_rhythm_matches_statsmodels_random_intercept_model_on_equal_gap_counts():
    """The empirical-Bayes rhythm is a one-way random-effects model of log gaps: with the same
    number of gaps per customer its variances are statsmodels MixedLM's REML estimates and the
    customers' shrunk means its predicted random intercepts."""
    import statsmodels.formula.api as smf
    from scipy import stats

    rng = np.random.default_rng(7)
    customers, gaps_each = 150, 6
    rhythm_of = rng.normal(3.0, 0.5, customers)
    histories, rows = {}, []
    for c in range(customers):
        gaps = np.maximum(1, np.round(np.exp(rng.normal(rhythm_of[c], 0.6, gaps_each))))
        histories[c] = np.cumsum(np.r_[0, gaps]).astype(int).tolist()
        rows += [(c, np.log(g)) for g in gaps]
    as_of = max(d[-1] for d in histories.values()) + 1
    both = assess_churn(reductions(histories, as_of), rule=ChurnRule(min_window_days=1))
    rhythm = both.rhythm
    logs = pd.DataFrame(rows, columns=["customer", "log_gap"])
    fit = smf.mixedlm("log_gap ~ 1", logs, groups=logs["customer"]).fit(reml=True)
    assert rhythm.within_sd**2 == pytest.approx(fit.scale, rel=1e-4)
    assert rhythm.between_sd**2 == pytest.approx(float(fit.cov_re.iloc[0, 0]), rel=1e-3)
    assert rhythm.log_gap_mean == pytest.approx(fit.fe_params["Intercept"], rel=1e-6)
    shrunk = fit.fe_params["Intercept"] + np.array(
        [fit.random_effects[c].iloc[0] for c in range(customers)]
    )
    posterior_var = 1 / (gaps_each / fit.scale + 1 / float(fit.cov_re.iloc[0, 0]))
    own = stats.lognorm.ppf(0.9, s=np.sqrt(fit.scale + posterior_var), scale=np.exp(shrunk))
    expected = np.minimum(own, rhythm.store_gap_days)
    np.testing.assert_allclose(
        both.status.loc[range(customers), "churn_window_days"], expected, rtol=1e-3
    )
