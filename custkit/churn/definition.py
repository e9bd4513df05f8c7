"""Who has churned: a customer has left when the time since their last purchase exceeds what their
own purchase rhythm, or the store's, makes plausible.

The rule (``ChurnRule(method="rhythm")``, the default), per purchase day of a customer (every
purchase day, not only the last, so that churn can be dated month by month and customers who came
back are counted):

- **repeat buyers** have churned once the gap since their last purchase day passes the *shorter*
  of two windows, whichever fires first:

  - **their own rhythm**: the ``churn_quantile`` (90%) quantile of their next gap between
    purchase days, from the gaps they have had so far. Gaps are taken as log-normal: the
    customer's mean log gap is shrunk towards the store's (normal-normal empirical Bayes, the
    between-customer variance estimated by moments), so a customer with one or two gaps is judged
    mostly by the store's rhythm and one with twenty by their own; the spread is the store's
    pooled within-customer spread plus the uncertainty of the customer's mean;
  - **the store's rhythm**: the ``churn_quantile`` quantile of all gaps between purchase days on
    the store (a customer slower than 90% of the store's gaps has most likely gone);

- **one-time buyers** have churned once the ``churn_quantile`` quantile of the time to a second
  purchase, among the customers who made one, has passed (``one_time_window_days`` overrides it):
  90% of the customers who came back for a second purchase did so by then.

Only gaps that ended by as-of are seen, so on a young store the long ones are missing and both
store quantiles come out short (the rule errs towards flagging early); a store with no second
purchase at all uses :data:`FALLBACK_WINDOW_DAYS` (180) for one-time buyers. The same truncation
hides how different customers' rhythms are, so the estimated between-customer spread is small on
stores whose gaps look random (the demo: 0.11 against a within-customer 1.19 in log days) and
the store's quantile fires first for nearly everyone there; on a store of weekly and monthly
buyers the own rhythm decides (tests/churn/test_definition.py).

"At risk" is the same rule at ``at_risk_quantile`` (75%). No window is shorter than
``min_window_days``. The store's figures (quantiles, mean log gap, spreads) are estimated once
from all purchases up to as-of; a customer's own gaps at a purchase day are those up to it, so
the month-by-month trend does not look ahead at the customer.

Why our own rule instead of a BTYD model's P(alive): BG/NBD lets a customer drop out only after a
repeat purchase, so its P(alive) says nothing about one-time buyers, and an unpenalised fit can
put the dropout probability at ~0 ("nobody drops out": no repeat buyer would ever churn). On the
demo store the old default (P(alive) < 0.3) flagged 6.1% of the repeat buyers gone 180+ days;
this rule flags most of them, and :func:`backtest_rule` measures its precision and recall out of
time on the store's own data. The older rules remain as options: ``method="p_alive"`` (BG/NBD,
needs a fitted model) and ``method="gap"`` (``gap_multiplier`` × the customer's median gap).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from custkit.data.periods import DAY_NS
from custkit.data.reduce import OrderReductions
from custkit.errors import DataError, ParamsError
from custkit.i18n import _
from custkit.ltv.bgnbd import BGNBD
from custkit.ltv.summary import TIME_UNIT_DAYS
from custkit.stats import wilson_interval

__all__ = [
    "METHODS",
    "STATUSES",
    "ChurnAssessment",
    "ChurnRule",
    "RuleBacktest",
    "StoreRhythm",
    "assess_churn",
    "backtest_rule",
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
    method : {"rhythm", "p_alive", "gap"}, default "rhythm"
        Rule for repeat buyers: their own rhythm or the store's, whichever fires first
        (``"rhythm"``); BG/NBD P(alive) (falls back to the gap rule when no model is given); or
        ``gap_multiplier`` × their median gap.
    churn_quantile, at_risk_quantile : float, default 0.9 and 0.75
        For ``"rhythm"``, and for one-time buyers under every method: the quantile of the gaps
        past which a customer has churned / is at risk.
    p_alive_churned, p_alive_at_risk : float, default 0.3 and 0.6
        P(alive) below which a repeat buyer has churned / is at risk (``"p_alive"``).
    gap_multiplier, at_risk_gap_multiplier : float, default 3.0 and 1.5
        Multiples of the median gap between purchase days (``"gap"``).
    one_time_window_days, one_time_at_risk_days : int or None, default None
        Days after their only purchase day after which a one-time buyer has churned / is at risk;
        ``None``: the store's quantile of the time to a second purchase.
    min_window_days : int, default 30
        No window is shorter.
    """

    method: str = "rhythm"
    churn_quantile: float = 0.9
    at_risk_quantile: float = 0.75
    p_alive_churned: float = 0.3
    p_alive_at_risk: float = 0.6
    gap_multiplier: float = 3.0
    at_risk_gap_multiplier: float = 1.5
    one_time_window_days: int | None = None
    one_time_at_risk_days: int | None = None
    min_window_days: int = 30

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ParamsError(
                f"The 'method' parameter must be one of {', '.join(map(repr, METHODS))}. "
                f"Got {self.method!r} instead."
            )
        for name in ("churn_quantile", "at_risk_quantile"):
            _check_number(name, getattr(self, name), 0.5, 0.999)
        for name in ("p_alive_churned", "p_alive_at_risk"):
            _check_number(name, getattr(self, name), 0.001, 0.999)
        for name in ("gap_multiplier", "at_risk_gap_multiplier"):
            _check_number(name, getattr(self, name), 0.1, 100.0)
        _check_number("min_window_days", self.min_window_days, 1, 3650, integer=True)
        for name in ("one_time_window_days", "one_time_at_risk_days"):
            if getattr(self, name) is not None:
                _check_number(name, getattr(self, name), 1, 3650, integer=True)
        if self.at_risk_quantile >= self.churn_quantile:
            raise ParamsError(
                "at_risk_quantile must be below churn_quantile (a customer is at risk before "
                f"they churn). Got {self.at_risk_quantile} and {self.churn_quantile}."
            )
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
        if (
            self.one_time_window_days is not None
            and self.one_time_at_risk_days is not None
            and self.one_time_at_risk_days >= self.one_time_window_days
        ):
            raise ParamsError(
                "one_time_at_risk_days must be below one_time_window_days. Got "
                f"{self.one_time_at_risk_days} and {self.one_time_window_days}."
            )

    def describe(self, model_used: bool, rhythm: StoreRhythm | None = None) -> str:
        """The rule in one plain sentence, for the report (in the report language).

        *rhythm* (the store's figures the rule used) puts the windows in days into it.
        """
        fields = {
            "p_alive": self.p_alive_churned,
            "multiplier": self.gap_multiplier,
            "quantile": self.churn_quantile,
            "days": self.one_time_window_days,
            "min_days": self.min_window_days,
            "store_days": np.nan,
        }
        if rhythm is not None:
            fields["days"] = round(rhythm.one_time_window_days)
            fields["store_days"] = round(rhythm.store_gap_days)
        if self.one_time_window_days is not None:
            one_time = _(
                "one-time buyers after {days} days (never sooner than {min_days} days).", **fields
            )
        elif rhythm is not None:
            one_time = _(
                "one-time buyers after {days} days without a second purchase: {quantile:.0%} of "
                "the customers who made a second purchase made it by then (never sooner than "
                "{min_days} days).",
                **fields,
            )
        else:
            one_time = _(
                "one-time buyers once the time by which {quantile:.0%} of second purchases on "
                "the store were made has passed (never sooner than {min_days} days).",
                **fields,
            )
        if self.method == "rhythm":
            repeat = (
                _(
                    "A customer counts as churned when no purchase came for longer than their "
                    "own rhythm or the store's makes plausible: repeat buyers once the time since "
                    "their last purchase passes {quantile:.0%} of their own gaps between "
                    "purchases (judged mostly by the store's gaps while they have had few) or "
                    "{quantile:.0%} of all gaps on the store ({store_days} days), whichever comes "
                    "first;",
                    **fields,
                )
                if rhythm is not None
                else _(
                    "A customer counts as churned when no purchase came for longer than their "
                    "own rhythm or the store's makes plausible: repeat buyers once the time since "
                    "their last purchase passes {quantile:.0%} of their own gaps between "
                    "purchases (judged mostly by the store's gaps while they have had few) or "
                    "{quantile:.0%} of all gaps on the store, whichever comes first;",
                    **fields,
                )
            )
        elif model_used:
            repeat = _(
                "A customer counts as churned when no purchase came for longer than their own "
                "rhythm makes plausible: repeat buyers once the BG/NBD model puts the chance they "
                "still buy below {p_alive:.0%};",
                **fields,
            )
        else:
            repeat = _(
                "A customer counts as churned when no purchase came for longer than their own "
                "rhythm makes plausible: repeat buyers once {multiplier:g}× their usual gap "
                "between purchases has passed;",
                **fields,
            )
        return f"{repeat} {one_time}"


