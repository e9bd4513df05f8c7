"""custkit.stats against the published table and against statsmodels (the ``[oracle]`` extra)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from custkit.stats import wilson_interval


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [  # Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (score, Wilson)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_newcombes_published_table(successes, trials, low, high):
    got = wilson_interval(successes, trials)
    assert np.round(got, 4).tolist() == [low, high]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.integers(1, 10**7).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from([0.01, 0.05, 0.1, 0.2]),
)
def test_wilson_interval_equals_statsmodels_element_wise(pairs, alpha):
    successes, trials = (np.array(column) for column in zip(*pairs, strict=True))
    low, high = wilson_interval(successes, trials, alpha=alpha)
    ref_low, ref_high = proportion_confint(successes, trials, alpha=alpha, method="wilson")
    np.testing.assert_allclose(low, ref_low, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(high, ref_high, rtol=1e-12, atol=1e-15)
    share = successes / trials  # inside its interval, up to rounding (0 of n: low is ~1e-20)
    assert ((0 <= low) & (low <= share + 1e-15) & (share <= high + 1e-15) & (high <= 1)).all()
