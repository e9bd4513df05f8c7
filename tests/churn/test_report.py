"""Churn report summaries on hand-made reasons and statuses."""

import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from custkit.churn.report import reason_finding, reason_summary, reason_trend, reasons_by_group
from custkit.data.periods import ReportPeriod

PERIOD = ReportPeriod.from_string("2024-12")


def frames(reasons, statuses, churned_at=None):
    index = pd.Index(range(1, len(reasons) + 1), name="customer_id")
    reason_frame = pd.DataFrame({"reason": pd.Categorical(reasons)}, index=index)
    status = pd.DataFrame({"status": statuses}, index=index)
    status["churned_at"] = pd.to_datetime(churned_at) if churned_at is not None else pd.NaT
    return reason_frame, status


def test_reason_summary_counts_churned_customers_only_with_wilson_intervals():
    reasons, status = frames(
        ["delivery", "delivery", "forgot", "quality"], ["churned", "churned", "churned", "at_risk"]
    )
    revenue = pd.Series([100.0, 50.0, 10.0, 999.0], index=status.index)
    table = reason_summary(reasons, status, revenue).set_index("reason")
    assert table["customers"].to_dict() == {"delivery": 2, "forgot": 1}
    assert table.loc["delivery", "share"] == pytest.approx(2 / 3)
    low, high = proportion_confint(2, 3, method="wilson")
    assert table.loc["delivery", ["share_low", "share_high"]].tolist() == pytest.approx([low, high])
    assert table.loc["delivery", "revenue_lost_per_year"] == 150.0
    assert table.loc["delivery", "label"] == "Late or failed delivery"


def test_reasons_by_group_rates_are_per_group_customer_and_small_groups_are_listed():
    reasons, status = frames(["delivery"] * 3 + ["forgot"] * 3, ["churned", "active"] * 3)
    groups = pd.Series(
        ["web", "web", "web", "web", "app", "app"], index=status.index, name="channel"
    )
    out = reasons_by_group(reasons, status, groups, min_customers=3)
    assert out.attrs["small_groups"] == ["app"]
    web = out.set_index("reason")
    assert web.loc["delivery", "churned"] == 2 and web.loc["delivery", "rate"] == pytest.approx(0.5)
    assert "forgot" not in web.index  # web's only 'forgot' customer has not churned


def test_reason_trend_flags_a_reason_whose_share_clearly_grew():
    months = ["2024-07-15"] * 40 + ["2024-11-15"] * 40
    reasons = ["forgot"] * 36 + ["delivery"] * 4 + ["forgot"] * 16 + ["delivery"] * 24
    reasons_frame, status = frames(reasons, ["churned"] * 80, months)
    trend = reason_trend(reasons_frame, status, PERIOD).set_index("reason")
    assert trend.loc["delivery", "2024-11"] == 24 and trend.loc["delivery", "2024-07"] == 4
    assert bool(trend.loc["delivery", "growing"]) and not bool(trend.loc["forgot", "growing"])
    assert trend.loc["delivery", "recent_share"] == pytest.approx(0.6)
    finding = reason_finding(
        reason_summary(reasons_frame, status, pd.Series(1.0, index=status.index)),
        trend.reset_index(),
    )
    assert "Growing: Late or failed delivery" in finding.conclusion
    assert finding.level == "warning"


def test_reason_finding_names_the_most_common_and_the_costliest_reason():
    summary = pd.DataFrame(
        {
            "reason": ["forgot", "quality"],
            "label": ["Forgot about the store", "Product quality"],
            "share": [0.6, 0.4],
            "revenue_lost_per_year": [100.0, np.float64(5000.0)],
        }
    )
    finding = reason_finding(summary, currency="RUB")
    assert "'Forgot about the store' (60% of those who left)" in finding.conclusion
    assert "'Product quality' costs the most revenue (5,000\u00a0RUB a year)" in finding.conclusion


def test_findings_read_in_russian_with_russian_numbers():
    from custkit.i18n import use_language

    summary = pd.DataFrame(
        {
            "reason": ["forgot", "quality"],
            "label": ["Forgot about the store", "Product quality"],
            "share": [0.6, 0.4],
            "revenue_lost_per_year": [100.0, 12345.0],
        }
    )
    trend = pd.DataFrame({"reason": ["quality"], "growing": [True]})
    with use_language("ru"):
        finding = reason_finding(summary, trend, currency="RUB")
    assert finding.title == "Почему клиенты уходят"
    assert finding.conclusion == (
        "Самая частая причина ухода — «Забыли о магазине» (60% ушедших); дороже всего обходится "
        "причина «Качество товара»: 12\u00a0345\u00a0₽ выручки в год. Растёт доля: Качество товара."
    )
    assert finding.action.startswith("Начните с причины «Качество товара»")


