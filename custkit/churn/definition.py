"""Who has churned: a customer has left when the time since their last purchase exceeds what their
own purchase rhythm makes plausible.

The rule, per purchase of a customer (every purchase day, not only the last, so that churn can be
dated month by month and customers who came back are counted):

- **repeat buyers, with a fitted BG/NBD model** (the default): the customer has churned once
  P(alive) — the model's probability that they are still buying, given how many repeat purchases
  they made and when — falls below ``rule.p_alive_churned``. BG/NBD gives that moment in closed
  form (:meth:`custkit.ltv.BGNBD.age_at_p_alive`), so no search is needed;
- **repeat buyers, without a model** (or ``rule.method="gap"``): once ``gap_multiplier`` × their
  median gap between purchase days has passed;
- **one-time buyers**: once ``one_time_window_days`` have passed (BG/NBD cannot say: it lets a
  customer drop out only after a repeat purchase, so their P(alive) stays 1).

A window is never shorter than ``min_window_days``. "At risk" is the same rule with the looser
thresholds (``p_alive_at_risk``, ``at_risk_gap_multiplier``, ``one_time_at_risk_days``).

The median gap used for a purchase is the customer's median over their whole history up to
as-of, so a month-by-month trend of the gap rule looks a little ahead; the BG/NBD rule uses only
the purchases up to each one (its parameters are fitted once, at as-of).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from custkit.data.reduce import _DAY_NS, OrderReductions
from custkit.errors import DataError, ParamsError
from custkit.i18n import _
from custkit.ltv.bgnbd import BGNBD
from custkit.ltv.summary import TIME_UNIT_DAYS

__all__ = [
    "STATUSES",
    "ChurnAssessment",
    "ChurnRule",
    "assess_churn",
    "churn_events",
    "churn_status",
    "monthly_churn",
]

#: Status of a customer at as-of, in order of concern.
STATUSES = ("active", "at_risk", "churned")


def _check_number(name: str, value: object, low: float, high: float, *, integer: bool = False):
    kind = "an int" if integer else "a float"
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if integer:
        ok = ok and float(value) == int(value)
    if not ok or not low <= float(value) <= high:
        raise ParamsError(
            f"The '{name}' parameter must be {kind} in the range [{low:g}, {high:g}]. "
            f"Got {value!r} instead."
        )


@dataclass(frozen=True)
class ChurnRule:
    """When a customer counts as churned or at risk (see the module docstring).

    Parameters
    ----------
    method : {"p_alive", "gap"}, default "p_alive"
        Rule for repeat buyers: BG/NBD P(alive) (falls back to the gap rule when no model is
        given) or the median-gap rule.
    p_alive_churned, p_alive_at_risk : float, default 0.3 and 0.6
        P(alive) below which a repeat buyer has churned / is at risk.
    gap_multiplier, at_risk_gap_multiplier : float, default 3.0 and 1.5
        Multiples of the median gap between purchase days, for the gap rule.
    one_time_window_days, one_time_at_risk_days : int, default 180 and 90
        Days after their only purchase day after which a one-time buyer has churned / is at risk.
    min_window_days : int, default 30
        No window is shorter.
    """

    method: str = "p_alive"
    p_alive_churned: float = 0.3
    p_alive_at_risk: float = 0.6
    gap_multiplier: float = 3.0
    at_risk_gap_multiplier: float = 1.5
    one_time_window_days: int = 180
    one_time_at_risk_days: int = 90
    min_window_days: int = 30

    def __post_init__(self) -> None:
        if self.method not in ("p_alive", "gap"):
            raise ParamsError(
                f"The 'method' parameter must be 'p_alive' or 'gap'. Got {self.method!r} instead."
            )
        for name in ("p_alive_churned", "p_alive_at_risk"):
            _check_number(name, getattr(self, name), 0.001, 0.999)
        for name in ("gap_multiplier", "at_risk_gap_multiplier"):
            _check_number(name, getattr(self, name), 0.1, 100.0)
        for name in ("one_time_window_days", "one_time_at_risk_days", "min_window_days"):
            _check_number(name, getattr(self, name), 1, 3650, integer=True)
        if self.p_alive_at_risk <= self.p_alive_churned:
            raise ParamsError(
                "p_alive_at_risk must be above p_alive_churned (a customer is at risk before "
                f"they churn). Got {self.p_alive_at_risk} and {self.p_alive_churned}."
            )
        if self.at_risk_gap_multiplier >= self.gap_multiplier:
            raise ParamsError(
                "at_risk_gap_multiplier must be below gap_multiplier. Got "
                f"{self.at_risk_gap_multiplier} and {self.gap_multiplier}."
            )
        if self.one_time_at_risk_days >= self.one_time_window_days:
            raise ParamsError(
                "one_time_at_risk_days must be below one_time_window_days. Got "
                f"{self.one_time_at_risk_days} and {self.one_time_window_days}."
            )

    def describe(self, model_used: bool) -> str:
        """The rule in one plain sentence, for the report (in the report language)."""
        fields = {
            "p_alive": self.p_alive_churned,
            "multiplier": self.gap_multiplier,
            "days": self.one_time_window_days,
            "min_days": self.min_window_days,
        }
        if model_used:
            return _(
                "A customer counts as churned when no purchase came for longer than their own "
                "rhythm makes plausible: repeat buyers once the BG/NBD model puts the chance they "
                "still buy below {p_alive:.0%}; one-time buyers after {days} days (never sooner "
                "than {min_days} days).",
                **fields,
            )
        return _(
            "A customer counts as churned when no purchase came for longer than their own rhythm "
            "makes plausible: repeat buyers once {multiplier:g}× their usual gap between "
            "purchases has passed; one-time buyers after {days} days (never sooner than "
            "{min_days} days).",
            **fields,
        )


@dataclass(frozen=True)
class _Purchases:
    """Purchase days of every customer, sorted, with each one's churn windows in days."""

    ids: np.ndarray  # customer id of each purchase day
    day: np.ndarray  # int64 day number (days since 1970-01-01)
    last: np.ndarray  # bool: the customer's last purchase day up to as-of
    churn_window: np.ndarray  # float days after this purchase until churned
    risk_window: np.ndarray  # float days after this purchase until at risk
    basis: np.ndarray  # int8 index into _BASES
    median_gap: np.ndarray  # float days per customer (NaN for one-time buyers)
    owner: np.ndarray  # int32 customer number of each purchase day
    id_dtype: object


