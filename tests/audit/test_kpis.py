import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custkit.audit.kpis import (
    KPI_DEFINITIONS,
    headline_kpis,
    kpi_comparison,
    kpi_finding,
    kpi_trend,
)
from custkit.data.periods import ReportPeriod
from custkit.data.reduce import reduce_orders
from custkit.errors import ParamsError
from custkit.i18n import use_language


def test_headline_kpis_match_hand_computed_june(red, period):
    k = headline_kpis(red, period)
    assert list(k) == list(KPI_DEFINITIONS)
    assert k["customers"] == 3  # c1, c2, c5
    assert k["orders"] == 4
    assert k["revenue"] == 380.0
    assert k["average_order_value"] == 95.0
    assert k["repeat_customer_rate"] == pytest.approx(2 / 3)  # c1 (earlier), c5 (two in June)
    assert k["new_customers"] == 2  # c2, c5
    assert k["active_customers_12m"] == 3  # c1, c2, c5 (c3's 2023-06-20 is before July 2023)
    assert k["annual_churn_rate"] == pytest.approx(2 / 3)  # of c1, c3, c4 only c1 stayed


def test_headline_kpis_of_earlier_months_come_from_the_same_reductions(red, period):
    may = headline_kpis(red, period.previous_month)
    assert (may["customers"], may["revenue"], may["new_customers"]) == (1, 200.0, 0)
    assert may["active_customers_12m"] == 2  # c1, c3
    assert may["annual_churn_rate"] == pytest.approx(1 / 3)  # c4 lost; c1, c3 stayed


def test_churn_is_nan_when_history_is_shorter_than_two_years(red, period):
    year_ago = headline_kpis(red, period.same_month_last_year)
    assert year_ago["customers"] == 1 and year_ago["active_customers_12m"] == 3
    assert math.isnan(year_ago["annual_churn_rate"])


def test_all_kpis_are_nan_before_the_first_purchase(red):
    k = headline_kpis(red, ReportPeriod.from_string("2021-01"))
    assert all(math.isnan(v) for v in k.values())


def test_period_after_the_reductions_is_refused(red):
    with pytest.raises(ParamsError, match="ends after"):
        headline_kpis(red, ReportPeriod.from_string("2024-07"))


def test_comparison_uses_relative_change_for_counts_and_point_difference_for_shares(red, period):
    table = kpi_comparison(red, period).set_index("kpi")
    assert list(table.columns) == [
        "label",
        "value",
        "previous_month",
        "change_vs_previous_month",
        "same_month_last_year",
        "change_vs_last_year",
        "unit",
    ]
    assert table.loc["revenue", "change_vs_previous_month"] == pytest.approx(380 / 200 - 1)
    assert table.loc["annual_churn_rate", "change_vs_previous_month"] == pytest.approx(1 / 3)
    assert math.isnan(table.loc["annual_churn_rate", "change_vs_last_year"])
    assert set(table["unit"]) == {"count", "money", "share"}


def test_kpi_trend_lists_zero_for_months_without_purchases(red, period):
    trend = kpi_trend(red, period, months=3)
    assert [str(m) for m in trend["month"]] == ["2024-04", "2024-05", "2024-06"]
    assert trend["customers"].tolist() == [0, 1, 3]
    np.testing.assert_allclose(trend["revenue"], [0, 200, 380])


def test_kpi_finding_states_buyers_and_revenue_in_words(red, period):
    finding = kpi_finding(kpi_comparison(red, period))
    assert "3 customers bought for 380" in finding.conclusion
    assert "_" not in finding.conclusion


def test_kpi_finding_warns_when_there_is_no_data(orders):
    red = reduce_orders(orders, "2021-01-31")
    finding = kpi_finding(kpi_comparison(red, ReportPeriod.from_string("2021-01")))
    assert finding.level == "warning"


# --- the headline weighs the month-on-month change as well as the yearly one (issue 15) --------

KEEP_PLAN = "Keep the current plan"


def _store(monthly: dict[str, tuple[int, float]]):
    """Orders of distinct customers: month -> (buyers, revenue per order), one order each."""
    rows, customer = [], 0
    for month, (buyers, value) in monthly.items():
        for _ in range(buyers):
            customer += 1
            rows.append((customer, customer, f"{month}-15", value))
    frame = pd.DataFrame(rows, columns=["order_id", "customer_id", "order_date", "revenue"])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    return frame


