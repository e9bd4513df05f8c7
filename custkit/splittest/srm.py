"""Sample-ratio mismatch: do the variants' sizes fit the planned split?

A chi-square goodness-of-fit test, ``scipy.stats.chisquare``, with the planned shares checked
first (shares that do not sum to one are refused, not rescaled).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from custkit.errors import ParamsError

#: Shares of :func:`srm_test` must sum to one within this.
_SHARES_TOLERANCE = 1e-6


def srm_test(
    counts: Sequence[int] | np.ndarray, expected_shares: Sequence[float] | np.ndarray
) -> float:
    """P-value of a sample-ratio mismatch: do the variants' sizes fit the planned split?

    A chi-square goodness-of-fit test (``scipy.stats.chisquare``). A small p-value (the usual
    alarm is below 0.001) means the assignment or the tracking is broken, and the comparisons of
    the test cannot be trusted whatever they say.

    Parameters
    ----------
    counts : sequence of int
        Customers assigned to each variant (non-negative whole numbers, at least two variants).
    expected_shares : sequence of float
        Planned share of each variant, each > 0, summing to 1 (within 1e-6), e.g.
        ``[0.5, 0.5]``. Shares that do not sum to 1 are refused rather than rescaled, because a
        typo such as ``[0.5, 0.4]`` would otherwise change the very split being checked; for
        weights such as ``[1, 1]`` divide by their sum.

    Returns
    -------
    float
        The p-value.
    """
    observed = np.asarray(counts)
    if observed.ndim != 1 or observed.size < 2 or observed.dtype.kind not in "iuf":
        raise ParamsError(
            "The 'counts' parameter must be a list of at least two numbers (customers per "
            f"variant). Got {counts!r} instead."
        )
    observed = observed.astype(float)
    if not (np.isfinite(observed).all() and (observed >= 0).all()) or np.any(
        observed != np.round(observed)
    ):
        raise ParamsError(
            "The 'counts' parameter must hold non-negative whole numbers (customers per variant). "
            f"Got {observed.tolist()} instead."
        )
    if observed.sum() == 0:
        raise ParamsError("The 'counts' parameter sums to 0: no customer was assigned yet.")
    try:
        shares = np.asarray(expected_shares, dtype=float)
    except (TypeError, ValueError):
        shares = np.array([np.nan])
    if shares.shape != observed.shape or not (np.isfinite(shares).all() and (shares > 0).all()):
        raise ParamsError(
            f"The 'expected_shares' parameter must hold {observed.size} numbers > 0, one per "
            f"variant of 'counts'. Got {expected_shares!r} instead."
        )
    if abs(shares.sum() - 1.0) > _SHARES_TOLERANCE:
        raise ParamsError(
            f"The 'expected_shares' parameter must sum to 1. Got {shares.tolist()} (sum "
            f"{shares.sum():g}) instead. For weights such as [1, 1], divide them by their sum."
        )
    expected = shares / shares.sum() * observed.sum()
    return float(stats.chisquare(observed, f_exp=expected).pvalue)
