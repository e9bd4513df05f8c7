"""``<out>/index.html``: every client, report and month of an output folder, newest first.

Per client (the ``store`` named in its ``kpis.json`` files) the page shows:

- **Trends**: each report's headline KPIs over the last 12 months as small inline SVG plots,
  with the latest value and its change against the month before, each written by the unit its
  ``kpis.json`` declares (:meth:`KpiHistory.unit <custkit.reports.history.KpiHistory.unit>`:
  an AUC is a score, never money);
- **Runs**: one row per month, newest first; its first column links the month's summary page
  (``<period>/summary.html``) when there is one, then one column per report, each cell ``ok``
  (a link to the report), ``failed`` (a link to the failure page, and to the last good report
  when there is one) or ``missing`` (a month inside the report's run of months with no report).

KPI files that cannot be read are listed at the top instead of stopping the page. The page is
one file with no scripts and nothing fetched from the internet, so it opens offline from disk.
The sparklines are drawn here as a few lines of SVG rather than with matplotlib: a PNG per KPI
would weigh far more and cost a figure each on every rebuild.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from custkit.i18n import _, format_date, get_language, n_
from custkit.reports.display import (
    GREEN,
    GREY,
    RED,
    capitalized,
    format_change,
    format_kpi,
    higher_is_better,
    humanize,
)
from custkit.reports.files import write_text_atomic
from custkit.reports.history import (
    KpiHistory,
    kpi_change,
    kpi_label,
    read_kpi_history,
)

#: Months a trend covers, the latest included.
TREND_MONTHS = 12
UNKNOWN_PERIOD = "unknown"
#: The month's one-page summary, ``<out>/<period>/summary.html`` (:mod:`custkit.reports.summary`).
SUMMARY_FILE = "summary.html"
_PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_FAILED = ".failed.html"

Status = Literal["ok", "failed", "missing"]


@dataclass(frozen=True)
class ReportRun:
    """The state of one report of one client for one month.

    Attributes
    ----------
    client : str
        The store name ("" when no file says which store it is).
    report : str
    period : str
        ``"YYYY-MM"``, or ``"unknown"`` for a run that failed before it knew its month.
    status : {"ok", "failed", "missing"}
        ``failed`` when the last run of the month failed (the last good page may remain);
        ``missing`` when there is no page for a month between the report's first month and the
        client's latest one.
    html : str or None
        The report page, relative to the output folder.
    failure : str or None
        The failure page, relative to the output folder.
    updated : str
        When the page (or failure page) was written, ``"YYYY-MM-DD HH:MM"``.
    kpis_only : bool
        KPIs were saved but no page was published (a notebook run by hand).
    """

    client: str
    report: str
    period: str
    status: Status
    html: str | None = None
    failure: str | None = None
    updated: str = ""
    kpis_only: bool = False


def report_runs(
    out_dir: str | os.PathLike[str], history: KpiHistory | None = None
) -> list[ReportRun]:
    """Every report of every client and month in *out_dir*, missing months included.

    Sorted by client (unnamed last), then month (newest first, ``unknown`` last), then report.
    A page without a readable ``kpis.json`` (a failure, a broken file) belongs to the client of
    the same report in the nearest month, or to the folder's only client.
    """
    out = Path(out_dir)
    history = history if history is not None else read_kpi_history(out)
    pages = _pages(out)
    kpi_clients = {
        (report, period): client
        for client, report, period in history.files[["client", "report", "period"]].itertuples(
            index=False
        )
    }
    by_report: dict[str, dict[str, str]] = {}
    for (report, period), client in kpi_clients.items():
        by_report.setdefault(report, {})[period] = client
    clients = sorted(set(kpi_clients.values()))

    def client_of(report: str, period: str) -> str:
        if (report, period) in kpi_clients:
            return kpi_clients[(report, period)]
        known = by_report.get(report)
        if known:
            nearest = min(known, key=lambda p: (_distance(p, period), -_ordinal(p)))
            return known[nearest]
        return clients[0] if len(clients) == 1 else ""

    runs = []
    for report, period in sorted(set(pages) | set(kpi_clients)):
        page, failure, updated = pages.get((report, period), (None, None, ""))
        status: Status = "failed" if failure else "ok" if page else "missing"
        runs.append(
            ReportRun(
                client_of(report, period),
                report,
                period,
                status,
                page,
                failure,
                updated,
                kpis_only=page is None and failure is None,
            )
        )
    runs += _missing_months(runs)
    runs.sort(key=lambda r: (not r.client, r.client, -_ordinal(r.period), r.report))
    return runs


def build_index(out_dir: str | os.PathLike[str]) -> Path:
    """Write ``<out_dir>/index.html`` (offline, escaped, atomically) and return its path."""
    out = Path(out_dir)
    history = read_kpi_history(out)
    runs = report_runs(out, history)
    return write_text_atomic(
        out / "index.html", index_html(runs, history, summaries=summary_pages(out))
    )


def summary_pages(out_dir: str | os.PathLike[str]) -> dict[str, str]:
    """Period → its summary page (``<period>/summary.html``, relative to *out_dir*), for every
    month that has one."""
    out = Path(out_dir)
    if not out.is_dir():
        return {}
    return {
        page.parent.name: page.relative_to(out).as_posix()
        for page in sorted(out.glob(f"*/{SUMMARY_FILE}"))
        if _PERIOD_RE.match(page.parent.name)
    }


def index_html(
    runs: Sequence[ReportRun],
    history: KpiHistory,
    updated: dt.datetime | None = None,
    summaries: Mapping[str, str] | None = None,
) -> str:
    """The index page of *runs* and *history* (see the module docstring); *summaries* maps a
    period to its summary page (:func:`summary_pages`), listed first in the month's row."""
    updated = updated or dt.datetime.now()
    summaries = summaries or {}
    clients = list(dict.fromkeys(run.client for run in runs))
    titles = _report_titles({run.report for run in runs})
    sections = [_client_html(client, runs, history, titles, summaries) for client in clients]
    no_reports = html.escape(_("No reports yet. Run {run}, or {schedule}."))
    body = "".join(sections) or (
        "<p>"
        + no_reports.format(
            run="<code>custkit run all --params FILE --out FOLDER</code>",
            schedule="<code>custkit schedule run</code>",
        )
        + "</p>"
    )
    summary = [n_("{n} client", "{n} clients", len(clients))] if clients else []
    summary.append(_("updated {when:%Y-%m-%d %H:%M}", when=updated))
    return _PAGE.format(
        language=get_language(),
        title=html.escape(_("custkit reports")),
        heading=html.escape(_("Reports")),
        problems=_unreadable_html(history),
        summary=html.escape(" · ".join(summary)),
        body=body,
    )


