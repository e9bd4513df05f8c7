"""The steps of the split-test report: design check, metrics by window and by month since
exposure, CUPED, the Bayesian and sequential views, and a verdict in plain words.

Each function here is what one part of ``notebooks/splittest.ipynb`` calls, so the notebook stays
a sequence of calls and an analyst can run the same steps on their own data:
:func:`review_experiments` checks the assignments and reduces every customer's purchases once;
the other functions take its result and one experiment id.

How a test is judged
--------------------
Every experiment is judged on one pre-declared *primary metric* (revenue per customer by default)
over the *horizon* window (90 days: the source articles' "judge after about three months",
because customers who return in month 2 often buy more). The test is looked at every month, so
the decision uses group-sequential boundaries (Lan–DeMets O'Brien–Fleming alpha spending over
monthly looks; the information fraction of a look is the share of assigned customers whose
horizon window was complete by then). The verdict (:func:`verdict`):

1. **sample-ratio mismatch** — the variants' sizes do not fit the planned split
   (chi-square p < ``srm_alpha``, 0.001): the assignment or the tracking is broken and no metric
   of the test can be trusted; every metric carries the warning.
2. **ship B** / **keep A** — the primary metric's z crossed its boundary at some look: B better,
   or B worse.
3. **no difference detected** — every assigned customer's horizon window is complete and the
   boundary was never crossed.
4. **too early — judge on <date>** — otherwise; the date is the last exposure plus the horizon.
   Until then every result is provisional.

Each metric gets a verdict by the same rules (``splittest.kpis.json``); only the primary metric's
decides. The metric tables add Holm-adjusted p-values over a stated family: every metric × window
× challenger of one experiment.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from custkit.errors import ParamsError, did_you_mean
from custkit.findings import Finding
from custkit.i18n import _, format_message, format_value, n_
from custkit.splittest.design import ExperimentDesign, experiment_designs
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

MINUS = "\u2212"
VerdictCode = Literal["ship", "keep_control", "no_difference", "too_early", "srm"]
_VERDICT_LEVELS = {
    "ship": "good",
    "keep_control": "warning",
    "no_difference": "info",
    "too_early": "info",
    "srm": "bad",
}


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

    Returns
    -------
    SplitTestReview
    """
    alpha = _check_level("alpha", alpha)
    srm_alpha = _check_level("srm_alpha", srm_alpha)
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 1:
        raise ParamsError(f"horizon_days must be a whole number >= 1. Got {horizon_days!r}.")
    windows = tuple(sorted({*_check_windows(windows_days), horizon_days}))
    designs = experiment_designs(experiments, planned_splits, include)
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
    )
    available = [m for m in METRICS if m != "margin" or sums.has_margin]
    chosen = tuple(available if metrics is None else metrics)
    for metric in (*chosen, primary_metric):
        if metric not in available:
            why = " (orders have no cost column)" if metric == "margin" else ""
            raise ParamsError(
                f"metric must be one of {available}{why}. Got {metric!r} instead."
                + did_you_mean(str(metric), available)
            )
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
        _totals=_totals_by_experiment(sums),
    )


def _cached(
    review: SplitTestReview, key: tuple, compute: Callable[[], Any], copy: bool = True
) -> Any:
    """*compute()* once per review and key: the verdicts, the summary, the KPIs and the sections
    all read the same tables. Frames are copied out (``copy``), so a caller may modify its own;
    this module's own readers take the stored frame."""
    if key not in review._cache:
        # Undefined results (a control rate of 0 in a young test…) are NaN and shown as "—";
        # the warning that says so is for analysts calling the statistics directly.
        with warnings.catch_warnings():
            from custkit.splittest.inputs import SplitTestWarning

            warnings.simplefilter("ignore", SplitTestWarning)
            review._cache[key] = compute()
    value = review._cache[key]
    if copy and isinstance(value, pd.DataFrame):
        copy = value.copy()
        copy.attrs = dict(value.attrs)
        return copy
    return value


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
    key = ("srm", experiment_id)
    if key not in review._cache:
        counts = [_assigned_to(review, experiment_id, [v]) for v in design.variants]
        review._cache[key] = (
            math.nan
            if len(design.variants) < 2 or sum(counts) == 0
            else srm_test(counts, list(design.planned_shares))
        )
    return review._cache[key]


