"""Holm's and Benjamini–Hochberg's adjustments against statsmodels' multipletests."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from custkit.errors import ParamsError
from custkit.splittest import adjust_p_values, benjamini_hochberg, holm

ADJUSTMENTS = [(holm, "holm"), (benjamini_hochberg, "fdr_bh")]


@pytest.mark.parametrize(("adjust", "statsmodels_method"), ADJUSTMENTS)
def test_adjustment_matches_statsmodels_multipletests_and_keeps_the_input_order(
    adjust, statsmodels_method
):
    rng = np.random.default_rng(12)
    p_values = np.concatenate([rng.uniform(0, 0.1, 12), [0.03, 0.03, 0.0, 1.0]])
    rng.shuffle(p_values)
    expected = multipletests(p_values, method=statsmodels_method)[1]
    np.testing.assert_allclose(adjust(p_values), expected, rtol=1e-14)
    assert adjust([]).size == 0


# statsmodels takes ~25 ms a call; 50 lists of up to 60 p-values, beside the fixed cases above
@settings(max_examples=50, deadline=None)
@given(
    p_values=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=60),
    method=st.sampled_from(ADJUSTMENTS),
)
def test_adjustment_matches_statsmodels_on_any_p_values(p_values, method):
    adjust, statsmodels_method = method
    expected = multipletests(p_values, method=statsmodels_method)[1]
    np.testing.assert_allclose(adjust(p_values), expected, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize(
    ("adjust", "expected"),
    [(holm, [0.02, np.nan, 0.04]), (benjamini_hochberg, [0.02, np.nan, 0.04])],
)
def test_adjustment_leaves_nan_p_values_out_of_the_family(adjust, expected):
    np.testing.assert_allclose(adjust([0.01, np.nan, 0.04]), expected)


def test_benjamini_hochberg_calls_more_discoveries_than_holm_when_many_effects_are_real():
    p_values = [0.001, 0.008, 0.012, 0.02, 0.03, 0.04, 0.3, 0.7]
    assert (benjamini_hochberg(p_values) < 0.05).sum() > (holm(p_values) < 0.05).sum()


@pytest.mark.parametrize("method", ["bonferroni", "BH", None, 1])
def test_unknown_adjustment_is_refused_naming_the_choices(method):
    with pytest.raises(ParamsError, match=r"multiple_testing must be one of \['holm', 'bh'\]"):
        adjust_p_values([0.01], method)