def sparkline_svg(values: Sequence[float | None], label: str, tooltip: Sequence[str] = ()) -> str:
    """A small inline SVG line of *values* (``None`` or NaN: a gap), the last point marked.

    Parameters
    ----------
    values : sequence of float or None
        One value per month, oldest first.
    label : str
        What the plot shows, for screen readers.
    tooltip : sequence of str
        Lines shown when the pointer rests on the plot (e.g. ``"Oct 2026: 1,234"``).
    """
    width, height, pad = 132, 30, 3
    points = [None if v is None or pd.isna(v) else float(v) for v in values]
    present = [v for v in points if v is not None]
    step = (width - 2 * pad) / max(len(points) - 1, 1)
    low, high = (min(present), max(present)) if present else (0.0, 0.0)

    def xy(i: int, v: float) -> tuple[float, float]:
        y = height / 2 if high == low else pad + (high - v) / (high - low) * (height - 2 * pad)
        return pad + i * step, y

    segments: list[list[tuple[float, float]]] = [[]]
    for i, v in enumerate(points):
        if v is None:
            segments.append([])
        else:
            segments[-1].append(xy(i, v))
    shapes = []
    for segment in segments:
        if len(segment) > 1:
            coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in segment)
            shapes.append(
                f'<polyline points="{coords}" fill="none" stroke="#1565c0" stroke-width="1.5" '
                'stroke-linejoin="round" stroke-linecap="round"/>'
            )
        elif segment:
            x, y = segment[0]
            shapes.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.5" fill="#1565c0"/>')
    last = next((i for i in range(len(points) - 1, -1, -1) if points[i] is not None), None)
    if last is not None:
        x, y = xy(last, points[last])  # type: ignore[arg-type]
        shapes.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#1565c0"/>')
    title = html.escape("\n".join(tooltip) or label)
    return (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{html.escape(label, quote=True)}"><title>{title}</title>'
        f'<line x1="{pad}" y1="{height - 1}" x2="{width - pad}" y2="{height - 1}" '
        f'stroke="#e0e0e0" stroke-width="1"/>{"".join(shapes)}</svg>'
    )


# --- finding the pages ---------------------------------------------------------------------------


