"""The verdict of a split test, and of each of its metrics.

How a test is judged
--------------------
Every experiment is judged on one pre-declared *primary metric* (revenue per customer by default)
over the *horizon* window (90 days: the source articles' "judge after about three months",
because customers who return in month 2 often buy more). The test is looked at every month, so
the decision uses group-sequential boundaries (Lan–DeMets O'Brien–Fleming alpha spending over
monthly looks; the information fraction of a look is the share of the experiment's *planned*
sample whose horizon window was complete by then, and the looks of earlier reports are kept as
they were: see :func:`custkit.splittest.report.sequential_table` and
:mod:`custkit.splittest.looks`). The verdict (:func:`verdict`):

1. **sample-ratio mismatch** — the variants' sizes do not fit the planned split
   (chi-square p < ``srm_alpha``, 0.001): the assignment or the tracking is broken and no metric
   of the test can be trusted; every metric carries the warning.
2. **ship B** / **keep A** — the primary metric's z crossed its boundary at some look: B better,
   or B worse. A look kept from an earlier report keeps its crossing, so this is never withdrawn.
3. **no difference detected** — every assigned customer's horizon window is complete (or a look
   reached the planned sample) and the boundary was never crossed.
4. **too early — judge on <date>** — otherwise; the date is the last exposure plus the horizon.
   Until then every result is provisional. ("too early to judge" while nobody is assigned by
   the as-of date.)

Each metric gets a verdict by the same rules (``splittest.kpis.json``); only the primary metric's
decides. The metric tables add Holm-adjusted p-values over a stated family: every metric × window
× challenger of one experiment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from custkit.i18n import _
from custkit.splittest.report import (
    SplitTestReview,
    _design,
    _metric_results,
    _sequential_looks,
    srm_p_value,
)

VerdictCode = Literal["ship", "keep_control", "no_difference", "too_early", "srm"]


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
        """:attr:`text` in the report language, as the page shows it, the variant's name quoted
        ("ship “contact”", "внедрять «contact»": a bare code reads as a word of the sentence);
        ``text`` itself stays as it was for ``splittest.kpis.json``."""
        if self.code == "srm":
            return _("sample-ratio mismatch — fix the split before judging")
        if self.code == "ship":
            return _("ship “{variant}”", variant=self.variant)
        if self.code == "keep_control":
            return _("keep “{control}”", control=self.control)
        if self.code == "no_difference":
            return _("no difference detected")
        if self.variant is None:
            return _("too early — the experiment has a single variant so far")
        if self.judge_date is None:
            return _("too early to judge")
        return _("too early — judge on {date:%Y-%m-%d}", date=self.judge_date)


def _metric_rows(review: SplitTestReview, experiment_id: str) -> dict[tuple, dict]:
    """(window, metric, variant) → that row of :func:`metric_table`."""

    def compute() -> dict[tuple, dict]:
        table = review.cached(
            ("metrics", experiment_id), lambda: _metric_results(review, experiment_id), False
        ).table
        return {
            (row["window_days"], row["metric"], row["variant"]): row
            for row in table.to_dict("records")
        }

    return review.cached(("metric_rows", experiment_id), compute)


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
    looks = review.cached(
        ("sequential", experiment_id, metric, variant),
        lambda: _sequential_looks(review, experiment_id, metric, variant),
        False,
    )
    srm = srm_p_value(review, experiment_id)
    judge = looks.judge_date
    if srm < review.srm_alpha:
        code, text = "srm", "sample-ratio mismatch — fix the split before judging"
    elif looks.crossed and looks.crossing_z > 0:
        code, text = "ship", f"ship {variant}"
    elif looks.crossed:
        code, text = "keep_control", f"keep {design.control}"
    elif variant is not None and not looks.provisional:
        code, text = "no_difference", "no difference detected"
    elif variant is None:
        code, text = "too_early", "too early — the experiment has a single variant so far"
    elif judge is None:  # assigned only after the as-of date: nobody is in the test yet
        code, text = "too_early", "too early to judge"
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
        provisional=bool(looks.provisional),
        estimate=float(numbers.get("estimate", math.nan)),
        ci_low=float(numbers.get("ci_low", math.nan)),
        ci_high=float(numbers.get("ci_high", math.nan)),
        p_value=float(numbers.get("p_value", math.nan)),
        srm_p_value=srm,
        crossing_date=looks.crossing_date,
    )


def verdict(review: SplitTestReview, experiment_id: str) -> Verdict:
    """The experiment's verdict: its primary metric's, over all challengers.

    With several challengers, the best one that crossed its boundary upwards is shipped; the
    control is kept when every challenger crossed downwards; otherwise the test is too early
    while any challenger is, else no difference was detected.
    """
    _design(review, experiment_id)
    return review.cached(("verdict", experiment_id), lambda: _verdict(review, experiment_id))


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