@dataclass(frozen=True)
class StoreRhythm:
    """The store's purchase rhythm the churn rule judged customers by (estimated at as-of).

    Attributes
    ----------
    store_gap_days, store_gap_at_risk_days : float
        The ``churn_quantile`` / ``at_risk_quantile`` quantile of all gaps between purchase days.
    one_time_window_days, one_time_at_risk_days : float
        Days after a first purchase day after which a one-time buyer has churned / is at risk
        (the quantiles of the time to a second purchase, or the rule's fixed days).
    log_gap_mean : float
        The store's mean of customers' mean log gap (days): the prior of a customer's rhythm.
    within_sd, between_sd : float
        Spread of log gaps within a customer (pooled) and of customers' true mean log gaps.
    gaps, second_purchases : int
        Gaps between purchase days, and customers with a second purchase day, it is based on.
    """

    store_gap_days: float
    store_gap_at_risk_days: float
    one_time_window_days: float
    one_time_at_risk_days: float
    log_gap_mean: float
    within_sd: float
    between_sd: float
    gaps: int
    second_purchases: int


#: Rules for repeat buyers (:class:`ChurnRule` ``method``).
METHODS = ("rhythm", "p_alive", "gap")
#: Window when the store has no second purchase to learn from (and no fixed days are given).
FALLBACK_WINDOW_DAYS = 180.0


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
    rhythm: StoreRhythm


