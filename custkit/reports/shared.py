"""The line each report shows about the figures it shares with the other reports.

The figures come from the customer-state table (:mod:`custkit.customers.figures`) and are
written by their unit (:func:`custkit.reports.display.format_kpi`), exactly as the index and the
consistency test write them; where two reports measure different things on purpose (the audit's
customers lost after a fixed number of days, the churn rule's churned customers by each
customer's own rhythm; the LTV value at risk and a year of the at-risk customers' revenue), the
line says how they relate, with both numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from custkit.findings import Finding
from custkit.i18n import _
from custkit.reports.display import format_kpi

__all__ = ["shared_figures_finding", "show_shared_figures"]


def _fmt(kpis: Mapping[str, Any], name: str, currency: str) -> str:
    from custkit.customers.figures import SHARED_FIGURES

    return format_kpi(kpis.get(name), SHARED_FIGURES[name], currency)


def shared_figures_finding(
    report: str,
    kpis: Mapping[str, Any],
    currency: str = "",
    lapse_days: int = 365,
    extra: Mapping[str, Any] | None = None,
) -> Finding:
    """The shared figures of *report* in one or two plain sentences.

    Parameters
    ----------
    report : {"audit", "churn", "ltv"}
    kpis : mapping
        :meth:`custkit.reports.context.ReportContext.shared_figures`.
    currency : str
    lapse_days : int
        The audit's days without a purchase after which a customer counts as lost.
    extra : mapping, optional
        The report's own figures the sentences compare with: ``active_customers_12m`` (audit),
        ``at_risk_value`` (churn: a year of the at-risk customers' revenue or margin).
    """
    extra = dict(extra or {})
    f = {name: _fmt(kpis, name, currency) for name in kpis}
    if report == "audit":
        text = _(
            "{active_base} customers are active by the churn rule (each customer's own buying "
            "rhythm); {active_12m} bought in the last 12 months. {churned} passed their own "
            "churn window this month (the churn report's churned customers), while {lost} "
            "reached {days} days without a purchase this month (this report's lost customers: "
            "one fixed gap for everyone).",
            active_base=f["active_base"],
            active_12m=format_kpi(extra.get("active_customers_12m"), "count"),
            churned=f["churned_customers"],
            lost=f["lost_customers"],
            days=lapse_days,
        )
    elif report == "churn":
        text = _(
            "{churned} customers churned this month by the churn rule and {active_base} remain "
            "active; {lost} reached {days} days without a purchase (the audit's lost customers: "
            "one fixed gap for everyone, not each customer's rhythm). {at_risk} are at risk. "
            "Value at risk, as in the LTV report: {var} (each customer's expected value × the "
            "chance they have stopped buying; on average a customer is {alive} likely to still "
            "be buying); the customers at risk bring {year} a year.",
            churned=f["churned_customers"],
            active_base=f["active_base"],
            lost=f["lost_customers"],
            days=lapse_days,
            at_risk=f["at_risk_customers"],
            var=f["value_at_risk"],
            alive=f["p_alive_mean"],
            year=format_kpi(extra.get("at_risk_value"), "money", currency),
        )
    else:
        text = _(
            "As in the churn report: {active_base} active customers, {at_risk} at risk, "
            "{churned} churned this month. The churned count as no longer buying here too "
            "(one-time buyers included), so on average a customer is {alive} likely to still "
            "be buying and {var} of value is at risk.",
            active_base=f["active_base"],
            at_risk=f["at_risk_customers"],
            churned=f["churned_customers"],
            alive=f["p_alive_mean"],
            var=f["value_at_risk"],
        )
    return Finding(
        _("The same figures in every report"),
        text,
        _(
            "Quote these figures when comparing reports: every report takes them from one "
            "customer-state table."
        ),
        "info",
    )


def show_shared_figures(ctx: Any, kpis: Mapping[str, Any], **extra: Any) -> None:
    """Show :func:`shared_figures_finding` of *ctx*'s report (``extra``: its own figures)."""
    from custkit.reports.display import show_finding

    currency = str(getattr(ctx.params, "currency", "") or "")
    lapse_days = int(ctx._memo.get("lapse_days", 365))
    show_finding(shared_figures_finding(ctx.report, kpis, currency, lapse_days, extra))
