"""Figures for the LTV report. Each function takes frames computed by :mod:`custkit.ltv` and
returns a matplotlib ``Figure``; none computes anything a test of the LTV code could not reach.
Money axes name the currency passed in (``currency="RUB"``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, PercentFormatter

from custkit.plots.audit import _GAINED, _LOST, _MAIN, _SECOND, _THOUSANDS, _figure

_MODEL_COLOURS = (_LOST, _GAINED, _SECOND, "#8d99ae", "#6a4c93", "#f4a261")
_TIER_LABELS = {"rest": "Everyone else", "not_scored": "Not scored"}


def _money(value: float, _: object = None) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.1f}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:,.0f}k"
    return f"{value:,.0f}"


_MONEY = FuncFormatter(_money)


def _horizon_text(frame: pd.DataFrame) -> str:
    months = frame.attrs.get("horizon_months")
    return f" over {months} months" if months else ""


def _tier_names(tiers: pd.Series) -> list[str]:
    """``top_1%, top_5%, rest`` → ``Top 1%, Next 4% (top 5%), Everyone else``."""
    names, previous = [], 0.0
    for tier in tiers:
        tier = str(tier)
        if tier.startswith("top_") and tier.endswith("%"):
            share = float(tier[4:-1])
            names.append(
                f"Top {share:g}%"
                if previous == 0
                else f"Next {share - previous:g}%\n(top {share:g}%)"
            )
            previous = share
        else:
            names.append(_TIER_LABELS.get(tier, tier))
    return names


def plot_tracking(tracking: pd.DataFrame) -> Figure:
    """Cumulative repeat purchases per week: actual vs each purchase model (the BTYD tracking
    plot), from :attr:`custkit.ltv.validation.HoldoutComparison.tracking`."""
    fig, ax = _figure(9, 4.5)
    models = [c for c in tracking.columns if c not in ("week", "week_end", "actual")]
    ax.plot(tracking["week"], tracking["actual"], color="black", linewidth=2, label="Actual")
    for i, name in enumerate(models):
        ax.plot(
            tracking["week"],
            tracking[name],
            color=_MODEL_COLOURS[i % len(_MODEL_COLOURS)],
            linestyle="--",
            label=str(name),
        )
    weeks = tracking.attrs.get("calibration_weeks")
    if weeks is not None:
        ax.axvline(weeks, color="grey", linestyle=":", linewidth=1)
        ax.annotate(
            "end of calibration →",
            (weeks, 0.02),
            xycoords=("data", "axes fraction"),
            ha="right",
            fontsize=8,
            color="grey",
        )
    ax.set_xlabel("Weeks since the first purchase in the data")
    ax.set_ylabel("Cumulative repeat purchases")
    ax.yaxis.set_major_formatter(_THOUSANDS)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("Repeat purchases: actual vs models (holdout after the dotted line)")
    return fig


def plot_clv_distribution(clv: pd.DataFrame, currency: str = "currency") -> Figure:
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
        for value, label, colour in ((median, "median", _SECOND), (mean, "mean", _LOST)):
            if value > 0:
                ax.axvline(value, color=colour, linewidth=1.5, label=f"{label}: {_money(value)}")
        ax.legend(fontsize=8)
    zero = int((values <= 0).sum()) + int(len(clv) - len(scored))
    if zero:
        ax.annotate(
            f"{zero:,} customers with no value or not scored are not shown",
            (0.99, 0.97),
            xycoords="axes fraction",
            ha="right",
            va="top",
            fontsize=8,
        )
    ax.set_xlabel(f"Customer lifetime value{_horizon_text(clv)} ({currency}, log scale)")
    ax.set_ylabel("Customers (people)")
    ax.yaxis.set_major_formatter(_THOUSANDS)
    ax.set_title("How customer value is spread across customers")
    return fig


def plot_clv_by_group(by_group: pd.DataFrame, currency: str = "currency", top: int = 15) -> Figure:
    """Mean CLV per customer (left) and total CLV (right) per group, from
    :func:`custkit.ltv.clv_by_group`; the *top* groups by total are shown."""
    label = str(by_group.columns[0])
    shown = by_group.head(top)
    fig = Figure(figsize=(10, max(3.0, 0.4 * len(shown) + 1.5)), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    names = shown[label].astype(str).tolist()
    y = np.arange(len(names))
    left.barh(y, shown["clv_mean"], color=_MAIN)
    right.barh(y, shown["clv_total"], color=_SECOND)
    for i, share in enumerate(shown["clv_share"]):
        right.annotate(f" {share:.0%}", (shown["clv_total"].iloc[i], i), va="center", fontsize=8)
    left.set_yticks(y, names)
    left.invert_yaxis()
    left.set_ylabel(label.replace("_", " ").capitalize())
    left.set_xlabel(f"Mean CLV per customer ({currency})")
    right.set_xlabel(f"Total CLV ({currency}); share of all value")
    for ax in (left, right):
        ax.xaxis.set_major_formatter(_MONEY)
    fig.suptitle(f"Customer value by {label.replace('_', ' ')}")
    return fig


def plot_value_ratio(ratios: pd.DataFrame, reference: float = 3.5) -> Figure:
    """Distribution of full value ÷ annual revenue per customer, with the *reference* multiple
    (the often quoted ~3.5×), from :func:`custkit.ltv.value_to_annual_revenue`."""
    fig, ax = _figure(8, 4)
    values = ratios["value_to_annual_revenue"].to_numpy(dtype=np.float64)
    if len(values):
        upper = max(float(np.quantile(values, 0.99)), reference * 1.2)
        ax.hist(np.clip(values, None, upper), bins=40, range=(0, upper), color=_MAIN)
        median = float(np.median(values))
        ax.axvline(median, color=_SECOND, linewidth=1.5, label=f"store median: {median:.1f}×")
    ax.axvline(reference, color=_LOST, linestyle="--", label=f"often quoted: {reference:g}×")
    ax.legend(fontsize=8)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    months = ratios.attrs.get("horizon_months")
    future = f"next {months} months" if months else "forecast"
    ax.set_xlabel(f"Full customer value (history + {future}) ÷ revenue per year (times)")
    ax.set_ylabel("Customers (people)")
    ax.yaxis.set_major_formatter(_THOUSANDS)
    ax.set_title("How many years of revenue a customer is worth")
    return fig


def plot_value_at_risk(tiers: pd.DataFrame, currency: str = "currency") -> Figure:
    """Total CLV and value at risk per importance tier, with mean P(alive), from
    :func:`custkit.ltv.tier_summary`. Customers not scored are left out."""
    shown = tiers.loc[tiers["tier"] != "not_scored"]
    fig, ax = _figure(8, 4.5)
    labels = _tier_names(shown["tier"])
    x = np.arange(len(labels))
    ax.bar(x, shown["clv_total"], color=_GAINED, label="Total CLV")
    ax.bar(x, shown["value_at_risk"], color=_LOST, label="of which at risk (CLV × (1 − P(alive)))")
    for i, (total, alive) in enumerate(zip(shown["clv_total"], shown["p_alive_mean"], strict=True)):
        ax.annotate(
            f"P(alive) {alive:.0%}",
            (i, total),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_xticks(x, labels)
    ax.set_xlabel("Customers ranked by value")
    ax.set_ylabel(f"Value ({currency})")
    ax.yaxis.set_major_formatter(_MONEY)
    ax.set_ylim(0, max(float(shown["clv_total"].max()), 1.0) * 1.15)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("Where the value is, and how much of it may walk away")
    return fig


def plot_cohort_profit(cohorts: pd.DataFrame, currency: str = "currency") -> Figure:
    """Historic revenue (and margin) per customer by first-order month, from
    :func:`custkit.ltv.cohort_profit`: bars are means, dots medians; the share of all revenue
    each cohort brought is on the right axis."""
    fig, ax = _figure(10, 4.5)
    x = np.arange(len(cohorts))
    labels = [p.strftime("%b %Y") for p in pd.PeriodIndex(cohorts["cohort"], freq="M")]
    has_margin = "margin_mean" in cohorts.columns
    width = 0.4 if has_margin else 0.7
    offset = width / 2 if has_margin else 0.0
    ax.bar(x - offset, cohorts["revenue_mean"], width, color=_MAIN, label="Revenue, mean")
    ax.plot(x - offset, cohorts["revenue_median"], "o", color="black", ms=3, label="median")
    if has_margin:
        ax.bar(x + offset, cohorts["margin_mean"], width, color=_SECOND, label="Margin, mean")
        ax.plot(x + offset, cohorts["margin_median"], "o", color="black", ms=3)
    ax.set_xticks(x, labels, rotation=45, ha="right")
    ax.set_xlabel("Month of first purchase")
    ax.set_ylabel(f"Per customer to date ({currency})")
    ax.yaxis.set_major_formatter(_MONEY)
    share = ax.twinx()
    share.plot(x, cohorts["revenue_share"], color=_LOST, marker=".", label="Share of all revenue")
    share.set_ylabel("Share of all revenue (%)")
    share.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    share.set_ylim(bottom=0)
    handles = ax.get_legend_handles_labels()
    extra = share.get_legend_handles_labels()
    ax.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize=8, loc="upper right")
    ax.set_title("What each cohort has brought so far (older cohorts had longer to buy)")
    return fig
