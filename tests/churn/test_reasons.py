"""Churn reasons from hand-made evidence: each sign weighed against customers who stayed."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custkit.churn.reasons import assign_reasons
from custkit.errors import DataError, ParamsError

AS_OF = pd.Timestamp("2024-12-31")
LAST = pd.Timestamp("2024-06-01")
CUT = pd.Timestamp("2024-06-30")  # the period of LAST, for the customers who stayed

NEUTRAL = {
    "placed_orders": 3,
    "purchases": 3,
    "late_recent": 0,
    "max_delay_days_recent": 0,
    "shipping_share_recent": 0.05,
    "shipping_share_before": 0.05,
    "shipping_vs_usual_recent": 1.0,
    "coupon_share_recent": 0.0,
    "coupon_share_before": 0.0,
    "returned_recent": 0,
    "last_region": "Moscow",
}


def _signals(rows, first_id=1):
    frame = pd.DataFrame([{**NEUTRAL, **row} for row in rows])
    frame.insert(0, "customer_id", np.arange(first_id, first_id + len(rows)))
    frame["last_region"] = frame["last_region"].astype("category")
    return frame


def world(leavers, stayers=None, at_risk=(), active=0):
    """(status, signals, stayed) of churned customers with the signal *leavers* rows (ids 1…),
    at-risk ones (*at_risk* rows), *active* neutral customers, and the customers who stayed
    after an order of the same period (*stayers* rows; 200 neutral ones by default)."""
    stayers = [{}] * 200 if stayers is None else stayers
    mine = _signals(list(leavers) + list(at_risk) + [{}] * active)
    states = ["churned"] * len(leavers) + ["at_risk"] * len(at_risk) + ["active"] * active
    status = pd.DataFrame(
        {"status": states, "last_order_date": LAST},
        index=pd.Index(mine["customer_id"], name="customer_id"),
    )
    stayed = _signals(stayers, first_id=10_000).assign(cut=CUT, last_placed_date=LAST)
    return status, mine, stayed


def against(leavers, stayers, comparison):
    """The reasons of churned *leavers* weighed against *stayers*: customers who came back after
    an order of the same period (``"stayed"``), or customers active at as-of (``"active"``, the
    call of today's notebook: assign_reasons(status, signals, as_of))."""
    if comparison == "stayed":
        return reasons(leavers, stayers)
    signals = _signals(list(leavers) + list(stayers))
    states = ["churned"] * len(leavers) + ["active"] * len(stayers)
    status = pd.DataFrame(
        {"status": states, "last_order_date": LAST},
        index=pd.Index(signals["customer_id"], name="customer_id"),
    )
    return assign_reasons(status, signals, AS_OF)


def reasons(leavers, stayers=None, **kwargs):
    status, signals, stayed = world(leavers, stayers)
    return assign_reasons(status, signals, AS_OF, stayed=stayed, **kwargs)


def feedback_rows(rows):
    """(customer_id, created_at, kind, rating, reason, confidence, text) rows as the raw table and
    the classifier's output."""
    raw = pd.DataFrame(
        rows,
        columns=["customer_id", "created_at", "kind", "rating", "reason", "confidence", "text"],
    )
    texts = raw[["customer_id", "created_at", "kind", "reason", "confidence"]].assign(
        evidence=raw["text"], method="model"
    )
    return texts, raw[["customer_id", "created_at", "kind", "rating", "text"]]


SIGNS = {  # a sign customers who stayed never show → its reason and a bit of its evidence
    "delivery": ({"late_recent": 2, "max_delay_days_recent": 6}, "arrived late (up to 6 days)"),
    "delivery_cost": ({"shipping_vs_usual_recent": 2.5}, "2.5× the region's usual delivery"),
    "competitor_price": (
        {"coupon_share_recent": 1.0, "coupon_share_before": 0.1},
        "used a coupon on 100% of the last orders (before: 10%)",
    ),
    "quality": ({"returned_recent": 1}, "returned an order"),
    "moved_out_of_delivery_area": ({"last_region": "Vladivostok"}, "Vladivostok"),
}


@pytest.mark.parametrize("reason", list(SIGNS))
def test_each_order_sign_that_only_leavers_show_names_its_reason_with_the_ratio(reason):
    row, words = SIGNS[reason]
    out = reasons([row] * 10 + [{}] * 40, served_regions=["Moscow"])
    named = out.reasons.iloc[:10]
    assert (named["reason"] == reason).all()
    assert named["evidence"].str.contains(words, regex=False).all()
    # 10 of 50 leavers, none of the customers who stayed: LR = (10 + 3) / (0 + 3)
    assert named["likelihood_ratio"].to_numpy() == pytest.approx(13 / 3)
    assert named["evidence"].str.contains("4.3× as common as among customers who stayed").all()
    assert (out.reasons.iloc[10:]["reason"] == "forgot").all()


@pytest.mark.parametrize("comparison", ["stayed", "active"])
@pytest.mark.parametrize("late_share", [0.05, 0.15])
@pytest.mark.parametrize("leaver_share", [0.5, 1.0, 1.5])
def test_late_deliveries_weigh_by_how_much_more_often_leavers_had_them(
    late_share, leaver_share, comparison
):
    """A store where 5% or 15% of all orders are late: a late delivery is a reason only when
    leavers had it well over twice as often as customers who stayed."""
    late = {"late_recent": 1, "max_delay_days_recent": 1}
    n_stayed, n_left = 2000, 400
    k_stayed, k_left = round(late_share * n_stayed), round(late_share * leaver_share * n_left)
    stayers = [late] * k_stayed + [{}] * (n_stayed - k_stayed)
    out = against([late] * k_left + [{}] * (n_left - k_left), stayers, comparison)
    assert (out.reasons["reason"] == "forgot").all()
    ratio = out.ratios.set_index("sign").loc["late:1-2d", "likelihood_ratio"]
    assert ratio == pytest.approx((k_left + 3) / (late_share * n_left + 3))


def test_late_deliveries_twice_as_common_among_leavers_name_delivery_on_a_15_percent_store():
    late = {"late_recent": 1, "max_delay_days_recent": 1}
    stayers = [late] * 300 + [{}] * 1700
    out = reasons([late] * 150 + [{}] * 250, stayers)
    assert (out.reasons["reason"].iloc[:150] == "delivery").all()
    assert (out.reasons["reason"].iloc[150:] == "forgot").all()


@pytest.mark.parametrize("comparison", ["stayed", "active"])
def test_an_order_under_a_free_shipping_threshold_is_no_delivery_cost_reason(comparison):
    # the shipping share rose (the last basket was under the threshold) at the usual price
    under = {"shipping_share_recent": 0.12, "shipping_share_before": 0.0}
    out = against([under] * 30 + [{}] * 20, [{}] * 200, comparison)
    assert (out.reasons["reason"] == "forgot").all()
    assert not out.ratios["reason"].eq("delivery_cost").any()


def test_a_rise_of_the_shipping_share_counts_only_without_regional_prices():
    rose = {"shipping_share_recent": 0.15, "shipping_share_before": 0.02}
    leavers, stayers = [rose] * 10 + [{}] * 40, [{}] * 200
    status, signals, stayed = world(leavers, stayers)
    drop = ["shipping_vs_usual_recent"]
    out = assign_reasons(
        status, signals.drop(columns=drop), AS_OF, stayed=stayed.drop(columns=drop)
    ).reasons
    assert (out["reason"].iloc[:10] == "delivery_cost").all()
    assert "rose to 15%" in out["evidence"].iloc[0] and "(was 2%)" in out["evidence"].iloc[0]


@pytest.mark.parametrize("leavers_with_it, named", [(1, False), (2, False), (3, True), (8, True)])
def test_a_sign_seen_on_a_handful_of_leavers_does_not_win_by_noise(leavers_with_it, named):
    # LR = (k + 3) / 3 when no customer who stayed had it: 1.33, 1.67, 2.0, 3.67
    row = {"late_recent": 1, "max_delay_days_recent": 8}
    out = reasons([row] * leavers_with_it + [{}] * 50).reasons
    expected = "delivery" if named else "forgot"
    assert (out["reason"].iloc[:leavers_with_it] == expected).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 60), st.integers(1, 60), st.integers(0, 300), st.integers(1, 300))
