"""One experiment's section of the split-test report as a manager reads it, and the report's
overview tables: the numbers of :mod:`custkit.splittest.report`, formatted with their units.

A row of the metric table mixes rates, counts and money, which a column-wise table formatter
cannot show, so the tables here are text: ``16.4%``, ``1,737 RUB``, ``+27.2%``,
``+15.0% … +39.4%``, ``<0.001``. The numeric frames stay in :class:`ExperimentSection` for the
figures and for anyone who wants to compute further.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from custkit.findings import Finding
from custkit.splittest.metrics import METRICS
from custkit.splittest.report import (
    SplitTestReview,
    Verdict,
    bayesian_table,
    cuped_table,
    design_check,
    design_finding,
    judge_date,
    metric_table,
    month_table,
    sequential_table,
    srm_banner,
    summary_table,
    verdict,
    verdict_finding,
)

MINUS = "\u2212"


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
    metrics, months, sequential : pandas.DataFrame
        Numeric results (:func:`~custkit.splittest.report.metric_table`, ``month_table``,
        ``sequential_table``) for the figures.
    metrics_shown, cuped_shown, bayes_shown, sequential_shown : pandas.DataFrame
        The same and the CUPED, Bayesian and sequential views, as text.
    metrics_caption, cuped_caption, bayes_caption, sequential_caption : str
    """

    experiment_id: str
    title: str
    verdict: Verdict
    verdict_finding: Finding
    design_finding: Finding
    srm_banner: str
    design: pd.DataFrame
    metrics: pd.DataFrame
    metrics_shown: pd.DataFrame
    metrics_caption: str
    months: pd.DataFrame
    cuped_shown: pd.DataFrame
    cuped_caption: str
    bayes_shown: pd.DataFrame
    bayes_caption: str
    sequential: pd.DataFrame
    sequential_shown: pd.DataFrame
    sequential_caption: str


def experiment_section(
    review: SplitTestReview, experiment_id: str, currency: str = ""
) -> ExperimentSection:
    """Everything one experiment's section of the report shows."""
    design = review.designs[experiment_id]
    result = verdict(review, experiment_id)
    metrics = metric_table(review, experiment_id)
    judge = judge_date(review, experiment_id)
    provisional = (
        f" Windows marked * are not complete for every customer yet: provisional until "
        f"{judge:%Y-%m-%d}."
        if metrics["partial"].any() and judge is not None
        else ""
    )
    confidence = f"{1 - review.alpha:.0%}"
    cuped = cuped_table(review, experiment_id)
    pre = review.sums.pre_exposure_days
    looks = sequential_table(review, experiment_id)
    return ExperimentSection(
        experiment_id=experiment_id,
        title=f"{experiment_id}: {' vs '.join(reversed(design.variants))}",
        verdict=result,
        verdict_finding=verdict_finding(review, result),
        design_finding=design_finding(review, experiment_id),
        srm_banner=srm_banner(review, experiment_id),
        design=design_shown(design_check(review, experiment_id)),
        metrics=metrics,
        metrics_shown=metrics_shown(metrics, currency),
        metrics_caption=(
            f"Every metric over {', '.join(map(str, review.windows_days))} days from each "
            f"customer's exposure: change of {_challengers(design.challengers)} against "
            f"{design.control}, {confidence} interval, p-value and "
            f"{metrics.attrs['family']}.{provisional}"
        ),
        months=month_table(review, experiment_id),
        cuped_shown=cuped_shown(cuped),
        cuped_caption=(
            f"Revenue adjusted for each customer's revenue in the {pre} days before exposure "
            "(CUPED): the same effect, measured with less noise."
            if pre
            else "CUPED is off: no pre-exposure period was set."
        ),
        bayes_shown=bayes_shown(bayesian_table(review, experiment_id), currency),
        bayes_caption=(
            f"Over {review.horizon_days} days: the chance that {_challengers(design.challengers)} "
            "is better, and what each choice costs per customer on average if it is the wrong "
            "one. Priors: Beta(1, 1) on rates (exact), flat on means (normal approximation)."
        ),
        sequential=looks,
        sequential_shown=sequential_shown(looks),
        sequential_caption=sequential_caption(looks),
    )


def _challengers(variants: Sequence[str]) -> str:
    return " and ".join(variants) if variants else "no challenger"


# ============================================================================ formatting
def _signed(text: str) -> str:
    return text.replace("-", MINUS)


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _change(value: float) -> str:
    if not _finite(value):
        return "—"
    return "0.0%" if abs(value) < 0.0005 else _signed(f"{value:+.1%}")


