"""Customer categories: cross-tabs by region, activity and loyalty, with revenue shares.

- **activity** at as-of: ``active`` (last purchase within ``active_days``, default 180),
  ``lapsing`` (within ``lapsed_days``, default 365), ``lapsed`` (longer ago).
- **loyalty**: ``one_time`` (1 purchase), ``repeat`` (2 up to ``loyal_orders`` − 1),
  ``loyal`` (``loyal_orders`` or more, default 5).
- **region**: the customers table's ``region``, else the first order's delivery region, else
  ``unknown``; **channel**: ``acquisition_channel``, else the first order's channel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from custkit.audit._common import (
    attach_customer_attribute,
    check_int,
    customers_at,
    pct,
)
from custkit.data.periods import ReportPeriod
from custkit.data.reduce import OrderReductions
from custkit.errors import ParamsError
from custkit.findings import Finding
from custkit.i18n import _

ACTIVITY = ("active", "lapsing", "lapsed")
LOYALTY = ("one_time", "repeat", "loyal")


@dataclass(frozen=True)
class CrossTab:
    """A cross-tab of customers.

    Attributes
    ----------
    customers : pandas.DataFrame
        Customer counts; rows and columns are the two dimensions' categories.
    revenue_share : pandas.DataFrame
        Share of all revenue up to as-of in each cell (the whole table sums to 1).
    """

    customers: pd.DataFrame
    revenue_share: pd.DataFrame


def check_category_rules(
    active_days: int, lapsed_days: int, loyal_orders: int
) -> tuple[int, int, int]:
    """The arguments of :func:`customer_categories` as it takes them, or :class:`ParamsError`."""
    active_days = check_int("categories active_days", active_days, 1, 3650)
    lapsed_days = check_int("categories lapsed_days", lapsed_days, 1, 3650)
    loyal_orders = check_int("categories loyal_orders", loyal_orders, 3, 1000)
    if lapsed_days <= active_days:
        raise ParamsError(
            "categories lapsed_days must be larger than active_days, e.g. 365 and 180. "
            f"Got lapsed_days={lapsed_days}, active_days={active_days} instead."
        )
    return active_days, lapsed_days, loyal_orders


def customer_categories(
    red: OrderReductions,
    period: ReportPeriod,
    customers: pd.DataFrame | None = None,
    active_days: int = 180,
    lapsed_days: int = 365,
    loyal_orders: int = 5,
) -> pd.DataFrame:
    """Per buyer: ``customer_id``, ``region``, ``channel``, ``activity``, ``loyalty``,
    ``revenue`` (categoricals; see module docstring)."""
    active_days, lapsed_days, loyal_orders = check_category_rules(
        active_days, lapsed_days, loyal_orders
    )
    state = customers_at(red, period)
    if state is not red.customers:  # earlier period: borrow first-order attributes
        extra = [c for c in ("first_order_channel", "first_order_region") if c in red.customers]
        state = state.merge(red.customers[["customer_id", *extra]], on="customer_id", how="left")
    last_day = state["last_order_date"].to_numpy().astype("datetime64[D]")
    days = (np.datetime64(period.as_of.date(), "D") - last_day).astype(np.int64)
    activity = (days > active_days).astype(np.int8) + (days > lapsed_days).astype(np.int8)
    orders = state["orders"].to_numpy()
    loyalty = (orders >= 2).astype(np.int8) + (orders >= loyal_orders).astype(np.int8)
    return pd.DataFrame(
        {
            "customer_id": state["customer_id"].to_numpy(),
            "region": attach_customer_attribute(
                state, customers, "region", "first_order_region"
            ).to_numpy(),
            "channel": attach_customer_attribute(
                state, customers, "acquisition_channel", "first_order_channel"
            ).to_numpy(),
            "activity": pd.Categorical.from_codes(activity, categories=list(ACTIVITY)),
            "loyalty": pd.Categorical.from_codes(loyalty, categories=list(LOYALTY)),
            "revenue": state["revenue"].to_numpy(),
        }
    )


#: The acquisition channels of custkit's demo store (:mod:`custkit.data.demo`) in words, in
#: English (translated where shown); a store's other channel names are shown as written.
CHANNEL_WORDS = {
    "organic": "Organic",
    "referral": "Referrals",
    "partners": "Partners",
    "social": "Social media",
    "context_ads": "Context ads",
    "coupons": "Coupons",
    "cold_calls": "Cold calls",
}
_CODE_LIKE = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)+")


def category_label(value: object) -> str:
    """A category as shown, in the report language: custkit's activity and loyalty categories
    (``one_time`` → ``One-time``), ``unknown`` (``Not recorded``) and the demo store's channels
    (``cold_calls`` → ``Cold calls``); a store's own regions and channels as written, except
    that a name written like a code (``paid_search``) reads with spaces (``paid search``).
    """
    labels = {
        "active": _("Active"),
        "lapsing": _("Lapsing"),
        "lapsed": _("Lapsed"),
        "one_time": _("One-time"),
        "repeat": _("Repeat"),
        "loyal": _("Loyal"),
        "unknown": _("Not recorded"),
    }
    text = str(value)
    if text in labels:
        return labels[text]
    if text in CHANNEL_WORDS:
        return _(CHANNEL_WORDS[text])
    return text.replace("_", " ") if _CODE_LIKE.fullmatch(text) else text


def category_crosstab(categories: pd.DataFrame, rows: str, columns: str) -> CrossTab:
    """Cross-tab two columns of :func:`customer_categories` (e.g. ``"region"``, ``"activity"``)."""
    for name in (rows, columns):
        if name not in categories.columns or name in ("customer_id", "revenue"):
            raise ParamsError(
                f"categories can be cross-tabulated by region, channel, activity or loyalty. "
                f"Got {name!r} instead."
            )
    row_codes, row_labels = _codes(categories[rows])
    col_codes, col_labels = _codes(categories[columns])
    if (row_codes < 0).any() or (col_codes < 0).any():
        return _pandas_crosstab(categories, rows, columns)
    # A two-key group-by on integer codes: one bincount per table instead of pandas' crosstab,
    # which groups the strings themselves (about 0.4 s per table on a million customers).
    shape = (len(row_labels), len(col_labels))
    cell = row_codes * shape[1] + col_codes
    counts = np.bincount(cell, minlength=shape[0] * shape[1]).reshape(shape)
    revenue = np.bincount(
        cell, weights=categories["revenue"].to_numpy(dtype=float), minlength=counts.size
    ).reshape(shape)
    index = row_labels.rename(rows)
    cols = col_labels.rename(columns)
    total = revenue.sum()
    share = revenue / total if total else revenue * np.nan
    return CrossTab(
        customers=pd.DataFrame(counts.astype(np.int64), index=index, columns=cols),
        revenue_share=pd.DataFrame(share, index=index, columns=cols),
    )


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes and labels of a column, labelled as :func:`pandas.crosstab` labels them:
    every category of a categorical, the sorted distinct values otherwise."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(), pd.CategoricalIndex(
            values.cat.categories, dtype=values.dtype
        )
    codes, uniques = pd.factorize(values, sort=True)
    return codes, pd.Index(uniques)


def _pandas_crosstab(categories: pd.DataFrame, rows: str, columns: str) -> CrossTab:
    """pandas' own cross-tab, for columns with missing values."""
    counts = pd.crosstab(categories[rows], categories[columns], dropna=False)
    revenue = pd.crosstab(
        categories[rows],
        categories[columns],
        values=categories["revenue"],
        aggfunc="sum",
        dropna=False,
    ).fillna(0.0)
    total = revenue.to_numpy().sum()
    share = revenue / total if total else revenue * np.nan
    counts.index.name, counts.columns.name = rows, columns
    share.index.name, share.columns.name = rows, columns
    return CrossTab(customers=counts, revenue_share=share)


def categories_finding(categories: pd.DataFrame) -> Finding:
    """Share of active, one-time and loyal customers and where the revenue comes from."""
    title = _("Customer categories")
    n = len(categories)
    if n == 0:
        return Finding(title, _("There are no customers yet."), _("Check the order data."), "bad")
    active = (categories["activity"] == "active").mean()
    one_time = (categories["loyalty"] == "one_time").mean()
    loyal = categories["loyalty"] == "loyal"
    total = categories["revenue"].sum()
    loyal_rev = categories.loc[loyal, "revenue"].sum() / total if total else float("nan")
    conclusion = _(
        "{active} of customers are active (bought recently); {one_time} bought only once, while "
        "loyal customers ({loyal} of the base) bring {loyal_revenue} of revenue.",
        active=pct(active),
        one_time=pct(one_time),
        loyal=pct(loyal.mean()),
        loyal_revenue=pct(loyal_rev),
    )
    return Finding(
        title,
        conclusion,
        _(
            "Focus retention offers on regions and channels with many lapsing customers; keep "
            "loyal customers informed without discounts."
        ),
        "warning" if active < 0.3 else "info",
    )
