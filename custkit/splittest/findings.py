"""What a manager reads of a split-test review: the findings (verdict, design check, overview,
assignments set aside), the sample-ratio banner, the summary and results tables, the KPIs of
``splittest.kpis.json`` and the planning table — every sentence through the report language's
catalogue (:mod:`custkit.i18n`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from custkit.findings import Finding
from custkit.formatting import signed
from custkit.i18n import _, format_message, format_value, n_
from custkit.splittest.metrics import (
    METRICS,
)
from custkit.splittest.report import (
    _METRIC_COLUMNS,
    SplitTestReview,
    _assigned_to,
    _design,
    _exposure,
    design_check,
    metric_table,
    srm_check,
    srm_p_value,
)
from custkit.splittest.results import PlanningResults
from custkit.splittest.verdicts import Verdict, metric_verdict, verdict
from custkit.units import Kpis

_VERDICT_LEVELS = {
    "ship": "good",
    "keep_control": "warning",
    "no_difference": "info",
    "too_early": "info",
    "srm": "bad",
}


# ============================================================================ findings
def _pct(value: float, sign: bool = True) -> str:
    if not math.isfinite(value):
        return "—"
    value = 0.0 if abs(value) < 0.0005 else value  # no "−0.0%"
    return signed(format_value(value, "+.1%" if sign else ".1%"))


def _p_is(value: float) -> str:
    """``p = 0.123`` or ``p < 0.001``, for sentences."""
    text = _p(value)
    return f"p {text[0]} {text[1:]}" if text.startswith("<") else f"p = {text}"


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _p(value: float) -> str:
    """``0.123`` or ``<0.001``; ``—`` for a missing p-value."""
    if not _finite(value):
        return "—"
    return "<" + format_value(0.001, ".3f") if value < 0.001 else format_value(value, ".3f")


def label_shown(text: object) -> str:
    """One of custkit's own English labels (a metric's, a reason's, a note) in the report
    language."""
    return _(str(text))


def quoted(name: object) -> str:
    """A variant's (or another of the store's own) name quoted for the middle of a sentence:
    ``“contact”``, ``«contact»`` in Russian. Bare, a code reads as a word of the sentence
    ("ship contact")."""
    return _("“{name}”", name=name)


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
        "{metric} over {n} day: “{variant}” {change} vs “{control}” "
        "({confidence:.0%} interval: {low} … {high})",
        "{metric} over {n} days: “{variant}” {change} vs “{control}” "
        "({confidence:.0%} interval: {low} … {high})",
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
                "“{variant}” is better than “{control}” on {change}; the monthly-look boundary was "
                "crossed on {date:%Y-%m-%d}.",
                **fields,
            )
            action = _("Roll out “{variant}” to everyone.", variant=result.variant)
        else:
            conclusion = _(
                "“{variant}” is worse than “{control}” on {change}; the monthly-look boundary was "
                "crossed on {date:%Y-%m-%d}.",
                **fields,
            )
            action = _(
                "Stop “{variant}” and keep “{control}”.",
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
        f"{quoted(v)} {_pct(s, sign=False)}"
        for v, s in zip(table["variant"], table["actual_share"], strict=True)
    )
    planned = " / ".join(format_value(s, ".0%") for s in design.planned_shares)
    basis = _("as planned in the params") if design.planned else _("equal shares assumed")
    srm = srm_check(review, experiment_id)
    p = srm.p_value
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
    if srm.alert:
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
    verdicts = [verdict(review, e) for e in report_order(review)]
    codes = [v.code for v in verdicts]
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
    return Finding(_("Split tests"), conclusion, _overview_actions(verdicts), level)


def _overview_actions(verdicts: Sequence[Verdict]) -> str:
    """What to do with each experiment, by verdict, naming the experiments and their variants
    (quoted): the answer the page opens with."""

    def named(code: str, item) -> str:
        return ", ".join(item(v) for v in verdicts if v.code == code)

    def with_change(v) -> str:
        return _(
            "{variant_quoted} of {experiment} ({change})",
            variant_quoted=quoted(v.variant),
            experiment=v.experiment_id,
            change=_pct(v.estimate),
        )

    sentences = []
    ship = named("ship", with_change)
    if ship:
        sentences.append(_("Ship {items}.", items=ship))
    stop = named("keep_control", with_change)
    if stop:
        sentences.append(_("Stop {items}: worse than the control.", items=stop))
    broken = named("srm", lambda v: v.experiment_id)
    if broken:
        sentences.append(
            _(
                "Do not act on {items}: the split is broken; find the cause and restart.",
                items=broken,
            )
        )
    early = named(
        "too_early",
        lambda v: (
            _(
                "{experiment} (judge on {date:%Y-%m-%d})",
                experiment=v.experiment_id,
                date=v.judge_date,
            )
            if v.judge_date is not None
            else v.experiment_id
        ),
    )
    if early:
        sentences.append(_("Leave {items} running: too early to judge.", items=early))
    flat = named("no_difference", lambda v: v.experiment_id)
    if flat:
        sentences.append(
            _("No difference in {items}: keep the cheaper or simpler variant.", items=flat)
        )
    return " ".join(sentences)


def experiment_line(review: SplitTestReview, experiment_id: str) -> str:
    """A broken (sample-ratio mismatch) or too early experiment in one line: what is wrong, or
    when to judge it (``""`` for an experiment with a verdict to act on)."""
    result = verdict(review, experiment_id)
    if result.code == "srm":
        return _(
            "{experiment}: the split is broken — the variants' sizes do not match the planned "
            "split (sample-ratio test {p}); do not act on its numbers, find why customers went "
            "missing from one variant and restart the test.",
            experiment=experiment_id,
            p=_p_is(result.srm_p_value),
        )
    if result.code != "too_early":
        return ""
    if result.variant is None or result.judge_date is None:
        return _("{experiment}: {verdict}.", experiment=experiment_id, verdict=result.label)
    return n_(
        "{experiment}: too early — judge on {date:%Y-%m-%d}, when every customer's {n} day is "
        "over; so far {change}.",
        "{experiment}: too early — judge on {date:%Y-%m-%d}, when every customer's {n} days are "
        "over; so far {change}.",
        review.horizon_days,
        experiment=experiment_id,
        date=result.judge_date,
        change=_change_words(review, result),
    )


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
    several challengers, ``metrics`` holds the first and ``challengers`` all of them. ``looks``
    keeps each experiment's monthly looks for the next report (:mod:`custkit.splittest.looks`).
    """
    from custkit.splittest.looks import looks_state

    looks = looks_state(review)
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
        entry["looks"] = looks[experiment_id]
        experiments[experiment_id] = entry
    codes = [e["verdict_code"] for e in experiments.values()]
    kpis = {
        "experiments_reviewed": len(experiments),
        "ready_to_ship": codes.count("ship"),
        "srm_alerts": codes.count("srm"),
        "too_early": codes.count("too_early"),
        "primary_metric": review.primary_metric,
        "horizon_days": review.horizon_days,
        "alpha": review.alpha,
        "experiments": experiments,
    }
    return Kpis(kpis, SPLITTEST_KPI_UNITS)


