"""Several metrics, windows or variants at once: Holm's step-down adjustment of p-values.

Four lines of numpy rather than an import of statsmodels for them; the result equals
``statsmodels.stats.multitest.multipletests(method="holm")`` and, unlike it, leaves NaN p-values
(undefined tests) out of the family as R's ``p.adjust`` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from custkit.errors import ParamsError


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values, in the order given.

    Compare each adjusted p-value with alpha to control the family-wise error rate over all the
    metrics of a test; equals ``statsmodels.stats.multitest.multipletests(method="holm")[1]``.
    A NaN p-value (a metric whose test is undefined, see :class:`SplitTestWarning`) stays NaN and
    does not count in the family, as R's ``p.adjust`` does; statsmodels has no such handling.

    Parameters
    ----------
    p_values : sequence of float
        One p-value per metric, each in ``[0, 1]`` or NaN.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values: of ``m`` non-NaN p-values, the k-th smallest becomes
        ``max over j <= k of min(1, (m - j + 1) p_(j))``.
    """
    try:
        p = np.asarray(p_values, dtype=float)
    except (TypeError, ValueError):
        p = np.array([-1.0])
    tested = ~np.isnan(p)
    if p.ndim != 1 or (p[tested] < 0).any() or (p[tested] > 1).any():
        raise ParamsError(
            "The 'p_values' parameter must be a flat list of numbers in the range [0, 1] (one "
            f"p-value per metric, NaN for an undefined test). Got {p_values!r} instead."
        )
    m = int(tested.sum())
    order = np.argsort(p[tested], kind="stable")
    adjusted_sorted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[tested][order]))
    adjusted_tested = np.empty(m)
    adjusted_tested[order] = adjusted_sorted
    adjusted = np.full(p.shape, np.nan)
    adjusted[tested] = adjusted_tested
    return adjusted
