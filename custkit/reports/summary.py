"""``<out>/<period>/summary.html``: the month on one page a manager reads first.

The page holds, in the report language:

- **five headline figures** (:data:`HEADLINE_FIGURES`) with their change against the month
  before, read from the reports' ``kpis.json`` files (:mod:`custkit.reports.history`) and
  written by each figure's declared unit;
- **the three most valuable actions** across the reports, read from each report's
  ``actions.json`` (:mod:`custkit.reports.actions`), each with its money at stake, one plain
  line and links to its export list;
- **links to the detailed reports**, and a plain line for a report that failed or did not run.

It is rebuilt from what is in the folder whenever reports are published (``custkit run``, a
scheduled run), so a run of one report refreshes it; nothing is recomputed from the store. Like
the index it is one offline file with no scripts, and it holds no customer: only the figures
and sentences the report pages show.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import os
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from custkit.i18n import N_, _, get_language
from custkit.reports.actions import (
    ACTIONS_SUFFIX,
    Action,
    UnreadableActions,
    rank_actions,
    read_actions,
)
from custkit.reports.display import GREEN, GREY, RED, format_change, format_kpi, higher_is_better
from custkit.reports.files import write_text_atomic
from custkit.reports.history import (
    KpiHistory,
    UnreadableKpis,
    kpi_change,
    load_kpis_file,
    read_kpi_history,
)
from custkit.reports.index import SUMMARY_FILE, ReportRun, month_name, report_runs, report_title

#: The five figures the summary opens with: (report, KPI name in its ``kpis.json``) → the label
#: a manager reads. Change the choice here; a figure whose report or KPI is missing shows "—".
HEADLINE_FIGURES: dict[tuple[str, str], str] = {
    ("audit", "revenue"): N_("Revenue this month"),
    ("audit", "active_customers_12m"): N_("Active customers (bought in the last 12 months)"),
    ("churn", "churned_customers"): N_("Customers who stopped buying this month"),
    ("ltv", "clv_12m_total"): N_("Value of the customer base over the next 12 months"),
    ("splittest", "ready_to_ship"): N_("Experiments ready to ship"),
}
#: How many actions the page shows.
TOP_ACTIONS = 3
_PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Figure:
    """One headline figure of the month: value, the month before's, and their change."""

    report: str
    kpi: str
    label: str
    value: float
    previous: float
    change: float
    unit: str


def build_summary(
    out_dir: str | os.PathLike[str],
    period: str,
    client: str | None = None,
    reports: Sequence[str] | None = None,
) -> Path | None:
    """Write ``<out_dir>/<period>/summary.html`` (atomically) from the reports in the folder.

    Call it while holding the output folder's lock (:func:`custkit.reports.lock.folder_lock`),
    as the runners do: it removes what a killed run left of an earlier summary.

    Parameters
    ----------
    out_dir : path-like
        An output folder of ``custkit run`` / ``custkit schedule run``.
    period : str
        ``"YYYY-MM"``.
    client : str, optional
        The store whose figures to show; default: the store of the period's newest KPI file.
    reports : sequence of str, optional
        The reports the page links to (default: every report notebook); one with no page for
        the month gets a line saying so.

    Returns
    -------
    Path or None
        The page, or None when the folder holds no report page, failure page or KPI file for
        *period* (nothing to summarize).
    """
    out = Path(out_dir)
    if not _PERIOD_RE.match(str(period)):  # a run that failed before it knew its month
        return None
    history = read_kpi_history(out)
    runs = [run for run in report_runs(out, history) if run.period == period]
    if not runs:
        return None
    client = _client(history, period, client, runs)
    runs = [run for run in runs if run.client == client] or runs
    if reports is None:
        from custkit.reports.registry import report_names

        reports = report_names()
    target = out / period / SUMMARY_FILE
    # a killed run's half-written page: the callers hold the folder's lock, none is being written
    for stale in target.parent.glob(f".{target.stem}.*.tmp{target.suffix}"):
        stale.unlink(missing_ok=True)
    page = summary_html(
        client,
        period,
        figures(history, client, period),
        _period_actions(out, period, runs),
        runs,
        reports,
        history.currency(client),
        as_of=_data_through(out, history, client, period),
    )
    return write_text_atomic(target, page)


def figures(history: KpiHistory, client: str, period: str) -> list[Figure]:
    """The :data:`HEADLINE_FIGURES` of *client* for *period*, each against the month before
    (NaN where a report or a KPI is missing)."""
    previous_period = str(pd.Period(period, "M") - 1)
    found = []
    for (report, kpi), label in HEADLINE_FIGURES.items():
        series = history.series(client, report, kpi)
        value = float(series.get(period, math.nan))
        previous = float(series.get(previous_period, math.nan))
        unit = history.unit(client, report, kpi)
        found.append(
            Figure(report, kpi, label, value, previous, kpi_change(value, previous, unit), unit)
        )
    return found


