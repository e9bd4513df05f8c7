"""Per-customer split-test metrics over fixed windows from each customer's own exposure, reduced to
per-variant sufficient statistics.

Every customer is measured from the day they were exposed (assigned) over the same fixed windows,
30 / 60 / 90 days by default, so a customer exposed early and one exposed late count alike, and a
customer enters a window's results only once that window is complete at the as-of date. Day 0 is
the day of exposure and a window of W days covers days 1…W after it: the per-day purchase table
cannot tell a purchase made before the exposure on that day from one made after it, and a test
shown at checkout would otherwise count the very purchase that exposed the customer
(``include_exposure_day=True`` counts day 0 as well). "Month k since exposure" is days
30(k-1)+1 … 30k, so month 2 is days 31–60.

Revenue and margin per customer can be capped (winsorised) before they are summed, as
GrowthBook's percentile capping: per experiment and window, the cap is the given percentile of the
positive per-customer values of every variant pooled, so one customer's huge order cannot decide a
test, and the cap does not depend on the variant (:func:`exposure_sums`, ``cap_percentile``).
Average order value keeps every order's revenue: capped per customer, its numerator would fall
for the variant that makes customers order more (on the tests' store with 30% more orders in B,
capped AOV read "B lower" where there is no change in order value).

Metrics (:data:`METRICS`): conversion (bought at all in the window), orders, revenue and margin
(when orders carry ``cost``) per customer, average order value (a ratio metric: revenue / orders
over the variant, compared by the delta method), repeat purchase (bought on two or more days in
the window). Revenue in the ``pre_exposure_days`` before the exposure day is the CUPED
covariate (:func:`cuped_adjust`).

Assignments are checked first (:func:`clean_assignments`): rows of a customer in two variants of
one experiment, rows assigned after the as-of date, variants the params do not plan and repeated
rows are set aside with a reason and counted per experiment, as the data layer does for input rows;
nothing is dropped silently.

How it is computed, and why not a pandas merge
----------------------------------------------
The numbers come from :attr:`custkit.data.reduce.OrderReductions.customer_days`, the per-customer
-day table every report shares; raw orders are not scanned again. That table is sorted by
customer and day, so a packed 64-bit key (customer, day) and prefix sums of orders, revenue and
margin turn "what did customer c buy between days d1 and d2" into two ``numpy.searchsorted``
lookups and a subtraction, for every assignment and every window edge at once. A merge of
assignments with customer-days followed by a group-by would first build one row per assignment
and purchase day (tens of millions on a large store) and then hash them again. The per-variant
sums are ``numpy.bincount`` over (experiment, variant, month of window completion) codes; keeping
the completion month lets a report take the monthly looks of a sequential test from the same
sums.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from custkit.data.periods import DAY_NS
from custkit.errors import DataError, ParamsError

if TYPE_CHECKING:
    from custkit.data.reduce import OrderReductions
    from custkit.splittest.comparisons import MetricComparison
    from custkit.splittest.design import ExperimentDesign

_KEY_BITS = 62
#: Days in a "month since exposure".
MONTH_DAYS = 30

#: Why an assignment row was set aside, in the order the checks run (a row gets the first).
ASSIGNMENT_REASONS: dict[str, str] = {
    "missing_value": "experiment, customer, variant or assignment time is empty",
    "unknown_variant": "the variant is not one of the variants planned for the experiment",
    "assigned_after_as_of": "assigned after the as-of date",
    "several_variants": "the customer is assigned to more than one variant of the experiment; "
    "all of the customer's rows are set aside",
    "duplicate_assignment": "a repeat of the customer's assignment to the same variant; the "
    "earliest is kept",
}


@dataclass(frozen=True)
class MetricSpec:
    """One split-test metric.

    Attributes
    ----------
    name : str
    kind : {"proportion", "mean", "ratio"}
        How variants are compared (:mod:`custkit.splittest.comparisons`): a difference of
        proportions, Welch's t-test of means, or the delta method for a ratio of sums.
    label : str
        What a manager reads.
    unit : {"share", "count", "money"}
    description : str
    """

    name: str
    kind: Literal["proportion", "mean", "ratio"]
    label: str
    unit: Literal["share", "count", "money"]
    description: str


#: The metrics of a split-test review, in report order. ``margin`` needs orders with ``cost``.
METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec("conversion", "proportion", "Bought", "share", "share of customers who bought"),
        MetricSpec("orders", "mean", "Orders per customer", "count", "orders per customer"),
        MetricSpec("revenue", "mean", "Revenue per customer", "money", "revenue per customer"),
        MetricSpec(
            "aov", "ratio", "Average order value", "money", "revenue / orders over the variant"
        ),
        MetricSpec(
            "repeat_purchase",
            "proportion",
            "Bought on 2+ days",
            "share",
            "share of customers who bought on two or more days",
        ),
        MetricSpec("margin", "mean", "Margin per customer", "money", "revenue − cost per customer"),
    )
}
#: Per-customer values summed per variant (``sum_<value>``; ``sumsq_`` for means).
_VALUES = ("conversion", "repeat_purchase", "orders", "revenue", "margin")
_MEANS = ("orders", "revenue", "margin")
#: The metrics broken down by month since exposure (:attr:`ExposureSums.months`).
MONTH_METRICS = ("conversion", "orders", "revenue")
COVARIATE = "pre_revenue"


# ============================================================================ assignments
@dataclass(frozen=True)
class Assignments:
    """Split-test assignments checked for a review.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per experiment and customer: ``experiment_id`` and ``variant`` (categorical of
        text), ``customer_id`` (as in the input), ``assigned_at``; in customer id order, then
        experiment.
    rejected : pandas.DataFrame
        The rows set aside, as given, with a ``reason`` (a key of :data:`ASSIGNMENT_REASONS`).
    accounting : pandas.DataFrame
        Per experiment: ``read = accepted + rejected`` rows and one column per reason.
    as_of : pandas.Timestamp
        Last day counted.
    """

    table: pd.DataFrame
    rejected: pd.DataFrame
    accounting: pd.DataFrame
    as_of: pd.Timestamp


def clean_assignments(
    experiments: pd.DataFrame,
    as_of: pd.Timestamp | str,
    designs: Mapping[str, ExperimentDesign] | None = None,
) -> Assignments:
    """Check split-test assignments and keep one row per experiment and customer.

    Parameters
    ----------
    experiments : pandas.DataFrame
        Canonical experiments table: ``experiment_id``, ``customer_id``, ``variant``,
        ``assigned_at``.
    as_of : Timestamp or str
        Last day counted; rows assigned later are set aside.
    designs : mapping of str to ExperimentDesign, optional
        Only these experiments are checked (rows of others are not part of the review and are
        not counted); a planned design's variants are the known ones. Default: every experiment,
        every variant seen.

    Returns
    -------
    Assignments
        Every row of a reviewed experiment is either in ``table`` or, with its reason, in
        ``rejected``; ``accounting`` counts both per experiment.
    """
    _require(experiments, ("experiment_id", "customer_id", "variant", "assigned_at"))
    end = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
    exp_all, exp_names = pd.factorize(experiments["experiment_id"])
    exp_names = [str(name) for name in exp_names]
    rows = np.arange(len(experiments))
    if designs is not None:  # rows of other experiments (or of none) are not reviewed
        reviewed = np.array([name in designs for name in exp_names] + [False])
        if not reviewed[:-1].all() or (exp_all < 0).any():
            rows = np.flatnonzero(reviewed[exp_all])
    every_row = len(rows) == len(experiments)  # then no copy of the columns is needed

    def reviewed_rows(values: np.ndarray) -> np.ndarray:
        return values if every_row else values[rows]

    exp = reviewed_rows(exp_all)
    variants = experiments["variant"]
    var, var_names = pd.factorize(variants if every_row else variants.iloc[rows])
    var_names = [str(name) for name in var_names]
    ids = reviewed_rows(experiments["customer_id"].to_numpy())
    times = reviewed_rows(experiments["assigned_at"].to_numpy(dtype="datetime64[ns]"))

    reason = np.zeros(len(rows), dtype=np.int8)  # 0: accepted, else 1 + index in REASONS
    codes = {name: i + 1 for i, name in enumerate(ASSIGNMENT_REASONS)}
    missing = (exp < 0) | (var < 0) | pd.isna(ids) | np.isnat(times)
    reason[missing] = codes["missing_value"]
    allowed = _allowed_variants(exp_names, var_names, designs)
    unknown = ~allowed[np.maximum(exp, 0), np.maximum(var, 0)] & (reason == 0)
    reason[unknown] = codes["unknown_variant"]
    late = (times >= np.datetime64(end.as_unit("ns").to_datetime64())) & (reason == 0)
    reason[late] = codes["assigned_after_as_of"]

    candidates = np.flatnonzero(reason == 0)
    if len(candidates) == len(reason):  # the usual case: no copies of the columns
        order, several, repeat = _conflicts(exp, ids, var, times)
        sorted_rows = order
    else:
        order, several, repeat = _conflicts(
            exp[candidates], ids[candidates], var[candidates], times[candidates]
        )
        sorted_rows = candidates[order]
    reason[sorted_rows[several]] = codes["several_variants"]
    reason[sorted_rows[repeat]] = codes["duplicate_assignment"]
    kept = sorted_rows[~several & ~repeat]

    table = pd.DataFrame(
        {
            "experiment_id": pd.Categorical.from_codes(exp[kept], categories=exp_names),
            "customer_id": pd.Series(ids[kept]).astype(experiments["customer_id"].dtype),
            "variant": pd.Categorical.from_codes(var[kept], categories=var_names),
            "assigned_at": times[kept],
        },
        copy=False,  # the arrays are ours: consolidating them would copy them all
    )
    bad = np.flatnonzero(reason > 0)
    rejected = experiments.iloc[rows[bad]].reset_index(drop=True)
    rejected["reason"] = pd.Categorical.from_codes(reason[bad] - 1, list(ASSIGNMENT_REASONS))
    accounting = _assignment_accounting(exp, reason, exp_names, designs)
    return Assignments(table, rejected, accounting, end - pd.Timedelta(days=1))


def _require(frame: pd.DataFrame, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"the experiments table lacks the column(s) {missing}.",
            table="experiments",
            hint="map them in the params file under sources.experiments.columns.",
        )


def _allowed_variants(
    exp_names: list[str],
    var_names: list[str],
    designs: Mapping[str, ExperimentDesign] | None,
) -> np.ndarray:
    """Boolean (experiment code, variant code) table of the variants each experiment may have."""
    allowed = np.ones((max(len(exp_names), 1), max(len(var_names), 1)), dtype=bool)
    for e, name in enumerate(exp_names):
        design = designs.get(name) if designs is not None else None
        if design is not None and design.planned:
            allowed[e] = [v in design.variants for v in var_names] or [False]
    return allowed


def _conflicts(
    exp: np.ndarray, ids: np.ndarray, var: np.ndarray, times: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort rows by (experiment, customer, variant, time) and flag the conflicts.

    Returns the order (positions into the given rows; by customer, then experiment) and, in that
    order, the rows of customers in several variants of an experiment and the later repeats of
    one customer's assignment to one variant.
    """
    n = len(exp)
    if n == 0:
        empty = np.zeros(0, dtype=bool)
        return np.zeros(0, dtype=np.int64), empty, empty
    cust = _id_codes(ids)
    n_var = int(var.max()) + 1
    # customer-major, so the checked table comes in customer order: the purchase lookup then
    # finds its (customer, exposure day) order almost sorted already
    n_exp = int(exp.max()) + 1
    pair = (cust * n_exp + exp.astype(np.int64)) * n_var + var
    time_bits = _KEY_BITS - max(int(pair.max()), 1).bit_length()
    stamp = times.view(np.int64)
    if time_bits >= 16:  # one packed sort; the time is coarsened to fit (milliseconds or so)
        t0 = int(stamp.min())
        shift = max((int(stamp.max()) - t0).bit_length() - time_bits, 0)
        key = pair << time_bits
        key |= (stamp - t0) >> shift
        order = np.argsort(key)
        pair_sorted = key[order] >> time_bits
    else:
        order = np.lexsort((stamp, pair))
        pair_sorted = pair[order]
    new_pair = np.empty(n, dtype=bool)
    new_pair[0] = True
    np.not_equal(pair_sorted[1:], pair_sorted[:-1], out=new_pair[1:])
    customer_sorted = pair_sorted // n_var
    starts = np.flatnonzero(np.r_[True, customer_sorted[1:] != customer_sorted[:-1]])
    variants_per_customer = np.add.reduceat(new_pair.astype(np.int64), starts)
    several = np.repeat(variants_per_customer > 1, np.diff(np.r_[starts, n]))
    return order, several, ~new_pair & ~several


