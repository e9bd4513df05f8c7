"""Conversion funnel: registered → first order → second order → third order.

With a customers table the funnel follows the registered customers (registered up to as-of when
``registered_at`` is given); buyers missing from that table are left out. Without it the funnel
starts at the first order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custkit.audit._common import check_period, pct
from custkit.data.periods import ReportPeriod
from custkit.data.reduce import OrderReductions
from custkit.findings import Finding
from custkit.i18n import _, n_

#: The funnel's steps, in order (codes; :func:`step_label` names them).
STEPS = ("registered", "first_order", "second_order", "third_order")


def _median_days(later: pd.Series, earlier: pd.Series) -> float:
    days = (later - earlier) / pd.Timedelta(days=1)
    days = days[days >= 0]
    return float(days.median()) if len(days) else float("nan")


def conversion_funnel(
    red: OrderReductions, period: ReportPeriod, customers: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Count customers reaching each step up to ``period.as_of``.

    Returns
    -------
    pandas.DataFrame
        One row per step (``registered`` only with a customers table): ``step``, ``customers``,
        ``rate_from_previous`` (share of the previous step reaching this one),
        ``rate_from_start`` and ``median_days_from_previous`` (median days between the previous
        step and this one, among customers reaching it; registration dates after the first order
        are ignored).
    """
    check_period(red, period)
    end = period.end
    buyers = red.customers.loc[red.customers["first_order_date"] < end]
    first = buyers["first_order_date"]
    second = buyers["second_order_date"].where(buyers["second_order_date"] < end)
    third = buyers["third_order_date"].where(buyers["third_order_date"] < end)
    steps: list[tuple[str, int, float]] = []
    if customers is not None:
        registered = customers.drop_duplicates("customer_id")
        if "registered_at" in registered.columns:
            registered = registered.loc[
                registered["registered_at"].isna() | (registered["registered_at"] < end)
            ]
        in_base = buyers["customer_id"].isin(registered["customer_id"]).to_numpy()
        first, second, third = first[in_base], second[in_base], third[in_base]
        reg_dates = None
        if "registered_at" in registered.columns:
            reg_dates = buyers.loc[in_base, "customer_id"].map(
                registered.set_index("customer_id")["registered_at"]
            )
        steps.append(("registered", len(registered), float("nan")))
        steps.append(
            (
                "first_order",
                len(first),
                _median_days(first, reg_dates) if reg_dates is not None else float("nan"),
            )
        )
    else:
        steps.append(("first_order", len(first), float("nan")))
    has_second = second.notna()
    has_third = third.notna()
    steps.append(("second_order", int(has_second.sum()), _median_days(second, first)))
    steps.append(("third_order", int(has_third.sum()), _median_days(third, second)))
    counts = np.array([s[1] for s in steps], dtype=float)
    previous = np.r_[np.nan, counts[:-1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_prev = np.where(previous > 0, counts / previous, np.nan)
        rate_start = counts / counts[0] if counts[0] else np.full(len(counts), np.nan)
    return pd.DataFrame(
        {
            "step": [s[0] for s in steps],
            "customers": counts.astype(np.int64),
            "rate_from_previous": rate_prev,
            "rate_from_start": rate_start,
            "median_days_from_previous": [s[2] for s in steps],
        }
    )


def step_label(step: str) -> str:
    """A funnel step's name in the report language (``first_order`` → ``First order``)."""
    labels = {
        "registered": _("Registered"),
        "first_order": _("First order"),
        "second_order": _("Second order"),
        "third_order": _("Third order"),
    }
    return labels.get(step, step)


def funnel_finding(funnel: pd.DataFrame) -> Finding:
    """Name the weakest step of the funnel in plain words."""
    title = _("From registration to repeat purchases")
    steps = funnel.set_index("step")
    rated = steps["rate_from_previous"].dropna()
    if rated.empty:
        return Finding(
            title,
            _("There are no purchases to follow yet."),
            _("Check the order data."),
            "warning",
        )

    def reached(step: str) -> str:
        share = pct(rated[step])
        if step == "first_order":
            return _("{share} of registered customers who placed a first order", share=share)
        if step == "second_order":
            return _("{share} of first-time buyers who came back for a second order", share=share)
        return _("{share} of second-time buyers who placed a third order", share=share)

    weakest = rated.idxmin()
    conclusion = _("Of the customers, {steps}.", steps=", ".join(reached(s) for s in rated.index))
    days = steps.loc["second_order", "median_days_from_previous"]
    if np.isfinite(days):
        conclusion += " " + n_(
            "A second order typically comes {n:,} day after the first.",
            "A second order typically comes {n:,} days after the first.",
            round(days),
        )
    actions = {
        "first_order": _("Send a welcome offer to customers who registered but never ordered."),
        "second_order": _(
            "Follow up every first order with a reason to come back (a thank-you coupon or a "
            "reminder) before the usual gap to the second order."
        ),
        "third_order": _(
            "Reward the third order (a loyalty bonus) to turn repeat buyers into regular ones."
        ),
    }
    return Finding(
        title, conclusion, actions[weakest], "warning" if rated[weakest] < 0.3 else "info"
    )
