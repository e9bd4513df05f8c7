"""One experiment's section of the split-test report as a manager reads it, and the report's
overview tables: the numbers of :mod:`custkit.splittest.report`, formatted with their units.

A row of the metric table mixes rates, counts and money, which a column-wise table formatter
cannot show, so the tables here are text: ``16.4%``, ``1,737 RUB``, ``+27.2%``,
``+15.0% … +39.4%``, ``<0.001``. The numeric frames stay in :class:`ExperimentSection` for the
figures and for anyone who wants to compute further.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from custkit.findings import Finding
from custkit.formatting import format_change_interval as _interval
from custkit.formatting import format_day_count as _days
from custkit.formatting import format_money, signed
from custkit.formatting import format_percent as _share
from custkit.formatting import format_relative_change as _change
from custkit.i18n import N_, _, format_day, n_
from custkit.i18n import format_value as _number
from custkit.splittest.findings import (
    _VERDICT_LEVELS,
    REASON_LABELS,
    _finite,
    _p,
    design_finding,
    experiment_line,
    label_shown,
    metric_name,
    quoted,
    srm_banner,
    summary_table,
    verdict_finding,
)
from custkit.splittest.metrics import METRICS
from custkit.splittest.report import (
    SplitTestReview,
    bayesian_table,
    cuped_table,
    design_check,
    judge_date,
    metric_results,
    month_results,
    sequential_looks,
)
from custkit.splittest.results import (
    MetricResults,
    MonthResults,
    PlanningResults,
    SegmentResults,
    SequentialLooks,
)
from custkit.splittest.verdicts import (
    Verdict,
    verdict,
)


@dataclass(frozen=True, eq=False)
class ExperimentSection:
    """What one experiment's section shows.

    Attributes
    ----------
    experiment_id, title : str
    verdict : Verdict
    verdict_finding, design_finding : Finding
    srm_banner : str
        The red warning for every metric of a test with a sample-ratio mismatch, or ``""``.
    design : pandas.DataFrame
        Planned and actual split per variant (text).
    metrics : MetricResults
        Every metric by window, for the figures (:func:`~custkit.splittest.report.metric_results`).
    months : MonthResults
        The effect by month since exposure (:func:`~custkit.splittest.report.month_results`).
    sequential : SequentialLooks
        The monthly looks and what they conclude
        (:func:`~custkit.splittest.report.sequential_looks`).
    metrics_shown, cuped_shown, bayes_shown, sequential_shown : pandas.DataFrame
        The same and the CUPED, Bayesian and sequential views, as text.
    metrics_caption, cuped_caption, bayes_caption, sequential_caption : str
    collapsed : bool
        A broken split or a test too early to judge: the page shows only :attr:`line` and
        folds the rest away for analysts.
    line : str
        That one line (:func:`~custkit.splittest.findings.experiment_line`), or ``""``.
    level : str
        The line's and the verdict's colour: ``good``, ``info``, ``warning`` or ``bad``.
    analysts_summary : str
        What the folded block for analysts holds, in a few words.
    """

    experiment_id: str
    title: str
    verdict: Verdict
    verdict_finding: Finding
    design_finding: Finding
    srm_banner: str
    design: pd.DataFrame
    metrics: MetricResults
    metrics_shown: pd.DataFrame
    metrics_caption: str
    months: MonthResults
    cuped_shown: pd.DataFrame
    cuped_caption: str
    bayes_shown: pd.DataFrame
    bayes_caption: str
    sequential: SequentialLooks
    sequential_shown: pd.DataFrame
    sequential_caption: str
    collapsed: bool = False
    line: str = ""
    level: str = "info"
    analysts_summary: str = ""


def experiment_section(
    review: SplitTestReview, experiment_id: str, currency: str = ""
) -> ExperimentSection:
    """Everything one experiment's section of the report shows."""
    design = review.designs[experiment_id]
    result = verdict(review, experiment_id)
    metrics = metric_results(review, experiment_id)
    judge = judge_date(review, experiment_id)
    provisional = (
        " "
        + _(
            "Windows marked * are not complete for every customer yet: provisional until "
            "{date:%Y-%m-%d}.",
            date=judge,
        )
        if metrics.table["partial"].any() and judge is not None
        else ""
    )
    cuped = cuped_table(review, experiment_id)
    pre = review.sums.pre_exposure_days
    looks = sequential_looks(review, experiment_id)
    challengers = _challengers(design.challengers)
    collapsed = result.code in ("srm", "too_early")
    return ExperimentSection(
        collapsed=collapsed,
        line=experiment_line(review, experiment_id),
        level=_VERDICT_LEVELS[result.code],
        analysts_summary=(
            _(
                "{experiment}: the split, every metric by window and the monthly looks",
                experiment=experiment_id,
            )
            if collapsed
            else _(
                "{experiment}: the split, every metric by window, the effect by month, CUPED, "
                "the Bayesian view and the monthly looks",
                experiment=experiment_id,
            )
        ),
        experiment_id=experiment_id,
        title=f"{experiment_id}: {_versus(design.variants)}",
        verdict=result,
        verdict_finding=verdict_finding(review, result),
        design_finding=design_finding(review, experiment_id),
        srm_banner=srm_banner(review, experiment_id),
        design=design_shown(design_check(review, experiment_id)),
        metrics=metrics,
        metrics_shown=metrics_shown(metrics, currency),
        metrics_caption=n_(
            "Every metric over {windows} day from each customer's exposure: change of "
            "{challengers} against “{control}”, {confidence:.0%} interval, p-value and {family}.",
            "Every metric over {windows} days from each customer's exposure: change of "
            "{challengers} against “{control}”, {confidence:.0%} interval, p-value and {family}.",
            review.windows_days[-1],
            windows=_listing(review.windows_days),
            challengers=challengers,
            control=design.control,
            confidence=1 - review.alpha,
            family=_holm_family(metrics),
        )
        + capping_note(review, experiment_id, currency)
        + provisional,
        months=month_results(review, experiment_id),
        cuped_shown=cuped_shown(cuped),
        cuped_caption=(
            n_(
                "Revenue adjusted for each customer's revenue in the {n} day before exposure "
                "(CUPED): the same effect, measured with less noise.",
                "Revenue adjusted for each customer's revenue in the {n} days before exposure "
                "(CUPED): the same effect, measured with less noise.",
                pre,
            )
            if pre
            else _("CUPED is off: no pre-exposure period was set.")
        ),
        bayes_shown=bayes_shown(bayesian_table(review, experiment_id), currency),
        bayes_caption=n_(
            "Over {n} day: the chance that {challengers} is better, and what each choice costs "
            "per customer on average if it is the wrong one. Priors: Beta(1, 1) on rates "
            "(exact), flat on means (normal approximation).",
            "Over {n} days: the chance that {challengers} is better, and what each choice costs "
            "per customer on average if it is the wrong one. Priors: Beta(1, 1) on rates "
            "(exact), flat on means (normal approximation).",
            review.horizon_days,
            challengers=challengers,
        ),
        sequential=looks,
        sequential_shown=sequential_shown(looks),
        sequential_caption=sequential_caption(looks),
    )


