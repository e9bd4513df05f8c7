"""The figures two or more reports show, each with one KPI name and one value from the table.

Every report that shows one of these puts it in its ``kpis.json`` under the name here, with the
value computed here from the customer-state table (:func:`custkit.customers.customer_state`),
so the audit, churn and LTV pages and the summary page cannot disagree about them:

``active_base`` (count)
    Customers the churn rule does not call churned at the end of the period (statuses active,
    new, reactivated, at risk). Not the audit's ``active_customers_12m`` (bought in the last 12
    months), which stays the audit's own figure; the audit page says how the two relate.
``churned_customers`` (count)
    Customers with a churn event of the churn rule dated in the period, whether or not they
    came back since (``churned_in_period``): the churn report's "churned this month".
``at_risk_customers`` (count)
    Status ``at_risk``: the churn rule's "at risk".
``p_alive_mean`` (share)
    The mean of ``p_alive``, the one-rule P(alive) (0 for the churn rule's churned customers;
    the purchase model's otherwise). Was the model's mean in the LTV report before.
``value_at_risk`` (money)
    The sum of ``value_at_risk`` = value × (1 − P(alive)): expected value over the LTV horizon
    that may already be lost. The churn report's ``at_risk_value`` (a year of revenue or margin
    of the customers at risk) is another figure under another name; its page says which is which.
``expected_purchases_12m`` (count), ``clv_12m_total`` (money)
    The sums of ``expected_orders_12m`` and ``value`` (the LTV report's outlook).
``lost_customers`` (count)
    Not from the table: the audit's customers lost this month (no purchase for the audit's
    ``lapse_days``, :func:`custkit.audit.base_turnover`), which the churn page quotes beside its
    own churned customers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from custkit.units import Kpis

__all__ = ["REPORT_FIGURES", "SHARED_FIGURES", "lost_customers", "merged", "shared_kpis"]

#: Shared figure → its unit (:mod:`custkit.units`); the module docstring defines each.
SHARED_FIGURES = {
    "active_base": "count",
    "churned_customers": "count",
    "at_risk_customers": "count",
    "p_alive_mean": "share",
    "value_at_risk": "money",
    "expected_purchases_12m": "count",
    "clv_12m_total": "money",
    "lost_customers": "count",
}

#: The shared figures each report shows (and saves in its ``kpis.json``).
REPORT_FIGURES = {
    "audit": ("active_base", "churned_customers", "lost_customers"),
    "churn": (
        "active_base",
        "churned_customers",
        "lost_customers",
        "at_risk_customers",
        "p_alive_mean",
        "value_at_risk",
    ),
    "ltv": (
        "active_base",
        "churned_customers",
        "at_risk_customers",
        "p_alive_mean",
        "value_at_risk",
        "expected_purchases_12m",
        "clv_12m_total",
    ),
}

_NOT_CHURNED = ("active", "new", "reactivated", "at_risk")


def _sum(table: pd.DataFrame, column: str) -> float:
    values = table[column].to_numpy(dtype=np.float64)
    return float(values.sum()) if np.isfinite(values).any() else float("nan")


def shared_kpis(
    table: pd.DataFrame, names: Sequence[str] | None = None, lost: int | None = None
) -> Kpis:
    """The shared figures of *table*, by KPI name, with their units.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`custkit.customers.customer_state`.
    names : sequence of str, optional
        The figures wanted (a report's :data:`REPORT_FIGURES`); default every one the table gives.
    lost : int, optional
        :func:`lost_customers`, for ``lost_customers``.

    Returns
    -------
    Kpis
    """
    unknown = [n for n in names or () if n not in SHARED_FIGURES]
    if unknown:
        raise ValueError(
            f"Shared figure must be one of {list(SHARED_FIGURES)}. Got {unknown[0]!r} instead."
        )
    status = table["status"].astype(str)
    p_alive = table["p_alive"].to_numpy(dtype=np.float64)
    values = {
        "active_base": int(status.isin(_NOT_CHURNED).sum()),
        "churned_customers": int(table["churned_in_period"].sum()),
        "at_risk_customers": int((status == "at_risk").sum()),
        "p_alive_mean": float(np.nanmean(p_alive)) if np.isfinite(p_alive).any() else np.nan,
        "value_at_risk": _sum(table, "value_at_risk"),
        "expected_purchases_12m": _sum(table, "expected_orders_12m"),
        "clv_12m_total": _sum(table, "value"),
    }
    if lost is not None:
        values["lost_customers"] = int(lost)
    wanted = [n for n in (names or SHARED_FIGURES) if n in values]
    return Kpis({n: values[n] for n in wanted}, {n: SHARED_FIGURES[n] for n in wanted})


def lost_customers(red, period, lapse_days: int = 365) -> int:
    """The audit's customers lost in *period*: reached *lapse_days* without a purchase in it."""
    from custkit.audit.health import base_turnover

    turnover = base_turnover(red, period, months=1, lapse_days=lapse_days)
    return int(turnover["lost"].iloc[-1]) if len(turnover) else 0


def merged(kpis: Mapping, shared: Kpis) -> Kpis:
    """A report's *kpis* with the *shared* figures put over them (their values and units win)."""
    units = dict(getattr(kpis, "units", {}))
    units.update(shared.units)
    return Kpis({**dict(kpis), **dict(shared)}, units)