def _exposure(review: SplitTestReview, experiment_id: str) -> dict[str, dict[str, Any]]:
    """Per variant: ``customers`` (valid assignments), ``first_exposure``, ``last_exposure``."""
    key = ("exposure",)
    if key not in review._cache:
        by_experiment: dict = {}
        for row in review.sums.exposure.to_dict("records"):
            by_experiment.setdefault(str(row["experiment_id"]), {})[str(row["variant"])] = row
        review._cache[key] = by_experiment
    return review._cache[key].get(experiment_id, {})


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
        ``attrs``: ``srm_p_value``, ``srm_alert``.
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
    p = srm_p_value(review, experiment_id)
    table.attrs.update(srm_p_value=p, srm_alert=bool(p < review.srm_alpha))
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
    p-value and Holm-adjusted p-value.

    The Holm family is every metric × window × challenger of this experiment (stated in
    ``attrs["family"]``). A window is ``partial`` while some assigned customers' windows are not
    complete yet.

    Returns
    -------
    pandas.DataFrame
        ``window_days``, ``metric``, ``label``, ``unit``, ``variant``, ``control``,
        ``customers_control``, ``customers_variant``, ``value_control``, ``value_variant``,
        ``estimate`` (relative change B / A - 1), ``ci_low``, ``ci_high``, ``p_value``,
        ``p_holm``, ``significant`` (Holm p < alpha), ``partial``.
    """
    _design(review, experiment_id)
    return _cached(review, ("metrics", experiment_id), lambda: _metric_table(review, experiment_id))


def _metric_table(review: SplitTestReview, experiment_id: str) -> pd.DataFrame:
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
    tests = int(table["p_value"].notna().sum())
    table.attrs.update(
        family=(
            f"Holm-adjusted over the {tests} tests of this experiment (every metric × window"
            + (" × challenger" if len(design.challengers) > 1 else "")
            + ")"
        ),
        family_tests=tests,
        family_challengers=len(design.challengers) > 1,
        srm_alert=bool(srm_p_value(review, experiment_id) < review.srm_alpha),
        alpha=review.alpha,
        experiment_id=experiment_id,
    )
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
    _design(review, experiment_id)
    key = ("months", experiment_id, tuple(metrics))
    return _cached(review, key, lambda: _month_table(review, experiment_id, metrics))


def _month_table(
    review: SplitTestReview, experiment_id: str, metrics: Sequence[str]
) -> pd.DataFrame:
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
    table = pd.DataFrame(rows)
    table.attrs.update(
        srm_alert=bool(srm_p_value(review, experiment_id) < review.srm_alpha),
        alpha=review.alpha,
        experiment_id=experiment_id,
    )
    return table


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
                    metric, adjustment.control, adjustment.challenger, alpha=review.alpha
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
    table = pd.DataFrame(rows)
    table.attrs.update(pre_exposure_days=review.sums.pre_exposure_days)
    return table


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
    table = pd.DataFrame(rows)
    table.attrs.update(window_days=review.horizon_days)
    return table


# ============================================================================ sequential view
def sequential_table(
    review: SplitTestReview,
    experiment_id: str,
    metric: str | None = None,
    variant: str | None = None,
) -> pd.DataFrame:
    """Monthly looks at a metric over the horizon window against O'Brien–Fleming boundaries.

    A look is taken at the end of every calendar month (and at the as-of date) over the
    customers whose horizon window was complete by then; its information fraction is their share
    of all customers assigned. Boundaries follow Lan–DeMets O'Brien–Fleming alpha spending, so
    looking every month keeps the false-positive rate at alpha.

    Parameters
    ----------
    metric : str, optional
        Default: the review's primary metric.
    variant : str, optional
        Challenger; default: the first.

    Returns
    -------
    pandas.DataFrame
        ``look``, ``look_date``, ``customers``, ``information_fraction``, ``z``, ``boundary``,
        ``nominal_p``, ``crossed`` (this look crossed), ``estimate`` (relative change at that
        look). ``attrs``: ``metric``, ``variant``, ``control``, ``crossed``, ``crossing_date``,
        ``judge_date``, ``provisional``, ``alpha``.
    """
    design = _design(review, experiment_id)
    metric = metric or review.primary_metric
    variant = variant or (design.challengers[0] if design.challengers else None)
    key = ("sequential", experiment_id, metric, variant)
    return _cached(review, key, lambda: _sequential_table(review, experiment_id, metric, variant))


@functools.lru_cache(maxsize=256)
def _obf_boundaries(fractions: tuple[float, ...], alpha: float):
    """The boundaries of one set of looks: every metric of an experiment shares its fractions."""
    from custkit.splittest.sequential import obrien_fleming_boundaries

    return obrien_fleming_boundaries(fractions, alpha)


def _sequential_table(
    review: SplitTestReview, experiment_id: str, metric: str, variant: str | None
) -> pd.DataFrame:
    design = _design(review, experiment_id)
    judge = judge_date(review, experiment_id)
    attrs = {
        "metric": metric,
        "variant": variant,
        "control": design.control,
        "crossed": False,
        "crossing_date": None,
        "judge_date": judge,
        "provisional": judge is None or review.as_of < judge,
        "alpha": review.alpha,
        "window_days": review.horizon_days,
        "srm_alert": bool(srm_p_value(review, experiment_id) < review.srm_alpha),
        "experiment_id": experiment_id,
    }
    columns = ["look", "look_date", "customers", "information_fraction", "z", "boundary"]
    columns += ["nominal_p", "crossed", "estimate"]
    looks = _looks(review, experiment_id, metric, design.control, variant)
    if looks:
        fractions = tuple(look["information_fraction"] for look in looks)
        boundaries = _obf_boundaries(fractions, review.alpha)
        for look, boundary, nominal in zip(
            looks, boundaries.z_boundaries, boundaries.nominal_p_values, strict=True
        ):
            look.update(
                boundary=float(boundary),
                nominal_p=float(nominal),
                crossed=bool(abs(look["z"]) >= boundary),
            )
        crossing = next((look for look in looks if look["crossed"]), None)
        if crossing is not None:  # as sequential_check: the first look that crossed
            attrs.update(
                crossed=True, crossing_date=crossing["look_date"], crossing_z=crossing["z"]
            )
    table = pd.DataFrame(looks, columns=columns)
    table.attrs.update(attrs)
    return table


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
    key = ("horizon_by_month",)
    if key not in review._cache:
        windows = review.sums.windows
        rows = windows.loc[windows["window_days"] == review.horizon_days]
        nested: dict = {}
        for row in rows.to_dict("records"):
            experiment = nested.setdefault(str(row["experiment_id"]), {})
            experiment.setdefault(str(row["variant"]), {})[row["completed_month"]] = row
        review._cache[key] = nested
    return review._cache[key]


def _looks(
    review: SplitTestReview, experiment_id: str, metric: str, control: str, variant: str | None
) -> list[dict]:
    """Cumulative sums by completion month → one comparison per monthly look."""
    if variant is None:
        return []
    key = ("cumulative", experiment_id, control, variant)
    if key not in review._cache:
        review._cache[key] = _cumulative_sums(review, experiment_id, control, variant)
    months, sums_control, sums_variant, total = review._cache[key]
    looks, previous = [], 0.0
    for month, a, b in zip(months, sums_control, sums_variant, strict=True):
        result = compare_metric(metric, a, b, alpha=review.alpha, relative=False)
        customers = int(a["customers"] + b["customers"])
        fraction = customers / total
        if result is None or not math.isfinite(result.statistic) or fraction <= previous:
            continue
        relative = compare_metric(metric, a, b, alpha=review.alpha)
        looks.append(
            {
                "look": len(looks) + 1,
                "look_date": min(month.end_time.normalize(), review.as_of),
                "customers": customers,
                "information_fraction": min(fraction, 1.0),
                "z": result.statistic,
                "estimate": relative.estimate,
            }
        )
        previous = fraction
    return looks


# ============================================================================ verdicts
@dataclass(frozen=True)
class Verdict:
    """What to do with one experiment (or one metric of it), in plain words.

    Attributes
    ----------
    experiment_id : str
    code : {"ship", "keep_control", "no_difference", "too_early", "srm"}
    text : str
        "ship B", "keep A", "no difference detected", "too early — judge on 2026-12-01" or
        "sample-ratio mismatch — fix the split before judging".
    metric, variant, control : str
        The metric and challenger the verdict rests on (variant None without a challenger).
    judge_date : pandas.Timestamp or None
        When every assigned customer's horizon window is complete.
    provisional : bool
        The as-of date is before ``judge_date``.
    estimate, ci_low, ci_high, p_value : float
        The relative change at the horizon window (customers complete so far) and its test.
    srm_p_value : float
    crossing_date : pandas.Timestamp or None
        The look at which the sequential boundary was crossed.
    """

    experiment_id: str
    code: VerdictCode
    text: str
    metric: str
    variant: str | None
    control: str
    judge_date: pd.Timestamp | None
    provisional: bool
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    srm_p_value: float
    crossing_date: pd.Timestamp | None = None

    @property
    def label(self) -> str:
        """:attr:`text` in the report language, as the page shows it ("внедрять B"); ``text``
        itself stays English for ``splittest.kpis.json``."""
        if self.code == "srm":
            return _("sample-ratio mismatch — fix the split before judging")
        if self.code == "ship":
            return _("ship {variant}", variant=self.variant)
        if self.code == "keep_control":
            return _("keep {control}", control=self.control)
        if self.code == "no_difference":
            return _("no difference detected")
        if self.variant is None:
            return _("too early — the experiment has a single variant so far")
        if self.judge_date is None:
            return _("too early to judge")
        return _("too early — judge on {date:%Y-%m-%d}", date=self.judge_date)


def _metric_rows(review: SplitTestReview, experiment_id: str) -> dict[tuple, dict]:
    """(window, metric, variant) → that row of :func:`metric_table`."""
    key = ("metric_rows", experiment_id)
    if key not in review._cache:
        table = _cached(
            review, ("metrics", experiment_id), lambda: _metric_table(review, experiment_id), False
        )
        review._cache[key] = {
            (row["window_days"], row["metric"], row["variant"]): row
            for row in table.to_dict("records")
        }
    return review._cache[key]


def metric_verdict(
    review: SplitTestReview,
    experiment_id: str,
    metric: str | None = None,
    variant: str | None = None,
) -> Verdict:
    """The verdict on one metric of one experiment (default: the primary metric, the first
    challenger), by the rules of this module's docstring."""
    design = _design(review, experiment_id)
    metric = metric or review.primary_metric
    variant = variant or (design.challengers[0] if design.challengers else None)
    numbers = _metric_rows(review, experiment_id).get((review.horizon_days, metric, variant), {})
    looks = _cached(
        review,
        ("sequential", experiment_id, metric, variant),
        lambda: _sequential_table(review, experiment_id, metric, variant),
        False,
    )
    srm = srm_p_value(review, experiment_id)
    judge = looks.attrs["judge_date"]
    if srm < review.srm_alpha:
        code, text = "srm", "sample-ratio mismatch — fix the split before judging"
    elif looks.attrs["crossed"] and looks.attrs["crossing_z"] > 0:
        code, text = "ship", f"ship {variant}"
    elif looks.attrs["crossed"]:
        code, text = "keep_control", f"keep {design.control}"
    elif variant is not None and not looks.attrs["provisional"]:
        code, text = "no_difference", "no difference detected"
    elif variant is None:
        code, text = "too_early", "too early — the experiment has a single variant so far"
    else:
        code, text = "too_early", f"too early — judge on {judge:%Y-%m-%d}"
    return Verdict(
        experiment_id=experiment_id,
        code=code,
        text=text,
        metric=metric,
        variant=variant,
        control=design.control,
        judge_date=judge,
        provisional=bool(looks.attrs["provisional"]),
        estimate=float(numbers.get("estimate", math.nan)),
        ci_low=float(numbers.get("ci_low", math.nan)),
        ci_high=float(numbers.get("ci_high", math.nan)),
        p_value=float(numbers.get("p_value", math.nan)),
        srm_p_value=srm,
        crossing_date=looks.attrs["crossing_date"],
    )