def capping_note(review: SplitTestReview, experiment_id: str, currency: str = "") -> str:
    """How revenue per customer was capped over the horizon window, as a sentence that starts
    with a space (``""`` when nothing was capped)."""
    percentile = review.cap_percentile
    caps = review.sums.caps
    if percentile is None:
        return " " + _("Revenue per customer is not capped.")
    row = caps.loc[
        (caps["experiment_id"].astype(str) == experiment_id)
        & (caps["value"] == "revenue")
        & (caps["window_days"] == review.horizon_days)
    ]
    if row.empty:
        return ""
    row = row.iloc[0]
    text = " " + n_(
        "Revenue per customer is capped at what {percentile} of the buyers of all variants "
        "stay under, {cap} over {days} days: {n} customer is capped, so no single large order "
        "decides the test.",
        "Revenue per customer is capped at what {percentile} of the buyers of all variants "
        "stay under, {cap} over {days} days: {n} customers are capped, so no single large "
        "order decides the test.",
        int(row["capped"]),
        percentile=_number(percentile, ".1%").replace(".0%", "%").replace(",0%", "%"),
        cap=format_money(row["cap"], currency),
        days=review.horizon_days,
    )
    if review.sums.has_margin:
        text += " " + _("Margin per customer is capped the same way.")
    return text


