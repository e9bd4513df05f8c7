"""Retention: monthly cohorts (customers grouped by the month of their first purchase) and the
time to the second purchase."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from custkit.audit._common import (
    check_increasing,
    check_int,
    check_period,
    customer_positions,
    month_ordinal,
    num,
    pct,
)
from custkit.data.periods import ReportPeriod
from custkit.data.reduce import OrderReductions
from custkit.findings import Finding
from custkit.i18n import _, n_


@dataclass(frozen=True)
class CohortRetention:
    """Monthly cohort tables.

    Attributes
    ----------
    size : pandas.Series
        Customers per cohort; index ``cohort`` (``period[M]``, month of first purchase).
    share : pandas.DataFrame
        Share of the cohort buying in month *k* after the first (column ``k``; ``k = 0`` is the
        first month and is 1.0). NaN where month *k* is after the report month.
    revenue_per_customer : pandas.DataFrame
        Revenue in month *k* divided by the cohort size, same layout.
    """

    size: pd.Series
    share: pd.DataFrame
    revenue_per_customer: pd.DataFrame


def cohort_retention(
    red: OrderReductions, period: ReportPeriod, cohorts: int = 12, months: int = 12
) -> CohortRetention:
    """Retention of the *cohorts* monthly cohorts ending with *period*, over *months* months.

    Parameters
    ----------
    red : OrderReductions
        Reductions up to at least ``period.as_of``.
    period : ReportPeriod
        The last cohort is this month's new customers.
    cohorts : int, default 12
        Number of cohorts (rows).
    months : int, default 12
        Months after the first purchase shown (columns ``0 .. months``).
    """
    check_period(red, period)
    cohorts = check_int("cohorts cohorts", cohorts, 1, 120)
    months = check_int("cohorts months", months, 1, 120)
    m = month_ordinal(period)
    c0 = m - cohorts + 1
    cm = red.customer_months
    month = cm["month"].array.asi8
    first_month = (
        red.customers["first_order_date"].to_numpy().astype("datetime64[M]").astype(np.int64)
    )
    cohort = first_month[customer_positions(red)]
    k = month - cohort
    row = cohort - c0
    keep = (row >= 0) & (row < cohorts) & (k <= months) & (month <= m)
    cell = row[keep] * (months + 1) + k[keep]
    n_cells = cohorts * (months + 1)
    buyers = np.bincount(cell, minlength=n_cells).reshape(cohorts, months + 1)
    revenue = np.bincount(cell, weights=cm["revenue"].to_numpy()[keep], minlength=n_cells)
    revenue = revenue.reshape(cohorts, months + 1)
    size_rows = first_month - c0
    size = np.bincount(
        size_rows[(size_rows >= 0) & (size_rows < cohorts)], minlength=cohorts
    ).astype(np.int64)
    # cell (cohort i, k) is observed when cohort month + k <= report month
    observed = (np.arange(cohorts)[:, None] + np.arange(months + 1)[None, :]) <= cohorts - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(observed & (size[:, None] > 0), buyers / size[:, None], np.nan)
        rpc = np.where(observed & (size[:, None] > 0), revenue / size[:, None], np.nan)
    index = pd.period_range(end=period.period, periods=cohorts, freq="M", name="cohort")
    columns = pd.RangeIndex(months + 1, name="months_since_first_order")
    return CohortRetention(
        size=pd.Series(size, index=index, name="customers"),
        share=pd.DataFrame(share, index=index, columns=columns),
        revenue_per_customer=pd.DataFrame(rpc, index=index, columns=columns),
    )


def time_to_second_order(
    red: OrderReductions, period: ReportPeriod, band_days: Sequence[int] = (30, 90, 180, 365)
) -> pd.DataFrame:
    """How long customers took to place a second order, up to ``period.as_of``.

    Parameters
    ----------
    band_days : sequence of int, default (30, 90, 180, 365)
        Band edges in days: 0–30, 31–90, 91–180, 181–365, more than 365 days; plus a band
        ``no second order yet``.

    Returns
    -------
    pandas.DataFrame
        ``band`` (in the report language), ``customers``, ``share`` (of all buyers up to
        as-of).
    """
    check_period(red, period)
    edges = check_increasing("cohorts band_days", band_days, "[30, 90, 180, 365]")
    buyers = red.customers.loc[red.customers["first_order_date"] < period.end]
    second = buyers["second_order_date"].where(buyers["second_order_date"] < period.end)
    days = ((second - buyers["first_order_date"]) / pd.Timedelta(days=1)).to_numpy()
    has = np.isfinite(days)
    band = np.searchsorted(np.array(edges, dtype=float), days[has], side="left")
    bounds = (0, *edges)
    labels = [
        n_("{low}–{n} day", "{low}–{n} days", b, low=a) for a, b in itertools.pairwise(bounds)
    ]
    labels += [
        n_("more than {n} day", "more than {n} days", edges[-1]),
        _("no second order yet"),
    ]
    counts = np.r_[np.bincount(band, minlength=len(edges) + 1), (~has).sum()]
    total = counts.sum()
    return pd.DataFrame(
        {
            "band": pd.Categorical(labels, categories=labels, ordered=True),
            "customers": counts.astype(np.int64),
            "share": counts / total if total else np.full(len(counts), np.nan),
        }
    )


def retention_finding(retention: CohortRetention, to_second: pd.DataFrame) -> Finding:
    """Month-1 and month-3 retention of recent cohorts, and how many never came back."""
    title = _("Do new customers come back?")
    size = retention.size
    share = retention.share
    weights = size.to_numpy(dtype=float)

    def weighted(k: int) -> float:
        if k not in share.columns:
            return float("nan")
        col = share[k].to_numpy()
        ok = np.isfinite(col) & (weights > 0)
        return float(np.average(col[ok], weights=weights[ok])) if ok.any() else float("nan")

    m1, m3 = weighted(1), weighted(3)
    never = to_second.set_index("band")["share"].iloc[-1] if len(to_second) else float("nan")
    if not np.isfinite(m1):
        return Finding(
            title,
            _(
                "Not enough months yet to follow new customers; {never} of all customers have "
                "bought only once.",
                never=pct(never),
            ),
            _("Come back to this section when at least two months of new customers are available."),
            "info",
        )
    fields = {
        "month_1": pct(m1, 1),
        "never": pct(never),
        "customers": num(to_second["customers"].sum()),
    }
    if np.isfinite(m3):
        conclusion = _(
            "On average {month_1} of new customers buy again in the month after their first "
            "purchase and {month_3} in the third month; {never} of all {customers} customers "
            "have bought only once.",
            month_3=pct(m3, 1),
            **fields,
        )
    else:
        conclusion = _(
            "On average {month_1} of new customers buy again in the month after their first "
            "purchase; {never} of all {customers} customers have bought only once.",
            **fields,
        )
    return Finding(
        title,
        conclusion,
        _(
            "Plan a follow-up for every new customer in the first month after the first "
            "purchase: that is when a second order is most likely."
        ),
        "warning" if never > 0.6 else "info",
    )
