import math

import numpy as np
import pytest

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