def _challengers(variants: Sequence[str]) -> str:
    return _listing([quoted(v) for v in variants]) if variants else _("no challenger")


def _listing(items: Sequence[object]) -> str:
    """``A``, ``A and B``, ``A, B and C`` in the report language."""
    items = [str(item) for item in items]
    if len(items) <= 1:
        return "".join(items)
    return _("{items} and {last}", items=", ".join(items[:-1]), last=items[-1])


def _versus(variants: Sequence[str]) -> str:
    """``B vs A`` (the challengers first, the control last)."""
    text = ""
    for variant in reversed(variants):
        text = _("{a} vs {b}", a=text, b=variant) if text else str(variant)
    return text


def _holm_family(metrics: MetricResults) -> str:
    """Which p-values the adjustment of a metric table is over, in words."""
    tests = metrics.family_tests
    if metrics.multiple_testing == "bh":
        return n_(
            "Benjamini–Hochberg-adjusted over the {n} test of all {experiments} experiments "
            "reviewed (false discovery rate)",
            "Benjamini–Hochberg-adjusted over the {n} tests of all {experiments} experiments "
            "reviewed (false discovery rate)",
            tests,
            experiments=metrics.family_experiments,
        )
    if metrics.family_challengers:
        return n_(
            "Holm-adjusted over the {n} test of this experiment (every metric × window × "
            "challenger)",
            "Holm-adjusted over the {n} tests of this experiment (every metric × window × "
            "challenger)",
            tests,
        )
    return n_(
        "Holm-adjusted over the {n} test of this experiment (every metric × window)",
        "Holm-adjusted over the {n} tests of this experiment (every metric × window)",
        tests,
    )


def _day(value: object) -> str:
    """A timestamp as the day it falls on (a manager reads days, not minutes); ``—`` for none."""
    return format_day(pd.Timestamp(value)) if pd.notna(value) else "—"


def _lower(label: str) -> str:
    """A label for the middle of a sentence: its first letter in lower case."""
    return label[:1].lower() + label[1:]


# ============================================================================ formatting
def format_value(value: float, unit: str, currency: str = "") -> str:
    """A metric's value with its unit: ``36.5%``, ``0.52``, ``1,737 RUB`` (``1 737 RUB`` in
    Russian)."""
    if not _finite(value):
        return "—"
    if unit == "share":
        return _number(value, ".1%")
    if unit == "money":
        return format_money(value, currency)
    return signed(_number(value, ",.2f"))


def _chance(value: float) -> str:
    """A probability without a false certainty: ``>99.9%`` rather than ``100.0%``."""
    if not _finite(value):
        return "—"
    if value > 0.999:
        return ">" + _number(0.999, ".1%")
    return "<" + _number(0.001, ".1%") if value < 0.001 else _number(value, ".1%")


def _loss(value: float, unit: str, currency: str) -> str:
    """Expected loss: a rate difference in percentage points, else in the metric's units."""
    if not _finite(value):
        return "—"
    if unit == "share":
        return _("{value:.2f} pp", value=value * 100)
    return format_value(value, unit, currency)


def design_shown(table: pd.DataFrame) -> pd.DataFrame:
    """The design check as text."""
    shown = pd.DataFrame(
        {
            _("Variant"): table["variant"],
            _("Role"): [_(role) for role in table["role"]],
            _("Planned share"): [_share(s) for s in table["planned_share"]],
            _("Actual share"): [_share(s) for s in table["actual_share"]],
            _("Customers"): table["customers"],
            _("First exposure"): [_day(t) for t in table["first_exposure"]],
            _("Last exposure"): [_day(t) for t in table["last_exposure"]],
        }
    )
    for column in table.columns:
        if column.startswith("complete_"):
            days = int(column.removeprefix("complete_").removesuffix("d"))
            shown[_("{days}-day window complete", days=days)] = table[column]
    return shown


