"""Split-test review: the statistics of comparing variant B with control A.

Every function takes per-variant sufficient statistics (customers, sums, sums of squares,
conversions) and returns a small frozen dataclass: ``compare_means``, ``compare_proportions`` and
``compare_ratios`` (frequentist estimate, interval, p-value), ``prob_b_beats_a_proportions`` and
``prob_b_beats_a_means`` (Bayesian probability and expected loss), ``srm_test`` and ``holm``
(sample-ratio and multiple-metric checks), ``obrien_fleming_boundaries`` and
``sequential_check`` (looking more than once), and the planning helpers ``sample_size_*`` and
``minimum_detectable_effect*``. See :mod:`custkit.splittest.stats` for the formulas and why they
are our own code.
"""

from importlib import import_module

# Imported on first use: ``import custkit.splittest`` stays quick (scipy.stats is not loaded).
_LAZY = {
    name: "custkit.splittest.stats"
    for name in (
        "BayesianComparison",
        "GroupSequentialBoundaries",
        "MetricComparison",
        "SampleSize",
        "SequentialCheck",
        "SplitTestWarning",
        "compare_means",
        "compare_proportions",
        "compare_ratios",
        "holm",
        "minimum_detectable_effect",
        "minimum_detectable_effect_proportions",
        "obrien_fleming_boundaries",
        "prob_b_beats_a_means",
        "prob_b_beats_a_proportions",
        "sample_size_means",
        "sample_size_proportions",
        "sequential_check",
        "srm_test",
    )
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'custkit.splittest' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
