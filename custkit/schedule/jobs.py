"""``params/schedule.yaml``: which reports run for which client, when, and where they go.

A schedule file lists jobs; each job is one client's params file run on a cron expression::

    jobs:
      - name: acme-monthly          # letters, digits, '-', '_' and '.'; names logs and state
        params: acme.yaml           # the client's params file
        reports: all                # or a list: [audit, ltv]
        cron: "0 6 2 * *"           # minute hour day-of-month month day-of-week
        timezone: Europe/Moscow     # cron times and report months are in this zone
        out: ../reports/acme        # reports, run state, lock and logs
        start: 2026-01-01           # optional: catch up every period due since this day
        set: {lapse_days: 200}      # optional: report parameters, like `custkit run --set`
        mail: {to: [ceo@acme.ru]}   # optional: this job's changes to the mail section, or false
    mail:                           # optional: e-mail after each run, see custkit.schedule.mail
      host: smtp.acme.ru
      from: reports@acme.ru
      to: [analyst@acme.ru]

Relative paths (``params``, ``out``) are relative to the schedule file's folder, like the source
paths of a params file, so the schedule works from any working directory and from any scheduler.
Every name is checked here, once, in the style of :mod:`custkit.params`: an unknown key, report
or time zone is a :class:`~custkit.errors.ParamsError` naming the file, the job and the key, with
close matches. The client's params file itself is checked when its job runs, so one broken client
does not stop the others.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from custkit.errors import ParamsError, did_you_mean
from custkit.params import read_yaml
from custkit.schedule.mail import MailSettings, parse_mail

_TOP_KEYS = ("jobs", "mail")
JOB_KEYS = ("name", "params", "reports", "cron", "timezone", "out", "start", "set", "mail")
_REQUIRED = ("name", "params", "cron", "timezone", "out")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_CRON_ALIASES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_CRON_EXAMPLE = '"0 6 2 * *" (monthly on the 2nd at 06:00)'


@dataclass(frozen=True)
class Job:
    """One scheduled job: a client's params file, its reports and when they run.

    Attributes
    ----------
    name : str
        Unique within the schedule; used in log file names and the state file.
    params : Path
        The client's params file (absolute).
    reports : tuple of str
        Report names to run (``all`` is expanded when the schedule is read).
    cron : str
        Five-field cron expression (or an alias such as ``@monthly``), in *timezone*.
    timezone : zoneinfo.ZoneInfo
        The zone of the cron times and of the report months.
    out : Path
        Output folder (absolute).
    start : datetime.date or None
        Fire times before this day are never run; on the first run every period due since this
        day is caught up. ``None``: the first run reports only the most recent due period.
    overrides : Mapping[str, Any]
        Report parameters for this job (``set:``), passed like ``custkit run --set``.
    mail : MailSettings or None
        Where the job's messages go after a run: the schedule's ``mail`` section with the job's
        own ``mail`` keys over it; None: no message (no section, or ``mail: false``).
    """

    name: str
    params: Path
    reports: tuple[str, ...]
    cron: str
    timezone: ZoneInfo
    out: Path
    start: dt.date | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    mail: MailSettings | None = None


@dataclass(frozen=True)
class Schedule:
    """A parsed, checked schedule file."""

    path: Path | None
    jobs: tuple[Job, ...]

    def job(self, name: str) -> Job:
        """The job called *name*; a :class:`ParamsError` with close matches otherwise."""
        for job in self.jobs:
            if job.name == name:
                return job
        names = [job.name for job in self.jobs]
        raise ParamsError(
            f"{self.path or 'schedule'}: there is no job called '{name}'."
            f"{did_you_mean(name, names)} Jobs: {', '.join(names) or '(none)'}."
        )


def load_schedule(path: str | os.PathLike[str]) -> Schedule:
    """Read and check a schedule YAML file (see the module docstring for the format).

    Raises
    ------
    ParamsError
        The file is missing or not YAML, or a key, report, cron expression or time zone is wrong.
    """
    file, raw = read_yaml(path, "schedule file", "params/schedule.yaml")
    return parse_schedule(raw, path=file)


def parse_schedule(raw: Any, path: Path | None = None) -> Schedule:
    """Check a schedule mapping (the parsed YAML) and build :class:`Schedule`.

    Relative paths are resolved against *path*'s folder (the current folder if *path* is None).
    """
    where = str(path) if path else "schedule"
    _require_mapping(raw, where, "the file")
    for key in raw:
        if key not in _TOP_KEYS:
            raise ParamsError(
                f"{where}: unknown section '{key}'.{did_you_mean(str(key), _TOP_KEYS)} "
                "A schedule file has the sections 'jobs' (a list of jobs) and 'mail' (optional)."
            )
    entries = raw.get("jobs")
    if not entries:
        raise ParamsError(
            f"{where}: no jobs. List at least one under 'jobs:', e.g.\n"
            "  jobs:\n    - {name: monthly, params: demo.yaml, reports: all, "
            'cron: "0 6 2 * *", timezone: Europe/Moscow, out: ../reports}'
        )
    if not isinstance(entries, list):
        raise ParamsError(
            f"{where}: 'jobs' must be a list (one '- name: ...' entry per job). "
            f"Got {type(entries).__name__} instead."
        )
    base = path.parent if path else Path.cwd()
    mail = raw.get("mail")
    parse_mail(mail, where)  # the section on its own must be usable, whichever job uses it
    jobs = [_parse_job(entry, index, base, where, mail) for index, entry in enumerate(entries, 1)]
    _check_unique(jobs, where)
    return Schedule(path=path, jobs=tuple(jobs))


def _parse_job(entry: Any, index: int, base: Path, where: str, mail: Any = None) -> Job:
    label = f"job #{index}"
    if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
        label = f"job '{entry['name']}'"
    _require_mapping(entry, where, label)
    for key in entry:
        if key not in JOB_KEYS:
            raise ParamsError(
                f"{where}: {label} has an unknown key '{key}'.{did_you_mean(str(key), JOB_KEYS)} "
                f"Valid: {', '.join(JOB_KEYS)}."
            )
    for key in _REQUIRED:
        if entry.get(key) in (None, ""):
            raise ParamsError(
                f"{where}: {label} has no '{key}'. Every job needs {', '.join(_REQUIRED)}."
            )

    name = entry["name"]
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ParamsError(
            f"{where}: {label}: name must be letters, digits, '-', '_' or '.' (it names log "
            f"files), e.g. acme-monthly. Got {name!r} instead."
        )
    overrides = entry.get("set") or {}
    _require_mapping(overrides, where, f"{label}: set")
    return Job(
        name=name,
        params=_path(entry["params"], base, where, label, "params"),
        reports=_reports(entry.get("reports", "all"), where, label),
        cron=_cron(entry["cron"], where, label),
        timezone=_timezone(entry["timezone"], where, label),
        out=_path(entry["out"], base, where, label, "out"),
        start=_start(entry.get("start"), where, label),
        overrides=dict(overrides),
        mail=parse_mail(
            entry.get("mail"),
            where,
            f"{label}: mail",
            base=mail if isinstance(mail, Mapping) else None,
        ),
    )


def _path(value: Any, base: Path, where: str, label: str, key: str) -> Path:
    if not isinstance(value, str):
        raise ParamsError(f"{where}: {label}: {key} must be a path (text). Got {value!r} instead.")
    path = Path(value).expanduser()
    return Path(os.path.normpath(path if path.is_absolute() else base / path))


def _reports(value: Any, where: str, label: str) -> tuple[str, ...]:
    from custkit.reports.registry import notebooks_dir, report_names

    existing = report_names()
    if value == "all":
        if not existing:
            raise ParamsError(
                f"{where}: {label}: there are no report notebooks in {notebooks_dir()}."
            )
        return tuple(existing)
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ParamsError(
            f"{where}: {label}: reports must be 'all' or a list of report names, e.g. "
            f"[audit, ltv]. Got {value!r} instead."
        )
    for name in names:
        if name not in existing:
            raise ParamsError(
                f"{where}: {label}: there is no report called '{name}'."
                f"{did_you_mean(name, existing)} Reports: {', '.join(existing) or '(none)'}, "
                "or 'all'."
            )
    return tuple(dict.fromkeys(names))


def _cron(value: Any, where: str, label: str) -> str:
    from croniter import CroniterError, croniter

    expression = " ".join(str(value).split())
    fields = expression.split(" ")
    usable = expression in _CRON_ALIASES or (len(fields) == 5 and croniter.is_valid(expression))
    if usable:
        try:  # "0 0 30 2 *" parses but never fires
            croniter(expression, dt.datetime(2000, 1, 1)).get_next(dt.datetime)
        except CroniterError:
            raise ParamsError(
                f"{where}: {label}: cron '{expression}' never fires (no such day). "
                f"Use e.g. {_CRON_EXAMPLE}."
            ) from None
        return expression
    raise ParamsError(
        f"{where}: {label}: cron must be five fields 'minute hour day-of-month month "
        f"day-of-week' or one of {', '.join(_CRON_ALIASES)}, e.g. {_CRON_EXAMPLE}. "
        f"Got {value!r} instead."
    )


def _timezone(value: Any, where: str, label: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        hint = did_you_mean(str(value), sorted(available_timezones()))
        raise ParamsError(
            f"{where}: {label}: unknown timezone '{value}'.{hint} Use an IANA name such as "
            "Europe/Moscow, Asia/Yekaterinburg or UTC."
        ) from None


def _start(value: Any, where: str, label: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise ParamsError(
        f"{where}: {label}: start must be a day like 2026-01-01. Got {value!r} instead."
    )


def _check_unique(jobs: list[Job], where: str) -> None:
    seen: dict[str, Job] = {}
    for job in jobs:
        if job.name in seen:
            raise ParamsError(f"{where}: two jobs are called '{job.name}'; names must be unique.")
        for other in seen.values():
            shared = sorted(set(job.reports) & set(other.reports))
            if job.out == other.out and shared:
                raise ParamsError(
                    f"{where}: jobs '{other.name}' and '{job.name}' both write "
                    f"{', '.join(shared)} into {job.out}, so one would overwrite the other's "
                    "reports. Give each client its own 'out' folder."
                )
        seen[job.name] = job


def _require_mapping(value: Any, where: str, what: str) -> None:
    if not isinstance(value, Mapping):
        raise ParamsError(
            f"{where}: {what} must be a mapping of 'key: value' lines. "
            f"Got {type(value).__name__} instead."
        )