_BASES = ("one_time_window", "p_alive", "gap", "own_rhythm", "store_rhythm")
_BLOCK = 1_000_000  # purchase days evaluated at once by the model


def _days_table(reductions: OrderReductions) -> pd.DataFrame:
    days_table = reductions.customer_days
    if days_table is None:
        raise DataError(
            "the reductions have no customer-day table.",
            table="orders",
            hint="build them with custkit.reduce_orders(orders, as_of, customer_days=True).",
        )
    return days_table


def _quantile(values: np.ndarray, q: float) -> float:
    return float(np.quantile(values, q)) if len(values) else FALLBACK_WINDOW_DAYS


def _store_rhythm(
    log_gap: np.ndarray,
    gap_owner: np.ndarray,
    gaps: np.ndarray,
    first_gaps: np.ndarray,
    n_customers: int,
    rule: ChurnRule,
) -> StoreRhythm:
    """The store's figures: gap quantiles and the empirical-Bayes prior of customers' rhythm."""
    counts = np.bincount(gap_owner, minlength=n_customers)
    sum1 = np.bincount(gap_owner, weights=log_gap, minlength=n_customers)
    sum2 = np.bincount(gap_owner, weights=log_gap * log_gap, minlength=n_customers)
    has = counts > 0
    n, s1, s2 = counts[has], sum1[has], sum2[has]
    several = n >= 2
    if several.any():
        within_ss = np.maximum(s2[several] - s1[several] ** 2 / n[several], 0.0)
        within_var = float(within_ss.sum() / (n[several] - 1).sum())
    else:  # nobody has two gaps: the spread of all gaps stands in for the within-customer one
        within_var = float(np.var(log_gap)) if len(log_gap) > 1 else 1.0
    within_var = max(within_var, 1e-6)
    means = s1 / n if len(n) else np.zeros(1)
    prior_mean = float(means.mean())
    # method of moments: the variance of customers' mean log gaps is the true between-customer
    # variance plus each mean's sampling variance (with equal gap counts, the one-way ANOVA
    # estimator, which is also the REML one when positive)
    spread = float(means.var(ddof=1)) if len(n) > 1 else 0.0
    between_var = spread - within_var * float(np.mean(1.0 / n)) if len(n) else 0.0
    between_var = max(between_var, 1e-3 * within_var)
    one_time = (
        float(rule.one_time_window_days)
        if rule.one_time_window_days is not None
        else _quantile(first_gaps, rule.churn_quantile)
    )
    if rule.one_time_at_risk_days is not None:
        one_time_risk = float(rule.one_time_at_risk_days)
    elif len(first_gaps):
        one_time_risk = _quantile(first_gaps, rule.at_risk_quantile)
    else:  # nothing to learn from: half the churn window, as the defaults of old (180 / 90)
        one_time_risk = one_time / 2
    return StoreRhythm(
        store_gap_days=_quantile(gaps, rule.churn_quantile),
        store_gap_at_risk_days=_quantile(gaps, rule.at_risk_quantile),
        one_time_window_days=one_time,
        one_time_at_risk_days=min(one_time_risk, one_time),
        log_gap_mean=prior_mean,
        within_sd=within_var**0.5,
        between_sd=between_var**0.5,
        gaps=len(gaps),
        second_purchases=len(first_gaps),
    )


