"""Comparing variant B with control A on one metric: means, proportions and ratio metrics.

Each function takes per-variant sufficient statistics (customers, sums, sums of squares,
conversions) and returns a :class:`MetricComparison`: the estimate (absolute, or relative
``B / A - 1``), its interval and a p-value. A report aggregates a million assignments once and
never hands raw rows to the statistics.

What is our own code, and why
-----------------------------
The closed forms are written here, each a few lines on top of ``scipy.special`` (``stdtr``,
``ndtr``), because no library offers them *from sufficient statistics with the output a review
needs*: ``scipy.stats.ttest_ind_from_stats`` gives Welch's p-value but neither its degrees of
freedom nor an interval; statsmodels' ``CompareMeans`` needs the raw rows; ``proportions_ztest``
and ``confint_proportions_2indep`` take counts but give no delta-method interval for the
*relative* change, and nothing in either library does the delta method for a ratio metric.
``tests/splittest/test_comparisons.py`` pins every formula to scipy / statsmodels on raw data and
checks interval coverage and the A/A false-positive rate by simulation.

Conventions
-----------
* **Direction.** Every difference is *B minus A* and every relative change is *B / A - 1*.
* **One standard error per comparison.** The estimate shown (the difference, or the relative
  change), its interval and its p-value come from one standard error on that scale, as
  GrowthBook's gbstats does (``frequentist_variance`` in ``gbstats/frequentist/tests.py``): the
  p-value tests "estimate = 0" with ``t = estimate / se`` and the interval is
  ``estimate ± q * se``, with one quantile ``q``. So ``p < alpha`` exactly when the interval
  leaves out 0, for every metric and both scales. A relative change takes its standard error
  from the delta method with zero covariance between the variants: for ``r = m_B / m_A - 1``,
  ``se(r)**2 = se_B**2 / m_A**2 + m_B**2 * se_A**2 / m_A**4``; testing the difference and
  showing the relative interval (custkit up to issue 14) put "+169.7%, CI −29.6% … +369.0%,
  p = 0.004" in a report.
* **Distribution.** Student's t with Welch–Satterthwaite degrees of freedom from the two
  variants' standard errors, ``df = (v_A + v_B)**2 / (v_A**2 / (n_A - 1) + v_B**2 / (n_B - 1))``
  with ``v = se**2`` of each variant's mean, for means, proportions (unpooled
  ``p (1 - p) / n``) and ratios (the delta-method variance of each ratio), as gbstats'
  ``TwoSidedTTest``. For the absolute difference of means this is Welch's test
  (``scipy.stats.ttest_ind(equal_var=False)``); for proportions and ratios of stores' sizes the
  t quantile is the normal one to four digits (the Wald interval of statsmodels).
* Invalid input raises, undefined results are NaN with a warning: see
  :mod:`custkit.splittest.inputs`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

from scipy import special

from custkit.splittest.inputs import (
    SplitTestWarning,
    _check_bool,
    _check_count,
    _check_unit_interval,
    _mean_and_variance,
    _ratio_moments,
)


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
        Two-sided p-value of "``estimate`` is 0", from ``std_error``: the relative change is
        tested on its own scale, so ``p_value < alpha`` exactly when the interval leaves out 0.
    mean_a, mean_b : float
        The metric in each variant: a mean, a conversion rate, or a ratio of sums.
    std_error : float
        Standard error of ``estimate`` (unpooled; delta method when relative).
    statistic : float
        ``estimate / std_error``, the t statistic behind ``p_value``.
    df : float
        Welch–Satterthwaite degrees of freedom of ``statistic`` and of the interval.
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


def _welch_df(var_mean_a: float, var_mean_b: float, n_a: int, n_b: int) -> float:
    """Welch–Satterthwaite degrees of freedom of ``v_A + v_B`` (a variant with no variance adds
    nothing; NaN when neither has any)."""
    terms = sum(v * v / (n - 1) for v, n in ((var_mean_a, n_a), (var_mean_b, n_b)) if v > 0)
    return (var_mean_a + var_mean_b) ** 2 / terms if terms > 0 else math.nan


def _finish_comparison(
    *,
    mean_a: float,
    mean_b: float,
    var_mean_a: float,
    var_mean_b: float,
    n_a: int,
    n_b: int,
    relative: bool,
    alpha: float,
    method: str,
    no_variance: str,
    base_a: float | None = None,
    base_b: float | None = None,
) -> MetricComparison:
    """Estimate, standard error, test and interval on the scale shown, from one standard error.

    *no_variance* is the warning given when both variants have zero variance. *base_a* and
    *base_b* are the means a relative change is taken against (default: *mean_a*, *mean_b*):
    a CUPED-adjusted difference is divided by the unadjusted control mean, as gbstats does.
    """
    base_a = mean_a if base_a is None else base_a
    base_b = mean_b if base_b is None else base_b
    df = _welch_df(var_mean_a, var_mean_b, n_a, n_b)
    if relative:
        method += "; relative change by the delta method"
        if base_a == 0:
            warnings.warn(
                "Variant A's value is 0, so the relative change B / A - 1 is undefined; the "
                "estimate, its interval and p-value are NaN. Pass relative=False for the "
                "difference B - A.",
                SplitTestWarning,
                stacklevel=3,
            )
            estimate = std_error = math.nan
        else:
            estimate = (mean_b - mean_a) / base_a
            std_error = math.sqrt(var_mean_b / base_a**2 + base_b**2 * var_mean_a / base_a**4)
    else:
        estimate = mean_b - mean_a
        std_error = math.sqrt(var_mean_a + var_mean_b)
    if math.isnan(df):
        warnings.warn(no_variance, SplitTestWarning, stacklevel=3)
    elif std_error == 0:  # relative: B is 0 for every customer, so the delta method gives 0
        warnings.warn(
            "Variant B's value is 0 for every customer, so the relative change is -100% with no "
            "standard error; p-value and interval are NaN. Pass relative=False for the "
            "difference B - A.",
            SplitTestWarning,
            stacklevel=3,
        )
    if math.isnan(df) or math.isnan(estimate) or std_error == 0:
        statistic = p_value = ci_low = ci_high = math.nan
    else:
        statistic = estimate / std_error
        p_value = float(2.0 * special.stdtr(df, -abs(statistic)))
        half_width = float(special.stdtrit(df, 1.0 - alpha / 2)) * std_error
        ci_low, ci_high = estimate - half_width, estimate + half_width
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
    *,
    unadjusted_means: tuple[float, float] | None = None,
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
        Report and test ``mean_b / mean_a - 1`` (delta-method standard error) instead of
        ``mean_b - mean_a``.
    alpha : float, default 0.05
        Significance level; the interval covers ``1 - alpha``.
    unadjusted_means : (float, float), optional
        For sums of CUPED-adjusted values: the variants' unadjusted means. The relative change
        is then the adjusted difference over the unadjusted control mean, and its standard
        error takes the unadjusted means, as gbstats' ``RegressionAdjustedStatistic``.

    Returns
    -------
    MetricComparison
        With ``relative=False``, Welch's test, as ``scipy.stats.ttest_ind(equal_var=False)`` on
        the raw values; with ``relative=True``, the same degrees of freedom and the delta-method
        standard error of the relative change, as gbstats' ``TwoSidedTTest``.

    Raises
    ------
    custkit.errors.ParamsError
        For a variant with fewer than 2 customers, non-finite sums, or a sum of squares no data
        can give.

    Warns
    -----
    SplitTestWarning
        When both variants have zero variance (p-value, df and interval NaN) or, with
        ``relative=True``, when ``mean_a`` is 0 (estimate, interval and p-value NaN).

    Examples
    --------
    >>> result = compare_means(1000, 50_000.0, 3_500_000.0, 1000, 52_000.0, 3_700_000.0)
    >>> round(result.estimate, 3), round(result.p_value, 3)
    (0.04, 0.166)
    """
    alpha = _check_unit_interval("alpha", alpha)
    relative = _check_bool("relative", relative)
    n_a, mean_a, var_a = _mean_and_variance("a", n_a, sum_a, sumsq_a)
    n_b, mean_b, var_b = _mean_and_variance("b", n_b, sum_b, sumsq_b)
    base_a, base_b = (None, None) if unadjusted_means is None else map(float, unadjusted_means)
    return _finish_comparison(
        mean_a=mean_a,
        mean_b=mean_b,
        var_mean_a=var_a / n_a,
        var_mean_b=var_b / n_b,
        n_a=n_a,
        n_b=n_b,
        relative=relative,
        alpha=alpha,
        method="Welch t-test",
        base_a=base_a,
        base_b=base_b,
        no_variance="Both variants have zero variance (every customer has the same value), so "
        "Welch's test is undefined; p-value, degrees of freedom and interval are NaN. Check that "
        "the metric holds per-customer values.",
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
        Report and test ``p_b / p_a - 1`` (delta-method standard error) instead of ``p_b - p_a``.
    alpha : float, default 0.05
        Significance level; the interval covers ``1 - alpha``.

    Returns
    -------
    MetricComparison
        Test and interval use the unpooled standard error, as gbstats' ``ProportionStatistic``
        (for the difference, with many customers: statsmodels' Wald interval,
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
    return _finish_comparison(
        mean_a=rate_a,
        mean_b=rate_b,
        var_mean_a=rate_a * (1.0 - rate_a) / n_a,
        var_mean_b=rate_b * (1.0 - rate_b) / n_b,
        n_a=n_a,
        n_b=n_b,
        relative=relative,
        alpha=alpha,
        method="t-test on the unpooled difference of proportions",
        no_variance=f"{'No' if x_a + x_b == 0 else 'Every'} customer converted in either "
        "variant, so the test is undefined; p-value and interval are NaN. Check the conversion "
        "definition or wait for more data.",
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
        Significance level; the interval covers ``1 - alpha``.

    Returns
    -------
    MetricComparison
        ``mean_a`` / ``mean_b`` are the ratios; ``p_value`` tests the estimate shown.

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
    method = "t-test on the delta-method difference of ratios"
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
    return _finish_comparison(
        mean_a=ratio_a,
        mean_b=ratio_b,
        var_mean_a=var_ratio_a,
        var_mean_b=var_ratio_b,
        n_a=n_a,
        n_b=n_b,
        relative=relative,
        alpha=alpha,
        method=method,
        no_variance="Both ratios have zero standard error (x is exactly proportional to y for "
        "every customer), so the test is undefined; p-value and interval are NaN.",
    )