def _id_codes(ids: np.ndarray) -> np.ndarray:
    """Customer codes in id order (whole-number ids: the id minus the smallest)."""
    if ids.dtype.kind in "iu" and len(ids):
        low, high = int(ids.min()), int(ids.max())
        if (high - low + 1).bit_length() <= 40:
            return ids.astype(np.int64) - low
    codes, _ = pd.factorize(ids, sort=True)
    return codes.astype(np.int64)


def _assignment_accounting(
    exp: np.ndarray,
    reason: np.ndarray,
    exp_names: list[str],
    designs: Mapping[str, ExperimentDesign] | None,
) -> pd.DataFrame:
    k = len(ASSIGNMENT_REASONS) + 1
    names = list(designs) if designs is not None else list(exp_names)
    if (exp < 0).any():  # rows without an experiment id are counted on a line of their own
        exp = np.where(exp < 0, len(exp_names), exp)
        exp_names = [*exp_names, "(no experiment id)"]
        names.append(exp_names[-1])
    index = {name: i for i, name in enumerate(exp_names)}
    counts = np.bincount(
        exp.astype(np.int64) * k + reason, minlength=max(len(exp_names), 1) * k
    ).reshape(-1, k)
    rows = []
    for name in names:
        c = counts[index[name]] if name in index else np.zeros(k, dtype=np.int64)
        rows.append({"experiment_id": name, "read": int(c.sum()), "accepted": int(c[0])})
        rows[-1]["rejected"] = rows[-1]["read"] - rows[-1]["accepted"]
        rows[-1].update({r: int(c[i + 1]) for i, r in enumerate(ASSIGNMENT_REASONS)})
    columns = ["experiment_id", "read", "accepted", "rejected", *ASSIGNMENT_REASONS]
    return pd.DataFrame(rows, columns=columns)


