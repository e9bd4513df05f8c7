"""Split-test statistics, each formula checked against scipy / statsmodels on raw data drawn with a
seeded rng or, where no library has it (relative intervals, ratio metrics, Bayesian numbers,
Lan–DeMets boundaries), against numerical integration, published tables and simulation.

Simulations run 2000 seeded experiments at once from their sufficient statistics; a rate is
accepted within 3 simulation standard errors of its target.
"""

import dataclasses
import math

import numpy as np
import pytest
from scipy import integrate, optimize, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    proportions_ztest,
)
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from custkit.errors import CustkitError, ParamsError
from custkit.splittest import (
    SplitTestWarning,
    compare_means,
    compare_proportions,
    compare_ratios,
    holm,
    minimum_detectable_effect,
    minimum_detectable_effect_proportions,
    obrien_fleming_boundaries,
    prob_b_beats_a_means,
    prob_b_beats_a_proportions,
    sample_size_means,
    sample_size_proportions,
    sequential_check,
    srm_test,
)
from custkit.splittest.stats import _crossing_probabilities

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


# ----------------------------------------------------------------------------------- means
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


# --------------------------------------------------------------------- sample ratio, Holm
def test_srm_test_is_scipy_chisquare_against_the_planned_split():
    counts, shares = [5040, 2410, 2550], [0.5, 0.25, 0.25]
    expected = np.array(shares) * sum(counts)
    assert srm_test(counts, shares) == pytest.approx(
        stats.chisquare(counts, f_exp=expected).pvalue, rel=1e-12
    )


def test_srm_test_flags_a_broken_fifty_fifty_split():
    assert srm_test([10_000, 10_400], [0.5, 0.5]) < 0.01
    assert srm_test(np.array([10_000.0, 10_050.0]), (0.5, 0.5)) > 0.5


def test_holm_matches_statsmodels_multipletests_and_keeps_the_input_order():
    rng = np.random.default_rng(12)
    p_values = np.concatenate([rng.uniform(0, 0.1, 12), [0.03, 0.03, 0.0, 1.0]])
    rng.shuffle(p_values)
    expected = multipletests(p_values, method="holm")[1]
    np.testing.assert_allclose(holm(p_values), expected, rtol=1e-14)
    assert holm([]).size == 0


def test_holm_leaves_nan_p_values_out_of_the_family():
    np.testing.assert_allclose(holm([0.01, np.nan, 0.04]), [0.02, np.nan, 0.04])


# ----------------------------------------------------------------------------------- Bayes
def beta_prob_greater_by_quadrature(a1, b1, a2, b2):
    """P(X1 > X2) as ∫ pdf_2(t) sf_1(t) dt, with scipy.stats.beta (not the code under test)."""
    x2 = stats.beta(a2, b2)
    low, high = x2.ppf(1e-14), x2.isf(1e-14)
    return integrate.quad(
        lambda t: x2.pdf(t) * stats.beta.sf(t, a1, b1), low, high, epsabs=1e-13, limit=200
    )[0]


@pytest.mark.parametrize(
    ("x_a", "n_a", "x_b", "n_b"),
    [(3, 20, 7, 25), (120, 1000, 150, 1000), (480, 4000, 455, 4000), (0, 30, 0, 30)],
)
def test_prob_b_beats_a_proportions_matches_numerical_integration(x_a, n_a, x_b, n_b):
    result = prob_b_beats_a_proportions(x_a, n_a, x_b, n_b)
    expected = beta_prob_greater_by_quadrature(1 + x_b, 1 + n_b - x_b, 1 + x_a, 1 + n_a - x_a)
    assert result.prob_b_better == pytest.approx(expected, abs=1e-9)
    assert result.prior == "Beta(1, 1) on each variant's conversion rate"


def test_expected_losses_of_proportions_match_numerical_integration_of_the_definition():
    result = prob_b_beats_a_proportions(3, 20, 7, 25)
    grid = np.linspace(0, 1, 100_001)

    def shortfall(first, second):
        """E[max(second - first, 0)] = ∫ pdf_first(f) ∫_f^1 (s - f) pdf_second(s) ds df."""
        density, step = second.pdf(grid), grid[1] - grid[0]

        def from_f_to_1(values):  # trapezoid rule accumulated from the right end
            return integrate.cumulative_trapezoid(values[::-1], dx=step, initial=0)[::-1]

        inner = from_f_to_1(grid * density) - grid * from_f_to_1(density)
        return integrate.trapezoid(first.pdf(grid) * inner, grid)

    post_a, post_b = stats.beta(4, 18), stats.beta(8, 19)
    assert result.expected_loss_a == pytest.approx(shortfall(post_a, post_b), abs=1e-9)
    assert result.expected_loss_b == pytest.approx(shortfall(post_b, post_a), abs=1e-9)


