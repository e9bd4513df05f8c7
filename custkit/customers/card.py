"""The customer card: one customer's row of the state table, importance first, for a screen.

What ``custkit customer ID --params FILE`` prints: importance tier, value, P(alive), status,
churn reason with its evidence, next action and channel, then the last orders. In the report
language (``custkit.i18n``). No contact data (e-mail, phone, name): the card is for an
operator's screen; contacts stay in the export files meant for action.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from custkit.errors import DataError
from custkit.i18n import N_, _, format_value

__all__ = ["customer_card", "find_customer"]

#: How many of the last orders a card lists.
LAST_ORDERS = 5
#: Order statuses as the demo and most English exports write them, translated on the card; a
#: store's own words (``Выполнен``) are shown as written.
ORDER_STATUS_WORDS = (N_("completed"), N_("cancelled"), N_("returned"))


def _id_text(values: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(values):  # ids read as floats: 1001.0 is "1001"
        return values.map(lambda v: format(v, ".0f") if np.isfinite(v) else "")
    return values.astype("string")


def find_customer(table: pd.DataFrame, customer_id: Any) -> pd.Series:
    """The row of *customer_id* in a state table (the id compared as written, e.g. ``"1001"``).

    Raises
    ------
    DataError
        When the id is not in the table: says how many customers the table has, and names no
        other id (ids may identify people).
    """
    wanted = str(customer_id).strip()
    at = np.flatnonzero((_id_text(table["customer_id"]) == wanted).fillna(False).to_numpy())
    if len(at) == 0:
        raise DataError(
            f"Customer {wanted!r} was not found among the {len(table):,} customers with a "
            f"purchase up to {table.attrs.get('as_of', 'as-of')}. How to fix: check the id as "
            "the orders file writes it, or choose a later --period if the first order is later."
        )
    return table.iloc[at[0]]


def _money(value: float, currency: str) -> str:
    if not np.isfinite(value):
        return "—"
    text = format_value(value, ",.0f")
    return f"{text} {currency}".rstrip()


def _last_orders(
    orders: pd.DataFrame | None, customer_id: Any, as_of: Any, n: int, currency: str
) -> list[str]:
    if orders is None or not len(orders):
        return []
    mine = orders.loc[orders["customer_id"] == customer_id]
    if as_of is not None:
        mine = mine.loc[mine["order_date"] < pd.Timestamp(as_of) + pd.Timedelta(days=1)]
    mine = mine.sort_values("order_date", ascending=False, kind="stable").head(n)
    lines = []
    for date, revenue, status in zip(
        mine["order_date"],
        mine["revenue"],
        mine["status"] if "status" in mine else [None] * len(mine),
        strict=True,
    ):
        status_text = "" if status is None or pd.isna(status) else _(str(status))
        amount = _money(float(revenue), currency)
        lines.append(f"  {date:%Y-%m-%d}  {amount}  {status_text}".rstrip())
    return lines


def customer_card(
    table: pd.DataFrame,
    customer_id: Any,
    orders: pd.DataFrame | None = None,
    currency: str = "",
    last_orders: int = LAST_ORDERS,
) -> str:
    """One customer's card as text, importance first (module docstring).

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`custkit.customers.customer_state`.
    customer_id
        The customer, as written in the orders file (``1001``, ``"C-00042"``).
    orders : pandas.DataFrame, optional
        Canonical orders: the card lists the customer's last *last_orders* up to as-of (date,
        amount, status).
    currency : str, default ""
    last_orders : int, default 5

    Returns
    -------
    str
        The card's lines in the report language.
    """
    from custkit.churn.codes import reason_label
    from custkit.churn.winback import channel_label
    from custkit.customers.state import STATUS_LABELS
    from custkit.ltv.clv import tier_label

    row = find_customer(table, customer_id)
    months = table.attrs.get("horizon_months", 12)
    lines = [_("Customer {customer_id}", customer_id=str(customer_id).strip())]
    tier = row.get("tier")
    lines.append(_("Importance: {tier}", tier="—" if pd.isna(tier) else tier_label(tier)))
    basis = table.attrs.get("value_basis")
    value = _money(float(row["value"]), currency)
    if basis == "margin":
        lines.append(_("Value, margin over {months} months: {value}", months=months, value=value))
    else:
        lines.append(_("Value, revenue over {months} months: {value}", months=months, value=value))
    if np.isfinite(row["p_alive"]):
        p_text = format_value(float(row["p_alive"]), ".0%")
        if row["p_alive_source"] == "churn_rule":
            p_text = _("{p_alive} (churned by the churn rule)", p_alive=p_text)
        lines.append(_("Chance of still buying: {p_alive}", p_alive=p_text))
    lines.append(_("Status: {status}", status=_(STATUS_LABELS[str(row["status"])])))
    if pd.notna(row["churn_reason"]):
        evidence = row["reason_evidence"]
        reason = reason_label(str(row["churn_reason"]))
        if pd.notna(evidence) and str(evidence):
            lines.append(_("Reason: {reason} ({evidence})", reason=reason, evidence=evidence))
        else:
            lines.append(_("Reason: {reason}", reason=reason))
    if pd.notna(row["next_action"]):
        action = row["next_action_text"] if pd.notna(row["next_action_text"]) else ""
        action = str(action).rstrip(".")  # the plan's sentence, continued by the channel
        channel = row["contact_channel"]
        if pd.notna(channel) and str(channel):
            lines.append(
                _(
                    "Next action: {action}, by {channel}",
                    action=action,
                    channel=channel_label(channel),
                )
            )
        else:
            lines.append(_("Next action: {action}, no consented channel", action=action))
        held_back = pd.notna(row["contact"]) and not bool(row["contact"])
        if held_back and pd.notna(row["skip_reason"]):
            lines.append(_("Not contacted now: {why}", why=_(str(row["skip_reason"]))))
    if np.isfinite(row["expected_orders_12m"]):
        lines.append(
            _(
                "Expected orders in {months} months: {orders}",
                months=months,
                orders=format_value(float(row["expected_orders_12m"]), ".1f"),
            )
        )
    if pd.notna(row["messages_in_cap_window"]):
        key = "frequency_cap_ok"
        state = _("room for a message") if bool(row[key]) else _("frequency cap reached")
        lines.append(
            _(
                "Messages in the cap window: {n} ({state})",
                n=int(row["messages_in_cap_window"]),
                state=state,
            )
        )
    as_of = table.attrs.get("as_of")
    listed = _last_orders(orders, row["customer_id"], as_of, last_orders, currency)
    lines.append(_("Last orders (date, amount, status):"))
    lines.extend(listed or [_("  none")])
    return "\n".join(lines)
