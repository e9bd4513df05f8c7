"""What scheduled runs have done, and one run at a time, per output folder.

Both live in the job's output folder, beside the reports they describe:

- ``schedule-state.json`` records, per job, the latest fire time handled and every finished
  period with its status, number of attempts and the status of each report. It is written
  atomically (temporary file, then :func:`os.replace`) after every period, so a killed run loses
  at most the period it was working on, which the next run does again.
- ``.schedule.lock``: one run at a time per output folder, see :mod:`custkit.reports.lock`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from custkit.errors import ReportError
from custkit.storage import write_text_atomic

STATE_FILE = "schedule-state.json"
_VERSION = 1


@dataclass(frozen=True)
class PeriodRecord:
    """What the schedule did for one period of one job.

    Attributes
    ----------
    status : {"ok", "failed"}
        ``ok`` when every report of the job succeeded.
    attempts : int
        Runs of this period since it last succeeded or was rerun on demand.
    reports : Mapping[str, str]
        Report name → ``"ok"`` or ``"failed"``.
    fire : str or None
        The fire time (ISO 8601) the period was due for; None for an on-demand rerun.
    finished_at : str
        When the attempt ended (ISO 8601, UTC).
    error : str or None
        What failed, in one line per report.
    mail : str or None
        The message after the run: ``"sent <time> to N recipients"`` or ``"failed <time>:
        <error>"``; None when none was due (see :mod:`custkit.schedule.mail`).
    """

    status: Literal["ok", "failed"]
    attempts: int
    reports: Mapping[str, str] = field(default_factory=dict)
    fire: str | None = None
    finished_at: str = ""
    error: str | None = None
    mail: str | None = None


class ScheduleState:
    """The state file of one output folder; change it only while holding :func:`folder_lock`.

    Parameters
    ----------
    path : Path
        ``<out>/schedule-state.json``.
    jobs : dict
        The parsed ``jobs`` section (job name → ``{"last_fire", "periods"}``).
    """

    def __init__(self, path: Path, jobs: dict[str, Any] | None = None) -> None:
        self.path = path
        self._jobs: dict[str, Any] = jobs or {}

    @classmethod
    def load(cls, out: str | os.PathLike[str]) -> ScheduleState:
        """Read ``<out>/schedule-state.json`` (an empty state when it does not exist yet).

        Raises
        ------
        ReportError
            The file exists but is not a state file (edited by hand or overwritten).
        """
        path = Path(out) / STATE_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path)
        except UnicodeDecodeError:
            raise _damaged(path, "it is not UTF-8 text") from None
        except OSError as exc:
            raise ReportError(
                f"Cannot read the schedule state file {path}: {exc.strerror or exc}. "
                "How to fix: give this user read and write permission on it (and on its folder)."
            ) from None
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise _damaged(path, f"it is not valid JSON: {exc}") from None
        problem = _shape_problem(document)
        if problem:
            raise _damaged(path, problem)
        return cls(path, document["jobs"])

    def last_fire(self, job: str) -> dt.datetime | None:
        """The latest fire time of *job* a run has handled."""
        text = self._jobs.get(job, {}).get("last_fire")
        return dt.datetime.fromisoformat(text) if text else None

    def periods(self, job: str) -> dict[str, PeriodRecord]:
        """Every recorded period of *job*, oldest first."""
        recorded = self._jobs.get(job, {}).get("periods", {})
        return {period: PeriodRecord(**recorded[period]) for period in sorted(recorded)}

    def record(self, job: str, period: str, record: PeriodRecord) -> None:
        """Store what happened to *period* of *job* and save the file."""
        entry = self._jobs.setdefault(job, {})
        entry.setdefault("periods", {})[period] = {**vars(record), "reports": dict(record.reports)}
        self.save()

    def set_last_fire(self, job: str, fire: dt.datetime) -> None:
        """Remember that fires of *job* up to *fire* are handled, and save the file."""
        self._jobs.setdefault(job, {})["last_fire"] = fire.isoformat()
        self.save()

    def save(self) -> Path:
        """Write the file atomically."""
        document = {"version": _VERSION, "jobs": self._jobs}
        text = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        return write_text_atomic(self.path, text)


_PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_RECORD_FIELDS = {"status", "attempts", "reports", "fire", "finished_at", "error", "mail"}


def _damaged(path: Path, problem: str) -> ReportError:
    return ReportError(
        f"The schedule state file {path} is damaged: {problem}. How to fix: restore it from a "
        "backup, or delete it to start afresh: the next run then reports only the most recent "
        "period of each job (or every period since a job's 'start'), and a period reported "
        "before is reported again only on demand."
    )


def _shape_problem(document: Any) -> str | None:
    """What makes *document* not a state file, or None; checked fully here so that a damaged
    file is refused when read, never met halfway through a run."""
    if not isinstance(document, dict) or not isinstance(document.get("jobs"), dict):
        return "it has no 'jobs' mapping"
    for job, entry in document["jobs"].items():
        where = f"job '{job}'"
        if not isinstance(entry, dict):
            return f"{where} is not a mapping"
        fire = entry.get("last_fire")
        if fire is not None and not _is_time(fire):
            return f"{where}: 'last_fire' must be a time in ISO 8601. Got {fire!r} instead"
        periods = entry.get("periods", {})
        if not isinstance(periods, dict):
            return f"{where}: 'periods' is not a mapping"
        for period, record in periods.items():
            here = f"{where}, period {period!r}"
            if not _PERIOD_RE.match(str(period)):
                return f"{where}: {period!r} is not a month written as 'YYYY-MM'"
            if not isinstance(record, dict):
                return f"{here} is not a mapping"
            unknown = set(record) - _RECORD_FIELDS
            missing = {"status", "attempts"} - set(record)
            if unknown or missing:
                names = ", ".join(sorted(unknown or missing))
                return f"{here}: {'unknown' if unknown else 'missing'} fields {names}"
            if record["status"] not in ("ok", "failed"):
                return f"{here}: status must be 'ok' or 'failed'. Got {record['status']!r} instead"
            attempts = record["attempts"]
            if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
                return f"{here}: attempts must be a positive whole number. Got {attempts!r} instead"
            reports = record.get("reports", {})
            if not isinstance(reports, dict) or not all(
                v in ("ok", "failed") for v in reports.values()
            ):
                return f"{here}: reports must map report names to 'ok' or 'failed'"
            if record.get("fire") is not None and not _is_time(record["fire"]):
                return f"{here}: 'fire' must be a time in ISO 8601. Got {record['fire']!r} instead"
    return None


def _is_time(text: Any) -> bool:
    try:
        return isinstance(text, str) and dt.datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False