def _empty_orders():
    return pd.DataFrame(
        {
            "order_id": pd.Series(dtype=np.int64),
            "customer_id": pd.Series(dtype=np.int64),
            "order_date": pd.Series(dtype="datetime64[ns]"),
            "revenue": pd.Series(dtype=np.float64),
        }
    )


def _notebook_call(name, value, parameters):
    """What the churn notebook calls with the parameter *name* (it checks it first)."""
    from custkit import churn
    from custkit.data.signals import reduce_order_signals

    p = {**parameters, name: value}
    if name in ("churn_quantile", "at_risk_quantile", "one_time_window_days"):
        churn.ChurnRule(
            churn_quantile=p["churn_quantile"],
            at_risk_quantile=p["at_risk_quantile"],
            one_time_window_days=p["one_time_window_days"],
        )
    elif name == "recent_orders":
        reduce_order_signals(_empty_orders(), "2025-01-31", recent_orders=value)
    elif name in ("risk_horizon_days", "risk_sample"):
        churn.risk_training_data(
            _empty_orders(), "2025-01-31", p["risk_horizon_days"], sample=p["risk_sample"]
        )
    else:
        churn.WinbackPolicy(
            max_messages=p["max_messages"],
            cap_days=p["cap_days"],
            served_regions=p["served_regions"] or None,
            assumed_return_rate=p["assumed_return_rate"],
        )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("at_risk_quantile", 0.95),  # above churn_quantile
        ("churn_quantile", 1.5),
        ("one_time_window_days", 0),
        ("recent_orders", 0),
        ("risk_horizon_days", 3),
        ("risk_sample", 10),
        ("max_messages", 0),
        ("cap_days", -1),
        ("assumed_return_rate", 1.5),
    ],
)
def test_check_inputs_refuses_what_the_notebook_refuses_with_the_same_message(name, value):
    """``custkit validate`` runs check_inputs on the report's parameter values."""
    from custkit.churn import check_inputs
    from custkit.errors import ParamsError
    from custkit.reports import get_report, resolve_parameters

    parameters = resolve_parameters(get_report("churn"), None)
    store = SimpleNamespace(feedback=None)
    check_inputs(store, parameters)  # the defaults pass
    with pytest.raises(ParamsError) as from_check:
        check_inputs(store, {**parameters, name: value})
    with pytest.raises(ParamsError) as from_notebook:
        _notebook_call(name, value, parameters)
    assert str(from_check.value) == str(from_notebook.value)


def _backtest(flagged, left, flagged_left):
    from custkit.churn.definition import RuleBacktest

    table = pd.DataFrame(
        {
            "customers": [100, 100, 200],
            "flagged": [flagged, flagged, 2 * flagged],
            "left": [left, left, 2 * left],
            "flagged_left": [flagged_left, flagged_left, 2 * flagged_left],
        },
        index=pd.Index(["one_time", "repeat", "all"], name="buyers"),
    )
    for name, denominator in (("precision", "flagged"), ("recall", "left")):
        table[name] = table["flagged_left"] / table[denominator]
        low, high = proportion_confint(table["flagged_left"], table[denominator], method="wilson")
        table[f"{name}_low"], table[f"{name}_high"] = low, high
    return RuleBacktest(pd.Timestamp("2024-06-30"), pd.Timestamp("2024-12-31"), table)


@pytest.mark.parametrize(
    ("flagged", "left", "flagged_left", "level", "words"),
    [
        (20, 40, 16, "good", "80% of them"),
        (20, 40, 10, "warning", "treat them as lapsed"),
    ],
)
def test_rule_check_says_how_often_the_rule_was_right_six_months_back(
    flagged, left, flagged_left, level, words
):
    from custkit.churn.report import rule_check_finding, rule_check_table

    result = _backtest(flagged, left, flagged_left)
    finding = rule_check_finding(result)
    assert finding.level == level
    assert words in finding.conclusion + finding.action
    assert "2024-06-30" in finding.conclusion and f"flagged {2 * flagged} customers" in (
        finding.conclusion
    )
    recall = flagged_left / left
    assert f"it had flagged {recall:.0%}" in finding.conclusion
    table = rule_check_table(result)
    assert table["buyers"].tolist() == ["One-time buyers", "Repeat buyers", "All customers"]
    assert table["precision"].tolist() == pytest.approx([flagged_left / flagged] * 3)


# ---- reasons by group: a group the customer was in before leaving, not measured after --------
NOTEBOOK = Path(__file__).resolve().parents[2] / "custkit" / "notebooks" / "churn.ipynb"