# ============================================================================ exposure windows
@dataclass(frozen=True)
class ExposureSums:
    """Per-variant sufficient statistics of every metric, per window and per month since exposure.

    Attributes
    ----------
    windows : pandas.DataFrame
        One row per ``experiment_id``, ``variant``, ``window_days`` and ``completed_month`` (the
        calendar month, ``period[M]``, in which the customers' windows became complete), over
        the customers whose window is complete at ``as_of``: ``customers``, ``sum_<value>`` for
        conversion, repeat_purchase, orders, revenue (and margin), ``sumsq_<value>`` for the
        means, ``sum_revenue_x_orders`` (average order value) and, for CUPED, ``sum_pre_revenue``,
        ``sumsq_pre_revenue`` and ``sum_pre_revenue_x_<mean>``. Sum over ``completed_month``
        (:meth:`totals`) for the results at ``as_of``; cumulate it for monthly looks.
    months : pandas.DataFrame
        The sums of :data:`MONTH_METRICS` per ``experiment_id``, ``variant`` and ``month``
        since exposure (1, 2, …: days 1–30, 31–60, …), over the customers whose month is
        complete at ``as_of``.
    exposure : pandas.DataFrame
        Per ``experiment_id`` and ``variant``: ``customers`` (every valid assignment up to
        ``as_of``), ``first_exposure``, ``last_exposure``.
    as_of : pandas.Timestamp
    windows_days : tuple of int
    months_count : int
    pre_exposure_days : int
        0 when no covariate was computed.
    include_exposure_day : bool
    has_margin : bool
        Orders carried ``cost``, so margin sums are present.
    cap_percentile : float or None
        The percentile revenue and margin per customer were capped at (None: not capped).
    caps : pandas.DataFrame
        One row per ``experiment_id``, ``value`` (revenue, margin, pre_revenue) and period
        (``window_days``, or ``month`` since exposure; the other is 0): the ``cap``, the
        ``customers`` it was computed over (complete, with a positive value) and how many were
        ``capped`` (their value was above it). Empty when nothing was capped.
    """

    windows: pd.DataFrame
    months: pd.DataFrame
    exposure: pd.DataFrame
    as_of: pd.Timestamp
    windows_days: tuple[int, ...]
    months_count: int
    pre_exposure_days: int
    include_exposure_day: bool
    has_margin: bool
    sum_columns: tuple[str, ...] = field(default=())
    cap_percentile: float | None = None
    caps: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_CAP_COLUMNS))

    def totals(self, up_to: pd.Timestamp | str | None = None) -> pd.DataFrame:
        """Sums per ``experiment_id``, ``variant`` and ``window_days`` over the customers whose
        window was complete by *up_to* (default: ``as_of``)."""
        frame = self.windows
        if up_to is not None:
            month = pd.Timestamp(up_to).to_period("M")
            frame = frame.loc[frame["completed_month"] <= month]
        keys = ["experiment_id", "variant", "window_days"]
        return (
            frame.groupby(keys, observed=True, sort=True)[["customers", *self.sum_columns]]
            .sum()
            .reset_index()
        )


