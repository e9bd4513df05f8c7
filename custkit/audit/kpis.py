"""Headline KPIs of a report month and their change vs the previous month and a year earlier.

Every KPI is computed from the order reductions (:mod:`custkit.data.reduce`), so the comparison
months cost no extra pass over the raw orders.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custkit.audit._common import (
    check_period,
    customer_positions,
    money,
    month_ordinal,
    pct,
)
from custkit.data.periods import ReportPeriod
from custkit.data.reduce import OrderReductions
from custkit.findings import Finding
from custkit.i18n import _, n_
from custkit.units import Kpis

#: KPI name -> (label for managers, unit). Units: ``count``, ``money`` or ``share`` (0..1).
#: The labels are written in English and translated when :func:`kpi_comparison` is called.
KPI_DEFINITIONS: dict[str, tuple[str, str]] = {
    "customers": ("Customers who bought this month", "count"),
    "orders": ("Orders", "count"),
    "revenue": ("Revenue", "money"),
    "average_order_value": ("Average order value", "money"),
    "repeat_customer_rate": ("Share of this month's buyers who bought more than once", "share"),
    "new_customers": ("New customers (first purchase this month)", "count"),
    "active_customers_12m": ("Customers who bought in the last 12 months", "count"),
    "annual_churn_rate": ("Customers lost in a year", "share"),
}
#: The unit of each KPI of :func:`headline_kpis` (see :mod:`custkit.units`).
KPI_UNITS = {name: unit for name, (_label, unit) in KPI_DEFINITIONS.items()}


def _distinct_in_window(red: OrderReductions, first_month: int, last_month: int) -> np.ndarray:
    """Sorted customer rows (positions in ``red.customers``) with a purchase in the months."""
    months = red.customer_months["month"].array.asi8
    keep = (months >= first_month) & (months <= last_month)
    pos = customer_positions(red)[keep]
    if len(pos) == 0:
        return pos
    return pos[np.r_[True, pos[1:] != pos[:-1]]]


def headline_kpis(red: OrderReductions, period: ReportPeriod) -> Kpis:
    """Compute the headline KPIs of one report month.

    Parameters
    ----------
    red : OrderReductions
        Purchases reduced up to an as-of date on or after ``period.as_of``.
    period : ReportPeriod
        The month to describe.

    Returns
    -------
    Kpis
        A dict of str to float with the units of :data:`KPI_UNITS`; keys in
        :data:`KPI_DEFINITIONS` order:

        - ``customers``: distinct customers with a purchase in the month;
        - ``orders``, ``revenue``: purchases in the month and their amount;
        - ``average_order_value``: revenue / orders;
        - ``repeat_customer_rate``: of the month's buyers, the share with at least two purchases
          in total up to ``period.as_of`` (this month's and earlier ones);
        - ``new_customers``: customers whose first purchase falls in the month;
        - ``active_customers_12m``: customers with a purchase in the 12 months ending at
          ``period.as_of``;
        - ``annual_churn_rate``: of the customers with a purchase in the 12 months ending a year
          before ``period.as_of``, the share with no purchase in the 12 months ending at it.

        A KPI is NaN when the data does not reach back far enough to compute it (the month, or
        the 12 / 24 months it needs, start before the first purchase in the data).
    """
    check_period(red, period)
    m = month_ordinal(period)
    first_month = red.first_month
    nan = float("nan")
    kpis = Kpis(dict.fromkeys(KPI_DEFINITIONS, nan), KPI_UNITS)
    if first_month is None or m < first_month:
        return kpis
    cm = red.customer_months
    months = cm["month"].array.asi8
    in_month = months == m
    orders = float(cm["orders"].to_numpy()[in_month].sum())
    revenue = float(cm["revenue"].to_numpy()[in_month].sum())
    buyers = int(in_month.sum())
    first_dates = red.customers["first_order_date"].to_numpy()
    pos = customer_positions(red)[in_month]
    start = np.datetime64(period.start.as_unit("ns").to_datetime64())
    end = np.datetime64(period.end.as_unit("ns").to_datetime64())
    repeat = (cm["orders"].to_numpy()[in_month] >= 2) | (first_dates[pos] < start)
    kpis.update(
        customers=float(buyers),
        orders=orders,
        revenue=revenue,
        average_order_value=revenue / orders if orders else nan,
        repeat_customer_rate=float(repeat.mean()) if buyers else nan,
        new_customers=float(((first_dates >= start) & (first_dates < end)).sum()),
    )
    if m - 11 >= first_month:
        kpis["active_customers_12m"] = float(len(_distinct_in_window(red, m - 11, m)))
    if m - 23 >= first_month:
        earlier = _distinct_in_window(red, m - 23, m - 12)
        recent = _distinct_in_window(red, m - 11, m)
        if len(earlier):
            kept = np.isin(earlier, recent, assume_unique=True).sum()
            kpis["annual_churn_rate"] = 1.0 - kept / len(earlier)
    return kpis


def _change(unit: str, value: float, base: float) -> float:
    if not (np.isfinite(value) and np.isfinite(base)):
        return float("nan")
    if unit == "share":
        return value - base
    return (value - base) / base if base else float("nan")


def kpi_comparison(red: OrderReductions, period: ReportPeriod) -> pd.DataFrame:
    """Headline KPIs of *period* next to the previous month and the same month last year.

    Returns
    -------
    pandas.DataFrame
        One row per KPI with columns ``kpi, label, value, previous_month,
        change_vs_previous_month, same_month_last_year, change_vs_last_year, unit``; the label
        is in the report language.
        For ``count`` and ``money`` KPIs a change is relative (``0.1`` = +10%); for ``share``
        KPIs it is the difference in shares (``0.02`` = +2 percentage points). NaN when the
        comparison month cannot be computed.
    """
    now = headline_kpis(red, period)
    before = headline_kpis(red, period.previous_month)
    year_ago = headline_kpis(red, period.same_month_last_year)
    rows = []
    for kpi, (label, unit) in KPI_DEFINITIONS.items():
        rows.append(
            {
                "kpi": kpi,
                "label": _(label),
                "value": now[kpi],
                "previous_month": before[kpi],
                "change_vs_previous_month": _change(unit, now[kpi], before[kpi]),
                "same_month_last_year": year_ago[kpi],
                "change_vs_last_year": _change(unit, now[kpi], year_ago[kpi]),
                "unit": unit,
            }
        )
    return pd.DataFrame(rows)


def kpi_trend(red: OrderReductions, period: ReportPeriod, months: int = 13) -> pd.DataFrame:
    """Customers, orders and revenue per month for the *months* months ending with *period*.

    Returns
    -------
    pandas.DataFrame
        ``month`` (``period[M]``), ``customers``, ``orders``, ``revenue``; months without
        purchases show zeros.
    """
    check_period(red, period)
    m = month_ordinal(period)
    cm = red.customer_months
    offset = cm["month"].array.asi8 - (m - months + 1)
    keep = (offset >= 0) & (offset < months)
    offset = offset[keep]
    return pd.DataFrame(
        {
            "month": pd.period_range(end=period.period, periods=months, freq="M"),
            "customers": np.bincount(offset, minlength=months),
            "orders": np.bincount(
                offset, weights=cm["orders"].to_numpy()[keep], minlength=months
            ).astype(np.int64),
            "revenue": np.bincount(
                offset, weights=cm["revenue"].to_numpy()[keep], minlength=months
            ),
        }
    )


#: A change of revenue within this share either way reads as "about the same" in the headline.
FLAT_CHANGE = 0.05
#: Fewer buyers in the month than this: the headline says its changes are rough.
THIN_BUYERS = 100


def _change_clause(change: float, previous_month: bool) -> str:
    """``revenue is down 41% on the previous month`` / ``… on a year ago``."""
    size = pct(abs(change))
    if previous_month:
        if change >= 0:
            return _("revenue is up {change} on the previous month", change=size)
        return _("revenue is down {change} on the previous month", change=size)
    if change >= 0:
        return _("revenue is up {change} on a year ago", change=size)
    return _("revenue is down {change} on a year ago", change=size)


def _verdict(mom: float, yoy: float) -> tuple[str, str]:
    """What to do and the level, from the month-on-month and the year-on-year change together.

    A month can look fine against last year and still have fallen sharply against the month
    before (issue 15: revenue −41% on the previous month read "Keep the current plan", because
    only the yearly change was read), or the reverse; either drop is named.
    """
    down_m, down_y = mom < -FLAT_CHANGE, yoy < -FLAT_CHANGE  # False for NaN
    up_m, up_y = mom > FLAT_CHANGE, yoy > FLAT_CHANGE
    if down_m and down_y:
        return (
            _(
                "Look at the sections below to see whether fewer new customers or fewer "
                "returning customers caused the drop."
            ),
            "warning",
        )
    if down_m:
        return (
            _(
                "Do not read the month as on plan: find out why revenue fell on the previous "
                "month (the season, fewer new customers or fewer returning ones; see the trend "
                "chart and the sections below) before deciding what to change."
            ),
            "warning",
        )
    if down_y:
        return (
            _(
                "Revenue is below the same month last year: look at the sections below to see "
                "whether fewer new customers or fewer returning customers caused the drop."
            ),
            "warning",
        )
    return (
        _("Keep the current plan; the sections below show where growth can come from."),
        "good" if up_m or up_y else "info",
    )


def kpi_finding(comparison: pd.DataFrame, currency: str = "") -> Finding:
    """The page's answer in one sentence, from :func:`kpi_comparison`: buyers and revenue of the
    month (in *currency*, an ISO code such as ``RUB``, when given), revenue's change on the
    previous month *and* on the same month last year, and what the data cannot tell (no
    earlier month, no previous year, few buyers).

    The verdict weighs both changes (:func:`_verdict`): a sharp drop on either is a warning, so
    a good year-on-year figure never hides a bad month.
    """
    title = _("The month in brief")
    row = comparison.set_index("kpi")
    customers, revenue = row.loc["customers"], row.loc["revenue"]
    if not np.isfinite(customers["value"]):
        return Finding(
            title,
            _("There are no purchases in this month or before it in the data."),
            _("Check that the report month and the order export cover the same dates."),
            "warning",
        )
    buyers = int(customers["value"])
    parts = [
        n_(
            "{n:,} customer bought for {revenue} in total",
            "{n:,} customers bought for {revenue} in total",
            buyers,
            revenue=money(revenue["value"], currency),
        )
    ]
    mom = float(revenue["change_vs_previous_month"])
    yoy = float(revenue["change_vs_last_year"])
    if np.isfinite(mom):
        parts.append(_change_clause(mom, previous_month=True))
    if np.isfinite(yoy):
        parts.append(_change_clause(yoy, previous_month=False))
    if not (np.isfinite(mom) or np.isfinite(yoy)):
        parts.append(_("there is no earlier month to compare with"))
    conclusion = "; ".join(parts) + "."
    cannot_tell = []
    if np.isfinite(mom) and not np.isfinite(yoy):
        cannot_tell.append(
            _(
                "The data does not reach back to the same month last year, so whether the "
                "change is the usual season cannot be told."
            )
        )
    if buyers < THIN_BUYERS:
        cannot_tell.append(
            n_(
                "With only {n:,} buyer this month, a few customers more or fewer move these "
                "figures a lot: read the changes as rough.",
                "With only {n:,} buyers this month, a few customers more or fewer move these "
                "figures a lot: read the changes as rough.",
                buyers,
            )
        )
    if not np.isfinite(row.loc["annual_churn_rate", "value"]):
        cannot_tell.append(
            _("The data covers less than two years, so yearly loss of customers is not shown.")
        )
    conclusion = " ".join([conclusion, *cannot_tell])
    action, level = _verdict(mom, yoy)
    if buyers < THIN_BUYERS and level == "good":
        level = "info"
    return Finding(title, conclusion, action, level)
