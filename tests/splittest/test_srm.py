"""The sample-ratio mismatch test against scipy's chi-square."""

import numpy as np
import pytest
from scipy import stats

from custkit.splittest import srm_test


def test_srm_test_is_scipy_chisquare_against_the_planned_split():
    counts, shares = [5040, 2410, 2550], [0.5, 0.25, 0.25]
    expected = np.array(shares) * sum(counts)
    assert srm_test(counts, shares) == pytest.approx(
        stats.chisquare(counts, f_exp=expected).pvalue, rel=1e-12
    )


def test_srm_test_flags_a_broken_fifty_fifty_split():
    assert srm_test([10_000, 10_400], [0.5, 0.5]) < 0.01
    assert srm_test(np.array([10_000.0, 10_050.0]), (0.5, 0.5)) > 0.5