def _orders(customer_ids, days, revenue):
    return pd.DataFrame(
        {
            "order_id": [str(i) for i in range(len(customer_ids))],
            "customer_id": [str(c) for c in customer_ids],
            "order_date": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, "D"),
            "revenue": revenue,
        }
    )


def _notebook_grouping():
    """The function the churn notebook groups leavers' reasons by: its ``reasons_by_group`` call
    must take a group made by ``churn.<function>(red)``."""
    import custkit.churn as churn

    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    call = re.search(r"reasons_by_group\(\s*[^,]+,\s*[^,]+,\s*(\w+)", source)
    assert call, "the churn notebook no longer groups the reasons"
    made = re.search(rf"^{call.group(1)} = churn\.(\w+)\(red\)", source, re.MULTILINE)
    assert made, (
        f"the churn notebook groups the reasons by {call.group(1)!r}, not by a group "
        "churn.<function>(red) fixes at the customer's last order"
    )
    return getattr(churn, made.group(1))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 25), st.integers(0, 360), st.floats(1, 500)),
        min_size=1,
        max_size=120,
    ),
    st.sampled_from(["2025-03", "2025-12", "2027-06"]),
)
def test_the_churn_page_groups_reasons_by_what_a_customer_was_before_leaving(history, later):
    """Circularity check: a leaver's group must not move while they stay away. An RF segment
    does (recency grows with the silence that made them churned), so reasons by RF segment
    say only that the customers who left are the ones who left."""
    import custkit as ck
    from custkit.data.periods import ReportPeriod

    grouping = _notebook_grouping()
    customers, days, revenue = zip(*history, strict=True)
    orders = _orders(customers, list(days), list(revenue))
    groups = [
        grouping(ck.reduce_orders(orders, ReportPeriod.from_string(p).as_of))
        for p in ("2024-12", later)
    ]
    pd.testing.assert_series_equal(groups[0], groups[1])


def test_rf_segments_move_with_silence_so_the_grouping_check_catches_them():
    import custkit as ck
    from custkit.audit import rfm_scores
    from custkit.data.periods import ReportPeriod

    rng = np.random.default_rng(0)
    orders = _orders(rng.integers(0, 80, 300), rng.integers(0, 365, 300), rng.uniform(10, 100, 300))
    segments = []
    for month in ("2024-12", "2025-12"):
        period = ReportPeriod.from_string(month)
        red = ck.reduce_orders(orders, period.as_of)
        segments.append(rfm_scores(red, period).set_index("customer_id")["segment"])
    assert (segments[0] != segments[1].reindex(segments[0].index)).any()


@pytest.mark.parametrize(
    ("orders", "band"),
    [(1, "One order"), (2, "Two orders"), (3, "3–4 orders"), (4, "3–4 orders"),
     (5, "5 or more orders"), (40, "5 or more orders")],
)  # fmt: skip
def test_orders_before_leaving_puts_each_order_count_in_its_band(orders, band):
    import custkit as ck
    from custkit.churn.report import orders_before_leaving
    from custkit.data.periods import ReportPeriod

    history = _orders([7] * orders, list(range(orders)), [10.0] * orders)
    red = ck.reduce_orders(history, ReportPeriod.from_string("2024-12").as_of)
    assert orders_before_leaving(red).to_dict() == {"7": band}


# ---- thin evidence and the value's basis -------------------------------------------------------
@pytest.mark.parametrize("tells_forgot", [True, False])
def test_reason_finding_says_forgot_only_when_feedback_could_have_said_otherwise(tells_forgot):
    reasons, status = frames(["forgot"] * 8 + ["delivery"] * 2, ["churned"] * 10)
    summary = reason_summary(reasons, status, pd.Series(1.0, index=status.index), tells_forgot)
    finding = reason_finding(summary, tells_forgot=tells_forgot)
    labels = set(summary["label"])
    if tells_forgot:
        assert "'Forgot about the store' (80%" in finding.conclusion
        assert "Forgot about the store" in labels
    else:
        assert "Forgot" not in finding.conclusion and "Forgot about the store" not in labels
        assert "For 80% of those who left" in finding.conclusion
        assert "cannot tell whether they forgot the store" in finding.conclusion
        assert "'Late or failed delivery' (20%" in finding.conclusion
        assert "No sign of a reason in the data" in labels
        assert finding.level == "warning"


