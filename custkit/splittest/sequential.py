"""Looking at a running split test more than once: Lan–DeMets O'Brien–Fleming boundaries.

:func:`obrien_fleming_boundaries` gives the z boundary of each look from its information fraction
(customers so far / planned customers) with O'Brien–Fleming-type alpha spending;
:func:`sequential_check` compares the looks so far with them. :func:`extend_boundaries` gives
the boundaries of new looks after looks whose boundaries were reported before (and are kept);
:func:`add_looks` is how the monthly report turns the customers counted at each month's end into
looks: fractions of the planned sample (:func:`information_fractions`), then those boundaries.

Neither scipy nor statsmodels has group-sequential designs, so the recursion is our own
(Armitage–McPherson–Rowe, on a Simpson grid); the tests pin it to published gsDesign / rpact
boundaries, the multivariate normal probability (scipy) and A/A simulations: five looks, and
4,002 tests of monthly reports with staggered assignment (``test_aa_sequential.py``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, special

from custkit.errors import ParamsError
from custkit.splittest.inputs import _check_bool, _check_unit_interval

#: Simpson intervals per look in the group-sequential recursion: at least / at most.
_MIN_GRID_INTERVALS = 400
_MAX_GRID_INTERVALS = 2000
#: Grid nodes per standard deviation of the narrowest Gaussian kernel of the recursion.
_NODES_PER_SD = 16
#: The continuation region is cut at this many standard deviations of the score.
_SCORE_CUTOFF_SD = 9.0


@dataclass(frozen=True, eq=False)
class GroupSequentialBoundaries:
    """Z boundaries of a group-sequential design, one per look.

    Attributes
    ----------
    information_fractions : numpy.ndarray
        Share of the planned final sample at each look, increasing, in ``(0, 1]``.
    z_boundaries : numpy.ndarray
        Stop at look ``k`` when ``|z| >= z_boundaries[k]`` (two-sided) or ``z >= ...`` (one-sided).
    nominal_p_values : numpy.ndarray
        The same boundaries as p-value thresholds of a single look (two-sided when the design is).
    cumulative_alpha_spent : numpy.ndarray
        Probability under "no difference" of stopping at or before each look.
    alpha : float
        Overall significance level (two-sided when ``two_sided``).
    two_sided : bool
        Whether both directions stop the test.
    """

    information_fractions: np.ndarray
    z_boundaries: np.ndarray
    nominal_p_values: np.ndarray
    cumulative_alpha_spent: np.ndarray
    alpha: float
    two_sided: bool


@dataclass(frozen=True, eq=False)
class SequentialCheck:
    """The looks so far of a group-sequential test against their boundaries.

    Attributes
    ----------
    z_statistics : numpy.ndarray
        The z statistic at each look (B minus A).
    boundaries : GroupSequentialBoundaries
        Boundaries at the same information fractions.
    crossed : bool
        Whether any look crossed its boundary: stop, the difference is significant.
    crossing_look : int or None
        First look (1-based) that crossed, or None.
    """

    z_statistics: np.ndarray
    boundaries: GroupSequentialBoundaries
    crossed: bool
    crossing_look: int | None


def _check_fractions(information_fractions: Any) -> np.ndarray:
    try:
        fractions = np.asarray(information_fractions, dtype=float)
    except (TypeError, ValueError):
        fractions = np.array([np.nan])
    ok = (
        fractions.ndim == 1
        and fractions.size >= 1
        and np.isfinite(fractions).all()
        and fractions[0] > 0
        and fractions[-1] <= 1
        and (np.diff(fractions) > 0).all()
    )
    if not ok:
        raise ParamsError(
            "The 'information_fractions' parameter must be a list of increasing numbers in "
            "(0, 1] (customers so far / planned customers, one per look), e.g. [0.25, 0.5, "
            f"0.75, 1.0]. Got {information_fractions!r} instead."
        )
    return fractions


def _simpson_grid(low: float, high: float, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and composite-Simpson weights on ``[low, high]`` with spacing at most *step*
    (within the grid-size limits)."""
    intervals = 2 * math.ceil((high - low) / step / 2)
    intervals = min(max(intervals, _MIN_GRID_INTERVALS), _MAX_GRID_INTERVALS)
    nodes = np.linspace(low, high, intervals + 1)
    weights = np.full(intervals + 1, 2.0)
    weights[1::2] = 4.0
    weights[[0, -1]] = 1.0
    return nodes, weights * (high - low) / intervals / 3.0