def _interval(low: float, high: float) -> str:
    if not (_finite(low) and _finite(high)):
        return "—"
    return f"{_change(low)} … {_change(high)}"


def _p(value: float) -> str:
    if not _finite(value):
        return "—"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def format_value(value: float, unit: str, currency: str = "") -> str:
    """A metric's value with its unit: ``36.5%``, ``0.52``, ``1,737 RUB``."""
    if not _finite(value):
        return "—"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "money":
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
        return _signed(text) + (f" {currency}" if currency else "")
    return _signed(f"{value:,.2f}")


def _chance(value: float) -> str:
    """A probability without a false certainty: ``>99.9%`` rather than ``100.0%``."""
    if not _finite(value):
        return "—"
    if value > 0.999:
        return ">99.9%"
    return "<0.1%" if value < 0.001 else f"{value:.1%}"


def _loss(value: float, unit: str, currency: str) -> str:
    """Expected loss: a rate difference in percentage points, else in the metric's units."""
    if not _finite(value):
        return "—"
    if unit == "share":
        return f"{value * 100:.2f} pp"
    return format_value(value, unit, currency)


def design_shown(table: pd.DataFrame) -> pd.DataFrame:
    """The design check as text."""
    shown = pd.DataFrame(
        {
            "Variant": table["variant"],
            "Role": table["role"],
            "Planned share": [f"{s:.1%}" if _finite(s) else "—" for s in table["planned_share"]],
            "Actual share": [f"{s:.1%}" if _finite(s) else "—" for s in table["actual_share"]],
            "Customers": table["customers"],
            "First exposure": table["first_exposure"],
            "Last exposure": table["last_exposure"],
        }
    )
    for column in table.columns:
        if column.startswith("complete_"):
            days = column.removeprefix("complete_").removesuffix("d")
            shown[f"{days}-day window complete"] = table[column]
    return shown


def reading(row: pd.Series | dict, alpha: float, srm: bool) -> str:
    """One metric result in words."""
    if srm:
        return "not trustworthy (SRM)"
    if not _finite(row["p_value"]):
        return "not enough data"
    if row["p_holm"] < alpha:
        return f"{row['variant']} {'higher' if row['estimate'] > 0 else 'lower'}"
    if row["p_value"] < alpha:
        return "unclear (not after Holm)"
    return "no clear difference"


