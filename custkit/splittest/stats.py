"""The statistics of a split-test review, computed from per-variant sufficient statistics.

A split test is summarized per variant by a handful of numbers (customers, sums, sums of squares,
conversions); every function here takes those plain numbers, so a report can aggregate a million
assignments once with pandas and never hand raw rows to the statistics. Variant A is the control,
B the challenger; every difference is *B minus A* and every relative change is *B / A - 1*.

What is here
------------
* :func:`compare_means` (Welch t-test), :func:`compare_proportions` (two-proportion z-test) and
  :func:`compare_ratios` (ratio metrics such as average order value, delta method) return a
  :class:`MetricComparison`: the estimate (absolute or relative), its interval and a p-value.
* :func:`srm_test` (sample-ratio mismatch, chi-square) and :func:`holm` (multiple metrics).
* :func:`prob_b_beats_a_proportions` and :func:`prob_b_beats_a_means`: the Bayesian view
  (probability that B is better, expected loss of each choice) as a :class:`BayesianComparison`.
* :func:`obrien_fleming_boundaries` and :func:`sequential_check`: group-sequential looks with
  Lan–DeMets O'Brien–Fleming-type alpha spending.
* :func:`sample_size_means`, :func:`minimum_detectable_effect`, :func:`sample_size_proportions`,
  :func:`minimum_detectable_effect_proportions`: planning.

What is our own code, and why
-----------------------------
The closed forms are written here, each a few lines on top of ``scipy.special`` (``stdtr``,
``ndtr``, ``betaln``...), because no library offers them *from sufficient statistics with the
output a review needs*: ``scipy.stats.ttest_ind_from_stats`` gives Welch's p-value but neither
its degrees of freedom nor an interval; statsmodels' ``CompareMeans`` needs the raw rows;
``proportions_ztest`` and ``confint_proportions_2indep`` take counts but give no delta-method
interval for the *relative* change, and nothing in either library does the delta method for a
ratio metric, the exact Beta–Binomial probability or expected loss, or Lan–DeMets boundaries.
statsmodels' ``solve_power`` has a history of returning arrays or bogus values with only a
``ConvergenceWarning`` when its root finder fails (statsmodels#4022, #9884), so planning solves
its own (monotone, bracketed) equations with ``scipy.optimize.brentq``; the power functions are
the same as statsmodels' ``TTestIndPower`` / ``NormalIndPower``. :func:`holm` is four lines of
numpy rather than an import of statsmodels for it. Libraries are used where they fit:
``scipy.stats.chisquare`` for the sample-ratio test, ``scipy.integrate.quad`` as the fallback for
non-integer Beta priors. ``tests/splittest/test_stats.py`` pins every formula to
scipy / statsmodels on raw data, or, where no library exists, to numerical integration and
simulation.

Conventions and choices
-----------------------
* **Intervals.** The absolute difference of means uses the Welch t quantile; everything else
  (proportions, ratios, every relative change) uses the normal quantile, as the delta method and
  the Wald interval are large-sample approximations. The relative interval comes from the delta
  method with zero covariance between the variants: for ``r = m_B / m_A - 1``,
  ``se(r)**2 = se_B**2 / m_A**2 + m_B**2 * se_A**2 / m_A**4``.
* **p-values** test "no difference" and do not depend on ``relative``: Welch's t-test for means,
  the pooled two-proportion z-test for proportions (as ``statsmodels`` ``proportions_ztest``
  does), a z-test on the delta-method difference for ratios. Near the significance edge a
  relative interval may therefore disagree with the p-value in the third digit.
* **Invalid input vs. undefined result.** Numbers no data can produce (negative counts, more
  conversions than customers, a sum of squares smaller than ``sum**2 / n``) and variants with
  fewer than two customers (no variance) raise :class:`~custkit.errors.ParamsError`. Real data
  for which a quantity is undefined — both variants with zero variance, a control mean of zero
  under ``relative=True``, no conversions at all — give NaN for exactly the undefined fields and a
  :class:`SplitTestWarning` that says how to fix it, so one degenerate metric does not stop a
  report of twenty.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import integrate, optimize, special, stats

from custkit.errors import ParamsError

#: Relative slack for sums of squares that rounding pushed just below ``sum**2 / n``.
_ROUNDING_SLACK = 1e-9
#: Shares of :func:`srm_test` must sum to one within this.
_SHARES_TOLERANCE = 1e-6
#: Simpson intervals per look in the group-sequential recursion: at least / at most.
_MIN_GRID_INTERVALS = 400
_MAX_GRID_INTERVALS = 2000
#: Grid nodes per standard deviation of the narrowest Gaussian kernel of the recursion.
_NODES_PER_SD = 16
#: The continuation region is cut at this many standard deviations of the score.
_SCORE_CUTOFF_SD = 9.0


class SplitTestWarning(UserWarning):
    """A comparison is undefined for these data; the undefined fields are NaN."""


# ------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class MetricComparison:
    """B against A on one metric: estimate, interval and p-value.

    Attributes
    ----------
    estimate : float
        ``mean_b - mean_a``, or ``mean_b / mean_a - 1`` when ``relative`` (0.05 = B is 5% higher).
    ci_low, ci_high : float
        Two-sided ``1 - alpha`` confidence interval of ``estimate``.
    p_value : float
        Two-sided p-value of "no difference between A and B" (same for both ``relative``).
    mean_a, mean_b : float
        The metric in each variant: a mean, a conversion rate, or a ratio of sums.
    std_error : float
        Standard error of ``estimate`` (unpooled; delta method when relative).
    statistic : float
        The test statistic behind ``p_value`` (Welch t, or z).
    df : float
        Degrees of freedom of ``statistic``; ``inf`` for z-tests.
    relative : bool
        Whether ``estimate`` and its interval are relative changes.
    alpha : float
        Significance level; the interval covers ``1 - alpha``.
    method : str
        The test and interval used, in words.
    """

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    mean_a: float
    mean_b: float
    std_error: float
    statistic: float
    df: float
    relative: bool
    alpha: float
    method: str

    @property
    def significant(self) -> bool:
        """``p_value < alpha`` (False when the p-value is NaN)."""
        return bool(self.p_value < self.alpha)


@dataclass(frozen=True)
class BayesianComparison:
    """Posterior view of B against A.

    Attributes
    ----------
    prob_b_better : float
        Posterior probability that B's true value exceeds A's.
    expected_loss_a : float
        ``E[max(value_B - value_A, 0)]``: what choosing A costs on average, in the metric's units
        (absolute conversion rate, or currency for a mean), counting only worlds where B is better.
    expected_loss_b : float
        ``E[max(value_A - value_B, 0)]``: the same for choosing B.
    mean_a, mean_b : float
        Posterior means of each variant's value.
    prior : str
        The prior, in words.
    method : str
        How the numbers were computed.
    """

    prob_b_better: float
    expected_loss_a: float
    expected_loss_b: float
    mean_a: float
    mean_b: float
    prior: str
    method: str


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


# --------------------------------------------------------------------------------- validation
def _shown(value: Any) -> str:
    """``repr`` without numpy's ``np.float64(...)`` wrapper."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _check_finite(name: str, value: Any, what: str) -> float:
    if not (_is_number(value) and math.isfinite(value)):
        raise ParamsError(
            f"The '{name}' parameter must be a finite number ({what}). Got {_shown(value)} instead."
        )
    return float(value)