def _pages(out: Path) -> dict[tuple[str, str], tuple[str | None, str | None, str]]:
    """(report, period) → (report page, failure page, when written) for every page on disk.

    A report page is ``<period>/<report>/<report>.html`` (or ``<period>/<report>.html``, the
    layout before report folders); a failure page ``<period>/<report>.failed.html``. A failure
    page older than the report page is left over from before that report was published (a run
    killed between the two steps) and is not shown.
    """
    if not out.is_dir():
        return {}
    found = {}
    for folder in out.iterdir():
        if not folder.is_dir() or not (
            _PERIOD_RE.match(folder.name) or folder.name == UNKNOWN_PERIOD
        ):
            continue
        names = {p.name.removesuffix(_FAILED) for p in folder.glob(f"*{_FAILED}")}
        names |= {
            p.stem
            for p in folder.glob("*.html")
            if not p.name.endswith(_FAILED) and p.name != SUMMARY_FILE
        }
        names |= {p.parent.name for p in folder.glob("*/*.html") if p.stem == p.parent.name}
        for report in sorted(n for n in names if not n.startswith(".")):
            page, failed = folder / report / f"{report}.html", folder / f"{report}{_FAILED}"
            if not page.exists():
                page = folder / f"{report}.html"
            times = {p: p.stat().st_mtime for p in (page, failed) if p.exists()}
            if page in times and failed in times and times[failed] < times[page]:
                del times[failed]
            newest = max(times.values(), default=0)
            found[(report, folder.name)] = (
                page.relative_to(out).as_posix() if page in times else None,
                failed.relative_to(out).as_posix() if failed in times else None,
                f"{dt.datetime.fromtimestamp(newest):%Y-%m-%d %H:%M}" if newest else "",
            )
    return found


def _missing_months(runs: Iterable[ReportRun]) -> list[ReportRun]:
    """A ``missing`` run for each month without a page between a report's first month and its
    client's latest month."""
    runs = list(runs)
    latest: dict[str, int] = {}
    first: dict[tuple[str, str], int] = {}
    seen = set()
    for run in runs:
        if not _PERIOD_RE.match(run.period):
            continue
        month = _ordinal(run.period)
        latest[run.client] = max(latest.get(run.client, month), month)
        key = (run.client, run.report)
        first[key] = min(first.get(key, month), month)
        seen.add((run.client, run.report, month))
    missing = []
    for (client, report), start in first.items():
        for month in range(start, latest[client] + 1):
            if (client, report, month) not in seen:
                missing.append(ReportRun(client, report, _period(month), "missing"))
    return missing


def _ordinal(period: str) -> int:
    """Months since year 0 (``unknown``: -1, sorting after every month)."""
    if not _PERIOD_RE.match(period):
        return -1
    year, month = period.split("-")
    return int(year) * 12 + int(month) - 1


def _period(ordinal: int) -> str:
    return f"{ordinal // 12:04d}-{ordinal % 12 + 1:02d}"


def _distance(a: str, b: str) -> int:
    return abs(_ordinal(a) - _ordinal(b)) if _PERIOD_RE.match(a) and _PERIOD_RE.match(b) else 0


# --- the page ------------------------------------------------------------------------------------

_PAGE = """<!DOCTYPE html>
<html lang="{language}">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif;
       margin: 32px auto; max-width: 1100px; padding: 0 16px; color: #222; }}
h1 {{ margin-bottom: 4px; }}
h2 {{ margin: 36px 0 4px; padding-bottom: 4px; border-bottom: 2px solid #333; }}
h3 {{ margin: 20px 0 6px; }}
.muted {{ color: #666; font-size: 0.85em; }}
table {{ border-collapse: collapse; }}
th, td {{ padding: 5px 12px; border-bottom: 1px solid #e0e0e0; text-align: left;
         vertical-align: middle; }}
th {{ font-weight: 600; }}
td.num, th.num {{ text-align: right; white-space: nowrap; }}
td.report {{ font-weight: 600; vertical-align: top; max-width: 15em; }}
tr.first td {{ border-top: 1px solid #bbb; }}
.ok {{ color: #2e7d32; font-weight: 600; }}
.failed {{ color: #c62828; font-weight: 600; }}
.missing {{ color: #999; }}
.spark {{ display: block; }}
.problems {{ border-left: 6px solid #ef6c00; background: #fff5e6; padding: 8px 14px;
            margin: 16px 0; }}
a {{ color: #1565c0; }}
</style>
</head>
<body>
<h1>{heading}</h1>
<div class="muted">{summary}</div>
{problems}
{body}
</body>
</html>
"""