def verdict(review: SplitTestReview, experiment_id: str) -> Verdict:
    """The experiment's verdict: its primary metric's, over all challengers.

    With several challengers, the best one that crossed its boundary upwards is shipped; the
    control is kept when every challenger crossed downwards; otherwise the test is too early
    while any challenger is, else no difference was detected.
    """
    _design(review, experiment_id)
    return _cached(review, ("verdict", experiment_id), lambda: _verdict(review, experiment_id))


def _verdict(review: SplitTestReview, experiment_id: str) -> Verdict:
    design = _design(review, experiment_id)
    verdicts = [
        metric_verdict(review, experiment_id, review.primary_metric, v) for v in design.challengers
    ] or [metric_verdict(review, experiment_id, review.primary_metric, None)]
    for code in ("srm", "ship"):
        chosen = [v for v in verdicts if v.code == code]
        if chosen:
            return max(chosen, key=lambda v: v.estimate if math.isfinite(v.estimate) else -1e300)
    if all(v.code == "keep_control" for v in verdicts):
        return verdicts[0]
    return next((v for v in verdicts if v.code == "too_early"), verdicts[0])


# ============================================================================ findings
def _pct(value: float, sign: bool = True) -> str:
    if not math.isfinite(value):
        return "—"
    value = 0.0 if abs(value) < 0.0005 else value  # no "−0.0%"
    return format_value(value, "+.1%" if sign else ".1%").replace("-", MINUS)


