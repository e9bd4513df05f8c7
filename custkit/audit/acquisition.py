"""Acquisition: new customers, their first-order value and later repeat rate, by channel and
region; bring-a-friend referral performance.

The repeat rate counts a second purchase within ``repeat_within_days`` of the first, only among
customers whose first purchase is at least that many days before the as-of date: younger
customers have not had the chance yet and would bias recent channels down.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custkit.audit._common import (
    attach_customer_attribute,
    check_int,
    check_period,
    money,
    pct,
)
from custkit.audit.categories import category_label
from custkit.data.periods import ReportPeriod
from custkit.data.reduce import OrderReductions
from custkit.errors import ParamsError
from custkit.findings import Finding
from custkit.i18n import _, n_

#: The rows of :func:`referral_performance` (codes; :func:`referral_group_label` names them).
REFERRAL_GROUPS = ("referred", "not_referred")


def _check_same_as_of(red: OrderReductions, period: ReportPeriod) -> None:
    check_period(red, period)
    if period.as_of != red.as_of:
        raise ParamsError(
            f"acquisition figures need order reductions made at the report's as-of date "
            f"({period.as_of:%Y-%m-%d}); these are as of {red.as_of:%Y-%m-%d}. Call "
            f"reduce_orders(orders, as_of='{period.as_of:%Y-%m-%d}')."
        )


def check_repeat_within_days(repeat_within_days: int) -> int:
    """*repeat_within_days* as :func:`acquisition_by` and :func:`referral_performance` take it
    (1 to 730), or :class:`ParamsError`."""
    return check_int("acquisition repeat_within_days", repeat_within_days, 1, 730)


def _repeat_flags(buyers: pd.DataFrame, as_of_end: pd.Timestamp, days: int) -> pd.DataFrame:
    first = buyers["first_order_date"]
    observed = first <= as_of_end - pd.Timedelta(days=days)
    repeated = buyers["second_order_date"].notna() & (
        buyers["second_order_date"] - first <= pd.Timedelta(days=days)
    )
    return pd.DataFrame({"observed": observed, "repeated": repeated & observed})


def acquisition_by(
    red: OrderReductions,
    period: ReportPeriod,
    customers: pd.DataFrame | None = None,
    by: str = "acquisition_channel",
    window_months: int = 12,
    repeat_within_days: int = 90,
) -> pd.DataFrame:
    """New customers of the last *window_months* months and their value, per group.

    Parameters
    ----------
    red : OrderReductions
        Reductions at ``period.as_of`` (the report's own reductions).
    period : ReportPeriod
        Report month; the window ends at its as-of date.
    customers : pandas.DataFrame, optional
        Canonical customers table; gives ``acquisition_channel`` and ``region``.
    by : {"acquisition_channel", "region"}
        Grouping. Without the customers table (or column) the first order's ``channel`` /
        ``delivery_region`` is used; without those, everything is ``"unknown"``.
    window_months : int, default 12
        Customers whose first purchase falls in this many months up to as-of are described.
    repeat_within_days : int, default 90
        Window for the repeat rate (see module docstring).

    Returns
    -------
    pandas.DataFrame
        One row per group, largest first: the group column, ``new_customers``,
        ``median_first_order_value``, ``mean_first_order_value``, ``customers_observed``
        (first purchase at least ``repeat_within_days`` before as-of), ``repeat_rate``
        (among those observed; NaN when none), ``revenue_per_customer`` (all purchases up to
        as-of).
    """
    _check_same_as_of(red, period)
    window_months = check_int("acquisition window_months", window_months, 1, 120)
    repeat_within_days = check_repeat_within_days(repeat_within_days)
    fallback = {"acquisition_channel": "first_order_channel", "region": "first_order_region"}
    if by not in fallback:
        raise ParamsError(
            f"acquisition 'by' must be one of {sorted(fallback)}. Got {by!r} instead."
        )
    buyers = red.customers
    since = period.end - pd.DateOffset(months=window_months)
    new = buyers.loc[buyers["first_order_date"] >= since]
    group = attach_customer_attribute(new, customers, by, fallback[by])
    flags = _repeat_flags(new, period.end, repeat_within_days)
    frame = pd.DataFrame(
        {
            by: group,
            "first_order_value": new["first_order_value"],
            "revenue": new["revenue"],
            "observed": flags["observed"],
            "repeated": flags["repeated"],
        }
    )
    grouped = frame.groupby(by, observed=True)
    out = pd.DataFrame(
        {
            "new_customers": grouped.size(),
            "median_first_order_value": grouped["first_order_value"].median(),
            "mean_first_order_value": grouped["first_order_value"].mean(),
            "customers_observed": grouped["observed"].sum(),
            "repeated": grouped["repeated"].sum(),
            "revenue_per_customer": grouped["revenue"].mean(),
        }
    )
    out["repeat_rate"] = out["repeated"] / out["customers_observed"].where(
        out["customers_observed"] > 0
    )
    out = out.drop(columns="repeated").reset_index()
    out[by] = out[by].astype(str)
    columns = [
        by,
        "new_customers",
        "median_first_order_value",
        "mean_first_order_value",
        "customers_observed",
        "repeat_rate",
        "revenue_per_customer",
    ]
    return out[columns].sort_values("new_customers", ascending=False, ignore_index=True)


def referral_performance(
    red: OrderReductions,
    period: ReportPeriod,
    customers: pd.DataFrame | None,
    repeat_within_days: int = 90,
) -> pd.DataFrame:
    """Referred customers vs the others, and how many customers brought a friend.

    Returns
    -------
    pandas.DataFrame
        Rows ``referred`` and ``not_referred`` with ``customers`` (buyers up to as-of),
        ``median_first_order_value``, ``repeat_rate`` (as in :func:`acquisition_by`),
        ``revenue_per_customer``; and ``referrers`` (distinct customers who referred at least
        one buyer; on the ``referred`` row only). Empty when there is no ``referrer_id``.
    """
    _check_same_as_of(red, period)
    columns = [
        "group",
        "customers",
        "median_first_order_value",
        "repeat_rate",
        "revenue_per_customer",
        "referrers",
    ]
    if customers is None or "referrer_id" not in customers.columns:
        return pd.DataFrame(columns=columns)
    repeat_within_days = check_repeat_within_days(repeat_within_days)
    buyers = red.customers
    referrer = buyers["customer_id"].map(
        customers.drop_duplicates("customer_id").set_index("customer_id")["referrer_id"]
    )
    referred = referrer.notna().to_numpy()
    flags = _repeat_flags(red.customers, period.end, repeat_within_days)
    rows = []
    for name, mask in zip(REFERRAL_GROUPS, (referred, ~referred), strict=True):
        part = buyers.loc[mask]
        observed = flags["observed"].to_numpy()[mask]
        repeated = flags["repeated"].to_numpy()[mask]
        rows.append(
            {
                "group": name,
                "customers": len(part),
                "median_first_order_value": part["first_order_value"].median(),
                "repeat_rate": repeated.sum() / observed.sum() if observed.sum() else np.nan,
                "revenue_per_customer": part["revenue"].mean() if len(part) else np.nan,
                "referrers": referrer.dropna().nunique() if name == "referred" else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def referral_group_label(group: str) -> str:
    """A row of :func:`referral_performance` in words, in the report language."""
    labels = {"referred": _("Brought by a friend"), "not_referred": _("Came on their own")}
    return labels.get(str(group), str(group))


def acquisition_finding(
    by_channel: pd.DataFrame, referral: pd.DataFrame | None = None, currency: str = ""
) -> Finding:
    """Name the channel bringing most new customers and the one whose customers come back most;
    referred customers' spend against the others' in *currency* (an ISO code, e.g. ``RUB``)."""
    title = _("Where customers come from")
    if by_channel.empty:
        return Finding(
            title,
            _("No new customers in the last 12 months."),
            _("Check that acquisition campaigns are running and that recent orders were loaded."),
            "bad",
        )
    label = by_channel.columns[0]
    top = by_channel.iloc[0]
    total = by_channel["new_customers"].sum()
    parts = [
        n_(
            "{n:,} new customer in the last 12 months; the largest source is '{source}' ({share})",
            "{n:,} new customers in the last 12 months; the largest source is '{source}' ({share})",
            int(total),
            source=category_label(top[label]),
            share=pct(top["new_customers"] / total),
        )
    ]
    rated = by_channel.dropna(subset=["repeat_rate"])
    rated = rated.loc[rated["customers_observed"] >= 30]
    action = _("Keep tracking where customers come from; too few have been observed to compare.")
    if len(rated) >= 2:
        best = rated.loc[rated["repeat_rate"].idxmax()]
        worst = rated.loc[rated["repeat_rate"].idxmin()]
        parts.append(
            _(
                "customers from '{best}' come back most often ({best_rate} buy again soon) and "
                "those from '{worst}' least ({worst_rate})",
                best=category_label(best[label]),
                best_rate=pct(best["repeat_rate"]),
                worst=category_label(worst[label]),
                worst_rate=pct(worst["repeat_rate"]),
            )
        )
        action = _(
            "Shift budget towards '{best}' and check why customers from '{worst}' rarely return.",
            best=category_label(best[label]),
            worst=category_label(worst[label]),
        )
    if referral is not None and len(referral) == 2 and referral["customers"].iloc[0] > 0:
        ref = referral.set_index("group")
        parts.append(
            _(
                "friends brought by customers spend {referred} each vs {others} for others",
                referred=money(ref.loc["referred", "revenue_per_customer"], currency),
                others=money(ref.loc["not_referred", "revenue_per_customer"], currency),
            )
        )
    return Finding(title, "; ".join(parts) + ".", action, "info")
