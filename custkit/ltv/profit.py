"""Historic lifetime profit: what customers have brought so far, per customer and per cohort.

The backward-looking half of customer value, read from :func:`custkit.data.reduce.reduce_orders`
(no model involved): revenue and margin from each customer's first to last purchase, summed per
first-order-month cohort; and the store's own version of the seed claim "full customer value
reaches up to ~3.5× a year's revenue" (:func:`value_to_annual_revenue`), which joins the history
with the forecast of :func:`custkit.ltv.customer_lifetime_value`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custkit.data.reduce import OrderReductions
from custkit.errors import DataError, ParamsError
from custkit.findings import Finding
from custkit.i18n import _, n_

_DAY = np.timedelta64(1, "D")
#: The seed claim: full customer value up to about this many years of a customer's revenue.
SEED_VALUE_RATIO = 3.5


def historic_profit(reductions: OrderReductions) -> pd.DataFrame:
    """Revenue and margin of every customer from their first to their last purchase.

    Parameters
    ----------
    reductions : OrderReductions
        From :func:`custkit.data.reduce.reduce_orders`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id``: ``cohort`` (``period[M]`` of the first purchase),
        ``first_order_date``, ``last_order_date``, ``lifetime_days`` (whole days from the first
        to the last purchase day; 0 for one purchase), ``orders``, ``revenue``, and ``margin``
        (revenue − cost) when the orders had a ``cost`` column.
    """
    customers = reductions.customers
    first = customers["first_order_date"].to_numpy(dtype="datetime64[ns]")
    last = customers["last_order_date"].to_numpy(dtype="datetime64[ns]")
    lifetime = (last.astype("datetime64[D]") - first.astype("datetime64[D]")) // _DAY
    columns = {
        "cohort": pd.PeriodIndex(pd.DatetimeIndex(first), freq="M").array,
        "first_order_date": first,
        "last_order_date": last,
        "lifetime_days": lifetime.astype(np.int64),
        "orders": customers["orders"].to_numpy(),
        "revenue": customers["revenue"].to_numpy(dtype=np.float64),
    }
    if "margin" in customers.columns:
        columns["margin"] = customers["margin"].to_numpy(dtype=np.float64)
    return pd.DataFrame(columns, index=pd.Index(customers["customer_id"], name="customer_id"))


def cohort_profit(reductions: OrderReductions) -> pd.DataFrame:
    """Historic revenue and margin per first-order-month cohort.

    Parameters
    ----------
    reductions : OrderReductions
        From :func:`custkit.data.reduce.reduce_orders`.

    Returns
    -------
    pandas.DataFrame
        One row per cohort (month of the first purchase), oldest first: ``cohort``
        (``period[M]``), ``customers``, ``revenue`` (total), ``revenue_share`` (of all revenue),
        ``revenue_mean`` and ``revenue_median`` (per customer), ``orders_mean``,
        ``lifetime_days_mean``; and ``margin``, ``margin_share``, ``margin_mean``,
        ``margin_median`` when the orders had a ``cost`` column. Older cohorts have had more
        time to buy: compare cohorts of the same age, or read the trend of young cohorts.
    """
    profit = historic_profit(reductions)
    money = ["revenue", "margin"] if "margin" in profit.columns else ["revenue"]
    grouped = profit.groupby("cohort", sort=True, observed=True)
    out = pd.DataFrame({"customers": grouped.size().astype(np.int64)})
    for column in money:
        out[column] = grouped[column].sum()
        total = out[column].sum()
        out[f"{column}_share"] = out[column] / total if total != 0 else 0.0
        out[f"{column}_mean"] = grouped[column].mean()
        out[f"{column}_median"] = grouped[column].median()
    out["orders_mean"] = grouped["orders"].mean()
    out["lifetime_days_mean"] = grouped["lifetime_days"].mean()
    out = out.reset_index()
    ordered = ["cohort", "customers"]
    for column in money:
        ordered += [column, f"{column}_share", f"{column}_mean", f"{column}_median"]
    return out[[*ordered, "orders_mean", "lifetime_days_mean"]]


def value_to_annual_revenue(clv_frame: pd.DataFrame, reductions: OrderReductions) -> pd.DataFrame:
    """Full customer value as a multiple of the customer's annual revenue.

    Definitions (all in revenue, so the ratio is unit-free whatever the CLV's value basis):

    - ``revenue_to_date``: the customer's revenue up to the as-of date;
    - ``tenure_years``: years from the first purchase day to the as-of day (inclusive), at
      least 1 — a customer younger than a year has had at most one year of revenue;
    - ``annual_revenue = revenue_to_date / tenure_years``: the customer's revenue per year;
    - ``full_value = revenue_to_date + expected_revenue``: history plus the discounted expected
      revenue of :func:`~custkit.ltv.customer_lifetime_value` over its horizon;
    - ``value_to_annual_revenue = full_value / annual_revenue``.

    "Full" value is as long as the CLV horizon: compute the CLV over several years (e.g.
    ``horizon_months=36``) for this comparison; the horizon is kept in ``attrs``.

    Parameters
    ----------
    clv_frame : pandas.DataFrame
        From :func:`~custkit.ltv.customer_lifetime_value` (``expected_revenue``, ``status``).
    reductions : OrderReductions
        The orders reduced at the same as-of date.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id``, for the scored customers with a positive revenue to date
        (others are left out, so nothing is NaN or infinite): the columns above.
    """
    for column in ("expected_revenue", "status"):
        if column not in clv_frame.columns:
            raise DataError(
                f"column '{column}' is missing.",
                table="clv",
                hint="compute it with custkit.ltv.customer_lifetime_value.",
            )
    customers = reductions.customers
    as_of_day = np.datetime64(reductions.as_of.normalize().date(), "D")
    first_day = (
        customers["first_order_date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    )
    tenure_days = (as_of_day - first_day) // _DAY + 1
    history = pd.DataFrame(
        {
            "revenue_to_date": customers["revenue"].to_numpy(dtype=np.float64),
            "tenure_years": np.maximum(tenure_days / 365.25, 1.0),
        },
        index=pd.Index(customers["customer_id"], name="customer_id"),
    )
    scored = clv_frame.loc[clv_frame["status"] == "scored", ["expected_revenue"]]
    frame = history.join(scored, how="inner")
    frame = frame.loc[frame["revenue_to_date"] > 0]
    frame["annual_revenue"] = frame["revenue_to_date"] / frame["tenure_years"]
    frame["full_value"] = frame["revenue_to_date"] + frame["expected_revenue"]
    frame["value_to_annual_revenue"] = frame["full_value"] / frame["annual_revenue"]
    frame = frame[
        [
            "revenue_to_date",
            "tenure_years",
            "annual_revenue",
            "expected_revenue",
            "full_value",
            "value_to_annual_revenue",
        ]
    ]
    frame.attrs["horizon_months"] = clv_frame.attrs.get("horizon_months")
    return frame


def value_ratio_finding(ratios: pd.DataFrame, reference: float = SEED_VALUE_RATIO) -> Finding:
    """Plain-words comparison of the store's value ratio with the seed claim (~3.5×).

    Parameters
    ----------
    ratios : pandas.DataFrame
        From :func:`value_to_annual_revenue`.
    reference : float, default 3.5
        The multiple to compare with (positive).
    """
    if (
        isinstance(reference, bool)
        or not isinstance(reference, int | float | np.integer | np.floating)
        or not np.isfinite(reference)
        or reference <= 0
    ):
        raise ParamsError(
            f"reference must be a float in the range (0, inf). Got {reference!r} instead."
        )
    title = _("Customer value vs a year's revenue")
    values = ratios["value_to_annual_revenue"].to_numpy(dtype=np.float64)
    if len(values) == 0:
        return Finding(title, _("No customer could be compared."), _("Check the CLV input."), "bad")
    fields = {
        "median": float(np.median(values)),
        "p90": float(np.quantile(values, 0.9)),
        "above": float((values >= reference).mean()),
        "customers": len(values),
        "reference": reference,
    }
    horizon = ratios.attrs.get("horizon_months")
    if horizon:
        conclusion = n_(
            "A typical customer's full value (history plus the next {n} month) is {median:.1f}× "
            "their annual revenue (1 in 10 reach {p90:.1f}×); {above:.0%} of {customers:,} "
            "customers reach the {reference:g}× often quoted.",
            "A typical customer's full value (history plus the next {n} months) is {median:.1f}× "
            "their annual revenue (1 in 10 reach {p90:.1f}×); {above:.0%} of {customers:,} "
            "customers reach the {reference:g}× often quoted.",
            int(horizon),
            **fields,
        )
    else:
        conclusion = _(
            "A typical customer's full value is {median:.1f}× their annual revenue (1 in 10 "
            "reach {p90:.1f}×); {above:.0%} of {customers:,} customers reach the {reference:g}× "
            "often quoted.",
            **fields,
        )
    if fields["median"] >= reference:
        action = _("Customers are worth several years of revenue: acquisition can spend more.")
        level = "good"
    else:
        action = _(
            "Value rests on the first year: work on the second and third purchase before "
            "raising acquisition spend."
        )
        level = "info"
    return Finding(title, conclusion, action, level)
