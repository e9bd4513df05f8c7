"""The LTV report's action for the monthly summary (:mod:`custkit.reports.actions`): the
value-at-risk list, worth the value at risk of the customers on it."""

from __future__ import annotations

import pandas as pd

from custkit.findings import Action
from custkit.i18n import _, n_


def value_at_risk_action(at_risk: pd.DataFrame) -> list[Action]:
    """The value-at-risk list (:func:`custkit.ltv.value_at_risk_list`) as an action worth the
    sum of its customers' ``value_at_risk``; none for an empty list."""
    if at_risk.empty:
        return []
    customers = len(at_risk)
    line = n_(
        "{n:,} valuable customer whose chance of buying again is falling: contact them before "
        "offering discounts to anyone else.",
        "{n:,} valuable customers whose chance of buying again is falling: contact them before "
        "offering discounts to anyone else.",
        customers,
    )
    return [
        Action(
            _("Keep valuable customers at risk"),
            line,
            float(at_risk["value_at_risk"].sum()),
            export="value_at_risk",
            customers=customers,
        )
    ]
