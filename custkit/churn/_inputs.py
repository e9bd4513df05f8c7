"""Input checks and day arithmetic shared by the win-back plan and the campaign evaluation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from custkit.data.periods import DAY_NS
from custkit.errors import DataError, ParamsError, did_you_mean


class WinbackWarning(UserWarning):
    """Something in the win-back data was left out or is weaker than it looks."""


def _range_text(low: float, high: float, low_open: bool) -> str:
    left = "(" if low_open else "["
    right = ")" if high == float("inf") else "]"
    hi = "inf" if high == float("inf") else f"{high:g}"
    return f"{left}{low:g}, {hi}{right}"


def _check_number(
    owner: str,
    name: str,
    value: Any,
    low: float,
    high: float = float("inf"),
    *,
    integer: bool = False,
    low_open: bool = False,
) -> Any:
    """Return *value* if it is a number in the range, else a sklearn-style :class:`ParamsError`."""
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    ok = isinstance(value, kinds) and not isinstance(value, bool | np.bool_)
    if ok:
        ok = (
            bool(np.isfinite(value))
            and (value > low if low_open else value >= low)
            and value <= high
        )
    if not ok:
        kind = "an int" if integer else "a float"
        raise ParamsError(
            f"The '{name}' parameter of {owner} must be {kind} in the range "
            f"{_range_text(low, high, low_open)}. Got {value!r} instead."
        )
    return int(value) if integer else float(value)


def _require(frame: pd.DataFrame | None, table: str, columns: Iterable[str]) -> pd.DataFrame:
    if frame is None:
        raise DataError(f"this needs the {table} table, which was not given.", table=table)
    for column in columns:
        if column not in frame.columns:
            raise DataError(
                f"column '{column}' is missing.{did_you_mean(column, map(str, frame.columns))}",
                table=table,
                hint=f"map it under sources.{table}.columns in the params file, or add it.",
            )
    return frame


def _check_id_kinds(left: pd.Series, right: pd.Series, left_table: str, right_table: str) -> None:
    """Refuse to match numeric ids against text ids: every lookup would silently miss."""
    if len(left) == 0 or len(right) == 0:
        return
    left_num = pd.api.types.is_numeric_dtype(left.dtype)
    right_num = pd.api.types.is_numeric_dtype(right.dtype)
    if left_num != right_num:
        kinds = {True: "numbers", False: "text"}
        raise DataError(
            f"customer_id is {kinds[left_num]} in {left_table} but {kinds[right_num]} in "
            f"{right_table}, so no customer would match.",
            column="customer_id",
            hint="load every table with custkit.data.load, or convert both to the same type.",
        )


def _take(series: pd.Series, positions: np.ndarray) -> pd.Series:
    """Values of *series* at *positions*, missing where the position is -1."""
    return pd.Series(series.array.take(positions, allow_fill=True))


def _days(values: pd.Series) -> np.ndarray:
    """Calendar day (days since 1970-01-01, int64) of datetimes; wall time for aware ones."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    ns = values.to_numpy(dtype="datetime64[ns]").view(np.int64)
    days = np.floor_divide(ns, DAY_NS)
    days[values.isna().to_numpy()] = np.iinfo(np.int64).min
    return days


def _day(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize()
