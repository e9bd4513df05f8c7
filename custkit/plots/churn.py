"""Figures for the churn report. Each function takes frames computed by :mod:`custkit.churn` and
returns a matplotlib ``Figure``; none computes anything a test of the churn code could not reach,
and none shows personal data (only counts, shares and money). Every text is in the report
language (:mod:`custkit.i18n`)."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter, ScalarFormatter

from custkit.churn.codes import REASON_LABELS, reason_label
from custkit.i18n import _, format_number
from custkit.plots.audit import (
    _GAINED,
    _LOST,
    _MAIN,
    _SECOND,
    _THOUSANDS,
    _figure,
    _heatmap,
    _month_labels,
)
from custkit.plots.ltv import _MONEY
from custkit.plots.style import ReportFigure, draws_text_as_written

__all__ = [
    "plot_calibration",
    "plot_churn_trend",
    "plot_reason_shares",
    "plot_reason_trend",
    "plot_reasons_by_group",
    "plot_risk_drivers",
    "plot_winback_plan",
]


class _Percent(PercentFormatter):
    """Percent ticks with the report language's decimal mark (``1,5%`` in Russian). With
    ``decimals=None`` each tick is written exactly, with no trailing zeros: ``2%``, ``2.5%``
    (matplotlib's own choice gives every tick the same decimals: ``2.0%``)."""

    def __call__(self, x, pos=None):
        if self.decimals is None:
            value = float(f"{self.convert_to_pct(x):.2f}") + 0.0  # no "-0"
            return format_number(f"{value:g}{self.symbol}")
        return format_number(super().__call__(x, pos))


class _Scalar(ScalarFormatter):
    """Plain number ticks with the report language's decimal mark (``0,025`` in Russian)."""

    def __call__(self, x, pos=None):
        return format_number(super().__call__(x, pos))


@draws_text_as_written
def plot_churn_trend(monthly: pd.DataFrame) -> Figure:
    """Monthly churn rate with its 95% interval, and the share of leavers who came back, from
    :func:`custkit.churn.monthly_churn`."""
    fig, ax = _figure(9, 3.6)
    x = np.arange(len(monthly))
    ax.plot(x, monthly["churn_rate"], color=_LOST, marker="o", label=_("Churn rate"))
    ax.fill_between(
        x,
        monthly["churn_rate_low"],
        monthly["churn_rate_high"],
        color=_LOST,
        alpha=0.2,
        label=_("95% interval"),
    )
    ax.set_ylabel(_("Active customers who stopped buying"))
    ax.yaxis.set_major_formatter(_Percent(1.0, decimals=None))  # "2%", not "2.0%"
    ax.set_ylim(0, min(1.0, ax.get_ylim()[1]))  # a share: no tick above 100%
    ax.set_xticks(x, _month_labels(monthly["month"]), rotation=45, ha="right")
    ax.set_xlabel(_("Month the customer churned"))
    back = ax.twinx()
    back.bar(x, monthly["returned_share"], color=_GAINED, alpha=0.35, label=_("Came back since"))
    back.set_ylabel(_("Of them, came back since"))
    back.yaxis.set_major_formatter(_Percent(1.0, decimals=0))
    back.set_ylim(0, 1)
    ax.set_zorder(back.get_zorder() + 1)
    ax.patch.set_visible(False)
    lines = ax.get_legend_handles_labels()
    bars = back.get_legend_handles_labels()
    ax.legend(lines[0] + bars[0], lines[1] + bars[1], loc="upper left", fontsize=8)
    ax.set_title(_("Churn per month, and how many came back later"))
    return fig


@draws_text_as_written
def plot_reason_shares(summary: pd.DataFrame, currency: str = "") -> Figure:
    """Why customers left: share of churned customers by reason (with 95% intervals) and the
    yearly revenue each reason costs, from :func:`custkit.churn.reason_summary`."""
    fig = ReportFigure(figsize=(10, 0.35 * len(summary) + 1.4), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(summary))[::-1]
    labels = [_(str(label)) for label in summary["label"]]
    share = summary["share"].to_numpy()
    error = np.vstack([share - summary["share_low"], summary["share_high"] - share])
    # a share of 100% has a Wilson upper bound of 1 - 1e-16: never a negative error bar
    error = np.clip(error, 0.0, None)
    left.barh(y, share, xerr=error, color=_MAIN, capsize=3)
    left.set_yticks(y, labels)
    left.xaxis.set_major_formatter(_Percent(1.0, decimals=0))
    left.set_xlabel(_("Share of customers who left"))
    left.set_title(_("How many left for each reason"))
    right.barh(y, summary["revenue_lost_per_year"], color=_LOST)
    right.xaxis.set_major_locator(MaxNLocator(4))  # "1,5 млн" is wide: fewer ticks
    right.xaxis.set_major_formatter(_MONEY)
    right.set_xlabel(
        _("Revenue lost per year ({currency})", currency=currency)
        if currency
        else _("Revenue lost per year")
    )
    right.set_title(_("What each reason costs"))
    return fig


@draws_text_as_written
def plot_reason_trend(trend: pd.DataFrame, tells_forgot: bool = True) -> Figure:
    """Customers who churned each month, stacked by reason, from
    :func:`custkit.churn.reason_trend`; *tells_forgot* as in :func:`custkit.churn.reason_label`."""
    months = [c for c in trend.columns if c[:4].isdigit()]
    fig, ax = _figure(9, 4.2)
    x = np.arange(len(months))
    bottom = np.zeros(len(months))
    colours = ["#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51", "#6a4c93", "#8d99ae", "#bbb"]
    for i, row in enumerate(trend.to_dict("records")):
        values = np.array([row[m] for m in months], dtype=float)
        label = reason_label(row["reason"], tells_forgot)
        if row.get("growing", False):
            label = _("{reason} (growing)", reason=label)
        ax.bar(x, values, bottom=bottom, color=colours[i % len(colours)], label=label)
        bottom += values
    ax.set_xticks(x, _month_labels(pd.Index(months)), rotation=45, ha="right")
    ax.set_xlabel(_("Month the customer churned"))
    ax.set_ylabel(_("Customers who churned (people)"))
    ax.yaxis.set_major_formatter(_THOUSANDS)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(_("Reasons for leaving, month by month"))
    return fig


@draws_text_as_written
def plot_reasons_by_group(by_group: pd.DataFrame, tells_forgot: bool = True) -> Figure:
    """Churn rate by group (rows) and reason (columns), from
    :func:`custkit.churn.reasons_by_group`; the 95% intervals are in that table. *tells_forgot*
    as in :func:`custkit.churn.reason_label`."""
    name = by_group.columns[0]
    rates = by_group.pivot_table(index=name, columns="reason", values="rate", observed=True)
    rates = rates.fillna(0.0) * 100
    # custkit's own group labels (RF segments) in the report language; a store's stay as written
    rates.index = [_(str(i).replace("_", " ")) for i in rates.index]
    # reasons on two or three short lines, level: a slanted label costs the figure an inch
    rates.columns = [
        textwrap.fill(reason_label(c, tells_forgot), 16) if c in REASON_LABELS else str(c)
        for c in rates.columns
    ]  # a store's own reason is drawn as written
    fig, ax = _figure(10, 0.4 * len(rates) + 1.9)
    _heatmap(ax, rates, ".1f", cmap="OrRd")
    fig.axes[-1].yaxis.set_major_formatter(_Percent(100.0, decimals=None))  # the colour bar
    ax.set_xticks(ax.get_xticks(), ax.get_xticklabels(), fontsize=8)
    ax.set_xlabel(_("Reason for leaving"))
    ax.set_ylabel(_(str(name).replace("_", " ").capitalize()))
    ax.set_title(_("Customers who left, % of the group, by reason"))
    return fig


@draws_text_as_written
def plot_calibration(calibration: pd.DataFrame) -> Figure:
    """Predicted churn probability vs the share that really churned, per bin (a calibrated model
    lies on the diagonal). Takes ``mean_predicted`` and ``observed_rate`` columns."""
    fig, ax = _figure(5.5, 4.5)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label=_("Perfectly calibrated"))
    ax.plot(
        calibration["mean_predicted"],
        calibration["observed_rate"],
        color=_MAIN,
        marker="o",
        label=_("Risk model"),
    )
    ax.set_xlim(0, 1)  # shares: no tick below 0% or above 100%
    ax.set_ylim(0, 1)
    ax.xaxis.set_major_formatter(_Percent(1.0, decimals=0))
    ax.yaxis.set_major_formatter(_Percent(1.0, decimals=0))
    ax.set_xlabel(_("Predicted chance of not buying in the next period"))
    ax.set_ylabel(_("Share that did not buy"))
    ax.legend(fontsize=8)
    ax.set_title(_("Are the risk scores honest? (holdout)"))
    return fig