def _p_is(value: float) -> str:
    """``p = 0.123`` or ``p < 0.001``, for sentences."""
    text = _p(value)
    return f"p {text[0]} {text[1:]}" if text.startswith("<") else f"p = {text}"


def _p(value: float) -> str:
    if not math.isfinite(value):
        return "—"
    return "<" + format_value(0.001, ".3f") if value < 0.001 else format_value(value, ".3f")


def label_shown(text: object) -> str:
    """One of custkit's own English labels (a metric's, a reason's, a note) in the report
    language."""
    return _(str(text))


def metric_name(metric: str) -> str:
    """A metric's label in the report language, for the middle of a sentence
    ("revenue per customer", "выручка на клиента"; "AOV" keeps its capitals)."""
    label = label_shown(METRICS[metric].label)
    return label[:1].lower() + label[1:]


def _change_words(review: SplitTestReview, result: Verdict) -> str:
    """The primary metric's change at the horizon, as a clause of the verdict's sentences."""
    if not math.isfinite(result.estimate):
        return _("no customer's {days}-day window is complete yet", days=review.horizon_days)
    return n_(
        "{metric} over {n} day: {variant} {change} vs {control} "
        "({confidence:.0%} CI {low} … {high})",
        "{metric} over {n} days: {variant} {change} vs {control} "
        "({confidence:.0%} CI {low} … {high})",
        review.horizon_days,
        metric=metric_name(result.metric),
        variant=result.variant,
        change=_pct(result.estimate),
        control=result.control,
        confidence=1 - review.alpha,
        low=_pct(result.ci_low),
        high=_pct(result.ci_high),
    )


