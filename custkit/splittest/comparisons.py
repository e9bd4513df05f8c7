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
* **Intervals.** The absolute difference of means uses the Welch t quantile; everything else
  (proportions, ratios, every relative change) uses the normal quantile, as the delta method and
  the Wald interval are large-sample approximations. The relative interval comes from the delta
  method with zero covariance between the variants: for ``r = m_B / m_A - 1``,
  ``se(r)**2 = se_B**2 / m_A**2 + m_B**2 * se_A**2 / m_A**4``.
* **p-values** test "no difference" and do not depend on ``relative``: Welch's t-test for means,
  the pooled two-proportion z-test for proportions (as ``statsmodels`` ``proportions_ztest``
  does), a z-test on the delta-method difference for ratios. Near the significance edge a
  relative interval may therefore disagree with the p-value in the third digit.
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