def _check_positive(name: str, value: Any, what: str) -> float:
    if not (_is_number(value) and math.isfinite(value) and value > 0):
        raise ParamsError(
            f"The '{name}' parameter must be a finite number > 0 ({what}). "
            f"Got {_shown(value)} instead."
        )
    return float(value)


def _check_unit_interval(name: str, value: Any) -> float:
    if not (_is_number(value) and 0 < value < 1):
        raise ParamsError(
            f"The '{name}' parameter must be a float in the range (0, 1). "
            f"Got {_shown(value)} instead."
        )
    return float(value)


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ParamsError(
            f"The '{name}' parameter must be True or False. Got {_shown(value)} instead."
        )
    return bool(value)


def _check_count(name: str, value: Any, minimum: int, what: str, maximum: int | None = None) -> int:
    """A whole number (int, or a float such as 12.0 from a pandas sum) in ``[minimum, maximum]``."""
    ok = _is_number(value) and math.isfinite(value) and float(value).is_integer()
    ok = ok and minimum <= value and (maximum is None or value <= maximum)
    if not ok:
        allowed = f">= {minimum}" if maximum is None else f"in the range [{minimum}, {maximum}]"
        raise ParamsError(
            f"The '{name}' parameter must be an integer {allowed} ({what}). "
            f"Got {_shown(value)} instead."
        )
    return int(value)


def _check_power(power: Any, alpha: float) -> float:
    power = _check_unit_interval("power", power)
    if power <= alpha:
        raise ParamsError(
            f"The 'power' parameter must be greater than alpha ({alpha:g}): a two-sided test "
            f"rejects with probability alpha even without an effect. Got {power:g} instead."
        )
    return power


def _mean_and_variance(variant: str, n: Any, total: Any, total_sq: Any) -> tuple[int, float, float]:
    """Customers, mean and sample variance (ddof 1) of one variant from its sums."""
    n = _check_count(f"n_{variant}", n, 2, f"customers in variant {variant.upper()}")
    total = _check_finite(
        f"sum_{variant}", total, f"sum of the metric in variant {variant.upper()}"
    )
    total_sq = _check_finite(
        f"sumsq_{variant}", total_sq, f"sum of squared values in variant {variant.upper()}"
    )
    mean = total / n
    squares = total_sq - total * mean
    if squares < -_ROUNDING_SLACK * max(abs(total_sq), 1e-300):
        raise ParamsError(
            f"The 'sumsq_{variant}' parameter ({total_sq:g}) is smaller than "
            f"sum_{variant}**2 / n_{variant} ({total * mean:g}), which no data can give. "
            "Pass the sum of the squared per-customer values."
        )
    return n, mean, max(squares, 0.0) / (n - 1)


