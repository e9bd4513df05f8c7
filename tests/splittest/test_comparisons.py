"""Comparisons of means, proportions and ratio metrics, each formula checked against scipy /
statsmodels on raw data drawn with a seeded rng or, where no library has it (relative intervals,
ratio metrics), by simulation of interval coverage; A/A simulations keep the false-positive
rate at alpha.

Simulations run 2000 seeded experiments at once from their sufficient statistics; a rate is
accepted within 3 simulation standard errors of its target.
"""

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from custkit.splittest import compare_means, compare_proportions, compare_ratios

N_SIMULATIONS = 2000


def within_simulation_error(rate: float, target: float, n: int = N_SIMULATIONS) -> bool:
    return abs(rate - target) <= 3 * math.sqrt(target * (1 - target) / n)


def sums(values: np.ndarray) -> tuple[int, float, float]:
    return values.size, float(values.sum()), float((values**2).sum())


def ratio_sums(x: np.ndarray, y: np.ndarray) -> tuple[int, float, float, float, float, float]:
    return x.size, x.sum(), y.sum(), (x * x).sum(), (y * y).sum(), (x * y).sum()


def revenue(rng: np.random.Generator, size, mean_log: float = 3.0) -> np.ndarray:
    """Skewed per-customer revenue, like a store's."""
    return rng.lognormal(mean_log, 1.0, size)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compare_means_reproduces_scipy_welch_statistic_p_value_and_df(seed):
    rng = np.random.default_rng(seed)
    a, b = revenue(rng, 300), revenue(rng, 450, mean_log=3.1)
    result = compare_means(*sums(a), *sums(b), relative=False)
    welch = stats.ttest_ind(b, a, equal_var=False)
    assert result.statistic == pytest.approx(welch.statistic, rel=1e-10)
    assert result.p_value == pytest.approx(welch.pvalue, rel=1e-9)
    assert result.df == pytest.approx(welch.df, rel=1e-10)
    assert result.estimate == pytest.approx(b.mean() - a.mean(), rel=1e-12)


@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_compare_means_absolute_interval_is_statsmodels_unequal_variance_interval(alpha):
    rng = np.random.default_rng(3)
    a, b = revenue(rng, 200), revenue(rng, 260)
    result = compare_means(*sums(a), *sums(b), relative=False, alpha=alpha)
    low, high = CompareMeans(DescrStatsW(b), DescrStatsW(a)).tconfint_diff(
        alpha=alpha, usevar="unequal"
    )
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), rel=1e-9)


def test_compare_means_p_value_does_not_depend_on_relative():
    rng = np.random.default_rng(4)
    a, b = revenue(rng, 100), revenue(rng, 100)
    assert (
        compare_means(*sums(a), *sums(b)).p_value
        == compare_means(*sums(a), *sums(b), relative=False).p_value
    )


def test_compare_means_relative_interval_covers_the_true_lift_at_the_nominal_rate():
    rng = np.random.default_rng(5)
    n = 400
    a, b = revenue(rng, (N_SIMULATIONS, n)), revenue(rng, (N_SIMULATIONS, n), mean_log=3.1)
    true_lift = math.exp(0.1) - 1  # lognormal mean is exp(mu + 1/2)
    results = [
        compare_means(n, sa, qa, n, sb, qb)
        for sa, qa, sb, qb in zip(a.sum(1), (a**2).sum(1), b.sum(1), (b**2).sum(1), strict=True)
    ]
    covered = np.mean([r.ci_low <= true_lift <= r.ci_high for r in results])
    assert within_simulation_error(covered, 0.95)
    # The delta-method standard error is the spread of the estimate across experiments.
    spread = np.std([r.estimate for r in results], ddof=1)
    assert np.mean([r.std_error for r in results]) == pytest.approx(spread, rel=0.06)


def test_welch_test_keeps_the_false_positive_rate_at_alpha_in_aa_simulations():
    rng = np.random.default_rng(6)
    n = 500
    a, b = revenue(rng, (N_SIMULATIONS, n)), revenue(rng, (N_SIMULATIONS, n))
    p_values = np.array(
        [
            compare_means(n, sa, qa, n, sb, qb).p_value
            for sa, qa, sb, qb in zip(a.sum(1), (a**2).sum(1), b.sum(1), (b**2).sum(1), strict=True)
        ]
    )
    assert within_simulation_error(np.mean(p_values < 0.05), 0.05)


# ----------------------------------------------------------------------------- proportions
@pytest.mark.parametrize(
    ("x_a", "n_a", "x_b", "n_b"), [(120, 1000, 150, 1000), (30, 800, 21, 950), (0, 50, 3, 60)]
)
def test_compare_proportions_p_value_is_statsmodels_pooled_proportions_ztest(x_a, n_a, x_b, n_b):
    result = compare_proportions(x_a, n_a, x_b, n_b, relative=False)
    statistic, p_value = proportions_ztest([x_b, x_a], [n_b, n_a])
    assert result.statistic == pytest.approx(statistic, rel=1e-12)
    assert result.p_value == pytest.approx(p_value, rel=1e-10)


