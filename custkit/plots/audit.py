"""Figures for the customer audit. Each function takes frames computed by :mod:`custkit.audit`
and returns a matplotlib ``Figure``; none computes anything a test of the audit could not reach,
and none shows personal data (only counts, shares and money). Every word drawn is in the report
language (:mod:`custkit.i18n`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from custkit.audit.categories import CrossTab, category_label
from custkit.audit.cohorts import CohortRetention
from custkit.audit.funnel import step_label
from custkit.audit.rfm import segment_label
from custkit.i18n import _, format_date, format_message, format_value
from custkit.plots.style import ReportFigure, draws_text_as_written

_THOUSANDS = FuncFormatter(lambda v, _pos: format_value(v, ",.0f"))
_GAINED, _LOST, _MAIN, _SECOND = "#2a9d8f", "#e76f51", "#264653", "#e9c46a"


def _people_axis(axis) -> None:
    """Ticks of a count of people: whole numbers only (never 0.5 customers), with thousands
    separators (never ``1e6``)."""
    axis.set_major_locator(MaxNLocator(integer=True))
    axis.set_major_formatter(_THOUSANDS)


def _in_month_order(frame: pd.DataFrame) -> pd.DataFrame:
    """*frame* sorted by its ``month`` column: a month axis always reads left to right."""
    return frame.sort_values("month", kind="stable", ignore_index=True)


def _month_labels(months: pd.Series | pd.Index) -> list[str]:
    """``Nov 2026`` (``нояб. 2026``): month tick labels in the report language."""
    return [format_date(p.to_timestamp(), "%b %Y") for p in pd.PeriodIndex(months, freq="M")]


def _label(value: object) -> str:
    """A category as shown: custkit's own (``active``, ``unknown``…) translated, the store's
    own names (regions, channels) as written."""
    text = str(value)
    return _(text) if text else text


def _figure(width: float = 8, height: float = 4) -> tuple[Figure, plt.Axes]:
    fig = ReportFigure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def _heatmap(ax: plt.Axes, values: pd.DataFrame, fmt: str, cmap: str = "YlGnBu") -> None:
    data = values.to_numpy(dtype=float)
    image = ax.imshow(np.ma.masked_invalid(data), aspect="auto", cmap=cmap)
    ax.set_xticks(range(data.shape[1]), [str(c) for c in values.columns])
    ax.set_yticks(range(data.shape[0]), [str(i) for i in values.index])
    finite = data[np.isfinite(data)]
    middle = (finite.min() + finite.max()) / 2 if len(finite) else 0
    if data.size <= 400:
        for (i, j), v in np.ndenumerate(data):
            if np.isfinite(v):
                ax.text(
                    j,
                    i,
                    format_value(v, fmt),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if v > middle else "black",
                )
    bar = ax.figure.colorbar(image, ax=ax)
    if len(finite) and (finite == finite.round()).all():  # counts: whole-number ticks
        _people_axis(bar.ax.yaxis)


@draws_text_as_written
def plot_kpi_trend(trend: pd.DataFrame, currency: str | None = None) -> Figure:
    """Customers (bars) and revenue (line, in *currency*) per month, from
    :func:`~custkit.audit.kpi_trend`."""
    trend = _in_month_order(trend)
    fig, ax = _figure()
    x = np.arange(len(trend))
    ax.bar(x, trend["customers"], color=_MAIN, label=_("Customers who bought"))
    ax.set_ylabel(_("Customers who bought (people)"))
    _people_axis(ax.yaxis)
    ax.set_xticks(x, _month_labels(trend["month"]), rotation=45, ha="right")
    ax.set_xlabel(_("Month"))
    ax2 = ax.twinx()
    ax2.plot(x, trend["revenue"], color=_SECOND, marker="o", label=_("Revenue"))
    ax2.set_ylabel(_("Revenue ({currency})", currency=currency or _("currency")))
    ax2.yaxis.set_major_formatter(_THOUSANDS)
    ax.set_title(_("Customers and revenue per month"))
    return fig


@draws_text_as_written
def plot_base_turnover(turnover: pd.DataFrame) -> Figure:
    """Gained + returned (up) vs lost (down) customers per month."""
    turnover = _in_month_order(turnover)
    fig, ax = _figure()
    x = np.arange(len(turnover))
    ax.bar(x, turnover["gained"], color=_GAINED, label=_("New customers"))
    ax.bar(x, turnover["returned"], bottom=turnover["gained"], color=_SECOND, label=_("Won back"))
    ax.bar(x, -turnover["lost"], color=_LOST, label=_("Lost"))
    ax.plot(x, turnover["net_change"], color="black", marker="o", label=_("Net change"))
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xticks(x, _month_labels(turnover["month"]), rotation=45, ha="right")
    ax.set_xlabel(_("Month"))
    ax.set_ylabel(_("Customers (people)"))
    _people_axis(ax.yaxis)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(_("Customers gained and lost per month"))
    return fig


def _labelled_bars(
    ax: plt.Axes,
    labels: list[str],
    heights: pd.Series,
    shares: pd.Series,
    note: str = "{share:.0%}",
) -> None:
    """Bars with their share written on top by the message *note* (already in the report
    language, with a ``{share}`` field); no label where the share is undefined."""
    ax.bar(labels, heights, color=_MAIN)
    for i, share in enumerate(shares):
        if np.isfinite(share):
            ax.annotate(
                format_message(note, share=share),
                (i, heights.iloc[i]),
                ha="center",
                va="bottom",
                fontsize=8,
            )


@draws_text_as_written
def plot_lapsed_bands(bands: pd.DataFrame) -> Figure:
    """Customers by time since their last purchase."""
    fig, ax = _figure(7, 4)
    _labelled_bars(ax, [str(b) for b in bands["band"]], bands["customers"], bands["customer_share"])
    ax.set_xlabel(_("Time since last purchase"))
    ax.set_ylabel(_("Customers (people)"))
    _people_axis(ax.yaxis)
    ax.set_title(_("How long ago customers last bought"))
    return fig


@draws_text_as_written
def plot_acquisition(by_group: pd.DataFrame) -> Figure:
    """New customers (bars) and their repeat rate (dots) per channel or region."""
    label = by_group.columns[0]
    fig, ax = _figure()
    names = [category_label(v) for v in by_group[label].astype(str)]
    y = np.arange(len(names))
    ax.barh(y, by_group["new_customers"], color=_MAIN)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel(_("New customers in the last 12 months (people)"))
    _people_axis(ax.xaxis)
    ax.set_ylabel(_(label.replace("_", " ").capitalize()))
    ax2 = ax.twiny()
    ax2.plot(by_group["repeat_rate"], y, "o", color=_LOST)
    ax2.set_xlabel(_("Share who bought again soon (dots)"))
    ax2.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    if label == "acquisition_channel":
        title = _("New customers by acquisition channel")
    elif label == "region":
        title = _("New customers by region")
    else:
        title = _("New customers by {group}", group=_(label.replace("_", " ")))
    ax.set_title(title)
    return fig


@draws_text_as_written
def plot_funnel(funnel: pd.DataFrame) -> Figure:
    """Customers at each funnel step, with the share of the previous step."""
    fig, ax = _figure(7, 4)
    labels = [step_label(s) for s in funnel["step"]]
    _labelled_bars(
        ax,
        labels,
        funnel["customers"],
        funnel["rate_from_previous"],
        _("{share:.0%} of previous"),
    )
    ax.set_xlabel(_("Step"))
    ax.set_ylabel(_("Customers (people)"))
    _people_axis(ax.yaxis)
    ax.set_title(_("From registration to the third order"))
    return fig


@draws_text_as_written
def plot_cohort_retention(
    retention: CohortRetention, value: str = "share", currency: str | None = None
) -> Figure:
    """Heatmap of cohort retention (``value="share"``) or revenue per customer (in
    *currency*)."""
    frame = retention.share if value == "share" else retention.revenue_per_customer
    frame = frame.sort_index()  # cohorts in month order, oldest at the top
    fig, ax = _figure(10, 5)
    shown = frame.copy()
    shown.index = _month_labels(frame.index)
    _heatmap(ax, shown * (100 if value == "share" else 1), ".0f")
    ax.set_xlabel(_("Months after first purchase"))
    ax.set_ylabel(_("Month of first purchase"))
    ax.set_title(
        _("Share of new customers buying again, % (by month of first purchase)")
        if value == "share"
        else _(
            "Revenue per new customer, {currency} (by month of first purchase)",
            currency=currency or _("currency"),
        )
    )
    return fig


@draws_text_as_written
def plot_segments(summary: pd.DataFrame) -> Figure:
    """Share of customers and of revenue per RFM segment."""
    fig, ax = _figure(9, 4.5)
    y = np.arange(len(summary))
    ax.barh(y - 0.2, summary["customer_share"], height=0.4, color=_MAIN, label=_("Customers"))
    ax.barh(y + 0.2, summary["revenue_share"], height=0.4, color=_SECOND, label=_("Revenue"))
    ax.set_yticks(y, [_label(v) for v in summary["label"]])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(_("Share of all customers / of all revenue (%)"))
    ax.set_ylabel(_("Segment"))
    ax.legend(fontsize=8)
    ax.set_title(_("Customer segments: size and revenue"))
    return fig


@draws_text_as_written
def plot_migration(migration: pd.DataFrame) -> Figure:
    """Heatmap of customers moving between segments since the previous period."""
    fig, ax = _figure(10, 6)
    shown = migration.copy()
    shown.index = [segment_label(s) for s in migration.index]
    shown.columns = [segment_label(s) for s in migration.columns]
    _heatmap(ax, shown, ",.0f", cmap="Blues")
    ax.tick_params(axis="x", labelrotation=45)
    ax.set_xlabel(_("Segment now"))
    ax.set_ylabel(_("Segment at the previous report"))
    ax.set_title(_("How customers moved between segments (people)"))
    return fig


@draws_text_as_written
def plot_categories(crosstab: CrossTab, value: str = "revenue_share") -> Figure:
    """Heatmap of a categories cross-tab: revenue share (%) or customers."""
    frame = crosstab.revenue_share * 100 if value == "revenue_share" else crosstab.customers
    fig, ax = _figure(7, 5)
    shown = frame.set_axis([category_label(v) for v in frame.index], axis=0).set_axis(
        [category_label(v) for v in frame.columns], axis=1
    )
    _heatmap(ax, shown, ".1f" if value == "revenue_share" else ",.0f", cmap="Greens")
    rows, columns = _dimension(frame.index.name), _dimension(frame.columns.name)
    ax.set_xlabel(columns)
    ax.set_ylabel(rows)
    fields = {"rows": rows.lower(), "columns": columns.lower()}
    if value == "revenue_share":
        ax.set_title(_("Share of revenue, % by {rows} and {columns}", **fields))
    else:
        ax.set_title(_("Customers (people) by {rows} and {columns}", **fields))
    return fig


def _dimension(name: object) -> str:
    """A categories dimension (``region``, ``activity``…) as an axis label, translated."""
    text = str(name or "").capitalize()
    return _(text) if text else text


@draws_text_as_written
def plot_cleanliness(quality: pd.DataFrame) -> Figure:
    """Share of customers with each data problem."""
    fig, ax = _figure(7, 4)
    y = np.arange(len(quality))
    ax.barh(y, quality["share"], color=_LOST)
    ax.set_yticks(y, [_label(v) for v in quality["label"]])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlim(0, 1)
    ax.set_xlabel(_("Share of customers (%)"))
    ax.set_ylabel(_("Problem"))
    ax.set_title(_("Customer data problems"))
    return fig