def _own_rhythm_window(
    k: np.ndarray, sum_log: np.ndarray, rhythm: StoreRhythm, quantile: float
) -> np.ndarray:
    """The *quantile* of a customer's next gap (days), after *k* gaps with log sum *sum_log*:
    the posterior of their mean log gap (normal prior from the store) widened by the store's
    within-customer spread (the log-normal predictive)."""
    within_var, between_var = rhythm.within_sd**2, rhythm.between_sd**2
    precision = k / within_var + 1.0 / between_var
    mean = (sum_log / within_var + rhythm.log_gap_mean / between_var) / precision
    sd = np.sqrt(within_var + 1.0 / precision)
    return np.exp(mean + NormalDist().inv_cdf(quantile) * sd)


def _purchase_windows(days_table: pd.DataFrame, model: BGNBD | None, rule: ChurnRule) -> _Purchases:
    if model is not None and not isinstance(model, BGNBD):
        raise ParamsError(
            "The churn rule needs a fitted custkit.ltv.BGNBD model (its P(alive) has a closed "
            f"form in time). Got {type(model).__name__} instead; pass model=None for the gap "
            "rule."
        )
    ids = days_table["customer_id"]
    id_values = ids.to_numpy()
    day = days_table["order_day"].to_numpy(dtype="datetime64[ns]").view(np.int64) // DAY_NS
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
    gaps = np.diff(day)[within]
    packed = gaps.copy()
    n_customers = len(starts)
    gap_bits = max(int(packed.max()) if len(packed) else 1, 1).bit_length()
    packed |= gap_owner.astype(np.int64) << gap_bits
    packed.sort()
    gaps_sorted = packed & ((1 << gap_bits) - 1)
    del packed, within
    counts = np.bincount(gap_owner, minlength=n_customers)
    first_gap = np.r_[0, np.cumsum(counts)[:-1]]
    median = np.full(n_customers, np.nan)
    has_gap = counts > 0
    lo = first_gap[has_gap] + (counts[has_gap] - 1) // 2
    hi = first_gap[has_gap] + counts[has_gap] // 2
    median[has_gap] = (gaps_sorted[lo] + gaps_sorted[hi]) / 2
    del gaps_sorted

    repeat = np.flatnonzero(~new_customer)
    first_of_repeat = starts[owner[repeat]]  # the customer's first purchase day, per repeat day
    second = repeat[(repeat - first_of_repeat) == 1]  # each customer's second purchase day
    log_gap = np.log(gaps.astype(np.float64))
    rhythm = _store_rhythm(
        log_gap, gap_owner, gaps, (day[second] - day[second - 1]), n_customers, rule
    )
    del gap_owner
    basis = np.zeros(n, dtype=np.int8)
    churn_window = np.full(n, rhythm.one_time_window_days)
    risk_window = np.full(n, rhythm.one_time_at_risk_days)
    if rule.method == "rhythm":
        # the customer's own gaps up to each purchase day: running sums within the customer
        running = np.zeros(n)
        running[repeat] = log_gap
        np.cumsum(running, out=running)
        sum_log = running[repeat] - running[first_of_repeat]
        del running
        k = (repeat - first_of_repeat).astype(np.float64)
        for window, q, store in (
            (churn_window, rule.churn_quantile, rhythm.store_gap_days),
            (risk_window, rule.at_risk_quantile, rhythm.store_gap_at_risk_days),
        ):
            own = _own_rhythm_window(k, sum_log, rhythm, q)
            window[repeat] = np.minimum(own, store)
            if window is churn_window:
                basis[repeat] = np.where(own <= store, 3, 4)
    elif model is not None and rule.method == "p_alive":
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
    one_time_risk_floor = min(rule.min_window_days, rhythm.one_time_at_risk_days)
    np.maximum(risk_window, one_time_risk_floor, out=risk_window)
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
        rhythm=rhythm,
    )