def _ratio_moments(
    variant: str, n: Any, sums: Sequence[Any]
) -> tuple[int, float, float, float, float, float]:
    """Customers, means of x and y, variances of x and y, covariance (ddof 1) of one variant."""
    label = variant.upper()
    n = _check_count(f"n_{variant}", n, 2, f"customers in variant {label}")
    names = ("sum_x", "sum_y", "sum_xx", "sum_yy", "sum_xy")
    sum_x, sum_y, sum_xx, sum_yy, sum_xy = (
        _check_finite(f"{name}_{variant}", value, f"{name} of variant {label}")
        for name, value in zip(names, sums, strict=True)
    )
    mean_x, mean_y = sum_x / n, sum_y / n
    ss_x, ss_y = sum_xx - sum_x * mean_x, sum_yy - sum_y * mean_y
    cross = sum_xy - sum_x * mean_y
    # Rounding can push a zero variance, or a perfect correlation, just past its limit.
    ss_x = 0.0 if -_ROUNDING_SLACK * abs(sum_xx) <= ss_x < 0 else ss_x
    ss_y = 0.0 if -_ROUNDING_SLACK * abs(sum_yy) <= ss_y < 0 else ss_y
    excess_correlation = cross**2 - ss_x * ss_y > _ROUNDING_SLACK * abs(sum_xx) * abs(sum_yy)
    if ss_x < 0 or ss_y < 0 or excess_correlation:
        given = ", ".join(
            f"{name}_{variant}={value:g}"
            for name, value in zip(names, (sum_x, sum_y, sum_xx, sum_yy, sum_xy), strict=True)
        )
        raise ParamsError(
            f"The sums of variant {label} (n_{variant}={n}, {given}) cannot come from any data: "
            "they imply a negative variance or a correlation beyond ±1. Pass the sums over the "
            "customers of the variant of x, y, x*x, y*y and x*y."
        )
    return n, mean_x, mean_y, ss_x / (n - 1), ss_y / (n - 1), cross / (n - 1)


# ---------------------------------------------------------------------------------- comparisons
def _two_sided_normal_p(z: float) -> float:
    return float(2.0 * special.ndtr(-abs(z)))


def _finish_comparison(
    *,
    mean_a: float,
    mean_b: float,
    var_mean_a: float,
    var_mean_b: float,
    statistic: float,
    p_value: float,
    df: float,
    relative: bool,
    alpha: float,
    method: str,
) -> MetricComparison:
    """Estimate, standard error and interval (absolute or relative) around a finished test."""
    if relative:
        if mean_a == 0:
            warnings.warn(
                "Variant A's value is 0, so the relative change B / A - 1 is undefined; the "
                "estimate and its interval are NaN. Pass relative=False for the difference B - A.",
                SplitTestWarning,
                stacklevel=3,
            )
            estimate = std_error = math.nan
        else:
            estimate = mean_b / mean_a - 1.0
            std_error = math.sqrt(var_mean_b / mean_a**2 + mean_b**2 * var_mean_a / mean_a**4)
        quantile = float(special.ndtri(1.0 - alpha / 2))
        method += "; relative interval by the delta method"
    else:
        estimate = mean_b - mean_a
        std_error = math.sqrt(var_mean_a + var_mean_b)
        quantile = (
            float(special.stdtrit(df, 1.0 - alpha / 2))
            if math.isfinite(df)
            else float(special.ndtri(1.0 - alpha / 2))
        )
    if math.isnan(p_value) or math.isnan(estimate):
        ci_low = ci_high = math.nan
    else:
        ci_low, ci_high = estimate - quantile * std_error, estimate + quantile * std_error
    return MetricComparison(
        estimate=float(estimate),
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        p_value=float(p_value),
        mean_a=float(mean_a),
        mean_b=float(mean_b),
        std_error=float(std_error),
        statistic=float(statistic),
        df=float(df),
        relative=relative,
        alpha=alpha,
        method=method,
    )


