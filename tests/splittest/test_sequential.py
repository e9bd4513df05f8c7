"""Lan–DeMets O'Brien–Fleming boundaries against published gsDesign / rpact values, the
multivariate normal probability and A/A simulations of five looks.

Simulations run 2000 seeded experiments at once; a rate is accepted within 3 simulation standard
errors of its target.
"""

import math

import numpy as np
import pytest
from scipy import optimize, stats

from custkit.splittest import obrien_fleming_boundaries, sequential_check
from custkit.splittest.sequential import _crossing_probabilities

N_SIMULATIONS = 2000


def within_simulation_error(rate: float, target: float, n: int = N_SIMULATIONS) -> bool:
    return abs(rate - target) <= 3 * math.sqrt(target * (1 - target) / n)


def revenue(rng: np.random.Generator, size, mean_log: float = 3.0) -> np.ndarray:
    """Skewed per-customer revenue, like a store's."""
    return rng.lognormal(mean_log, 1.0, size)


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
