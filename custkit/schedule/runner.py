"""``custkit schedule run``: run the reports that are due, catching up missed periods.

Flow: read the schedule → group its jobs by output folder → per folder, take the lock (a folder
another run holds is left alone: exit status 75) → per job, plan: the periods of the fires due
since the last run (:func:`~custkit.schedule.calendar.due_fires`), minus periods already
finished, plus failed periods to retry → run each period's reports with
:func:`~custkit.reports.run.run_reports`, oldest first, logging to ``<out>/logs/`` → record the
period in the state file as soon as it ends.

Rules, in one place:

- A period runs once. A period whose reports all succeeded is never run again by the schedule;
  ``--job NAME --period YYYY-MM`` reruns it on demand (e.g. after new parameters).
- A failed period is retried by the following runs, only its failed reports, up to
  :data:`MAX_ATTEMPTS` attempts in all; then it waits for an on-demand rerun, so a report that
  cannot succeed does not start a kernel at every tick of the scheduler.
- A report that fails gets its failure page (``<period>/<report>.failed.html``) and the run exits
  1, after the other reports and jobs have run. So does a job whose params file cannot be used.
- A killed run leaves the previous report in place (each report is staged, then swapped in
  whole), and the period it was working on is not recorded, so the next run does it again.
- A period whose data is not complete (the export ends before the month does) fails like a
  report, and is retried by the next runs: a scheduled month is never published half-filled.
- An output folder that cannot take files (read-only, no permission, disk full) stops that
  folder's jobs with a clear message and exit status 2; the other folders still run.
- A job with mail settings (:mod:`custkit.schedule.mail`) sends a message after each period
  it runs: the reports written, or a failure notice. A message that cannot be sent leaves the
  run done: the error is logged, kept in the state file and printed on standard error. A
  password variable that is not set stops the run before any report, like a wrong key.
- ``--now`` (a testing aid) may not be later than the real clock, except with ``--dry-run`` or
  for an on-demand rerun: a run in the future would record months not yet over as handled.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from custkit.errors import CustkitError, OutputFolderError, ParamsError
from custkit.i18n import LANGUAGES, _, use_language
from custkit.reports.files import output_folder_errors
from custkit.reports.lock import BUSY_EXIT_CODE, FolderBusy, folder_lock
from custkit.reports.privacy import scrub_text
from custkit.reports.progress import RunProgress
from custkit.reports.run import RunResult, run_reports
from custkit.schedule.calendar import due_fires, latest_fire, next_fire, period_of
from custkit.schedule.jobs import Job, Schedule, load_schedule
from custkit.schedule.state import PeriodRecord, ScheduleState

log = logging.getLogger(__name__)

#: Runs of a failed period (the first one included) before the schedule stops retrying it.
MAX_ATTEMPTS = 3
LOG_DIR = "logs"


@dataclass(frozen=True)
class PlannedRun:
    """One period of one job to run.

    Attributes
    ----------
    job : Job
    period : str
        ``"YYYY-MM"``.
    reason : {"due", "retry", "on demand"}
    reports : tuple of str
        The reports to run (a retry runs only those that failed).
    fire : datetime.datetime or None
        The fire time the period is due for (None on demand).
    """

    job: Job
    period: str
    reason: Literal["due", "retry", "on demand"]
    reports: tuple[str, ...]
    fire: dt.datetime | None = None


@dataclass(frozen=True)
class PeriodOutcome:
    """What running one :class:`PlannedRun` gave."""

    run: PlannedRun
    status: Literal["ok", "failed"]
    results: tuple[RunResult, ...]
    error: str | None
    log: Path
    mail: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class ScheduleReport:
    """The outcome of one ``custkit schedule run``.

    Attributes
    ----------
    planned : list of PlannedRun
        What was due (run, or listed by a dry run).
    outcomes : list of PeriodOutcome
        What ran.
    given_up : list of (job name, period, attempts)
        Failed periods no longer retried.
    busy : list of str
        One message per output folder another run held.
    unwritable : list of str
        One message per output folder that could not take files.
    next_fires : dict
        Job name → its next fire time after *now* and the period that fire reports.
    dry_run : bool
    """

    planned: list[PlannedRun] = field(default_factory=list)
    outcomes: list[PeriodOutcome] = field(default_factory=list)
    given_up: list[tuple[str, str, int]] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    unwritable: list[str] = field(default_factory=list)
    next_fires: dict[str, tuple[dt.datetime, str]] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def exit_code(self) -> int:
        """2 when a folder could not take files, 1 when a report failed, 75 when a folder was
        busy, else 0."""
        if self.unwritable:
            return 2
        if any(not outcome.ok for outcome in self.outcomes):
            return 1
        return BUSY_EXIT_CODE if self.busy else 0

    def lines(self) -> list[str]:
        """What to print on standard output (nothing when nothing was due: quiet for cron)."""
        if self.dry_run:
            return self._plan_lines()
        lines = []
        for outcome in self.outcomes:
            for result in outcome.results:
                if result.ok:
                    lines.append(
                        f"{_label(outcome.run)}: {result.report} ok in {result.seconds:.1f} s "
                        f"→ {result.html}"
                    )
        return lines

    def problems(self) -> list[str]:
        """What to print on standard error: failures and busy folders."""
        problems = []
        for outcome in self.outcomes:
            if outcome.ok:
                continue
            failed = [r for r in outcome.results if not r.ok]
            for result in failed:
                problems.append(
                    f"{_label(outcome.run)}: {result.report} FAILED: {result.error} "
                    f"(page: {result.html}; log: {outcome.log})"
                )
            if not failed:
                problems.append(
                    f"{_label(outcome.run)}: FAILED: {outcome.error} (log: {outcome.log})"
                )
        for outcome in self.outcomes:
            if outcome.mail and outcome.mail.startswith("failed"):
                problems.append(
                    f"{_label(outcome.run)}: the e-mail was not sent: {outcome.mail} "
                    f"(log: {outcome.log}); the reports are done"
                )
        return problems + self.busy + self.unwritable

    def _plan_lines(self) -> list[str]:
        lines = []
        for run in self.planned:
            why = {"due": "", "retry": "retry, "}.get(run.reason, run.reason)
            if run.fire:
                why += f"due since {_when(run.fire)}"
            lines.append(
                f"{run.job.name}: would run {run.period} ({why}): "
                f"{', '.join(run.reports)} → {run.job.out}"
            )
        for name, period, attempts in self.given_up:
            lines.append(
                f"{name}: {period} failed {attempts} times and is no longer retried; rerun it "
                f"with: custkit schedule run --job {name} --period {period}"
            )
        planned = {run.job.name for run in self.planned}
        for name, (fire, period) in self.next_fires.items():
            if name not in planned:
                lines.append(f"{name}: nothing due; next run {_when(fire)} reports {period}")
        return lines


def run_schedule(
    schedule: Schedule | str | os.PathLike[str],
    now: dt.datetime | None = None,
    *,
    job: str | None = None,
    period: str | None = None,
    dry_run: bool = False,
    wait: bool = False,
    progress: RunProgress | None = None,
) -> ScheduleReport:
    """Run every job's due periods (or one job's given period) and record them.

    Parameters
    ----------
    schedule : Schedule or path-like
        The schedule, or its YAML file.
    now : datetime.datetime, optional
        Aware; default: the current time. Tests and ``--now`` pretend another time.
    job : str, optional
        Run only this job.
    period : str, optional
        ``"YYYY-MM"``: rerun this period of *job* now, whatever the state says.
    dry_run : bool
        Plan only: no lock, no report, no log, no state change.
    wait : bool
        Wait for a run holding an output folder instead of leaving that folder alone.
    progress : RunProgress, optional
        Shows each report's steps (see :mod:`custkit.reports.progress`).

    Returns
    -------
    ScheduleReport
        Failures are in the report, not raised; see :attr:`ScheduleReport.exit_code`.

    Raises
    ------
    ParamsError
        The schedule file is wrong, *job* does not exist, *period* is malformed or given
        without *job*.
    """
    from custkit.data.periods import ReportPeriod

    if not isinstance(schedule, Schedule):
        schedule = load_schedule(schedule)
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime (with a time zone)")
    if period is not None:
        ReportPeriod.from_string(period)
        if job is None:
            names = ", ".join(j.name for j in schedule.jobs)
            raise ParamsError(f"--period reruns one job's period: add --job NAME (jobs: {names}).")
    jobs = [schedule.job(job)] if job else list(schedule.jobs)
    if not dry_run:
        for checked in jobs:
            if checked.mail is not None:
                checked.mail.password()  # an unset variable stops the run before any report
    report = ScheduleReport(dry_run=dry_run)
    for out, folder_jobs in _by_folder(jobs).items():
        if dry_run:
            _plan_folder(folder_jobs, ScheduleState.load(out), now, period, report)
            continue
        try:
            with output_folder_errors(out), folder_lock(out, wait=wait):
                state = ScheduleState.load(out)
                for planned_job, runs in _plan_folder(folder_jobs, state, now, period, report):
                    _run_job(
                        planned_job,
                        runs,
                        state,
                        now,
                        on_demand=period is not None,
                        report=report,
                        progress=progress,
                    )
        except FolderBusy as busy:
            log.warning("%s", busy)
            report.busy.append(f"custkit: {busy}")
        except OutputFolderError as exc:
            log.error("%s", exc)
            report.unwritable.append(f"custkit: error: {exc}")
    return report


def check_now(now: dt.datetime | None, dry_run: bool = False, on_demand: bool = False) -> None:
    """Refuse a ``--now`` later than the real clock, except for a dry run or an on-demand
    rerun (``--job NAME --period YYYY-MM``), which leaves the calendar alone.

    Raises
    ------
    ParamsError
        A run pretending to be in the future would mark fires that have not happened as
        handled in the state file, so the real runs of those months would never come.
    """
    real = dt.datetime.now(dt.UTC)
    if now is not None and not (dry_run or on_demand) and now > real:
        raise ParamsError(
            f"--now must not be later than the current time ({real:%Y-%m-%d %H:%M} UTC), "
            f"except with --dry-run. Got {now.isoformat()} instead: a run in the future would "
            "record its months as handled in the state file, and the real runs of those months "
            "would never come."
        )


def plan(
    job: Job, state: ScheduleState, now: dt.datetime
) -> tuple[list[PlannedRun], list[tuple[str, str, int]]]:
    """The periods of *job* to run at *now*, oldest first, and the failed ones given up.

    Due: the period of each fire since the job's last handled fire (or since its ``start``, or
    only the latest fire for a new job), unless already recorded. Retry: each recorded failed
    period with fewer than :data:`MAX_ATTEMPTS` attempts, running only its failed reports.
    """
    records = state.periods(job.name)
    runs: dict[str, PlannedRun] = {}
    given_up = []
    for period, record in records.items():
        if record.status == "ok":
            continue
        if record.attempts >= MAX_ATTEMPTS:
            given_up.append((job.name, period, record.attempts))
            continue
        unfinished = tuple(r for r in job.reports if record.reports.get(r) != "ok")
        fire = None
        if record.fire:
            fire = dt.datetime.fromisoformat(record.fire).astimezone(job.timezone)
        if unfinished:
            runs[period] = PlannedRun(job, period, "retry", unfinished, fire)
    for fire in due_fires(job.cron, job.timezone, now, state.last_fire(job.name), job.start):
        period = period_of(fire, job.timezone)
        if period not in records and period not in runs:
            runs[period] = PlannedRun(job, period, "due", job.reports, fire)
    return [runs[period] for period in sorted(runs)], given_up


def parse_now(text: str | None) -> dt.datetime | None:
    """``--now`` as an aware datetime; a time without zone is the machine's local time."""
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ParamsError(
            f"--now must be a time in ISO 8601, e.g. 2026-12-02T06:00+03:00. Got {text!r} instead."
        ) from None
    return moment if moment.tzinfo else moment.astimezone()