@draws_text_as_written
def plot_risk_drivers(drivers: pd.DataFrame, top: int = 12) -> Figure:
    """What drives the risk score: permutation importance (drop in ROC-AUC when a feature is
    shuffled). Takes ``label`` (or ``feature``) and ``importance`` columns."""
    shown = drivers.nlargest(top, "importance").iloc[::-1]
    names = shown["label"] if "label" in shown else shown["feature"]
    fig, ax = _figure(8, 0.35 * len(shown) + 1.5)
    ax.barh(np.arange(len(shown)), shown["importance"], color=_SECOND)
    ax.set_yticks(np.arange(len(shown)), [_(str(n)) for n in names])
    ax.xaxis.set_major_formatter(_Scalar())
    ax.set_xlabel(_("Drop in ROC-AUC when the feature is scrambled"))
    ax.set_title(_("What the risk model looks at"))
    return fig


@draws_text_as_written
def plot_winback_plan(by_action_channel: pd.DataFrame, currency: str = "") -> Figure:
    """Customers to contact per action, stacked by channel, and the revenue each action is
    expected to win back, from :attr:`custkit.churn.WinbackPlan.by_action_channel`."""
    from custkit.churn.winback import ACTIONS, NO_DELIVERY_ACTION, channel_label

    names = {a.code: _(a.text) for a in ACTIONS.values()} | {
        NO_DELIVERY_ACTION.code: _(NO_DELIVERY_ACTION.text)
    }
    customers = by_action_channel.pivot_table(
        index="action", columns="channel", values="customers", aggfunc="sum", observed=True
    ).fillna(0)
    revenue = by_action_channel.groupby("action", observed=True)["expected_revenue_won"].sum()
    order = customers.sum(axis=1).sort_values().index
    customers, revenue = customers.loc[order], revenue.reindex(order)
    fig = ReportFigure(figsize=(11, 0.38 * len(order) + 1.5), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True, width_ratios=(3, 2))
    y = np.arange(len(order))
    left_edge = np.zeros(len(order))
    for i, channel in enumerate(customers.columns):
        colour = (_MAIN, _SECOND, _GAINED, "#8d99ae", "#6a4c93", "#f4a261")[i % 6]
        left.barh(y, customers[channel], left=left_edge, color=colour, label=channel_label(channel))
        left_edge += customers[channel].to_numpy()
    # actions are sentences: two short lines each leave the bars room in any language
    labels = [textwrap.fill(names.get(str(a), str(a)), 55) for a in order]
    left.set_yticks(y, labels, fontsize=8)
    left.xaxis.set_major_formatter(_THOUSANDS)
    left.set_xlabel(_("Customers to contact (people)"))
    left.legend(title=_("Channel"), fontsize=8)
    left.set_title(_("Who gets which message"))
    right.barh(y, revenue, color=_GAINED)
    right.xaxis.set_major_locator(MaxNLocator(4))  # "100 тыс." is wide: fewer ticks
    right.xaxis.set_major_formatter(_MONEY)
    right.set_xlabel(
        _("Expected value won back ({currency})", currency=currency)
        if currency
        else _("Expected value won back")
    )
    right.set_title(_("What it should bring back"))
    return fig