def compare_means(
    n_a: int,
    sum_a: float,
    sumsq_a: float,
    n_b: int,
    sum_b: float,
    sumsq_b: float,
    relative: bool = True,
    alpha: float = 0.05,
) -> MetricComparison:
    """Compare the mean of a per-customer metric between variants with Welch's t-test.

    Parameters
    ----------
    n_a, n_b : int
        Customers in each variant, at least 2.
    sum_a, sum_b : float
        Sum of the per-customer metric (e.g. revenue) in each variant.
    sumsq_a, sumsq_b : float
        Sum of the squared per-customer values in each variant.
    relative : bool, default True
        Report ``mean_b / mean_a - 1`` with a delta-method interval (normal quantile) instead of
        ``mean_b - mean_a`` with the Welch t interval.
    alpha : float, default 0.05
        Significance level; the interval covers ``1 - alpha``.

    Returns
    -------
    MetricComparison
        ``p_value`` and ``df`` are those of Welch's test with Welch–Satterthwaite degrees of
        freedom, as ``scipy.stats.ttest_ind(equal_var=False)`` on the raw values.

    Raises
    ------
    custkit.errors.ParamsError
        For a variant with fewer than 2 customers, non-finite sums, or a sum of squares no data
        can give.

    Warns
    -----
    SplitTestWarning
        When both variants have zero variance (p-value, df and interval NaN) or, with
        ``relative=True``, when ``mean_a`` is 0 (estimate and interval NaN).

    Examples
    --------
    >>> result = compare_means(1000, 50_000.0, 3_500_000.0, 1000, 52_000.0, 3_700_000.0)
    >>> round(result.estimate, 3), round(result.p_value, 3)
    (0.04, 0.157)
    """
    alpha = _check_unit_interval("alpha", alpha)
    relative = _check_bool("relative", relative)
    n_a, mean_a, var_a = _mean_and_variance("a", n_a, sum_a, sumsq_a)
    n_b, mean_b, var_b = _mean_and_variance("b", n_b, sum_b, sumsq_b)
    var_mean_a, var_mean_b = var_a / n_a, var_b / n_b
    std_error = math.sqrt(var_mean_a + var_mean_b)
    if std_error == 0:
        warnings.warn(
            "Both variants have zero variance (every customer has the same value), so Welch's "
            "test is undefined; p-value, degrees of freedom and interval are NaN. Check that the "
            "metric holds per-customer values.",
            SplitTestWarning,
            stacklevel=2,
        )
        statistic = p_value = df = math.nan
    else:
        statistic = (mean_b - mean_a) / std_error
        df = (var_mean_a + var_mean_b) ** 2 / (
            var_mean_a**2 / (n_a - 1) + var_mean_b**2 / (n_b - 1)
        )
        p_value = float(2.0 * special.stdtr(df, -abs(statistic)))
    return _finish_comparison(
        mean_a=mean_a,
        mean_b=mean_b,
        var_mean_a=var_mean_a,
        var_mean_b=var_mean_b,
        statistic=statistic,
        p_value=p_value,
        df=df,
        relative=relative,
        alpha=alpha,
        method="Welch t-test",
    )


def compare_proportions(
    x_a: int,
    n_a: int,
    x_b: int,
    n_b: int,
    relative: bool = True,
    alpha: float = 0.05,
) -> MetricComparison:
    """Compare conversion rates between variants.

    Parameters
    ----------
    x_a, x_b : int
        Customers who converted in each variant, ``0 <= x <= n``.
    n_a, n_b : int
        Customers in each variant, at least 1.
    relative : bool, default True
        Report ``p_b / p_a - 1`` (delta-method interval) instead of ``p_b - p_a``.
    alpha : float, default 0.05
        Significance level; the interval covers ``1 - alpha``.

    Returns
    -------
    MetricComparison
        ``p_value`` and ``statistic`` are the pooled two-proportion z-test's, as
        ``statsmodels.stats.proportion.proportions_ztest``; the interval uses the unpooled
        standard error (for the difference: the Wald interval, as
        ``confint_proportions_2indep(compare="diff", method="wald")``). Like every Wald
        interval it is too narrow for rates with a handful of conversions.

    Warns
    -----
    SplitTestWarning
        When nobody or everybody converted in both variants (p-value and interval NaN) or, with
        ``relative=True``, when ``p_a`` is 0.
    """
    alpha = _check_unit_interval("alpha", alpha)
    relative = _check_bool("relative", relative)
    n_a = _check_count("n_a", n_a, 1, "customers in variant A")
    n_b = _check_count("n_b", n_b, 1, "customers in variant B")
    x_a = _check_count("x_a", x_a, 0, "converted customers in variant A", maximum=n_a)
    x_b = _check_count("x_b", x_b, 0, "converted customers in variant B", maximum=n_b)
    rate_a, rate_b = x_a / n_a, x_b / n_b
    pooled = (x_a + x_b) / (n_a + n_b)
    null_se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b))
    if null_se == 0:
        warnings.warn(
            f"{'No' if pooled == 0 else 'Every'} customer converted in either variant, so the "
            "z-test is undefined; p-value and interval are NaN. Check the conversion definition "
            "or wait for more data.",
            SplitTestWarning,
            stacklevel=2,
        )
        statistic = p_value = math.nan
    else:
        statistic = (rate_b - rate_a) / null_se
        p_value = _two_sided_normal_p(statistic)
    return _finish_comparison(
        mean_a=rate_a,
        mean_b=rate_b,
        var_mean_a=rate_a * (1.0 - rate_a) / n_a,
        var_mean_b=rate_b * (1.0 - rate_b) / n_b,
        statistic=statistic,
        p_value=p_value,
        df=math.inf,
        relative=relative,
        alpha=alpha,
        method="two-proportion z-test (pooled); Wald interval (unpooled)",
    )