def test_no_sign_rarer_among_leavers_than_among_customers_who_stayed_names_a_reason(
    k_left, n_extra, k_stayed, n_more
):
    n_left, n_stayed = k_left + n_extra, k_stayed + n_more
    if k_left / n_left > k_stayed / n_stayed:
        k_left = int(np.floor(k_stayed / n_stayed * n_left))
    late = {"late_recent": 1, "max_delay_days_recent": 2}
    out = reasons(
        [late] * k_left + [{}] * (n_left - k_left),
        [late] * k_stayed + [{}] * (n_stayed - k_stayed),
    )
    assert (out.reasons["reason"] == "forgot").all()
    assert (out.ratios["likelihood_ratio"] <= 1 + 1e-12).all()


def _random_statuses(seed):
    rng = np.random.default_rng(seed)
    n = 300
    rows = [[{}, SIGNS["delivery"][0], SIGNS["quality"][0]][i] for i in rng.integers(0, 3, n)]
    states = rng.choice(["churned", "at_risk", "active"], n)
    signals = _signals(rows)
    status = pd.DataFrame(
        {"status": states, "last_order_date": LAST},
        index=pd.Index(signals["customer_id"], name="customer_id"),
    )
    return status, signals


@pytest.mark.parametrize("comparison", ["stayed", "active"])
@pytest.mark.parametrize("seed", range(3))
def test_only_churned_customers_get_a_reason_and_customers_at_risk_get_drivers(seed, comparison):
    status, signals = _random_statuses(seed)
    if comparison == "stayed":
        stayed = _signals([{}] * 300, first_id=10_000).assign(cut=CUT, last_placed_date=LAST)
        out = assign_reasons(status, signals, AS_OF, stayed=stayed).reasons
    else:
        out = assign_reasons(status, signals, AS_OF).reasons
    state = status["status"]
    assert set(out.index) == set(state.index[state != "active"])
    assert out.loc[out["status"] != "churned", "reason"].isna().all()
    assert out.loc[out["status"] == "churned", "reason"].notna().all()
    assert out.loc[out["status"] != "at_risk", "driver"].isna().all()
    if comparison == "stayed":  # active customers show the signs as often: no driver then
        at_risk = out.loc[out["status"] == "at_risk"]
        has_sign = signals.set_index("customer_id").loc[at_risk.index, "late_recent"] > 0
        assert (at_risk.loc[has_sign.to_numpy(), "driver"] == "delivery").all()


