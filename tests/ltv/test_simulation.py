"""BG/NBD recovers known parameters from 50,000 simulated customers, within its 95% intervals."""

import numpy as np
import pandas as pd
import pytest

from custkit.ltv import BGNBD

TRUE = {"r": 0.8, "alpha": 6.0, "a": 0.9, "b": 3.5}


def simulate_bgnbd(n, r, alpha, a, b, horizon, seed):
    """Draw (frequency, recency, T) of *n* customers from a BG/NBD, vectorized.

    Each customer has a purchase rate λ ~ Gamma(r, 1/α) and a dropout probability
    p ~ Beta(a, b). Dropout is tried after each repeat purchase, so the customer dies right after
    repeat purchase J ~ Geometric(p) (J >= 1). Purchases form a Poisson process on (0, T]: the
    gaps are exponential, drawn for up to ``max_purchases`` purchases per customer.
    """
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    T = rng.uniform(horizon / 4, horizon, n)  # customers acquired at different times
    max_purchases = 200
    gaps = rng.exponential(1.0, (n, max_purchases)) / lam[:, None]
    times = np.cumsum(gaps, axis=1)
    dropout_after = rng.geometric(p)  # dies right after its dropout_after-th repeat purchase
    k = np.arange(1, max_purchases + 1)
    made = (times <= T[:, None]) & (k[None, :] <= dropout_after[:, None])
    frequency = made.sum(axis=1)
    assert (frequency < max_purchases).all()  # the cap never binds
    recency = np.where(frequency > 0, times[np.arange(n), np.maximum(frequency - 1, 0)], 0.0)
    frame = pd.DataFrame({"frequency": frequency, "recency": recency, "T": T})
    frame.attrs["time_unit"] = "W"
    return frame


@pytest.fixture(scope="module")
def fitted():
    summary = simulate_bgnbd(50_000, **TRUE, horizon=52.0, seed=20240601)
    return BGNBD().fit(summary), summary


def test_bgnbd_recovers_simulated_parameters_within_their_95_percent_intervals(fitted):
    model, _ = fitted
    ci = model.confidence_intervals_
    for name, value in TRUE.items():
        assert ci.loc[name, "lower 95%"] < value < ci.loc[name, "upper 95%"], (
            name,
            model.summary_.loc[name].to_dict(),
        )
    assert model.converged_


def test_simulated_repeat_purchases_match_the_models_expectation(fitted):
    """The simulator itself is right: mean frequency equals E[X(T)] under the true parameters."""
    _, summary = fitted
    truth = BGNBD()
    truth.params_ = dict(TRUE)
    expected = truth.expected_purchases(summary["T"].to_numpy()).mean()
    observed = summary["frequency"].mean()
    se = summary["frequency"].std() / np.sqrt(len(summary))
    assert abs(observed - expected) < 4 * se
