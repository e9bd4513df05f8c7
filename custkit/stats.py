"""Statistical intervals custkit computes itself, and the policy that decides it: no statsmodels
at runtime.

custkit's statistics run on numpy and scipy (distributions, quantiles, optimisers) and write out
the few formulas they need, each checked in the tests against statsmodels and published tables.
statsmodels is not a runtime dependency: it is in the ``[oracle]`` extra with lifetimes, the
references the tests compare against (``make test`` installs it). Why:

- the analyses work on per-variant or per-month *sufficient statistics* (counts, sums, sums of
  squares), which most statsmodels tests cannot take (``CompareMeans`` wants the raw rows);
- what statsmodels would give is a few lines each: the Wilson interval here, Holm and
  Benjamini–Hochberg in :mod:`custkit.splittest.multiple_testing` (with the NaN handling
  ``multipletests`` lacks), power in :mod:`custkit.splittest.planning` (``solve_power`` has
  known convergence bugs), Welch / proportion / ratio tests in
  :mod:`custkit.splittest.comparisons` (Student's t from sums, as gbstats);
- one large dependency fewer to install (and to keep compatible with new pandas and scipy)
  for three calls of one interval.

``tests/test_dependencies.py`` fails when a module of the package or a report notebook imports
statsmodels or lifetimes again.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["wilson_interval"]


def wilson_interval(
    successes: np.ndarray, trials: np.ndarray, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval of ``successes / trials``, element-wise.

    The formula of ``statsmodels.stats.proportion.proportion_confint(method="wilson")``
    (Wilson 1927; Newcombe 1998, method 3), clipped to [0, 1] as statsmodels clips it.

    Parameters
    ----------
    successes : array-like of int
        Successes per proportion.
    trials : array-like of int
        Trials per proportion, each above 0.
    alpha : float, default 0.05
        One minus the confidence level (0.05: a 95% interval).

    Returns
    -------
    low, high : numpy.ndarray
        The interval's bounds, float arrays of the broadcast shape of the inputs.
    """
    count = np.asarray(successes, dtype=np.float64)
    nobs = np.asarray(trials, dtype=np.float64)
    crit = stats.norm.isf(alpha / 2.0)
    crit2 = crit**2
    share = count / nobs
    denom = 1 + crit2 / nobs
    center = (share + crit2 / (2 * nobs)) / denom
    dist = crit * np.sqrt(share * (1.0 - share) / nobs + crit2 / (4.0 * nobs**2)) / denom
    return np.clip(center - dist, 0, 1), np.clip(center + dist, 0, 1)