def _client_html(
    client: str,
    runs: Sequence[ReportRun],
    history: KpiHistory,
    titles: Mapping[str, str],
    summaries: Mapping[str, str] | None = None,
) -> str:
    esc = html.escape
    own = [run for run in runs if run.client == client]
    months = sorted({run.period for run in own}, key=_ordinal, reverse=True)
    reports = sorted({run.report for run in own})
    name = esc(client) if client else esc(_("Store not named in any KPI file"))
    newest = next((m for m in months if _PERIOD_RE.match(m)), None)
    status_line = ""
    if newest:
        counts = pd.Series([r.status for r in own if r.period == newest]).value_counts()
        parts = [
            _status_count(s, int(counts[s])) for s in ("ok", "failed", "missing") if s in counts
        ]
        status_line = esc(f"{_month(newest)}: {', '.join(parts)}")
        if summaries and newest in summaries:
            summary = _("summary of the month")
            status_line += f' · <a href="{esc(summaries[newest], quote=True)}">{esc(summary)}</a>'
    trends = _trends_html(client, reports, newest, own, history, titles) if newest else ""
    runs_heading = _("Runs, newest first")
    return (
        f"<h2>{name}</h2>"
        f'<div class="muted">{status_line}</div>'
        f"{trends}"
        f"<h3>{esc(runs_heading)}</h3>{_runs_html(own, months, reports, titles, summaries)}"
    )


def _status_count(status: str, n: int) -> str:
    """``3 ok`` / ``1 failed`` / ``2 missing`` (reports of a month), in the report language."""
    if status == "ok":
        return n_("{n} ok", "{n} ok", n)
    if status == "failed":
        return n_("{n} failed", "{n} failed", n)
    return n_("{n} missing", "{n} missing", n)