def summary_html(
    client: str,
    period: str,
    figures: Sequence[Figure],
    actions: Sequence[tuple[Action, Mapping[str, str]]],
    runs: Sequence[ReportRun],
    reports: Sequence[str],
    currency: str = "",
    updated: dt.datetime | None = None,
    as_of: dt.date | None = None,
) -> str:
    """The summary page (see the module docstring).

    Parameters
    ----------
    as_of : date, optional
        The last day of data of a month reported before it was over (``--partial``): the page
        says "month not over: data through <as_of>", as the reports' headers do.
    actions : sequence of (Action, links)
        Every action of the month with its export files that exist (``{"CSV": path, "XLSX":
        path}``, relative to the period folder); the page shows the :data:`TOP_ACTIONS` most
        valuable (:func:`~custkit.reports.actions.rank_actions`).
    runs : sequence of ReportRun
        The month's report runs (:func:`custkit.reports.index.report_runs`).
    reports : sequence of str
        Reports the page links to, in order, besides those of *runs*.
    """
    esc = html.escape
    updated = updated or dt.datetime.now()
    month = month_name(period)
    store = client or _("Store not named in any KPI file")
    title = _("{store} — summary of {month}", store=store, month=month_name(period, first=False))
    ranked = rank_actions([action for action, _links in actions], TOP_ACTIONS)
    links = {id(action): found for action, found in actions}
    body = [
        f"<h1>{esc(store)} · {esc(month)}</h1>",
        '<div class="muted">'
        + esc(
            _(
                "Summary of the month's reports · updated {day:%Y-%m-%d} at {time}",
                day=updated,
                time=f"{updated:%H:%M}",
            )
        )
        + ' · <a href="../index.html">'
        + esc(_("All reports and months"))
        + "</a></div>",
        _partial_html(as_of),
        _figures_html(figures, currency),
        f"<h2>{esc(_('What to do first'))}</h2>",
        _actions_html(ranked, links, currency),
        f"<h2>{esc(_('The reports'))}</h2>",
        _reports_html(runs, reports, period),
    ]
    return _PAGE.format(
        language=get_language(), title=esc(title), body="\n".join(part for part in body if part)
    )


# --- reading the folder --------------------------------------------------------------------------


def _data_through(out: Path, history: KpiHistory, client: str, period: str) -> dt.date | None:
    """The last day of data of the client's reports of *period* when it is before the month's
    last day (a month reported with ``--partial``), else None."""
    files = history.files[(history.files["client"] == client) & (history.files["period"] == period)]
    days = []
    for file in files["file"]:
        try:
            as_of = load_kpis_file(out / file).get("as_of")
            days.append(dt.date.fromisoformat(str(as_of)))
        except (UnreadableKpis, ValueError):  # no as_of (an older file): taken as a whole month
            continue
    month_end = pd.Period(period, "M").end_time.date()
    latest = max(days, default=month_end)
    return latest if latest < month_end else None


def _client(history: KpiHistory, period: str, client: str | None, runs: Sequence[ReportRun]) -> str:
    files = history.files[history.files["period"] == period]
    clients = list(dict.fromkeys(files.sort_values("generated_at")["client"]))
    if client is not None and (client in clients or not clients):
        return client
    if clients:
        return clients[-1]
    return runs[0].client


def _period_actions(
    out: Path, period: str, runs: Sequence[ReportRun]
) -> list[tuple[Action, dict[str, str]]]:
    """Every readable action of the month's published reports, with its export files."""
    found = []
    for run in runs:
        if not run.html:
            continue
        folder = (out / run.html).parent
        path = folder / f"{run.report}{ACTIONS_SUFFIX}"
        if not path.exists():
            continue
        try:
            actions = read_actions(path)
        except UnreadableActions:  # a broken file leaves the report's actions out, not the page
            continue
        for action in actions:
            files = {}
            for kind in ("csv", "xlsx"):
                export = folder / "exports" / f"{action.export}.{kind}"
                if action.export and export.exists():
                    files[kind.upper()] = export.relative_to(out / period).as_posix()
            found.append((action, files))
    return found


# --- the page ------------------------------------------------------------------------------------


def _partial_html(as_of: dt.date | None) -> str:
    if as_of is None:
        return ""
    text = _("month not over: data through {as_of:%-d %B %Y}", as_of=as_of)
    return f'<div class="partial">{html.escape(text)}</div>'