def _as_of_day(as_of: pd.Timestamp) -> int:
    return int(pd.Timestamp(as_of).normalize().as_unit("ns").value // DAY_NS)


def _dates(day: np.ndarray) -> np.ndarray:
    """Day numbers (float, NaN allowed) as datetime64[ns] at midnight, NaT for NaN."""
    out = np.full(len(day), np.datetime64("NaT"), dtype="datetime64[ns]")
    finite = np.isfinite(day)
    out[finite] = (np.floor(day[finite]).astype(np.int64) * DAY_NS).view("datetime64[ns]")
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
        Only for ``rule.method="p_alive"``: fitted on :func:`custkit.ltv.summarize` of the same
        purchases; without it repeat buyers are judged by the gap rule.
    rule : ChurnRule, optional
        Thresholds; :class:`ChurnRule` defaults (the rhythm rule) when omitted.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (every customer with a purchase): ``last_order_date``,
        ``days_since_last_order``, ``purchase_days``, ``median_gap_days`` (NaN for one-time
        buyers), ``churn_window_days`` and ``at_risk_after_days`` (days after the last purchase
        day), ``churned_at`` (the day the window ran out, NaT while it has not), ``status``
        (categorical, :data:`STATUSES`), ``churned`` and ``at_risk`` (bool: ``status`` is
        ``"churned"`` / ``"at_risk"``; never both) and ``basis`` (which window applied:
        ``"own_rhythm"``, ``"store_rhythm"``, ``"p_alive"``, ``"gap"`` or
        ``"one_time_window"``). ``attrs["rule"]`` holds the rule's plain description.
    """
    rule = rule or ChurnRule()
    windows = _purchase_windows(_days_table(reductions), model, rule)
    return _status(windows, _as_of_day(reductions.as_of), model, rule)


def _status(p: _Purchases, as_of_day: int, model: BGNBD | None, rule: ChurnRule) -> pd.DataFrame:
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
            "churned": status == 2,
            "at_risk": status == 1,
            "basis": pd.Categorical.from_codes(p.basis[rows], categories=_BASES),
        },
        index=pd.Index(pd.Series(p.ids[rows], dtype=p.id_dtype), name="customer_id"),
    )
    frame.attrs["rule"] = rule.describe(model is not None and rule.method == "p_alive", p.rhythm)
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
    windows = _purchase_windows(_days_table(reductions), model, rule)
    return _events(windows, _as_of_day(reductions.as_of))


def _events(p: _Purchases, as_of_day: int) -> pd.DataFrame:
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
        As :func:`churn_status` returns it (bool ``churned`` / ``at_risk`` columns).
    events : pandas.DataFrame
        As :func:`churn_events` returns it.
    rule : ChurnRule
        The thresholds used.
    description : str
        The rule in plain words, for the report.
    rhythm : StoreRhythm or None
        The store's figures the rule used.
    """

    status: pd.DataFrame
    events: pd.DataFrame
    rule: ChurnRule
    description: str
    rhythm: StoreRhythm | None = None


def assess_churn(
    reductions: OrderReductions, model: BGNBD | None = None, rule: ChurnRule | None = None
) -> ChurnAssessment:
    """:func:`churn_status` and :func:`churn_events` from one computation of the windows."""
    rule = rule or ChurnRule()
    windows = _purchase_windows(_days_table(reductions), model, rule)
    as_of_day = _as_of_day(reductions.as_of)
    status = _status(windows, as_of_day, model, rule)
    events = _events(windows, as_of_day)
    return ChurnAssessment(status, events, rule, status.attrs["rule"], windows.rhythm)


@dataclass(frozen=True)
class RuleBacktest:
    """The churn rule applied at a past cutoff, checked against who bought after it.

    Attributes
    ----------
    cutoff, as_of : pandas.Timestamp
        The rule saw the purchases up to *cutoff*; "left" means no purchase in
        ``(cutoff, as_of]``.
    table : pandas.DataFrame
        Indexed by buyer type (``"one_time"``, ``"repeat"``, ``"all"``, as of the cutoff):
        ``customers`` (with a purchase by the cutoff), ``flagged`` (churned by the rule at the
        cutoff), ``left``, ``flagged_left``, ``precision`` = flagged_left / flagged (of those
        flagged, the share that did not come back), ``recall`` = flagged_left / left (of those who
        did not come back, the share flagged), each with a 95% Wilson interval (``_low``,
        ``_high``; NaN when its denominator is 0).
    """

    cutoff: pd.Timestamp
    as_of: pd.Timestamp
    table: pd.DataFrame

    @property
    def precision(self) -> float:
        """Of all customers flagged at the cutoff, the share who bought nothing after it."""
        return float(self.table.loc["all", "precision"])

    @property
    def recall(self) -> float:
        """Of all customers who bought nothing after the cutoff, the share flagged at it."""
        return float(self.table.loc["all", "recall"])


def backtest_rule(
    reductions: OrderReductions, rule: ChurnRule | None = None, months: int = 6
) -> RuleBacktest:
    """Precision and recall of the churn rule out of time: applied *months* before as-of with the
    data up to then, then checked against who bought afterwards.

    Parameters
    ----------
    reductions : OrderReductions
        From ``custkit.reduce_orders(orders, as_of, customer_days=True)``.
    rule : ChurnRule, optional
        The rule (``"rhythm"`` or ``"gap"``; ``"p_alive"`` would need a model fitted at the
        cutoff). Its store figures are re-estimated from the data up to the cutoff.
    months : int, default 6
        How far before as-of the cutoff lies (a store with no purchase before it gets a table of
        zeros and NaN rates). A customer who has not bought for *months* months
        may still come back later, so precision is measured against a finite horizon: it is a
        lower bound of the rule's precision against "never comes back".

    Returns
    -------
    RuleBacktest
    """
    rule = rule or ChurnRule()
    if rule.method == "p_alive":
        raise ParamsError(
            "backtest_rule measures the rules that need no fitted model: rule.method must be "
            "'rhythm' or 'gap'. Got 'p_alive' instead."
        )
    _check_number("months", months, 1, 60, integer=True)
    days_table = _days_table(reductions)
    as_of = reductions.as_of
    cutoff = (as_of - pd.DateOffset(months=int(months))).normalize()
    day = days_table["order_day"].to_numpy(dtype="datetime64[ns]")
    before = day < (cutoff + pd.Timedelta(days=1)).to_datetime64()
    windows = _purchase_windows(days_table.loc[before], None, rule)
    status = _status(windows, _as_of_day(cutoff), None, rule)
    came_back = pd.unique(days_table["customer_id"].to_numpy()[~before])
    left = ~status.index.isin(came_back)
    flagged = status["churned"].to_numpy()
    repeat = status["purchase_days"].to_numpy() > 1
    groups = {"one_time": ~repeat, "repeat": repeat, "all": np.ones(len(status), dtype=bool)}
    counts = np.array(
        [
            [g.sum(), (flagged & g).sum(), (left & g).sum(), (flagged & left & g).sum()]
            for g in groups.values()
        ]
    )
    table = pd.DataFrame(
        counts,
        index=pd.Index(list(groups), name="buyers"),
        columns=["customers", "flagged", "left", "flagged_left"],
    )
    for name, denominator in (("precision", "flagged"), ("recall", "left")):
        hits, trials = table["flagged_left"].to_numpy(), table[denominator].to_numpy()
        low, high = wilson_interval(hits, np.maximum(trials, 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            table[name] = np.where(trials > 0, hits / np.maximum(trials, 1), np.nan)
        table[f"{name}_low"] = np.where(trials > 0, low, np.nan)
        table[f"{name}_high"] = np.where(trials > 0, high, np.nan)
    return RuleBacktest(cutoff, as_of, table)


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
    low, high = wilson_interval(churned, np.maximum(active, 1))
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
