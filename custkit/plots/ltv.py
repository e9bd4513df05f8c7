"""Figures for the LTV report. Each function takes frames computed by :mod:`custkit.ltv` and
returns a matplotlib ``Figure``; none computes anything a test of the LTV code could not reach.
Money axes name the currency passed in (``currency="RUB"``). Every text is in the report
language (:mod:`custkit.i18n`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, PercentFormatter

from custkit.i18n import _, format_value, n_
from custkit.ltv.clv import tier_label
from custkit.ltv.validation import TrackingData
from custkit.plots.audit import (
    _GAINED,
    _LOST,
    _MAIN,
    _SECOND,
    _THOUSANDS,
    _figure,
    _month_labels,
)
from custkit.plots.style import ReportFigure, draws_text_as_written

_MODEL_COLOURS = (_LOST, _GAINED, _SECOND, "#8d99ae", "#6a4c93", "#f4a261")


def _money(value: float, _unused: object = None) -> str:
    if abs(value) >= 1e6:
        return _("{value:,.1f}M", value=value / 1e6)
    if abs(value) >= 1e4:
        return _("{value:,.0f}k", value=value / 1e3)
    return format_value(value, ",.0f")


def _money_tick(value: float, _unused: object = None) -> str:
    """An axis tick as exactly as it sits on the axis (``1.25M``, ``12.5k``, not ``1.2M``):
    the ticks are round numbers, so the shortest exact form is short."""
    if abs(value) >= 1e6:
        return _("{value}M", value=format_value(round(value / 1e6, 6), "g"))
    if abs(value) >= 1e4:
        return _("{value}k", value=format_value(round(value / 1e3, 6), "g"))
    return format_value(value, ",.0f")


_MONEY = FuncFormatter(_money_tick)


def _currency(currency: str | None) -> str:
    return currency or _("currency")


def _tier_names(tiers: pd.Series) -> list[str]:
    """``top_1%, top_5%, rest`` → ``Top 1%, Next 4% (top 5%), Everyone else``."""
    names, previous = [], 0.0
    for tier in tiers:
        tier = str(tier)
        if tier.startswith("top_") and tier.endswith("%") and previous > 0:
            share = float(tier[4:-1])
            names.append(_("Next {step:g}%\n(top {share:g}%)", step=share - previous, share=share))
            previous = share
        else:
            if tier.startswith("top_") and tier.endswith("%"):
                previous = float(tier[4:-1])
            names.append(tier_label(tier))
    return names


def _group_texts(group: str) -> tuple[str, str]:
    """The axis label and the title of the CLV breakdown by *group* (a column name)."""
    if group == "first_order_month":
        return _("First order month"), _("Customer value by first order month")
    if group == "acquisition_channel":
        return _("Acquisition channel"), _("Customer value by acquisition channel")
    if group == "region":
        return _("Region"), _("Customer value by region")
    if group == "segment":
        return _("Segment"), _("Customer value by segment")
    words = group.replace("_", " ")
    return words.capitalize(), _("Customer value by {group}", group=words)


def _group_name(group: str, name: str) -> str:
    """A group as the figure names it: an RF segment in plain words (``champions`` → ``Best
    customers``), custkit's own labels (``unknown``) in the report language; a store's channels
    and regions are not in the catalogue and stay as written."""
    from custkit.audit.rfm import SEGMENT_ACTIONS, segment_label

    if group == "segment" and name in SEGMENT_ACTIONS:
        return segment_label(name)
    return _(name) if name else name


@draws_text_as_written
def plot_tracking(curves: TrackingData) -> Figure:
    """Cumulative repeat purchases per week: actual vs each purchase model (the BTYD tracking
    plot), from :attr:`custkit.ltv.validation.HoldoutComparison.tracking`.

    Before the calibration end a model's dashed line is its fit of the past; after it, a solid
    line continues from the actual count there with the model's forecast for the customers it
    knew: where it ends against the actual line is the holdout table's total error."""
    fig, ax = _figure(9, 4.5)
    tracking = curves.table
    models = [c for c in tracking.columns if c not in ("week", "week_end", "actual")]
    ax.plot(tracking["week"], tracking["actual"], color="black", linewidth=2, label=_("Actual"))
    weeks, start = curves.calibration_weeks, curves.actual_at_calibration_end
    holdout = (tracking["week"] > weeks).to_numpy() if weeks is not None else None
    for i, name in enumerate(models):
        colour = _MODEL_COLOURS[i % len(_MODEL_COLOURS)]
        if holdout is None or start is None:
            ax.plot(tracking["week"], tracking[name], color=colour, linestyle="--", label=name)
            continue
        # the fit of the past, then the forecast from where customers really were at the
        # calibration end: the same numbers as the holdout table
        before = ~holdout
        ax.plot(
            tracking["week"][before],
            tracking[name][before],
            color=colour,
            linestyle="--",
            label=str(name),
        )
        ax.plot(
            np.r_[weeks, tracking["week"][holdout]],
            np.r_[start, tracking[name][holdout]],
            color=colour,
            linestyle="-",
            linewidth=1.5,
        )
    if weeks is not None:
        ax.axvline(weeks, color="grey", linestyle=":", linewidth=1)
        ax.annotate(
            _("end of calibration →"),
            (weeks, 0.02),
            xycoords=("data", "axes fraction"),
            ha="right",
            fontsize=8,
            color="grey",
        )
    ax.set_xlabel(_("Weeks since the first purchase in the data"))
    ax.set_ylabel(_("Cumulative repeat purchases"))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(_THOUSANDS)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(_("Repeat purchases: actual vs models (holdout after the dotted line)"))
    return fig


