"""Figures for the churn report. Each function takes frames computed by :mod:`custkit.churn` and
returns a matplotlib ``Figure``; none computes anything a test of the churn code could not reach,
and none shows personal data (only counts, shares and money)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from custkit.churn.codes import REASON_LABELS
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

__all__ = [
    "plot_calibration",
    "plot_churn_trend",
    "plot_reason_shares",
    "plot_reason_trend",
    "plot_reasons_by_group",
    "plot_risk_drivers",
    "plot_winback_plan",
]


def plot_churn_trend(monthly: pd.DataFrame) -> Figure:
    """Monthly churn rate with its 95% interval, and the share of leavers who came back, from
    :func:`custkit.churn.monthly_churn`."""
    fig, ax = _figure(9, 4.2)
    x = np.arange(len(monthly))
    ax.plot(x, monthly["churn_rate"], color=_LOST, marker="o", label="Churn rate")
    ax.fill_between(
        x,
        monthly["churn_rate_low"],
        monthly["churn_rate_high"],
        color=_LOST,
        alpha=0.2,
        label="95% interval",
    )
    ax.set_ylabel("Active customers who stopped buying")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax.set_ylim(bottom=0)
    ax.set_xticks(x, _month_labels(monthly["month"]), rotation=45, ha="right")
    ax.set_xlabel("Month the customer churned")
    back = ax.twinx()
    back.bar(x, monthly["returned_share"], color=_GAINED, alpha=0.35, label="Came back since")
    back.set_ylabel("Of them, came back since")
    back.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    back.set_ylim(0, 1)
    ax.set_zorder(back.get_zorder() + 1)
    ax.patch.set_visible(False)
    lines = ax.get_legend_handles_labels()
    bars = back.get_legend_handles_labels()
    ax.legend(lines[0] + bars[0], lines[1] + bars[1], loc="upper left", fontsize=8)
    ax.set_title("Churn per month, and how many came back later")
    return fig


def plot_reason_shares(summary: pd.DataFrame, currency: str = "currency") -> Figure:
    """Why customers left: share of churned customers by reason (with 95% intervals) and the
    yearly revenue each reason costs, from :func:`custkit.churn.reason_summary`."""
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(summary))[::-1]
    labels = list(summary["label"])
    share = summary["share"].to_numpy()
    error = np.vstack([share - summary["share_low"], summary["share_high"] - share])
    left.barh(y, share, xerr=error, color=_MAIN, capsize=3)
    left.set_yticks(y, labels)
    left.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    left.set_xlabel("Share of customers who left")
    left.set_title("How many left for each reason")
    right.barh(y, summary["revenue_lost_per_year"], color=_LOST)
    right.xaxis.set_major_formatter(_MONEY)
    right.set_xlabel(f"Revenue lost per year ({currency})")
    right.set_title("What each reason costs")
    return fig


def plot_reason_trend(trend: pd.DataFrame) -> Figure:
    """Customers who churned each month, stacked by reason, from
    :func:`custkit.churn.reason_trend`."""
    months = [c for c in trend.columns if c[:4].isdigit()]
    fig, ax = _figure(9, 4.2)
    x = np.arange(len(months))
    bottom = np.zeros(len(months))
    colours = ["#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51", "#6a4c93", "#8d99ae", "#bbb"]
    for i, (_, row) in enumerate(trend.iterrows()):
        values = row[months].to_numpy(dtype=float)
        label = REASON_LABELS.get(row["reason"], row["reason"])
        if row.get("growing", False):
            label += " (growing)"
        ax.bar(x, values, bottom=bottom, color=colours[i % len(colours)], label=label)
        bottom += values
    ax.set_xticks(x, _month_labels(pd.Index(months)), rotation=45, ha="right")
    ax.set_xlabel("Month the customer churned")
    ax.set_ylabel("Customers who churned (people)")
    ax.yaxis.set_major_formatter(_THOUSANDS)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title("Reasons for leaving, month by month")
    return fig


def plot_reasons_by_group(by_group: pd.DataFrame) -> Figure:
    """Churn rate by group (rows) and reason (columns), from
    :func:`custkit.churn.reasons_by_group`; the 95% intervals are in that table."""
    name = by_group.columns[0]
    rates = by_group.pivot_table(index=name, columns="reason", values="rate", observed=True)
    rates = rates.fillna(0.0) * 100
    rates.index = [str(i).replace("_", " ") for i in rates.index]
    rates.columns = [REASON_LABELS.get(c, c) for c in rates.columns]
    fig, ax = _figure(10, 0.45 * len(rates) + 2.2)
    _heatmap(ax, rates, ".1f", cmap="OrRd")
    ax.set_xticks(ax.get_xticks(), ax.get_xticklabels(), rotation=30, ha="right")
    ax.set_xlabel("Reason for leaving")
    ax.set_ylabel(str(name).replace("_", " ").capitalize())
    ax.set_title("Customers who left, % of the group, by reason")
    return fig


def plot_calibration(calibration: pd.DataFrame) -> Figure:
    """Predicted churn probability vs the share that really churned, per bin (a calibrated model
    lies on the diagonal). Takes ``mean_predicted`` and ``observed_rate`` columns."""
    fig, ax = _figure(5.5, 4.5)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="Perfectly calibrated")
    ax.plot(
        calibration["mean_predicted"],
        calibration["observed_rate"],
        color=_MAIN,
        marker="o",
        label="Risk model",
    )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("Predicted chance of not buying in the next period")
    ax.set_ylabel("Share that did not buy")
    ax.legend(fontsize=8)
    ax.set_title("Are the risk scores honest? (holdout)")
    return fig


def plot_risk_drivers(drivers: pd.DataFrame, top: int = 12) -> Figure:
    """What drives the risk score: permutation importance (drop in ROC-AUC when a feature is
    shuffled). Takes ``label`` (or ``feature``) and ``importance`` columns."""
    shown = drivers.nlargest(top, "importance").iloc[::-1]
    names = shown["label"] if "label" in shown else shown["feature"]
    fig, ax = _figure(8, 0.35 * len(shown) + 1.5)
    ax.barh(np.arange(len(shown)), shown["importance"], color=_SECOND)
    ax.set_yticks(np.arange(len(shown)), list(names))
    ax.set_xlabel("Drop in ROC-AUC when the feature is scrambled")
    ax.set_title("What the risk model looks at")
    return fig


def plot_winback_plan(by_action_channel: pd.DataFrame, currency: str = "currency") -> Figure:
    """Customers to contact per action, stacked by channel, and the revenue each action is
    expected to win back, from :attr:`custkit.churn.WinbackPlan.by_action_channel`."""
    from custkit.churn.winback import ACTIONS, NO_DELIVERY_ACTION

    names = {a.code: a.text for a in ACTIONS.values()} | {
        NO_DELIVERY_ACTION.code: NO_DELIVERY_ACTION.text
    }
    customers = by_action_channel.pivot_table(
        index="action", columns="channel", values="customers", aggfunc="sum", observed=True
    ).fillna(0)
    revenue = by_action_channel.groupby("action", observed=True)["expected_revenue_won"].sum()
    order = customers.sum(axis=1).sort_values().index
    customers, revenue = customers.loc[order], revenue.reindex(order)
    fig = Figure(figsize=(11, 0.5 * len(order) + 1.8), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True, width_ratios=(3, 2))
    y = np.arange(len(order))
    left_edge = np.zeros(len(order))
    for i, channel in enumerate(customers.columns):
        colour = (_MAIN, _SECOND, _GAINED, "#8d99ae", "#6a4c93", "#f4a261")[i % 6]
        left.barh(y, customers[channel], left=left_edge, color=colour, label=str(channel))
        left_edge += customers[channel].to_numpy()
    left.set_yticks(y, [names.get(str(a), str(a)) for a in order], fontsize=8)
    left.xaxis.set_major_formatter(_THOUSANDS)
    left.set_xlabel("Customers to contact (people)")
    left.legend(title="Channel", fontsize=8)
    left.set_title("Who gets which message")
    right.barh(y, revenue, color=_GAINED)
    right.xaxis.set_major_formatter(_MONEY)
    right.set_xlabel(f"Expected value won back ({currency})")
    right.set_title("What it should bring back")
    return fig
