"""Which months the data can report: never before or after it, a month not over only on request."""

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from custkit.data.periods import ReportPeriod, check_period, default_period
from custkit.errors import ParamsError, PeriodError

FIRST, LAST = pd.Timestamp("2024-01-03 09:15"), pd.Timestamp("2026-11-15 18:40")
TODAY = pd.Timestamp("2026-12-07")


def check(period, partial=False, today=TODAY, first=FIRST, last=LAST):
    return check_period(ReportPeriod.from_string(period), first, last, partial, today)


@pytest.mark.parametrize(
    ("period", "partial", "message"),
    [
        ("2028-01", False, "period 2028-01 is after the data: the orders run from 2024-01-03 to "
         "2026-11-15, so there is nothing to report for it, with --partial or without"),
        ("2028-01", True, "is after the data"),
        ("2026-12", True, "is after the data"),  # the current calendar month, no orders in it
        ("2019-01", False, "period 2019-01 is before the data: the orders run from 2024-01-03"),
        ("2023-12", True, "Choose a month from 2024-01 to 2026-10"),
        ("2026-11", False, "period 2026-11 is not over: the orders end on 2026-11-15, before the "
         "month does."),
        ("2026-11", False, "add --partial to report 2026-11 so far: every page then says 'data "
         "through 2026-11-15'"),
    ],
)  # fmt: skip
def test_a_month_the_data_cannot_report_is_refused_saying_which_months_it_can(
    period, partial, message
):
    with pytest.raises(PeriodError) as err:
        check(period, partial)
    assert message in str(err.value)
    assert isinstance(err.value, ParamsError)  # a wrong option: exit status 2


def test_a_month_on_the_calendar_not_over_is_refused_even_when_the_data_reaches_its_end():
    last = pd.Timestamp("2026-11-30 12:00")
    with pytest.raises(PeriodError, match="the month ends on 2026-11-30 and today is 2026-11-30"):
        check("2026-11", last=last, today=pd.Timestamp("2026-11-30 20:00"))
    assert check("2026-11", last=last, today=pd.Timestamp("2026-12-01")).complete


def test_partial_reports_a_month_in_progress_as_of_the_last_day_of_data():
    period = check("2026-11", partial=True)
    assert (period.period, period.start, period.as_of) == (
        "2026-11",
        pd.Timestamp("2026-11-01"),
        pd.Timestamp("2026-11-15"),
    )
    assert not period.complete and period.end == pd.Timestamp("2026-11-16")
    assert period.previous_month.as_of == pd.Timestamp("2026-10-31")  # comparisons: whole months


@pytest.mark.parametrize("period", ["2024-01", "2025-06", "2026-10"])
def test_a_complete_month_inside_the_data_is_reported_as_it_is(period):
    for partial in (False, True):
        assert check(period, partial) == ReportPeriod.from_string(period)


def test_the_first_month_of_the_data_counts_even_when_it_starts_mid_month():
    assert check("2024-01").complete


def test_aware_order_times_are_read_on_their_own_calendar_day():
    last = pd.Timestamp("2026-10-31 23:30", tz="Europe/Moscow")
    assert check("2026-10", last=last, first=FIRST.tz_localize("Europe/Moscow")).complete


def test_the_default_month_is_complete_in_the_data_and_over_on_the_calendar():
    assert default_period(LAST, TODAY).period == "2026-10"
    # data through the last day of a month, run on that day: the month is not over yet
    assert default_period(pd.Timestamp("2026-10-31"), pd.Timestamp("2026-10-31")).period == (
        "2026-09"
    )
    assert default_period(pd.Timestamp("2026-10-31"), pd.Timestamp("2026-11-01")).period == (
        "2026-10"
    )
    # orders dated in the future do not move the default past today
    assert default_period(pd.Timestamp("2027-05-01"), TODAY).period == "2026-11"


def test_a_store_without_a_complete_month_is_told_to_use_partial():
    with pytest.raises(PeriodError, match="no complete month yet: report the month in progress"):
        check("2026-10", first=pd.Timestamp("2026-11-03"))


days = st.dates(
    min_value=pd.Timestamp("2020-01-01").date(), max_value=pd.Timestamp("2029-12-31").date()
)


@given(first=days, span=st.integers(0, 900), today_after=st.integers(0, 400), month=days,
       partial=st.booleans())  # fmt: skip
def test_every_month_is_either_refused_or_within_the_data_and_over_unless_partial(
    first, span, today_after, month, partial
):
    first = pd.Timestamp(first)
    last = first + pd.Timedelta(days=span)
    today = last + pd.Timedelta(days=today_after)
    requested = ReportPeriod.from_string(f"{month:%Y-%m}")
    try:
        period = check_period(requested, first, last, partial, today)
    except PeriodError:
        over = last >= requested.as_of and today > requested.as_of
        inside = requested.as_of >= first and requested.start <= last
        assert not inside or (not over and not partial)
        return
    assert period.period == requested.period and period.start == requested.start
    assert first <= period.as_of <= last and period.start <= last
    if period.complete:
        assert period.as_of == requested.as_of < today
    else:
        assert partial and period.as_of == min(last, requested.as_of)