@draws_text_as_written
def plot_clv_distribution(clv: pd.DataFrame, currency: str | None = None) -> Figure:
    """Histogram of CLV on a log scale, from :func:`custkit.ltv.customer_lifetime_value`.

    Customers with a CLV of zero (or not scored) cannot sit on a log axis; their count is
    written on the figure.
    """
    fig, ax = _figure(8, 4)
    scored = clv.loc[clv["status"] == "scored", "clv"] if "status" in clv else clv["clv"]
    values = scored.to_numpy(dtype=np.float64)
    positive = values[values > 0]
    if len(positive):
        low, high = positive.min(), positive.max()
        high = high if high > low else low * 10
        bins = np.logspace(np.log10(low), np.log10(high), 40)
        ax.hist(positive, bins=bins, color=_MAIN)
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10))
        ax.xaxis.set_major_formatter(_MONEY)
        median = float(np.median(values))
        mean = float(values.mean())
        lines = (
            (median, _("median: {value}", value=_money(median)), _SECOND),
            (mean, _("mean: {value}", value=_money(mean)), _LOST),
        )
        for value, label, colour in lines:
            if value > 0:
                ax.axvline(value, color=colour, linewidth=1.5, label=label)
        ax.legend(fontsize=8)
    zero = int((values <= 0).sum()) + int(len(clv) - len(scored))
    if zero:
        ax.annotate(
            n_(
                "{n:,} customer with no value or not scored is not shown",
                "{n:,} customers with no value or not scored are not shown",
                zero,
            ),
            (0.99, 0.97),
            xycoords="axes fraction",
            ha="right",
            va="top",
            fontsize=8,
        )
    months = clv.attrs.get("horizon_months")
    if months:
        xlabel = n_(
            "Customer lifetime value over {n} month ({currency}, log scale)",
            "Customer lifetime value over {n} months ({currency}, log scale)",
            int(months),
            currency=_currency(currency),
        )
    else:
        xlabel = _("Customer lifetime value ({currency}, log scale)", currency=_currency(currency))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(_("Customers (people)"))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole people: ticks say exactly
    ax.yaxis.set_major_formatter(_THOUSANDS)
    ax.set_title(_("How customer value is spread across customers"))
    return fig


@draws_text_as_written
def plot_clv_by_group(by_group: pd.DataFrame, currency: str | None = None, top: int = 15) -> Figure:
    """Mean CLV per customer (left) and total CLV (right) per group, from
    :func:`custkit.ltv.clv_by_group`; the *top* groups by total are shown, but first-order
    months are all shown, oldest first, named as months (``Mar 2025``)."""
    label = str(by_group.columns[0])
    if label == "first_order_month":
        # cohorts in month order, every month (the top months by value would skip some)
        months = pd.PeriodIndex(by_group[label].where(by_group[label] != "unknown"), freq="M")
        shown = by_group.iloc[np.argsort(months.asi8, kind="stable")]
        shown = shown.loc[shown[label] != "unknown"]
        names = _month_labels(shown[label])
    else:
        shown = by_group.head(top)
        names = [_group_name(label, name) for name in shown[label].astype(str)]
    height = max(3.0, (0.25 if label == "first_order_month" else 0.4) * len(shown) + 1.5)
    fig = ReportFigure(figsize=(10, height), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(names))
    left.barh(y, shown["clv_mean"], color=_MAIN)
    right.barh(y, shown["clv_total"], color=_SECOND)
    for i, share in enumerate(shown["clv_share"]):
        text = " " + format_value(share, ".0%")
        right.annotate(text, (shown["clv_total"].iloc[i], i), va="center", fontsize=8)
    left.set_yticks(y, names)
    left.invert_yaxis()
    axis_label, title = _group_texts(label)
    left.set_ylabel(axis_label)
    left.set_xlabel(_("Mean CLV per customer ({currency})", currency=_currency(currency)))
    right.set_xlabel(_("Total CLV ({currency}); share of all value", currency=_currency(currency)))
    for ax in (left, right):
        ax.xaxis.set_major_formatter(_MONEY)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))  # room for "1,5 млн" side by side
    fig.suptitle(title)
    return fig