def test_expected_losses_of_proportions_match_monte_carlo_on_large_counts():
    result = prob_b_beats_a_proportions(1200, 10_000, 1260, 10_000)
    rng = np.random.default_rng(13)
    p_a = rng.beta(1 + 1200, 1 + 8800, 1_000_000)
    p_b = rng.beta(1 + 1260, 1 + 8740, 1_000_000)
    for loss, draws in (
        (result.expected_loss_b, np.maximum(p_a - p_b, 0)),
        (result.expected_loss_a, np.maximum(p_b - p_a, 0)),
    ):
        assert abs(loss - draws.mean()) < 4 * draws.std() / 1000
    assert abs(result.prob_b_better - np.mean(p_b > p_a)) < 4 * 0.5 / 1000


def test_expected_losses_differ_by_the_difference_of_posterior_means():
    result = prob_b_beats_a_proportions(40, 500, 52, 480)
    assert result.expected_loss_a - result.expected_loss_b == pytest.approx(
        result.mean_b - result.mean_a, abs=1e-13
    )


def test_prob_b_beats_a_proportions_is_one_minus_the_swapped_probability():
    forward = prob_b_beats_a_proportions(40, 500, 52, 480)
    swapped = prob_b_beats_a_proportions(52, 480, 40, 500)
    assert forward.prob_b_better + swapped.prob_b_better == pytest.approx(1.0, abs=1e-12)
    assert forward.expected_loss_a == pytest.approx(swapped.expected_loss_b, abs=1e-15)


def test_non_integer_prior_integration_agrees_with_the_closed_form():
    closed = prob_b_beats_a_proportions(40, 500, 52, 480, prior_alpha=1.0, prior_beta=1.0)
    numeric = prob_b_beats_a_proportions(40, 500, 52, 480, prior_alpha=1 + 1e-9, prior_beta=1.0)
    assert "integration" in numeric.method and "closed form" in closed.method
    for field in ("prob_b_better", "expected_loss_a", "expected_loss_b"):
        assert getattr(numeric, field) == pytest.approx(getattr(closed, field), abs=1e-8)
    jeffreys = prob_b_beats_a_proportions(3, 20, 7, 25, prior_alpha=0.5, prior_beta=0.5)
    expected = beta_prob_greater_by_quadrature(7.5, 18.5, 3.5, 17.5)
    assert jeffreys.prob_b_better == pytest.approx(expected, abs=1e-9)


def test_prob_b_beats_a_means_is_one_minus_the_one_sided_z_p_value():
    rng = np.random.default_rng(14)
    a, b = revenue(rng, 800), revenue(rng, 820, mean_log=3.05)
    result = prob_b_beats_a_means(*sums(a), *sums(b))
    welch = compare_means(*sums(a), *sums(b), relative=False)
    assert result.prob_b_better == pytest.approx(stats.norm.cdf(welch.statistic), rel=1e-12)
    assert "flat" in result.prior


def test_expected_losses_of_means_match_numerical_integration_of_the_normal_posterior():
    rng = np.random.default_rng(15)
    a, b = revenue(rng, 800), revenue(rng, 820, mean_log=3.05)
    result = prob_b_beats_a_means(*sums(a), *sums(b))
    d = b.mean() - a.mean()
    s = math.hypot(a.std(ddof=1) / math.sqrt(a.size), b.std(ddof=1) / math.sqrt(b.size))
    posterior = stats.norm(d, s)
    gain, _ = integrate.quad(lambda x: x * posterior.pdf(x), 0, d + 40 * s)
    loss, _ = integrate.quad(lambda x: -x * posterior.pdf(x), d - 40 * s, 0)
    assert result.expected_loss_a == pytest.approx(gain, rel=1e-8)
    assert result.expected_loss_b == pytest.approx(loss, rel=1e-8)


# ------------------------------------------------------------------------ group-sequential
LAN_DEMETS_OBF = {
    # gsDesign sfLDOF / rpact "asOF", equally spaced looks, two-sided 0.05 (one-sided 0.025).
    3: [3.7103, 2.5114, 1.9930],
    5: [4.877, 3.357, 2.680, 2.290, 2.031],
}