def test_without_customers_who_came_back_the_active_ones_are_compared_with():
    late = {"late_recent": 1, "max_delay_days_recent": 7}
    status, signals, _ = world([late] * 10 + [{}] * 10, active=100)
    result = assign_reasons(status, signals, AS_OF)
    assert (result.reasons["reason"].iloc[:10] == "delivery").all()
    assert len(result.reasons) == 20  # the active customers get neither reason nor driver


def test_feedback_naming_a_reason_is_weighed_like_any_sign_and_quoted():
    leavers = [{}] * 30
    texts, raw = feedback_rows(
        [
            (i, LAST + pd.Timedelta(days=10), "survey", np.nan, "competitor_price", 0.9, "cheaper")
            for i in range(1, 11)
        ]
        + [(10_001, LAST, "survey", np.nan, "competitor_price", 0.9, "cheaper")]
    )
    out = reasons(leavers, feedback_reasons=texts, feedback=raw)
    assert (out.reasons["reason"].iloc[:10] == "competitor_price").all()
    assert out.reasons["evidence"].iloc[0].startswith('survey 2024-06-11: "cheaper"')
    row = out.ratios.set_index("sign").loc["said:survey:competitor_price"]
    assert row["churned"] == 10 and row["expected_share"] == pytest.approx(
        (1 + 10 * 1 / 200) / (200 + 10)
    )


def test_feedback_outside_the_window_or_after_as_of_is_ignored():
    texts, raw = feedback_rows(
        [(1, LAST - pd.Timedelta(days=400), "ticket", 1.0, "support", 1.0, "old") for _ in range(5)]
        + [(1, AS_OF + pd.Timedelta(days=3), "survey", np.nan, "quality", 1.0, "x")] * 5
    )
    out = reasons([{}] * 5, feedback_reasons=texts, feedback=raw)
    assert (out.reasons["reason"] == "forgot").all()
    assert out.ratios.empty