def compare_ratios(
    n_a: int,
    sum_x_a: float,
    sum_y_a: float,
    sum_xx_a: float,
    sum_yy_a: float,
    sum_xy_a: float,
    n_b: int,
    sum_x_b: float,
    sum_y_b: float,
    sum_xx_b: float,
    sum_yy_b: float,
    sum_xy_b: float,
    relative: bool = True,
    alpha: float = 0.05,
) -> MetricComparison:
    """Compare a ratio metric (sum of x / sum of y) between variants, by the delta method.

    Average order value is revenue per order: per customer, ``x`` is revenue and ``y`` the
    number of orders, and the metric of a variant is ``sum_x / sum_y``. The customer, not the
    order, is the randomized unit, so orders of one customer are not independent; the delta
    method accounts for that through the per-customer covariance of x and y:
    ``var(R) = (var_x - 2 R cov_xy + R**2 var_y) / (n mean_y**2)`` with ``R = mean_x / mean_y``
    (Deng, Knoblich & Lu 2018, "Applying the Delta Method in Metric Analytics").

    Parameters
    ----------
    n_a, n_b : int
        Customers in each variant, at least 2.
    sum_x_a, sum_x_b : float
        Sum of the per-customer numerator (e.g. revenue).
    sum_y_a, sum_y_b : float
        Sum of the per-customer denominator (e.g. orders).
    sum_xx_a, sum_yy_a, sum_xy_a, sum_xx_b, sum_yy_b, sum_xy_b : float
        Sums of ``x * x``, ``y * y`` and ``x * y`` over the customers.
    relative : bool, default True
        Report ``R_b / R_a - 1`` instead of ``R_b - R_a`` (delta method for both).
    alpha : float, default 0.05
        Significance level; the interval covers ``1 - alpha`` (normal quantile).

    Returns
    -------
    MetricComparison
        ``mean_a`` / ``mean_b`` are the ratios; ``p_value`` is the z-test of ``R_b - R_a``.

    Warns
    -----
    SplitTestWarning
        When a variant's denominator sums to 0 (its ratio is undefined: everything NaN), when
        the difference has zero standard error, or, with ``relative=True``, when ``R_a`` is 0.
    """
    alpha = _check_unit_interval("alpha", alpha)
    relative = _check_bool("relative", relative)
    n_a, mx_a, my_a, vx_a, vy_a, cxy_a = _ratio_moments(
        "a", n_a, (sum_x_a, sum_y_a, sum_xx_a, sum_yy_a, sum_xy_a)
    )
    n_b, mx_b, my_b, vx_b, vy_b, cxy_b = _ratio_moments(
        "b", n_b, (sum_x_b, sum_y_b, sum_xx_b, sum_yy_b, sum_xy_b)
    )
    method = "z-test on the delta-method difference of ratios"
    if my_a == 0 or my_b == 0:
        variant = "A" if my_a == 0 else "B"
        warnings.warn(
            f"The denominator of variant {variant} sums to 0, so its ratio is undefined and "
            "every result is NaN. Check that the denominator (e.g. orders) was counted.",
            SplitTestWarning,
            stacklevel=2,
        )
        nan = math.nan
        return MetricComparison(
            nan, nan, nan, nan, nan, nan, nan, nan, math.inf, relative, alpha, method
        )
    ratio_a, ratio_b = mx_a / my_a, mx_b / my_b
    # Variance of the linearized per-customer value (x - R y) / mean_y, never negative.
    var_ratio_a = max(vx_a - 2 * ratio_a * cxy_a + ratio_a**2 * vy_a, 0.0) / (n_a * my_a**2)
    var_ratio_b = max(vx_b - 2 * ratio_b * cxy_b + ratio_b**2 * vy_b, 0.0) / (n_b * my_b**2)
    std_error = math.sqrt(var_ratio_a + var_ratio_b)
    if std_error == 0:
        warnings.warn(
            "Both ratios have zero standard error (x is exactly proportional to y for every "
            "customer), so the test is undefined; p-value and interval are NaN.",
            SplitTestWarning,
            stacklevel=2,
        )
        statistic = p_value = math.nan
    else:
        statistic = (ratio_b - ratio_a) / std_error
        p_value = _two_sided_normal_p(statistic)
    return _finish_comparison(
        mean_a=ratio_a,
        mean_b=ratio_b,
        var_mean_a=var_ratio_a,
        var_mean_b=var_ratio_b,
        statistic=statistic,
        p_value=p_value,
        df=math.inf,
        relative=relative,
        alpha=alpha,
        method=method,
    )


