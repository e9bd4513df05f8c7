"""Churn report summaries on hand-made reasons and statuses."""

import numpy as np
import pandas as pd
import pytest
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
    assert "'Product quality' costs the most revenue (5,000 RUB a year)" in finding.conclusion


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
        "причина «Качество товара»: 12\u00a0345 RUB выручки в год. Растёт доля: Качество товара."
    )
    assert finding.action.startswith("Начните с причины «Качество товара»")
