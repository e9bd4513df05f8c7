"""What a run shows while it works: each report's steps as papermill executes them.

:func:`~custkit.reports.run.run_reports` tells a :class:`RunProgress` when the run starts, when
a report starts, at every code cell the kernel starts (its step: the cell's first comment line,
else the section heading above it, as :func:`~custkit.reports.execute.step_name` names a failing
step) and when a report and the run end. Two displays:

- :class:`LiveProgress` on a terminal: rich's live progress bars (one per report, and the whole
  run for ``run all``) with the step being run and the time elapsed. rich draws, refreshes and
  clears the bars; we only feed it events.
- :class:`LineProgress` elsewhere (a scheduler, a pipe, a CI log): one plain line with a timestamp
  per section and per finished report, never a bar or a control character, so logs read cleanly.

Progress text is report names, step names (from the notebook's source, in English even for a
Russian report: the step names come from the notebook before its markdown is translated),
counts and times: never a value from the store's data, so no personal data.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from custkit.reports.run import RunResult


class RunProgress:
    """Events of a run; this base class shows nothing (the default of :func:`run_reports`)."""

    def run_started(self, reports: Sequence[str], period: str | None) -> None:
        """The run starts *reports* (in that order) for *period* (None: the latest month)."""

    def report_started(self, report: str) -> None:
        """*report*'s kernel is about to start."""

    def step(self, report: str, number: int, total: int, name: str) -> None:
        """*report* starts its code cell *number* of *total*, which belongs to step *name*."""

    def writing_page(self, report: str) -> None:
        """*report*'s kernel has finished; its page is being written and checked."""

    def report_finished(self, result: RunResult) -> None:
        """*report* was published (or failed) as *result* says."""

    def run_finished(self, results: Sequence[RunResult], seconds: float) -> None:
        """Every report ran; the run took *seconds*."""

    def close(self) -> None:
        """Release the display (called even when the run stops with an error)."""

    def __enter__(self) -> RunProgress:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class LineProgress(RunProgress):
    """Plain lines with timestamps, one per section started and one per report finished.

    Consecutive cells of one section make one line, so a log holds the sections as the notebook
    names them, not its cells.

    Parameters
    ----------
    stream : text stream
        Where the lines go; default: standard output (errors keep standard error).
    clock : callable, optional
        Returns the current local time as a datetime; tests pass a fixed one.
    """

    def __init__(
        self, stream: IO[str] | None = None, clock: Callable[[], dt.datetime] | None = None
    ) -> None:
        self.stream = stream
        self.clock = clock or (lambda: dt.datetime.now().astimezone())
        self._started: dict[str, float] = {}
        self._section: dict[str, str] = {}
        self._count = 0
        self._closed = False

    def _print(self, text: str) -> None:
        if self._closed:
            return
        stream = self.stream or sys.stdout
        try:
            print(f"{self.clock():%Y-%m-%d %H:%M:%S} {text}", file=stream, flush=True)
        except BrokenPipeError:
            # the reader went away (`custkit run all | head -1`): the run goes on unseen, and
            # the CLI stops quietly when it prints the results
            self._closed = True

    def run_started(self, reports: Sequence[str], period: str | None) -> None:
        self._count = len(reports)
        if len(reports) > 1:
            self._print(f"run: {len(reports)} reports ({', '.join(reports)})")

    def report_started(self, report: str) -> None:
        self._started[report] = time.perf_counter()
        self._print(f"{report}: starting")

    def step(self, report: str, number: int, total: int, name: str) -> None:
        if self._section.get(report) == name:
            return
        self._section[report] = name
        elapsed = time.perf_counter() - self._started.get(report, time.perf_counter())
        self._print(f"{report}: step {number}/{total} {name} ({elapsed:.1f} s)")

    def writing_page(self, report: str) -> None:
        self._section[report] = ""
        elapsed = time.perf_counter() - self._started.get(report, time.perf_counter())
        self._print(f"{report}: writing the page ({elapsed:.1f} s)")

    def report_finished(self, result: RunResult) -> None:
        self._section.pop(result.report, None)
        self._print(f"{result.report} {result.period or ''}: {_outcome(result)}")

    def run_finished(self, results: Sequence[RunResult], seconds: float) -> None:
        if self._count > 1:
            self._print(f"run: {_summary(results)} in {_duration(seconds)}")


class LiveProgress(RunProgress):
    """rich's progress bars on a terminal: a bar per report (cells done of cells, the step being
    run, elapsed time) and, for several reports, one for the whole run.

    Parameters
    ----------
    stream : text stream
        The terminal; default: standard output.
    """

    def __init__(self, stream: IO[str] | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = Console(file=stream or sys.stdout)
        self.progress = Progress(
            SpinnerColumn(finished_text=" "),
            TextColumn("{task.fields[report]:<10}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=self.console,
        )
        self._tasks: dict[str, int] = {}
        self._run_task: int | None = None

    def run_started(self, reports: Sequence[str], period: str | None) -> None:
        self.progress.start()
        if len(reports) > 1:
            self._run_task = self.progress.add_task("reports", total=len(reports), report="run all")

    def report_started(self, report: str) -> None:
        self._tasks[report] = self.progress.add_task("starting the kernel", report=report)

    def step(self, report: str, number: int, total: int, name: str) -> None:
        task = self._tasks.get(report)
        if task is not None:
            self.progress.update(task, total=total, completed=number - 1, description=name)

    def writing_page(self, report: str) -> None:
        task = self._tasks.get(report)
        if task is not None:
            total = self.progress.tasks[task].total or 1
            self.progress.update(task, completed=total, description="writing the page")

    def report_finished(self, result: RunResult) -> None:
        task = self._tasks.get(result.report)
        if task is not None:
            total = self.progress.tasks[task].total or 1
            self.progress.update(task, total=total, completed=total, description=_outcome(result))
            self.progress.stop_task(task)
        if self._run_task is not None:
            self.progress.advance(self._run_task)

    def run_finished(self, results: Sequence[RunResult], seconds: float) -> None:
        if self._run_task is not None:
            self.progress.update(self._run_task, description=_summary(results))
            self.progress.stop_task(self._run_task)

    def close(self) -> None:
        self.progress.stop()


def progress_display(stream: IO[str] | None = None) -> RunProgress:
    """:class:`LiveProgress` when *stream* (default: standard output) is a terminal, else
    :class:`LineProgress`."""
    stream = stream or sys.stdout
    isatty = getattr(stream, "isatty", None)
    return LiveProgress(stream) if isatty and isatty() else LineProgress(stream)


def _outcome(result: RunResult) -> str:
    if result.ok:
        return f"done in {_duration(result.seconds)}"
    return f"FAILED after {_duration(result.seconds)}"


def _summary(results: Sequence[RunResult]) -> str:
    failed = sum(not r.ok for r in results)
    text = f"{len(results)} reports"
    return text + (f", {failed} failed" if failed else "")


def _duration(seconds: float) -> str:
    """``12.3 s`` under a minute, else ``1 min 45 s``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"
