"""Per-customer features of the churn-risk model, from every source a store has.

:func:`churn_features` turns the shared order reductions
(:func:`~custkit.data.reduce.reduce_orders`, built with ``customer_days=True``), the order signals
(:func:`~custkit.data.signals.reduce_order_signals`) and, when present, the ``customers``,
``feedback`` and ``messages`` tables into one table: one row per customer, one column per
feature, every name listed with its unit in :data:`FEATURE_LABELS`. A source that is missing
simply leaves its features out; the frame says which in ``attrs["missing_sources"]``.

Nothing dated after the as-of day is read: feedback and messages are cut at the end of that day,
and the reductions must have been built for the same day. That is what lets the risk model be
trained on an earlier as-of date and checked on a later one (:mod:`custkit.churn.risk`).

Why not ``DataFrame.groupby``: on a million customers the tables here have ten million rows
(purchase days) and millions of messages. The purchase days arrive sorted by customer and day, so
gaps and windows are reduced with ``ufunc.reduceat`` over contiguous groups and one packed sort
gives the median gap; feedback and messages are mapped to customer positions with one hash lookup
and summed with ``numpy.bincount``. The whole table takes a few seconds for a million customers.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from custkit.data.periods import DAY_NS
from custkit.data.reduce import OrderReductions
from custkit.errors import DataError, ParamsError

__all__ = ["CATEGORICAL_FEATURES", "FEATURE_LABELS", "OTHER", "churn_features", "feature_label"]


#: Every feature :func:`churn_features` can produce, with what it means and its unit. Money is
#: in the store's currency; shares are fractions in [0, 1]; "recent" means the customer's last
#: ``recent_orders`` placed orders (3 by default, see :func:`reduce_order_signals`).
FEATURE_LABELS: dict[str, str] = {
    # purchases (orders that were not cancelled or returned)
    "days_since_last_order": "days since the last purchase",
    "orders": "purchases so far",
    "revenue": "revenue so far (store currency)",
    "avg_order_value": "average purchase value (store currency)",
    "tenure_days": "days since the first purchase",
    "purchase_days": "days with a purchase so far",
    "mean_gap_days": "average days between purchase days",
    "median_gap_days": "typical (median) days between purchase days",
    "last_gap_days": "days between the last two purchase days",
    "last_gap_ratio": "last gap between purchases / typical gap",
    "overdue_ratio": "days since the last purchase / typical gap",
    "orders_last_90d": "purchases in the last 90 days",
    "orders_prev_90d": "purchases 91–180 days ago",
    "order_trend_90d": "purchases in the last 90 days minus the 90 days before",
    "orders_last_180d": "purchases in the last 180 days",
    "orders_prev_180d": "purchases 181–360 days ago",
    "order_trend_180d": "purchases in the last 180 days minus the 180 days before",
    # order signals
    "cancelled_orders": "cancelled orders so far",
    "cancelled_recent": "cancelled orders among the last few",
    "cancel_share": "share of orders cancelled",
    "returned_orders": "returned orders so far",
    "returned_recent": "returned orders among the last few",
    "return_share": "share of orders returned",
    "late_deliveries": "late deliveries so far",
    "late_recent": "late deliveries among the last few orders",
    "late_share": "share of deliveries that came late",
    "max_delay_days_recent": "longest delivery delay among the last few orders (days)",
    "shipping_share": "shipping cost as a share of the amount paid",
    "shipping_share_recent": "shipping cost share on the last few orders",
    "shipping_share_before": "shipping cost share on the earlier orders",
    "shipping_share_change": "rise in the shipping cost share (last few orders vs earlier)",
    "discount_share": "discount as a share of the list price",
    "discount_share_recent": "discount share on the last few orders",
    "coupon_share": "share of purchases with a coupon",
    "coupon_share_recent": "share of the last few purchases with a coupon",
    "region_changed": "delivery region of the last order differs from the one before (1/0)",
    # customers
    "email_consent": "agreed to e-mail marketing (1/0)",
    "sms_consent": "agreed to SMS marketing (1/0)",
    # feedback
    "ratings": "reviews with a rating so far",
    "mean_rating": "average review rating",
    "low_ratings_180d": "ratings of 2 or less in the last 180 days",
    "tickets_180d": "support tickets in the last 180 days",
    # messages
    "messages_90d": "marketing messages received in the last 90 days",
    "opened_90d": "messages opened in the last 90 days",
    "clicked_90d": "messages clicked in the last 90 days",
    "open_rate_365d": "share of messages opened in the last 365 days",
    # categories
    "region": "home region",
    "acquisition_channel": "acquisition channel",
    "first_order_channel": "sales channel of the first purchase",
    "delivery_region": "delivery region of the last order",
}

#: Features stored as pandas categoricals (rare values grouped under ``"other"``).
CATEGORICAL_FEATURES = ("region", "acquisition_channel", "first_order_channel", "delivery_region")

#: At most this many values of a categorical feature are kept, each held by at least
#: ``_MIN_CATEGORY_SHARE`` of the customers; the rest become ``"other"``.
_MAX_CATEGORIES = 20
_MIN_CATEGORY_SHARE = 0.005
OTHER = "other"

_SIGNAL_COUNTS = (
    "cancelled_orders",
    "cancelled_recent",
    "returned_orders",
    "returned_recent",
    "late_deliveries",
    "late_recent",
    "max_delay_days_recent",
)
#: Optional columns the features read, per source; for orders, the signal each one gives.
_OPTIONAL_COLUMNS = {
    "customers": ("region", "acquisition_channel", "consent_email", "consent_sms"),
    "feedback": ("rating", "kind"),
    "messages": ("opened", "clicked"),
}
_ORDER_COLUMNS = {
    "status": "cancelled_orders",
    "promised_delivery_date, delivered_at": "late_deliveries",
    "shipping_cost": "shipping_share",
    "discount": "discount_share",
    "coupon": "coupon_share",
    "delivery_region": "region_changed",
}
_SIGNAL_SHARES = (
    "shipping_share",
    "shipping_share_recent",
    "shipping_share_before",
    "discount_share",
    "discount_share_recent",
    "coupon_share",
    "coupon_share_recent",
)


def feature_label(name: str) -> str:
    """Plain-language description of feature *name* (the name itself when unknown)."""
    return FEATURE_LABELS.get(name, name.replace("_", " "))


def _ratio(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``part / whole`` as float, NaN where *whole* is not positive or unknown."""
    part = np.asarray(part, dtype=np.float64)
    whole = np.asarray(whole, dtype=np.float64)
    out = np.full(len(part), np.nan)
    np.divide(part, whole, out=out, where=whole > 0)
    return out


