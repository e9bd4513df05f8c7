"""The reports that exist: one notebook per report in the package's ``custkit/notebooks/`` folder.

A report exists when ``custkit/notebooks/<name>.ipynb`` exists; there is nothing else to
register. The notebooks are package data (``pyproject.toml``), so an installed custkit (a wheel,
not only a checkout) runs every report. Set ``CUSTKIT_NOTEBOOKS`` to use another folder (tests,
a client's own notebooks).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import custkit
from custkit.errors import ParamsError, ReportError, did_you_mean
from custkit.reports.inspection import (
    OPTIONAL_RESERVED,
    RESERVED,
    Parameter,
    notebook_parameters,
    notebook_title,
    read_notebook,
)


@dataclass(frozen=True)
class ReportInfo:
    """A report: its name, notebook, title and the parameters a user may set.

    ``parameters`` leaves out the reserved ones the runner sets (:data:`RESERVED`, and
    ``partial``); ``partial`` says whether the notebook declares ``partial`` (``--partial``).
    """

    name: str
    notebook: Path
    title: str
    parameters: dict[str, Parameter]
    partial: bool = False


def notebooks_dir() -> Path:
    """Where report notebooks live: ``$CUSTKIT_NOTEBOOKS`` or the package's ``notebooks/``."""
    override = os.environ.get("CUSTKIT_NOTEBOOKS")
    if override:
        return Path(override).expanduser().resolve()
    return Path(custkit.__file__).resolve().parent / "notebooks"


def report_names() -> list[str]:
    """Names of the reports that exist, sorted."""
    folder = notebooks_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.ipynb") if not p.name.startswith("."))


def get_report(name: str) -> ReportInfo:
    """The report called *name*.

    Raises
    ------
    ParamsError
        No such report; the message lists the ones that exist.
    """
    names = report_names()
    if name not in names:
        raise ParamsError(
            f"There is no report called '{name}'.{did_you_mean(name, names)} "
            f"Reports: {', '.join(names) or '(none found in ' + str(notebooks_dir()) + ')'}."
        )
    notebook = notebooks_dir() / f"{name}.ipynb"
    title = notebook_title(read_notebook(notebook), fallback=name.replace("_", " ").capitalize())
    declared = notebook_parameters(notebook)
    missing = [key for key in RESERVED if key not in declared]
    if missing:
        raise ReportError(
            f"Notebook '{notebook}' must declare {', '.join(missing)} in its 'parameters' cell: "
            "the runner sets them (params file, report month, output folder)."
        )
    runner_set = (*RESERVED, *OPTIONAL_RESERVED)
    parameters = {k: parameter for k, parameter in declared.items() if k not in runner_set}
    return ReportInfo(name, notebook, title, parameters, partial="partial" in declared)


def list_reports() -> list[ReportInfo]:
    """Every report that exists, by name."""
    return [get_report(name) for name in report_names()]