@pytest.mark.parametrize("alpha", [0.05, 0.2])
def test_compare_proportions_difference_interval_is_statsmodels_wald_interval(alpha):
    result = compare_proportions(130, 1100, 171, 1200, relative=False, alpha=alpha)
    low, high = confint_proportions_2indep(
        171, 1200, 130, 1100, method="wald", compare="diff", alpha=alpha
    )
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), rel=1e-10)
    assert result.estimate == pytest.approx(171 / 1200 - 130 / 1100, rel=1e-12)


def test_compare_proportions_relative_interval_covers_the_true_lift_at_the_nominal_rate():
    rng = np.random.default_rng(7)
    n, rate_a, rate_b = 3000, 0.08, 0.09
    x_a = rng.binomial(n, rate_a, N_SIMULATIONS)
    x_b = rng.binomial(n, rate_b, N_SIMULATIONS)
    results = [compare_proportions(xa, n, xb, n) for xa, xb in zip(x_a, x_b, strict=True)]
    true_lift = rate_b / rate_a - 1
    covered = np.mean([r.ci_low <= true_lift <= r.ci_high for r in results])
    assert within_simulation_error(covered, 0.95)


def test_two_proportion_z_test_keeps_the_false_positive_rate_at_alpha_in_aa_simulations():
    rng = np.random.default_rng(8)
    n = 2000
    x_a, x_b = rng.binomial(n, 0.1, (2, N_SIMULATIONS))
    p_values = np.array(
        [compare_proportions(xa, n, xb, n).p_value for xa, xb in zip(x_a, x_b, strict=True)]
    )
    assert within_simulation_error(np.mean(p_values < 0.05), 0.05)


# ---------------------------------------------------------------------------------- ratios
def orders_and_revenue(rng, shape, order_value):
    """Per customer: 1 + Poisson(0.6) orders, each Gamma(2, order_value / 2) revenue."""
    orders = 1 + rng.poisson(0.6, shape)
    return rng.gamma(2.0 * orders, order_value / 2.0), orders.astype(float)


def test_compare_ratios_standard_error_is_the_linearized_per_customer_standard_error():
    rng = np.random.default_rng(9)
    x_a, y_a = orders_and_revenue(rng, 700, 40.0)
    x_b, y_b = orders_and_revenue(rng, 650, 43.0)
    result = compare_ratios(*ratio_sums(x_a, y_a), *ratio_sums(x_b, y_b), relative=False)
    # Independent route: each customer's linearized value (x - R y) / mean(y), by statsmodels.
    se = [
        DescrStatsW((x - x.sum() / y.sum() * y) / y.mean()).std_mean
        for x, y in ((x_a, y_a), (x_b, y_b))
    ]
    assert result.std_error == pytest.approx(math.hypot(*se), rel=1e-10)
    assert result.mean_a == pytest.approx(x_a.sum() / y_a.sum(), rel=1e-12)
    assert result.p_value == pytest.approx(
        2 * stats.norm.sf(abs(result.estimate) / result.std_error), rel=1e-10
    )


def test_compare_ratios_with_one_unit_per_customer_is_welch_with_the_normal_quantile():
    rng = np.random.default_rng(10)
    a, b = revenue(rng, 300), revenue(rng, 350)
    ones_a, ones_b = np.ones_like(a), np.ones_like(b)
    ratio = compare_ratios(*ratio_sums(a, ones_a), *ratio_sums(b, ones_b), relative=False)
    welch = compare_means(*sums(a), *sums(b), relative=False)
    assert ratio.std_error == pytest.approx(welch.std_error, rel=1e-10)
    assert ratio.statistic == pytest.approx(welch.statistic, rel=1e-10)


@pytest.mark.parametrize("relative", [False, True])
def test_compare_ratios_interval_covers_the_true_average_order_value_change(relative):
    rng = np.random.default_rng(11)
    n = 300
    x_a, y_a = orders_and_revenue(rng, (N_SIMULATIONS, n), 40.0)
    x_b, y_b = orders_and_revenue(rng, (N_SIMULATIONS, n), 42.0)
    truth = 42.0 / 40.0 - 1 if relative else 2.0
    sums_a = np.column_stack([v.sum(1) for v in (x_a, y_a, x_a * x_a, y_a * y_a, x_a * y_a)])
    sums_b = np.column_stack([v.sum(1) for v in (x_b, y_b, x_b * x_b, y_b * y_b, x_b * y_b)])
    covered = []
    for row_a, row_b in zip(sums_a, sums_b, strict=True):
        result = compare_ratios(n, *row_a, n, *row_b, relative=relative)
        covered.append(result.ci_low <= truth <= result.ci_high)
    assert within_simulation_error(np.mean(covered), 0.95)