# ------------------------------------------------------------------- sample ratio, many metrics
def srm_test(
    counts: Sequence[int] | np.ndarray, expected_shares: Sequence[float] | np.ndarray
) -> float:
    """P-value of a sample-ratio mismatch: do the variants' sizes fit the planned split?

    A chi-square goodness-of-fit test (``scipy.stats.chisquare``). A small p-value (the usual
    alarm is below 0.001) means the assignment or the tracking is broken, and the comparisons of
    the test cannot be trusted whatever they say.

    Parameters
    ----------
    counts : sequence of int
        Customers assigned to each variant (non-negative whole numbers, at least two variants).
    expected_shares : sequence of float
        Planned share of each variant, each > 0, summing to 1 (within 1e-6), e.g.
        ``[0.5, 0.5]``. Shares that do not sum to 1 are refused rather than rescaled, because a
        typo such as ``[0.5, 0.4]`` would otherwise change the very split being checked; for
        weights such as ``[1, 1]`` divide by their sum.

    Returns
    -------
    float
        The p-value.
    """
    observed = np.asarray(counts)
    if observed.ndim != 1 or observed.size < 2 or observed.dtype.kind not in "iuf":
        raise ParamsError(
            "The 'counts' parameter must be a list of at least two numbers (customers per "
            f"variant). Got {counts!r} instead."
        )
    observed = observed.astype(float)
    if not (np.isfinite(observed).all() and (observed >= 0).all()) or np.any(
        observed != np.round(observed)
    ):
        raise ParamsError(
            "The 'counts' parameter must hold non-negative whole numbers (customers per variant). "
            f"Got {observed.tolist()} instead."
        )
    if observed.sum() == 0:
        raise ParamsError("The 'counts' parameter sums to 0: no customer was assigned yet.")
    try:
        shares = np.asarray(expected_shares, dtype=float)
    except (TypeError, ValueError):
        shares = np.array([np.nan])
    if shares.shape != observed.shape or not (np.isfinite(shares).all() and (shares > 0).all()):
        raise ParamsError(
            f"The 'expected_shares' parameter must hold {observed.size} numbers > 0, one per "
            f"variant of 'counts'. Got {expected_shares!r} instead."
        )
    if abs(shares.sum() - 1.0) > _SHARES_TOLERANCE:
        raise ParamsError(
            f"The 'expected_shares' parameter must sum to 1. Got {shares.tolist()} (sum "
            f"{shares.sum():g}) instead. For weights such as [1, 1], divide them by their sum."
        )
    expected = shares / shares.sum() * observed.sum()
    return float(stats.chisquare(observed, f_exp=expected).pvalue)


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values, in the order given.

    Compare each adjusted p-value with alpha to control the family-wise error rate over all the
    metrics of a test; equals ``statsmodels.stats.multitest.multipletests(method="holm")[1]``.
    A NaN p-value (a metric whose test is undefined, see :class:`SplitTestWarning`) stays NaN and
    does not count in the family, as R's ``p.adjust`` does; statsmodels has no such handling.

    Parameters
    ----------
    p_values : sequence of float
        One p-value per metric, each in ``[0, 1]`` or NaN.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values: of ``m`` non-NaN p-values, the k-th smallest becomes
        ``max over j <= k of min(1, (m - j + 1) p_(j))``.
    """
    try:
        p = np.asarray(p_values, dtype=float)
    except (TypeError, ValueError):
        p = np.array([-1.0])
    tested = ~np.isnan(p)
    if p.ndim != 1 or (p[tested] < 0).any() or (p[tested] > 1).any():
        raise ParamsError(
            "The 'p_values' parameter must be a flat list of numbers in the range [0, 1] (one "
            f"p-value per metric, NaN for an undefined test). Got {p_values!r} instead."
        )
    m = int(tested.sum())
    order = np.argsort(p[tested], kind="stable")
    adjusted_sorted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[tested][order]))
    adjusted_tested = np.empty(m)
    adjusted_tested[order] = adjusted_sorted
    adjusted = np.full(p.shape, np.nan)
    adjusted[tested] = adjusted_tested
    return adjusted


# -------------------------------------------------------------------------------------- Bayes
def _prob_beta_greater(a1: float, b1: float, a2: float, b2: float) -> float:
    """P(X1 > X2) for independent X1 ~ Beta(a1, b1), X2 ~ Beta(a2, b2).

    Closed form when a1 or a2 is a whole number (summing over the smaller one), else numerical
    integration.
    """
    a1_whole, a2_whole = float(a1).is_integer(), float(a2).is_integer()
    if a1_whole and (not a2_whole or a1 <= a2):
        return _prob_beta_greater_sum(a1, b1, a2, b2)
    if a2_whole:
        return 1.0 - _prob_beta_greater_sum(a2, b2, a1, b1)
    return _prob_beta_greater_quad(a1, b1, a2, b2)


def _prob_beta_greater_sum(a1: float, b1: float, a2: float, b2: float) -> float:
    """Evan Miller's closed form for whole-number a1, summed in log space:
    ``sum_{i < a1} B(a2 + i, b1 + b2) / ((b1 + i) B(1 + i, b1) B(a2, b2))``."""
    i = np.arange(int(a1), dtype=float)
    log_terms = (
        special.betaln(a2 + i, b1 + b2)
        - np.log(b1 + i)
        - special.betaln(1.0 + i, b1)
        - special.betaln(a2, b2)
    )
    return float(min(1.0, math.exp(special.logsumexp(log_terms))))


def _prob_beta_greater_quad(a1: float, b1: float, a2: float, b2: float) -> float:
    """``integral of pdf_2(t) * P(X1 > t) dt`` over all but 2e-15 of X2's mass."""
    low = float(special.betaincinv(a2, b2, 1e-15))
    high = 1.0 - float(special.betaincinv(b2, a2, 1e-15))
    log_norm = special.betaln(a2, b2)

    def integrand(t: float) -> float:
        density = math.exp((a2 - 1) * math.log(t) + (b2 - 1) * math.log1p(-t) - log_norm)
        return density * float(special.betainc(b1, a1, 1.0 - t))  # P(X1 > t)

    inside = [m for m in (a1 / (a1 + b1), a2 / (a2 + b2)) if low < m < high]
    value, _ = integrate.quad(
        integrand, low, high, points=inside or None, epsabs=1e-13, epsrel=1e-10, limit=200
    )
    return float(min(max(value, 0.0), 1.0))


