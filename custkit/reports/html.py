"""Executed notebook → one self-contained HTML page a manager can open offline.

nbconvert's ``lab`` template is used with code, prompts and the parameters cells removed. Its
page head loads require.js, MathJax and mermaid from a CDN; a report must open without internet,
so a small template derived from it empties those blocks, and :func:`strip_external_resources`
removes any ``<script src=http…>`` or ``<link href=http…>`` that is still there. Plots stay
embedded as base64 images.
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import re
import uuid
from typing import TYPE_CHECKING

from custkit.i18n import LANGUAGES, _, format_date, get_language

if TYPE_CHECKING:
    import nbformat

#: Cells never shown on a report page.
HIDDEN_TAGS = frozenset(
    {"parameters", "injected-parameters", "remove-cell", "papermill-error-cell-tag"}
)

_TEMPLATE_NAME = "custkit_report.html.j2"
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""
_EXTERNAL_SCRIPT_RE = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>.*?</script\s*>", re.I | re.S
)
_EXTERNAL_LINK_RE = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//[^>]*>", re.I)
_CSS_IMPORT_RE = re.compile(r"@import\s+(?:url\()?[\"']?(?:https?:)?//[^;]*;", re.I)


def notebook_to_html(nb: nbformat.NotebookNode, title: str) -> str:
    """The report page of an executed notebook.

    Code, prompts, the ``parameters`` and ``injected-parameters`` cells, stderr output and the
    notebook's own ``# Title`` line above its parameters cell (the report header shows the title)
    are left out; the introduction under that title moves below the report header, so a page
    opens with the store, the title and the month.

    Parameters
    ----------
    nb : NotebookNode
        Executed notebook; it is not modified.
    title : str
        Page ``<title>``, e.g. ``"My store — Customer audit — 2026-10"``.
    """
    import jinja2
    from nbconvert import HTMLExporter

    page = copy.deepcopy(nb)
    _drop_title_block_heading(page)
    _intro_below_header(page)
    page.cells = [c for c in page.cells if not HIDDEN_TAGS & set(c.metadata.get("tags", []))]
    for cell in page.cells:
        if cell.cell_type == "code":  # warnings and logs on stderr are for the analyst
            cell.outputs = [o for o in cell.outputs if o.get("name") != "stderr"]
    page.metadata["title"] = title
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[jinja2.DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        template_file=_TEMPLATE_NAME,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(page)
    return strip_external_resources(body)


def _drop_title_block_heading(nb: nbformat.NotebookNode) -> None:
    """Remove the ``# Title`` line above the parameters cell: the report header shows the title."""
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            return
        if cell.cell_type == "markdown":
            lines = [ln for ln in cell.source.splitlines() if not re.match(r"#\s", ln)]
            cell.source = "\n".join(lines)
    # no parameters cell: nothing is a title block


def _intro_below_header(nb: nbformat.NotebookNode) -> None:
    """Move the markdown above the parameters cell (the title block's introduction) to just
    below the report header, the first output of a later cell made by ``header_html``.

    Nothing moves when there is no parameters cell or no header output.
    """
    params_at = next(
        (i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])), None
    )
    if params_at is None:
        return
    intro = [c for c in nb.cells[:params_at] if c.cell_type == "markdown" and c.source.strip()]
    if not intro:
        return
    for index in range(params_at + 1, len(nb.cells)):
        cell = nb.cells[index]
        if cell.cell_type != "code":
            continue
        at = next((i for i, o in enumerate(cell.get("outputs", [])) if _is_header(o)), None)
        if at is None:
            continue
        rest = copy.deepcopy(cell)
        rest.outputs, cell.outputs = cell.outputs[at + 1 :], cell.outputs[: at + 1]
        rest.metadata.pop("tags", None)
        if "id" in rest:  # cell ids are unique within a notebook
            rest["id"] = uuid.uuid4().hex[:8]
        moved = [*intro, rest] if rest.outputs else intro
        nb.cells[index + 1 : index + 1] = moved
        kept = [c for c in nb.cells[:params_at] if not any(c is m for m in intro)]
        nb.cells = kept + nb.cells[params_at:]
        return


def _is_header(output: dict) -> bool:
    html_text = output.get("data", {}).get("text/html", "")
    text = "".join(html_text) if isinstance(html_text, list) else str(html_text)
    return 'class="custkit-header"' in text


def strip_external_resources(text: str) -> str:
    """Remove scripts and stylesheets fetched from the internet."""
    text = _EXTERNAL_SCRIPT_RE.sub("", text)
    text = _EXTERNAL_LINK_RE.sub("", text)
    return _CSS_IMPORT_RE.sub("", text)


def external_resources(text: str) -> list[str]:
    """Tags or rules in *text* that would fetch a script or a style from the internet."""
    found = [m.group(0) for m in _EXTERNAL_SCRIPT_RE.finditer(text)]
    found += [m.group(0) for m in _EXTERNAL_LINK_RE.finditer(text)]
    found += [m.group(0) for m in _CSS_IMPORT_RE.finditer(text)]
    return found


def failure_page(report: str, period: str, step: str, message: str, details: str = "") -> str:
    """A short offline page saying which step of which report failed, and why.

    Written in the report language; *step* and *details* come translated, *message* (the error,
    for the analyst) stays as raised.
    """
    esc = html.escape
    report, period = _failed_report_names(report, period)
    texts = {
        "title": _("{report} — {period} — failed", report=report, period=period),
        "heading": _(
            "The {report} report for {period} could not be produced", report=report, period=period
        ),
        "step": _("Failing step:"),
        "unchanged": _("The previous report for this period, if there was one, is unchanged."),
    }
    return f"""<!DOCTYPE html>
<html lang="{get_language()}">
<head>
<meta charset="utf-8">
<title>{esc(texts["title"])}</title>
<style>
body {{ font-family: -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif;
       max-width: 760px; margin: 40px auto; padding: 0 16px; color: #222; }}
.box {{ border-left: 6px solid #c62828; background: #fdecec; padding: 12px 16px; }}
pre {{ white-space: pre-wrap; }}
</style>
</head>
<body>
<h1>{esc(texts["heading"])}</h1>
<div class="box">
<p>{esc(texts["step"])} <b>{esc(step)}</b></p>
<pre>{esc(message)}</pre>
</div>
<p>{esc(details)}</p>
<p>{esc(texts["unchanged"])}</p>
</body>
</html>
"""


def _failed_report_names(report: str, period: str) -> tuple[str, str]:
    """How a failure page names the report and its month: in English as the command line does
    (``audit``, ``2026-10``); in another language by the report's translated title and the
    month's name (``Аудит клиентов``, ``октябрь 2026``), as the ids mean nothing to its readers."""
    if get_language() == LANGUAGES[0]:
        return report, period
    from custkit.reports.index import report_title

    if re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        period = format_date(dt.date(int(period[:4]), int(period[5:]), 1), "%B %Y")
    return report_title(report), period
