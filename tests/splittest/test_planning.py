"""Sample sizes and minimum detectable effects against statsmodels' power classes and, for
the planned size, a simulation of the power attained."""

import math

import numpy as np
import pytest
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import proportion_effectsize

from custkit.splittest import (
    compare_proportions,
    minimum_detectable_effect,
    minimum_detectable_effect_proportions,
    sample_size_means,
    sample_size_proportions,
)

N_SIMULATIONS = 2000


def within_simulation_error(rate: float, target: float, n: int = N_SIMULATIONS) -> bool:
    return abs(rate - target) <= 3 * math.sqrt(target * (1 - target) / n)


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