def _expected_shortfall_beta(a1: float, b1: float, a2: float, b2: float) -> float:
    """``E[max(X2 - X1, 0)]`` for independent X1 ~ Beta(a1, b1), X2 ~ Beta(a2, b2).

    ``E[X2 1{X2 > X1}] = mean_2 P(Beta(a2 + 1, b2) > X1)`` because ``t * pdf(t; a, b)`` is
    ``a / (a + b)`` times ``pdf(t; a + 1, b)``; likewise for X1.
    """
    mean_1, mean_2 = a1 / (a1 + b1), a2 / (a2 + b2)
    value = mean_2 * _prob_beta_greater(a2 + 1, b2, a1, b1) - mean_1 * _prob_beta_greater(
        a2, b2, a1 + 1, b1
    )
    return max(value, 0.0)


def prob_b_beats_a_proportions(
    x_a: int,
    n_a: int,
    x_b: int,
    n_b: int,
    prior_alpha: float = 1.0,
    prior_beta: float = 1.0,
) -> BayesianComparison:
    """Posterior probability that B converts better than A, and the expected loss of each choice.

    Each variant's conversion rate gets a ``Beta(prior_alpha, prior_beta)`` prior (default: flat),
    so its posterior is ``Beta(prior_alpha + x, prior_beta + n - x)``.

    ``prob_b_better`` is exact: with a whole-number posterior alpha (any whole-number
    ``prior_alpha``) it is Evan Miller's closed-form sum ("Formulas for Bayesian A/B Testing",
    2014), evaluated in log space with ``scipy.special.betaln`` — one term per conversion of the
    smaller variant, accurate to about 1e-10. The expected losses are exact too:
    ``E[max(p_A - p_B, 0)] = m_A P(Beta(a_A + 1, b_A) > p_B) - m_B P(p_A > Beta(a_B + 1, b_B))``
    with the same sum (Stucchio 2015, "Bayesian A/B Testing at VWO"). With non-integer priors
    (e.g. Jeffreys, 0.5 / 0.5) the probabilities are integrated numerically with
    ``scipy.integrate.quad`` to about 1e-10.

    Parameters
    ----------
    x_a, n_a, x_b, n_b : int
        Converted and total customers of each variant.
    prior_alpha, prior_beta : float, default 1.0
        Parameters of the Beta prior of both conversion rates, > 0.

    Returns
    -------
    BayesianComparison
        Expected losses are in absolute conversion rate (0.001 = 0.1 percentage points).
    """
    n_a = _check_count("n_a", n_a, 1, "customers in variant A")
    n_b = _check_count("n_b", n_b, 1, "customers in variant B")
    x_a = _check_count("x_a", x_a, 0, "converted customers in variant A", maximum=n_a)
    x_b = _check_count("x_b", x_b, 0, "converted customers in variant B", maximum=n_b)
    prior_alpha = _check_positive("prior_alpha", prior_alpha, "first Beta prior parameter")
    prior_beta = _check_positive("prior_beta", prior_beta, "second Beta prior parameter")
    alpha_a, beta_a = prior_alpha + x_a, prior_beta + n_a - x_a
    alpha_b, beta_b = prior_alpha + x_b, prior_beta + n_b - x_b
    exact = float(alpha_a).is_integer() or float(alpha_b).is_integer()
    return BayesianComparison(
        prob_b_better=_prob_beta_greater(alpha_b, beta_b, alpha_a, beta_a),
        expected_loss_a=_expected_shortfall_beta(alpha_a, beta_a, alpha_b, beta_b),
        expected_loss_b=_expected_shortfall_beta(alpha_b, beta_b, alpha_a, beta_a),
        mean_a=alpha_a / (alpha_a + beta_a),
        mean_b=alpha_b / (alpha_b + beta_b),
        prior=f"Beta({prior_alpha:g}, {prior_beta:g}) on each variant's conversion rate",
        method=(
            "exact Beta-Binomial closed form (Evan Miller)"
            if exact
            else "Beta-Binomial, numerical integration"
        ),
    )