def verdict_finding(review: SplitTestReview, result: Verdict) -> Finding:
    """The verdict of one experiment as a finding: what to do and the numbers behind it."""
    h = review.horizon_days
    change = _change_words(review, result)
    if result.code == "srm":
        conclusion = _(
            "The variants' sizes do not match the planned split (sample-ratio test {p}), so no "
            "result of this test can be trusted; {change}.",
            p=_p_is(result.srm_p_value),
            change=change,
        )
        action = _(
            "Find why customers went missing from one variant (assignment, tracking, filters "
            "applied after assignment), fix it and restart the test; do not act on these numbers."
        )
    elif result.code in ("ship", "keep_control"):
        fields = dict(
            variant=result.variant,
            control=result.control,
            change=change,
            date=result.crossing_date,
        )
        if result.code == "ship":
            conclusion = _(
                "{variant} is better than {control} on {change}; the monthly-look boundary was "
                "crossed on {date:%Y-%m-%d}.",
                **fields,
            )
            action = _("Roll out {variant} to everyone.", variant=result.variant)
        else:
            conclusion = _(
                "{variant} is worse than {control} on {change}; the monthly-look boundary was "
                "crossed on {date:%Y-%m-%d}.",
                **fields,
            )
            action = _(
                "Stop {variant} and keep {control}.",
                variant=result.variant,
                control=result.control,
            )
    elif result.code == "no_difference":
        conclusion = _(
            "Every customer's {days}-day window is complete and no difference was detected on "
            "{change}.",
            days=h,
            change=change,
        )
        action = _(
            "Keep the cheaper or simpler variant; a smaller effect than the interval's edges "
            "would need a larger test (see planning)."
        )
    elif result.judge_date is not None:
        conclusion = n_(
            "Provisional: {change}. Customers are judged over {n} day from exposure, and the "
            "last assigned customers complete theirs on {date:%Y-%m-%d}.",
            "Provisional: {change}. Customers are judged over {n} days from exposure, and the "
            "last assigned customers complete theirs on {date:%Y-%m-%d}.",
            h,
            change=change,
            date=result.judge_date,
        )
        action = _(
            "Do not stop the test on these numbers; look again next month and judge on "
            "{date:%Y-%m-%d} (earlier only if the monthly-look boundary is crossed).",
            date=result.judge_date,
        )
    else:
        conclusion = n_(
            "Provisional: {change}. Customers are judged over {n} day from exposure.",
            "Provisional: {change}. Customers are judged over {n} days from exposure.",
            h,
            change=change,
        )
        action = _(
            "Do not stop the test on these numbers; look again next month (earlier only if the "
            "monthly-look boundary is crossed)."
        )
    return Finding(
        f"{result.experiment_id}: {result.label}", conclusion, action, _VERDICT_LEVELS[result.code]
    )


