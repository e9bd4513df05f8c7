"""Several metrics, windows, variants or experiments at once: adjusted p-values.

Two adjustments, chosen in the report's params (``multiple_testing``):

* **Holm** (the default) controls the family-wise error rate, the chance of *any* false
  positive, over the tests of one experiment (every metric × window × challenger).
* **Benjamini–Hochberg** controls the false discovery rate, the expected share of false
  positives among the tests called significant, over every test of every experiment in the
  review: the usual choice when many experiments and metrics are read at once, where Holm's
  family-wise guarantee costs too much power.

A few lines of numpy rather than an import of statsmodels for them; the results equal
``statsmodels.stats.multitest.multipletests(method="holm")`` and ``(method="fdr_bh")`` and, unlike
it, leave NaN p-values (undefined tests) out of the family as R's ``p.adjust`` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from custkit.errors import ParamsError, did_you_mean

#: The adjustments :func:`adjust_p_values` knows, with what they control, in words.
METHODS: dict[str, str] = {
    "holm": "Holm (family-wise error rate)",
    "bh": "Benjamini–Hochberg (false discovery rate)",
}


def _checked(p_values: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    return p, tested


def _in_given_order(p: np.ndarray, tested: np.ndarray, step) -> np.ndarray:
    """Apply *step* (sorted p-values → adjusted, sorted) to the tested p-values; NaN stay."""
    m = int(tested.sum())
    order = np.argsort(p[tested], kind="stable")
    adjusted_tested = np.empty(m)
    adjusted_tested[order] = step(p[tested][order], m)
    adjusted = np.full(p.shape, np.nan)
    adjusted[tested] = adjusted_tested
    return adjusted


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
    p, tested = _checked(p_values)

    def step(sorted_p: np.ndarray, m: int) -> np.ndarray:
        return np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * sorted_p))

    return _in_given_order(p, tested, step)


def benjamini_hochberg(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values), in the order given.

    Calling every test with an adjusted p-value below alpha keeps the expected share of false
    discoveries among them at most alpha (for independent or positively dependent tests);
    equals ``statsmodels.stats.multitest.multipletests(method="fdr_bh")[1]``. NaN p-values stay
    NaN and do not count in the family, as in :func:`holm`.

    Parameters
    ----------
    p_values : sequence of float
        One p-value per test, each in ``[0, 1]`` or NaN.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values: of ``m`` non-NaN p-values, the k-th smallest becomes
        ``min over j >= k of min(1, m p_(j) / j)``.
    """
    p, tested = _checked(p_values)

    def step(sorted_p: np.ndarray, m: int) -> np.ndarray:
        scaled = sorted_p * m / np.arange(1, m + 1)
        return np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])

    return _in_given_order(p, tested, step)


def check_method(method: object) -> str:
    """*method* if it is a key of :data:`METHODS`, else a :class:`ParamsError`."""
    if not isinstance(method, str) or method not in METHODS:
        raise ParamsError(
            f"multiple_testing must be one of {list(METHODS)} (Holm per experiment, or "
            f"Benjamini–Hochberg across every experiment). Got {method!r} instead."
            + did_you_mean(str(method), METHODS)
        )
    return method


def adjust_p_values(p_values: Sequence[float] | np.ndarray, method: str = "holm") -> np.ndarray:
    """Adjusted p-values by *method*: ``"holm"`` (:func:`holm`) or ``"bh"``
    (:func:`benjamini_hochberg`)."""
    method = check_method(method)
    return holm(p_values) if method == "holm" else benjamini_hochberg(p_values)