def reading(row: pd.Series | dict, alpha: float, srm: bool, bh: bool = False) -> str:
    """One metric result in words (*bh*: the adjusted p-value is Benjamini–Hochberg's)."""
    if srm:
        return _("not trustworthy (SRM)")
    if not _finite(row["p_value"]):
        return _("not enough data")
    adjusted = row.get("p_adjusted", row["p_holm"])
    if adjusted < alpha:
        if row["estimate"] > 0:
            return _("“{variant}” higher", variant=row["variant"])
        return _("“{variant}” lower", variant=row["variant"])
    if row["p_value"] < alpha:
        if bh:
            return _("unclear (not after Benjamini–Hochberg)")
        return _("unclear (not after Holm)")
    return _("no clear difference")


def metrics_shown(metrics: MetricResults, currency: str = "") -> pd.DataFrame:
    """The metric table as text, one row per window × metric (× challenger)."""
    table, srm, alpha = metrics.table, metrics.srm_alert, metrics.alpha
    bh = metrics.multiple_testing == "bh"
    single = table["variant"].nunique() <= 1
    control = str(table["control"].iloc[0]) if len(table) else _("Control")
    variant = str(table["variant"].iloc[0]) if len(table) else _("Variant")
    rows = []
    for row in table.to_dict("records"):
        shown = {
            _("Window"): _days(row["window_days"]) + (" *" if row["partial"] else ""),
            _("Metric"): label_shown(row["label"]),
        }
        if not single:
            shown[_("Variant")] = row["variant"]
        # the variants' own names with their role ("A (control)"): a bare name such as
        # "holdout" would be humanized into "Holdout" by the table's header formatting
        control_header = _("{variant} (control)", variant=control)
        variant_header = _("{variant} (challenger)", variant=variant)
        shown[control_header if single else _("Control")] = format_value(
            row["value_control"], row["unit"], currency
        )
        shown[variant_header if single else _("Challenger")] = format_value(
            row["value_variant"], row["unit"], currency
        )
        shown.update(
            {
                _("Change"): _change(row["estimate"]),
                _("Interval"): _interval(row["ci_low"], row["ci_high"]),
                _("p-value"): _p(row["p_value"]),
                (_("BH-adjusted p-value") if bh else _("Holm p-value")): _p(
                    row.get("p_adjusted", row["p_holm"])
                ),
                _("Customers"): _number(row["customers_control"], ",")
                + " / "
                + _number(row["customers_variant"], ","),
                _("Reading"): reading(row, alpha, srm, bh),
            }
        )
        rows.append(shown)
    return pd.DataFrame(rows)


def cuped_shown(table: pd.DataFrame) -> pd.DataFrame:
    """The CUPED comparison as text."""
    rows = []
    for row in table.to_dict("records"):
        rows.append(
            {
                _("Window"): _days(row["window_days"]),
                _("Metric"): label_shown(row["label"]),
                _("Change"): _change(row["estimate"]),
                _("Interval"): _interval(row["ci_low"], row["ci_high"]),
                _("p-value"): _p(row["p_value"]),
                _("Change, CUPED"): _change(row["estimate_cuped"]) if row["applied"] else "—",
                _("Interval, CUPED"): (
                    _interval(row["ci_low_cuped"], row["ci_high_cuped"]) if row["applied"] else "—"
                ),
                _("p-value, CUPED"): _p(row["p_value_cuped"]) if row["applied"] else "—",
                _("Variance removed"): (
                    _share(max(row["variance_reduction"], 0.0))
                    if row["applied"]
                    else _("off: {note}", note=label_shown(row["note"]))
                ),
            }
        )
    return pd.DataFrame(rows)


def bayes_shown(table: pd.DataFrame, currency: str = "") -> pd.DataFrame:
    """The Bayesian view as text."""
    rows = []
    for row in table.to_dict("records"):
        rows.append(
            {
                _("Metric"): label_shown(row["label"]),
                _("Chance “{variant}” is better", variant=row["variant"]): _chance(
                    row["prob_better"]
                ),
                _("Expected loss if keeping “{control}”", control=row["control"]): _loss(
                    row["loss_choosing_control"], row["unit"], currency
                ),
                _("Expected loss if choosing “{variant}”", variant=row["variant"]): _loss(
                    row["loss_choosing_variant"], row["unit"], currency
                ),
            }
        )
    return pd.DataFrame(rows)


