"""The ``kpis.json`` files of earlier runs: where they are, and reading one.

A report's run writes ``<out>/<period>/<report>/<report>.kpis.json`` (before report folders:
``<out>/<period>/<report>.kpis.json``). The report history (:mod:`custkit.reports.history`)
reads them for the index page and each report's month-to-month comparisons; the split-test
analysis reads its own earlier looks from them (:mod:`custkit.splittest.looks`). Only the file
layout is here, in the core layer, so an analysis reads it without importing the report layer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

#: The suffix of a report's KPI file, ``<report>.kpis.json``.
KPIS_SUFFIX = ".kpis.json"
#: The folder of the output folder where the runner builds each report before publishing it
#: (``<out>/.staging/<report>-<id>/``).
STAGING = ".staging"


class UnreadableKpis(ValueError):
    """A ``kpis.json`` file that is not a usable KPI file; the message says why."""


def kpi_files(out: Path) -> list[Path]:
    """The ``kpis.json`` of each report and period in *out*, one per pair: the report folder's
    (``<period>/<report>/<report>.kpis.json``) before one of the older layout beside it."""
    if not out.is_dir():
        return []
    found: dict[tuple[str, str], Path] = {}
    for path in sorted(out.glob(f"*/*/*{KPIS_SUFFIX}")) + sorted(out.glob(f"*/*{KPIS_SUFFIX}")):
        parts = path.relative_to(out).parts
        if any(part.startswith(".") for part in parts):
            continue
        report = path.name.removesuffix(KPIS_SUFFIX)
        if len(parts) == 3 and parts[1] != report:  # not a report folder (exports/ ...)
            continue
        found.setdefault((parts[0], report), path)
    return sorted(found.values())


def report_kpis_path(out: Path, period: str, report: str) -> Path:
    """Where the ``kpis.json`` of *report* for *period* is: in its report folder, or (written
    before report folders) beside it."""
    path = out / period / report / f"{report}{KPIS_SUFFIX}"
    legacy = out / period / f"{report}{KPIS_SUFFIX}"
    return path if path.exists() or not legacy.exists() else legacy


def load_kpis_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The document of one ``kpis.json``, checked to hold a ``kpis`` mapping.

    Raises
    ------
    UnreadableKpis
        The file cannot be read, is not JSON, or is not a KPI file.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UnreadableKpis("it is not UTF-8 text") from None
    except OSError as exc:
        raise UnreadableKpis(f"it cannot be read ({exc.strerror or exc})") from None
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise UnreadableKpis(f"it is not valid JSON ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("kpis"), dict):
        raise UnreadableKpis("it has no 'kpis' section: not a KPI file of a custkit report")
    return document


def history_root(output_dir: str | os.PathLike[str], period: str) -> Path:
    """The output folder whose ``<period>/`` subfolders hold a report's history.

    A run by the runner works in ``<out>/.staging/<report>-<id>/``; a notebook run by hand in
    ``<out>/<period>/<report>/`` or ``<out>/<period>/``. Any other folder is taken as the
    output folder itself.
    """
    folder = Path(output_dir)
    if folder.parent.name == STAGING:
        return folder.parent.parent
    if folder.parent.name == period:
        return folder.parent.parent
    if folder.name == period:
        return folder.parent
    return folder
