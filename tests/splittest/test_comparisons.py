"""Comparisons of means, proportions and ratio metrics, each formula checked against scipy /
statsmodels on raw data drawn with a seeded rng, against GrowthBook's gbstats (its published
test cases, and numbers its 0.8.0 ``TwoSidedTTest`` gives for cases it has no published test
of) and, for relative intervals and ratio metrics, by simulation of interval coverage; A/A
simulations keep the false-positive rate at alpha.

Simulations run 2000 seeded experiments at once from their sufficient statistics; a rate is
accepted within 3 simulation standard errors of its target.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats import proportion as sm_proportion
from statsmodels.stats.proportion import confint_proportions_2indep
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from custkit.splittest import (
    compare_means,
    compare_metric,
    compare_proportions,
    compare_ratios,
    cuped_adjust,
)

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


# gbstats' published cases (packages/stats/tests/frequentist/test_tests.py, TestTwoSidedTTest):
# n 3407 / 3461, sums 1396.87 / 2422.7, sums of squares 52377.9767 / 134698.29.
GBSTATS_MEANS = (3407, 1396.87, 52377.9767, 3461, 2422.7, 134698.29)


@pytest.mark.parametrize(
    ("relative", "estimate", "ci", "std_error", "p_value"),
    [
        (True, 0.70732, (-0.03526, 1.44989), 0.37879, 0.06191),
        (False, 0.29, (0.04538, 0.53462), 0.12478, 0.02016),
    ],
)
def test_compare_means_reproduces_gbstats_published_two_sided_ttest(
    relative, estimate, ci, std_error, p_value
):
    result = compare_means(*GBSTATS_MEANS, relative=relative)
    assert result.estimate == pytest.approx(estimate, abs=1e-5)
    assert (result.ci_low, result.ci_high) == pytest.approx(ci, abs=1e-5)
    assert result.std_error == pytest.approx(std_error, abs=1e-5)
    assert result.p_value == pytest.approx(p_value, abs=1e-5)


def test_compare_proportions_reproduces_gbstats_published_binomial_case():
    result = compare_proportions(14, 28, 16, 30)
    assert result.estimate == pytest.approx((16 / 30 - 0.5) / 0.5, abs=1e-5)
    assert (result.ci_low, result.ci_high) == pytest.approx((-0.47767, 0.61101), abs=1e-5)
    assert result.std_error == pytest.approx(0.2717, abs=1e-5)
    assert result.p_value == pytest.approx(0.80707, abs=1e-5)


# Cases gbstats has no published test of: what gbstats 0.8.0's TwoSidedTTest gives for
# ProportionStatistic, RatioStatistic and RegressionAdjustedStatistic (theta from
# compute_theta) on these sums, copied as numbers.
RATIO_A = (1200, 61234.5, 1851.0, 5123456.7, 3702.0, 131234.8)
RATIO_B = (1180, 64321.9, 1790.0, 5598765.4, 3530.0, 136543.2)


@pytest.mark.parametrize(
    ("compare", "relative", "estimate", "ci", "p_value"),
    [
        ("ratio", False, 2.852174696, (1.869522991, 3.834826402), 1.414721673e-08),
        ("ratio", True, 0.086215701, (0.055020630, 0.117410772), 6.583904821e-08),
        ("proportion", False, 0.024318182, (-0.003175591, 0.051811954), 0.082963951),
        ("proportion", True, 0.205769231, (-0.051058724, 0.462597186), 0.116287672),
    ],
)
def test_ratio_and_proportion_comparisons_reproduce_gbstats_two_sided_ttest(
    compare, relative, estimate, ci, p_value
):
    if compare == "ratio":
        result = compare_ratios(*RATIO_A, *RATIO_B, relative=relative)
    else:
        result = compare_proportions(130, 1100, 171, 1200, relative=relative)
    assert result.estimate == pytest.approx(estimate, abs=1e-8)
    assert (result.ci_low, result.ci_high) == pytest.approx(ci, abs=1e-8)
    assert result.p_value == pytest.approx(p_value, rel=1e-6)


def test_cuped_difference_and_relative_change_reproduce_gbstats_regression_adjusted_ttest():
    rows = [
        {
            "customers": n,
            "sum_revenue": s,
            "sumsq_revenue": q,
            "sum_pre_revenue": sx,
            "sumsq_pre_revenue": qx,
            "sum_pre_revenue_x_revenue": sxy,
        }
        for n, s, q, sx, qx, sxy in (
            (3407, 1396.87, 52377.9767, 1012.4, 40123.5, 21345.6),
            (3461, 2422.7, 134698.29, 1101.9, 43987.1, 26789.1),
        )
    ]
    adjustment = cuped_adjust("revenue", *rows)
    assert adjustment.theta == pytest.approx(0.5626529149865371, rel=1e-9)
    a, b = adjustment.control, adjustment.challenger
    result = compare_means(
        a["customers"], a["sum_revenue"], a["sumsq_revenue"],
        b["customers"], b["sum_revenue"], b["sumsq_revenue"],
        relative=False,
    )  # fmt: skip
    assert result.estimate == pytest.approx(0.2780586644845114, rel=1e-9)
    assert (result.ci_low, result.ci_high) == pytest.approx((0.0516675215, 0.5044498075), rel=1e-8)
    assert result.p_value == pytest.approx(0.016081370954288188, rel=1e-7)
    relative = compare_metric("revenue", a, b, unadjusted_means=adjustment.unadjusted_means)
    assert relative.estimate == pytest.approx(0.6781918645963693, rel=1e-9)
    assert (relative.ci_low, relative.ci_high) == pytest.approx(
        (0.0006640113155588212, 1.3557197178771796), rel=1e-7
    )
    assert relative.p_value == pytest.approx(0.04977596846147714, rel=1e-7)


def metric_sums(kind: str, seed: int, n_a: int, n_b: int, lift: float) -> tuple:
    """Sufficient statistics of one experiment of *kind* drawn with a seeded rng."""
    rng = np.random.default_rng(seed)
    if kind == "proportion":
        return (rng.binomial(n_a, 0.1), n_a, rng.binomial(n_b, 0.1 * (1 + lift)), n_b)
    if kind == "mean":
        return (*sums(revenue(rng, n_a)), *sums(revenue(rng, n_b, 3.0 + lift)))
    x_a, y_a = orders_and_revenue(rng, n_a, 40.0)
    x_b, y_b = orders_and_revenue(rng, n_b, 40.0 * (1 + lift))
    return (*ratio_sums(x_a, y_a), *ratio_sums(x_b, y_b))


COMPARE = {"proportion": compare_proportions, "mean": compare_means, "ratio": compare_ratios}


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(sorted(COMPARE)),
    relative=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
    n_a=st.integers(20, 3000),
    n_b=st.integers(20, 3000),
    lift=st.floats(-0.3, 0.3),
    alpha=st.sampled_from([0.01, 0.05, 0.1, 0.2]),
)
def test_p_value_is_below_alpha_exactly_when_the_interval_leaves_out_zero(
    kind, relative, seed, n_a, n_b, lift, alpha
):
    result = COMPARE[kind](*metric_sums(kind, seed, n_a, n_b, lift), relative, alpha)
    if math.isnan(result.p_value):
        return
    excludes_zero = result.ci_low > 0 or result.ci_high < 0
    assert (result.p_value < alpha) == excludes_zero
    # ... because both come from one standard error on the scale shown
    assert result.statistic == pytest.approx(result.estimate / result.std_error, rel=1e-12)
    half_width = stats.t.ppf(1 - alpha / 2, result.df) * result.std_error
    assert result.ci_high - result.estimate == pytest.approx(half_width, rel=1e-9)
    assert result.p_value == pytest.approx(
        2 * stats.t.sf(abs(result.statistic), result.df), rel=1e-9, abs=1e-300
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
    ("x_a", "n_a", "x_b", "n_b"), [(120, 1000, 150, 1000), (30, 800, 21, 950), (80, 5000, 91, 4000)]
)
def test_compare_proportions_difference_test_is_statsmodels_wald_test(x_a, n_a, x_b, n_b):
    # statsmodels uses the normal distribution, custkit (as gbstats) Student's t with the
    # Welch degrees of freedom: on a thousand customers per variant they agree to 0.5%.
    result = compare_proportions(x_a, n_a, x_b, n_b, relative=False)
    wald = sm_proportion.test_proportions_2indep(x_b, n_b, x_a, n_a, method="wald", compare="diff")
    assert result.statistic == pytest.approx(wald.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(wald.pvalue, rel=5e-3)


@pytest.mark.parametrize("alpha", [0.05, 0.2])
def test_compare_proportions_difference_interval_is_statsmodels_wald_interval(alpha):
    result = compare_proportions(130, 1100, 171, 1200, relative=False, alpha=alpha)
    low, high = confint_proportions_2indep(
        171, 1200, 130, 1100, method="wald", compare="diff", alpha=alpha
    )
    # the same centre; the width differs by the t against the normal quantile (0.05%)
    assert result.ci_low + result.ci_high == pytest.approx(low + high, rel=1e-10)
    assert result.ci_high - result.ci_low == pytest.approx(high - low, rel=1e-3)
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


def test_two_proportion_test_keeps_the_false_positive_rate_at_alpha_in_aa_simulations():
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
        2 * stats.t.sf(abs(result.estimate) / result.std_error, result.df), rel=1e-10
    )


def test_compare_ratios_with_one_unit_per_customer_is_welch():
    rng = np.random.default_rng(10)
    a, b = revenue(rng, 300), revenue(rng, 350)
    ones_a, ones_b = np.ones_like(a), np.ones_like(b)
    ratio = compare_ratios(*ratio_sums(a, ones_a), *ratio_sums(b, ones_b), relative=False)
    welch = compare_means(*sums(a), *sums(b), relative=False)
    assert ratio.std_error == pytest.approx(welch.std_error, rel=1e-10)
    assert ratio.statistic == pytest.approx(welch.statistic, rel=1e-10)
    assert ratio.p_value == pytest.approx(welch.p_value, rel=1e-9)


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