def sequential_shown(looks: SequentialLooks) -> pd.DataFrame:
    """The monthly looks as text: who was in, the change, and the boundary it is held to."""
    rows = []
    for row in looks.table.to_dict("records"):
        rows.append(
            {
                _("Look"): format_day(pd.Timestamp(row["look_date"])),
                _("Customers with a complete window"): _number(row["customers"], ","),
                _("Share of the planned sample"): _number(row["information_fraction"], ".0%"),
                _("Change"): _change(row["estimate"]),
                "z": signed(_number(row["z"], ".2f")),
                _("Boundary (±)"): _number(row["boundary"], ".2f"),
                _("Decision"): _("stop: significant") if row["crossed"] else _("continue"),
            }
        )
    return pd.DataFrame(rows)


def sequential_caption(looks: SequentialLooks) -> str:
    """What the monthly looks mean for this test, in one sentence, and what their information is
    measured against (:func:`looks_basis`)."""
    basis = looks_basis(looks)
    return f"{_looks_verdict(looks)} {basis}" if basis else _looks_verdict(looks)


def looks_basis(looks: SequentialLooks) -> str:
    """The planned sample the looks' information fractions are shares of, where it comes from,
    and which looks are kept from an earlier report."""
    planned, source = looks.planned_customers, looks.planned_origin
    if planned is None:
        text = _(
            "No planned sample is known yet, so only the final look, when every customer's window "
            "is over, can stop the test."
        )
    elif source == "params":
        text = _(
            "Each look's share is of the {planned} customers the test was planned for.",
            planned=_number(planned, ","),
        )
    else:
        text = _(
            "No planned sample was given (planned_customers): it was set at the first look to "
            "{planned} customers, enough to detect a {lift} change of the primary metric with "
            "power 0.8, and is kept from then on.",
            planned=_number(planned, ","),
            lift=_number(looks.planned_lift, "+.0%"),
        )
    table = looks.table
    last = table.iloc[-1] if not table.empty else None
    if last is not None and planned is not None and last["information_fraction"] >= 1.0:
        if last["customers"] < planned:
            text += " " + _(
                "The last look, with every assigned customer's window over, is the final one: "
                "it counts as the whole sample and spends what is left of alpha."
            )
    frozen = table.loc[table["frozen"].fillna(False).astype(bool)] if "frozen" in table else table
    if not table.empty and len(frozen) and looks.history_period:
        text += " " + _(
            "Looks up to {date:%Y-%m-%d} are kept as the report for {period} showed them.",
            date=pd.Timestamp(frozen["look_date"].max()),
            period=looks.history_period,
        )
    return text


def _looks_verdict(looks: SequentialLooks) -> str:
    days = int(looks.window_days)
    metric = metric_name(looks.metric)
    if looks.empty:
        return n_(
            "Monthly looks at {metric} over {n} day: no customer's window is complete yet.",
            "Monthly looks at {metric} over {n} days: no customer's window is complete yet.",
            days,
            metric=metric,
        )
    if looks.crossed:
        return n_(
            "Monthly looks at {metric} over {n} day, each held to its O'Brien–Fleming boundary "
            "(|z| must reach it to stop): the boundary was crossed on {date:%Y-%m-%d}.",
            "Monthly looks at {metric} over {n} days, each held to its O'Brien–Fleming boundary "
            "(|z| must reach it to stop): the boundary was crossed on {date:%Y-%m-%d}.",
            days,
            metric=metric,
            date=pd.Timestamp(looks.crossing_date),
        )
    if looks.provisional:
        return n_(
            "Monthly looks at {metric} over {n} day, each held to its O'Brien–Fleming boundary "
            "(|z| must reach it to stop): no look has crossed the boundary; provisional until "
            "{date:%Y-%m-%d}.",
            "Monthly looks at {metric} over {n} days, each held to its O'Brien–Fleming boundary "
            "(|z| must reach it to stop): no look has crossed the boundary; provisional until "
            "{date:%Y-%m-%d}.",
            days,
            metric=metric,
            date=pd.Timestamp(looks.judge_date),
        )
    return n_(
        "Monthly looks at {metric} over {n} day, each held to its O'Brien–Fleming boundary "
        "(|z| must reach it to stop): no look crossed the boundary.",
        "Monthly looks at {metric} over {n} days, each held to its O'Brien–Fleming boundary "
        "(|z| must reach it to stop): no look crossed the boundary.",
        days,
        metric=metric,
    )


