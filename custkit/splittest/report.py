"""The steps of the split-test report: design check, metrics by window and by month since
exposure, CUPED, and the Bayesian and sequential views.

Each function is what a part of ``custkit/notebooks/splittest.ipynb`` calls, so the notebook stays
a sequence of calls and an analyst can run the same steps on their own data:
:func:`review_experiments` checks the assignments and reduces every customer's purchases once;
the other functions take its result and one experiment id. How a test is judged is in
:mod:`custkit.splittest.verdicts`; what a manager reads of it (findings, summary tables, the
KPIs) in :mod:`custkit.splittest.findings`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from custkit.errors import ParamsError, did_you_mean
from custkit.splittest.design import ExperimentDesign, experiment_designs
from custkit.splittest.inputs import check_segmentations
from custkit.splittest.metrics import (
    METRICS,
    MONTH_DAYS,
    MONTH_METRICS,
    Assignments,
    ExposureSums,
    _check_windows,
    clean_assignments,
    compare_metric,
    cuped_adjust,
    exposure_sums,
)
from custkit.splittest.results import (
    MetricResults,
    MonthResults,
    SegmentResults,
    SequentialLooks,
    SrmCheck,
)


# ================================================================================ the review
@dataclass(frozen=True)
class SplitTestReview:
    """Everything the report's sections need, computed once.

    Attributes
    ----------
    designs : dict of str to ExperimentDesign
        The experiments reviewed, in report order.
    assignments : Assignments
        Checked assignments and the accounting of the rows set aside.
    sums : ExposureSums
        Per-variant sufficient statistics per window, completion month and month since exposure.
    windows_days : tuple of int
        Windows reported (the horizon among them).
    horizon_days : int
        The window a test is judged on.
    metrics : tuple of str
        Metrics reported (``margin`` only when orders have cost).
    primary_metric : str
    alpha, srm_alpha : float
    include : tuple of str
        The experiments the params asked for, in their order (empty: all).
    planned_lift : float
        The relative change of the primary metric an experiment without a planned sample is
        sized for, at its first look.
    look_history : mapping
        Experiment id → its looks as the previous report froze them
        (:func:`custkit.splittest.looks.earlier_looks`).
    multiple_testing : {"holm", "bh"}
        How the metric tables adjust p-values: Holm over each experiment's tests, or
        Benjamini–Hochberg over every test of every experiment reviewed.
    cap_percentile : float or None
        Revenue and margin per customer were capped at this percentile (None: not capped); the
        caps are in ``sums.caps``.
    """

    designs: Mapping[str, ExperimentDesign]
    assignments: Assignments
    sums: ExposureSums
    windows_days: tuple[int, ...]
    horizon_days: int
    metrics: tuple[str, ...]
    primary_metric: str
    alpha: float
    srm_alpha: float
    include: tuple[str, ...] = ()
    planned_lift: float = 0.05
    look_history: Mapping[str, Any] = field(default_factory=dict)
    multiple_testing: str = "holm"
    cap_percentile: float | None = None
    _totals: dict = field(repr=False, compare=False, default_factory=dict)
    _cache: dict = field(repr=False, compare=False, default_factory=dict)

    @property
    def as_of(self) -> pd.Timestamp:
        """Last day counted."""
        return self.sums.as_of

    @property
    def experiment_ids(self) -> list[str]:
        """The experiments reviewed, in report order."""
        return list(self.designs)

    def totals(self, experiment_id: str, window_days: int) -> dict[str, dict[str, float]]:
        """Sums (``customers``, ``sum_*``) per variant of one experiment and window at
        ``as_of``, as plain dicts: the statistics read a few numbers per comparison, and pandas
        indexing would cost more than the test."""
        return self._totals.get((experiment_id, window_days), {})

    def cached(self, key: tuple, compute: Callable[[], Any], copy: bool = True) -> Any:
        """*compute()* once per review and *key*: the verdicts, the summary, the KPIs and the
        sections all read the same tables.

        The review is the one owner of what it has computed: every module reads and adds
        results through this method, never through the store behind it.

        Parameters
        ----------
        key : tuple
            What is computed, first the step's name (``("metrics", experiment_id)``).
        compute : callable
            Computes it, without arguments; called only when *key* is new.
        copy : bool, default True
            Hand out a copy of a frame (or of a result's ``table``), so a caller may modify its
            own; this package's readers that only read take the stored one.

        Returns
        -------
        object
            What *compute* returned for *key*.
        """
        if key not in self._cache:
            # Undefined results (a control rate of 0 in a young test…) are NaN and shown as "—";
            # the warning that says so is for analysts calling the statistics directly.
            with warnings.catch_warnings():
                from custkit.splittest.inputs import SplitTestWarning

                warnings.simplefilter("ignore", SplitTestWarning)
                self._cache[key] = compute()
        value = self._cache[key]
        if copy and isinstance(value, pd.DataFrame):
            return value.copy()
        if copy and isinstance(value, _RESULTS):
            return dataclasses.replace(value, table=value.table.copy())
        return value


def review_experiments(
    experiments: pd.DataFrame | None,
    reductions,
    *,
    planned_splits: Mapping[str, Mapping[str, float]] | None = None,
    include: Sequence[str] = (),
    windows_days: Sequence[int] = (30, 60, 90),
    horizon_days: int = 90,
    metrics: Sequence[str] | None = None,
    primary_metric: str = "revenue",
    alpha: float = 0.05,
    srm_alpha: float = 0.001,
    pre_exposure_days: int = 90,
    include_exposure_day: bool = False,
    planned_customers: Mapping[str, int] | None = None,
    planned_lift: float = 0.05,
    look_history: Mapping[str, Any] | None = None,
    multiple_testing: str = "holm",
    cap_percentile: float | None = 0.99,
) -> SplitTestReview:
    """Check the assignments and reduce every assigned customer's purchases, once.

    Parameters
    ----------
    experiments : pandas.DataFrame or None
        The store's experiments table.
    reductions : OrderReductions
        ``custkit.reduce_orders(orders, as_of, customer_days=True)``.
    planned_splits, include
        See :func:`custkit.splittest.design.experiment_designs`.
    windows_days : sequence of int, default (30, 60, 90)
        Windows from exposure to report; the horizon is added when missing.
    horizon_days : int, default 90
        The window a test is judged on.
    metrics : sequence of str, optional
        Keys of :data:`~custkit.splittest.metrics.METRICS`; default: all (margin when orders
        have cost).
    primary_metric : str, default "revenue"
        The metric the verdict is taken on.
    alpha : float, default 0.05
        Significance level of every test and interval (1 - alpha).
    srm_alpha : float, default 0.001
        Sample-ratio mismatch alarm level.
    pre_exposure_days, include_exposure_day
        See :func:`custkit.splittest.metrics.exposure_sums`.
    planned_customers : mapping, optional
        Experiment id or pattern → planned sample (customers in all variants): the denominator
        of each monthly look's information fraction. See
        :func:`custkit.splittest.design.experiment_designs`.
    planned_lift : float, default 0.05
        For an experiment without a planned sample: the relative change of the primary metric
        it is sized for (power 0.8) from the variance at its first look; the size is then kept.
    look_history : mapping, optional
        The looks of the previous report (:func:`custkit.splittest.looks.earlier_looks`):
        kept as they were, never recomputed; this review only adds later looks.
    multiple_testing : {"holm", "bh"}, default "holm"
        Adjustment of the metric tables' p-values: ``"holm"`` controls the family-wise error
        rate over each experiment's tests (every metric × window × challenger); ``"bh"``
        (Benjamini–Hochberg) controls the false discovery rate over every test of every
        experiment reviewed.
    cap_percentile : float or None, default 0.99
        Cap revenue and margin per customer (and the CUPED covariate) at this percentile of the
        positive values of both variants pooled, per experiment and window, before the
        statistics (GrowthBook's percentile capping); None or 1: no cap. See
        :func:`custkit.splittest.metrics.exposure_sums`.

    Returns
    -------
    SplitTestReview
    """
    checked = check_review_inputs(  # the metrics are checked below, against the sums
        experiments,
        planned_splits=planned_splits,
        include=include,
        windows_days=windows_days,
        horizon_days=horizon_days,
        metrics=metrics,
        primary_metric=primary_metric,
        alpha=alpha,
        srm_alpha=srm_alpha,
        planned_customers=planned_customers,
        planned_lift=planned_lift,
        multiple_testing=multiple_testing,
        cap_percentile=cap_percentile,
    )
    designs, windows, alpha, srm_alpha = checked
    as_of = reductions.as_of
    if experiments is None:
        experiments = pd.DataFrame(
            {
                "experiment_id": pd.Series(dtype=str),
                "customer_id": pd.Series(dtype=np.int64),
                "variant": pd.Series(dtype=str),
                "assigned_at": pd.Series(dtype="datetime64[ns]"),
            }
        )
    assignments = clean_assignments(experiments, as_of, designs)
    sums = exposure_sums(
        assignments,
        reductions,
        windows,
        pre_exposure_days=pre_exposure_days,
        include_exposure_day=include_exposure_day,
        cap_percentile=cap_percentile,
    )
    chosen = _check_metrics(metrics, primary_metric, sums.has_margin)
    if primary_metric not in chosen:
        chosen = (primary_metric, *chosen)
    return SplitTestReview(
        designs=designs,
        assignments=assignments,
        sums=sums,
        windows_days=windows,
        horizon_days=horizon_days,
        metrics=chosen,
        primary_metric=primary_metric,
        alpha=alpha,
        srm_alpha=srm_alpha,
        include=tuple(str(e) for e in include),
        planned_lift=float(planned_lift),
        look_history=dict(look_history or {}),
        multiple_testing=multiple_testing,
        cap_percentile=sums.cap_percentile,
        _totals=_totals_by_experiment(sums),
    )


def check_review_inputs(
    experiments: pd.DataFrame | None,
    *,
    has_margin: bool | None = None,
    planned_splits: Mapping[str, Mapping[str, float]] | None = None,
    include: Sequence[str] = (),
    windows_days: Sequence[int] = (30, 60, 90),
    horizon_days: int = 90,
    metrics: Sequence[str] | None = None,
    primary_metric: str = "revenue",
    alpha: float = 0.05,
    srm_alpha: float = 0.001,
    planned_customers: Mapping[str, int] | None = None,
    planned_lift: float = 0.05,
    multiple_testing: str = "holm",
    cap_percentile: float | None = 0.99,
) -> tuple[dict[str, ExperimentDesign], tuple[int, ...], float, float]:
    """What :func:`review_experiments` checks before it reduces anything; ``custkit validate``
    runs it on the report's parameters and the store's experiments table.

    Parameters
    ----------
    experiments : pandas.DataFrame or None
    has_margin : bool or None
        Whether the orders have a cost column (margin is a metric then); None skips the metric
        check (it needs the reduced orders).
    planned_splits, include, windows_days, horizon_days, metrics, primary_metric, alpha, srm_alpha
    planned_customers, planned_lift
    multiple_testing, cap_percentile
        As for :func:`review_experiments`.

    Returns
    -------
    designs, windows, alpha, srm_alpha
        The designs to review, the windows reported (the horizon among them) and the levels.

    Raises
    ------
    ParamsError
        A level outside (0, 1), a bad window or horizon, an unknown metric, an experiment the
        data does not hold or a malformed planned split.
    DataError
        The experiments table lacks a column the review needs.
    """
    from custkit.splittest.metrics import check_cap_percentile
    from custkit.splittest.multiple_testing import check_method

    alpha = _check_level("alpha", alpha)
    srm_alpha = _check_level("srm_alpha", srm_alpha)
    check_method(multiple_testing)
    check_cap_percentile(cap_percentile)
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 1:
        raise ParamsError(f"horizon_days must be a whole number >= 1. Got {horizon_days!r}.")
    windows = tuple(sorted({*_check_windows(windows_days), horizon_days}))
    if has_margin is not None:
        _check_metrics(metrics, primary_metric, has_margin)
    planned_lift_ok = (
        isinstance(planned_lift, int | float) and not isinstance(planned_lift, bool)
    ) and 0 < planned_lift < 10
    if not planned_lift_ok:
        raise ParamsError(
            "planned_lift must be a relative change in (0, 10), e.g. 0.05 for +5%. "
            f"Got {planned_lift!r} instead."
        )
    designs = experiment_designs(experiments, planned_splits, include, planned_customers)
    return designs, windows, alpha, srm_alpha


def check_inputs(store, parameters: Mapping[str, Any]) -> None:
    """What the split-test report checks of its parameters and the experiments table before it
    reviews anything: ``custkit validate`` runs this with the report's parameter values
    (:func:`custkit.reports.parameters.resolve_parameters`) on the loaded *store*.

    Raises
    ------
    ParamsError, DataError
        As :func:`review_experiments` would, with the same message.
    """
    orders = store.orders
    check_review_inputs(
        store.experiments,
        has_margin=orders is not None and "cost" in orders.columns,
        planned_splits=parameters["planned_splits"],
        include=parameters["experiments"],
        windows_days=parameters["windows_days"],
        horizon_days=parameters["horizon_days"],
        primary_metric=parameters["primary_metric"],
        alpha=parameters["alpha"],
        srm_alpha=parameters["srm_alpha"],
        planned_customers=parameters.get("planned_customers"),
        planned_lift=parameters.get("planned_lift", 0.05),
        multiple_testing=parameters.get("multiple_testing", "holm"),
        cap_percentile=parameters.get("cap_percentile", 0.99),
    )
    check_segmentations(parameters.get("segment_by", ()))


def _check_metrics(
    metrics: Sequence[str] | None, primary_metric: str, has_margin: bool
) -> tuple[str, ...]:
    available = [m for m in METRICS if m != "margin" or has_margin]
    chosen = tuple(available if metrics is None else metrics)
    for metric in (*chosen, primary_metric):
        if metric not in available:
            why = " (orders have no cost column)" if metric == "margin" else ""
            raise ParamsError(
                f"metric must be one of {available}{why}. Got {metric!r} instead."
                + did_you_mean(str(metric), available)
            )
    return chosen


#: The typed results whose ``table`` :meth:`SplitTestReview.cached` copies out.
_RESULTS = (MetricResults, MonthResults, SegmentResults, SequentialLooks)


def _cached(
    review: SplitTestReview, key: tuple, compute: Callable[[], Any], copy: bool = True
) -> Any:
    """:meth:`SplitTestReview.cached`, as this module's steps call it."""
    return review.cached(key, compute, copy)


def _totals_by_experiment(sums: ExposureSums) -> dict:
    totals: dict = {}
    for row in sums.totals().to_dict("records"):
        key = (str(row["experiment_id"]), int(row["window_days"]))
        totals.setdefault(key, {})[str(row["variant"])] = row
    return totals


def _check_level(name: str, value: Any) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1
    if not ok:
        raise ParamsError(f"{name} must be a float in the range (0, 1). Got {value!r} instead.")
    return float(value)


def _design(review: SplitTestReview, experiment_id: str) -> ExperimentDesign:
    if experiment_id not in review.designs:
        raise ParamsError(
            f"experiment {experiment_id!r} is not in this review."
            f"{did_you_mean(str(experiment_id), review.designs)} "
            f"Reviewed: {', '.join(review.designs) or '(none)'}."
        )
    return review.designs[experiment_id]


# ============================================================================ design check
def srm_p_value(review: SplitTestReview, experiment_id: str) -> float:
    """P-value of the sample-ratio test of all valid assignments vs the planned split (NaN when
    the experiment has a single variant or no assignments)."""
    from custkit.splittest.srm import srm_test

    design = _design(review, experiment_id)

    def compute() -> float:
        counts = [_assigned_to(review, experiment_id, [v]) for v in design.variants]
        if len(design.variants) < 2 or sum(counts) == 0:
            return math.nan
        return srm_test(counts, list(design.planned_shares))

    return review.cached(("srm", experiment_id), compute)


def srm_check(review: SplitTestReview, experiment_id: str) -> SrmCheck:
    """The sample-ratio test of the experiment's split, with the review's ``srm_alpha``.

    Returns
    -------
    SrmCheck
        ``p_value`` (:func:`srm_p_value`), ``alpha`` and ``alert`` (the split is broken).
    """
    return SrmCheck(experiment_id, srm_p_value(review, experiment_id), review.srm_alpha)


def _exposure(review: SplitTestReview, experiment_id: str) -> dict[str, dict[str, Any]]:
    """Per variant: ``customers`` (valid assignments), ``first_exposure``, ``last_exposure``."""

    def compute() -> dict:
        by_experiment: dict = {}
        for row in review.sums.exposure.to_dict("records"):
            by_experiment.setdefault(str(row["experiment_id"]), {})[str(row["variant"])] = row
        return by_experiment

    return review.cached(("exposure",), compute).get(experiment_id, {})


def _assigned_to(review: SplitTestReview, experiment_id: str, variants: Sequence[str]) -> int:
    exposure = _exposure(review, experiment_id)
    return sum(int(exposure[v]["customers"]) for v in variants if v in exposure)


def design_check(review: SplitTestReview, experiment_id: str) -> pd.DataFrame:
    """Sizes, planned vs actual split and exposure dates per variant.

    Returns
    -------
    pandas.DataFrame
        ``variant``, ``role`` (control / challenger / not planned), ``planned_share``,
        ``customers`` (valid assignments up to as-of), ``actual_share``, ``first_exposure``,
        ``last_exposure`` and ``complete_<W>d``: customers whose W-day window is complete.
        The sample-ratio test is :func:`srm_check`'s.
    """
    design = _design(review, experiment_id)
    exposure = _exposure(review, experiment_id)
    variants = list(design.variants) + [v for v in exposure if v not in design.variants]
    table = pd.DataFrame({"variant": variants})
    table["role"] = [
        "control" if v == design.control else "challenger" if v in design.variants else "?"
        for v in variants
    ]
    planned = dict(zip(design.variants, design.planned_shares, strict=True))
    table["planned_share"] = [planned.get(v, math.nan) for v in variants]
    customers = np.array([_assigned_to(review, experiment_id, [v]) for v in variants])
    table["customers"] = customers
    table["actual_share"] = customers / customers.sum() if customers.sum() else math.nan
    for column in ("first_exposure", "last_exposure"):
        table[column] = pd.to_datetime(
            [exposure[v][column] if v in exposure else pd.NaT for v in variants]
        )
    for w in review.windows_days:
        done = review.totals(experiment_id, w)
        table[f"complete_{w}d"] = [_count(done, v) for v in variants]
    return table


def judge_date(review: SplitTestReview, experiment_id: str) -> pd.Timestamp | None:
    """The day the last assigned customer's horizon window is complete (None: no customers)."""
    exposure = _exposure(review, experiment_id)
    if not exposure:
        return None
    last = max(row["last_exposure"] for row in exposure.values())
    return pd.Timestamp(last).normalize() + pd.Timedelta(days=review.horizon_days)


# ============================================================================ metric results
def _comparisons(
    review: SplitTestReview, experiment_id: str, metric: str, window_days: int
) -> list[tuple[str, Any]]:
    design = _design(review, experiment_id)
    totals = review.totals(experiment_id, window_days)
    out = []
    for variant in design.challengers:
        if design.control in totals and variant in totals:
            result = compare_metric(
                metric, totals[design.control], totals[variant], alpha=review.alpha
            )
        else:
            result = None
        out.append((variant, result, totals))
    return out


def metric_table(review: SplitTestReview, experiment_id: str) -> pd.DataFrame:
    """Every metric at every window: control and challenger values, relative change, interval,
    p-value and adjusted p-value.

    The interval and the p-value come from one standard error of the relative change, so
    ``p_value < alpha`` exactly when the interval leaves out 0. ``p_adjusted`` is Holm's over
    every metric × window × challenger of this experiment or, with the review's
    ``multiple_testing="bh"``, Benjamini–Hochberg's over every such test of every experiment
    reviewed (stated in :func:`metric_results`' ``family``). A window is ``partial`` while
    some assigned customers' windows are not complete yet.

    Returns
    -------
    pandas.DataFrame
        ``window_days``, ``metric``, ``label``, ``unit``, ``variant``, ``control``,
        ``customers_control``, ``customers_variant``, ``value_control``, ``value_variant``,
        ``estimate`` (relative change B / A - 1), ``ci_low``, ``ci_high``, ``p_value``,
        ``p_holm`` (Holm within the experiment, whatever the method), ``p_adjusted``,
        ``significant`` (``p_adjusted < alpha``), ``partial``.
    """
    return metric_results(review, experiment_id).table


def metric_results(review: SplitTestReview, experiment_id: str) -> MetricResults:
    """:func:`metric_table` with the family its p-values are adjusted over and the split's
    sample-ratio alert.

    Returns
    -------
    MetricResults
        ``table`` and ``alpha``, ``srm_alert``, ``multiple_testing``, ``family`` (in words),
        ``family_tests``, ``family_experiments``, ``family_challengers``.
    """
    _design(review, experiment_id)
    return _cached(
        review, ("metrics", experiment_id), lambda: _metric_results(review, experiment_id)
    )


def _metric_results(review: SplitTestReview, experiment_id: str) -> MetricResults:
    from custkit.splittest.multiple_testing import benjamini_hochberg

    design = _design(review, experiment_id)
    table = _cached(
        review,
        ("metrics_unadjusted", experiment_id),
        lambda: _unadjusted_metric_table(review, experiment_id),
    )
    if review.multiple_testing == "bh":

        def family() -> tuple:  # one family: every test of every experiment reviewed
            p_values = {e: _unadjusted_p_values(review, e) for e in review.designs}
            flat = np.concatenate([np.zeros(0), *p_values.values()])
            adjusted = benjamini_hochberg(flat) if flat.size else flat
            offsets = np.cumsum([0, *(len(p) for p in p_values.values())])
            return (
                {e: adjusted[offsets[i] : offsets[i + 1]] for i, e in enumerate(p_values)},
                int(np.isfinite(flat).sum()),
                len(review.designs),
            )

        by_experiment, tests, experiments = review.cached(("benjamini_hochberg",), family)
        table["p_adjusted"] = by_experiment[experiment_id]
        described = (
            f"Benjamini–Hochberg-adjusted over the {tests} tests of the {experiments} "
            "experiments reviewed (every experiment × metric × window × challenger)"
        )
    else:
        table["p_adjusted"] = table["p_holm"]
        tests, experiments = int(table["p_value"].notna().sum()), 1
        described = (
            f"Holm-adjusted over the {tests} tests of this experiment (every metric × window"
            + (" × challenger" if len(design.challengers) > 1 else "")
            + ")"
        )
    table["significant"] = table["p_adjusted"] < review.alpha
    return MetricResults(
        table=table,
        experiment_id=experiment_id,
        alpha=review.alpha,
        srm_alert=srm_check(review, experiment_id).alert,
        multiple_testing=review.multiple_testing,
        family=described,
        family_tests=tests,
        family_experiments=experiments,
        family_challengers=len(design.challengers) > 1,
    )


def _unadjusted_p_values(review: SplitTestReview, experiment_id: str) -> np.ndarray:
    def compute() -> pd.DataFrame:
        return _unadjusted_metric_table(review, experiment_id)

    table = _cached(review, ("metrics_unadjusted", experiment_id), compute, False)
    return table["p_value"].to_numpy(dtype=float)


def _unadjusted_metric_table(review: SplitTestReview, experiment_id: str) -> pd.DataFrame:
    """The metric table with Holm's adjustment within the experiment."""
    from custkit.splittest.multiple_testing import holm

    design = _design(review, experiment_id)
    rows = []
    for w in review.windows_days:
        for metric in review.metrics:
            for variant, result, totals in _comparisons(review, experiment_id, metric, w):
                n_c = _count(totals, design.control)
                n_v = _count(totals, variant)
                rows.append(
                    {
                        "window_days": w,
                        "metric": metric,
                        "label": METRICS[metric].label,
                        "unit": METRICS[metric].unit,
                        "variant": variant,
                        "control": design.control,
                        "customers_control": n_c,
                        "customers_variant": n_v,
                        **_result_columns(result),
                        "partial": n_c + n_v
                        < _assigned_to(review, experiment_id, [design.control, variant]),
                    }
                )
    table = pd.DataFrame(rows, columns=_METRIC_COLUMNS)
    if len(table):
        table["p_holm"] = holm(table["p_value"].to_numpy(dtype=float))
    table["significant"] = table["p_holm"] < review.alpha
    return table


_METRIC_COLUMNS = [
    "window_days",
    "metric",
    "label",
    "unit",
    "variant",
    "control",
    "customers_control",
    "customers_variant",
    "value_control",
    "value_variant",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "p_holm",
    "p_adjusted",
    "significant",
    "partial",
]


def _count(totals: Mapping[str, Mapping[str, float]], variant: str) -> int:
    return int(totals[variant]["customers"]) if variant in totals else 0


def _result_columns(result: Any) -> dict[str, float]:
    if result is None:
        nan = math.nan
        return dict(
            value_control=nan,
            value_variant=nan,
            estimate=nan,
            ci_low=nan,
            ci_high=nan,
            p_value=nan,
            p_holm=nan,
        )
    return {
        "value_control": result.mean_a,
        "value_variant": result.mean_b,
        "estimate": result.estimate,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "p_value": result.p_value,
        "p_holm": math.nan,
    }


def month_table(
    review: SplitTestReview,
    experiment_id: str,
    metrics: Sequence[str] = ("conversion", "orders", "revenue"),
) -> pd.DataFrame:
    """The effect by month since exposure (month 1 = days 1–30, month 2 = days 31–60, …).

    Each month counts the customers for whom that month is complete at the as-of date, so a
    "returns in month 2" effect shows as a change in month 2 and later, none in month 1.
    *metrics* are among :data:`~custkit.splittest.metrics.MONTH_METRICS`; others are skipped.

    Returns
    -------
    pandas.DataFrame
        ``month``, ``days`` (e.g. "31–60"), ``metric``, ``label``, ``variant``, ``control``,
        ``customers_control``, ``customers_variant``, ``value_control``, ``value_variant``,
        ``estimate``, ``ci_low``, ``ci_high``, ``p_value`` (not adjusted).
    """
    return month_results(review, experiment_id, metrics).table


def month_results(
    review: SplitTestReview,
    experiment_id: str,
    metrics: Sequence[str] = ("conversion", "orders", "revenue"),
) -> MonthResults:
    """:func:`month_table` with the split's sample-ratio alert.

    Returns
    -------
    MonthResults
        ``table``, ``alpha`` and ``srm_alert``.
    """
    _design(review, experiment_id)
    key = ("months", experiment_id, tuple(metrics))
    return _cached(review, key, lambda: _month_results(review, experiment_id, metrics))


def _month_results(
    review: SplitTestReview, experiment_id: str, metrics: Sequence[str]
) -> MonthResults:
    design = _design(review, experiment_id)
    months = review.sums.months
    rows = []
    first_day = 0 if review.sums.include_exposure_day else 1
    for k in range(1, review.sums.months_count + 1):
        rows_k = months.loc[(months["experiment_id"] == experiment_id) & (months["month"] == k)]
        sums = {str(r["variant"]): r for r in rows_k.to_dict("records")}
        start = first_day if k == 1 else MONTH_DAYS * (k - 1) + 1
        for metric in (m for m in metrics if m in review.metrics and m in MONTH_METRICS):
            for variant in design.challengers:
                result = None
                if design.control in sums and variant in sums:
                    result = compare_metric(
                        metric, sums[design.control], sums[variant], alpha=review.alpha
                    )
                row = {
                    "month": k,
                    "days": f"{start}–{MONTH_DAYS * k}",
                    "metric": metric,
                    "label": METRICS[metric].label,
                    "variant": variant,
                    "control": design.control,
                    "customers_control": _count(sums, design.control),
                    "customers_variant": _count(sums, variant),
                    **_result_columns(result),
                }
                del row["p_holm"]
                rows.append(row)
    return MonthResults(
        table=pd.DataFrame(rows),
        experiment_id=experiment_id,
        alpha=review.alpha,
        srm_alert=srm_check(review, experiment_id).alert,
    )


def cuped_table(
    review: SplitTestReview, experiment_id: str, metrics: Sequence[str] = ("revenue",)
) -> pd.DataFrame:
    """Each window's result with and without the pre-exposure revenue adjustment (CUPED).

    Returns
    -------
    pandas.DataFrame
        ``window_days``, ``metric``, ``label``, ``variant``, ``estimate``, ``ci_low``,
        ``ci_high``, ``p_value`` (unadjusted), the same with ``_cuped``, ``variance_reduction``,
        ``theta`` and ``note`` (why CUPED was off, if it was).
    """
    _design(review, experiment_id)
    key = ("cuped", experiment_id, tuple(metrics))
    return _cached(review, key, lambda: _cuped_table(review, experiment_id, metrics))


def _cuped_table(
    review: SplitTestReview, experiment_id: str, metrics: Sequence[str]
) -> pd.DataFrame:
    design = _design(review, experiment_id)
    rows = []
    for w in review.windows_days:
        totals = review.totals(experiment_id, w)
        for metric in (m for m in metrics if m in review.metrics):
            for variant in design.challengers:
                if design.control not in totals or variant not in totals:
                    continue
                control, challenger = totals[design.control], totals[variant]
                plain = compare_metric(metric, control, challenger, alpha=review.alpha)
                if plain is None:
                    continue
                adjustment = cuped_adjust(metric, control, challenger)
                adjusted = compare_metric(
                    metric,
                    adjustment.control,
                    adjustment.challenger,
                    alpha=review.alpha,
                    unadjusted_means=adjustment.unadjusted_means,
                )
                rows.append(
                    {
                        "window_days": w,
                        "metric": metric,
                        "label": METRICS[metric].label,
                        "variant": variant,
                        "estimate": plain.estimate,
                        "ci_low": plain.ci_low,
                        "ci_high": plain.ci_high,
                        "p_value": plain.p_value,
                        "estimate_cuped": adjusted.estimate,
                        "ci_low_cuped": adjusted.ci_low,
                        "ci_high_cuped": adjusted.ci_high,
                        "p_value_cuped": adjusted.p_value,
                        "variance_reduction": adjustment.variance_reduction,
                        "theta": adjustment.theta,
                        "applied": adjustment.applied,
                        "note": adjustment.note,
                    }
                )
    return pd.DataFrame(rows)  # the pre-exposure days are the review's: review.sums


def bayesian_table(review: SplitTestReview, experiment_id: str) -> pd.DataFrame:
    """Probability that the challenger beats the control, and the expected loss of each choice,
    per metric at the horizon window.

    Conversion-type metrics use the exact Beta–Binomial posterior with a flat Beta(1, 1) prior;
    means use the normal approximation with a flat prior (see :mod:`custkit.splittest.bayes`).
    The ratio metric (average order value) has no Bayesian view here.

    Returns
    -------
    pandas.DataFrame
        ``metric``, ``label``, ``unit``, ``variant``, ``control``, ``prob_better``,
        ``loss_choosing_control``, ``loss_choosing_variant`` (in the metric's units: share or
        currency / orders per customer), ``prior``.
    """
    _design(review, experiment_id)
    return _cached(review, ("bayes", experiment_id), lambda: _bayesian_table(review, experiment_id))


def _bayesian_table(review: SplitTestReview, experiment_id: str) -> pd.DataFrame:
    from custkit.splittest.bayes import prob_b_beats_a_means, prob_b_beats_a_proportions

    design = _design(review, experiment_id)
    totals = review.totals(experiment_id, review.horizon_days)
    rows = []
    for metric in review.metrics:
        spec = METRICS[metric]
        if spec.kind == "ratio":
            continue
        for variant in design.challengers:
            if design.control not in totals or variant not in totals:
                continue
            a, b = totals[design.control], totals[variant]
            if min(a["customers"], b["customers"]) < 2:
                continue
            if spec.kind == "proportion":
                key = f"sum_{metric}"
                result = prob_b_beats_a_proportions(
                    round(a[key]), int(a["customers"]), round(b[key]), int(b["customers"])
                )
            else:
                result = prob_b_beats_a_means(
                    int(a["customers"]),
                    a[f"sum_{metric}"],
                    a[f"sumsq_{metric}"],
                    int(b["customers"]),
                    b[f"sum_{metric}"],
                    b[f"sumsq_{metric}"],
                )
            rows.append(
                {
                    "metric": metric,
                    "label": spec.label,
                    "unit": spec.unit,
                    "variant": variant,
                    "control": design.control,
                    "prob_better": result.prob_b_better,
                    "loss_choosing_control": result.expected_loss_a,
                    "loss_choosing_variant": result.expected_loss_b,
                    "prior": result.prior,
                }
            )
    return pd.DataFrame(rows)  # over the review's horizon_days


# ============================================================================ sequential view
def sequential_table(
    review: SplitTestReview,
    experiment_id: str,
    metric: str | None = None,
    variant: str | None = None,
) -> pd.DataFrame:
    """Monthly looks at a metric over the horizon window against O'Brien–Fleming boundaries.

    A look is taken at the end of every calendar month (and at the as-of date) over the
    customers whose horizon window was complete by then. Its information fraction is their
    share of the experiment's *planned* sample (:func:`planned_sample`), fixed once, and the
    final look (every assigned customer's window complete) spends what is left of alpha. Looks
    the previous report showed (``review.look_history``) are kept exactly as they were, boundary
    and verdict included; this review only adds the later ones, with Lan–DeMets O'Brien–Fleming
    boundaries given the frozen ones (:func:`custkit.splittest.sequential.extend_boundaries`).

    Parameters
    ----------
    metric : str, optional
        Default: the review's primary metric.
    variant : str, optional
        Challenger; default: the first.

    Returns
    -------
    pandas.DataFrame
        ``look``, ``month`` (``YYYY-MM``), ``look_date``, ``customers``,
        ``information_fraction``, ``z``, ``boundary``, ``nominal_p``, ``crossed`` (this look
        crossed), ``estimate`` (relative change at that look), ``frozen`` (kept from an earlier
        report). What the looks conclude (crossed, judge date, planned sample…) is
        :func:`sequential_looks`'s.
    """
    return sequential_looks(review, experiment_id, metric, variant).table


def sequential_looks(
    review: SplitTestReview,
    experiment_id: str,
    metric: str | None = None,
    variant: str | None = None,
) -> SequentialLooks:
    """The monthly looks of :func:`sequential_table` with what they conclude.

    Parameters
    ----------
    metric : str, optional
        Default: the review's primary metric.
    variant : str, optional
        Challenger; default: the first.

    Returns
    -------
    SequentialLooks
        The looks' ``table`` and ``crossed``, ``crossing_date``, ``judge_date``,
        ``provisional``, the planned sample and where it comes from, ``history_period``.
    """
    design = _design(review, experiment_id)
    metric = metric or review.primary_metric
    variant = variant or (design.challengers[0] if design.challengers else None)
    key = ("sequential", experiment_id, metric, variant)
    return _cached(review, key, lambda: _sequential_looks(review, experiment_id, metric, variant))


@functools.lru_cache(maxsize=256)
def _add_looks(
    customers: tuple[int, ...],
    planned: float,
    frozen_fractions: tuple[float, ...],
    frozen_boundaries: tuple[float, ...],
    final: bool,
    alpha: float,
):
    """:func:`custkit.splittest.sequential.add_looks`, once per set of looks: every metric of
    an experiment shares its customers, so its fractions and boundaries."""
    from custkit.splittest.sequential import add_looks

    return add_looks(customers, planned, frozen_fractions, frozen_boundaries, final, alpha)


def planned_sample(review: SplitTestReview, experiment_id: str) -> tuple[int | None, str | None]:
    """The experiment's planned sample (customers in all variants) and where it comes from.

    In this order: the params (``planned_customers``); the previous report's looks, which kept
    the sample they used; else an estimate at the first look, which the report saves and the
    next one keeps: the customers a test of the primary metric needs to detect a change of
    ``planned_lift`` with power 0.8 at ``alpha`` (as the planning table sizes tests), from the
    variance of the customers in that look. None (no look yet, or no variance to size from):
    no look before the final one can stop the test.

    Returns
    -------
    (int or None, str or None)
        The sample and ``"params"``, ``"history"`` or ``"first look"``.
    """
    design = _design(review, experiment_id)
    if design.planned_customers is not None:
        return design.planned_customers, "params"
    frozen = _look_history(review, experiment_id)
    if frozen.get("planned_customers"):
        return int(frozen["planned_customers"]), "history"
    estimate = review.cached(
        ("planned_sample", experiment_id), lambda: _estimated_sample(review, experiment_id)
    )
    return (estimate, "first look") if estimate is not None else (None, None)


def _estimated_sample(review: SplitTestReview, experiment_id: str) -> int | None:
    from custkit.splittest.planning import sample_size_means, sample_size_proportions

    design = _design(review, experiment_id)
    if not design.challengers:
        return None
    variant = design.challengers[0]
    metric = review.primary_metric
    if METRICS[metric].kind == "ratio":  # a ratio has no per-customer variance: size on revenue
        metric = "revenue"
    _, sums_control, sums_variant, _ = _cumulative(review, experiment_id, variant)
    shares = dict(zip(design.variants, design.planned_shares, strict=True))
    ratio = shares[variant] / shares[design.control]
    lift = review.planned_lift
    for a, b in zip(sums_control, sums_variant, strict=True):
        if min(a["customers"], b["customers"]) < 2:
            continue
        n = a["customers"] + b["customers"]
        total = a[f"sum_{metric}"] + b[f"sum_{metric}"]
        mean = total / n
        if METRICS[metric].kind == "proportion":
            if not (0 < mean < 1 and 0 < mean * (1 + lift) < 1):
                return None
            size = sample_size_proportions(mean, lift, review.alpha, 0.8, ratio)
        else:
            squares = a[f"sumsq_{metric}"] + b[f"sumsq_{metric}"]
            variance = (squares - total * mean) / (n - 1)
            if not (mean > 0 and variance > 0):
                return None
            size = sample_size_means(math.sqrt(variance), lift * mean, review.alpha, 0.8, ratio)
        return math.ceil(size.n_total / (shares[design.control] + shares[variant]))
    return None


def _look_history(review: SplitTestReview, experiment_id: str) -> Mapping[str, Any]:
    """The experiment's entry in the previous report's looks, when it was judged the same way
    (same alpha and horizon); otherwise none: its looks would answer another question."""
    entry = review.look_history.get(experiment_id) or {}
    same = entry.get("alpha") == review.alpha and entry.get("horizon_days") == review.horizon_days
    return entry if same else {}


def _sequential_looks(
    review: SplitTestReview, experiment_id: str, metric: str, variant: str | None
) -> SequentialLooks:
    design = _design(review, experiment_id)
    judge = judge_date(review, experiment_id)
    planned, planned_from = planned_sample(review, experiment_id)
    history = _look_history(review, experiment_id)
    columns = ["look", "month", "look_date", "customers", "information_fraction", "z"]
    columns += ["boundary", "nominal_p", "crossed", "estimate", "frozen"]
    frozen = [
        dict(look, look_date=pd.Timestamp(look["look_date"]), frozen=True)
        for look in history.get("looks", {}).get(str(variant), {}).get(metric, [])
    ]
    looks = frozen + _new_looks(review, experiment_id, metric, variant, planned, frozen, judge)
    for number, look in enumerate(looks, start=1):
        look["look"] = number
    # as sequential_check: the first look that crossed, never undone
    crossing = next((look for look in looks if look["crossed"]), None)
    table = pd.DataFrame(looks, columns=columns)
    if table.empty:  # Timestamps make a datetime column by themselves
        table["look_date"] = pd.to_datetime(table["look_date"])
    return SequentialLooks(
        table=table,
        experiment_id=experiment_id,
        metric=metric,
        variant=variant,
        control=design.control,
        crossed=crossing is not None,
        crossing_date=crossing["look_date"] if crossing is not None else None,
        crossing_z=crossing["z"] if crossing is not None else None,
        judge_date=judge,
        # the planned sample is in (the last look's fraction is 1): final
        provisional=(judge is None or review.as_of < judge)
        and not (looks and looks[-1]["information_fraction"] >= 1.0),
        alpha=review.alpha,
        window_days=review.horizon_days,
        srm_alert=srm_check(review, experiment_id).alert,
        planned_customers=planned,
        planned_from=planned_from,
        planned_origin=history.get("planned_from") if planned_from == "history" else planned_from,
        planned_lift=review.planned_lift,
        history_period=history.get("period"),
        records=tuple(looks),
    )


def _look_records(
    review: SplitTestReview, experiment_id: str, metric: str, variant: str | None
) -> tuple[dict, ...]:
    """The rows of :func:`sequential_table` as plain dicts."""
    key = ("sequential", experiment_id, metric, variant)
    looks = review.cached(
        key, lambda: _sequential_looks(review, experiment_id, metric, variant), False
    )
    return looks.records


def _new_looks(
    review: SplitTestReview,
    experiment_id: str,
    metric: str,
    variant: str | None,
    planned: int | None,
    frozen: list[dict],
    judge: pd.Timestamp | None,
) -> list[dict]:
    """The looks after the frozen ones, with their fractions and boundaries."""
    from custkit.splittest.sequential import crossed_boundaries

    design = _design(review, experiment_id)
    last_month = frozen[-1]["month"] if frozen else ""
    looks = [
        look
        for look in _looks(review, experiment_id, metric, design.control, variant)
        if look["month"] > last_month
    ]
    final = judge is not None and review.as_of >= judge
    if planned is None:  # no sample to measure information by: only the final look counts
        looks = looks[-1:] if final else []
        planned = looks[-1]["customers"] if looks else 1
    if not looks:
        return []
    shares = dict(zip(design.variants, design.planned_shares, strict=True))
    added = _add_looks(
        tuple(look["customers"] for look in looks),
        planned * (shares[design.control] + shares[str(variant)]),
        tuple(look["information_fraction"] for look in frozen),
        tuple(look["boundary"] for look in frozen),
        final,
        review.alpha,
    )
    boundaries = added.boundaries
    kept = [dict(look) for look, keep in zip(looks, added.kept, strict=True) if keep]
    z = np.array([look["z"] for look in frozen + kept])
    new = slice(len(frozen), None)  # the frozen looks keep what they said
    for look, fraction, boundary, nominal, hit in zip(
        kept,
        boundaries.information_fractions[new],
        boundaries.z_boundaries[new],
        boundaries.nominal_p_values[new],
        crossed_boundaries(z, boundaries)[new],
        strict=True,
    ):
        look.update(
            information_fraction=float(fraction),
            boundary=float(boundary),
            nominal_p=float(nominal),
            crossed=bool(hit),
            frozen=False,
        )
    return kept


def _cumulative(
    review: SplitTestReview, experiment_id: str, variant: str
) -> tuple[list[pd.Period], list[dict], list[dict], int]:
    control = _design(review, experiment_id).control
    return review.cached(
        ("cumulative", experiment_id, control, variant),
        lambda: _cumulative_sums(review, experiment_id, control, variant),
    )


def _cumulative_sums(
    review: SplitTestReview, experiment_id: str, control: str, variant: str
) -> tuple[list[pd.Period], list[dict], list[dict], int]:
    """Months, the two variants' sums over the horizon window cumulated by completion month,
    and the customers assigned to them."""
    by_variant = _horizon_by_month(review).get(experiment_id, {})
    if control not in by_variant or variant not in by_variant:
        return [], [], [], 0
    first = min(min(by_variant[v]) for v in (control, variant))
    last = max(max(by_variant[v]) for v in (control, variant))
    months = list(pd.period_range(first, last, freq="M"))
    columns = ["customers", *review.sums.sum_columns]
    cumulated = []
    for v in (control, variant):
        running = dict.fromkeys(columns, 0.0)
        series = []
        for month in months:
            row = by_variant[v].get(month)
            if row is not None:
                running = {c: running[c] + float(row[c]) for c in columns}
            series.append(running)
        cumulated.append(series)
    total = _assigned_to(review, experiment_id, [control, variant])
    return months, *cumulated, total


def _horizon_by_month(review: SplitTestReview) -> dict:
    """experiment → variant → completion month → sums over the horizon window (plain dicts)."""

    def compute() -> dict:
        windows = review.sums.windows
        rows = windows.loc[windows["window_days"] == review.horizon_days]
        nested: dict = {}
        for row in rows.to_dict("records"):
            experiment = nested.setdefault(str(row["experiment_id"]), {})
            experiment.setdefault(str(row["variant"]), {})[row["completed_month"]] = row
        return nested

    return review.cached(("horizon_by_month",), compute)


def _looks(
    review: SplitTestReview, experiment_id: str, metric: str, control: str, variant: str | None
) -> list[dict]:
    """Cumulative sums by completion month → one comparison per monthly look that adds
    customers (information fractions are set by :func:`_new_looks`).

    A look's z is the statistic of the relative change B / A − 1, the comparison the report
    shows with its interval: the verdict and the interval share one standard error on one scale,
    so a "ship B" never stands beside an interval of the change that holds 0. A look where the
    control's mean is 0 (no relative change) is skipped."""
    if variant is None:
        return []
    months, sums_control, sums_variant, _ = _cumulative(review, experiment_id, variant)
    looks, previous = [], 0
    for month, a, b in zip(months, sums_control, sums_variant, strict=True):
        customers = int(a["customers"] + b["customers"])
        if customers <= previous:
            continue
        result = compare_metric(metric, a, b, alpha=review.alpha)
        if result is None or not math.isfinite(result.statistic):
            continue
        looks.append(
            {
                "month": str(month),
                "look_date": min(month.end_time.normalize(), review.as_of),
                "customers": customers,
                "z": float(result.statistic),
                "estimate": float(result.estimate),
            }
        )
        previous = customers
    return looks