_BASES = ("one_time_window", "p_alive", "gap")
_BLOCK = 1_000_000  # purchase days evaluated at once by the model


def _purchase_windows(
    reductions: OrderReductions, model: BGNBD | None, rule: ChurnRule
) -> _Purchases:
    days_table = reductions.customer_days
    if days_table is None:
        raise DataError(
            "the reductions have no customer-day table.",
            table="orders",
            hint="build them with custkit.reduce_orders(orders, as_of, customer_days=True).",
        )
    if model is not None and not isinstance(model, BGNBD):
        raise ParamsError(
            "The churn rule needs a fitted custkit.ltv.BGNBD model (its P(alive) has a closed "
            f"form in time). Got {type(model).__name__} instead; pass model=None for the gap "
            "rule."
        )
    ids = days_table["customer_id"]
    id_values = ids.to_numpy()
    day = days_table["order_day"].to_numpy(dtype="datetime64[ns]").view(np.int64) // _DAY_NS
    n = len(day)
    new_customer = np.ones(n, dtype=bool)
    new_customer[1:] = id_values[1:] != id_values[:-1]
    starts = np.flatnonzero(new_customer)
    # int32 throughout: on 10M purchase days every full-length array counts against memory
    owner = np.cumsum(new_customer, dtype=np.int32)
    owner -= 1
    last = np.ones(n, dtype=bool)
    last[:-1] = new_customer[1:]

    # median gap per customer: one sort of (customer, gap) packed in an int64, then the middle
    # of each customer's run (a lexsort of 10M rows takes several times longer)
    within = ~new_customer[1:]
    gap_owner = owner[1:][within]
    packed = np.diff(day)[within]
    n_customers = len(starts)
    gap_bits = max(int(packed.max()) if len(packed) else 1, 1).bit_length()
    packed |= gap_owner.astype(np.int64) << gap_bits
    packed.sort()
    gaps_sorted = packed & ((1 << gap_bits) - 1)
    del packed, within
    counts = np.bincount(gap_owner, minlength=n_customers)
    del gap_owner
    first_gap = np.r_[0, np.cumsum(counts)[:-1]]
    median = np.full(n_customers, np.nan)
    has_gap = counts > 0
    lo = first_gap[has_gap] + (counts[has_gap] - 1) // 2
    hi = first_gap[has_gap] + counts[has_gap] // 2
    median[has_gap] = (gaps_sorted[lo] + gaps_sorted[hi]) / 2
    del gaps_sorted

    repeat = np.flatnonzero(~new_customer)
    del new_customer
    basis = np.zeros(n, dtype=np.int8)
    churn_window = np.full(n, float(rule.one_time_window_days))
    risk_window = np.full(n, float(rule.one_time_at_risk_days))
    if model is not None and rule.method == "p_alive":
        unit = TIME_UNIT_DAYS[model.time_unit_]
        for block in range(0, len(repeat), _BLOCK):  # bounded temporaries
            rows = repeat[block : block + _BLOCK]
            first = starts[owner[rows]]
            x = (rows - first).astype(np.float64)  # repeat purchase days so far
            t_x = (day[rows] - day[first]) / unit
            for window, p in (
                (churn_window, rule.p_alive_churned),
                (risk_window, rule.p_alive_at_risk),
            ):
                window[rows] = (np.asarray(model.age_at_p_alive(p, x, t_x)) - t_x) * unit
        basis[repeat] = 1
    else:
        gap = median[owner[repeat]]
        churn_window[repeat] = rule.gap_multiplier * gap
        risk_window[repeat] = rule.at_risk_gap_multiplier * gap
        basis[repeat] = 2
    np.maximum(churn_window, rule.min_window_days, out=churn_window)
    np.maximum(risk_window, min(rule.min_window_days, rule.one_time_at_risk_days), out=risk_window)
    np.minimum(risk_window, churn_window, out=risk_window)
    return _Purchases(
        ids=id_values,
        day=day,
        last=last,
        churn_window=churn_window,
        risk_window=risk_window,
        basis=basis,
        median_gap=median,
        owner=owner,
        id_dtype=ids.dtype,
    )