def test_low_ratings_without_a_named_reason_point_to_quality_or_support():
    texts, raw = feedback_rows(
        [(i, LAST, "review", 1.0, "unknown", 0.0, "meh") for i in range(1, 6)]
        + [(i, LAST, "ticket", 2.0, "unknown", 0.0, "meh") for i in range(6, 11)]
    )
    out = reasons([{}] * 20, feedback_reasons=texts, feedback=raw).reasons
    assert out["reason"].iloc[:10].tolist() == ["quality"] * 5 + ["support"] * 5
    assert out["evidence"].iloc[0].startswith("rated 1/5 on 2024-06-01")


def test_signs_of_one_reason_multiply_their_ratios():
    both = {"returned_recent": 1}
    texts, raw = feedback_rows(
        [
            (i, LAST + pd.Timedelta(days=2), "ticket", np.nan, "quality", 1.0, "broken")
            for i in (1, 2, 3)
        ]
    )
    out = reasons([both] * 3 + [{}] * 20, feedback_reasons=texts, feedback=raw).reasons
    # each sign: (3 + 3) / 3 = 2; together 4
    assert out["likelihood_ratio"].iloc[:3].to_numpy() == pytest.approx(4.0)
    assert out["strength"].iloc[0] == pytest.approx(0.75)
    assert out["evidence_items"].iloc[0] == 2


def test_a_leaver_without_a_telling_sign_forgot_and_the_evidence_counts_messages():
    status, signals, stayed = world([{}, {}])
    messages = pd.DataFrame(
        {
            "customer_id": [2, 2, 1],
            "sent_at": [LAST - pd.Timedelta(days=10), LAST, LAST - pd.Timedelta(days=300)],
        }
    )
    out = assign_reasons(status, signals, AS_OF, messages=messages, stayed=stayed).reasons
    assert out["reason"].tolist() == ["forgot", "forgot"]
    assert "no message from the store within 90 days" in out.loc[1, "evidence"]
    assert "received 2 messages" in out.loc[2, "evidence"]
    assert (out["strength"] == 0).all() and (out["likelihood_ratio"] == 1).all()


def test_missing_sources_are_reported_and_every_churned_customer_gets_a_reason():
    status = pd.DataFrame(
        {"status": ["churned", "churned", "active"], "last_order_date": LAST},
        index=pd.Index([1, 2, 3], name="customer_id"),
    )
    s = pd.DataFrame({"customer_id": [1, 2, 3], "placed_orders": [1, 3, 2]})
    result = assign_reasons(status, s, AS_OF)
    assert result.reasons["reason"].tolist() == ["unknown", "unknown"]  # nothing to judge by
    assert any("delivery dates" in m for m in result.sources_missing)
    assert any("feedback" in m for m in result.sources_missing)
    assert any("served regions" in m for m in result.sources_missing)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lookback_days": 0}, r"'lookback_days' parameter must be an int"),
        ({"period_days": 3}, r"'period_days' parameter must be an int"),
        ({"min_ratio": 1}, r"'min_ratio' parameter must be a float greater than 1"),
        ({"min_ratio": True}, r"'min_ratio' parameter must be a float"),
        ({"prior_events": 0}, r"'prior_events' parameter must be a float greater than 0"),
        ({"prior_events": float("inf")}, r"'prior_events' parameter must be a float"),
    ],
)
def test_parameters_are_validated(kwargs, match):
    status, signals, stayed = world([{}])
    with pytest.raises(ParamsError, match=match):
        assign_reasons(status, signals, AS_OF, stayed=stayed, **kwargs)


@pytest.mark.parametrize("column", ["status", "last_order_date"])
def test_a_status_without_its_columns_is_refused_with_a_hint(column):
    status, signals, stayed = world([{}])
    with pytest.raises(DataError, match=rf"(?s)column '{column}' is missing.*active ones included"):
        assign_reasons(status.drop(columns=column), signals, AS_OF, stayed=stayed)


