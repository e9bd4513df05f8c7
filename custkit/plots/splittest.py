"""Figures for the split-test report. Each function takes a result computed by
:mod:`custkit.splittest.report` and returns a matplotlib ``Figure``; none computes a statistic.

A test with a sample-ratio mismatch (``srm_alert``) gets a red warning strip across
the top of every figure, as its tables do.
"""

from __future__ import annotations

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from custkit.i18n import _, format_date, format_value, n_
from custkit.plots.audit import _GAINED, _LOST, _MAIN, _SECOND, _figure
from custkit.plots.style import draws_text_as_written
from custkit.splittest.findings import quoted
from custkit.splittest.metrics import METRICS
from custkit.splittest.results import MetricResults, MonthResults, SequentialLooks

_WINDOW_COLOURS = (_SECOND, "#2a9d8f", _MAIN, "#8d99ae", "#6a4c93")
_METRIC_COLOURS = {"conversion": _GAINED, "orders": _SECOND, "revenue": _MAIN, "margin": "#6a4c93"}


def _srm_strip(fig: Figure, alert: bool) -> None:
    if alert:  # a suptitle: the constrained layout makes room for it
        fig.suptitle(
            _("Sample-ratio mismatch: the split is broken, these results cannot be trusted"),
            color="white",
            fontsize=9,
            fontweight="bold",
            bbox={"facecolor": "#c62828", "edgecolor": "none", "pad": 4},
        )


def _visible_range(frame: pd.DataFrame) -> tuple[float, float]:
    """Relative changes shown: the intervals, but not below −100% (a change cannot be lower)
    nor above +100% or the largest estimate. Intervals beyond are cut with an arrow: a
    delta-method interval of a rare metric can reach ±500%, which would squeeze every other
    interval to a dot."""
    estimates = frame["estimate"].to_numpy(dtype=float) if len(frame) else np.zeros(0)
    finite = estimates[np.isfinite(estimates)]
    if not finite.size:
        return -0.1, 0.1
    cap = max(1.0, float(finite.max()) * 1.1)
    lows = frame["ci_low"].to_numpy(dtype=float)
    highs = frame["ci_high"].to_numpy(dtype=float)
    low = np.nanmin(np.r_[lows[np.isfinite(lows)], finite, 0.0])
    high = np.nanmax(np.r_[highs[np.isfinite(highs)], finite, 0.0])
    return max(float(low), -1.0), min(float(high), cap)


def _interval(ax, low, high, at, limits, colour, vertical=False, style="-") -> None:
    """An interval from *low* to *high* at position *at*, cut to *limits* with arrow heads."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return
    lo, hi = max(low, limits[0]), min(high, limits[1])
    xs, ys = ([at, at], [lo, hi]) if vertical else ([lo, hi], [at, at])
    ax.plot(xs, ys, color=colour, linewidth=2, linestyle=style)
    for cut, end, marker in ((low < limits[0], lo, "v<"), (high > limits[1], hi, "^>")):
        if cut:
            point = (at, end) if vertical else (end, at)
            ax.plot(*point, marker=marker[0] if vertical else marker[1], color=colour, ms=7)


def _title(experiment: str, text: str) -> str:
    """``exp_month2: effect on…``, or the text alone (capitalised) without an experiment."""
    return f"{experiment}: {text}" if experiment else text[:1].upper() + text[1:]


def _metric_label(label: object) -> str:
    """A metric's label (``Revenue per customer``) in the report language."""
    return _(str(label))


def _percent_axis(axis) -> None:
    """Relative changes as per cents, written the report language's way, each tick exactly
    (``2.5%``, never a rounded ``2%`` or ``3%`` at 0.025): as few decimals as the tick needs."""
    axis.set_major_formatter(lambda value, _pos: percent_tick(value))


def percent_tick(value: float) -> str:
    """A tick at relative change *value* as per cents with the fewest decimals that write it
    exactly (up to 3; matplotlib's locators put ticks on 1, 2, 2.5 or 5 times a power of ten)."""
    per_cent = value * 100
    decimals = next((d for d in range(3) if abs(round(per_cent, d) - per_cent) < 1e-6), 3)
    return format_value(0.0 if abs(per_cent) < 1e-9 else value, f".{decimals}%").replace(
        "-", "\u2212"
    )


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="grey")
    ax.set_xticks([])
    ax.set_yticks([])


