"""The monthly looks of each split test, kept from one report to the next.

A group-sequential test may be looked at as often as one likes only if each look, once taken,
stays as it was: its information fraction, its boundary and what it said. Recomputing last
month's look from this month's data (more customers assigned, late orders, a corrected export)
changes its boundary after the fact, which is how monthly reports reached 7.8% false positives
instead of 5%, and why a "ship B" could be withdrawn the month after.

So each split-test report saves its looks in its ``splittest.kpis.json``, beside its other KPIs
(the report history is the one place a report keeps state between runs, see
:mod:`custkit.reports.history`), under ``experiments.<id>.looks``:

- ``planned_customers`` and ``planned_from``: the planned sample every fraction is measured
  against, and where it came from (``params``, or ``first look``: estimated then, kept since);
- ``alpha`` and ``horizon_days``: a history judged by other settings is not used;
- ``by_variant.<challenger>.<metric>``: one record per look, ``month``, ``look_date``,
  ``customers``, ``information_fraction``, ``z``, ``boundary``, ``nominal_p``, ``crossed``,
  ``estimate``. Counts and statistics only: no customer is named.

:func:`earlier_looks` reads the latest earlier report's looks for the next run, which keeps
them and adds its own (:func:`custkit.splittest.report.sequential_table`).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from custkit.errors import ReportError
from custkit.kpi_files import UnreadableKpis, history_root, kpi_files, load_kpis_file

REPORT = "splittest"
_PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Fields of one saved look.
LOOK_FIELDS = (
    "month",
    "look_date",
    "customers",
    "information_fraction",
    "z",
    "boundary",
    "nominal_p",
    "crossed",
    "estimate",
)


def looks_state(review) -> dict[str, dict[str, Any]]:
    """Experiment id → its looks as this report shows them, to save in ``splittest.kpis.json``
    (``experiments.<id>.looks``) for the next report to keep."""
    from custkit.splittest.report import _look_records, planned_sample

    state = {}
    for experiment_id, design in review.designs.items():
        planned, planned_from = planned_sample(review, experiment_id)
        by_variant: dict[str, dict[str, list]] = {}
        for variant in design.challengers:
            for metric in review.metrics:
                by_variant.setdefault(variant, {})[metric] = [
                    _look_record(look)
                    for look in _look_records(review, experiment_id, metric, variant)
                ]
        state[experiment_id] = {
            "planned_customers": planned,
            "planned_from": planned_from
            if planned_from != "history"
            else _first(review, experiment_id),
            "alpha": review.alpha,
            "horizon_days": review.horizon_days,
            "by_variant": by_variant,
        }
    return state


def _first(review, experiment_id: str) -> str | None:
    return (review.look_history.get(experiment_id) or {}).get("planned_from")


def _look_record(look: Mapping[str, Any]) -> dict[str, Any]:
    record = {name: look[name] for name in LOOK_FIELDS}
    record["look_date"] = f"{look['look_date']:%Y-%m-%d}"
    record["customers"] = int(look["customers"])
    record["crossed"] = bool(look["crossed"])
    for name in ("information_fraction", "z", "boundary", "nominal_p", "estimate"):
        value = float(look[name])
        record[name] = value if math.isfinite(value) else None
    return record


def earlier_looks(
    output_dir: str | os.PathLike[str], period: str, client: str | None = None
) -> dict[str, dict[str, Any]]:
    """The looks saved by the latest split-test report before *period*, per experiment.

    Parameters
    ----------
    output_dir : path-like
        The output folder the reports are published into (or a run's own folder in it, see
        :func:`custkit.kpi_files.history_root`).
    period : str
        This run's month, ``"YYYY-MM"``: only reports of earlier months are read, so rerunning a
        month never reads its own looks, and a later month's report never changes an earlier one.
    client : str, optional
        The store name: another client's reports in the same folder are not this one's history.

    Returns
    -------
    dict
        Experiment id → ``{"period", "planned_customers", "planned_from", "alpha",
        "horizon_days", "looks": {variant: {metric: [look, ...]}}}``, as
        :func:`custkit.splittest.report.review_experiments` takes it (``look_history``); empty
        when there is no earlier report, or it was written before looks were kept.

    Raises
    ------
    ReportError
        The latest earlier report's looks are damaged (edited by hand): recomputing them would
        undo what they said, so the run stops and says how to fix it.
    """
    root = history_root(output_dir, period)
    candidates = []
    for path in kpi_files(Path(root)):
        month = path.relative_to(root).parts[0]
        if path.name == f"{REPORT}.kpis.json" and _PERIOD_RE.match(month) and month < period:
            candidates.append((month, path))
    for month, path in sorted(candidates, reverse=True):
        try:
            document = load_kpis_file(path)
        except UnreadableKpis:
            continue
        if client is not None and str(document.get("store") or "") != client:
            continue
        experiments = document["kpis"].get("experiments")
        if not isinstance(experiments, Mapping):
            return {}
        history = {}
        for experiment_id, entry in experiments.items():
            looks = entry.get("looks") if isinstance(entry, Mapping) else None
            if looks is None:
                continue
            history[str(experiment_id)] = _checked(looks, month, path.relative_to(root))
        return history
    return {}


def _checked(looks: Any, period: str, file: Path) -> dict[str, Any]:
    """One experiment's saved looks, checked whole."""
    problem = _shape_problem(looks)
    if problem:
        raise ReportError(
            f"The split-test looks saved in {file.as_posix()} are damaged: {problem}. "
            "How to fix: restore the file from a backup (the looks it holds are frozen and "
            "must not be recomputed), or remove its 'looks' entries to start the looks afresh "
            "from this report on."
        )
    return {
        "period": period,
        "planned_customers": looks["planned_customers"],
        "planned_from": looks.get("planned_from"),
        "alpha": looks["alpha"],
        "horizon_days": looks["horizon_days"],
        "looks": {
            str(variant): {
                str(metric): [_restored(look) for look in records]
                for metric, records in metrics.items()
            }
            for variant, metrics in looks["by_variant"].items()
        },
    }


