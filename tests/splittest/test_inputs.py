"""Invalid parameters raise ParamsError quoting the bad value; undefined results are NaN with
a SplitTestWarning; results are frozen."""

import dataclasses
import math

import numpy as np
import pytest

from custkit.errors import CustkitError, ParamsError
from custkit.splittest import (
    SplitTestWarning,
    compare_means,
    compare_proportions,
    compare_ratios,
    holm,
    minimum_detectable_effect_proportions,
    obrien_fleming_boundaries,
    prob_b_beats_a_proportions,
    sample_size_means,
    sample_size_proportions,
    sequential_check,
    srm_test,
)


def sums(values: np.ndarray) -> tuple[int, float, float]:
    return values.size, float(values.sum()), float((values**2).sum())


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


def test_zero_control_mean_warns_and_gives_nan_relative_change_and_p_value():
    # no p-value of the difference beside an undefined relative change (issue 14)
    with pytest.warns(SplitTestWarning, match="relative=False"):
        result = compare_means(10, 0.0, 4.0, 10, 5.0, 9.0)
    assert math.isnan(result.estimate) and math.isnan(result.ci_high)
    assert math.isnan(result.p_value)
    assert 0 < compare_means(10, 0.0, 4.0, 10, 5.0, 9.0, relative=False).p_value < 1


def test_challenger_at_zero_for_everyone_warns_and_gives_nan_relative_test():
    with pytest.warns(SplitTestWarning, match="0 for every customer"):
        result = compare_proportions(12, 100, 0, 100)
    assert result.estimate == -1.0 and math.isnan(result.p_value) and math.isnan(result.ci_low)


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