def _by_folder(jobs: list[Job]) -> dict[Path, list[Job]]:
    folders: dict[Path, list[Job]] = {}
    for job in jobs:
        folders.setdefault(job.out, []).append(job)
    return folders


def _plan_folder(
    jobs: list[Job],
    state: ScheduleState,
    now: dt.datetime,
    period: str | None,
    report: ScheduleReport,
) -> list[tuple[Job, list[PlannedRun]]]:
    planned = []
    for job in jobs:
        if period is not None:
            runs = [PlannedRun(job, period, "on demand", job.reports)]
        else:
            runs, given_up = plan(job, state, now)
            report.given_up += given_up
        report.planned += runs
        upcoming = next_fire(job.cron, job.timezone, now)
        report.next_fires[job.name] = (upcoming, period_of(upcoming, job.timezone))
        planned.append((job, runs))
    return planned


def _run_job(
    job: Job,
    runs: list[PlannedRun],
    state: ScheduleState,
    now: dt.datetime,
    on_demand: bool,
    report: ScheduleReport,
    progress: RunProgress | None = None,
) -> None:
    if runs:
        with _run_log(job, now) as log_file:
            log.info(
                "job %s: %s (params %s, reports %s, out %s)",
                job.name,
                ", ".join(f"{run.period} ({run.reason})" for run in runs),
                job.params,
                ", ".join(job.reports),
                job.out,
            )
            for run in runs:
                outcome = _run_period(run, state, log_file, progress)
                if job.mail is not None:
                    outcome = _mail(outcome, state)
                report.outcomes.append(outcome)
            for name, period, attempts in report.given_up:
                if name == job.name:
                    log.warning("%s failed %d times; no longer retried", period, attempts)
    latest = latest_fire(job.cron, job.timezone, now)
    last = state.last_fire(job.name)
    if not on_demand and latest is not None and (last is None or latest > last):
        state.set_last_fire(job.name, latest)