def _figures_html(figures: Sequence[Figure], currency: str) -> str:
    esc = html.escape
    cards = []
    for figure in figures:
        change = format_change(figure.change, figure.unit)
        colour = GREY
        better = higher_is_better(figure.kpi)
        if change != "—" and figure.change != 0 and better is not None:
            colour = GREEN if (figure.change > 0) == better else RED
        if math.isnan(figure.value):
            note = esc(_("no {report} report for this month", report=report_title(figure.report)))
        elif change == "—":
            note = esc(_("no figure for the month before"))
        else:
            note = f'<span style="color: {colour};">{esc(change)}</span> ' + esc(
                _("vs month before")
            )
        cards.append(
            '<div class="figure">'
            f'<div class="label">{esc(_(figure.label))}</div>'
            f'<div class="value">{esc(format_kpi(figure.value, figure.unit, currency))}</div>'
            f'<div class="change">{note}</div></div>'
        )
    return f'<div class="figures">{"".join(cards)}</div>'


def _actions_html(
    ranked: Sequence[Action], links: Mapping[int, Mapping[str, str]], currency: str
) -> str:
    esc = html.escape
    if not ranked:
        return '<p class="muted">' + esc(_("No report of this month proposes an action.")) + "</p>"
    rows = []
    for number, action in enumerate(ranked, start=1):
        value = format_kpi(action.value, action.unit, currency)
        colour = RED if action.value is not None and action.value < 0 else "#222"
        files = links.get(id(action), {})
        file_links = " · ".join(
            f'<a href="{esc(path, quote=True)}">{esc(_("list ({kind})", kind=kind))}</a>'
            for kind, path in files.items()
        )
        source = esc(_("from the {report} report", report=report_title(action.report)))
        rows.append(
            f'<tr><td class="rank">{number}</td>'
            f'<td class="money" style="color: {colour};">{esc(value)}</td>'
            f"<td><b>{esc(action.title)}</b><br>{esc(action.line)}"
            f'<div class="muted">{source}{" · " + file_links if file_links else ""}</div></td></tr>'
        )
    return f'<table class="actions"><tbody>{"".join(rows)}</tbody></table>'


def _reports_html(runs: Sequence[ReportRun], reports: Sequence[str], period: str) -> str:
    esc = html.escape
    by_report = {run.report: run for run in runs}
    names = list(dict.fromkeys([*reports, *sorted(by_report)]))
    items = []
    for report in names:
        run = by_report.get(report)
        title = esc(report_title(report))
        if run is not None and run.status == "ok" and run.html:
            items.append(
                f'<li><a href="{esc(_local(run.html, period), quote=True)}">{title}</a></li>'
            )
        elif run is not None and run.status == "failed":
            failed = esc(_("failed this month"))
            what = esc(_("what failed"))
            text = (
                f'<li>{title}: <span class="failed">{failed}</span> · '
                f'<a href="{esc(_local(run.failure or "", period), quote=True)}">{what}</a>'
            )
            if run.html:
                last = esc(_("last good report"))
                text += f' · <a href="{esc(_local(run.html, period), quote=True)}">{last}</a>'
            items.append(text + "</li>")
        else:
            items.append(
                f'<li>{title}: <span class="missing">{esc(_("did not run this month"))}</span></li>'
            )
    return f'<ul class="reports">{"".join(items)}</ul>'


def _local(path: str, period: str) -> str:
    """A path relative to the output folder, made relative to the period's folder."""
    return posixpath.relpath(path, period)


_PAGE = """<!DOCTYPE html>
<html lang="{language}">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif;
       margin: 24px auto; max-width: 1200px; padding: 0 16px; color: #222; }}
h1 {{ margin: 0 0 4px; font-size: 1.7em; }}
h2 {{ margin: 24px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #333; font-size: 1.25em; }}
.muted {{ color: #666; font-size: 0.85em; }}
.figures {{ display: flex; gap: 12px; margin-top: 18px; }}
.figure {{ flex: 1 1 0; border: 1px solid #ddd; border-radius: 6px; padding: 10px 14px;
          min-width: 0; }}
.figure .label {{ color: #555; font-size: 0.9em; min-height: 2.4em; }}
.figure .value {{ font-size: 1.6em; font-weight: 600; margin: 4px 0; white-space: nowrap; }}
.figure .change {{ font-size: 0.85em; color: #666; }}
table.actions {{ border-collapse: collapse; width: 100%; }}
table.actions td {{ padding: 8px 12px; border-bottom: 1px solid #e0e0e0; vertical-align: top; }}
td.rank {{ font-size: 1.3em; color: #999; width: 1.5em; }}
td.money {{ font-size: 1.3em; font-weight: 600; white-space: nowrap; text-align: right;
           width: 11em; }}
ul.reports {{ list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap;
             gap: 8px 28px; }}
ul.reports li {{ font-size: 1.05em; }}
.failed {{ color: #c62828; font-weight: 600; }}
.partial {{ border-left: 6px solid #ef6c00; background: #fff5e6; padding: 4px 12px;
           margin-top: 10px; display: inline-block; }}
.missing {{ color: #999; }}
a {{ color: #1565c0; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""