@pytest.mark.parametrize(
    ("margin_rate", "cost", "basis"),
    [(None, False, "revenue"), (0.3, False, "margin"), (None, True, "margin")],
)
def test_the_value_at_stake_is_called_margin_only_with_a_cost_or_a_margin_rate(
    margin_rate, cost, basis
):
    import custkit as ck
    from custkit.churn.report import at_risk_finding, at_risk_summary, value_if_kept
    from custkit.data.periods import ReportPeriod

    orders = _orders([1, 1, 2], [0, 100, 50], [100.0, 100.0, 80.0])
    if cost:
        orders["cost"] = orders["revenue"] * 0.6
    red = ck.reduce_orders(orders, ReportPeriod.from_string("2024-12").as_of)
    value = value_if_kept(red, margin_rate)
    status = pd.DataFrame({"status": ["at_risk", "churned"]}, index=pd.Index(["1", "2"]))
    summary = at_risk_summary(status, value, None)
    assert summary["basis"].iloc[0] == basis
    text = at_risk_finding(summary, "EUR").conclusion
    if basis == "margin":
        assert "of margin a year" in text and "revenue" not in text
    else:
        assert "of revenue a year (the orders have no cost, so not margin)" in text


# ---- the page's answer ------------------------------------------------------------------------
def _answer_inputs(tells_forgot):
    reasons, status = frames(["forgot"] * 6 + ["delivery"] * 4, ["churned"] * 10)
    summary = reason_summary(reasons, status, pd.Series(1.0, index=status.index), tells_forgot)
    monthly = pd.DataFrame(
        {
            "month": [pd.Period("2024-11", "M"), pd.Period("2024-12", "M")],
            "churned": [9, 10],
            "active_at_start": [400, 400],
            "churn_rate": [9 / 400, 10 / 400],
        }
    )
    at_risk = pd.DataFrame({"customers": [30], "expected_loss": [1234.0]})
    return monthly, summary, at_risk


@pytest.mark.parametrize(
    ("contacted", "value", "cost", "words", "action"),
    [
        (20, 500.0, 100.0, "it pays off", "Send the win-back plan"),
        (20, 105.0, 100.0, "about break-even", "Send the win-back plan"),
        (20, 50.0, 100.0, "it loses money", "Make the incentives smaller"),
        (0, 0.0, 0.0, "can contact none of the 40", "says why no one can be contacted"),
    ],
)
@pytest.mark.parametrize("tells_forgot", [True, False])
def test_the_churn_answer_says_who_left_why_what_is_at_stake_and_the_plans_bottom_line(
    contacted, value, cost, words, action, tells_forgot
):
    from custkit.churn.report import churn_answer
    from custkit.churn.winback import WinbackPlan

    plan = SimpleNamespace(
        contacted=contacted,
        targets=40,
        expected_customers_won=3.0,
        expected_revenue_won=value,
        total_incentive=cost,
        message_cost=0.0,
    )
    plan.balance = WinbackPlan.balance.fget(plan)
    monthly, summary, at_risk = _answer_inputs(tells_forgot)
    finding = churn_answer(monthly, PERIOD, summary, at_risk, plan, "EUR", tells_forgot)
    text = finding.conclusion
    assert text.startswith(
        "In December 2024, 10 of the 400 customers active at its start stopped buying (2.5%)."
    )
    assert "30 customers are slipping away; 1,234\u00a0EUR a year is likely lost" in text
    assert words in text
    if tells_forgot:
        assert "The most common reason: 'Forgot about the store' (60% of those who left)." in text
    else:
        assert "Forgot" not in text
        assert "For 60% of those who left the data cannot tell why" in text
        assert finding.level == "warning"
    if contacted:
        assert f"contacts {contacted} customers" in text
    assert action in finding.action


@pytest.mark.parametrize(
    ("rates", "level", "words"),
    [
        (
            [0.05] * 10 + [0.06, 0.10],
            "warning",
            "clearly above its usual level, so look at what changed this month",
        ),
        ([0.05] * 10 + [0.12, 0.08], "warning", "lower than last month but still clearly above"),
        ([0.05] * 10 + [0.05, 0.055], "info", "while the reasons are fresh."),
        ([0.08] * 10 + [0.09, 0.04], "info", "while the reasons are fresh."),
    ],
    ids=["up_and_high", "down_but_still_high", "usual", "down_and_low"],
)
def test_the_churn_finding_weighs_this_month_against_the_last_and_the_usual_level(
    rates, level, words
):
    from custkit.churn.report import churn_finding

    months = pd.period_range(end="2024-12", periods=len(rates), freq="M")
    monthly = pd.DataFrame(
        {
            "month": months,
            "active_at_start": 1000,
            "churned": [round(r * 1000) for r in rates],
            "churn_rate": rates,
            "returned_share": np.nan,
        }
    )
    finding = churn_finding(monthly, PERIOD)
    assert finding.level == level and words in finding.action
    if level == "info":
        assert "above its usual level" not in finding.action
