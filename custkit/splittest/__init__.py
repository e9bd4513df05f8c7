"""Split-test review: variant B against control A, each customer measured over the same fixed
windows from their own exposure, with sound statistics.

One module per concern:

* statistics from per-variant sufficient statistics (customers, sums, sums of squares,
  conversions): :mod:`~custkit.splittest.comparisons` (``compare_means``,
  ``compare_proportions``, ``compare_ratios``), :mod:`~custkit.splittest.srm` (``srm_test``),
  :mod:`~custkit.splittest.multiple_testing` (``holm``, ``benjamini_hochberg``),
  :mod:`~custkit.splittest.bayes`
  (``prob_b_beats_a_*``), :mod:`~custkit.splittest.sequential` (``obrien_fleming_boundaries``,
  ``sequential_check``), :mod:`~custkit.splittest.planning` (``sample_size_*``,
  ``minimum_detectable_effect*``); :mod:`~custkit.splittest.inputs` checks their parameters;
* :mod:`~custkit.splittest.design` — which experiments, variants, planned split and control;
* :mod:`~custkit.splittest.metrics` — assignments checked, per-customer metrics over windows
  from exposure, reduced to per-variant sufficient statistics;
* :mod:`~custkit.splittest.segments` — effects by segment, adjusted over each segmentation;
* :mod:`~custkit.splittest.report` — what each part of the report notebook computes;
  :mod:`~custkit.splittest.verdicts` — the verdict rules;
  :mod:`~custkit.splittest.looks` — the monthly looks kept from one report to the next;
  :mod:`~custkit.splittest.findings` and :mod:`~custkit.splittest.sections` — the same as a
  manager reads it.

Example::

    import custkit as ck
    from custkit import splittest

    store = ck.load_store("params/demo.yaml")
    red = ck.reduce_orders(store.orders, "2026-10-31", customer_days=True)
    review = splittest.review_experiments(store.experiments, red)
    splittest.verdict(review, "exp_month2").text      # 'ship B'
"""

from importlib import import_module

from custkit.data.sections import section
from custkit.i18n import N_

# Imported on first use: ``import custkit.splittest`` stays quick (scipy.stats is not loaded).
_MODULES = {
    "inputs": ("SplitTestWarning",),
    "comparisons": ("MetricComparison", "compare_means", "compare_proportions", "compare_ratios"),
    "srm": ("srm_test",),
    "multiple_testing": ("adjust_p_values", "benjamini_hochberg", "holm"),
    "bayes": ("BayesianComparison", "prob_b_beats_a_means", "prob_b_beats_a_proportions"),
    "sequential": (
        "GroupSequentialBoundaries",
        "MonthlyLooks",
        "SequentialCheck",
        "add_looks",
        "crossed_boundaries",
        "extend_boundaries",
        "information_fractions",
        "obrien_fleming_boundaries",
        "sequential_check",
    ),
    "planning": (
        "SampleSize",
        "minimum_detectable_effect",
        "minimum_detectable_effect_proportions",
        "sample_size_means",
        "sample_size_proportions",
    ),
    "design": ("ExperimentDesign", "experiment_designs"),
    "metrics": (
        "ASSIGNMENT_REASONS",
        "METRICS",
        "MONTH_METRICS",
        "Assignments",
        "CupedAdjustment",
        "ExposureSums",
        "MetricSpec",
        "clean_assignments",
        "compare_metric",
        "cuped_adjust",
        "customer_metrics",
        "exposure_sums",
    ),
    "report": (
        "SplitTestReview",
        "bayesian_table",
        "check_inputs",
        "check_review_inputs",
        "cuped_table",
        "design_check",
        "judge_date",
        "metric_results",
        "metric_table",
        "month_results",
        "month_table",
        "planned_sample",
        "review_experiments",
        "sequential_looks",
        "sequential_table",
        "srm_check",
        "srm_p_value",
    ),
    "results": (
        "MetricResults",
        "MonthResults",
        "PlanningResults",
        "SegmentResults",
        "SequentialLooks",
        "SrmCheck",
    ),
    "looks": ("earlier_looks", "looks_state"),
    "segments": ("segment_effects", "segment_results"),
    "verdicts": (
        "Verdict",
        "metric_verdict",
        "verdict",
    ),
    "actions": ("RESULTS_EXPORT", "ship_actions"),
    "findings": (
        "assignment_table",
        "assignments_finding",
        "design_finding",
        "experiment_line",
        "overview_finding",
        "planning_results",
        "planning_table",
        "report_order",
        "results_table",
        "splittest_kpis",
        "srm_banner",
        "summary_table",
        "verdict_finding",
    ),
    "sections": (
        "ExperimentSection",
        "assignments_shown",
        "experiment_section",
        "planning_caption",
        "planning_line",
        "planning_shown",
        "reading_guide",
        "segments_caption",
        "segments_line",
        "segments_shown",
        "summary_shown",
    ),
}
#: Pass to ``load_store(..., tables=READS)``: the split-test report reads orders (status for
#: purchases, cost for margin), the assignments and the customers' channel and region (effects
#: by segment; no personal columns).
READS = {
    "orders": ("status", "cost"),
    "experiments": None,
    "customers": ("acquisition_channel", "region"),
}
#: The sections that need the assignments (see :mod:`custkit.data.sections`).
SECTIONS = {
    "reviews": section(N_("Experiment reviews"), "experiments"),
    "planning": section(N_("Planning the next test"), "experiments"),
}

_LAZY = {
    name: f"custkit.splittest.{module}" for module, names in _MODULES.items() for name in names
}

__all__ = sorted([*_LAZY, "READS", "SECTIONS"])


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'custkit.splittest' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
