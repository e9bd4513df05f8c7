"""Executed notebook → one self-contained HTML page a manager can open offline.

nbconvert's ``lab`` template is used with code, prompts and the parameters cells removed. Its
page head loads require.js, MathJax and mermaid from a CDN; a report must open without internet,
so a small template derived from it empties those blocks, and :func:`strip_external_resources`
removes any ``<script src=http…>`` or ``<link href=http…>`` that is still there. Plots stay
embedded as base64 images.
"""

from __future__ import annotations

import copy
import html
import re
from typing import TYPE_CHECKING

from custkit.reports.display import EMAIL_RE

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
_STYLE_RE = re.compile(r"<style\b.*?</style\s*>", re.I | re.S)
_DATA_URI_RE = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+")


def notebook_to_html(nb: nbformat.NotebookNode, title: str) -> str:
    """The report page of an executed notebook.

    Code, prompts, the ``parameters`` and ``injected-parameters`` cells, stderr output and the
    notebook's own ``# Title`` line above its parameters cell (the report header shows the title)
    are left out.

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


def count_email_addresses(text: str) -> int:
    """How many e-mail-like strings a page shows (styles and embedded images ignored)."""
    visible = _DATA_URI_RE.sub("", _STYLE_RE.sub("", text))
    return sum(1 for _ in EMAIL_RE.finditer(visible))


def failure_page(report: str, period: str, step: str, message: str, details: str = "") -> str:
    """A short offline page saying which step of which report failed, and why."""
    esc = html.escape
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{esc(report)} — {esc(period)} — failed</title>
<style>
body {{ font-family: -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif;
       max-width: 760px; margin: 40px auto; padding: 0 16px; color: #222; }}
.box {{ border-left: 6px solid #c62828; background: #fdecec; padding: 12px 16px; }}
pre {{ white-space: pre-wrap; }}
</style>
</head>
<body>
<h1>The {esc(report)} report for {esc(period)} could not be produced</h1>
<div class="box">
<p>Failing step: <b>{esc(step)}</b></p>
<pre>{esc(message)}</pre>
</div>
<p>{esc(details)}</p>
<p>The previous report for this period, if there was one, is unchanged.</p>
</body>
</html>
"""