def prob_b_beats_a_means(
    n_a: int,
    sum_a: float,
    sumsq_a: float,
    n_b: int,
    sum_b: float,
    sumsq_b: float,
) -> BayesianComparison:
    """Posterior probability that B's mean exceeds A's, and the expected loss of each choice.

    Normal approximation: with a flat (improper uniform) prior on each variant's mean and the
    sample variance plugged in, the posterior of a mean is ``Normal(mean, var / n)``, so the
    difference ``D = mu_B - mu_A`` is ``Normal(d, s**2)`` with ``s**2 = var_a / n_a + var_b / n_b``.
    Then ``P(D > 0) = Phi(d / s)`` (one minus the one-sided z-test p-value) and, in closed form,
    ``E[max(D, 0)] = s phi(d / s) + d Phi(d / s)`` (loss of choosing A) and
    ``E[max(-D, 0)] = s phi(d / s) - d Phi(-d / s)`` (loss of choosing B). Fine for the sample
    sizes of a split test (hundreds of customers per variant and more); for heavy-tailed revenue
    with few customers it is as rough as the t-test.

    Parameters
    ----------
    n_a, sum_a, sumsq_a, n_b, sum_b, sumsq_b
        As in :func:`compare_means`.

    Returns
    -------
    BayesianComparison
        Expected losses are in the metric's units (e.g. currency per customer).

    Warns
    -----
    SplitTestWarning
        When both variants have zero variance (probability and losses NaN).
    """
    n_a, mean_a, var_a = _mean_and_variance("a", n_a, sum_a, sumsq_a)
    n_b, mean_b, var_b = _mean_and_variance("b", n_b, sum_b, sumsq_b)
    difference = mean_b - mean_a
    scale = math.sqrt(var_a / n_a + var_b / n_b)
    if scale == 0:
        warnings.warn(
            "Both variants have zero variance (every customer has the same value), so the "
            "normal approximation is undefined; probability and losses are NaN. Check that the "
            "metric holds per-customer values.",
            SplitTestWarning,
            stacklevel=2,
        )
        prob = loss_a = loss_b = math.nan
    else:
        z = difference / scale
        density = math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        prob = float(special.ndtr(z))
        loss_a = scale * density + difference * prob
        loss_b = scale * density - difference * float(special.ndtr(-z))
    return BayesianComparison(
        prob_b_better=prob,
        expected_loss_a=max(loss_a, 0.0) if not math.isnan(loss_a) else loss_a,
        expected_loss_b=max(loss_b, 0.0) if not math.isnan(loss_b) else loss_b,
        mean_a=mean_a,
        mean_b=mean_b,
        prior="flat (improper uniform) prior on each variant's mean; sample variances plugged in",
        method="normal approximation, closed form",
    )


# ---------------------------------------------------------------------------- group-sequential
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


def _obf_z_boundaries(
    fractions: np.ndarray, alpha: float, two_sided: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Z boundaries and cumulative alpha spent of Lan–DeMets O'Brien–Fleming-type spending.

    Each side spends ``a(t) = 2 - 2 Phi(z_{1 - a'/2} / sqrt(t))`` with ``a'`` the one-sided level
    (``alpha / 2`` for a two-sided design): gsDesign's ``sfLDOF``, rpact's ``"asOF"``. Boundary
    ``k`` makes the probability of first crossing at look ``k`` equal to the increment of
    spending, solved with ``brentq`` on :func:`_sequential_recursion` to 1e-12 in the score.
    """
    sides = 2 if two_sided else 1
    spend_z = float(special.ndtri(1.0 - alpha / sides / 2.0))
    spent = sides * 2.0 * special.ndtr(-spend_z / np.sqrt(fractions))
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
        The z statistic of B minus A at each look so far, e.g. ``compare_means(...,
        relative=False).statistic`` (Welch's t is z for split-test sizes).
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


# ---------------------------------------------------------------------------------- planning
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