@pytest.mark.parametrize("looks", sorted(LAN_DEMETS_OBF))
@pytest.mark.parametrize(("alpha", "two_sided"), [(0.05, True), (0.025, False)])
def test_obrien_fleming_boundaries_reproduce_published_lan_demets_values(looks, alpha, two_sided):
    fractions = np.arange(1, looks + 1) / looks
    boundaries = obrien_fleming_boundaries(fractions, alpha=alpha, two_sided=two_sided)
    np.testing.assert_allclose(boundaries.z_boundaries, LAN_DEMETS_OBF[looks], atol=6e-4)
    assert boundaries.cumulative_alpha_spent[-1] == pytest.approx(alpha, rel=1e-12)


@pytest.mark.parametrize(
    ("looks", "published"),
    [(2, [2.797, 1.977]), (3, [3.471, 2.454, 2.004]), (4, [4.049, 2.863, 2.337, 2.024])],
)
def test_crossing_recursion_reproduces_the_classical_obrien_fleming_boundaries(looks, published):
    # The 1979 design: z_k = c sqrt(K / k) with c such that the two-sided level is 0.05
    # (Jennison & Turnbull 2000, Table 2.3). Checks the recursion the spending boundaries use.
    fractions = np.arange(1, looks + 1) / looks
    shape = 1 / np.sqrt(fractions)
    constant = optimize.brentq(
        lambda c: _crossing_probabilities(fractions, c * shape, True).sum() - 0.05, 1.5, 3.0
    )
    np.testing.assert_allclose(constant * shape, published, atol=6e-4)


@pytest.mark.parametrize("two_sided", [True, False])
def test_obrien_fleming_boundaries_spend_alpha_by_the_multivariate_normal_probability(two_sided):
    fractions = np.array([0.15, 0.4, 0.55, 0.8, 1.0])
    boundaries = obrien_fleming_boundaries(fractions, two_sided=two_sided).z_boundaries
    correlation = np.sqrt(
        np.minimum.outer(fractions, fractions) / np.maximum.outer(fractions, fractions)
    )
    never_crossed = stats.multivariate_normal.cdf(
        boundaries,
        mean=np.zeros(5),
        cov=correlation,
        lower_limit=-boundaries if two_sided else np.full(5, -np.inf),
        abseps=1e-7,
        releps=1e-7,
        maxpts=200_000,
        rng=np.random.default_rng(16),
    )
    assert 1 - never_crossed == pytest.approx(0.05, abs=2e-5)


def test_boundaries_of_early_looks_do_not_depend_on_later_looks():
    early = obrien_fleming_boundaries([0.2, 0.45]).z_boundaries
    full = obrien_fleming_boundaries([0.2, 0.45, 0.7, 1.0]).z_boundaries
    np.testing.assert_allclose(early, full[:2], atol=1e-9)


@pytest.fixture(scope="module")
def aa_sequential_z():
    """Welch z at 5 equally spaced looks of 2000 A/A tests, 300 customers per variant per look."""
    rng = np.random.default_rng(17)
    per_look = 300
    a = revenue(rng, (N_SIMULATIONS, 5, per_look))
    b = revenue(rng, (N_SIMULATIONS, 5, per_look))
    n = per_look * np.arange(1, 6)

    def mean_and_var_of_mean(values):
        total = values.sum(2).cumsum(1)
        total_sq = (values**2).sum(2).cumsum(1)
        mean = total / n
        return mean, (total_sq - total * mean) / (n - 1) / n

    mean_a, var_a = mean_and_var_of_mean(a)
    mean_b, var_b = mean_and_var_of_mean(b)
    return (mean_b - mean_a) / np.sqrt(var_a + var_b)


def test_five_looks_with_obrien_fleming_boundaries_keep_the_false_positive_rate_at_alpha(
    aa_sequential_z,
):
    boundaries = obrien_fleming_boundaries(np.arange(1, 6) / 5).z_boundaries
    rejected = (np.abs(aa_sequential_z) >= boundaries).any(axis=1)
    assert within_simulation_error(rejected.mean(), 0.05)


def test_peeking_five_times_at_the_fixed_sample_boundary_inflates_false_positives(
    aa_sequential_z,
):
    # The reason for the boundaries: about 14% instead of 5% (Armitage et al. 1969).
    rejected = (np.abs(aa_sequential_z) >= 1.96).any(axis=1)
    assert within_simulation_error(rejected.mean(), 0.142)


def test_sequential_check_reports_the_first_look_that_crossed():
    fractions = [0.2, 0.4, 0.6]
    check = sequential_check([1.0, 3.5, 2.8], fractions)
    assert check.crossed and check.crossing_look == 2
    assert not sequential_check([1.0, -3.0, 2.0], fractions).crossed
    assert sequential_check([1.0, -3.5], [0.2, 0.4]).crossing_look == 2
    assert not sequential_check([1.0, -3.5], [0.2, 0.4], alpha=0.025, two_sided=False).crossed