@draws_text_as_written
def plot_value_ratio(ratios: pd.DataFrame, reference: float = 3.5) -> Figure:
    """Distribution of full value ÷ annual revenue per customer, with the *reference* multiple
    (the often quoted ~3.5×), from :func:`custkit.ltv.value_to_annual_revenue`."""
    fig, ax = _figure(8, 4)
    values = ratios["value_to_annual_revenue"].to_numpy(dtype=np.float64)
    if len(values):
        upper = max(float(np.quantile(values, 0.99)), reference * 1.2)
        ax.hist(np.clip(values, None, upper), bins=40, range=(0, upper), color=_MAIN)
        median = float(np.median(values))
        label = _("store median: {value:.1f}×", value=median)
        ax.axvline(median, color=_SECOND, linewidth=1.5, label=label)
    label = _("often quoted: {value:g}×", value=reference)
    ax.axvline(reference, color=_LOST, linestyle="--", label=label)
    ax.legend(fontsize=8)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _unused: format_value(v, "g") + "×"))
    months = ratios.attrs.get("horizon_months")
    if months:
        xlabel = n_(
            "Full customer value (history + next {n} month) ÷ revenue per year (times)",
            "Full customer value (history + next {n} months) ÷ revenue per year (times)",
            int(months),
        )
    else:
        xlabel = _("Full customer value (history + forecast) ÷ revenue per year (times)")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(_("Customers (people)"))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole people: ticks say exactly
    ax.yaxis.set_major_formatter(_THOUSANDS)
    ax.set_title(_("How many years of revenue a customer is worth"))
    return fig


@draws_text_as_written
def plot_value_at_risk(tiers: pd.DataFrame, currency: str | None = None) -> Figure:
    """Total CLV and value at risk per importance tier, with the tier's mean chance of still
    buying (P(alive), in words), from :func:`custkit.ltv.tier_summary`. Customers not scored
    are left out."""
    shown = tiers.loc[tiers["tier"] != "not_scored"]
    fig, ax = _figure(8, 4.5)
    labels = _tier_names(shown["tier"])
    x = np.arange(len(labels))
    ax.bar(x, shown["clv_total"], color=_GAINED, label=_("Total CLV"))
    at_risk = _("of which at risk (value × chance they have stopped buying)")
    ax.bar(x, shown["value_at_risk"], color=_LOST, label=at_risk)
    for i, (total, alive) in enumerate(zip(shown["clv_total"], shown["p_alive_mean"], strict=True)):
        ax.annotate(
            _("still buying: {share}", share=format_value(alive, ".0%")),
            (i, total),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_xticks(x, labels)
    ax.set_xlabel(_("Customers ranked by value"))
    ax.set_ylabel(_("Value ({currency})", currency=_currency(currency)))
    ax.yaxis.set_major_formatter(_MONEY)
    ax.set_ylim(0, max(float(shown["clv_total"].max()), 1.0) * 1.15)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(_("Where the value is, and how much of it may walk away"))
    return fig


@draws_text_as_written
def plot_cohort_profit(cohorts: pd.DataFrame, currency: str | None = None) -> Figure:
    """Historic revenue (and margin) per customer by first-order month, from
    :func:`custkit.ltv.cohort_profit`: bars are means, dots medians; the share of all revenue
    each cohort brought is on the right axis."""
    fig, ax = _figure(10, 4.5)
    x = np.arange(len(cohorts))
    labels = _month_labels(cohorts["cohort"])
    has_margin = "margin_mean" in cohorts.columns
    width = 0.4 if has_margin else 0.7
    offset = width / 2 if has_margin else 0.0
    ax.bar(x - offset, cohorts["revenue_mean"], width, color=_MAIN, label=_("Revenue, mean"))
    ax.plot(x - offset, cohorts["revenue_median"], "o", color="black", ms=3, label=_("median"))
    if has_margin:
        ax.bar(x + offset, cohorts["margin_mean"], width, color=_SECOND, label=_("Margin, mean"))
        ax.plot(x + offset, cohorts["margin_median"], "o", color="black", ms=3)
    ax.set_xticks(x, labels, rotation=45, ha="right")
    ax.set_xlabel(_("Month of first purchase"))
    ax.set_ylabel(_("Per customer to date ({currency})", currency=_currency(currency)))
    ax.yaxis.set_major_formatter(_MONEY)
    share = ax.twinx()
    revenue_share = _("Share of all revenue")
    share.plot(x, cohorts["revenue_share"], color=_LOST, marker=".", label=revenue_share)
    share.set_ylabel(_("Share of all revenue (%)"))
    share.yaxis.set_major_formatter(PercentFormatter(1.0))  # as many decimals as the ticks
    share.set_ylim(bottom=0)
    handles = ax.get_legend_handles_labels()
    extra = share.get_legend_handles_labels()
    ax.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize=8, loc="upper right")
    ax.set_title(_("What each cohort has brought so far (older cohorts had longer to buy)"))
    return fig