def design_finding(review: SplitTestReview, experiment_id: str) -> Finding:
    """Sizes and split of one experiment, and the assignment rows set aside."""
    design = _design(review, experiment_id)
    table = design_check(review, experiment_id)
    shares = " / ".join(
        f"{v} {_pct(s, sign=False)}"
        for v, s in zip(table["variant"], table["actual_share"], strict=True)
    )
    planned = " / ".join(format_value(s, ".0%") for s in design.planned_shares)
    basis = _("as planned in the params") if design.planned else _("equal shares assumed")
    p = table.attrs["srm_p_value"]
    first, last = table["first_exposure"].min(), table["last_exposure"].max()
    accounting = review.assignments.accounting.set_index("experiment_id")["rejected"]
    rejected = int(accounting.get(experiment_id, 0))
    customers = int(table["customers"].sum())
    fields = dict(shares=shares, planned=planned, basis=basis, p=_p_is(p))
    if pd.notna(first) and first.normalize() == last.normalize():
        conclusion = n_(
            "{n:,} customer exposed on {first:%Y-%m-%d}; split {shares} against {planned} "
            "({basis}); sample-ratio test {p}.",
            "{n:,} customers exposed on {first:%Y-%m-%d}; split {shares} against {planned} "
            "({basis}); sample-ratio test {p}.",
            customers,
            first=first,
            **fields,
        )
    elif pd.notna(first):
        conclusion = n_(
            "{n:,} customer exposed {first:%Y-%m-%d} … {last:%Y-%m-%d}; split {shares} against "
            "{planned} ({basis}); sample-ratio test {p}.",
            "{n:,} customers exposed {first:%Y-%m-%d} … {last:%Y-%m-%d}; split {shares} against "
            "{planned} ({basis}); sample-ratio test {p}.",
            customers,
            first=first,
            last=last,
            **fields,
        )
    else:
        conclusion = n_(
            "{n:,} customer exposed (no exposures); split {shares} against {planned} ({basis}); "
            "sample-ratio test {p}.",
            "{n:,} customers exposed (no exposures); split {shares} against {planned} "
            "({basis}); sample-ratio test {p}.",
            customers,
            **fields,
        )
    if rejected:
        conclusion += " " + n_(
            "{n:,} assignment row was set aside (see the table of bad assignments).",
            "{n:,} assignment rows were set aside (see the table of bad assignments).",
            rejected,
        )
    if table.attrs["srm_alert"]:
        return Finding(
            _("Design check: sample-ratio mismatch"),
            conclusion,
            _("Treat every number of this test as broken until the cause is found."),
            "bad",
        )
    return Finding(
        _("Design check"),
        conclusion,
        _("Nothing to fix in the split.") if not rejected else _("Check why rows were set aside."),
        "warning" if rejected else "good",
    )


def srm_banner(review: SplitTestReview, experiment_id: str) -> str:
    """The warning to put on every metric of a test with a sample-ratio mismatch, else ``""``."""
    p = srm_p_value(review, experiment_id)
    if not p < review.srm_alpha:
        return ""
    return _(
        "Sample-ratio mismatch in {experiment} ({p}): the split is broken, so this result "
        "cannot be trusted.",
        experiment=experiment_id,
        p=_p_is(p),
    )


# ============================================================================ overview
#: Report order: what needs attention first.
_VERDICT_ORDER = ("srm", "ship", "keep_control", "too_early", "no_difference")


def report_order(review: SplitTestReview) -> list[str]:
    """The experiments in the order the report shows them: as listed in the params when they
    are, else what needs attention first (a broken split, a verdict to act on, tests still
    running, tests without a difference), the most recent exposure first within each."""
    if review.include:
        return review.experiment_ids

    def key(experiment_id: str) -> tuple[int, float]:
        code = verdict(review, experiment_id).code
        rows = review.sums.exposure.loc[review.sums.exposure["experiment_id"] == experiment_id]
        first = rows["first_exposure"].min()
        return _VERDICT_ORDER.index(code), -(first.value if pd.notna(first) else 0)

    return sorted(review.experiment_ids, key=key)


def summary_table(review: SplitTestReview) -> pd.DataFrame:
    """One row per experiment, in :func:`report_order`: customers, exposure period, SRM, the
    primary metric at the horizon and the verdict."""
    rows = []
    for experiment_id in report_order(review):
        design = review.designs[experiment_id]
        result = verdict(review, experiment_id)
        exposure = review.sums.exposure
        rows_e = exposure.loc[exposure["experiment_id"] == experiment_id]
        rows.append(
            {
                "experiment": experiment_id,
                "variants": " / ".join(design.variants),
                "customers": int(rows_e["customers"].sum()),
                "exposed_from": rows_e["first_exposure"].min(),
                "exposed_to": rows_e["last_exposure"].max(),
                "srm_p": _p(result.srm_p_value),
                f"{review.primary_metric}_change": result.estimate,
                "verdict": result.text,
            }
        )
    return pd.DataFrame(rows)