@draws_text_as_written
def plot_effect_intervals(results: MetricResults) -> Figure:
    """Forest plot: every metric's relative change with its interval, one marker per window,
    from :func:`custkit.splittest.report.metric_results`.

    Filled markers are significant after the Holm adjustment; hollow ones are not. Windows not
    yet complete for every customer are drawn dashed.
    """
    metrics = results.table
    labels = list(dict.fromkeys(metrics["label"]))
    windows = sorted(metrics["window_days"].unique())
    variants = list(dict.fromkeys(metrics["variant"]))
    per_metric = len(windows) * max(len(variants), 1)
    fig, ax = _figure(9, max(3.0, 0.2 * len(metrics) + 1.8))
    limits = _visible_range(metrics)
    if metrics.empty or metrics["estimate"].notna().sum() == 0:
        _empty(ax, _("No results yet: no customer has a complete window"))
    step = 0.8 / max(per_metric, 1)
    for i, window in enumerate(windows):
        colour = _WINDOW_COLOURS[i % len(_WINDOW_COLOURS)]
        for j, variant in enumerate(variants):
            rows = metrics.loc[(metrics["window_days"] == window) & (metrics["variant"] == variant)]
            for row in rows.to_dict("records"):
                if not np.isfinite(row["estimate"]):
                    continue
                slot = i * len(variants) + j
                y = labels.index(row["label"]) + (slot - (per_metric - 1) / 2) * step
                style = "--" if row["partial"] else "-"
                _interval(ax, row["ci_low"], row["ci_high"], y, limits, colour, style=style)
                ax.plot(
                    row["estimate"],
                    y,
                    "o",
                    color=colour,
                    markerfacecolor=colour if row["significant"] else "white",
                    markersize=6,
                )
    ax.axvline(0, color="grey", linewidth=1)
    margin = 0.05 * (limits[1] - limits[0])
    ax.set_xlim(limits[0] - margin, limits[1] + margin)
    ax.set_yticks(range(len(labels)), [_metric_label(label) for label in labels])
    ax.invert_yaxis()
    _percent_axis(ax.xaxis)
    control = metrics["control"].iloc[0] if len(metrics) else _("control")
    challenger = " / ".join(quoted(v) for v in variants) or _("challenger")
    ax.set_xlabel(
        _(
            "Change of {challenger} against “{control}” (relative, with interval)",
            challenger=challenger,
            control=control,
        )
    )
    ax.set_ylabel(_("Metric"))
    handles = [
        Line2D(
            [],
            [],
            color=_WINDOW_COLOURS[i % len(_WINDOW_COLOURS)],
            marker="o",
            label=n_("{n} day", "{n} days", int(w)),
        )
        for i, w in enumerate(windows)
    ]
    handles.append(
        Line2D(
            [],
            [],
            color="grey",
            marker="o",
            markerfacecolor="white",
            linestyle="",
            label=_("not significant after Holm"),
        )
    )
    if metrics["partial"].any():
        handles.append(Line2D([], [], color="grey", linestyle="--", label=_("window not complete")))
    ax.legend(handles=handles, fontsize=8, loc="best")
    ax.set_title(_title(results.experiment_id, _("effect on every metric by window from exposure")))
    _srm_strip(fig, results.srm_alert)
    return fig


@draws_text_as_written
def plot_effect_by_month(results: MonthResults) -> Figure:
    """Relative change per month since exposure (month 1 = days 1–30, …) with intervals, one
    line per metric, from :func:`custkit.splittest.report.month_results`.

    An effect that appears only from month 2 on is the case for judging tests after three
    months rather than one.
    """
    months = results.table
    fig, ax = _figure(8, 4)
    shown = months.loc[np.isfinite(months["estimate"].astype(float))] if len(months) else months
    if shown.empty:
        _empty(ax, _("No results yet: no customer has a complete month since exposure"))
    metric_names = list(dict.fromkeys(shown["metric"])) if len(shown) else []
    n = len(metric_names)
    offsets = np.linspace(-0.12, 0.12, n) if n > 1 else np.zeros(n)
    limits = _visible_range(shown)
    for offset, metric in zip(offsets, metric_names, strict=True):
        rows = shown.loc[shown["metric"] == metric]
        colour = _METRIC_COLOURS.get(metric, _LOST)
        x = rows["month"].to_numpy(dtype=float) + offset
        label = _metric_label(rows["label"].iloc[0])
        ax.plot(x, rows["estimate"], color=colour, marker="o", label=label)
        for at, low, high in zip(x, rows["ci_low"], rows["ci_high"], strict=True):
            _interval(ax, low, high, at, limits, colour, vertical=True)
    ax.axhline(0, color="grey", linewidth=1)
    margin = 0.05 * (limits[1] - limits[0])
    ax.set_ylim(limits[0] - margin, limits[1] + margin)
    if len(months):
        ticks = months.drop_duplicates("month")
        ax.set_xticks(
            ticks["month"].to_numpy(),
            [
                _("Month {month}\n(days {days})", month=int(m), days=d)
                for m, d in zip(ticks["month"], ticks["days"], strict=True)
            ],
        )
        ax.legend(fontsize=8, loc="best")
    _percent_axis(ax.yaxis)
    control = months["control"].iloc[0] if len(months) else _("control")
    variant = months["variant"].iloc[0] if len(months) else _("challenger")
    ax.set_xlabel(_("Month since each customer's exposure"))
    ax.set_ylabel(_("Change of “{variant}” against “{control}”", variant=variant, control=control))
    ax.set_title(
        _title(results.experiment_id, _("when the effect happens, by month since exposure"))
    )
    _srm_strip(fig, results.srm_alert)
    return fig


