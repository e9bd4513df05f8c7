"""Report periods: the report month, its as-of date, and the months it is compared with.

A month is reported only when the data can tell it (:func:`check_period`): never before the
first order or after the last one, and a month that is not over (the data ends inside it, or
the calendar month has not ended) only on request (``--partial``), its as-of date then being
the last day of data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from custkit.errors import ParamsError, PeriodError

#: Nanoseconds in a day: ``datetime64[ns]`` values as int64, floor-divided by it, are days since
#: 1970-01-01 (the one copy; reductions, models and features count days with it).
DAY_NS = 86_400 * 10**9

_PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class ReportPeriod:
    """A report month.

    Attributes
    ----------
    period : str
        ``"YYYY-MM"``.
    start : pandas.Timestamp
        First day of the month, 00:00.
    as_of : pandas.Timestamp
        Last day of the month (a date, 00:00). Orders dated on or before ``as_of`` (any time of
        that day) are inside the report; later ones are outside it.
    complete : bool
        False for a month reported before it is over (``--partial``): ``as_of`` is then the
        last day of data, and the report says "data through" it.
    """

    period: str
    start: pd.Timestamp
    as_of: pd.Timestamp
    complete: bool = True

    @classmethod
    def from_string(cls, period: str) -> ReportPeriod:
        """Build from ``"YYYY-MM"``; raise :class:`~custkit.errors.ParamsError` otherwise."""
        if not isinstance(period, str) or not _PERIOD_RE.match(period):
            raise ParamsError(
                "period must be a month written as 'YYYY-MM', e.g. '2026-10'. "
                f"Got {period!r} instead."
            )
        month = pd.Period(period, freq="M")
        return cls(period, month.start_time.normalize(), month.end_time.normalize())

    @property
    def end(self) -> pd.Timestamp:
        """First instant after the period (``as_of`` + 1 day): use ``date < end`` filters."""
        return self.as_of + pd.Timedelta(days=1)

    def shift(self, months: int) -> ReportPeriod:
        """The period *months* later (negative: earlier)."""
        return ReportPeriod.from_string(str(pd.Period(self.period, freq="M") + months))

    @property
    def previous_month(self) -> ReportPeriod:
        return self.shift(-1)

    @property
    def same_month_last_year(self) -> ReportPeriod:
        return self.shift(-12)


def last_complete_period(last_date: pd.Timestamp) -> ReportPeriod:
    """The last calendar month that ends on or before *last_date*'s day.

    If the data's last order is on 2026-10-31 the month 2026-10 is complete; if it is on
    2026-11-15, the last complete month is 2026-10.
    """
    day = pd.Timestamp(last_date).normalize()
    month = pd.Period(day, freq="M")
    if day != month.end_time.normalize():
        month -= 1
    return ReportPeriod.from_string(str(month))


def resolve_period(period: str | None, last_order_date: pd.Timestamp) -> ReportPeriod:
    """Return the report period: *period* if given (non-empty), else the last complete month."""
    if period:
        return ReportPeriod.from_string(period)
    return last_complete_period(last_order_date)


def check_period(
    period: ReportPeriod,
    first_date: pd.Timestamp,
    last_date: pd.Timestamp,
    partial: bool = False,
    today: pd.Timestamp | None = None,
) -> ReportPeriod:
    """*period* as the data can report it, or a :class:`~custkit.errors.PeriodError`.

    Parameters
    ----------
    period : ReportPeriod
    first_date, last_date : pandas.Timestamp
        The first and the last order date of the data (a time of day is ignored; an aware
        timestamp is read in its own zone).
    partial : bool
        Report a month that is not over. Its ``as_of`` becomes the last day of data.
    today : pandas.Timestamp, optional
        The current date; default: today on this machine's clock.

    Returns
    -------
    ReportPeriod
        *period*; for a month not over (with *partial*) ``complete=False`` and ``as_of`` the
        last day of data.

    Raises
    ------
    PeriodError
        The month ends before the first order, starts after the last one (nothing to report,
        ``partial`` or not), or is not over and *partial* is False.
    """
    first, last = _day(first_date), _day(last_date)
    today = _day(today if today is not None else pd.Timestamp.now())
    data = f"the orders run from {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    if period.as_of < first:
        raise PeriodError(
            f"period {period.period} is before the data: {data}. {_choice(first, last, today)}"
        )
    if period.start > last:
        raise PeriodError(
            f"period {period.period} is after the data: {data}, so there is nothing to report "
            f"for it, with --partial or without. {_choice(first, last, today)} Load newer "
            "orders to report a later month."
        )
    if last >= period.as_of and today > period.as_of:
        return period
    if last < period.as_of:
        why = f"the orders end on {last:%Y-%m-%d}, before the month does"
    else:
        why = f"the month ends on {period.as_of:%Y-%m-%d} and today is {today:%Y-%m-%d}"
    if not partial:
        through = min(last, period.as_of)
        raise PeriodError(
            f"period {period.period} is not over: {why}. {_choice(first, last, today)} Or add "
            f"--partial to report {period.period} so far: every page then says 'data through "
            f"{through:%Y-%m-%d}'."
        )
    return ReportPeriod(period.period, period.start, min(last, period.as_of), complete=False)


def default_period(last_date: pd.Timestamp, today: pd.Timestamp | None = None) -> ReportPeriod:
    """The month reported when none is given: the last one that is complete in the data and
    over on the calendar."""
    today = _day(today if today is not None else pd.Timestamp.now())
    return last_complete_period(min(_day(last_date), today - pd.Timedelta(days=1)))


def _choice(first: pd.Timestamp, last: pd.Timestamp, today: pd.Timestamp) -> str:
    complete = default_period(last, today)
    if complete.as_of < first:
        return "The data holds no complete month yet: report the month in progress with --partial."
    return (
        f"Choose a month from {first:%Y-%m} to {complete.period} (the last complete month, "
        "the default when no period is given)."
    )


def _day(moment: pd.Timestamp | str) -> pd.Timestamp:
    """The calendar day of *moment*, naive (an aware time keeps its own zone's date)."""
    moment = pd.Timestamp(moment)
    if moment.tzinfo is not None:
        moment = moment.tz_localize(None)
    return moment.normalize()
