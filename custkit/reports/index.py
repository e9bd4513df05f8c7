"""``<out>/index.html``: every report and period in an output folder, newest first."""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from custkit.errors import CustkitError
from custkit.reports.display import format_count, format_money, format_share, humanize
from custkit.reports.files import write_text_atomic

HEADLINE_KPIS = 4
_PERIOD_RE = re.compile(r"^\d{4}-\d{2}$")
_SHARE_NAME_RE = re.compile(r"(^|_)(share|rate|ratio)($|_)")


@dataclass(frozen=True)
class IndexEntry:
    """One report of one period as found on disk."""

    period: str
    report: str
    status: str  # "ok" or "failed"
    html: str | None  # path relative to the output folder
    failure: str | None
    kpis: dict[str, Any] = field(default_factory=dict)
    store: str = ""
    generated_at: str = ""


def scan(out_dir: str | os.PathLike[str]) -> list[IndexEntry]:
    """Entries for every ``<out>/<period>/<report>.html`` or ``.failed.html``, newest first."""
    out = Path(out_dir)
    periods = (
        [
            p
            for p in out.iterdir()
            if p.is_dir() and (_PERIOD_RE.match(p.name) or p.name == "unknown")
        ]
        if out.is_dir()
        else []
    )
    periods.sort(key=lambda p: (p.name != "unknown", p.name), reverse=True)
    entries = []
    for folder in periods:
        names = {p.name.removesuffix(".failed.html") for p in folder.glob("*.failed.html")}
        names |= {p.stem for p in folder.glob("*.html") if not p.name.endswith(".failed.html")}
        for report in sorted(names):
            page, failed = folder / f"{report}.html", folder / f"{report}.failed.html"
            document = _read_json(folder / f"{report}.kpis.json")
            entries.append(
                IndexEntry(
                    period=folder.name,
                    report=report,
                    status="failed" if failed.exists() else "ok",
                    html=f"{folder.name}/{page.name}" if page.exists() else None,
                    failure=f"{folder.name}/{failed.name}" if failed.exists() else None,
                    kpis=dict(document.get("kpis") or {}),
                    store=str(document.get("store") or ""),
                    generated_at=str(document.get("generated_at") or ""),
                )
            )
    return entries


def build_index(out_dir: str | os.PathLike[str]) -> Path:
    """Write ``<out_dir>/index.html`` (offline, escaped) and return its path."""
    out = Path(out_dir)
    rows = [_row(entry) for entry in scan(out)]
    body = (
        "<table><thead><tr><th>Period</th><th>Report</th><th>Status</th><th>Headline figures</th>"
        f"<th>Generated</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        if rows
        else "<p>No reports yet. Run <code>custkit run all --params FILE</code>.</p>"
    )
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>custkit reports</title>
<style>
body {{ font-family: -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif;
       margin: 32px; color: #222; }}
table {{ border-collapse: collapse; }}
th, td {{ padding: 6px 12px; border-bottom: 1px solid #e0e0e0; text-align: left;
         vertical-align: top; }}
.ok {{ color: #2e7d32; font-weight: 600; }}
.failed {{ color: #c62828; font-weight: 600; }}
.kpi {{ display: inline-block; margin-right: 14px; }}
.kpi span {{ color: #666; font-size: 0.85em; }}
</style>
</head>
<body>
<h1>Reports</h1>
{body}
<p style="color: #666; font-size: 0.8em;">Updated {dt.datetime.now():%Y-%m-%d %H:%M}.</p>
</body>
</html>
"""
    return write_text_atomic(out / "index.html", page)


def _report_title(report: str) -> str:
    """The notebook's title ("Customer lifetime value"), or the humanized name."""
    from custkit.reports.registry import get_report

    try:
        return get_report(report).title
    except CustkitError:  # a report whose notebook is gone still gets a line
        return humanize(report)


def _row(entry: IndexEntry) -> str:
    esc = html.escape
    name = esc(_report_title(entry.report))
    report = f'<a href="{esc(entry.html, quote=True)}">{name}</a>' if entry.html else name
    if entry.store:
        report += f"<br><span style='color:#666'>{esc(entry.store)}</span>"
    status = f'<span class="{entry.status}">{entry.status}</span>'
    if entry.failure:
        status += f' (<a href="{esc(entry.failure, quote=True)}">what failed</a>)'
        if entry.html:
            status += "<br>the link shows the last good report"
    kpis = "".join(
        f'<div class="kpi"><span>{esc(humanize(k))}</span><br>{esc(_format_kpi(k, v))}</div>'
        for k, v in list(entry.kpis.items())[:HEADLINE_KPIS]
        if not isinstance(v, (dict, list))
    )
    return (
        f"<tr><td>{esc(entry.period)}</td><td>{report}</td><td>{status}</td><td>{kpis}</td>"
        f"<td>{esc(entry.generated_at.replace('T', ' '))}</td></tr>"
    )


def _format_kpi(name: str, value: Any) -> str:
    if isinstance(value, bool) or isinstance(value, str):
        return str(value)
    if isinstance(value, (int, float)):
        if _SHARE_NAME_RE.search(name):
            return format_share(value)
        return format_count(value) if isinstance(value, int) else format_money(value)
    return "—"


def _read_json(path: Path) -> dict:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}
