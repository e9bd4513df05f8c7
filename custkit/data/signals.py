"""Per-customer order signals: what a customer's last orders say about why they might leave.

The churn report needs more of each customer's orders than :mod:`custkit.data.reduce` keeps:
cancellations and returns, late deliveries, shipping costs and discounts, where orders went, and
how the customer's last few orders differ from the earlier ones. Like the other reductions, this
is one pass of plain group-bys over the orders, so it could be written in SQL::

    WITH ranked AS (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY order_date DESC) AS back
        FROM orders WHERE order_date < :as_of + 1 day)
    SELECT customer_id, COUNT(*) AS placed_orders,
           SUM(status IN ('cancelled', ...)) AS cancelled_orders, ...
           SUM(back <= :recent_orders AND is_late) AS late_recent, ...
    FROM ranked GROUP BY customer_id

It reuses :mod:`custkit.data.reduce`'s packed sort (customer, time) and ``ufunc.reduceat`` over
each customer's contiguous rows, for the reason given there: pandas group-bys with window
functions take many times longer on 10M orders.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custkit.data.periods import DAY_NS
from custkit.data.reduce import (
    as_end,
    check_orders,
    customer_codes,
    ids_with_dtype,
    sorted_order,
    take_category,
)
from custkit.errors import ParamsError

__all__ = ["CANCELLED_STATUSES", "RETURNED_STATUSES", "reduce_order_signals"]

#: Statuses counted as a cancellation (compared case-insensitively, spaces stripped).
CANCELLED_STATUSES = frozenset({"cancelled", "canceled", "failed", "отменен", "отменён"})
#: Statuses counted as a return.
RETURNED_STATUSES = frozenset({"returned", "refunded", "возврат"})


def _status_flags(orders: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Boolean arrays: the order was cancelled, the order was returned."""
    n = len(orders)
    if "status" not in orders.columns:
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    status = orders["status"]
    if not isinstance(status.dtype, pd.CategoricalDtype):
        status = status.astype("category")
    names = pd.Index(status.cat.categories.astype(str)).str.strip().str.lower()
    codes = status.cat.codes.to_numpy()
    flags = []
    for statuses in (CANCELLED_STATUSES, RETURNED_STATUSES):
        per_category = np.append(np.asarray(names.isin(statuses), dtype=bool), False)
        flags.append(per_category[codes])  # code -1 (missing) picks the appended False
    return flags[0], flags[1]


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``part / whole``, NaN where *whole* is not positive (no orders to judge by)."""
    out = np.full(len(part), np.nan)
    np.divide(part, whole, out=out, where=whole > 0)
    return out


def _usual_shipping(
    region: pd.Series, shipping: np.ndarray, bought: np.ndarray, src: np.ndarray
) -> np.ndarray:
    """Per sorted row, the median paid shipping of its delivery region (NaN when unknown)."""
    if not isinstance(region.dtype, pd.CategoricalDtype):
        region = region.astype("category")
    codes = region.cat.codes.to_numpy()[src]
    paid = bought & (shipping > 0) & (codes >= 0)
    medians = pd.Series(shipping[paid]).groupby(codes[paid]).median()
    table = np.full(len(region.cat.categories) + 1, np.nan)  # last slot: code -1 (unknown)
    table[medians.index.to_numpy()] = medians.to_numpy()
    return table[codes]


def check_recent_orders(recent_orders: object) -> int:
    """Return *recent_orders* if it is an int in [1, 100], else a :class:`ParamsError`."""
    if (
        isinstance(recent_orders, bool)
        or not isinstance(recent_orders, int | np.integer)
        or not 1 <= recent_orders <= 100
    ):
        raise ParamsError(
            f"The 'recent_orders' parameter must be an int in the range [1, 100]. "
            f"Got {recent_orders!r} instead."
        )
    return int(recent_orders)


def reduce_order_signals(
    orders: pd.DataFrame, as_of: pd.Timestamp | str, recent_orders: int = 3
) -> pd.DataFrame:
    """Reduce orders up to *as_of* to churn signals per customer, recent orders vs earlier ones.

    Parameters
    ----------
    orders : pandas.DataFrame
        Canonical orders. Only ``customer_id``, ``order_date`` and ``revenue`` are required;
        each optional column adds the signals that need it (``status``, ``shipping_cost``,
        ``discount``, ``coupon``, ``promised_delivery_date`` with ``delivered_at``,
        ``delivery_region``).
    as_of : Timestamp or str
        Last day included; later orders are ignored.
    recent_orders : int, default 3
        How many of a customer's last placed orders (any status) count as "recent".

    Returns
    -------
    pandas.DataFrame
        One row per customer with an order (any status) up to *as_of*, sorted by
        ``customer_id``. Shares are NaN when there is nothing to divide by.

        ``placed_orders``, ``purchases``
            All orders; those not cancelled or returned.
        ``last_placed_date``
            Date of the last order of any status.
        ``cancelled_orders``, ``returned_orders``, ``cancelled_recent``, ``returned_recent``
            With ``status``: all-time and among the recent orders (see
            :data:`CANCELLED_STATUSES`, :data:`RETURNED_STATUSES`).
        ``delivered_orders``, ``late_deliveries``, ``late_recent``, ``max_delay_days_recent``
            With both delivery dates: purchases with both dates known; those delivered on a
            later calendar day than promised, in all and among the recent orders; the largest
            delay in days among the recent orders (0 when none was late).
        ``shipping_share``, ``shipping_share_recent``, ``shipping_share_before``
            With ``shipping_cost``: shipping / (revenue + shipping) over purchases — all, the
            recent ones, the earlier ones. A rise from *before* to *recent* is the delivery-cost
            signal.
        ``shipping_vs_usual_recent``
            With ``shipping_cost`` and ``delivery_region``: the most a recent purchase paid for
            delivery, as a multiple of the median paid delivery of its region (0 when none
            paid): a surcharge shows as 1.5 or more.
        ``discount_share``, ``discount_share_recent``
            With ``discount``: discount / (revenue + discount) over purchases.
        ``coupon_share``, ``coupon_share_recent``, ``coupon_share_before``
            With ``coupon``: share of purchases with a coupon code — all, the recent ones, the
            earlier ones.
        ``last_region``, ``previous_region``, ``region_changed``
            With ``delivery_region``: the region of the last order and of the order before it
            (any status); whether they differ (False when either is unknown).

    Notes
    -----
    Customers who only ever placed cancelled orders are included (``purchases`` = 0): a
    customer whose every order failed is exactly the one a churn analysis must see.
    """
    check_recent_orders(recent_orders)
    check_orders(orders)
    end = as_end(as_of)
    times = orders["order_date"].to_numpy(dtype="datetime64[ns]")
    keep = times < np.datetime64(end.as_unit("ns").to_datetime64())  # NaT compares False
    ids = orders["customer_id"]
    codes, code_bits, decoder = customer_codes(ids, keep)
    src, code_s = sorted_order(codes, code_bits, times, keep)
    del codes
    n = len(src)
    new_customer = np.empty(n, dtype=bool)
    new_customer[:1] = True
    np.not_equal(code_s[1:], code_s[:-1], out=new_customer[1:])
    starts = np.flatnonzero(new_customer)
    placed = np.diff(np.r_[starts, n])
    ends = starts + placed  # one past each customer's last row
    # position counted back from each customer's last order: 0 for the last
    back = np.repeat(ends, placed)
    back -= np.arange(n)
    recent = back <= recent_orders  # back is one more than the position from the end
    del back

    def total(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, starts) if n else values[:0]

    cancelled, returned = (flag[src] for flag in _status_flags(orders))
    bought = ~(cancelled | returned)
    revenue = orders["revenue"].to_numpy(dtype=np.float64, na_value=np.nan)[src]
    revenue = np.where(bought, np.nan_to_num(revenue), 0.0)
    out: dict[str, object] = {
        "customer_id": ids_with_dtype(code_s[starts], decoder, ids.dtype),
        "placed_orders": placed.astype(np.int64),
        "purchases": total(bought.astype(np.int64)),
        "last_placed_date": times[src[ends - 1]] if n else times[:0],
    }
    if "status" in orders.columns:
        out["cancelled_orders"] = total(cancelled.astype(np.int64))
        out["returned_orders"] = total(returned.astype(np.int64))
        out["cancelled_recent"] = total((cancelled & recent).astype(np.int64))
        out["returned_recent"] = total((returned & recent).astype(np.int64))
    if {"promised_delivery_date", "delivered_at"} <= set(orders.columns):
        promised = orders["promised_delivery_date"].to_numpy(dtype="datetime64[ns]")[src]
        delivered = orders["delivered_at"].to_numpy(dtype="datetime64[ns]")[src]
        known = bought & ~np.isnat(promised) & ~np.isnat(delivered)
        delay = (delivered.view(np.int64) // DAY_NS) - (promised.view(np.int64) // DAY_NS)
        delay = np.where(known, delay, 0)
        late = delay > 0
        out["delivered_orders"] = total(known.astype(np.int64))
        out["late_deliveries"] = total(late.astype(np.int64))
        out["late_recent"] = total((late & recent).astype(np.int64))
        del promised, delivered, known
        recent_delay = np.where(recent, np.maximum(delay, 0), 0)
        del delay, late
        out["max_delay_days_recent"] = (
            np.maximum.reduceat(recent_delay, starts) if n else recent_delay[:0]
        )
        del recent_delay
    if "shipping_cost" in orders.columns:
        shipping = orders["shipping_cost"].to_numpy(dtype=np.float64, na_value=np.nan)[src]
        shipping = np.where(bought, np.nan_to_num(shipping), 0.0)
        paid = revenue + shipping
        earlier = ~recent
        out["shipping_share"] = _share(total(shipping), total(paid))
        out["shipping_share_recent"] = _share(total(shipping * recent), total(paid * recent))
        out["shipping_share_before"] = _share(total(shipping * earlier), total(paid * earlier))
        if "delivery_region" in orders.columns:
            usual = _usual_shipping(orders["delivery_region"], shipping, bought, src)
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(recent & (shipping > 0) & (usual > 0), shipping / usual, 0.0)
            out["shipping_vs_usual_recent"] = np.maximum.reduceat(ratio, starts) if n else ratio
            del usual, ratio
        del shipping, paid
    if "discount" in orders.columns:
        discount = orders["discount"].to_numpy(dtype=np.float64, na_value=np.nan)[src]
        discount = np.where(bought, np.nan_to_num(discount), 0.0)
        listed = revenue + discount
        out["discount_share"] = _share(total(discount), total(listed))
        out["discount_share_recent"] = _share(total(discount * recent), total(listed * recent))
        del discount, listed
    if "coupon" in orders.columns:
        coupon = orders["coupon"]
        if not isinstance(coupon.dtype, pd.CategoricalDtype):
            coupon = coupon.astype("category")
        # a missing code (-1) or a blank one means no coupon
        blank = np.append(
            np.asarray(coupon.cat.categories.astype(str).str.strip() == "", dtype=bool), True
        )
        used = ~blank[coupon.cat.codes.to_numpy()][src] & bought
        used_recent = used & recent
        bought_recent = total((bought & recent).astype(np.float64))
        used_total, used_in_recent = total(used.astype(np.float64)), total(used_recent * 1.0)
        out["coupon_share"] = _share(used_total, out["purchases"])
        out["coupon_share_recent"] = _share(used_in_recent, bought_recent)
        out["coupon_share_before"] = _share(
            used_total - used_in_recent, out["purchases"] - bought_recent
        )
    if "delivery_region" in orders.columns:
        region = orders["delivery_region"]
        last = take_category(region, src[ends - 1])
        previous_rows = np.where(placed > 1, ends - 2, ends - 1)
        previous = take_category(region, src[previous_rows])
        previous_codes = np.where(placed > 1, previous.codes, -1)
        out["last_region"] = last
        out["previous_region"] = pd.Categorical.from_codes(previous_codes, dtype=last.dtype)
        out["region_changed"] = (
            (last.codes >= 0) & (previous_codes >= 0) & (last.codes != previous_codes)
        )
    return pd.DataFrame(out, copy=False)
