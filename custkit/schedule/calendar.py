"""Cron fire times and the report periods they stand for, in a job's time zone.

croniter does the cron arithmetic; this module adds what custkit means by a fire:

- A fire time reports the last complete month before it, in the job's time zone: a run at
  2026-12-02 06:00 reports 2026-11, and so does a run at 2026-12-01 00:00.
- Periods are months, so a job that fires several times a month (daily, hourly) still reports
  each period once: only the first fire of each local month counts.
- Catch-up: every period due between the last fire already handled and now, oldest first.

Daylight saving time, as croniter 7 handles aware ``zoneinfo`` datetimes (the tests pin it): a
wall time skipped in spring (02:30 on the last Sunday of March in Europe/Berlin) fires at the
first instant after the gap (03:00); a wall time repeated in autumn fires twice, once per UTC
offset. Counting only the first fire of each month makes both harmless.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from croniter import CroniterError, croniter

_TICK = dt.timedelta(microseconds=1)


def period_of(fire: dt.datetime, tz: ZoneInfo) -> str:
    """The report period (``"YYYY-MM"``) of a fire time: the month before its local month."""
    local = _aware(fire).astimezone(tz)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def next_fire(cron: str, tz: ZoneInfo, after: dt.datetime) -> dt.datetime:
    """The first fire time strictly after *after*, in *tz*."""
    return croniter(cron, _aware(after).astimezone(tz)).get_next(dt.datetime)


def latest_fire(cron: str, tz: ZoneInfo, now: dt.datetime) -> dt.datetime | None:
    """The last fire time at or before *now* (None if the expression never fired)."""
    try:  # croniter's get_prev is strict: step a microsecond past now to include now itself
        return croniter(cron, _aware(now).astimezone(tz) + _TICK).get_prev(dt.datetime)
    except CroniterError:
        return None


def fires_between(
    cron: str, tz: ZoneInfo, after: dt.datetime, until: dt.datetime
) -> list[dt.datetime]:
    """The first fire of each local month in ``(after, until]``, oldest first.

    Parameters
    ----------
    cron : str
        Cron expression, read in *tz*.
    tz : zoneinfo.ZoneInfo
    after, until : datetime.datetime
        Aware datetimes; *after* is excluded, *until* included.

    Returns
    -------
    list of datetime.datetime
        Aware, in *tz*; one per month at most, so one per report period.
    """
    # in UTC: Python compares two datetimes of one zone by wall time, ignoring DST's fold
    until = _aware(until).astimezone(dt.UTC)
    fires: list[dt.datetime] = []
    cursor = _aware(after).astimezone(tz)
    while True:
        fire = croniter(cron, cursor).get_next(dt.datetime)
        if fire > until:
            return fires
        fires.append(fire)
        # later fires of this month report the same period: jump to the next month
        year, month = (fire.year, fire.month + 1) if fire.month < 12 else (fire.year + 1, 1)
        cursor = dt.datetime(year, month, 1, tzinfo=tz) - _TICK


def due_fires(
    cron: str,
    tz: ZoneInfo,
    now: dt.datetime,
    last_fire: dt.datetime | None = None,
    start: dt.date | None = None,
) -> list[dt.datetime]:
    """The fires whose periods are due at *now*, oldest first, one per period.

    Parameters
    ----------
    cron : str
    tz : zoneinfo.ZoneInfo
    now : datetime.datetime
        Aware.
    last_fire : datetime.datetime, optional
        The latest fire a previous run handled: only later fires are due (catch-up).
    start : datetime.date, optional
        Fires before this local day are never due. Without *last_fire*, every fire since *start*
        is due (catch-up from a chosen day).

    Returns
    -------
    list of datetime.datetime
        Without *last_fire* and *start*: only the most recent fire at or before *now* (a new job
        reports the latest period, not its whole history).
    """
    start_at = dt.datetime.combine(start, dt.time(0), tzinfo=tz) if start else None
    if last_fire is not None:
        fires = fires_between(cron, tz, last_fire, now)
    elif start_at is not None:
        fires = fires_between(cron, tz, start_at - _TICK, now)
    else:
        latest = latest_fire(cron, tz, now)
        fires = [latest] if latest else []
    if start_at is not None:
        fires = [fire for fire in fires if fire.astimezone(dt.UTC) >= start_at]
    return fires


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected an aware datetime (with a time zone), got {moment!r}")
    return moment