def summary_shown(review: SplitTestReview, currency: str = "") -> pd.DataFrame:
    """The overview of every experiment as text."""
    table = summary_table(review)
    if table.empty:
        return pd.DataFrame(columns=[_("Experiment"), _("Verdict")])
    change = f"{review.primary_metric}_change"
    label = label_shown(METRICS[review.primary_metric].label)
    return pd.DataFrame(
        {
            _("Experiment"): table["experiment"],
            _("Variants (control first)"): table["variants"],
            _("Customers"): table["customers"],
            _("Exposed"): [
                _exposure_dates(a, b)
                for a, b in zip(table["exposed_from"], table["exposed_to"], strict=True)
            ],
            _("{metric}, {days}", metric=label, days=_days(review.horizon_days)): [
                _change(v) for v in table[change]
            ],
            _("Verdict"): [verdict(review, e).label for e in table["experiment"]],
        }
    )


def _exposure_dates(first: pd.Timestamp, last: pd.Timestamp) -> str:
    """``2026-03-15 … 2026-06-14``, or the one day of a campaign sent on a single day."""
    if pd.isna(first):
        return "—"
    if first.normalize() == last.normalize():
        return format_day(first)
    return f"{format_day(first)} … {format_day(last)}"


def planning_shown(planning: PlanningResults, currency: str = "") -> pd.DataFrame:
    """The planning table (:func:`~custkit.splittest.findings.planning_results`) as text."""
    lifts = planning.lifts
    rows = []
    for row in planning.table.to_dict("records"):
        shown = {
            _("Metric"): label_shown(row["label"]),
            _("Today (control groups)"): format_value(row["baseline"], row["unit"], currency),
        }
        for lift in lifts:
            size = row[f"customers_for_{lift:g}"]
            column = _("Customers per variant to detect {change}", change=_change(lift))
            shown[column] = _number(size, ",.0f") if _finite(size) else "—"
        column = n_(
            "Detectable with {n:,} per variant",
            "Detectable with {n:,} per variant",
            int(row["typical_customers"]),
        )
        shown[column] = _change(row["detectable_change"])
        rows.append(shown)
    return pd.DataFrame(rows)


def planning_line(planning: PlanningResults, metric: str) -> str:
    """How large the next test on *metric* must be, in one sentence for the page: customers per
    variant for the change nearest +5% of the table's, and what the tests reviewed could detect
    (``""`` when the table cannot say)."""
    table, lifts = planning.table, planning.lifts
    rows = table.loc[table["metric"] == metric] if not table.empty else table
    if rows.empty or not lifts:
        return ""
    row = rows.iloc[0]
    lift = min(lifts, key=lambda value: abs(value - 0.05))
    size = float(row[f"customers_for_{lift:g}"])  # numpy integers are no Python int
    if not _finite(size):
        return ""
    return n_(
        "To detect a {change} change of {metric}, a test needs about {customers} customers in "
        "each variant; with the {n:,} per variant of the tests reviewed it detects about "
        "{detectable}.",
        "To detect a {change} change of {metric}, a test needs about {customers} customers in "
        "each variant; with the {n:,} per variant of the tests reviewed it detects about "
        "{detectable}.",
        int(row["typical_customers"]),
        change=_change(lift),
        metric=metric_name(metric),
        customers=_number(size, ",.0f"),
        detectable=_change(float(row["detectable_change"])),
    )


