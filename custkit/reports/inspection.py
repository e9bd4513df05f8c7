"""What a report notebook declares: its title and its parameters cell.

The cell tagged ``parameters`` is the schema of a report: names, defaults (which fix each
parameter's type) and ``# help`` comments. papermill's :func:`papermill.inspect_notebook` reads it;
we add two things papermill does not do: defaults become Python values (``365``, not ``"365"``),
and a line papermill cannot parse (it only logs a warning and drops the parameter) is an error
here, because a silently missing parameter would make valid params keys look unknown.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from custkit.errors import ReportError

if TYPE_CHECKING:  # imported late: notebooks import custkit.reports, and nbformat is slow to load
    import nbformat

#: Parameters the runner sets on every report notebook; users set them with --params, --period
#: and --out, never in a report's params section.
RESERVED = ("params_file", "period", "output_dir")
#: Set by the runner (``--partial``) on the notebooks that declare it; optional, so a notebook
#: without it still runs, and only refuses a month that is not over.
OPTIONAL_RESERVED = ("partial",)


class _NoLiteral:
    """Marks a default that is an expression, not a literal (``pd.Timestamp("2026-01-01")``)."""

    def __repr__(self) -> str:
        return "<expression>"


NO_LITERAL: Any = _NoLiteral()


@dataclass(frozen=True)
class Parameter:
    """One parameter of a report notebook.

    Attributes
    ----------
    name : str
    default : object
        The default as a Python value, or :data:`NO_LITERAL` when it is an expression.
    default_text : str
        The default as written in the notebook.
    type_name : str
        ``int``, ``float``, ``str``, ``bool``, ``list``, ``dict`` … from the annotation when there
        is one, else from the default; ``any`` when the default is ``None`` or an expression.
    help : str
        The comment after the assignment.
    """

    name: str
    default: Any
    default_text: str
    type_name: str
    help: str = ""


def read_notebook(notebook: str | os.PathLike[str]) -> nbformat.NotebookNode:
    """Read a notebook file (nbformat 4), naming the file when it cannot be read."""
    import nbformat

    try:
        return nbformat.read(os.fspath(notebook), as_version=4)
    except (OSError, ValueError) as exc:
        raise ReportError(f"Cannot read notebook '{notebook}': {exc}") from exc


def notebook_title(nb: nbformat.NotebookNode | dict, fallback: str) -> str:
    """The text of the first markdown heading, or *fallback*.

    Takes a NotebookNode or the notebook's plain JSON (a dict), so a kernel can read the title
    without importing nbformat (seconds, through jsonschema).
    """
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        source = cell["source"]
        for line in ("".join(source) if isinstance(source, list) else source).splitlines():
            if line.lstrip().startswith("#"):
                title = line.strip().lstrip("#").strip()
                if title:
                    return title
    return fallback


def parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """The first cell tagged ``parameters``, if any."""
    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return cell
    return None


def notebook_parameters(notebook: str | os.PathLike[str]) -> dict[str, Parameter]:
    """The parameters declared in *notebook*'s ``parameters`` cell, in cell order.

    Raises
    ------
    ReportError
        The notebook has no ``parameters`` cell, no kernelspec, or a line papermill cannot read.
    """
    path = Path(notebook)
    nb = read_notebook(path)
    cell = parameters_cell(nb)
    if cell is None:
        raise ReportError(
            f"Notebook '{path}' has no cell tagged 'parameters'. In JupyterLab, add the tag "
            "'parameters' to the cell that sets the report's parameters."
        )
    import papermill

    try:
        inspected = papermill.inspect_notebook(str(path))
    except ValueError as exc:  # papermill needs a kernelspec to pick its parameter parser
        raise ReportError(
            f"Notebook '{path}' cannot be inspected: {exc} Open it in JupyterLab with the "
            "'custkit' kernel and save it."
        ) from exc
    missing = [name for name in _assigned_names(cell.source, path) if name not in inspected]
    if missing:
        raise ReportError(
            f"Notebook '{path}': papermill cannot read the parameter(s) {', '.join(missing)} in "
            "the 'parameters' cell. Write each as 'name = literal  # help' on one line, without "
            "'=' inside the comment."
        )
    return {name: _parameter(info) for name, info in inspected.items()}


def _assigned_names(source: str, path: Path) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ReportError(
            f"Notebook '{path}': the 'parameters' cell is not valid Python: {exc}"
        ) from exc
    names = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def _parameter(info: dict) -> Parameter:
    text = info["default"]
    try:
        default = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError):
        default = NO_LITERAL
    annotated = info.get("inferred_type_name") or "None"
    if annotated != "None":
        type_name = annotated
    elif default is NO_LITERAL or default is None:
        type_name = "any"
    else:
        type_name = type(default).__name__
    return Parameter(info["name"], default, text, type_name, info.get("help") or "")
