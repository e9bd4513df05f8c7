"""Each report's actions for the monthly summary: the money at stake computed from the report's
own results, checked against the figures worked out here by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import custkit as ck
from custkit import audit, churn, ltv
from custkit.churn.winback import WinbackPlan, WinbackPolicy


def test_reactivation_is_worth_a_year_of_what_its_customers_spent_while_buying():
    orders = pd.DataFrame(
        {
            "order_id": [1, 2, 3, 4, 5],
            "customer_id": ["a", "b", "b", "c", "c"],
            "order_date": pd.to_datetime(
                ["2025-01-10", "2023-01-01", "2024-12-31", "2024-06-01", "2024-09-01"]
            ),
            "revenue": [300.0, 731.0, 731.0, 100.0, 100.0],
        }
    )
    red = ck.reduce_orders(orders, "2026-10-31")
    # a: one order, a year at least; b: 731 days from first to last; c: 93 days, a year at least
    spend = audit.yearly_spend(red, pd.Series(["a", "b", "c", "unknown"]))
    np.testing.assert_allclose(spend, [300.0, 1462 / 731 * 365, 200.0, 0.0])

    table = pd.DataFrame({"customer_id": ["a", "b"], "revenue": [300.0, 1462.0]})
    (action,) = audit.list_actions({"reactivation_list": table}, red, 180, 730)
    assert action.value == pytest.approx(300.0 + 730.0)
    assert (action.export, action.customers, action.unit) == ("reactivation_list", 2, "money")
    assert "2 customers who last bought 180–730 days ago" in action.line
    assert audit.list_actions({"reactivation_list": table.iloc[:0]}, red) == []
    assert audit.list_actions({"birthdays_next_month": table}, red) == []


def test_the_value_at_risk_action_sums_the_lists_value_at_risk():
    at_risk = pd.DataFrame({"customer_id": [1, 2, 3], "value_at_risk": [100.0, 20.5, 0.25]})
    (action,) = ltv.value_at_risk_action(at_risk)
    assert action.value == pytest.approx(120.75)
    assert (action.export, action.customers) == ("value_at_risk", 3)
    assert ltv.value_at_risk_action(at_risk.iloc[:0]) == []


def _plan(contacted, incentive, messages, revenue) -> WinbackPlan:
    empty = pd.DataFrame()
    return WinbackPlan(
        empty, empty, empty, pd.Timestamp("2026-11-01"), WinbackPolicy(), 10, contacted,
        incentive, messages, 1.0, revenue, 0.1, "assumed", "",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("plan", "value", "says"),
    [
        (_plan(4549, 500_000.0, 1_350.0, 333_610.0), 333_610.0 - 501_350.0, "loses money"),
        (_plan(100, 1_000.0, 0.0, 1_050.0), 50.0, "about break-even"),
        (_plan(100, 1_000.0, 100.0, 5_000.0), 3_900.0, ""),
    ],
)
def test_the_win_back_action_is_worth_its_expected_value_net_of_incentives_and_messages(
    plan, value, says
):
    (action,) = churn.winback_action(plan)
    assert action.value == pytest.approx(value)
    assert (action.export, action.customers) == ("winback_contacts", plan.contacted)
    assert f"{plan.contacted:,} customers to contact" in action.line
    if says:
        assert says in action.line
    else:
        assert "loses money" not in action.line and "break-even" not in action.line


def test_a_win_back_plan_contacting_nobody_declares_no_action():
    assert churn.winback_action(_plan(0, 0.0, 0.0, 0.0)) == []