def metrics_shown(table: pd.DataFrame, currency: str = "") -> pd.DataFrame:
    """The metric table as text, one row per window × metric (× challenger)."""
    srm, alpha = table.attrs.get("srm_alert", False), table.attrs.get("alpha", 0.05)
    single = table["variant"].nunique() <= 1
    control = str(table["control"].iloc[0]) if len(table) else "Control"
    variant = str(table["variant"].iloc[0]) if len(table) else "Variant"
    rows = []
    for row in table.to_dict("records"):
        shown = {
            "Window": f"{row['window_days']} days" + (" *" if row["partial"] else ""),
            "Metric": row["label"],
        }
        if not single:
            shown["Variant"] = row["variant"]
        shown[control if single else "Control"] = format_value(
            row["value_control"], row["unit"], currency
        )
        shown[variant if single else "Challenger"] = format_value(
            row["value_variant"], row["unit"], currency
        )
        shown.update(
            {
                "Change": _change(row["estimate"]),
                "Interval": _interval(row["ci_low"], row["ci_high"]),
                "p-value": _p(row["p_value"]),
                "Holm p-value": _p(row["p_holm"]),
                "Customers": f"{row['customers_control']:,} / {row['customers_variant']:,}",
                "Reading": reading(row, alpha, srm),
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
                "Window": f"{row['window_days']} days",
                "Metric": row["label"],
                "Change": _change(row["estimate"]),
                "Interval": _interval(row["ci_low"], row["ci_high"]),
                "p-value": _p(row["p_value"]),
                "Change, CUPED": _change(row["estimate_cuped"]) if row["applied"] else "—",
                "Interval, CUPED": (
                    _interval(row["ci_low_cuped"], row["ci_high_cuped"]) if row["applied"] else "—"
                ),
                "p-value, CUPED": _p(row["p_value_cuped"]) if row["applied"] else "—",
                "Variance removed": (
                    f"{max(row['variance_reduction'], 0.0):.1%}"
                    if row["applied"]
                    else f"off: {row['note']}"
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
                "Metric": row["label"],
                f"Chance {row['variant']} is better": _chance(row["prob_better"]),
                f"Expected loss if keeping {row['control']}": _loss(
                    row["loss_choosing_control"], row["unit"], currency
                ),
                f"Expected loss if choosing {row['variant']}": _loss(
                    row["loss_choosing_variant"], row["unit"], currency
                ),
            }
        )
    return pd.DataFrame(rows)


def sequential_shown(looks: pd.DataFrame) -> pd.DataFrame:
    """The monthly looks as text: who was in, the change, and the boundary it is held to."""
    rows = []
    for row in looks.to_dict("records"):
        rows.append(
            {
                "Look": f"{pd.Timestamp(row['look_date']):%Y-%m-%d}",
                "Customers with a complete window": f"{row['customers']:,}",
                "Share of all": f"{row['information_fraction']:.0%}",
                "Change": _change(row["estimate"]),
                "z": f"{row['z']:.2f}".replace("-", MINUS),
                "Boundary (±)": f"{row['boundary']:.2f}",
                "Decision": "stop: significant" if row["crossed"] else "continue",
            }
        )
    return pd.DataFrame(rows)


def sequential_caption(looks: pd.DataFrame) -> str:
    """What the monthly looks mean for this test, in one sentence."""
    attrs = looks.attrs
    label = METRICS[attrs["metric"]].label.lower()
    head = f"Monthly looks at {label} over {attrs['window_days']} days"
    if looks.empty:
        return f"{head}: no customer's window is complete yet."
    if attrs["crossed"]:
        tail = f"the boundary was crossed on {pd.Timestamp(attrs['crossing_date']):%Y-%m-%d}."
    elif attrs["provisional"]:
        tail = (
            f"no look has crossed the boundary; provisional until "
            f"{pd.Timestamp(attrs['judge_date']):%Y-%m-%d}."
        )
    else:
        tail = "no look crossed the boundary."
    return f"{head}, each held to its O'Brien–Fleming boundary (|z| must reach it to stop): {tail}"


def summary_shown(review: SplitTestReview, currency: str = "") -> pd.DataFrame:
    """The overview of every experiment as text."""
    table = summary_table(review)
    if table.empty:
        return pd.DataFrame(columns=["Experiment", "Verdict"])
    change = f"{review.primary_metric}_change"
    label = METRICS[review.primary_metric].label
    return pd.DataFrame(
        {
            "Experiment": table["experiment"],
            "Variants (control first)": table["variants"],
            "Customers": table["customers"],
            "Exposed": [
                f"{a:%Y-%m-%d} … {b:%Y-%m-%d}" if pd.notna(a) else "—"
                for a, b in zip(table["exposed_from"], table["exposed_to"], strict=True)
            ],
            "SRM p": table["srm_p"],
            f"{label}, {review.horizon_days} days": [_change(v) for v in table[change]],
            "Verdict": table["verdict"],
        }
    )


def planning_shown(table: pd.DataFrame, currency: str = "") -> pd.DataFrame:
    """The planning table as text."""
    lifts = table.attrs.get("lifts", ())
    rows = []
    for row in table.to_dict("records"):
        shown = {
            "Metric": row["label"],
            "Today (control groups)": format_value(row["baseline"], row["unit"], currency),
        }
        for lift in lifts:
            size = row[f"customers_for_{lift:g}"]
            shown[f"Customers per variant to detect {_change(lift)}"] = (
                f"{size:,.0f}" if _finite(size) else "—"
            )
        shown[f"Detectable with {row['typical_customers']:,} per variant"] = _change(
            row["detectable_change"]
        )
        rows.append(shown)
    return pd.DataFrame(rows)


def planning_caption(table: pd.DataFrame) -> str:
    """What the planning table assumes, in one sentence."""
    if table.empty:
        return "No control group has a complete window yet to plan from."
    return (
        f"Customers needed in each of two variants to detect each change with "
        f"{table.attrs['power']:.0%} power at a {table.attrs['alpha']:g} significance level, from "
        f"the {int(table['customers'].iloc[0]):,} control-group customers of the reviewed tests "
        f"over {table.attrs['window_days']} days."
    )


def assignments_shown(review: SplitTestReview) -> pd.DataFrame:
    """Assignment rows read, accepted and set aside per experiment with rows set aside, and
    the reasons with any rows."""
    table = review.assignments.accounting
    table = table.loc[table["rejected"] > 0]
    reasons = [c for c in table.columns[4:] if table[c].sum() > 0]
    shown = table[["experiment_id", "read", "accepted", "rejected", *reasons]].rename(
        columns={
            "experiment_id": "Experiment",
            "read": "Rows read",
            "accepted": "Accepted",
            "rejected": "Set aside",
        }
    )
    return shown.rename(columns={r: r.replace("_", " ").capitalize() for r in reasons})
