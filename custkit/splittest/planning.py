"""Planning a split test: customers needed per variant, and the smallest effect they detect.

The power functions are statsmodels' (``TTestIndPower`` for means, ``NormalIndPower`` on Cohen's
h for proportions), written out on ``scipy.special``: statsmodels' ``solve_power`` has a history
of returning arrays or bogus values with only a ``ConvergenceWarning`` when its root finder fails
(statsmodels#4022, #9884), so the (monotone, bracketed) equations are solved here with
``scipy.optimize.brentq``. The tests compare every result with statsmodels and check the planned
size's power by simulation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from scipy import optimize, special

from custkit.errors import ParamsError
from custkit.splittest.inputs import (
    _check_count,
    _check_finite,
    _check_positive,
    _check_power,
    _check_unit_interval,
)


@dataclass(frozen=True)
class SampleSize:
    """Customers needed per variant to detect an effect.

    Attributes
    ----------
    n_a, n_b : int
        Customers in A and in B (rounded up, so the power is at least the target).
    n_total : int
        ``n_a + n_b``.
    effect_size : float
        Standardized effect: Cohen's d for means, Cohen's h (arcsine) for proportions.
    alpha, power, ratio : float
        Two-sided significance level, target power, ``n_b / n_a``.
    method : str
        The power calculation, in words.
    """

    n_a: int
    n_b: int
    n_total: int
    effect_size: float
    alpha: float
    power: float
    ratio: float
    method: str


def _power_t_test(effect_size: float, n_a: float, ratio: float, alpha: float) -> float:
    """Power of the two-sided two-sample t-test (``TTestIndPower().power``)."""
    n_b = ratio * n_a
    df = n_a + n_b - 2
    noncentrality = effect_size * math.sqrt(n_a * n_b / (n_a + n_b))
    critical = float(special.stdtrit(df, 1.0 - alpha / 2))
    missed = float(special.nctdtr(df, noncentrality, critical))
    wrong_tail = float(special.nctdtr(df, noncentrality, -critical))
    # scipy's nctdtr returns NaN far in the tails (e.g. df 3140, nc 20, t -1.96), where the
    # probabilities are below 1e-70: use the normal tail instead / drop the negligible term.
    if not math.isfinite(missed):
        missed = float(special.ndtr(critical - noncentrality))
    if not math.isfinite(wrong_tail):
        wrong_tail = 0.0
    return 1.0 - missed + wrong_tail


def _power_z_test(effect_size: float, n_a: float, ratio: float, alpha: float) -> float:
    """Power of the two-sided two-sample z-test (``NormalIndPower().power``)."""
    shift = abs(effect_size) * math.sqrt(n_a * ratio / (1.0 + ratio))
    critical = float(special.ndtri(1.0 - alpha / 2))
    return float(special.ndtr(shift - critical) + special.ndtr(-shift - critical))


def _normal_sample_size(effect_size: float, ratio: float, alpha: float, power: float) -> float:
    """Starting guess: the one-tailed normal formula for n_a."""
    z_sum = special.ndtri(1.0 - alpha / 2) + special.ndtri(power)
    return float(z_sum**2 * (1.0 + 1.0 / ratio) / effect_size**2)


def _solve_increasing(
    function: Callable[[float], float], target: float, low: float, guess: float
) -> float:
    """The x >= low where the increasing *function* reaches *target* (low if already there)."""
    if function(low) >= target:
        return low
    high = max(2 * guess, low + 1e-3)
    while function(high) < target:
        high *= 2
    return float(optimize.brentq(lambda x: function(x) - target, low, high, xtol=1e-10, rtol=1e-12))


def _sample_size(
    power_function: Callable[[float, float, float, float], float],
    effect_size: float,
    alpha: float,
    power: float,
    ratio: float,
    method: str,
) -> SampleSize:
    low = max(2.0, 2.0 / ratio)
    guess = _normal_sample_size(effect_size, ratio, alpha, power)
    n_a_exact = _solve_increasing(
        lambda n: power_function(effect_size, n, ratio, alpha), power, low, guess
    )
    # Rounding to whole customers: up, with slack for the solver's last digits.
    n_a = math.ceil(n_a_exact - 1e-6)
    n_b = math.ceil(ratio * n_a_exact - 1e-6)
    return SampleSize(
        n_a=n_a,
        n_b=n_b,
        n_total=n_a + n_b,
        effect_size=float(effect_size),
        alpha=alpha,
        power=power,
        ratio=ratio,
        method=method,
    )


def sample_size_means(
    std: float, mde: float, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0
) -> SampleSize:
    """Customers per variant for a two-sided t-test to detect an absolute change of a mean.

    The exact noncentral-t power of the two-sample t-test with a common standard deviation, as
    ``statsmodels.stats.power.TTestIndPower`` with ``effect_size = mde / std``.

    Parameters
    ----------
    std : float
        Standard deviation of the per-customer metric (from past data), > 0.
    mde : float
        Smallest absolute change of the mean worth detecting, in the metric's units, non-zero.
    alpha : float, default 0.05
        Two-sided significance level.
    power : float, default 0.8
        Probability of detecting a true change of size ``mde``; greater than ``alpha``.
    ratio : float, default 1.0
        ``n_b / n_a``.

    Returns
    -------
    SampleSize
    """
    std = _check_positive("std", std, "standard deviation of the metric per customer")
    mde = _check_finite("mde", mde, "smallest change of the mean worth detecting")
    if mde == 0:
        raise ParamsError("The 'mde' parameter must be non-zero: no sample detects a zero change.")
    alpha = _check_unit_interval("alpha", alpha)
    power = _check_power(power, alpha)
    ratio = _check_positive("ratio", ratio, "customers in B per customer in A")
    return _sample_size(
        _power_t_test, abs(mde) / std, alpha, power, ratio, "two-sample t-test, noncentral t power"
    )


def minimum_detectable_effect(
    std: float,
    n_per_variant: int,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
) -> float:
    """Smallest absolute change of a mean a two-sided t-test detects with the given power.

    The inverse of :func:`sample_size_means`, as ``TTestIndPower().solve_power(effect_size=None,
    nobs1=n_per_variant, ...) * std``.

    Parameters
    ----------
    std : float
        Standard deviation of the per-customer metric, > 0.
    n_per_variant : int
        Customers in variant A (B has ``ratio`` times as many), at least 2.
    alpha, power, ratio
        As in :func:`sample_size_means`.

    Returns
    -------
    float
        The minimum detectable effect in the metric's units.
    """
    std = _check_positive("std", std, "standard deviation of the metric per customer")
    n_a = _check_count("n_per_variant", n_per_variant, 2, "customers in variant A")
    alpha = _check_unit_interval("alpha", alpha)
    power = _check_power(power, alpha)
    ratio = _check_positive("ratio", ratio, "customers in B per customer in A")
    if n_a * (1 + ratio) <= 2:
        raise ParamsError(
            "The t-test needs more than 2 customers in total; raise 'n_per_variant' or 'ratio'."
        )
    guess = math.sqrt(_normal_sample_size(1.0, ratio, alpha, power) / n_a)
    effect = _solve_increasing(lambda d: _power_t_test(d, n_a, ratio, alpha), power, 0.0, guess)
    return effect * std


def _proportion_effect_size(p_a: float, p_b: float) -> float:
    """Cohen's h: ``2 asin(sqrt(p_b)) - 2 asin(sqrt(p_a))`` (statsmodels'
    ``proportion_effectsize(p_b, p_a)``)."""
    return 2.0 * math.asin(math.sqrt(p_b)) - 2.0 * math.asin(math.sqrt(p_a))


def sample_size_proportions(
    p_base: float,
    mde_relative: float,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
) -> SampleSize:
    """Customers per variant to detect a relative change of a conversion rate.

    Normal power on the arcsine scale, as ``statsmodels.stats.power.NormalIndPower`` with
    ``effect_size = proportion_effectsize(p_base * (1 + mde_relative), p_base)`` (Cohen's h).
    The arcsine transform makes the variance independent of the rate, so the size agrees with
    the pooled z-test of :func:`compare_proportions` (checked by simulation in the tests).

    Parameters
    ----------
    p_base : float
        Conversion rate of the control, in ``(0, 1)``.
    mde_relative : float
        Smallest relative change worth detecting, e.g. 0.05 for +5%; non-zero, and the changed
        rate ``p_base * (1 + mde_relative)`` must stay in ``(0, 1)``.
    alpha, power, ratio
        As in :func:`sample_size_means`.

    Returns
    -------
    SampleSize
    """
    p_base = _check_unit_interval("p_base", p_base)
    mde_relative = _check_finite("mde_relative", mde_relative, "relative change, 0.05 for +5%")
    p_changed = p_base * (1.0 + mde_relative)
    if mde_relative == 0 or not 0 < p_changed < 1:
        raise ParamsError(
            "The 'mde_relative' parameter must be non-zero and keep p_base * (1 + mde_relative) "
            f"in (0, 1). Got {mde_relative:g} instead (changed rate {p_changed:g})."
        )
    alpha = _check_unit_interval("alpha", alpha)
    power = _check_power(power, alpha)
    ratio = _check_positive("ratio", ratio, "customers in B per customer in A")
    effect_size = abs(_proportion_effect_size(p_base, p_changed))
    return _sample_size(
        _power_z_test,
        effect_size,
        alpha,
        power,
        ratio,
        "two-proportion z-test, arcsine (Cohen's h)",
    )


def minimum_detectable_effect_proportions(
    p_base: float,
    n_per_variant: int,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
) -> float:
    """Smallest relative *increase* of a conversion rate detectable with the given power.

    The inverse of :func:`sample_size_proportions`: Cohen's h from
    ``NormalIndPower().solve_power(effect_size=None, nobs1=n_per_variant, ...)``, turned back
    into a rate ``p = sin(asin(sqrt(p_base)) + h / 2) ** 2``.

    Parameters
    ----------
    p_base : float
        Conversion rate of the control, in ``(0, 1)``.
    n_per_variant : int
        Customers in variant A (B has ``ratio`` times as many), at least 1.
    alpha, power, ratio
        As in :func:`sample_size_means`.

    Returns
    -------
    float
        Relative change, e.g. 0.05 for +5%.

    Raises
    ------
    custkit.errors.ParamsError
        When even a rate of 100% would not be detected with this many customers.
    """
    p_base = _check_unit_interval("p_base", p_base)
    n_a = _check_count("n_per_variant", n_per_variant, 1, "customers in variant A")
    alpha = _check_unit_interval("alpha", alpha)
    power = _check_power(power, alpha)
    ratio = _check_positive("ratio", ratio, "customers in B per customer in A")
    guess = math.sqrt(_normal_sample_size(1.0, ratio, alpha, power) / n_a)
    effect = _solve_increasing(lambda h: _power_z_test(h, n_a, ratio, alpha), power, 0.0, guess)
    angle = math.asin(math.sqrt(p_base)) + effect / 2.0
    if angle >= math.pi / 2:
        raise ParamsError(
            f"With {n_a} customers per variant no increase from a rate of {p_base:g} can be "
            f"detected with power {power:g}: raise 'n_per_variant'."
        )
    return math.sin(angle) ** 2 / p_base - 1.0