def _day_numbers(values: pd.Series | np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 (floor) as int64; NaT becomes the smallest int64."""
    times = np.asarray(values, dtype="datetime64[ns]").view(np.int64)
    days = times // DAY_NS
    days[times == np.iinfo(np.int64).min] = np.iinfo(np.int64).min
    return days


def _warn_no_match(table: str) -> None:
    warnings.warn(
        f"no customer_id of the {table} table matches a customer with purchases; its features "
        "are empty. Check that both tables use the same customer ids (and the same id type: "
        "text vs number) in the params file's column mapping.",
        UserWarning,
        stacklevel=4,
    )


def _positions(index: pd.Index, ids: pd.Series | np.ndarray, table: str) -> np.ndarray:
    """Row position in *index* of every id (-1 when the customer is not in *index*)."""
    positions = index.get_indexer(pd.Index(ids))
    if len(positions) and len(index) and (positions < 0).all():
        _warn_no_match(table)
    return positions


def _bool_values(column: pd.Series) -> np.ndarray:
    """A yes/no column as a bool array; missing values count as no."""
    return column.astype("boolean").to_numpy(dtype=bool, na_value=False)


def _bucketed(values: pd.Series | pd.Categorical | np.ndarray) -> pd.Categorical:
    """A categorical of text values, rare values merged into :data:`OTHER`, missing kept NaN."""
    cat = pd.Categorical(values)
    names = pd.Index(cat.categories.astype(str))
    codes = cat.codes
    counts = np.bincount(codes[codes >= 0], minlength=len(names))
    by_size = np.argsort(-counts, kind="stable")[:_MAX_CATEGORIES]
    kept = by_size[counts[by_size] >= max(1.0, _MIN_CATEGORY_SHARE * len(codes))]
    kept_names = list(names[kept])
    mapping = np.full(len(names) + 1, -1, dtype=np.int64)  # last slot: code -1 stays missing
    mapping[kept] = np.arange(len(kept))
    dropped = (counts > 0) & (mapping[:-1] < 0)
    if dropped.any():
        if OTHER not in kept_names:
            kept_names.append(OTHER)
        mapping[:-1][dropped] = kept_names.index(OTHER)
    return pd.Categorical.from_codes(mapping[codes], dtype=pd.CategoricalDtype(kept_names))


def _take(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``values[positions]`` as float, NaN where the position is -1."""
    out = np.asarray(values, dtype=np.float64)[np.maximum(positions, 0)]
    out[positions < 0] = np.nan
    return out


def _as_day(as_of: object) -> pd.Timestamp:
    """*as_of* as a midnight Timestamp, or a ParamsError saying what a date looks like."""
    try:
        day = pd.Timestamp(as_of).normalize()
    except (TypeError, ValueError) as error:
        raise ParamsError(
            f"as_of must be a date such as '2026-10-31'. Got {as_of!r} instead."
        ) from error
    if pd.isna(day):
        raise ParamsError(f"as_of must be a date such as '2026-10-31'. Got {as_of!r} instead.")
    return day


def _check_as_of(reductions: OrderReductions, as_of: pd.Timestamp | str) -> pd.Timestamp:
    if not isinstance(reductions, OrderReductions):
        raise ParamsError(
            "reductions must be the OrderReductions of reduce_orders(orders, as_of, "
            f"customer_days=True). Got {type(reductions).__name__} instead."
        )
    day = _as_day(as_of)
    if day != reductions.as_of:
        raise ParamsError(
            f"the reductions were built as of {reductions.as_of.date()} but as_of is "
            f"{day.date()}; build them for the same day: reduce_orders(orders, "
            f"'{day.date()}', customer_days=True)."
        )
    if reductions.customer_days is None:
        raise ParamsError(
            "churn_features needs the purchase days of every customer for the gap and trend "
            "features: build the reductions with reduce_orders(orders, as_of, "
            "customer_days=True)."
        )
    return day


def _purchase_features(reductions: OrderReductions, index: pd.Index, as_of_day: int) -> dict:
    """Recency, frequency, value, tenure, gaps between purchase days and order trends."""
    base = reductions.customers
    n = len(base)
    last_day = _day_numbers(base["last_order_date"])
    first_day = _day_numbers(base["first_order_date"])
    orders = base["orders"].to_numpy(dtype=np.float64)
    revenue = base["revenue"].to_numpy(dtype=np.float64, na_value=np.nan)
    out: dict[str, np.ndarray] = {
        "days_since_last_order": (as_of_day - last_day).astype(np.float64),
        "orders": orders,
        "revenue": revenue,
        "avg_order_value": _ratio(revenue, orders),
        "tenure_days": (as_of_day - first_day).astype(np.float64),
    }

    days_table = reductions.customer_days
    ids = days_table["customer_id"].to_numpy()
    # Day numbers fit in int32: on ten million purchase days every int64 array is 80 MB.
    day = _day_numbers(days_table["order_day"]).astype(np.int32)
    day_orders = days_table["orders"].to_numpy()
    n_rows = len(ids)
    new_group = np.empty(n_rows, dtype=bool)
    new_group[:1] = True
    np.not_equal(ids[1:], ids[:-1], out=new_group[1:])
    starts = np.flatnonzero(new_group)
    del new_group
    counts = np.diff(np.r_[starts, n_rows])
    group_pos = _positions(index, ids[starts], "purchase days")
    kept = group_pos >= 0
    if not kept.all():  # reductions narrowed to some customers: drop the others' days
        rows = np.repeat(kept, counts)
        day, day_orders = day[rows], day_orders[rows]
        del rows
        counts, group_pos = counts[kept], group_pos[kept]
        starts = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
        n_rows = len(day)
    n_groups = len(counts)

    def scatter(values: np.ndarray) -> np.ndarray:
        full = np.full(n, np.nan)
        full[group_pos] = values
        return full

    ends = starts + counts - 1  # each customer's last purchase day
    several = counts >= 2
    mean_gap = np.full(n_groups, np.nan)
    np.divide(
        (day[ends] - day[starts]).astype(np.float64), counts - 1.0, out=mean_gap, where=several
    )
    last_gap = np.full(n_groups, np.nan)
    last_gap[several] = day[ends[several]] - day[ends[several] - 1]
    # Median gap per customer: sort (customer, gap) packed in one key; each customer's gaps
    # are then contiguous and sorted, and the median is read at fixed offsets.
    n_gaps = counts - 1
    key = np.repeat(np.arange(n_groups, dtype=np.int64) << 32, n_gaps)
    is_gap = np.ones(n_rows, dtype=bool)
    is_gap[starts] = False
    is_gap = is_gap[1:]  # gap i lies between rows i and i + 1
    key |= np.diff(day)[is_gap]
    del is_gap
    key.sort()
    key &= 0xFFFFFFFF  # the sorted gaps
    gap_starts = np.r_[0, np.cumsum(n_gaps)[:-1]].astype(np.int64)
    lo = gap_starts[several] + (n_gaps[several] - 1) // 2
    hi = gap_starts[several] + n_gaps[several] // 2
    median_gap = np.full(n_groups, np.nan)
    median_gap[several] = (key[lo] + key[hi]) / 2.0
    del key

    out["purchase_days"] = scatter(counts.astype(np.float64))
    out["mean_gap_days"] = scatter(mean_gap)
    out["median_gap_days"] = median = scatter(median_gap)
    out["last_gap_days"] = scatter(last_gap)
    out["last_gap_ratio"] = _ratio(out["last_gap_days"], median)
    out["overdue_ratio"] = _ratio(out["days_since_last_order"], median)

    group = np.repeat(np.arange(n_groups, dtype=np.int32), counts)
    for window in (90, 180):
        totals = []
        # "last": 0 to window-1 days before as_of; "prev": window to 2*window-1 days before
        for newest, oldest in ((0, window - 1), (window, 2 * window - 1)):
            rows = (day >= as_of_day - oldest) & (day <= as_of_day - newest)
            per_group = np.bincount(group[rows], weights=day_orders[rows], minlength=n_groups)
            totals.append(scatter(per_group))
        out[f"orders_last_{window}d"], out[f"orders_prev_{window}d"] = totals
        out[f"order_trend_{window}d"] = totals[0] - totals[1]
    return out


def _signal_features(signals: pd.DataFrame, index: pd.Index) -> dict:
    """Cancellations, returns, late deliveries, shipping/discount/coupon shares, region moves."""
    if "customer_id" not in signals.columns:
        raise DataError(
            "the order signals have no customer_id column.",
            hint="pass the frame reduce_order_signals(orders, as_of) returns.",
        )
    positions = pd.Index(signals["customer_id"]).get_indexer(index)
    out: dict[str, object] = {}
    for name in _SIGNAL_COUNTS + _SIGNAL_SHARES:
        if name in signals.columns:
            out[name] = _take(signals[name].to_numpy(dtype=np.float64, na_value=np.nan), positions)
    placed = _take(signals["placed_orders"].to_numpy(dtype=np.float64), positions)
    if "cancelled_orders" in out:
        out["cancel_share"] = _ratio(out["cancelled_orders"], placed)
    if "returned_orders" in out:
        out["return_share"] = _ratio(out["returned_orders"], placed)
    if "late_deliveries" in signals.columns:
        delivered = _take(signals["delivered_orders"].to_numpy(dtype=np.float64), positions)
        out["late_share"] = _ratio(out["late_deliveries"], delivered)
    if "shipping_share_recent" in out:
        out["shipping_share_change"] = out["shipping_share_recent"] - out["shipping_share_before"]
    if "region_changed" in signals.columns:
        changed = signals["region_changed"].to_numpy(dtype=np.float64)
        out["region_changed"] = _take(changed, positions)
        region = signals["last_region"]
        if not isinstance(region.dtype, pd.CategoricalDtype):
            region = region.astype("category")
        codes = np.where(positions >= 0, region.cat.codes.to_numpy()[positions], -1)
        out["delivery_region"] = pd.Categorical.from_codes(codes, dtype=region.dtype)
    return out


def _customer_features(customers: pd.DataFrame, index: pd.Index) -> dict:
    """Home region, acquisition channel and marketing consents from the customers table."""
    if "customer_id" not in customers.columns:
        raise DataError("has no customer_id column.", table="customers", column="customer_id")
    ids = pd.Index(customers["customer_id"])
    first = ~ids.duplicated()  # duplicate rows (dirty exports): the first one counts
    rows = np.flatnonzero(first)
    positions = ids[first].get_indexer(index)
    found = positions >= 0
    rows_of_base = np.where(found, rows[np.maximum(positions, 0)], 0)
    if len(index) and len(customers) and not found.any():
        _warn_no_match("customers")
    out: dict[str, object] = {}
    for column, name in (("email", "email_consent"), ("sms", "sms_consent")):
        if f"consent_{column}" in customers.columns:
            consent = customers[f"consent_{column}"].astype("boolean")
            values = consent.to_numpy(dtype=np.float64, na_value=np.nan)[rows_of_base]
            values[~found] = np.nan
            out[name] = values
    for column in ("region", "acquisition_channel"):
        if column in customers.columns:
            values = customers[column]
            if not isinstance(values.dtype, pd.CategoricalDtype):
                values = values.astype("category")
            codes = np.where(found, values.cat.codes.to_numpy()[rows_of_base], -1)
            out[column] = pd.Categorical.from_codes(codes, dtype=values.dtype)
    return out


def _dated_rows(
    table: pd.DataFrame, name: str, date_column: str, index: pd.Index, as_of_day: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of *table* dated up to the as-of day and of a known customer.

    Returns the row numbers, the customer positions and how many days before the as-of day
    each row is dated (0: on it).
    """
    missing = [c for c in ("customer_id", date_column) if c not in table.columns]
    if missing:
        raise DataError(
            f"lacks the column(s) {missing} needed for the churn features.",
            table=name,
            hint=f"map them in the params file under sources.{name}.columns.",
        )
    day = _day_numbers(table[date_column])
    rows = np.flatnonzero((day <= as_of_day) & (day != np.iinfo(np.int64).min))
    positions = _positions(index, table["customer_id"].to_numpy()[rows], name)
    known = positions >= 0
    return rows[known], positions[known], as_of_day - day[rows[known]]


def _feedback_features(feedback: pd.DataFrame, index: pd.Index, as_of_day: int) -> dict:
    """Ratings given so far, low ratings and support tickets in the last 180 days."""
    n = len(index)
    rows, positions, days_ago = _dated_rows(feedback, "feedback", "created_at", index, as_of_day)
    recent = days_ago < 180
    out: dict[str, np.ndarray] = {}
    if "rating" in feedback.columns:
        rating = feedback["rating"].to_numpy(dtype=np.float64, na_value=np.nan)[rows]
        rated = ~np.isnan(rating)
        count = np.bincount(positions[rated], minlength=n).astype(np.float64)
        total = np.bincount(positions[rated], weights=rating[rated], minlength=n)
        out["ratings"] = count
        out["mean_rating"] = _ratio(total, count)
        low = rated & (rating <= 2) & recent
        out["low_ratings_180d"] = np.bincount(positions[low], minlength=n).astype(np.float64)
    if "kind" in feedback.columns:
        kind = feedback["kind"]
        if not isinstance(kind.dtype, pd.CategoricalDtype):
            kind = kind.astype("category")
        is_ticket = pd.Index(kind.cat.categories.astype(str)).str.strip().str.lower() == "ticket"
        ticket = np.append(np.asarray(is_ticket, dtype=bool), False)[kind.cat.codes.to_numpy()]
        ticket = ticket[rows] & recent
        out["tickets_180d"] = np.bincount(positions[ticket], minlength=n).astype(np.float64)
    return out


def _message_features(messages: pd.DataFrame, index: pd.Index, as_of_day: int) -> dict:
    """Messages received, opened and clicked in the last 90 days; open rate over 365 days."""
    n = len(index)
    rows, positions, days_ago = _dated_rows(messages, "messages", "sent_at", index, as_of_day)
    in_90 = days_ago < 90
    in_365 = days_ago < 365
    out: dict[str, np.ndarray] = {
        "messages_90d": np.bincount(positions[in_90], minlength=n).astype(np.float64)
    }
    if "opened" in messages.columns:
        opened = _bool_values(messages["opened"])[rows]
        out["opened_90d"] = np.bincount(positions[in_90 & opened], minlength=n).astype(float)
        sent_365 = np.bincount(positions[in_365], minlength=n)
        opened_365 = np.bincount(positions[in_365 & opened], minlength=n)
        out["open_rate_365d"] = _ratio(opened_365, sent_365)
    if "clicked" in messages.columns:
        clicked = _bool_values(messages["clicked"])[rows]
        out["clicked_90d"] = np.bincount(positions[in_90 & clicked], minlength=n).astype(float)
    return out


def churn_features(
    reductions: OrderReductions,
    signals: pd.DataFrame,
    as_of: pd.Timestamp | str,
    customers: pd.DataFrame | None = None,
    feedback: pd.DataFrame | None = None,
    messages: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Build the churn-risk features of every customer with a purchase up to *as_of*.

    Parameters
    ----------
    reductions : OrderReductions
        ``reduce_orders(orders, as_of, customer_days=True)``. Its ``customers`` table decides
        the rows: pass a copy narrowed to some customers (``dataclasses.replace(reductions,
        customers=...)``) to build features for those only.
    signals : pandas.DataFrame
        ``reduce_order_signals(orders, as_of)``; the optional order columns it had decide which
        signal features appear.
    as_of : Timestamp or str
        The day the features describe; must be the day of *reductions*. Feedback and messages
        dated after it are ignored.
    customers, feedback, messages : pandas.DataFrame, optional
        Canonical tables. Missing ones (``None``) leave their features out and are listed in
        ``attrs["missing_sources"]``.

    Returns
    -------
    pandas.DataFrame
        Index ``customer_id`` (the rows of ``reductions.customers``, same order). Numeric
        features are float64 (NaN where undefined, e.g. gaps of one-time buyers), categorical
        ones are pandas categoricals with rare values grouped as ``"other"``; every column is
        described, with its unit, in :data:`FEATURE_LABELS`. ``attrs``: ``"as_of"``
        (Timestamp), ``"missing_sources"`` (names of the tables not given) and
        ``"missing_columns"`` (``"table.column"`` of the optional columns whose features are
        absent, e.g. ``"orders.discount"``, ``"feedback.rating"``).

    Raises
    ------
    custkit.errors.ParamsError
        When the reductions lack ``customer_days`` or were built for another day.
    custkit.errors.DataError
        When a table lacks its ``customer_id`` or date column.
    """
    day = _check_as_of(reductions, as_of)
    as_of_day = int(day.value // DAY_NS)
    index = pd.Index(reductions.customers["customer_id"], name="customer_id")
    if not index.is_unique:
        raise DataError(
            "reductions.customers has duplicate customer ids.",
            hint="pass the OrderReductions of reduce_orders unchanged, or narrowed with a mask.",
        )
    if not isinstance(signals, pd.DataFrame):
        raise ParamsError(
            "signals must be the DataFrame of reduce_order_signals(orders, as_of). "
            f"Got {type(signals).__name__} instead."
        )
    columns: dict[str, object] = {}
    columns.update(_purchase_features(reductions, index, as_of_day))
    columns.update(_signal_features(signals, index))
    if "first_order_channel" in reductions.customers.columns:
        columns["first_order_channel"] = reductions.customers["first_order_channel"].array
    missing_sources = []
    missing_columns = [
        f"orders.{c}" for c, signal in _ORDER_COLUMNS.items() if signal not in signals.columns
    ]
    for name, table, build in (
        ("customers", customers, lambda t: _customer_features(t, index)),
        ("feedback", feedback, lambda t: _feedback_features(t, index, as_of_day)),
        ("messages", messages, lambda t: _message_features(t, index, as_of_day)),
    ):
        if table is None:
            missing_sources.append(name)
        else:
            columns.update(build(table))
            missing_columns += [
                f"{name}.{c}" for c in _OPTIONAL_COLUMNS[name] if c not in table.columns
            ]
    ordered = {}
    for name in FEATURE_LABELS:
        if name in columns:
            values = columns[name]
            if name in CATEGORICAL_FEATURES:
                ordered[name] = _bucketed(values)
            else:
                ordered[name] = np.asarray(values, dtype=np.float64)
    frame = pd.DataFrame(ordered, index=index, copy=False)
    frame.attrs["as_of"] = day
    frame.attrs["missing_sources"] = missing_sources
    frame.attrs["missing_columns"] = missing_columns
    return frame