def test_evidence_is_written_in_the_report_language_with_russian_plurals():
    from custkit.i18n import use_language

    rows = (
        [{"late_recent": 2, "max_delay_days_recent": 6}] * 4
        + [{"late_recent": 1, "max_delay_days_recent": 1}] * 4
        + [{"late_recent": 1, "max_delay_days_recent": 3}] * 4
        + [{}] * 20
    )
    with use_language("ru"):
        result = reasons(rows)
    out = result.reasons["evidence"]
    assert out.iloc[0].startswith("2 из последних заказов пришли с опозданием (до 6 дней)")
    assert out.iloc[4].startswith("недавний заказ опоздал на 1 день")
    assert out.iloc[8].startswith("недавний заказ опоздал на 3 дня")
    assert "чаще, чем у оставшихся клиентов" in out.iloc[0]
    assert any("список регионов доставки" in m for m in result.sources_missing)


@pytest.mark.parametrize(
    "sign, words",
    [
        ("late:1-2d", "late delivery (days late: 1)"),
        ("late:4-6d", "late delivery (days late: 4–5)"),
        ("late:10d+", "late delivery (days late: 10+)"),
        ("surcharge:1.4-2x", "delivery surcharge (1.4–2× the usual price)"),
        ("surcharge+share:3x+", "delivery surcharge (3+× the usual price), larger share"),
        ("said:ticket:delivery", "ticket naming the reason"),
        ("low_rating:other", "low rating (feedback)"),
        ("home_region_unserved", "home region unserved"),
    ],
)
def test_every_sign_the_ratios_name_reads_in_words(sign, words):
    from custkit.churn.reasons import sign_label

    assert sign_label(sign).startswith(words)


def test_the_weights_table_shows_the_signs_leavers_had_in_words_in_the_report_language():
    from custkit.churn.report import reason_weights
    from custkit.i18n import use_language

    rows = [SIGNS["delivery"][0]] * 10 + [SIGNS["quality"][0]] * 5 + [{}] * 35
    ratios = reasons(rows).ratios
    table = reason_weights(ratios)
    assert table["sign"].tolist() == ["late delivery (days late: 6–9)", "returned order"]
    assert table["times_as_common"].tolist() == [4.3, 2.7]
    assert table["leavers_share"].tolist() == [0.2, 0.1]
    with use_language("ru"):
        assert reason_weights(ratios)["sign"].iloc[1] == "возврат заказа"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_the_ratio_is_the_shrunk_standardised_rate_ratio_computed_by_a_plain_group_by(seed):
    """(k + 3) / (E + 3), E the churned customers' expected count at the stayers' rates of their
    order-count band (each band's rate shrunk toward the stayers' overall rate by 10 customers),
    recomputed here with pandas group-bys."""
    rng = np.random.default_rng(seed)
    orders = rng.choice([1, 2, 3, 4, 6, 12], 600)
    churned = rng.random(600) < 0.3
    late = rng.random(600) < np.where(churned, 0.3, 0.1) * (1 + (orders > 2))
    rows = [
        {"placed_orders": int(o), "late_recent": int(x), "max_delay_days_recent": 1 * int(x)}
        for o, x in zip(orders, late, strict=True)
    ]
    leavers = [r for r, c in zip(rows, churned, strict=True) if c]
    stayers = [r for r, c in zip(rows, churned, strict=True) if not c]
    ratios = reasons(leavers, stayers).ratios.set_index("sign")

    frame = pd.DataFrame({"orders": orders, "churned": churned, "late": late})
    frame["band"] = pd.cut(frame["orders"], [0, 1, 2, 4, 9, np.inf])
    stay = frame.loc[~frame["churned"]]
    overall = stay["late"].mean()
    by_band = stay.groupby("band", observed=False)["late"].agg(["sum", "count"])
    rate = (by_band["sum"] + 10 * overall) / (by_band["count"] + 10)
    n_left = frame.loc[frame["churned"]].groupby("band", observed=False).size()
    expected = float((rate * n_left).sum())
    k = int((frame["churned"] & frame["late"]).sum())
    if k + (~frame["churned"] & frame["late"]).sum() == 0:
        assert ratios.empty
        return
    row = ratios.loc["late:1-2d"]
    assert row["churned"] == k
    assert row["expected_share"] == pytest.approx(expected / frame["churned"].sum())
    assert row["likelihood_ratio"] == pytest.approx((k + 3) / (expected + 3))