def _finding(monthly, period="2024-06"):
    report = ReportPeriod.from_string(period)
    red = reduce_orders(_store(monthly), report.as_of)
    return kpi_finding(kpi_comparison(red, report))


# (previous month, same month last year) revenue per order against 100 in June 2024; 200 buyers
HEADLINE_CASES = {
    "down 41% on the month, up 20% on the year": (169.5, 83.3, "warning", False),
    "up 30% on the month, down 30% on the year": (76.9, 142.9, "warning", False),
    "down on the month and on the year": (150.0, 150.0, "warning", False),
    "flat on both": (100.0, 100.0, "info", True),
    "up on both": (80.0, 80.0, "good", True),
}


@pytest.mark.parametrize("case", list(HEADLINE_CASES))
def test_headline_verdict_weighs_the_change_on_the_month_and_on_the_year(case):
    before, year_ago, level, keeps_plan = HEADLINE_CASES[case]
    finding = _finding(
        {"2023-06": (200, year_ago), "2024-05": (200, before), "2024-06": (200, 100.0)}
    )
    assert finding.level == level, finding
    assert (KEEP_PLAN in finding.action) is keeps_plan, finding.action
    # both changes are stated, whichever way they go
    assert "on the previous month" in finding.conclusion
    assert "on a year ago" in finding.conclusion


def test_a_sharp_drop_on_the_previous_month_is_named_though_the_year_is_up():
    finding = _finding({"2023-06": (200, 83.3), "2024-05": (200, 169.5), "2024-06": (200, 100.0)})
    assert "revenue is down 41% on the previous month" in finding.conclusion
    assert "revenue is up 20% on a year ago" in finding.conclusion


def _comparison(mom: float, yoy: float, buyers: float = 1_000.0) -> pd.DataFrame:
    rows = {kpi: (1.0, np.nan, np.nan) for kpi in KPI_DEFINITIONS}
    rows["customers"] = (buyers, np.nan, np.nan)
    rows["revenue"] = (1e6, mom, yoy)
    return pd.DataFrame(
        [
            {"kpi": k, "value": v, "change_vs_previous_month": m, "change_vs_last_year": y}
            for k, (v, m, y) in rows.items()
        ]
    )


changes = st.one_of(st.just(np.nan), st.floats(-0.95, 3.0, allow_nan=False))


@settings(max_examples=200, deadline=None)
@given(mom=changes, yoy=changes)
def test_the_plan_is_kept_only_when_neither_change_is_a_drop(mom, yoy):
    finding = kpi_finding(_comparison(mom, yoy))
    dropped = bool(mom < -0.05 or yoy < -0.05)  # False for NaN
    assert (KEEP_PLAN in finding.action) is not dropped, (mom, yoy, finding)
    assert (finding.level == "warning") is dropped
    for change, words in ((mom, "on the previous month"), (yoy, "on a year ago")):
        assert (words in finding.conclusion) is bool(np.isfinite(change))


THIN_STORES = {
    "one month of data": (
        {"2024-06": (200, 100.0)},
        "there is no earlier month to compare with",
    ),
    "no previous year": (
        {"2024-04": (200, 100.0), "2024-05": (200, 100.0), "2024-06": (200, 100.0)},
        "does not reach back to the same month last year",
    ),
    "few customers": (
        {"2023-06": (8, 100.0), "2024-05": (10, 100.0), "2024-06": (12, 100.0)},
        "With only 12 buyers this month",
    ),
}


@pytest.mark.parametrize("case", list(THIN_STORES))
def test_a_thin_data_headline_says_what_it_cannot_tell(case):
    monthly, says = THIN_STORES[case]
    finding = _finding(monthly)
    assert says in finding.conclusion, finding.conclusion
    assert finding.level != "good"
    assert "yearly loss of customers is not shown" in finding.conclusion


@pytest.mark.parametrize(("language", "written"), [("en", "380\u00a0RUB"), ("ru", "380\u00a0₽")])
def test_the_headline_writes_revenue_with_its_currency(red, period, language, written):
    with use_language(language):
        finding = kpi_finding(kpi_comparison(red, period), currency="RUB")
    assert written in finding.conclusion