def _run_period(
    run: PlannedRun, state: ScheduleState, log_file: Path, progress: RunProgress | None = None
) -> PeriodOutcome:
    job = run.job
    log.info("%s: running %s", _label(run), ", ".join(run.reports))
    results: tuple[RunResult, ...] = ()
    try:
        results = tuple(
            run_reports(
                list(run.reports),
                job.params,
                period=run.period,
                out_dir=job.out,
                overrides=job.overrides,
                progress=progress,
            )
        )
        error = "; ".join(f"{r.report}: {r.error}" for r in results if not r.ok) or None
    except OutputFolderError:  # the folder's, not the period's: stop this folder
        raise
    except CustkitError as exc:  # the client's params: no report could start
        error = scrub_text(str(exc))
        _write_failure_pages(run, error, log_file)
    except Exception as exc:  # a bug must not stop the other jobs; the log keeps the traceback
        log.exception("%s: unexpected error", _label(run))
        error = scrub_text(f"{type(exc).__name__}: {exc}")
        _write_failure_pages(run, error, log_file)

    previous = state.periods(job.name).get(run.period)
    statuses = dict(previous.reports) if previous and run.reason != "on demand" else {}
    statuses.update({name: "failed" for name in run.reports})
    statuses.update({r.report: r.status for r in results})
    status: Literal["ok", "failed"] = (
        "ok" if all(statuses.get(name) == "ok" for name in job.reports) else "failed"
    )
    retried = run.reason == "retry" and previous is not None
    attempts = previous.attempts + 1 if retried else 1
    state.record(
        job.name,
        run.period,
        PeriodRecord(
            status=status,
            attempts=attempts,
            reports=statuses,
            fire=run.fire.isoformat() if run.fire else None,
            finished_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            error=error,
        ),
    )
    if status == "ok":
        log.info("%s: ok", _label(run))
    else:
        log.error("%s: failed (attempt %d of %d): %s", _label(run), attempts, MAX_ATTEMPTS, error)
    return PeriodOutcome(run, status, results, error, log_file)