def _runs_html(
    runs: Sequence[ReportRun],
    months: Sequence[str],
    reports: Sequence[str],
    titles: Mapping[str, str],
    summaries: Mapping[str, str] | None = None,
) -> str:
    esc = html.escape
    summaries = summaries or {}
    cells = {(run.period, run.report): run for run in runs}
    month_heading = _("Month")
    shown = any(month in summaries for month in months)  # the summary column, first
    head = f"<th>{esc(_('Summary'))}</th>" if shown else ""
    head += "".join(f"<th>{esc(titles.get(report, report))}</th>" for report in reports)
    rows = []
    for month in months:
        row = ""
        if shown:
            row = "<td></td>"
            if month in summaries:
                open_ = _("open")
                href = esc(summaries[month], quote=True)
                row = f'<td><a class="summary" href="{href}">{esc(open_)}</a></td>'
        row += "".join(_status_cell(cells.get((month, report))) for report in reports)
        rows.append(f"<tr><td>{esc(_month(month))}</td>{row}</tr>")
    return (
        f"<table><thead><tr><th>{esc(month_heading)}</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _status_cell(run: ReportRun | None) -> str:
    esc = html.escape
    if run is None:
        return "<td></td>"
    when = ""
    if run.updated:
        written = _("written {when}", when=run.updated)
        when = f' title="{esc(written, quote=True)}"'
    if run.status == "ok":
        ok, open_ = _("ok"), _("open")
        return (
            f'<td><span class="ok">&#10003; {esc(ok)}</span> · '
            f'<a href="{esc(run.html or "", quote=True)}"{when}>{esc(open_)}</a></td>'
        )
    if run.status == "failed":
        failed, what = _("failed"), _("what failed")
        text = (
            f'<span class="failed">&#10007; {esc(failed)}</span> · '
            f'<a href="{esc(run.failure or "", quote=True)}"{when}>{esc(what)}</a>'
        )
        if run.html:
            last_good = _("last good report")
            text += f'<br><a href="{esc(run.html, quote=True)}">{esc(last_good)}</a>'
        return f"<td>{text}</td>"
    missing = _("missing (KPIs only: run in a notebook)") if run.kpis_only else _("missing")
    return f'<td><span class="missing">&mdash; {esc(missing)}</span></td>'


def _trends_html(
    client: str,
    reports: Sequence[str],
    newest: str,
    runs: Sequence[ReportRun],
    history: KpiHistory,
    titles: Mapping[str, str],
) -> str:
    esc = html.escape
    months = [_period(_ordinal(newest) - i) for i in range(TREND_MONTHS - 1, -1, -1)]
    pages = {run.report: run.html for run in runs if run.period == newest and run.html}
    currency = history.currency(client)
    body = []
    for report in reports:
        names = history.headline_kpis(client, report)
        if not names:
            continue
        title = esc(titles.get(report, report))
        if report in pages:
            title = f'<a href="{esc(pages[report], quote=True)}">{title}</a>'
        for i, name in enumerate(names):
            series = history.series(client, report, name)
            unit = history.unit(client, report, name)
            window = [series.get(month) for month in months]
            label = kpi_label(name)
            tooltip = [
                f"{_month(m, short=True)}: {_format(v, unit, currency)}"
                for m, v in zip(months, window, strict=True)
                if v is not None
            ]
            latest_month = series.index[-1]
            latest = series.iloc[-1]
            previous = series.get(_period(_ordinal(latest_month) - 1))
            change = kpi_change(latest, previous, unit)
            when = ""
            if latest_month != newest:  # the newest month has no value: say whose it is
                when = f'<br><span class="muted">{esc(_month(latest_month))}</span>'
            first = f'<td class="report" rowspan="{len(names)}">{title}</td>' if i == 0 else ""
            described = _("{label}, last {months} months", label=label, months=TREND_MONTHS)
            body.append(
                f'<tr class="{"first" if i == 0 else ""}">{first}<td>{esc(label)}</td>'
                f"<td>{sparkline_svg(window, described, tooltip)}</td>"
                f'<td class="num"><b>{esc(_format(latest, unit, currency))}</b>{when}</td>'
                f'<td class="num">{_change_html(change, unit, higher_is_better(name))}</td></tr>'
            )
    if not body:
        return ""
    words = {
        "report": _("Report"),
        "figure": _("Figure"),
        "latest": _("Latest"),
        "change": _("vs month before"),
        "heading": _("Trends over the last {months} months", months=TREND_MONTHS),
        "span": f"{_month(months[0], short=True)} – {_month(months[-1], True, first=False)}",
    }
    head = (
        f"<tr><th>{esc(words['report'])}</th><th>{esc(words['figure'])}</th>"
        f"<th>{esc(words['span'])}</th>"
        f'<th class="num">{esc(words["latest"])}</th>'
        f'<th class="num">{esc(words["change"])}</th></tr>'
    )
    note = _(
        "Shares change in percentage points (pp), model scores (ROC-AUC) by their difference; "
        "other figures in per cent. Rest the pointer on a plot for its monthly values."
    )
    return (
        f"<h3>{esc(words['heading'])}</h3>"
        f"<table><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"
        f'<div class="muted">{esc(note)}</div>'
    )


def _change_html(change: float, unit: str, better: bool | None) -> str:
    text = format_change(change, unit)
    colour = GREY
    if text != "—" and change != 0 and better is not None:
        colour = GREEN if (change > 0) == better else RED
    return f'<span style="color: {colour};">{html.escape(text)}</span>'


def _unreadable_html(history: KpiHistory) -> str:
    if not history.unreadable:
        return ""
    esc = html.escape
    count = len(history.unreadable)
    items = "".join(
        f"<li><code>{esc(f.file)}</code>: {esc(f.reason)}</li>" for f in history.unreadable
    )
    left_out = n_(
        "{n} KPI file could not be read and is left out of the trends.",
        "{n} KPI files could not be read and are left out of the trends.",
        count,
    )
    rerun = n_(
        "Rerun the report of that month to write it again.",
        "Rerun the report of that month to write them again.",
        count,
    )
    return f'<div class="problems"><b>{esc(left_out)}</b> {esc(rerun)}<ul>{items}</ul></div>'


def _format(value: float | None, unit: str, currency: str = "") -> str:
    return format_kpi(value, unit, currency)


def month_name(period: str, short: bool = False, first: bool = True) -> str:
    """``October 2026`` (``Oct 2026`` when *short*), in the report language; capitalized when
    *first* in its line (Russian month names are written in lower case inside a phrase)."""
    if not _PERIOD_RE.match(period):
        return _("Month unknown")
    month = pd.Period(period, freq="M").to_timestamp()
    text = format_date(month, "%b %Y" if short else "%B %Y")
    return capitalized(text) if first else text


_month = month_name


def report_title(report: str) -> str:
    """A report's notebook title ("Customer lifetime value") in the report language, or its
    humanized name."""
    from custkit.reports.inspection import notebook_title
    from custkit.reports.registry import notebooks_dir

    try:  # plain JSON: nbformat's validation would cost a second per notebook
        notebook = json.loads((notebooks_dir() / f"{report}.ipynb").read_text("utf-8"))
        return _(notebook_title(notebook, humanize(report)))
    except Exception:  # a notebook that is gone or half-edited still gets a line
        return humanize(report)


def _report_titles(reports: Iterable[str]) -> dict[str, str]:
    """Each report's title (see :func:`report_title`)."""
    return {report: report_title(report) for report in reports}
