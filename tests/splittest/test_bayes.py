"""The Bayesian view checked against numerical integration of the definitions and Monte
Carlo (no library computes it)."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from custkit.splittest import compare_means, prob_b_beats_a_means, prob_b_beats_a_proportions


def sums(values: np.ndarray) -> tuple[int, float, float]:
    return values.size, float(values.sum()), float((values**2).sum())


def revenue(rng: np.random.Generator, size, mean_log: float = 3.0) -> np.ndarray:
    """Skewed per-customer revenue, like a store's."""
    return rng.lognormal(mean_log, 1.0, size)


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