def overview_finding(review: SplitTestReview) -> Finding:
    """How many experiments can be acted on, and which are broken or too young."""
    if not review.designs:
        return Finding(
            _("Split tests"),
            _("The store has no split-test assignments to review."),
            _(
                "Add an 'experiments' source (experiment_id, customer_id, variant, assigned_at) "
                "to the params file."
            ),
            "info",
        )
    codes = [verdict(review, e).code for e in review.designs]
    count = {c: codes.count(c) for c in _VERDICT_LEVELS}
    words = {
        "srm": lambda n: _("{n} with a broken split", n=n),
        "ship": lambda n: _("{n} ready to ship", n=n),
        "keep_control": lambda n: _("{n} to stop (the challenger is worse)", n=n),
        "too_early": lambda n: _("{n} too early to judge", n=n),
        "no_difference": lambda n: _("{n} without a detectable difference", n=n),
    }
    parts = "; ".join(word(count[code]) for code, word in words.items() if count[code])
    conclusion = (
        n_(
            "{n} experiment reviewed as of {date:%Y-%m-%d}: {parts}.",
            "{n} experiments reviewed as of {date:%Y-%m-%d}: {parts}.",
            len(codes),
            date=review.as_of,
            parts=parts,
        )
        + " "
        + n_(
            "Each is judged on {metric} over {n} day from every customer's own exposure.",
            "Each is judged on {metric} over {n} days from every customer's own exposure.",
            review.horizon_days,
            metric=metric_name(review.primary_metric),
        )
    )
    level = "bad" if count["srm"] else "good" if count["ship"] else "info"
    action = _(
        "Fix the broken splits first; act only on the tests with a verdict, and leave the young "
        "ones running until their judge date."
    )
    return Finding(_("Split tests"), conclusion, action, level)


def results_table(review: SplitTestReview) -> pd.DataFrame:
    """Every experiment's :func:`metric_table` in one frame (an ``experiment_id`` column first),
    for analysts: the export beside the report."""
    frames = [
        metric_table(review, e).assign(experiment_id=e).set_index("experiment_id").reset_index()
        for e in review.designs
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_METRIC_COLUMNS)


def assignments_finding(review: SplitTestReview) -> Finding:
    """How many assignment rows were set aside, and why."""
    accounting = review.assignments.accounting
    read, rejected = int(accounting["read"].sum()), int(accounting["rejected"].sum())
    if not read:
        return Finding(
            _("Assignments"), _("There are no assignments to check."), _("Nothing to do.")
        )
    if not rejected:
        return Finding(
            _("Assignments"),
            _(
                "All {read:,} assignment rows of the reviewed experiments can be measured.",
                read=read,
            ),
            _("Nothing to fix."),
            "good",
        )
    counts = accounting.iloc[:, 4:].sum()
    reasons = ", ".join(
        format_message(label_shown(_REASON_COUNTS.get(r, "{n:,} " + r)), n=int(n))
        for r, n in counts.items()
        if n
    )
    return Finding(
        _("Assignments set aside"),
        _(
            "{rejected:,} of {read:,} assignment rows cannot be measured and were set aside "
            "({reasons}).",
            rejected=rejected,
            read=read,
            reasons=reasons,
        ),
        _(
            "Fix the assignment export or the test's targeting; customers in two variants point "
            "to a broken assignment."
        ),
        "warning",
    )


#: A count of assignment rows set aside for a reason (a key of ``ASSIGNMENT_REASONS``), as the
#: finding says it; translated when shown.
_REASON_COUNTS = {
    "missing_value": "{n:,} missing value",
    "unknown_variant": "{n:,} unknown variant",
    "assigned_after_as_of": "{n:,} assigned after as of",
    "several_variants": "{n:,} several variants",
    "duplicate_assignment": "{n:,} duplicate assignment",
}

#: The column label of each reason in the table of assignments set aside; translated when shown.
REASON_LABELS = {
    "missing_value": "Missing value",
    "unknown_variant": "Unknown variant",
    "assigned_after_as_of": "Assigned after as of",
    "several_variants": "Several variants",
    "duplicate_assignment": "Duplicate assignment",
}


def assignment_table(review: SplitTestReview) -> pd.DataFrame:
    """Assignment rows read, accepted and set aside per experiment, with the reasons."""
    return review.assignments.accounting.copy()


# ============================================================================ KPIs
def splittest_kpis(review: SplitTestReview) -> dict[str, Any]:
    """Headline figures and, per experiment and metric, ``estimate``, ``ci_low``, ``ci_high``,
    ``p_value``, ``srm_p_value`` and ``verdict``, for ``splittest.kpis.json``.

    Estimates are relative changes (challenger / control - 1) over the horizon window. With
    several challengers, ``metrics`` holds the first and ``challengers`` all of them.
    """
    experiments = {}
    for experiment_id, design in review.designs.items():
        overall = verdict(review, experiment_id)
        by_variant = {}
        for variant in design.challengers or (None,):
            by_variant[variant] = {
                metric: _metric_kpis(
                    metric_verdict(review, experiment_id, metric, variant),
                    review.horizon_days,
                )
                for metric in review.metrics
            }
        entry = {
            "control": design.control,
            "variants": list(design.variants),
            "customers": _assigned_to(
                review, experiment_id, list(_exposure(review, experiment_id))
            ),
            "srm_p_value": overall.srm_p_value,
            "verdict": overall.text,
            "verdict_code": overall.code,
            "judge_date": overall.judge_date,
            "provisional": overall.provisional,
            "metrics": next(iter(by_variant.values())),
        }
        if len(by_variant) > 1:
            entry["challengers"] = by_variant
        experiments[experiment_id] = entry
    codes = [e["verdict_code"] for e in experiments.values()]
    return {
        "experiments_reviewed": len(experiments),
        "ready_to_ship": codes.count("ship"),
        "srm_alerts": codes.count("srm"),
        "too_early": codes.count("too_early"),
        "primary_metric": review.primary_metric,
        "horizon_days": review.horizon_days,
        "alpha": review.alpha,
        "experiments": experiments,
    }


