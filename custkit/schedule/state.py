"""What scheduled runs have done, and one run at a time, per output folder.

Both live in the job's output folder, beside the reports they describe:

- ``schedule-state.json`` records, per job, the latest fire time handled and every finished
  period with its status, number of attempts and the status of each report. It is written
  atomically (temporary file, then :func:`os.replace`) after every period, so a killed run loses
  at most the period it was working on, which the next run does again.
- ``.schedule.lock`` is held with :func:`fcntl.flock` for as long as a run works in the folder.
  The operating system releases a flock when its process dies, however it dies, so a crashed or
  killed run never leaves the folder locked; no stale-lock cleanup or pid check is needed. The
  descriptor is not inherited by report kernels (Python opens files non-inheritable), so a kernel
  orphaned by a killed run does not keep the lock either. The file itself is never deleted
  (deleting a lock file lets two runs lock two different files); it holds the current holder's
  pid for the "busy" message. flock needs a POSIX system (Linux, macOS) and a local file system.

``custkit run`` takes the same lock as ``custkit schedule run``, so a hand run and a scheduled
run never publish into one folder at once. The schedule runner calls the report runner while it
holds the lock; a flock conflicts with every other open file description, even in the same
process, so the lock is re-entrant per thread: a nested :func:`folder_lock` of a folder this
thread already holds does not lock again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from custkit.errors import CustkitError, ReportError
from custkit.reports.files import write_text_atomic

STATE_FILE = "schedule-state.json"
LOCK_FILE = ".schedule.lock"
#: Exit status of a run that found its output folder locked (``EX_TEMPFAIL``: try again later).
BUSY_EXIT_CODE = 75
_VERSION = 1


class FolderBusy(CustkitError):
    """Another ``custkit run`` or ``custkit schedule run`` is working in the same output
    folder."""

    exit_code = BUSY_EXIT_CODE


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
    """

    status: Literal["ok", "failed"]
    attempts: int
    reports: Mapping[str, str] = field(default_factory=dict)
    fire: str | None = None
    finished_at: str = ""
    error: str | None = None


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


_HELD = threading.local()


@contextmanager
def folder_lock(
    out: str | os.PathLike[str], wait: bool = False, command: str = "custkit schedule run"
) -> Iterator[Path]:
    """Hold the run lock of an output folder for the ``with`` block.

    Re-entrant per thread: inside a ``with folder_lock(out)`` block the same thread may enter
    ``folder_lock(out)`` again (the schedule runner calls ``run_reports``, which locks too).

    Parameters
    ----------
    out : path-like
        The output folder (created if missing).
    wait : bool
        Wait for another run to finish instead of raising :class:`FolderBusy`.
    command : str
        What holds the lock, for the "busy" message of another run.

    Yields
    ------
    Path
        The lock file.

    Raises
    ------
    FolderBusy
        Another process (or thread) holds the lock and *wait* is False.
    """
    import fcntl

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    key = str(folder.resolve())
    held: dict[str, int] = _HELD.__dict__.setdefault("folders", {})
    if held.get(key):
        held[key] += 1
        try:
            yield path
        finally:
            held[key] -= 1
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = _holder(path)
            raise FolderBusy(
                f"another custkit run{holder} is working in {folder}; this run left that "
                f"folder alone (exit status {BUSY_EXIT_CODE}). Run again when it has finished "
                "(a scheduled run picks up whatever is still due next time), or add --wait to "
                "wait for it."
            ) from None
        started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {started}: {command}\n".encode(), 0)
        held[key] = 1
        try:
            yield path
        finally:
            held.pop(key, None)
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""
    return f" ({text})" if text else ""


_PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_RECORD_FIELDS = {"status", "attempts", "reports", "fire", "finished_at", "error"}


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