def exposure_sums(
    assignments: Assignments | pd.DataFrame,
    reductions: OrderReductions,
    windows_days: Sequence[int] = (30, 60, 90),
    pre_exposure_days: int = 90,
    include_exposure_day: bool = False,
    months: int | None = None,
    cap_percentile: float | None = None,
) -> ExposureSums:
    """Reduce every assignment's purchases over its windows to per-variant sufficient statistics.

    Parameters
    ----------
    assignments : Assignments or pandas.DataFrame
        From :func:`clean_assignments` (or its ``table``): one row per experiment and customer.
    reductions : OrderReductions
        ``custkit.reduce_orders(orders, as_of, customer_days=True)``; its ``as_of`` is the
        review's.
    windows_days : sequence of int, default (30, 60, 90)
        Window lengths in days from exposure.
    pre_exposure_days : int, default 90
        Days before the exposure day whose revenue is the CUPED covariate; 0: none.
    include_exposure_day : bool, default False
        Count purchases on the day of exposure in every window (see the module docstring).
    months : int, optional
        Months since exposure to break the effect into; default: enough to cover the longest
        window.
    cap_percentile : float, optional
        Cap (winsorise) revenue, margin and pre-exposure revenue per customer at this
        percentile, in ``(0, 1)``, of the positive values of every variant of the experiment
        pooled, over the customers each window (or month) counts: GrowthBook's percentile
        capping with "ignore zeros", so a store where most customers buy nothing in a window
        still gets a cap above its typical buyer. None or 1 (default None): no cap.

    Returns
    -------
    ExposureSums
    """
    windows = _check_windows(windows_days)
    pre_days = _check_whole("pre_exposure_days", pre_exposure_days, 0)
    months = math.ceil(windows[-1] / MONTH_DAYS) if months is None else months
    months = _check_whole("months", months, 1)
    cap_percentile = check_cap_percentile(cap_percentile)
    table = _as_categories(
        assignments.table if isinstance(assignments, Assignments) else assignments
    )
    days = _customer_days(reductions)
    if isinstance(assignments, Assignments) and assignments.as_of != reductions.as_of:
        raise ParamsError(
            f"The assignments were checked as of {assignments.as_of:%Y-%m-%d} but the orders "
            f"were reduced as of {reductions.as_of:%Y-%m-%d}; use the same as-of date for both."
        )
    as_of_day = int(reductions.as_of.normalize().value // DAY_NS)
    has_margin = "margin" in days.columns
    values = [v for v in _VALUES if v != "margin" or has_margin]
    means = [v for v in _MEANS if v != "margin" or has_margin]

    exposure_day = table["assigned_at"].to_numpy(dtype="datetime64[ns]").view(np.int64) // DAY_NS
    lookup = _PurchaseLookup(days, table["customer_id"], exposure_day)
    exposure_day = exposure_day[lookup.order]  # everything below in the lookup's order
    first = 0 if include_exposure_day else 1
    exp_codes = table["experiment_id"].cat.codes.to_numpy().astype(np.int64)[lookup.order]
    var_codes = table["variant"].cat.codes.to_numpy().astype(np.int64)[lookup.order]
    n_var = max(len(table["variant"].cat.categories), 1)
    group = exp_codes * n_var + var_codes
    n_groups = max(len(table["experiment_id"].cat.categories), 1) * n_var

    capper = _Capper(cap_percentile, exp_codes, len(table["experiment_id"].cat.categories))
    covariate = lookup.window(-pre_days, 0)["revenue"] if pre_days else None
    if covariate is not None:
        capper.cap(covariate, None, "pre_revenue", 0, 0)
    # Reused buffers: on a fresh process every new 40 MB array costs page faults.
    index = np.empty(len(group), dtype=np.int64)
    scratch = np.empty(len(group), dtype=np.int64)
    pending = np.empty(len(group), dtype=bool)
    low_day = int(exposure_day.min()) if len(group) else 0
    month_of = _month_table(low_day, int(exposure_day.max()) + windows[-1] if len(group) else 0)
    window_frames = []
    for w in windows:
        np.greater(exposure_day, as_of_day - w, out=pending)  # window not over at as-of
        np.subtract(exposure_day, low_day - w, out=scratch)
        np.take(month_of, scratch, out=index, mode="clip")  # calendar month of completion
        done_months = index[~pending]
        m0 = int(done_months.min()) if done_months.size else 0
        n_months = int(done_months.max()) - m0 + 1 if done_months.size else 1
        size = n_groups * n_months
        index -= m0
        np.multiply(group, n_months, out=scratch)
        index += scratch
        index[pending] = size  # one extra bin, dropped: no masked copy of every value
        bought = lookup.window(first, w + 1, reuse=True)
        # average order value keeps every order's revenue: capping its numerator per customer
        # would lower the ratio of a variant that raises orders per customer
        uncapped = bought["revenue"].copy() if capper.percentile is not None else None
        for value in ("revenue", "margin"):
            if value in bought:
                capper.cap(bought[value], pending, value, w, 0)
        sums = _variant_sums(bought, index, size, values, means, covariate, uncapped)
        frame = _sums_frame(sums, table, n_var, n_months)
        frame.insert(2, "window_days", w)
        ordinals = (frame.pop("_m").to_numpy() + m0).astype(np.int64)
        frame.insert(3, "completed_month", pd.arrays.PeriodArray(ordinals, dtype="period[M]"))
        window_frames.append(frame)
    month_frames = []
    month_values = [v for v in values if v in MONTH_METRICS]
    month_means = [v for v in means if v in MONTH_METRICS]
    for k in range(1, months + 1):
        start = first if k == 1 else MONTH_DAYS * (k - 1) + 1
        np.greater(exposure_day, as_of_day - MONTH_DAYS * k, out=pending)
        index[...] = group
        index[pending] = n_groups
        bought = lookup.window(start, MONTH_DAYS * k + 1, reuse=True)
        capper.cap(bought["revenue"], pending, "revenue", 0, k)
        sums = _variant_sums(bought, index, n_groups, month_values, month_means, None)
        frame = _sums_frame(sums, table, n_var, 1).drop(columns="_m")
        frame.insert(2, "month", k)
        month_frames.append(frame)
    sum_columns = tuple(c for c in window_frames[0].columns if c.startswith("sum"))
    stamps = table["assigned_at"].to_numpy(dtype="datetime64[ns]")[lookup.order]
    by_group = pd.Series(stamps).groupby(group).agg(["size", "min", "max"])  # integer keys: fast
    exp_of, var_of = np.divmod(by_group.index.to_numpy(), n_var)
    exposure = pd.DataFrame(
        {
            "experiment_id": pd.Categorical.from_codes(exp_of, dtype=table["experiment_id"].dtype),
            "variant": pd.Categorical.from_codes(var_of, dtype=table["variant"].dtype),
            "customers": by_group["size"].to_numpy(),
            "first_exposure": by_group["min"].to_numpy(),
            "last_exposure": by_group["max"].to_numpy(),
        }
    )
    return ExposureSums(
        windows=pd.concat(window_frames, ignore_index=True),
        months=pd.concat(month_frames, ignore_index=True),
        exposure=exposure,
        as_of=reductions.as_of,
        windows_days=windows,
        months_count=months,
        pre_exposure_days=pre_days,
        include_exposure_day=bool(include_exposure_day),
        has_margin=has_margin,
        sum_columns=sum_columns,
        cap_percentile=cap_percentile,
        caps=capper.table(table["experiment_id"].cat.categories),
    )


_CAP_COLUMNS = ["experiment_id", "value", "window_days", "month", "cap", "customers", "capped"]


def check_cap_percentile(cap_percentile: object) -> float | None:
    """*cap_percentile* as a float in (0, 1), or None for no cap (None or 1); else a
    :class:`ParamsError`."""
    if cap_percentile is None:
        return None
    ok = (
        isinstance(cap_percentile, int | float | np.floating)
        and not isinstance(cap_percentile, bool)
        and 0 < cap_percentile <= 1
    )
    if not ok:
        raise ParamsError(
            "cap_percentile must be a float in the range (0, 1], e.g. 0.99 to cap revenue per "
            f"customer at its 99th percentile, or 1 for no cap. Got {cap_percentile!r} instead."
        )
    return None if cap_percentile == 1 else float(cap_percentile)


class _Capper:
    """Caps per-customer values in place at a percentile per experiment, and keeps the caps.

    Only the counted positive values (a fraction of the assignments: most customers buy nothing
    in a window) are gathered and grouped by experiment (a radix sort of small experiment codes);
    each cap is then one ``numpy.quantile`` (a partition; linear interpolation, as SQL's
    ``PERCENTILE_CONT``) and capping is one ``numpy.minimum`` with the caps indexed by
    experiment code. On 5M assignments (bench_splittest.py) it adds about 0.15 s per capped
    value and window, 1.6 s to a 10-13 s review.
    """

    def __init__(self, percentile: float | None, exp_codes: np.ndarray, n_experiments: int):
        self.percentile = percentile
        self._n = max(n_experiments, 1)
        self._codes = exp_codes.astype(np.int16 if self._n < 2**15 else np.int64)
        self._rows: list[dict] = []

    def cap(
        self, values: np.ndarray, pending: np.ndarray | None, name: str, window: int, month: int
    ) -> None:
        """Cap *values* (rows in the lookup's order) in place; rows *pending* (window not
        over) do not count towards the cap, but are capped too."""
        if self.percentile is None:
            return
        counted = values > 0
        if pending is not None:
            counted &= ~pending
        rows = np.flatnonzero(counted)
        codes = self._codes[rows]
        order = np.argsort(codes, kind="stable")  # radix sort: small integer codes
        positive = values[rows[order]]
        bounds = np.searchsorted(codes[order], np.arange(self._n + 1))
        caps = np.full(self._n, np.inf)
        for e in range(self._n):
            mine = positive[bounds[e] : bounds[e + 1]]
            if mine.size:
                caps[e] = np.quantile(mine, self.percentile)
                self._rows.append(
                    {
                        "experiment": e,
                        "value": name,
                        "window_days": window,
                        "month": month,
                        "cap": float(caps[e]),
                        "customers": int(mine.size),
                        "capped": int((mine > caps[e]).sum()),
                    }
                )
        np.minimum(values, caps[self._codes], out=values)

    def table(self, experiments: pd.Index) -> pd.DataFrame:
        if not self._rows:
            return pd.DataFrame(columns=_CAP_COLUMNS)
        frame = pd.DataFrame(self._rows)
        frame.insert(0, "experiment_id", experiments[frame.pop("experiment").to_numpy()])
        return frame[_CAP_COLUMNS]


def customer_metrics(
    assignments: Assignments | pd.DataFrame,
    reductions: OrderReductions,
    window_days: int = 90,
    pre_exposure_days: int = 90,
    include_exposure_day: bool = False,
) -> pd.DataFrame:
    """Every assigned customer's metrics over one window from exposure, for a closer look.

    The per-customer values :func:`exposure_sums` sums; same parameters.

    Returns
    -------
    pandas.DataFrame
        The assignment columns plus ``exposure_date``, ``window_complete`` (the window ended by
        the as-of date; incomplete windows hold the purchases so far), ``purchase_days``,
        ``conversion``, ``repeat_purchase``, ``orders``, ``revenue``, ``margin`` (when orders
        have cost) and ``pre_revenue`` (revenue in the ``pre_exposure_days`` before exposure).
    """
    (w,) = _check_windows([window_days])
    pre_days = _check_whole("pre_exposure_days", pre_exposure_days, 0)
    table = assignments.table if isinstance(assignments, Assignments) else assignments
    days = _customer_days(reductions)
    exposure_day = table["assigned_at"].to_numpy(dtype="datetime64[ns]").view(np.int64) // DAY_NS
    lookup = _PurchaseLookup(days, table["customer_id"], exposure_day)
    back = np.empty_like(lookup.order)
    back[lookup.order] = np.arange(len(back))  # from the lookup's order to the table's
    bought = {k: v[back] for k, v in lookup.window(0 if include_exposure_day else 1, w + 1).items()}
    as_of_day = int(reductions.as_of.normalize().value // DAY_NS)
    frame = table.reset_index(drop=True).copy()
    frame["exposure_date"] = (exposure_day * DAY_NS).view("datetime64[ns]")
    frame["window_complete"] = exposure_day + w <= as_of_day
    frame["purchase_days"] = bought["days"]
    frame["conversion"] = bought["days"] > 0
    frame["repeat_purchase"] = bought["days"] >= 2
    for value in ("orders", "revenue", "margin"):
        if value in bought:
            frame[value] = bought[value]
    pre = lookup.window(-pre_days, 0)["revenue"][back] if pre_days else np.zeros(len(frame))
    frame[COVARIATE] = pre
    return frame


def _as_categories(table: pd.DataFrame) -> pd.DataFrame:
    """Experiment and variant as categoricals of text (as :func:`clean_assignments` gives)."""
    changes = {
        column: table[column].astype(str).astype("category")
        for column in ("experiment_id", "variant")
        if not isinstance(table[column].dtype, pd.CategoricalDtype)
    }
    return table.assign(**changes) if changes else table


def _check_windows(windows_days: Sequence[int]) -> tuple[int, ...]:
    try:
        windows = sorted({int(w) for w in windows_days})
        ok = all(float(w).is_integer() for w in windows_days) and bool(windows)
    except (TypeError, ValueError):
        ok = False
    if not ok or windows[0] < 1 or windows[-1] > 3650:
        raise ParamsError(
            "windows_days must be a list of whole numbers of days in the range [1, 3650], e.g. "
            f"[30, 60, 90]. Got {windows_days!r} instead."
        )
    return tuple(windows)


def _check_whole(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ParamsError(f"{name} must be a whole number >= {minimum}. Got {value!r} instead.")
    return int(value)


def _customer_days(reductions: OrderReductions) -> pd.DataFrame:
    days = reductions.customer_days
    if days is None:
        raise ParamsError(
            "The split-test metrics need the per-customer-day table: reduce the orders with "
            "custkit.reduce_orders(orders, as_of, customer_days=True)."
        )
    return days


def _month_table(first_day: int, last_day: int) -> np.ndarray:
    """Calendar month (months since 1970-01) of every day from *first_day* to *last_day* (days
    since 1970-01-01): indexing it is fast, numpy's day-to-month cast does calendar arithmetic
    per element."""
    days = np.arange(first_day, max(last_day, first_day) + 1).astype("datetime64[D]")
    return days.astype("datetime64[M]").astype(np.int64)


class _PurchaseLookup:
    """What each assigned customer bought between two days relative to their exposure day.

    The customer-day table is sorted by customer then day (as :func:`reduce_orders` builds it),
    so a key packing (customer code, day) is sorted too; its prefix sums give the purchases of
    any day range as a difference of two positions found by ``searchsorted``. The assignments
    are put in (customer, exposure day) order first (``order``; results come in that order):
    sorted queries make each search start near the last one, four times faster on a million
    customers than the assignments' own order.
    """

    def __init__(self, days: pd.DataFrame, customer_ids: pd.Series, exposure_day: np.ndarray):
        ids = days["customer_id"]
        day = days["order_day"].to_numpy(dtype="datetime64[ns]").view(np.int64) // DAY_NS
        n = len(day)
        new_customer = np.ones(n, dtype=bool)
        if n:
            id_values = ids.to_numpy()
            np.not_equal(id_values[1:], id_values[:-1], out=new_customer[1:])
        row_code = np.cumsum(new_customer) - 1
        uniques = ids.iloc[np.flatnonzero(new_customer)]
        codes = _match_ids(uniques, customer_ids)
        n_unique = len(uniques)
        codes[codes < 0] = n_unique  # no purchases at all: past every row
        self._d0 = int(day.min()) if n else 0
        span = int(day.max()) - self._d0 if n else 0
        self._day_bits = (span + 2).bit_length()
        if n_unique.bit_length() + 1 + self._day_bits > _KEY_BITS:
            raise DataError(
                "too many customers and days to index the purchases of split tests.",
                table="orders",
            )
        self._key = row_code << self._day_bits | (day - self._d0)
        self.order = _customer_day_order(codes, exposure_day)
        self._query = codes[self.order] << self._day_bits
        self._exposure = exposure_day[self.order]
        self._positions: dict[int, np.ndarray] = {}
        self._buffers: tuple | None = None
        self._names = [c for c in ("orders", "revenue", "margin") if c in days.columns]
        self._prefix = []
        for name in self._names:
            prefix = np.zeros(n + 1)
            np.cumsum(days[name].to_numpy(dtype=np.float64), out=prefix[1:])
            self._prefix.append(prefix)

    def _position(self, offset: int) -> np.ndarray:
        """Index of the first row on or after exposure day + *offset*, per assignment."""
        if offset not in self._positions:
            limit = (1 << self._day_bits) - 1
            query = self._exposure + (offset - self._d0)
            np.clip(query, 0, limit, out=query)
            query |= self._query
            self._positions[offset] = np.searchsorted(self._key, query)
        return self._positions[offset]

    def window(self, start: int, stop: int, reuse: bool = False) -> dict[str, np.ndarray]:
        """Purchase days, orders, revenue (and margin) on days [start, stop) after exposure,
        in ``order``.

        With *reuse*, the arrays are written into buffers the next ``reuse`` call overwrites:
        on a fresh process every new 40 MB array costs page faults, more than filling it.
        """
        low, high = self._position(start), self._position(stop)
        m, k = len(low), len(self._names)
        if not reuse or self._buffers is None:
            buffers = (np.empty(m), np.empty((k, m)), np.empty(m))
            if reuse:
                self._buffers = buffers
        days, columns, lower = self._buffers if reuse else buffers
        np.subtract(high, low, out=days, casting="unsafe")
        for prefix, column in zip(self._prefix, columns, strict=True):
            # mode="clip": with "raise", numpy buffers the whole output first
            np.take(prefix, high, out=column, mode="clip")
            np.take(prefix, low, out=lower, mode="clip")
            column -= lower
        out = {"days": days}
        out.update(zip(self._names, columns, strict=True))
        return out


def _customer_day_order(codes: np.ndarray, exposure_day: np.ndarray) -> np.ndarray:
    """Permutation sorting assignments by customer code, then exposure day."""
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    low = int(exposure_day.min())
    day_bits = (int(exposure_day.max()) - low + 1).bit_length()
    if int(codes.max()).bit_length() + day_bits <= _KEY_BITS:
        # stable: timsort, fast on the nearly sorted order clean_assignments leaves
        return np.argsort(codes << day_bits | (exposure_day - low), kind="stable")
    return np.lexsort((exposure_day, codes))


def _match_ids(uniques: pd.Series, ids: pd.Series) -> np.ndarray:
    """Position of each id in *uniques* (sorted ids of the customer-day table), -1 if absent."""
    left, right = uniques.to_numpy(), ids.to_numpy()
    if left.dtype.kind in "iu" and right.dtype.kind in "iu":
        position = np.searchsorted(left, right)
        safe = np.minimum(position, max(len(left) - 1, 0))
        found = (position < len(left)) & (left[safe] == right) if len(left) else position < 0
        return np.where(found, position, -1).astype(np.int64)
    if left.dtype.kind != right.dtype.kind:  # e.g. numbers in one table, text in the other
        return pd.Index(uniques.astype(str)).get_indexer(ids.astype(str)).astype(np.int64)
    return pd.Index(uniques).get_indexer(ids).astype(np.int64)


def _variant_sums(
    bought: Mapping[str, np.ndarray],
    index: np.ndarray,
    size: int,
    values: Sequence[str],
    means: Sequence[str],
    pre_revenue: np.ndarray | None,
    uncapped_revenue: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """``numpy.bincount`` of every sufficient statistic over *index*; index ``size`` collects
    the customers whose window is not over, and is dropped. Products go through one scratch
    array (see :meth:`_PurchaseLookup.window` on page faults). With *uncapped_revenue*, the
    revenue sums of average order value (``sum_aov_revenue``, ``sumsq_aov_revenue``,
    ``sum_revenue_x_orders``) come from it."""

    def total(weights: np.ndarray | None) -> np.ndarray:
        return np.bincount(index, weights=weights, minlength=size + 1)[:size]

    purchase_days = bought["days"]
    scratch = np.empty_like(purchase_days)
    sums = {"customers": total(None).astype(np.int64)}
    for name in values:
        if name == "conversion":  # days are whole numbers >= 0: min(days, 1) is "bought"
            sums["sum_conversion"] = total(np.minimum(purchase_days, 1.0, out=scratch))
        elif name == "repeat_purchase":
            np.subtract(purchase_days, 1.0, out=scratch)
            sums["sum_repeat_purchase"] = total(np.clip(scratch, 0.0, 1.0, out=scratch))
        else:
            sums[f"sum_{name}"] = total(bought[name])
    for name in means:
        sums[f"sumsq_{name}"] = total(np.square(bought[name], out=scratch))
    if "revenue" in means and "orders" in means:
        revenue = bought["revenue"] if uncapped_revenue is None else uncapped_revenue
        sums["sum_revenue_x_orders"] = total(np.multiply(revenue, bought["orders"], out=scratch))
        if uncapped_revenue is not None:
            sums["sum_aov_revenue"] = total(uncapped_revenue)
            sums["sumsq_aov_revenue"] = total(np.square(uncapped_revenue, out=scratch))
    if pre_revenue is not None:
        sums[f"sum_{COVARIATE}"] = total(pre_revenue)
        sums[f"sumsq_{COVARIATE}"] = total(np.square(pre_revenue, out=scratch))
        for name in means:
            sums[f"sum_{COVARIATE}_x_{name}"] = total(
                np.multiply(pre_revenue, bought[name], out=scratch)
            )
    return sums


def _sums_frame(
    sums: Mapping[str, np.ndarray], table: pd.DataFrame, n_var: int, n_months: int
) -> pd.DataFrame:
    """Rows with customers, labelled by experiment, variant and (``_m``) completion month."""
    nonzero = np.flatnonzero(sums["customers"])
    group, month = np.divmod(nonzero, n_months)
    exp, var = np.divmod(group, n_var)
    experiments = table["experiment_id"].cat.categories
    variants = table["variant"].cat.categories
    frame = pd.DataFrame(
        {
            "experiment_id": pd.Categorical.from_codes(exp, categories=experiments),
            "variant": pd.Categorical.from_codes(var, categories=variants),
            "_m": month,
            **{name: values[nonzero] for name, values in sums.items()},
        }
    )
    return frame


# ============================================================================ comparisons
def compare_metric(
    metric: str,
    control: Mapping[str, float],
    challenger: Mapping[str, float],
    alpha: float = 0.05,
    relative: bool = True,
    unadjusted_means: tuple[float, float] | None = None,
) -> MetricComparison | None:
    """Compare one metric between a challenger and the control from their sums.

    Parameters
    ----------
    metric : str
        A key of :data:`METRICS`.
    control, challenger : mapping
        One row each of :meth:`ExposureSums.totals` (or of ``months``): ``customers`` and the
        ``sum_*`` columns.
    alpha, relative, unadjusted_means
        As in :func:`custkit.splittest.compare_means` (``unadjusted_means``: mean metrics
        only, for sums of :func:`cuped_adjust`).

    Returns
    -------
    MetricComparison or None
        None when a variant has fewer than two customers (nothing to compare yet).
    """
    from custkit.splittest.comparisons import compare_means, compare_proportions, compare_ratios

    spec = _spec(metric)
    n_a, n_b = int(control["customers"]), int(challenger["customers"])
    if n_a < 2 or n_b < 2:
        return None
    if spec.kind == "proportion":
        key = f"sum_{metric}"
        return compare_proportions(
            round(control[key]), n_a, round(challenger[key]), n_b, relative=relative, alpha=alpha
        )
    if spec.kind == "mean":
        return compare_means(
            *_mean_sums(control, metric),
            *_mean_sums(challenger, metric),
            relative,
            alpha,
            unadjusted_means=unadjusted_means,
        )
    return compare_ratios(*_ratio_sums(control), *_ratio_sums(challenger), relative, alpha)


def _spec(metric: str) -> MetricSpec:
    if metric not in METRICS:
        from custkit.errors import did_you_mean

        raise ParamsError(
            f"metric must be one of {list(METRICS)}. Got {metric!r} instead."
            + did_you_mean(str(metric), METRICS)
        )
    return METRICS[metric]


def _mean_sums(row: Mapping[str, float], value: str) -> tuple[int, float, float]:
    return int(row["customers"]), float(row[f"sum_{value}"]), float(row[f"sumsq_{value}"])


def _ratio_sums(row: Mapping[str, float]) -> tuple[int, float, float, float, float, float]:
    """Average order value: x = revenue (never capped), y = orders per customer."""
    capped = "sum_aov_revenue" in row
    return (
        int(row["customers"]),
        float(row["sum_aov_revenue" if capped else "sum_revenue"]),
        float(row["sum_orders"]),
        float(row["sumsq_aov_revenue" if capped else "sumsq_revenue"]),
        float(row["sumsq_orders"]),
        float(row["sum_revenue_x_orders"]),
    )


@dataclass(frozen=True)
class CupedAdjustment:
    """A mean metric adjusted for pre-exposure revenue (CUPED; Deng et al. 2013).

    Each customer's value ``y`` becomes ``y - theta * (x - mean_x)``, ``x`` being their revenue
    before exposure, with ``theta = cov(x, y) / var(x)`` from the customers of both variants
    pooled (the slope of the least-squares line of y on x). Exposure is random, so x does not
    depend on the variant and the adjusted difference estimates the same effect, with less noise.

    Attributes
    ----------
    applied : bool
        False when there is no pre-exposure history to use (every customer's x is the same,
        typically zero): the sums are then the unadjusted ones.
    theta : float
    variance_reduction : float
        ``1 - var(adjusted difference) / var(difference)``: the share of the variance of the
        B-minus-A estimate that the covariate removes (its interval is
        ``1 - sqrt(1 - variance_reduction)`` narrower).
    control, challenger : dict
        ``customers``, ``sum_<metric>``, ``sumsq_<metric>`` of the adjusted values, ready for
        :func:`compare_metric`.
    note : str
        Why CUPED was not applied, or ``""``.
    unadjusted_means : (float, float)
        The control's and the challenger's unadjusted means: pass them to
        :func:`compare_metric` so that a relative change is taken against the control's
        observed mean, as gbstats does (and as the unadjusted change is).
    """

    applied: bool
    theta: float
    variance_reduction: float
    control: dict
    challenger: dict
    note: str = ""
    unadjusted_means: tuple[float, float] | None = None


def cuped_adjust(
    metric: str, control: Mapping[str, float], challenger: Mapping[str, float]
) -> CupedAdjustment:
    """Adjust a mean metric's sums (orders, revenue, margin) for pre-exposure revenue.

    Parameters
    ----------
    metric : str
        ``"orders"``, ``"revenue"`` or ``"margin"``.
    control, challenger : mapping
        Rows of :meth:`ExposureSums.totals` holding the covariate sums (``sum_pre_revenue``…).

    Returns
    -------
    CupedAdjustment
    """
    if _spec(metric).kind != "mean":
        raise ParamsError(
            f"CUPED adjusts a mean metric ({', '.join(_MEANS)}). Got {metric!r} instead."
        )
    y, x = metric, COVARIATE
    plain = [
        dict(zip(("customers", f"sum_{y}", f"sumsq_{y}"), _mean_sums(row, y), strict=True))
        for row in (control, challenger)
    ]
    if f"sum_{x}" not in control:
        return CupedAdjustment(False, 0.0, 0.0, *plain, note="no pre-exposure period was set")
    n = float(control["customers"]) + float(challenger["customers"])

    def pooled(name: str) -> float:
        return float(control[name]) + float(challenger[name])

    sx, sy = pooled(f"sum_{x}"), pooled(f"sum_{y}")
    ss_x = pooled(f"sumsq_{x}") - sx * sx / n
    cross = pooled(f"sum_{x}_x_{y}") - sx * sy / n
    if n < 3 or ss_x <= 1e-12 * max(pooled(f"sumsq_{x}"), 1.0):
        note = (
            "no customer bought before exposure"
            if pooled(f"sumsq_{x}") == 0
            else "pre-exposure revenue is the same for every customer"
        )
        return CupedAdjustment(False, 0.0, 0.0, *plain, note=note)
    theta = cross / ss_x
    mean_x = sx / n
    adjusted = []
    for row in (control, challenger):
        m = float(row["customers"])
        s_x, s_y = float(row[f"sum_{x}"]), float(row[f"sum_{y}"])
        s_xx, s_yy, s_xy = (
            float(row[f"sumsq_{x}"]),
            float(row[f"sumsq_{y}"]),
            float(row[f"sum_{x}_x_{y}"]),
        )
        shift = theta * mean_x  # y' = (y - theta x) + shift
        total = s_y - theta * s_x
        squares = s_yy - 2 * theta * s_xy + theta**2 * s_xx
        adjusted.append(
            {
                "customers": int(m),
                f"sum_{y}": total + m * shift,
                f"sumsq_{y}": squares + 2 * shift * total + m * shift**2,
            }
        )
    reduction = 1.0 - _difference_variance(adjusted, y) / _difference_variance(plain, y)
    means = tuple(float(r[f"sum_{y}"]) / float(r["customers"]) for r in (control, challenger))
    return CupedAdjustment(True, theta, reduction, *adjusted, unadjusted_means=means)


def _difference_variance(rows: Sequence[Mapping[str, float]], value: str) -> float:
    total = 0.0
    for row in rows:
        n = float(row["customers"])
        mean = row[f"sum_{value}"] / n
        total += max(row[f"sumsq_{value}"] - row[f"sum_{value}"] * mean, 0.0) / (n - 1) / n
    return total if total > 0 else math.nan
