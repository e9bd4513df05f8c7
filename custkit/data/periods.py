"""Report periods: the report month, its as-of date, and the months it is compared with."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from custkit.errors import ParamsError

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
    """

    period: str
    start: pd.Timestamp
    as_of: pd.Timestamp

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