# ------------------------------------------------------------------------------- planning
@pytest.mark.parametrize(
    ("std", "mde", "alpha", "power", "ratio"),
    [(10.0, 1.0, 0.05, 0.8, 1.0), (35.0, 2.5, 0.1, 0.9, 1.0), (1.0, 0.3, 0.05, 0.8, 2.0)],
)
def test_sample_size_means_is_the_smallest_n_reaching_the_power_of_statsmodels(
    std, mde, alpha, power, ratio
):
    size = sample_size_means(std, mde, alpha=alpha, power=power, ratio=ratio)
    effect = mde / std
    solved = TTestIndPower().solve_power(effect, alpha=alpha, power=power, ratio=ratio)
    assert size.n_a == math.ceil(solved)
    assert size.n_b == math.ceil(ratio * solved)
    attained = TTestIndPower().power(effect, size.n_a, alpha, ratio=ratio)
    short = TTestIndPower().power(effect, size.n_a - 1, alpha, ratio=ratio)
    assert short < power <= attained


def test_minimum_detectable_effect_matches_statsmodels_solve_power():
    mde = minimum_detectable_effect(12.0, 2500, alpha=0.05, power=0.8)
    effect = TTestIndPower().solve_power(None, nobs1=2500, alpha=0.05, power=0.8)
    assert mde == pytest.approx(12.0 * effect, rel=1e-6)


@pytest.mark.parametrize(
    ("p_base", "mde_relative", "ratio"), [(0.1, 0.1, 1.0), (0.03, -0.2, 1.0), (0.25, 0.05, 0.5)]
)
def test_sample_size_proportions_matches_statsmodels_normal_power_with_cohens_h(
    p_base, mde_relative, ratio
):
    size = sample_size_proportions(p_base, mde_relative, ratio=ratio)
    effect = proportion_effectsize(p_base * (1 + mde_relative), p_base)
    solved = NormalIndPower().solve_power(effect, alpha=0.05, power=0.8, ratio=ratio)
    assert size.n_a == math.ceil(solved)
    assert size.effect_size == pytest.approx(abs(effect), rel=1e-12)


def test_minimum_detectable_effect_proportions_inverts_the_sample_size():
    size = sample_size_proportions(0.04, 0.1)
    mde = minimum_detectable_effect_proportions(0.04, size.n_a)
    assert 0.0999 < mde <= 0.1


def test_the_planned_sample_size_attains_the_target_power_in_simulation():
    rng = np.random.default_rng(18)
    size = sample_size_proportions(0.1, 0.1)
    x_a = rng.binomial(size.n_a, 0.1, N_SIMULATIONS)
    x_b = rng.binomial(size.n_b, 0.11, N_SIMULATIONS)
    significant = [
        compare_proportions(xa, size.n_a, xb, size.n_b).significant
        for xa, xb in zip(x_a, x_b, strict=True)
    ]
    assert within_simulation_error(np.mean(significant), 0.8)