def planning_caption(planning: PlanningResults) -> str:
    """What the planning table assumes, in one sentence."""
    table = planning.table
    if table.empty:
        return _("No control group has a complete window yet to plan from.")
    return n_(
        "Customers needed in each of two variants to detect each change with {power:.0%} power "
        "at a {alpha:g} significance level, from the {customers:,} control-group customers of "
        "the reviewed tests over {n} day.",
        "Customers needed in each of two variants to detect each change with {power:.0%} power "
        "at a {alpha:g} significance level, from the {customers:,} control-group customers of "
        "the reviewed tests over {n} days.",
        int(planning.window_days),
        power=planning.power,
        alpha=planning.alpha,
        customers=int(table["customers"].iloc[0]),
    )


def assignments_shown(review: SplitTestReview) -> pd.DataFrame:
    """Assignment rows read, accepted and set aside per experiment with rows set aside, and
    the reasons with any rows."""
    table = review.assignments.accounting
    table = table.loc[table["rejected"] > 0]
    reasons = [c for c in table.columns[4:] if table[c].sum() > 0]
    shown = table[["experiment_id", "read", "accepted", "rejected", *reasons]].rename(
        columns={
            "experiment_id": _("Experiment"),
            "read": _("Rows read"),
            "accepted": _("Accepted"),
            "rejected": _("Set aside"),
        }
    )
    return shown.rename(columns={r: label_shown(REASON_LABELS.get(r, r)) for r in reasons})


#: Segmentation names as a manager reads them.
SEGMENTATION_LABELS = {
    "new_vs_returning": N_("New or returning"),
    "acquisition_channel": N_("Acquisition channel"),
    "region": N_("Region"),
}
#: Segment names custkit gives (others are the store's own values, shown as they are).
SEGMENT_LABELS = {
    "new": N_("new customers"),
    "returning": N_("returning customers"),
    "(unknown)": N_("(unknown)"),
}


def segments_shown(segments: SegmentResults, currency: str = "") -> pd.DataFrame:
    """Effects by segment (:func:`custkit.splittest.segments.segment_results`) as text."""
    table, srm, alpha = segments.table, segments.srm_alert, segments.alpha
    bh = segments.multiple_testing == "bh"
    single = table["variant"].nunique() <= 1
    rows = []
    for row in table.to_dict("records"):
        segment = row["segment"]
        shown = {
            _("Segmentation"): _(SEGMENTATION_LABELS.get(row["segmentation"], row["segmentation"])),
            _("Segment"): _(SEGMENT_LABELS[segment]) if segment in SEGMENT_LABELS else segment,
        }
        if not single:
            shown[_("Variant")] = row["variant"]
        shown.update(
            {
                _("Control"): format_value(row["value_control"], row["unit"], currency),
                _("Challenger"): format_value(row["value_variant"], row["unit"], currency),
                _("Change"): _change(row["estimate"]),
                _("Interval"): _interval(row["ci_low"], row["ci_high"]),
                _("p-value"): _p(row["p_value"]),
                _("Adjusted p-value"): _p(row["p_adjusted"]),
                _("Customers"): _number(row["customers_control"], ",")
                + " / "
                + _number(row["customers_variant"], ","),
                _("Reading"): reading({**row, "p_holm": row["p_adjusted"]}, alpha, srm, bh),
            }
        )
        rows.append(shown)
    return pd.DataFrame(rows)