def _mail(outcome: PeriodOutcome, state: ScheduleState) -> PeriodOutcome:
    """Send the period's message; a failure is logged and kept, never raised."""
    from custkit.schedule.mail import mail_outcome

    run = outcome.run
    sent = mail_outcome(run.job.mail, run.job, outcome, language=job_language(run.job))
    if sent is None:
        return outcome
    if sent.startswith("failed"):
        log.error("%s: the e-mail was not sent: %s", _label(run), sent)
    else:
        log.info("%s: e-mail %s", _label(run), sent)
    record = state.periods(run.job.name)[run.period]
    state.record(run.job.name, run.period, dataclasses.replace(record, mail=sent))
    return dataclasses.replace(outcome, mail=sent)


def _write_failure_pages(run: PlannedRun, error: str, log_file: Path) -> None:
    """Failure pages for a job that could not start any report (bad params, a bug), and the
    index, in the report language of the job's params file."""
    from custkit.reports.files import write_text_atomic
    from custkit.reports.html import failure_page
    from custkit.reports.index import build_index
    from custkit.reports.summary import build_summary

    folder = run.job.out / run.period
    with use_language(job_language(run.job)):
        details = _(
            "Scheduled job '{job}'; the run's log is {log}.", job=run.job.name, log=log_file
        )
        for name in run.reports:
            step = _("starting the scheduled run")
            page = failure_page(name, run.period, step, error, details)
            write_text_atomic(folder / f"{name}.failed.html", page)
        build_summary(run.job.out, run.period)
        build_index(run.job.out)


def job_language(job: Job) -> str:
    """The report language named by the job's params file (``language:``), else English.

    Read leniently: a params file that cannot be used for a report may still say in which
    language its failure pages and index are written.
    """
    import yaml

    try:
        raw = yaml.safe_load(Path(job.params).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return LANGUAGES[0]
    language = raw.get("language") if isinstance(raw, dict) else None
    return language if language in LANGUAGES else LANGUAGES[0]


@contextmanager
def _run_log(job: Job, now: dt.datetime) -> Iterator[Path]:
    """Send custkit's log records to ``<out>/logs/<timestamp>-<job>.log`` for the block."""
    folder = job.out / LOG_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stamp = now.astimezone(job.timezone).strftime("%Y%m%d-%H%M%S")
    path = folder / f"{stamp}-{job.name}.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(_ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    package = logging.getLogger("custkit")
    level = package.level
    package.addHandler(handler)
    if package.getEffectiveLevel() > logging.INFO:
        package.setLevel(logging.INFO)
    try:
        yield path
    finally:
        package.removeHandler(handler)
        package.setLevel(level)
        handler.close()


class _ScrubbingFormatter(logging.Formatter):
    """Log lines without personal data, tracebacks included: a log outlives the run and is read
    by whoever looks after the scheduler (see :func:`custkit.reports.privacy.scrub_text`)."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub_text(super().format(record))


def _label(run: PlannedRun) -> str:
    return f"{run.job.name} {run.period} ({run.reason})"


def _when(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z")
