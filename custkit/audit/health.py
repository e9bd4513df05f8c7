"""Base health: yearly loss of customers vs the norm, monthly turnover, and lapsed customers.

Definitions
-----------
A customer **lapses** (is *lost*) when ``lapse_days`` pass after a purchase with no further
purchase; they count as lost in the calendar month in which that day falls. A lost customer who
buys again counts as **returned** in the month of that purchase. **Gained** customers are those
whose first purchase falls in the month.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from custkit.audit._common import (
    check_increasing,
    check_int,
    check_period,
    check_share,
    customer_positions,
    customers_at,
    month_ordinal,
    num,
    pct,
)
from custkit.data.periods import ReportPeriod
from custkit.data.reduce import OrderReductions
from custkit.findings import Finding
from custkit.i18n import _, n_

#: Yearly share of customers a store typically loses (source articles: "up to ~20% per year").
ANNUAL_CHURN_NORM = 0.20

_DAY = np.timedelta64(1, "D")


def check_lapse_days(lapse_days: int) -> int:
    """*lapse_days* as :func:`base_turnover` takes it (31 to 3650), or :class:`ParamsError`."""
    return check_int("health lapse_days", lapse_days, 31, 3650)


def check_norm(norm: float) -> float:
    """*norm* as :func:`health_finding` takes it (a yearly share in (0, 1)), or ParamsError."""
    return check_share("health norm", norm)


def base_turnover(
    red: OrderReductions, period: ReportPeriod, months: int = 13, lapse_days: int = 365
) -> pd.DataFrame:
    """Customers gained, returned and lost per month, for the *months* months ending at *period*.

    Parameters
    ----------
    red : OrderReductions
        Order reductions up to at least ``period.as_of``.
    period : ReportPeriod
        Last month shown.
    months : int, default 13
        Number of months shown.
    lapse_days : int, default 365
        Days without a purchase after which a customer counts as lost (31 to 3650).

    Returns
    -------
    pandas.DataFrame
        ``month`` (``period[M]``), ``gained``, ``returned``, ``lost``, ``net_change``
        (= gained + returned − lost).
    """
    check_period(red, period)
    months = check_int("health months", months, 1, 240)
    lapse_days = check_lapse_days(lapse_days)
    m0 = month_ordinal(period) - months + 1
    end = np.datetime64(period.end.as_unit("ns").to_datetime64())
    cm = red.customer_months
    pos = customer_positions(red)
    last = cm["last_order_date"].to_numpy()
    first = cm["first_order_date"].to_numpy()
    same_next = np.r_[pos[1:] == pos[:-1], False]
    next_first = np.r_[first[1:], np.datetime64("NaT", "ns")]
    lapse_at = last + lapse_days * _DAY
    # Lost: the lapse day comes before the next purchase (or there is none) and by period end.
    lost = (~same_next | (next_first > lapse_at)) & (lapse_at < end)
    returned = np.r_[False, same_next[:-1] & lost[:-1]] if len(cm) else np.zeros(0, bool)

    def per_month(dates: np.ndarray) -> np.ndarray:
        ordinals = dates.astype("datetime64[M]").astype(np.int64) - m0
        ordinals = ordinals[(ordinals >= 0) & (ordinals < months)]
        return np.bincount(ordinals, minlength=months)

    first_dates = red.customers["first_order_date"].to_numpy()
    gained = per_month(first_dates[first_dates < end])
    returned_n = per_month(first[returned])
    lost_n = per_month(lapse_at[lost])
    return pd.DataFrame(
        {
            "month": pd.period_range(end=period.period, periods=months, freq="M"),
            "gained": gained,
            "returned": returned_n,
            "lost": lost_n,
            "net_change": gained + returned_n - lost_n,
        }
    )


def lapsed_bands(
    red: OrderReductions, period: ReportPeriod, band_months: Sequence[int] = (3, 6, 12, 24)
) -> pd.DataFrame:
    """Customers by time since their last purchase at ``period.as_of``.

    Parameters
    ----------
    band_months : sequence of int, default (3, 6, 12, 24)
        Band edges in calendar months: the default gives 0–3, 3–6, 6–12, 12–24 and 24+ months.

    Returns
    -------
    pandas.DataFrame
        ``band`` (e.g. ``"3–6 months"``, in the report language), ``customers``,
        ``customer_share``, ``revenue`` (all their purchases up to as-of) and ``revenue_share``.
    """
    edges = check_increasing("health band_months", band_months, "[3, 6, 12, 24]")
    state = customers_at(red, period)
    last = state["last_order_date"].to_numpy()
    # Band i holds purchases made after as_of - edge_i months (calendar months, not 30 days).
    cutoffs = np.array(
        [(period.end - pd.DateOffset(months=k)).as_unit("ns").to_datetime64() for k in edges]
    )
    band = (last[:, None] < cutoffs[None, :]).sum(axis=1) if len(last) else np.zeros(0, int)
    n_bands = len(edges) + 1
    bounds = (0, *edges)
    labels = [
        n_("{low}–{n} month", "{low}–{n} months", b, low=a) for a, b in itertools.pairwise(bounds)
    ]
    labels.append(n_("{n}+ month", "{n}+ months", edges[-1]))
    customers = np.bincount(band, minlength=n_bands)
    revenue = np.bincount(band, weights=state["revenue"].to_numpy(), minlength=n_bands)
    total_c, total_r = customers.sum(), revenue.sum()
    return pd.DataFrame(
        {
            "band": pd.Categorical(labels, categories=labels, ordered=True),
            "customers": customers,
            "customer_share": customers / total_c if total_c else np.full(n_bands, np.nan),
            "revenue": revenue,
            "revenue_share": revenue / total_r if total_r else np.full(n_bands, np.nan),
        }
    )


def health_finding(
    annual_churn_rate: float, turnover: pd.DataFrame, norm: float = ANNUAL_CHURN_NORM
) -> Finding:
    """Plain-words verdict on the yearly loss of customers and the last month's turnover.

    Parameters
    ----------
    annual_churn_rate : float
        From :func:`~custkit.audit.kpis.headline_kpis` (NaN when the history is too short).
    turnover : pandas.DataFrame
        From :func:`base_turnover`.
    norm : float, default 0.20
        The yearly loss considered normal, in (0, 1).
    """
    norm = check_norm(norm)
    title = _("Base health")
    last = turnover.iloc[-1] if len(turnover) else None
    month_text = ""
    if last is not None:
        month_text = " " + _(
            "In {month:%B %Y} the store gained {gained} new customers, won back {returned} and "
            "lost {lost}.",
            month=last["month"].to_timestamp(),
            gained=num(last["gained"]),
            returned=num(last["returned"]),
            lost=num(last["lost"]),
        )
    if not np.isfinite(annual_churn_rate):
        return Finding(
            title,
            _(
                "The data covers less than two years, so the yearly loss of customers cannot be "
                "measured yet."
            )
            + month_text,
            _(
                "Load at least two years of orders to compare with the usual loss of about "
                "{norm} a year.",
                norm=pct(norm),
            ),
            "info",
        )
    text = (
        _(
            "The store lost {rate} of last year's customers; a typical store loses up to about "
            "{norm} a year.",
            rate=pct(annual_churn_rate),
            norm=pct(norm),
        )
        + month_text
    )
    if annual_churn_rate <= norm:
        return Finding(title, text, _("Keep the current retention work going."), "good")
    if annual_churn_rate <= 1.5 * norm:
        return Finding(
            title,
            text,
            _("Remind customers who have not bought for 3–6 months before they are lost."),
            "warning",
        )
    return Finding(
        title,
        text,
        _(
            "Make winning back customers a priority: send a reactivation offer to recently "
            "lapsed customers and find out why they leave (delivery, price, quality)."
        ),
        "bad",
    )
