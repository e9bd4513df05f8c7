"""Schedule arithmetic: fire times, the periods they report, catch-up, DST."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from custkit.schedule.calendar import (
    due_fires,
    fires_between,
    latest_fire,
    next_fire,
    period_of,
)

MOSCOW = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")
MONTHLY = "0 6 2 * *"  # the 2nd at 06:00


def at(tz, *fields):
    return dt.datetime(*fields, tzinfo=tz)


def periods(fires, tz=MOSCOW):
    return [period_of(fire, tz) for fire in fires]


def test_a_fire_reports_the_last_complete_month_before_it_in_the_jobs_time_zone():
    assert period_of(at(MOSCOW, 2026, 12, 2, 6), MOSCOW) == "2026-11"
    assert period_of(at(MOSCOW, 2027, 1, 2, 6), MOSCOW) == "2026-12"  # across the year end
    assert period_of(at(MOSCOW, 2026, 12, 1, 0), MOSCOW) == "2026-11"  # November just ended
    # 22:00 UTC on 30 November is already 1 December in Moscow, so November is complete there
    late_november_utc = at(dt.UTC, 2026, 11, 30, 22)
    assert period_of(late_november_utc, MOSCOW) == "2026-11"
    assert period_of(late_november_utc, ZoneInfo("UTC")) == "2026-10"


def test_cron_times_are_read_in_the_jobs_time_zone():
    fire = next_fire(MONTHLY, MOSCOW, at(dt.UTC, 2026, 12, 1, 0))
    assert fire == at(MOSCOW, 2026, 12, 2, 6)
    assert fire.astimezone(dt.UTC).hour == 3


def test_catch_up_lists_every_missed_period_once_oldest_first_across_year_end():
    fires = due_fires(
        MONTHLY, MOSCOW, now=at(MOSCOW, 2027, 2, 10, 12), last_fire=at(MOSCOW, 2026, 10, 2, 6)
    )
    assert fires == [at(MOSCOW, 2026, 11, 2, 6), at(MOSCOW, 2026, 12, 2, 6),
                     at(MOSCOW, 2027, 1, 2, 6), at(MOSCOW, 2027, 2, 2, 6)]  # fmt: skip
    assert periods(fires) == ["2026-10", "2026-11", "2026-12", "2027-01"]


def test_a_job_on_the_31st_fires_only_in_months_that_have_one():
    fires = fires_between("0 6 31 * *", MOSCOW, at(MOSCOW, 2026, 1, 1), at(MOSCOW, 2026, 7, 1))
    assert [(f.month, f.day) for f in fires] == [(1, 31), (3, 31), (5, 31)]
    assert periods(fires) == ["2025-12", "2026-02", "2026-04"]


def test_a_daily_job_counts_only_the_first_fire_of_each_month():
    fires = fires_between("0 6 * * *", MOSCOW, at(MOSCOW, 2026, 9, 15), at(MOSCOW, 2026, 11, 20))
    assert fires == [at(MOSCOW, 2026, 9, 15, 6), at(MOSCOW, 2026, 10, 1, 6),
                     at(MOSCOW, 2026, 11, 1, 6)]  # fmt: skip


def test_a_fire_exactly_at_now_is_due_and_one_a_minute_later_is_not():
    fire = at(MOSCOW, 2026, 12, 2, 6)
    assert latest_fire(MONTHLY, MOSCOW, fire) == fire
    assert due_fires(MONTHLY, MOSCOW, now=fire, last_fire=at(MOSCOW, 2026, 11, 2, 6)) == [fire]
    before = fire - dt.timedelta(minutes=1)
    assert due_fires(MONTHLY, MOSCOW, now=before, last_fire=at(MOSCOW, 2026, 11, 2, 6)) == []


def test_a_new_job_reports_only_the_most_recent_period():
    fires = due_fires(MONTHLY, MOSCOW, now=at(MOSCOW, 2026, 12, 15, 9))
    assert fires == [at(MOSCOW, 2026, 12, 2, 6)]


def test_start_catches_up_every_fire_since_that_day_and_none_before():
    now = at(MOSCOW, 2026, 12, 5)
    fires = due_fires(MONTHLY, MOSCOW, now=now, start=dt.date(2026, 8, 1))
    assert periods(fires) == ["2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    # a fire at 00:00 on the start day counts
    first = due_fires("0 0 1 * *", MOSCOW, now=now, start=dt.date(2026, 11, 1))
    assert first == [at(MOSCOW, 2026, 11, 1), at(MOSCOW, 2026, 12, 1)]
    # start also bounds catch-up after a state's last fire
    later = due_fires(MONTHLY, MOSCOW, now, at(MOSCOW, 2026, 6, 2, 6), dt.date(2026, 10, 1))
    assert periods(later) == ["2026-09", "2026-10", "2026-11"]  # fires of 2 Oct, 2 Nov, 2 Dec


def test_berlin_0230_skipped_by_the_march_dst_change_fires_at_0300_after_the_gap():
    # 2026-03-29: clocks go from 02:00 CET straight to 03:00 CEST; 02:30 does not exist
    fire = next_fire("30 2 * * *", BERLIN, at(BERLIN, 2026, 3, 28, 12))
    assert fire == at(BERLIN, 2026, 3, 29, 3)
    assert fire.utcoffset() == dt.timedelta(hours=2)
    yearly = due_fires(
        "30 2 29 3 *", BERLIN, now=at(BERLIN, 2026, 4, 1), last_fire=at(BERLIN, 2026, 1, 1)
    )
    assert yearly == [at(BERLIN, 2026, 3, 29, 3)] and periods(yearly, BERLIN) == ["2026-02"]


def test_berlin_0230_repeated_by_the_october_dst_change_is_run_once():
    # 2026-10-25: 02:00-03:00 happens twice; croniter fires at both 02:30s ...
    first = next_fire("30 2 * * *", BERLIN, at(BERLIN, 2026, 10, 25, 1))
    second = next_fire("30 2 * * *", BERLIN, first)
    assert (first.utcoffset(), second.utcoffset()) == (dt.timedelta(hours=2), dt.timedelta(hours=1))
    assert second.astimezone(dt.UTC) - first.astimezone(dt.UTC) == dt.timedelta(hours=1)
    # ... but a period is due once
    fires = due_fires(
        "30 2 25 10 *", BERLIN, now=at(BERLIN, 2026, 12, 1), last_fire=at(BERLIN, 2026, 1, 1)
    )
    assert fires == [first] and periods(fires, BERLIN) == ["2026-09"]


def test_catch_up_across_both_dst_changes_gives_one_period_per_month():
    fires = due_fires(
        "30 2 * * *", BERLIN, now=at(BERLIN, 2026, 12, 1, 12), last_fire=at(BERLIN, 2026, 2, 1)
    )
    assert periods(fires, BERLIN) == [f"2026-{m:02d}" for m in range(1, 12)]
    assert len(set(fires)) == len(fires)


def test_times_without_a_zone_are_refused():
    with pytest.raises(ValueError, match="aware"):
        due_fires(MONTHLY, MOSCOW, now=dt.datetime(2026, 12, 2, 6))


def test_the_repeated_october_hour_is_compared_in_real_time_not_wall_clock_time():
    first = at(BERLIN, 2026, 10, 25, 2, 30)  # 00:30 UTC; the second 02:30 is 01:30 UTC
    quarter_past_first = at(BERLIN, 2026, 10, 25, 2, 45)  # fold=0: 00:45 UTC
    assert fires_between("30 2 * * *", BERLIN, first, quarter_past_first) == []
    second = fires_between("30 2 * * *", BERLIN, first, at(BERLIN, 2026, 10, 25, 4))
    assert [f.astimezone(dt.UTC).hour for f in second] == [1]