def segments_line(segments: SegmentResults, experiment_id: str, code: str = "no_difference") -> str:
    """The segment differences of one experiment that survive the adjustment over the segments
    (:func:`custkit.splittest.segments.segment_results`) and change what to do, as one line for
    the page; ``""`` when there is none.

    *code* is the experiment's verdict (:attr:`~custkit.splittest.verdicts.Verdict.code`). A
    segment counts when its adjusted p-value is below alpha and it goes against the verdict: a
    segment that loses in a test to ship, one that gains in a test whose challenger is stopped,
    any in a test without a difference overall. None is shown for a broken split (no segment of
    it can be trusted) nor for a test too early to judge (its segments are provisional too).
    """
    table = segments.table
    if segments.srm_alert or table.empty or code in ("srm", "too_early"):
        return ""
    kept = table.loc[table["significant"].fillna(False).astype(bool)]
    if code == "ship":  # a segment that gains too says nothing the verdict does not
        kept = kept.loc[kept["estimate"] < 0]
    elif code == "keep_control":
        kept = kept.loc[kept["estimate"] > 0]
    if kept.empty:
        return ""
    items = [
        _(
            "{segment} ({segmentation}): {variant_quoted} {change} ({low} … {high})",
            segment=_(SEGMENT_LABELS[row["segment"]])
            if row["segment"] in SEGMENT_LABELS
            else row["segment"],
            segmentation=_lower(
                _(SEGMENTATION_LABELS.get(row["segmentation"], row["segmentation"]))
            ),
            variant_quoted=quoted(row["variant"]),
            change=_change(row["estimate"]),
            low=_change(row["ci_low"]),
            high=_change(row["ci_high"]),
        )
        for row in kept.to_dict("records")
    ]
    return _(
        "{experiment}, {metric} by segment: a difference that survives the adjustment for the "
        "many segments compared — {items}.",
        experiment=experiment_id,
        metric=metric_name(segments.metric),
        items="; ".join(items),
    )


def segments_caption(segments: SegmentResults) -> str:
    """What the effects by segment show, and the multiplicity note."""
    families = segments.families
    method = _("Benjamini–Hochberg") if segments.multiple_testing == "bh" else _("Holm")
    text = n_(
        "{metric} over {n} day by segment: the change within each segment, its interval and "
        "p-value.",
        "{metric} over {n} days by segment: the change within each segment, its interval and "
        "p-value.",
        int(segments.window_days),
        metric=metric_name(segments.metric),
    )
    text = text[:1].upper() + text[1:]
    if families:
        text += " " + n_(
            "Split into enough segments, any test shows a difference somewhere by chance, so "
            "the p-values are adjusted ({method}) over each segmentation's comparisons (up to "
            "{n}): trust a segment's difference only when its adjusted p-value is below {alpha}.",
            "Split into enough segments, any test shows a difference somewhere by chance, so "
            "the p-values are adjusted ({method}) over each segmentation's comparisons (up to "
            "{n}): trust a segment's difference only when its adjusted p-value is below {alpha}.",
            max(families.values()),
            method=method,
            alpha=_number(segments.alpha, "g"),
        )
    skipped = segments.skipped
    if skipped:
        text += " " + _(
            "Not shown, as the store's customers table has no such column: {names}.",
            names=", ".join(_(SEGMENTATION_LABELS.get(s, s)) for s in skipped),
        )
    return text


#: What each table and chart folded under an experiment shows: (name, how to read it).
READING_GUIDE = (
    (
        N_("Metrics by window"),
        N_(
            "Each customer is followed for 30, 60 and 90 days from their own exposure and counts "
            "in a window only once it is over; a window marked * is not over for every customer "
            "yet. The change is the challenger against the control, with its interval; the "
            "adjusted p-value allows for looking at many metrics and windows at once."
        ),
    ),
    (
        N_("Chart of intervals"),
        N_(
            "A dot is the change, the bar its interval: a bar across zero means no clear "
            "difference."
        ),
    ),
    (
        N_("By month since exposure"),
        N_(
            "Month 1 is days 1–30 after exposure, month 2 days 31–60, month 3 days 61–90: an "
            "effect that shows only from month 2 on is the reason to wait three months."
        ),
    ),
    (
        N_("CUPED"),
        N_(
            "What each customer bought before the test removes noise: the change stays, the "
            "interval narrows by the share of variance removed."
        ),
    ),
    (
        N_("Bayesian view"),
        N_(
            "The chance that the challenger is better, and what each choice costs per customer "
            "on average if it turns out wrong."
        ),
    ),
    (
        N_("Monthly looks"),
        N_(
            "A test may be looked at every month without false alarms while each look is held to "
            "the stricter O'Brien–Fleming boundary; it stops before its judge date only when a "
            "look crosses it. A look once reported is kept as it was."
        ),
    ),
)


def reading_guide() -> pd.DataFrame:
    """How to read the tables and charts folded under each experiment, in the report language."""
    return pd.DataFrame(
        [
            {_("Table or chart"): _(name), _("How to read it"): _(text)}
            for name, text in READING_GUIDE
        ]
    )
