"""Synthetic stores with a known effect, shared by the split-test report tests."""

import numpy as np
import pandas as pd
import pytest

import custkit as ck
from custkit.splittest import review_experiments

AS_OF = pd.Timestamp("2026-10-31")
FIRST_EXPOSURE = pd.Timestamp("2026-02-01")


def _synthetic_store(
    experiment="exp",
    customers=6000,
    effect=0.0,
    share_b=0.5,
    exposure_days=60,
    first_exposure=FIRST_EXPOSURE,
    seed=0,
    with_cost=True,
    first_id=1,
):
    """Customers buying at 1.2 orders a month, from 120 days before their exposure on; B's rate
    is (1 + effect) times A's after exposure. Returns (orders, experiments)."""
    rng = np.random.default_rng(seed)
    ids = np.arange(first_id, first_id + customers)
    is_b = rng.permutation(customers) < round(share_b * customers)
    exposure = first_exposure + pd.to_timedelta(
        rng.uniform(0, exposure_days * 86400, customers), unit="s"
    )
    start = exposure - pd.Timedelta(days=120)
    span = (AS_OF + pd.Timedelta(days=1) - start).total_seconds().to_numpy()
    rate = 1.2 / (30 * 86400)
    before = rng.poisson(rate * 120 * 86400, customers)
    after_rate = rate * np.where(is_b, 1 + effect, 1.0)
    after = rng.poisson(after_rate * (span - 120 * 86400))
    who_before = np.repeat(np.arange(customers), before)
    who_after = np.repeat(np.arange(customers), after)
    who = np.r_[who_before, who_after]
    after_span = (span - 120 * 86400)[who_after]
    offset = np.r_[
        rng.uniform(0, 120 * 86400, before.sum()),
        120 * 86400 + rng.uniform(0, 1, after.sum()) * after_span,
    ]
    orders = pd.DataFrame(
        {
            "order_id": np.arange(len(who)) + first_id * 100,
            "customer_id": ids[who],
            "order_date": start[who] + pd.to_timedelta(offset, unit="s"),
            "revenue": rng.lognormal(7.5, 0.5, len(who)).round(2),
        }
    )
    if with_cost:
        orders["cost"] = (orders["revenue"] * 0.6).round(2)
    experiments = pd.DataFrame(
        {
            "experiment_id": experiment,
            "customer_id": ids,
            "variant": np.where(is_b, "B", "A"),
            "assigned_at": exposure,
        }
    )
    return orders, experiments


def _review_of(*stores, as_of=AS_OF, **kwargs):
    orders = pd.concat([s[0] for s in stores], ignore_index=True)
    experiments = pd.concat([s[1] for s in stores], ignore_index=True)
    reductions = ck.reduce_orders(orders, as_of, customer_days=True)
    return review_experiments(experiments, reductions, **kwargs)


@pytest.fixture(scope="session")
def make_store():
    """``make_store(experiment, customers=6000, effect=0.0, share_b=0.5, ...)`` →
    (orders, experiments)."""
    return _synthetic_store


@pytest.fixture(scope="session")
def review_of():
    """``review_of(*stores, **review_experiments_kwargs)`` → SplitTestReview."""
    return _review_of