def _restored(record: Mapping[str, Any]) -> dict[str, Any]:
    look = dict(record)
    for name in ("information_fraction", "z", "boundary", "nominal_p", "estimate"):
        look[name] = math.nan if look[name] is None else float(look[name])
    if look["boundary"] != look["boundary"]:  # saved as null: the look could not stop the test
        look["boundary"] = math.inf
    return look


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shape_problem(looks: Any) -> str | None:
    if not isinstance(looks, Mapping):
        return "'looks' is not a mapping"
    planned = looks.get("planned_customers")
    if planned is not None and not (_is_number(planned) and planned > 0):
        return f"'planned_customers' must be a number > 0 or null. Got {planned!r} instead"
    if not _is_number(looks.get("alpha")) or not _is_number(looks.get("horizon_days")):
        return "'alpha' and 'horizon_days' must be numbers"
    by_variant = looks.get("by_variant")
    if not isinstance(by_variant, Mapping) or not all(
        isinstance(metrics, Mapping) for metrics in by_variant.values()
    ):
        return "'by_variant' must map each challenger to {metric: [looks]}"
    for variant, metrics in by_variant.items():
        for metric, records in metrics.items():
            where = f"{variant} / {metric}"
            if not isinstance(records, list):
                return f"{where}: the looks are not a list"
            previous_month, previous_fraction = "", 0.0
            for record in records:
                if not isinstance(record, Mapping) or set(LOOK_FIELDS) - set(record):
                    return f"{where}: a look lacks one of {', '.join(LOOK_FIELDS)}"
                fraction = record["information_fraction"]
                if not (_is_number(fraction) and previous_fraction < fraction <= 1):
                    return f"{where}: information fractions must increase within (0, 1]"
                if not (isinstance(record["month"], str) and record["month"] > previous_month):
                    return f"{where}: look months must increase"
                if not (
                    isinstance(record["look_date"], str) and _DATE_RE.match(record["look_date"])
                ):
                    return f"{where}: 'look_date' must be a date written as 'YYYY-MM-DD'"
                if not _is_number(record["customers"]) or record["customers"] < 1:
                    return f"{where}: 'customers' must be a number of customers"
                if not isinstance(record["crossed"], bool):
                    return f"{where}: 'crossed' must be true or false"
                if record["boundary"] is not None and not _is_number(record["boundary"]):
                    return f"{where}: 'boundary' must be a number"
                if not _is_number(record["z"]):
                    return f"{where}: 'z' must be a number"
                previous_month, previous_fraction = record["month"], fraction
    return None