@draws_text_as_written
def plot_sequential(result: SequentialLooks) -> Figure:
    """The monthly looks of a test: z against the O'Brien–Fleming boundary, from
    :func:`custkit.splittest.report.sequential_looks`.

    The test may stop at the first look outside the boundary; before the judge date (dotted
    line) every look is provisional.
    """
    fig, ax = _figure(8, 3.8)
    looks = result.table
    metric, days = result.metric, result.window_days
    if looks.empty:
        _empty(ax, _("No look yet: no customer's {days}-day window is complete", days=days))
    else:
        dates = pd.to_datetime(looks["look_date"])
        ax.plot(dates, looks["z"], "o-", color=_MAIN, label=_("z of the difference at each look"))
        ax.plot(
            dates,
            looks["boundary"],
            "_--",
            color=_LOST,
            ms=18,
            label=_("boundary (O'Brien–Fleming)"),
        )
        ax.plot(dates, -looks["boundary"], "_--", color=_LOST, ms=18)
        ax.set_xlim(dates.min() - pd.Timedelta(days=20), dates.max() + pd.Timedelta(days=20))
        crossed = looks.loc[looks["crossed"].astype(bool)]
        if len(crossed):
            ax.plot(
                pd.to_datetime(crossed["look_date"]),
                crossed["z"],
                "o",
                color=_LOST,
                ms=9,
                markerfacecolor="none",
                label=_("crossed: the test may stop"),
            )
        top = float(np.nanmax(np.abs(np.r_[looks["z"], 4.0])))
        ax.set_ylim(-top * 1.15, top * 1.15)
        for date, fraction, z in zip(dates, looks["information_fraction"], looks["z"], strict=True):
            ax.annotate(
                format_value(fraction, ".0%"),
                (date, z),
                textcoords="offset points",
                xytext=(0, 7),
                ha="center",
                fontsize=7,
                color="grey",
            )
    judge = result.judge_date
    if judge is not None and result.provisional and not looks.empty:
        ax.set_xlim(right=max(ax.get_xlim()[1], mdates.date2num(pd.Timestamp(judge)) + 20))
        ax.axvline(pd.Timestamp(judge), color="grey", linestyle=":", linewidth=1)
        ax.annotate(
            _("judge on {date:%Y-%m-%d}", date=pd.Timestamp(judge)),
            (pd.Timestamp(judge), 0.02),
            xycoords=("data", "axes fraction"),
            ha="right",
            fontsize=8,
            color="grey",
        )
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xlabel(_("Look (end of month); labels: share of customers with a complete window"))
    ax.set_ylabel(_("z (difference ÷ its standard error)"))
    if not looks.empty:
        ax.legend(fontsize=8, loc="best")
        _month_ticks(ax)
    label = _metric_label(METRICS[metric].label if metric in METRICS else metric)
    label = label[:1].lower() + label[1:]
    if isinstance(days, int | np.integer):
        ax.set_title(
            n_(
                "Monthly looks at {metric} over {n} day",
                "Monthly looks at {metric} over {n} days",
                int(days),
                metric=label,
            )
        )
    else:
        ax.set_title(_("Monthly looks at {metric}", metric=label))
    _srm_strip(fig, result.srm_alert)
    return fig


def _month_ticks(ax) -> None:
    """Dates on the x axis as ``Oct 2026`` (``окт. 2026`` in Russian), at most about six months
    labelled."""
    low, high = (mdates.num2date(x) for x in ax.get_xlim())
    months = (high.year - low.year) * 12 + high.month - low.month + 1
    ax.xaxis.set_major_locator(mdates.MonthLocator(interval=max(1, -(-months // 6))))
    ax.xaxis.set_major_formatter(
        lambda value, _pos: format_date(mdates.num2date(value).date(), "%b %Y")
    )
