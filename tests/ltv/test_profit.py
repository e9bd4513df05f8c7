"""Historic lifetime profit per customer and cohort, and the value-to-annual-revenue ratio, on a
small store worked out by hand.

As of 2024-06-30:
- c1: 2023-01-10 (100, cost 60), 2024-05-05 (200, cost 100) -> lifetime 481 days, margin 140
- c2: 2024-06-01 (300, cost 200) -> lifetime 0, margin 100
- c3: 2023-01-20 (80, cost 40), 2023-01-25 (40, cost 30); a cancelled order -> margin 50
"""

import numpy as np
import pandas as pd
import pytest

from custkit.data.reduce import reduce_orders
from custkit.errors import DataError, ParamsError
from custkit.ltv.profit import (
    cohort_profit,
    historic_profit,
    value_ratio_finding,
    value_to_annual_revenue,
)


@pytest.fixture
def reductions():
    orders = pd.DataFrame(
        [
            (1, "2023-01-10", 100.0, 60.0, "completed"),
            (1, "2024-05-05", 200.0, 100.0, "completed"),
            (2, "2024-06-01", 300.0, 200.0, "completed"),
            (3, "2023-01-20", 80.0, 40.0, "completed"),
            (3, "2023-01-25", 40.0, 30.0, "completed"),
            (3, "2023-02-25", 999.0, 0.0, "cancelled"),
        ],
        columns=["customer_id", "order_date", "revenue", "cost", "status"],
    )
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    return reduce_orders(orders, "2024-06-30")


def test_historic_profit_per_customer(reductions):
    profit = historic_profit(reductions)
    assert list(profit.index) == [1, 2, 3]
    assert list(profit["lifetime_days"]) == [481, 0, 5]
    assert list(profit["orders"]) == [2, 1, 2]
    np.testing.assert_allclose(profit["revenue"], [300, 300, 120])
    np.testing.assert_allclose(profit["margin"], [140, 100, 50])
    assert [str(c) for c in profit["cohort"]] == ["2023-01", "2024-06", "2023-01"]


def test_cohort_profit_sums_means_medians_and_shares(reductions):
    cohorts = cohort_profit(reductions).set_index("cohort")
    jan = cohorts.loc[pd.Period("2023-01", "M")]
    assert jan["customers"] == 2
    assert jan["revenue"] == 420 and jan["revenue_mean"] == 210 and jan["revenue_median"] == 210
    assert jan["revenue_share"] == pytest.approx(420 / 720)
    assert jan["margin"] == 190 and jan["margin_share"] == pytest.approx(190 / 290)
    assert jan["lifetime_days_mean"] == pytest.approx(243)
    assert cohorts["revenue_share"].sum() == pytest.approx(1.0)
    assert list(cohorts.index.astype(str)) == ["2023-01", "2024-06"]


def test_cohort_profit_without_cost_has_no_margin(reductions):
    customers = reductions.customers.drop(columns="margin")
    red = type(reductions)(customers, reductions.customer_months, reductions.as_of)
    out = cohort_profit(red)
    assert "margin" not in out.columns and "revenue_median" in out.columns


def test_value_to_annual_revenue_by_hand(reductions):
    clv = pd.DataFrame(
        {
            "expected_revenue": [150.0, 300.0, 0.0, 10.0],
            "status": ["scored", "scored", "not_scored", "scored"],
        },
        index=pd.Index([1, 2, 3, 99], name="customer_id"),
    )
    clv.attrs["horizon_months"] = 36
    ratios = value_to_annual_revenue(clv, reductions)
    assert list(ratios.index) == [1, 2]  # 3 not scored, 99 has no history
    # c1: tenure 2023-01-10 .. 2024-06-30 = 538 days = 1.473 years -> annual 300 / 1.473
    tenure = 538 / 365.25
    assert ratios.loc[1, "tenure_years"] == pytest.approx(tenure)
    assert ratios.loc[1, "value_to_annual_revenue"] == pytest.approx(450 / (300 / tenure))
    # c2: 30 days old counts as one year: (300 + 300) / 300
    assert ratios.loc[2, "value_to_annual_revenue"] == pytest.approx(2.0)
    assert ratios.attrs["horizon_months"] == 36
    finding = value_ratio_finding(ratios)
    assert "36 months" in finding.conclusion and "3.5×" in finding.conclusion
    assert "0% of 2 customers" in finding.conclusion
    with pytest.raises(ParamsError, match=r"reference .* \(0, inf\)\. Got -1"):
        value_ratio_finding(ratios, reference=-1)
    with pytest.raises(DataError, match="expected_revenue"):
        value_to_annual_revenue(clv.drop(columns="expected_revenue"), reductions)