#: The unit of each numeric top-level KPI of :func:`splittest_kpis` (see :mod:`custkit.units`).
SPLITTEST_KPI_UNITS = {
    "experiments_reviewed": "count",
    "ready_to_ship": "count",
    "srm_alerts": "count",
    "too_early": "count",
    "horizon_days": "days",
    "alpha": "share",
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
    """:func:`planning_results`' table: customers per variant a two-variant test needs to
    detect each relative change of each metric."""
    return planning_results(review, lifts, power, window_days).table


def planning_results(
    review: SplitTestReview,
    lifts: Sequence[float] = (0.02, 0.05, 0.10),
    power: float = 0.8,
    window_days: int | None = None,
) -> PlanningResults:
    """Customers per variant a two-variant test needs to detect each relative change of each
    metric, from the store's own variance.

    The baseline and the per-customer spread come from the control groups of every reviewed
    experiment over *window_days* (default: the horizon), customers with a complete window only:
    customers who were exposed and left alone, as the next test's control will be.

    Returns
    -------
    PlanningResults
        ``window_days``, ``power``, ``alpha``, ``lifts`` and the ``table``: ``metric``,
        ``label``, ``unit``, ``baseline`` (mean or rate per customer), ``std`` (per customer;
        NaN for rates), ``customers`` (in the control groups), one ``customers_for_<lift>``
        column per lift (per variant, at ``alpha`` and *power*), and ``detectable_change`` with
        ``typical_customers`` per variant (the median control group).
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
    planned = functools.partial(
        PlanningResults, window_days=window, power=power, alpha=review.alpha, lifts=tuple(lifts)
    )
    if not controls:
        return planned(pd.DataFrame(columns=columns))
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
    return planned(pd.DataFrame(rows, columns=columns))
