"""The audit's actions for the monthly summary (:mod:`custkit.reports.actions`): the
reactivation list, with what its customers spent a year while they bought."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from custkit.data.reduce import OrderReductions
from custkit.findings import Action
from custkit.i18n import _, n_

#: Shortest span a yearly spend is taken over: a customer who bought for two months is not
#: counted as spending six times that a year.
_MIN_SPAN_DAYS = 365


def yearly_spend(red: OrderReductions, customer_ids: pd.Series) -> np.ndarray:
    """What each customer spent a year while they bought: revenue over the span from their first
    to their last purchase, the span counted as at least a year."""
    table = red.customers.set_index("customer_id")
    pos = table.index.get_indexer(customer_ids)
    known = pos >= 0
    revenue = np.zeros(len(pos))
    span = np.full(len(pos), float(_MIN_SPAN_DAYS))
    revenue[known] = table["revenue"].to_numpy(dtype=float)[pos[known]]
    days = (
        table["last_order_date"].to_numpy()[pos[known]]
        - table["first_order_date"].to_numpy()[pos[known]]
    ) / np.timedelta64(1, "D")
    span[known] = np.maximum(days.astype(float) + 1, _MIN_SPAN_DAYS)
    return revenue / span * 365


def list_actions(
    lists: Mapping[str, pd.DataFrame],
    red: OrderReductions,
    min_days: int = 180,
    max_days: int = 730,
) -> list[Action]:
    """The audit's actions: the reactivation list (when made and not empty), worth what its
    customers spent a year while they bought (:func:`yearly_spend`).

    Parameters
    ----------
    lists : mapping of str to DataFrame
        The lists the report exported, by export name (``reactivation_list`` is read).
    red : OrderReductions
    min_days, max_days : int
        The reactivation window the list was made with.
    """
    table = lists.get("reactivation_list")
    if table is None or table.empty:
        return []
    value = float(yearly_spend(red, table["customer_id"]).sum())
    customers = len(table)
    line = n_(
        "{n:,} customer who last bought {low}–{high} days ago and may be contacted; while "
        "buying, they spent about this much a year: the most winning them back can bring.",
        "{n:,} customers who last bought {low}–{high} days ago and may be contacted; while "
        "buying, they spent about this much a year: the most winning them back can bring.",
        customers,
        low=min_days,
        high=max_days,
    )
    return [
        Action(
            _("Reactivate customers who went quiet"),
            line,
            value,
            export="reactivation_list",
            customers=customers,
        )
    ]
