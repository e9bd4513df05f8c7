"""The churn report's action for the monthly summary (:mod:`custkit.reports.actions`): the
win-back contacts, worth the plan's expected value net of what its incentives and messages
cost, so a plan that loses money ranks below actions that earn."""

from __future__ import annotations

from custkit.churn.winback import CONTACTS_EXPORT, WinbackPlan
from custkit.findings import Action
from custkit.i18n import _, n_


def winback_action(plan: WinbackPlan) -> list[Action]:
    """The win-back plan as an action: the expected value back minus the incentives (all used)
    and messages; none when the plan contacts nobody."""
    if not plan.contacted:
        return []
    cost = plan.total_incentive + plan.message_cost
    line = n_(
        "{n:,} customer to contact; expected back {value:,.0f} for {cost:,.0f} of incentives "
        "and messages.",
        "{n:,} customers to contact; expected back {value:,.0f} for {cost:,.0f} of incentives "
        "and messages.",
        plan.contacted,
        value=plan.expected_revenue_won,
        cost=cost,
    )
    if plan.balance == "loses_money":
        line += " " + _("At these incentives the plan loses money: offer smaller ones.")
    elif plan.balance == "break_even":
        line += " " + _("That is about break-even.")
    return [
        Action(
            _("Win back customers who stopped buying"),
            line,
            plan.expected_revenue_won - cost,
            export=CONTACTS_EXPORT,
            customers=plan.contacted,
        )
    ]
