"""The Bayesian view of a split test: probability that B beats A, expected loss of each choice.

:func:`prob_b_beats_a_proportions` is exact for conversion rates (Beta–Binomial, Evan Miller's
closed form; numerical integration with ``scipy.integrate.quad`` for non-integer priors);
:func:`prob_b_beats_a_means` is the normal approximation for means such as revenue per customer.
Both state their prior in the result. Neither scipy nor statsmodels has these; the tests check
them against numerical integration of the definitions and Monte Carlo.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import integrate, special

from custkit.splittest.inputs import (
    SplitTestWarning,
    _check_count,
    _check_positive,
    _mean_and_variance,
)


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