def _sequential_recursion(
    fractions: np.ndarray,
    two_sided: bool,
    choose_score: Callable[[int, Callable[[float], float], np.ndarray, float], float],
) -> tuple[np.ndarray, np.ndarray]:
    """Walk the looks of a group-sequential test under "no difference".

    The score ``S_k = Z_k sqrt(t_k)`` has independent ``Normal(0, t_k - t_{k-1})`` increments, so
    ``corr(Z_i, Z_j) = sqrt(t_i / t_j)``. The density of ``S_k`` on the continuation region (no
    crossing so far) is carried from look to look by composite Simpson integration on a grid of
    at least 16 nodes per standard deviation of the narrowest Gaussian kernel involved (the
    Armitage–McPherson–Rowe recursion; Jennison & Turnbull 2000, ch. 19); the probability of
    crossing at the next look is then an exact normal integral against that density.
    Probabilities come out to about 1e-10.

    At look ``k`` the walk calls ``choose_score(k, crossing, nodes, kernel_sd)``, where
    ``crossing(score)`` is the probability of crossing first at look ``k`` when the boundary of
    the score is ``score`` (``|S_k| >= score`` two-sided, ``S_k >= score`` one-sided); it returns
    the score boundary to use. Returns the z boundaries and the first-crossing probabilities.
    """
    kernel_sd = np.sqrt(np.diff(fractions, prepend=0.0))
    z = np.empty(fractions.size)
    first_crossing = np.empty(fractions.size)
    nodes, mass = np.zeros(1), np.ones(1)  # S_0 = 0
    for k, sd in enumerate(kernel_sd):

        def crossing(score: float, nodes=nodes, mass=mass, sd=sd) -> float:
            beyond = special.ndtr((nodes - score) / sd)
            if two_sided:
                beyond = beyond + special.ndtr((-score - nodes) / sd)
            return float(mass @ beyond)

        score = choose_score(k, crossing, nodes, sd)
        z[k] = score / math.sqrt(fractions[k])
        first_crossing[k] = crossing(score)
        if k + 1 < fractions.size:
            cutoff = _SCORE_CUTOFF_SD * math.sqrt(fractions[k])
            high = min(score, cutoff)
            low = -high if two_sided else -cutoff
            finest = kernel_sd[k : k + 2].min() / _NODES_PER_SD
            new_nodes, weights = _simpson_grid(low, high, finest)
            kernel = np.exp(-0.5 * ((new_nodes[:, None] - nodes[None, :]) / sd) ** 2)
            mass = weights * (kernel @ mass) / (sd * math.sqrt(2 * math.pi))
            nodes = new_nodes
    return z, first_crossing


def _obf_spending(fractions: np.ndarray, alpha: float, two_sided: bool) -> np.ndarray:
    """Cumulative alpha Lan–DeMets O'Brien–Fleming-type spending allows by each fraction."""
    sides = 2 if two_sided else 1
    spend_z = float(special.ndtri(1.0 - alpha / sides / 2.0))
    return sides * 2.0 * special.ndtr(-spend_z / np.sqrt(fractions))


