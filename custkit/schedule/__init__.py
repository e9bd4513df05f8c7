"""Scheduled report runs: ``params/schedule.yaml`` jobs run by ``custkit schedule run``.

One module per concern: ``jobs`` (the schedule file), ``calendar`` (cron fire times and the
report periods they stand for, with croniter), ``state`` (what ran, and the per-folder lock),
``runner`` (running what is due) and ``install`` (the line a scheduler needs). A scheduler (cron,
a systemd timer, Airflow) only calls ``custkit schedule run`` regularly; custkit decides what is
due, catches up periods missed while the machine was off and never runs a finished period twice.
"""

from custkit.reports.lock import FolderBusy, folder_lock
from custkit.schedule.calendar import due_fires, fires_between, latest_fire, period_of
from custkit.schedule.jobs import Job, Schedule, load_schedule, parse_schedule
from custkit.schedule.runner import PlannedRun, ScheduleReport, plan, run_schedule
from custkit.schedule.state import PeriodRecord, ScheduleState

__all__ = [
    "FolderBusy",
    "Job",
    "PeriodRecord",
    "PlannedRun",
    "Schedule",
    "ScheduleReport",
    "ScheduleState",
    "due_fires",
    "fires_between",
    "folder_lock",
    "latest_fire",
    "load_schedule",
    "parse_schedule",
    "period_of",
    "plan",
    "run_schedule",
]
