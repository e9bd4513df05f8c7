"""Holm's adjustment against statsmodels' multipletests."""

import numpy as np
from statsmodels.stats.multitest import multipletests

from custkit.splittest import holm


def test_holm_matches_statsmodels_multipletests_and_keeps_the_input_order():
    rng = np.random.default_rng(12)
    p_values = np.concatenate([rng.uniform(0, 0.1, 12), [0.03, 0.03, 0.0, 1.0]])
    rng.shuffle(p_values)
    expected = multipletests(p_values, method="holm")[1]
    np.testing.assert_allclose(holm(p_values), expected, rtol=1e-14)
    assert holm([]).size == 0


def test_holm_leaves_nan_p_values_out_of_the_family():
    np.testing.assert_allclose(holm([0.01, np.nan, 0.04]), [0.02, np.nan, 0.04])
