import numpy as np
import pandas as pd
import pytest

from custkit.audit.cohorts import cohort_retention, retention_finding, time_to_second_order
from custkit.data.periods import ReportPeriod
from custkit.data.reduce import reduce_orders


@pytest.fixture
def cohort_red():
    # January cohort: a (Jan, Feb, Apr), b (Jan, Feb), c (Jan); February cohort: d (Feb, Mar)
    rows = [
        ("a", "2024-01-03"), ("a", "2024-02-03"), ("a", "2024-04-03"),
        ("b", "2024-01-10"), ("b", "2024-02-10"),
        ("c", "2024-01-20"),
        ("d", "2024-02-05"), ("d", "2024-03-05"),
    ]  # fmt: skip
    orders = pd.DataFrame(rows, columns=["customer_id", "order_date"])
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    orders["revenue"] = 10.0
    return reduce_orders(orders, "2024-04-30")


def test_retention_share_is_buyers_in_month_k_over_cohort_size(cohort_red):
    r = cohort_retention(cohort_red, ReportPeriod.from_string("2024-04"), cohorts=4, months=3)
    assert r.size.tolist() == [3, 1, 0, 0]
    jan = r.share.loc[pd.Period("2024-01", "M")].to_numpy()
    np.testing.assert_allclose(jan, [1, 2 / 3, 0, 1 / 3])
    feb = r.share.loc[pd.Period("2024-02", "M")].to_numpy()
    np.testing.assert_allclose(feb[:3], [1, 1, 0])
    assert np.isnan(feb[3])  # May is after the report month
    assert r.share.loc[pd.Period("2024-03", "M")].isna().all()  # empty cohort
    assert r.revenue_per_customer.loc[pd.Period("2024-01", "M"), 1] == pytest.approx(20 / 3)


def test_time_to_second_order_bands_cover_every_buyer(cohort_red):
    t = time_to_second_order(cohort_red, ReportPeriod.from_string("2024-04"))
    by_band = t.set_index("band")["customers"]
    assert by_band["0–30 days"] == 1  # d: 29 days
    assert by_band["30–90 days"] == 2  # a: 31 days, b: 31 days
    assert by_band["no second order yet"] == 1  # c
    assert t["customers"].sum() == 4
    assert t["share"].sum() == pytest.approx(1)


def test_retention_finding_reports_month_one_retention(cohort_red):
    period = ReportPeriod.from_string("2024-04")
    finding = retention_finding(
        cohort_retention(cohort_red, period, 4, 3), time_to_second_order(cohort_red, period)
    )
    assert "75.0% of new customers buy again in the month after" in finding.conclusion