def _metric_kpis(result: Verdict, window_days: int) -> dict[str, Any]:
    return {
        "variant": result.variant,
        "window_days": window_days,
        "estimate": result.estimate,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "p_value": result.p_value,
        "srm_p_value": result.srm_p_value,
        "verdict": result.text,
    }


# ============================================================================ planning
def planning_table(
    review: SplitTestReview,
    lifts: Sequence[float] = (0.02, 0.05, 0.10),
    power: float = 0.8,
    window_days: int | None = None,
) -> pd.DataFrame:
    """Customers per variant a two-variant test needs to detect each relative change of each
    metric, from the store's own variance.

    The baseline and the per-customer spread come from the control groups of every reviewed
    experiment over *window_days* (default: the horizon), customers with a complete window only:
    customers who were exposed and left alone, as the next test's control will be.

    Returns
    -------
    pandas.DataFrame
        ``metric``, ``label``, ``unit``, ``baseline`` (mean or rate per customer), ``std`` (per
        customer; NaN for rates), ``customers`` (in the control groups), one
        ``customers_for_<lift>`` column per lift (per variant, at ``alpha`` and *power*), and
        ``detectable_change`` with ``typical_customers`` per variant (the median control group).
    """
    from custkit.splittest.planning import (
        minimum_detectable_effect,
        minimum_detectable_effect_proportions,
        sample_size_means,
        sample_size_proportions,
    )

    window = review.horizon_days if window_days is None else window_days
    controls = [
        review.totals(e, window).get(d.control)
        for e, d in review.designs.items()
        if d.control in review.totals(e, window)
    ]
    controls = [c for c in controls if c["customers"] >= 2]
    columns = ["metric", "label", "unit", "baseline", "std", "customers"]
    columns += [f"customers_for_{lift:g}" for lift in lifts]
    columns += ["typical_customers", "detectable_change"]
    if not controls:
        return pd.DataFrame(columns=columns)
    pooled = {
        k: sum(float(c[k]) for c in controls)
        for k in controls[0]
        if k != "experiment_id" and k != "variant" and k != "window_days"
    }
    n = pooled["customers"]
    typical = int(np.median([c["customers"] for c in controls]))
    rows = []
    for metric in review.metrics:
        spec = METRICS[metric]
        if spec.kind == "ratio":
            continue
        mean = pooled[f"sum_{metric}"] / n
        row = {"metric": metric, "label": spec.label, "unit": spec.unit, "baseline": mean}
        row.update(std=math.nan, customers=int(n), typical_customers=typical)
        if spec.kind == "proportion":
            usable = 0 < mean < 1
            for lift in lifts:
                ok = usable and 0 < mean * (1 + lift) < 1
                row[f"customers_for_{lift:g}"] = (
                    sample_size_proportions(mean, lift, review.alpha, power).n_a if ok else math.nan
                )
            row["detectable_change"] = (
                minimum_detectable_effect_proportions(mean, max(typical, 1), review.alpha, power)
                if usable and typical >= 1
                else math.nan
            )
        else:
            variance = (pooled[f"sumsq_{metric}"] - pooled[f"sum_{metric}"] * mean) / (n - 1)
            std = math.sqrt(max(variance, 0.0))
            row["std"] = std
            usable = std > 0 and mean != 0
            for lift in lifts:
                row[f"customers_for_{lift:g}"] = (
                    sample_size_means(std, lift * mean, review.alpha, power).n_a
                    if usable
                    else math.nan
                )
            row["detectable_change"] = (
                minimum_detectable_effect(std, typical, review.alpha, power) / abs(mean)
                if usable and typical >= 2
                else math.nan
            )
        rows.append(row)
    table = pd.DataFrame(rows, columns=columns)
    table.attrs.update(window_days=window, power=power, alpha=review.alpha, lifts=tuple(lifts))
    return table