def _obf_z_boundaries(
    fractions: np.ndarray, alpha: float, two_sided: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Z boundaries and cumulative alpha spent of Lan–DeMets O'Brien–Fleming-type spending.

    Each side spends ``a(t) = 2 - 2 Phi(z_{1 - a'/2} / sqrt(t))`` with ``a'`` the one-sided level
    (``alpha / 2`` for a two-sided design): gsDesign's ``sfLDOF``, rpact's ``"asOF"``. Boundary
    ``k`` makes the probability of first crossing at look ``k`` equal to the increment of
    spending, solved with ``brentq`` on :func:`_sequential_recursion` to 1e-12 in the score.
    """
    spent = _obf_spending(fractions, alpha, two_sided)
    to_spend = np.diff(spent, prepend=0.0)

    def solve(k: int, crossing: Callable[[float], float], nodes: np.ndarray, sd: float) -> float:
        if to_spend[k] <= 0:  # underflow at a tiny first fraction: nothing to spend yet
            return math.inf
        low = 0.0 if two_sided else float(nodes[0]) - 40 * sd
        if crossing(low) <= to_spend[k]:  # cannot happen for OBF spending; be safe
            return low
        high = float(np.abs(nodes).max()) + 40 * sd
        return float(
            optimize.brentq(
                lambda s: crossing(s) - to_spend[k],
                low,
                high,
                xtol=1e-12,
                rtol=4 * np.finfo(float).eps,
            )
        )

    z, _ = _sequential_recursion(fractions, two_sided, solve)
    return z, spent


def _crossing_probabilities(
    fractions: np.ndarray, z_boundaries: np.ndarray, two_sided: bool
) -> np.ndarray:
    """Probability under "no difference" of first crossing the given boundaries at each look."""
    _, first_crossing = _sequential_recursion(
        fractions,
        two_sided,
        lambda k, crossing, nodes, sd: float(z_boundaries[k] * math.sqrt(fractions[k])),
    )
    return first_crossing


def obrien_fleming_boundaries(
    information_fractions: Sequence[float] | np.ndarray,
    alpha: float = 0.05,
    two_sided: bool = True,
) -> GroupSequentialBoundaries:
    """Z boundaries for looking at a split test several times (Lan–DeMets O'Brien–Fleming type).

    Peeking at a running test and stopping at the first ``p < 0.05`` raises the false-positive
    rate well above 5% (about 14% with five looks). Alpha spending fixes it: by information
    fraction ``t`` (customers so far / planned customers) at most
    ``a(t) = 2 - 2 Phi(z_{1 - a'/2} / sqrt(t))`` of the one-sided level ``a'`` may have been
    spent on each side, ``a' = alpha / 2`` for a two-sided design. Early looks get very strict
    boundaries, the last one almost the fixed-sample 1.96. A boundary depends only on the looks
    up to it, so looks need not be planned in advance or equally spaced.

    For equally spaced looks at two-sided ``alpha = 0.05`` this gives the published values
    of gsDesign ``sfLDOF`` and rpact ``"asOF"``: K = 3: 3.710, 2.511, 1.993; K = 5: 4.877, 3.357,
    2.680, 2.290, 2.031. (The classical O'Brien & Fleming 1979 boundaries, e.g. 3.471, 2.454, 2.004
    for K = 3, are a different design with the same name and fixed looks.) Boundaries are
    computed to about 1e-8 by the recursion of ``_sequential_recursion``.

    Parameters
    ----------
    information_fractions : sequence of float
        Information fraction of each look so far, increasing, in ``(0, 1]``.
    alpha : float, default 0.05
        Overall significance level (two-sided when ``two_sided``).
    two_sided : bool, default True
        Stop for B better *or* worse (symmetric boundaries), or only for B better.

    Returns
    -------
    GroupSequentialBoundaries
    """
    fractions = _check_fractions(information_fractions)
    alpha = _check_unit_interval("alpha", alpha)
    two_sided = _check_bool("two_sided", two_sided)
    z, spent = _obf_z_boundaries(fractions, alpha, two_sided)
    return _boundaries(fractions, z, spent, alpha, two_sided)


def _boundaries(
    fractions: np.ndarray, z: np.ndarray, spent: np.ndarray, alpha: float, two_sided: bool
) -> GroupSequentialBoundaries:
    """Read-only boundaries with the nominal p-value of each look's z boundary."""
    nominal = special.ndtr(-z) * (2 if two_sided else 1)
    for array in (fractions, z, nominal, spent):
        array.setflags(write=False)
    return GroupSequentialBoundaries(
        information_fractions=fractions,
        z_boundaries=z,
        nominal_p_values=nominal,
        cumulative_alpha_spent=spent,
        alpha=alpha,
        two_sided=two_sided,
    )


def sequential_check(
    z_statistics: Sequence[float] | np.ndarray,
    information_fractions: Sequence[float] | np.ndarray,
    alpha: float = 0.05,
    two_sided: bool = True,
) -> SequentialCheck:
    """Whether the looks so far of a group-sequential test crossed their O'Brien–Fleming boundary.

    Parameters
    ----------
    z_statistics : sequence of float
        The z statistic of B against A at each look so far, e.g. ``compare_means(...).statistic``
        (of the relative change, as the report judges; Welch's t is z for split-test sizes).
    information_fractions : sequence of float
        Information fraction of each look, as in :func:`obrien_fleming_boundaries`.
    alpha, two_sided
        As in :func:`obrien_fleming_boundaries`; keep them fixed over the test.

    Returns
    -------
    SequentialCheck
        ``crossed`` is True when the test may stop with a significant difference.
    """
    boundaries = obrien_fleming_boundaries(information_fractions, alpha, two_sided)
    try:
        z = np.asarray(z_statistics, dtype=float)
    except (TypeError, ValueError):
        z = np.array([np.nan])
    if z.shape != boundaries.z_boundaries.shape or not np.isfinite(z).all():
        raise ParamsError(
            "The 'z_statistics' parameter must hold one finite number per look "
            f"({boundaries.z_boundaries.size} looks in 'information_fractions'). "
            f"Got {z_statistics!r} instead."
        )
    beyond = (np.abs(z) if two_sided else z) >= boundaries.z_boundaries
    crossing_look = int(np.argmax(beyond)) + 1 if beyond.any() else None
    z.setflags(write=False)
    return SequentialCheck(
        z_statistics=z,
        boundaries=boundaries,
        crossed=crossing_look is not None,
        crossing_look=crossing_look,
    )


def extend_boundaries(
    information_fractions: Sequence[float] | np.ndarray,
    frozen_boundaries: Sequence[float] | np.ndarray = (),
    alpha: float = 0.05,
    two_sided: bool = True,
) -> GroupSequentialBoundaries:
    """Boundaries of new looks after looks whose boundaries are already fixed.

    A report looks at a running test once a month, and the boundaries it showed last month are
    kept as they were (see :mod:`custkit.splittest.looks`). This gives the boundary of every look
    after them by Lan–DeMets O'Brien–Fleming spending: look ``k`` spends
    ``a(t_k) - P(crossing one of the looks before it)`` with the earlier looks held to
    *frozen_boundaries*, so the false-positive rate over all looks stays at most ``alpha``
    whatever the earlier looks were. With the boundaries :func:`obrien_fleming_boundaries`
    gave for the earlier looks the result is the same as its own (to the solver's 1e-12).

    Parameters
    ----------
    information_fractions : sequence of float
        Every look, the frozen ones first; increasing, in ``(0, 1]``.
    frozen_boundaries : sequence of float, default ()
        The z boundaries of the first looks, as reported before (``inf``: the look could not
        stop the test).
    alpha, two_sided
        As in :func:`obrien_fleming_boundaries`; keep them fixed over the test.

    Returns
    -------
    GroupSequentialBoundaries
        ``cumulative_alpha_spent`` is the probability under "no difference" of crossing by each
        look with these boundaries.
    """
    fractions = _check_fractions(information_fractions)
    alpha = _check_unit_interval("alpha", alpha)
    two_sided = _check_bool("two_sided", two_sided)
    try:
        frozen = np.asarray(frozen_boundaries, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        frozen = np.array([np.nan])
    if frozen.size > fractions.size or np.isnan(frozen).any() or (frozen <= 0).any():
        raise ParamsError(
            "The 'frozen_boundaries' parameter must hold a positive z boundary (or inf) for each "
            f"of the first looks, at most {fractions.size}. Got {frozen_boundaries!r} instead."
        )
    allowed = _obf_spending(fractions, alpha, two_sided)
    spent_so_far = [0.0]

    def choose(k: int, crossing: Callable[[float], float], nodes: np.ndarray, sd: float) -> float:
        if k < frozen.size:
            score = float(frozen[k] * math.sqrt(fractions[k]))
        else:
            to_spend = allowed[k] - spent_so_far[0]
            if to_spend <= 0:  # the frozen looks spent it all: this look cannot stop the test
                score = math.inf
            else:
                low = 0.0 if two_sided else float(nodes[0]) - 40 * sd
                if crossing(low) <= to_spend:
                    score = low
                else:
                    high = float(np.abs(nodes).max()) + 40 * sd
                    score = float(
                        optimize.brentq(
                            lambda s: crossing(s) - to_spend,
                            low,
                            high,
                            xtol=1e-12,
                            rtol=4 * np.finfo(float).eps,
                        )
                    )
        spent_so_far[0] += crossing(score) if math.isfinite(score) else 0.0
        return score

    z, first_crossing = _sequential_recursion(fractions, two_sided, choose)
    if frozen.size:  # exactly as reported, not through sqrt and back
        z[: frozen.size] = frozen
    first_crossing = np.where(np.isfinite(z), first_crossing, 0.0)
    return _boundaries(fractions, z, np.cumsum(first_crossing), alpha, two_sided)


def information_fractions(
    customers: Sequence[float] | np.ndarray,
    planned_customers: float,
    after: float = 0.0,
    final: bool = False,
) -> np.ndarray:
    """Information fraction of each new look: customers in it / the planned sample, fixed.

    The denominator is the experiment's planned sample, never the customers assigned so far:
    with staggered assignment the latter grows from report to report, so the same look would get
    a smaller fraction (a stricter boundary) every month and the looks' boundaries would no
    longer spend alpha as planned (7.8% false positives over monthly reports instead of 5%).

    Parameters
    ----------
    customers : sequence of float
        Customers counted at each new look (cumulative, non-decreasing).
    planned_customers : float
        The planned sample of the comparison, > 0.
    after : float, default 0.0
        Fraction of the last earlier look: a new look must add information.
    final : bool, default False
        The last look is the final analysis (every assigned customer is counted): it gets
        fraction 1 and spends what is left of alpha.

    Returns
    -------
    numpy.ndarray
        One fraction per look kept, increasing, in ``(after, 1]``: a look that adds no customers
        is dropped, and looks stop at the first one that reaches the planned sample (fraction 1).
        ``NaN`` marks a dropped look, so the result lines up with *customers*.
    """
    counts = np.asarray(customers, dtype=float).reshape(-1)
    real = isinstance(planned_customers, numbers.Real) and not isinstance(planned_customers, bool)
    if not (real and planned_customers > 0 and math.isfinite(planned_customers)):
        raise ParamsError(
            "The 'planned_customers' parameter must be a number of customers > 0. "
            f"Got {planned_customers!r} instead."
        )
    raw = np.minimum(counts / float(planned_customers), 1.0)
    if final and raw.size:
        raw[-1] = 1.0
    best_before = np.maximum.accumulate(np.r_[after, raw])[:-1]
    keep = raw > best_before
    reached = np.flatnonzero(keep & (raw >= 1.0))
    if reached.size:  # the planned sample is in: no look after it
        keep[reached[0] + 1 :] = False
    return np.where(keep, raw, np.nan)


@dataclass(frozen=True, eq=False)
class MonthlyLooks:
    """The looks of a test after a report adds its new ones to the frozen ones.

    Attributes
    ----------
    kept : numpy.ndarray
        One flag per candidate new look: True when it becomes a look (it adds customers and
        comes no later than the look that reached the planned sample).
    boundaries : GroupSequentialBoundaries
        Every look, the frozen ones first, then the kept new ones.
    """

    kept: np.ndarray
    boundaries: GroupSequentialBoundaries


def add_looks(
    customers: Sequence[float] | np.ndarray,
    planned_customers: float,
    frozen_fractions: Sequence[float] | np.ndarray = (),
    frozen_boundaries: Sequence[float] | np.ndarray = (),
    final: bool = False,
    alpha: float = 0.05,
    two_sided: bool = True,
) -> MonthlyLooks:
    """The new looks of a monthly report and their boundaries, after the frozen ones.

    The one place the split-test report turns customers counted at each month's end into looks:
    information fractions against the planned sample (:func:`information_fractions`), the
    frozen looks kept as they were, the new ones' boundaries by :func:`extend_boundaries`.

    Parameters
    ----------
    customers : sequence of float
        Customers counted at each candidate new look (after the last frozen one).
    planned_customers : float
        The planned sample of the comparison.
    frozen_fractions, frozen_boundaries : sequence of float
        The looks reported before: their information fractions and z boundaries.
    final : bool, default False
        The last candidate is the final analysis (fraction 1).
    alpha, two_sided
        As in :func:`obrien_fleming_boundaries`.

    Returns
    -------
    MonthlyLooks
    """
    frozen_fractions = np.asarray(frozen_fractions, dtype=float).reshape(-1)
    after = float(frozen_fractions[-1]) if frozen_fractions.size else 0.0
    fractions = information_fractions(customers, planned_customers, after=after, final=final)
    kept = np.isfinite(fractions)
    every = np.r_[frozen_fractions, fractions[kept]]
    if every.size == 0:
        boundaries = GroupSequentialBoundaries(
            *(np.empty(0) for _ in range(4)), alpha=alpha, two_sided=two_sided
        )
    else:
        boundaries = extend_boundaries(every, frozen_boundaries, alpha, two_sided)
    kept.setflags(write=False)
    return MonthlyLooks(kept=kept, boundaries=boundaries)


def crossed_boundaries(
    z_statistics: np.ndarray, boundaries: GroupSequentialBoundaries
) -> np.ndarray:
    """Which looks crossed their boundary: ``|z| >= boundary`` (two-sided) or ``z >= boundary``;
    *z_statistics* may hold one row of looks per test (the last axis is the looks)."""
    z = np.asarray(z_statistics, dtype=float)
    return (np.abs(z) if boundaries.two_sided else z) >= boundaries.z_boundaries
