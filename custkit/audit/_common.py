"""Helpers shared by the audit sections: month arithmetic on the reductions, parameter checks,
and number formatting for findings."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from custkit.data.periods import ReportPeriod
from custkit.data.reduce import OrderReductions
from custkit.errors import DataError, ParamsError
from custkit.i18n import _, currency_symbol, format_value


def month_ordinal(period: ReportPeriod) -> int:
    """Months since 1970-01 of a report period (the ordinal of ``period[M]``)."""
    return int(pd.Period(period.period, freq="M").ordinal)


def check_period(red: OrderReductions, period: ReportPeriod) -> None:
    """Refuse a period that ends after the reductions' as-of date."""
    if period.as_of > red.as_of:
        raise ParamsError(
            f"period {period.period} ends after the data was reduced (as of "
            f"{red.as_of:%Y-%m-%d}). Reduce the orders with as_of={period.as_of:%Y-%m-%d} or "
            "choose an earlier period."
        )


def customer_positions(red: OrderReductions) -> np.ndarray:
    """Row of ``red.customers`` for each row of ``red.customer_months`` (both sorted by id)."""
    ids = red.customer_months["customer_id"].to_numpy()
    if len(ids) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.r_[0, np.cumsum(ids[1:] != ids[:-1])]


def customers_at(red: OrderReductions, period: ReportPeriod) -> pd.DataFrame:
    """Per-customer state at the end of *period*, rebuilt from ``customer_months``.

    Returns the customers with a purchase up to ``period.as_of`` with ``customer_id``,
    ``first_order_date``, ``last_order_date``, ``orders`` and ``revenue`` as they stood then.
    For the reductions' own period this is ``red.customers`` itself.
    """
    check_period(red, period)
    if period.as_of == red.as_of:
        return red.customers
    cm = red.customer_months
    keep = cm["month"].array.asi8 <= month_ordinal(period)
    pos = customer_positions(red)[keep]
    if len(pos) == 0:
        return red.customers.iloc[:0][
            ["customer_id", "first_order_date", "last_order_date", "orders", "revenue"]
        ]
    starts = np.flatnonzero(np.r_[True, pos[1:] != pos[:-1]])
    ends = np.r_[starts[1:], len(pos)] - 1
    orders = cm["orders"].to_numpy()[keep]
    revenue = cm["revenue"].to_numpy()[keep]
    last = cm["last_order_date"].to_numpy()[keep]
    first_rows = pos[starts]
    return pd.DataFrame(
        {
            "customer_id": red.customers["customer_id"].to_numpy()[first_rows],
            "first_order_date": red.customers["first_order_date"].to_numpy()[first_rows],
            "last_order_date": last[ends],
            "orders": np.add.reduceat(orders, starts),
            "revenue": np.add.reduceat(revenue, starts),
        }
    )


def check_increasing(name: str, values: Sequence[int], example: str, minimum: int = 1) -> tuple:
    """Return *values* as a tuple of ints, or raise a sklearn-style :class:`ParamsError`."""
    try:
        items = tuple(values)
        ok = (
            len(items) > 0
            and all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in items)
            and all(v >= minimum for v in items)
            and all(a < b for a, b in itertools.pairwise(items))
        )
    except TypeError:
        ok, items = False, values
    if not ok:
        shown = list(items) if isinstance(items, tuple) else items
        raise ParamsError(
            f"{name} must be an increasing sequence of positive integers, e.g. {example}. "
            f"Got {shown!r} instead."
        )
    return tuple(int(v) for v in items)


def check_int(name: str, value: int, low: int, high: int) -> int:
    """Return *value* if it is an int in ``[low, high]``, else raise :class:`ParamsError`."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not low <= value <= high
    ):
        raise ParamsError(
            f"{name} must be an integer in the range [{low}, {high}]. Got {value!r} instead."
        )
    return int(value)


def check_share(name: str, value: float) -> float:
    """*value* as a float if it is a number in ``(0, 1)``, else :class:`ParamsError`."""
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if not ok or not 0 < value < 1:
        raise ParamsError(f"{name} must be a float in the range (0, 1). Got {value!r} instead.")
    return float(value)


def require_columns(frame: pd.DataFrame | None, table: str, columns: Sequence[str]) -> None:
    """Raise :class:`DataError` naming the first missing column of *table*."""
    if frame is None:
        raise DataError(f"this needs the {table} table, which was not given.", table=table)
    for column in columns:
        if column not in frame.columns:
            raise DataError(
                f"column '{column}' is missing.",
                table=table,
                hint=f"map it under sources.{table}.columns in the params file.",
            )


def attach_customer_attribute(
    buyers: pd.DataFrame, customers: pd.DataFrame | None, column: str, fallback: str | None
) -> pd.Series:
    """One attribute per buyer: from the customers table, else from *fallback* on *buyers*.

    Missing values become ``"unknown"``; the result is a categorical aligned with *buyers*.
    """
    values = None
    if customers is not None and column in customers.columns:
        lookup = customers.drop_duplicates("customer_id").set_index("customer_id")[column]
        values = buyers["customer_id"].map(lookup)
    elif fallback is not None and fallback in buyers.columns:
        values = buyers[fallback]
    if values is None:
        return pd.Series(
            pd.Categorical(np.repeat("unknown", len(buyers))), index=buyers.index, name=column
        )
    values = values.astype("category")
    if "unknown" not in values.cat.categories:
        values = values.cat.add_categories("unknown")
    return values.fillna("unknown").cat.remove_unused_categories().rename(column)


def pct(share: float, digits: int = 0) -> str:
    """``0.183`` → ``"18%"``; NaN → ``"n/a"`` (in the report language: ``18,3%``, ``н/д``)."""
    if share is None or not np.isfinite(share):
        return _("n/a")
    return format_value(100 * share, f".{digits}f") + "%"


def money(value: float, currency: str = "") -> str:
    """``11,537,206 RUB`` (``11 537 206 ₽``): the amount and its currency (an ISO code such as
    ``RUB``; none when empty), never split over two lines."""
    return num(value) + (f"\u00a0{currency_symbol(currency)}" if currency else "")


def num(value: float) -> str:
    """``1234567`` → ``"1,234,567"``; NaN → ``"n/a"`` (in the report language: ``1 234 567``)."""
    if value is None or not np.isfinite(value):
        return _("n/a")
    return format_value(value, ",.0f")