def _as_of_day(reductions: OrderReductions) -> int:
    return int(reductions.as_of.as_unit("ns").value // _DAY_NS)


def _dates(day: np.ndarray) -> np.ndarray:
    """Day numbers (float, NaN allowed) as datetime64[ns] at midnight, NaT for NaN."""
    out = np.full(len(day), np.datetime64("NaT"), dtype="datetime64[ns]")
    finite = np.isfinite(day)
    out[finite] = (np.floor(day[finite]).astype(np.int64) * _DAY_NS).view("datetime64[ns]")
    return out


def churn_status(
    reductions: OrderReductions, model: BGNBD | None = None, rule: ChurnRule | None = None
) -> pd.DataFrame:
    """Each customer's churn status at the reductions' as-of date.

    Parameters
    ----------
    reductions : OrderReductions
        From ``custkit.reduce_orders(orders, as_of, customer_days=True)``.
    model : BGNBD, optional
        Fitted on :func:`custkit.ltv.summarize` of the same purchases; without it repeat buyers
        are judged by the gap rule.
    rule : ChurnRule, optional
        Thresholds; :class:`ChurnRule` defaults when omitted.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (every customer with a purchase): ``last_order_date``,
        ``days_since_last_order``, ``purchase_days``, ``median_gap_days`` (NaN for one-time
        buyers), ``churn_window_days`` and ``at_risk_after_days`` (days after the last purchase
        day), ``churned_at`` (the day the window ran out, NaT while it has not), ``status``
        (categorical, :data:`STATUSES`) and ``basis`` (``"p_alive"``, ``"gap"`` or
        ``"one_time_window"``). ``attrs["rule"]`` holds the rule's plain description.
    """
    rule = rule or ChurnRule()
    return _status(_purchase_windows(reductions, model, rule), reductions, model, rule)


def _status(
    p: _Purchases, reductions: OrderReductions, model: BGNBD | None, rule: ChurnRule
) -> pd.DataFrame:
    as_of_day = _as_of_day(reductions)
    rows = np.flatnonzero(p.last)
    last_day = p.day[rows]
    since = as_of_day - last_day
    churn_day = last_day + p.churn_window[rows]
    status = np.where(
        since >= p.churn_window[rows], 2, np.where(since >= p.risk_window[rows], 1, 0)
    )
    purchase_days = np.diff(np.r_[-1, rows])
    frame = pd.DataFrame(
        {
            "last_order_date": _dates(last_day.astype(np.float64)),
            "days_since_last_order": since.astype(np.int64),
            "purchase_days": purchase_days.astype(np.int64),
            "median_gap_days": p.median_gap[p.owner[rows]],
            "churn_window_days": p.churn_window[rows],
            "at_risk_after_days": p.risk_window[rows],
            "churned_at": _dates(np.where(status == 2, churn_day, np.nan)),
            "status": pd.Categorical.from_codes(status.astype(np.int8), categories=STATUSES),
            "basis": pd.Categorical.from_codes(p.basis[rows], categories=_BASES),
        },
        index=pd.Index(pd.Series(p.ids[rows], dtype=p.id_dtype), name="customer_id"),
    )
    frame.attrs["rule"] = rule.describe(model is not None and rule.method == "p_alive")
    return frame


def churn_events(
    reductions: OrderReductions, model: BGNBD | None = None, rule: ChurnRule | None = None
) -> pd.DataFrame:
    """Every time a customer churned, up to as-of, and whether and when they came back.

    A purchase day is followed by a churn event when the next purchase day came later than its
    churn window (or has not come, and the window ran out by as-of).

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``last_order_date`` (the purchase before leaving), ``churned_at``,
        ``returned_at`` (the next purchase day; NaT when the customer has not come back) and
        ``basis``; sorted by customer and date.
    """
    rule = rule or ChurnRule()
    return _events(_purchase_windows(reductions, model, rule), reductions)


def _events(p: _Purchases, reductions: OrderReductions) -> pd.DataFrame:
    as_of_day = _as_of_day(reductions)
    next_day = np.full(len(p.day), np.nan)
    next_day[:-1] = np.where(p.last[:-1], np.nan, p.day[1:])
    churn_day = p.day + p.churn_window
    returned = np.isfinite(next_day)
    churned = np.where(returned, next_day > churn_day, churn_day <= as_of_day)
    rows = np.flatnonzero(churned)
    return pd.DataFrame(
        {
            "customer_id": pd.Series(p.ids[rows], dtype=p.id_dtype),
            "last_order_date": _dates(p.day[rows].astype(np.float64)),
            "churned_at": _dates(churn_day[rows]),
            "returned_at": _dates(next_day[rows]),
            "basis": pd.Categorical.from_codes(p.basis[rows], categories=_BASES),
        }
    )


@dataclass(frozen=True)
class ChurnAssessment:
    """Churn status at as-of and every churn event before it, under one rule.

    Attributes
    ----------
    status : pandas.DataFrame
        As :func:`churn_status` returns it.
    events : pandas.DataFrame
        As :func:`churn_events` returns it.
    rule : ChurnRule
        The thresholds used.
    description : str
        The rule in plain words, for the report.
    """

    status: pd.DataFrame
    events: pd.DataFrame
    rule: ChurnRule
    description: str


def assess_churn(
    reductions: OrderReductions, model: BGNBD | None = None, rule: ChurnRule | None = None
) -> ChurnAssessment:
    """:func:`churn_status` and :func:`churn_events` from one computation of the windows."""
    rule = rule or ChurnRule()
    windows = _purchase_windows(reductions, model, rule)
    status = _status(windows, reductions, model, rule)
    events = _events(windows, reductions)
    return ChurnAssessment(status, events, rule, status.attrs["rule"])


def monthly_churn(
    events: pd.DataFrame, reductions: OrderReductions, months: int = 12
) -> pd.DataFrame:
    """Churn by calendar month: how many active customers left, and how many of them came back.

    Parameters
    ----------
    events : pandas.DataFrame
        From :func:`churn_events`.
    reductions : OrderReductions
        The same reductions (for first purchase dates and the as-of date).
    months : int, default 12
        Months up to and including the as-of month.

    Returns
    -------
    pandas.DataFrame
        One row per month (``period[M]``), oldest first: ``active_at_start`` (customers who had
        bought before the month and had not churned by its first day), ``churned`` (churn events
        dated in the month), ``churn_rate`` = churned / active_at_start with a 95% Wilson
        interval ``churn_rate_low`` / ``churn_rate_high``, ``returned_since`` (of those, customers
        who have bought again by as-of) and ``returned_share``.
    """
    from statsmodels.stats.proportion import proportion_confint

    _check_number("months", months, 1, 120, integer=True)
    as_of = reductions.as_of
    last_month = as_of.to_period("M")
    periods = pd.period_range(end=last_month, periods=int(months), freq="M")
    starts = periods.to_timestamp().to_numpy(dtype="datetime64[ns]")
    first = np.sort(reductions.customers["first_order_date"].to_numpy(dtype="datetime64[ns]"))
    first = first.astype("datetime64[D]").astype("datetime64[ns]")  # the first purchase day
    churned_at = np.sort(events["churned_at"].to_numpy(dtype="datetime64[ns]"))
    came_back = events["returned_at"].to_numpy(dtype="datetime64[ns]")
    came_back = np.sort(came_back[~np.isnat(came_back)])
    # alive spells start at a first purchase or a return and end at a churn event
    began = np.searchsorted(first, starts, side="left") + np.searchsorted(
        came_back, starts, side="left"
    )
    ended = np.searchsorted(churned_at, starts, side="left")
    active = began - ended
    month_of_event = events["churned_at"].dt.to_period("M")
    churned = month_of_event.value_counts().reindex(periods, fill_value=0).to_numpy()
    returned = (
        month_of_event[events["returned_at"].notna().to_numpy()]
        .value_counts()
        .reindex(periods, fill_value=0)
        .to_numpy()
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(active > 0, churned / np.maximum(active, 1), np.nan)
        share = np.where(churned > 0, returned / np.maximum(churned, 1), np.nan)
    low, high = proportion_confint(churned, np.maximum(active, 1), alpha=0.05, method="wilson")
    return pd.DataFrame(
        {
            "month": periods,
            "active_at_start": active.astype(np.int64),
            "churned": churned.astype(np.int64),
            "churn_rate": rate,
            "churn_rate_low": np.where(active > 0, low, np.nan),
            "churn_rate_high": np.where(active > 0, high, np.nan),
            "returned_since": returned.astype(np.int64),
            "returned_share": share,
        }
    )