# ----------------------------------------------------------------------- invalid input
@pytest.mark.parametrize(
    ("function", "kwargs", "message"),
    [
        (
            compare_means,
            dict(n_a=10, sum_a=5, sumsq_a=9, n_b=10, sum_b=5, sumsq_b=9, alpha=1.5),
            r"^The 'alpha' parameter must be a float in the range \(0, 1\)\. Got 1\.5 instead\.$",
        ),
        (
            compare_means,
            dict(n_a=10, sum_a=5, sumsq_a=9, n_b=10, sum_b=5, sumsq_b=9, alpha=np.float64(2)),
            r"Got 2\.0 instead",
        ),
        (
            compare_means,
            dict(n_a=1, sum_a=5, sumsq_a=25, n_b=10, sum_b=5, sumsq_b=9),
            r"'n_a' parameter must be an integer >= 2 \(customers in variant A\)\. Got 1",
        ),
        (
            compare_means,
            dict(n_a=10, sum_a=50, sumsq_a=9, n_b=10, sum_b=5, sumsq_b=9),
            r"'sumsq_a' parameter \(9\) is smaller than sum_a\*\*2 / n_a \(250\)",
        ),
        (
            compare_means,
            dict(n_a=10, sum_a=5, sumsq_a=9, n_b=10, sum_b=5, sumsq_b=9, relative="yes"),
            r"'relative' parameter must be True or False\. Got 'yes' instead",
        ),
        (
            compare_proportions,
            dict(x_a=120, n_a=100, x_b=5, n_b=100),
            r"'x_a' parameter must be an integer in the range \[0, 100\] \(converted customers",
        ),
        (
            compare_proportions,
            dict(x_a=10, n_a=100.5, x_b=5, n_b=100),
            r"'n_a' parameter must be an integer >= 1 .* Got 100\.5 instead",
        ),
        (
            compare_ratios,
            dict(
                n_a=10,
                sum_x_a=10,
                sum_y_a=10,
                sum_xx_a=20,
                sum_yy_a=20,
                sum_xy_a=99,
                n_b=10,
                sum_x_b=10,
                sum_y_b=10,
                sum_xx_b=20,
                sum_yy_b=20,
                sum_xy_b=20,
            ),
            r"sums of variant A .* cannot come from any data",
        ),
        (srm_test, dict(counts=[100, 90], expected_shares=[0.5, 0.4]), r"must sum to 1"),
        (srm_test, dict(counts=[100, -1], expected_shares=[0.5, 0.5]), r"non-negative whole"),
        (srm_test, dict(counts=[100.5, 90], expected_shares=[0.5, 0.5]), r"non-negative whole"),
        (srm_test, dict(counts=[100, 90], expected_shares=[1.0]), r"must hold 2 numbers > 0"),
        (holm, dict(p_values=[0.2, 1.3]), r"'p_values' parameter must be a flat list"),
        (
            obrien_fleming_boundaries,
            dict(information_fractions=[0.5, 0.4, 1.0]),
            r"'information_fractions' parameter must be a list of increasing numbers in \(0, 1\]",
        ),
        (
            sequential_check,
            dict(z_statistics=[1.0], information_fractions=[0.5, 1.0]),
            r"one finite number per look \(2 looks",
        ),
        (
            prob_b_beats_a_proportions,
            dict(x_a=1, n_a=10, x_b=2, n_b=10, prior_alpha=0),
            r"'prior_alpha' parameter must be a finite number > 0",
        ),
        (
            sample_size_means,
            dict(std=1.0, mde=0.1, alpha=0.05, power=0.05),
            r"'power' parameter must be greater than alpha",
        ),
        (
            sample_size_means,
            dict(std=-1.0, mde=0.1),
            r"'std' parameter must be a finite number > 0",
        ),
        (sample_size_proportions, dict(p_base=0.6, mde_relative=0.7), r"changed rate 1\.02"),
        (
            minimum_detectable_effect_proportions,
            dict(p_base=0.9, n_per_variant=3),
            r"no increase from a rate of 0\.9 can be detected",
        ),
    ],
)
def test_invalid_parameters_raise_params_error_quoting_the_bad_value(function, kwargs, message):
    with pytest.raises(ParamsError, match=message) as error:
        function(**kwargs)
    assert isinstance(error.value, CustkitError)


def test_whole_number_floats_from_pandas_sums_are_accepted_as_counts():
    assert compare_proportions(12.0, 100.0, np.int64(15), np.float64(100)) == compare_proportions(
        12, 100, 15, 100
    )


# ------------------------------------------------------------------- degenerate data
def test_zero_variance_in_both_variants_warns_and_gives_nan_test():
    with pytest.warns(SplitTestWarning, match="zero variance"):
        result = compare_means(10, 50.0, 250.0, 12, 72.0, 432.0, relative=False)
    assert result.estimate == 1.0
    assert math.isnan(result.p_value) and math.isnan(result.ci_low) and math.isnan(result.df)


def test_zero_control_mean_warns_and_gives_nan_relative_change_but_keeps_the_p_value():
    with pytest.warns(SplitTestWarning, match="relative=False"):
        result = compare_means(10, 0.0, 4.0, 10, 5.0, 9.0)
    assert math.isnan(result.estimate) and math.isnan(result.ci_high)
    assert 0 < result.p_value < 1


def test_no_conversion_in_either_variant_warns_and_gives_nan_p_value():
    with pytest.warns(SplitTestWarning, match="No customer converted"):
        result = compare_proportions(0, 100, 0, 120, relative=False)
    assert result.estimate == 0.0 and math.isnan(result.p_value)


def test_ratio_with_a_zero_denominator_warns_and_gives_nan():
    with pytest.warns(SplitTestWarning, match="denominator of variant A"):
        result = compare_ratios(10, 0, 0, 0, 0, 0, 10, 50, 12, 300, 16, 65)
    assert math.isnan(result.estimate) and math.isnan(result.p_value)


def test_results_are_frozen():
    result = compare_proportions(12, 100, 15, 100)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.p_value = 0.01
    boundaries = obrien_fleming_boundaries([0.5, 1.0])
    with pytest.raises(ValueError, match="read-only"):
        boundaries.z_boundaries[0] = 0.0
