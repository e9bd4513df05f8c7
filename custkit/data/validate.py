"""Parsing raw columns into canonical types and sorting rows into accepted and rejected.

Nothing is lost silently: every input row ends up either accepted or rejected with exactly one
reason code, and values of optional columns that cannot be parsed are emptied and counted in the
table's notes. Reason codes are machine-readable (pandera-style) and explained in
:data:`REASONS`.

Checks are vectorized over whole columns; the expensive whole-row duplicate check only runs on
rows whose key is repeated, so a 10M-row orders table is validated in a few seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from custkit.data.contract import Column, Table
from custkit.i18n import _

if TYPE_CHECKING:
    from custkit.params import SourceSpec

#: Reason codes for rejected rows, with the explanation shown to users.
REASONS: dict[str, str] = {
    "missing_id": "an identifier column is empty",
    "unparseable_date": "a required date could not be read",
    "unparseable_amount": "a required amount could not be read",
    "negative_revenue": "revenue is below zero (record refunds with a 'returned' status instead)",
    "date_in_future": "dated after today",
    "date_before_store_opened": "dated before the store opened (store.opened in params)",
    "exact_duplicate": "an exact copy of an earlier row",
    "conflicting_duplicate_id": "the same order id appears with different contents; all copies "
    "are set aside until the source is corrected",
    "duplicate_customer_id": "a later record of a customer id already seen",
    "malformed_row": "the record could not be split into the header's columns (see source_line)",
}

#: Orders before this date are impossible for an online store when params give no store.opened.
EARLIEST_PLAUSIBLE_DATE = pd.Timestamp("1995-01-01")

_TRUE = {"1", "true", "t", "yes", "y", "да", "д", "истина"}
_FALSE = {"0", "false", "f", "no", "n", "нет", "н", "ложь"}
_INT_ID = re.compile(r"^(0|[1-9]\d{0,17})$")
_MONEY_JUNK = re.compile(r"[\s\u00a0\u202f'₽$€]|руб\.?|rub", flags=re.IGNORECASE)


@dataclass(frozen=True)
class Validated:
    """Outcome of :func:`validate_table`.

    Attributes
    ----------
    accepted : pandas.DataFrame
        Parsed canonical columns of the accepted rows (fresh RangeIndex).
    rejected_positions : numpy.ndarray
        Positions (0-based, in the raw frame) of the rejected rows.
    rejected_reasons : numpy.ndarray
        Reason code of each rejected row, aligned with ``rejected_positions``.
    notes : tuple of str
        Values emptied in optional columns and other remarks.
    """

    accepted: pd.DataFrame
    rejected_positions: np.ndarray
    rejected_reasons: np.ndarray
    notes: tuple[str, ...]

    @property
    def reason_counts(self) -> dict[str, int]:
        codes, counts = np.unique(self.rejected_reasons.astype(str), return_counts=True)
        return {
            str(c): int(n) for c, n in sorted(zip(codes, counts, strict=True), key=lambda x: -x[1])
        }


def validate_table(
    raw: pd.DataFrame,
    table: Table,
    spec: SourceSpec,
    *,
    opened: pd.Timestamp | None = None,
    today: pd.Timestamp | None = None,
) -> Validated:
    """Parse *raw* into canonical types and reject the rows that cannot be used.

    Parameters
    ----------
    raw : pandas.DataFrame
        Canonical column names, values as read.
    table : Table
        The contract of the table.
    spec : SourceSpec
        Reading options (decimal separator, date format, …).
    opened : Timestamp, optional
        The store's opening date; rows dated earlier are rejected. Defaults to
        :data:`EARLIEST_PLAUSIBLE_DATE`.
    today : Timestamp, optional
        Rows dated after this day are rejected as in the future. Defaults to the current date.

    Returns
    -------
    Validated
    """
    today = pd.Timestamp.today().normalize() if today is None else pd.Timestamp(today).normalize()
    earliest = EARLIEST_PLAUSIBLE_DATE if opened is None else pd.Timestamp(opened).normalize()
    codes = list(REASONS)
    # one small integer per row (0 = accepted): a 10M-row object array would cost seconds
    reason = np.zeros(len(raw), dtype=np.uint8)
    notes: list[str] = []

    def reject(mask: np.ndarray, code: str) -> None:
        # first reason wins: a row is reported once, under its first problem
        reason[mask & (reason == 0)] = codes.index(code) + 1

    # a shallow copy shares the raw columns that need no conversion (no 10M-row copies)
    frame = raw.copy(deep=False)
    for name in raw.columns:
        column = table.column(name)
        values, bad = parse_column(raw[name], column, spec)
        if values is not raw[name]:
            frame[name] = values
        if column.kind == "id" and column.required:
            reject(values.isna().to_numpy(), "missing_id")
        elif column.required and column.kind == "date":
            reject(bad | values.isna().to_numpy(), "unparseable_date")
        elif column.required and column.kind == "money":
            reject(bad | values.isna().to_numpy(), "unparseable_amount")
        elif column.required:
            reject(values.isna().to_numpy(), "missing_id")
        elif bad.any():
            notes.append(
                _(
                    "{n:,} values of optional column '{column}' could not be read and were left "
                    "empty.",
                    n=int(bad.sum()),
                    column=name,
                )
            )

    if "revenue" in frame and table.name == "orders":
        reject((frame["revenue"] < 0).to_numpy(), "negative_revenue")
    if table.date_column and table.date_column in frame:
        dates = frame[table.date_column]
        reject((dates >= today + pd.Timedelta(days=1)).to_numpy(), "date_in_future")
        if table.name == "orders":
            reject((dates < earliest).to_numpy(), "date_before_store_opened")

    _reject_duplicates(raw, frame, table, reject)

    rejected = np.flatnonzero(reason)
    accepted = frame if not len(rejected) else frame.iloc[np.flatnonzero(reason == 0)]
    labels = np.array(codes, dtype=object)[reason[rejected].astype(np.intp) - 1]
    return Validated(accepted.reset_index(drop=True), rejected, labels, tuple(notes))


def _reject_duplicates(raw: pd.DataFrame, frame: pd.DataFrame, table: Table, reject) -> None:
    """Reject exact copies and conflicting rows sharing a key, checking full rows only where
    the key repeats (cheap on 10M orders, where repeats are rare)."""
    if table.key and table.key in frame:
        key_repeats = _repeated(frame[table.key])
        if not key_repeats.any():
            return
        candidates = raw.loc[key_repeats]
        exact = np.zeros(len(raw), dtype=bool)
        exact[np.flatnonzero(key_repeats)] = candidates.duplicated(keep="first").to_numpy()
        reject(exact, "exact_duplicate")
        # rows sharing a key but differing in content, after exact copies are set aside
        distinct = key_repeats & ~exact
        keys = frame[table.key].to_numpy()
        still = pd.Series(keys[distinct]).duplicated(keep=False).to_numpy()
        conflict = np.zeros(len(raw), dtype=bool)
        conflict[np.flatnonzero(distinct)[still]] = True
        if table.name == "orders":
            reject(conflict, "conflicting_duplicate_id")
        else:
            later = np.zeros(len(raw), dtype=bool)
            later[np.flatnonzero(distinct)] = pd.Series(keys[distinct]).duplicated().to_numpy()
            reject(later, "duplicate_customer_id")
    else:
        reject(raw.duplicated(keep="first").to_numpy(), "exact_duplicate")


def _repeated(keys: pd.Series) -> np.ndarray:
    """True for every non-missing key that occurs more than once.

    Order numbers are usually integers from a dense range: counting them with ``bincount`` is
    ~10x faster than hashing (0.1 s instead of 0.9 s on 10M orders). Other keys are hashed.
    """
    if keys.dtype == "int64" and len(keys):
        values = keys.to_numpy()
        low, high = int(values.min()), int(values.max())
        if high - low <= 8 * len(values):
            offsets = values - low
            return np.bincount(offsets, minlength=high - low + 1)[offsets] > 1
    return keys.duplicated(keep=False).to_numpy() & keys.notna().to_numpy()


def parse_column(raw: pd.Series, column: Column, spec: SourceSpec) -> tuple[pd.Series, np.ndarray]:
    """Parse one column to its canonical type.

    Returns
    -------
    values : pandas.Series
        Parsed values; missing or unparseable values are NA.
    bad : numpy.ndarray of bool
        True where a value was present but could not be parsed.
    """
    parser = _PARSERS[column.kind]
    values = parser(raw, spec)
    present = raw.notna().to_numpy()
    if _is_text(raw):
        present = present & (raw.astype("str").str.strip() != "").to_numpy()
    bad = present & values.isna().to_numpy()
    return values, bad


def _is_text(raw: pd.Series) -> bool:
    return raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype)


def _parse_id(raw: pd.Series, spec: SourceSpec) -> pd.Series:
    if raw.dtype == "int64":
        return raw
    if pd.api.types.is_integer_dtype(raw.dtype):
        return raw.astype("Int64") if raw.hasnans else raw.astype("int64")
    if pd.api.types.is_float_dtype(raw.dtype):
        whole = raw.dropna()
        if (whole == np.floor(whole)).all():
            return raw.astype("Int64")
    text = raw.astype("str").str.strip()
    text = text.mask(text == "")
    present = text.dropna()
    # integer-looking ids become integers, so the same id read from CSV and Parquet matches
    if len(present) and present.str.fullmatch(_INT_ID.pattern).all():
        return pd.to_numeric(text).astype("Int64")
    return text


def _parse_date(raw: pd.Series, spec: SourceSpec) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        if getattr(raw.dt, "tz", None) is not None:
            raw = raw.dt.tz_localize(None)
        return raw if raw.dtype == "datetime64[ns]" else raw.astype("datetime64[ns]")
    text = raw.astype("str").str.strip()
    text = text.mask(text == "")
    formats = [spec.date_format] if spec.date_format else []
    if spec.dayfirst and not formats:
        formats = ["%d.%m.%Y", "%d/%m/%Y"]
    if not formats:
        formats = ["ISO8601"]
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    todo = text.notna()
    for fmt in formats:
        if not todo.any():
            break
        # dates with a time part: try the date format, then with a time suffix
        for variant in (fmt, f"{fmt} %H:%M:%S", f"{fmt} %H:%M") if fmt != "ISO8601" else (fmt,):
            chunk = pd.to_datetime(text[todo], format=variant, errors="coerce")
            got = chunk.notna()
            out[chunk.index[got]] = chunk[got].astype("datetime64[ns]")
            todo[chunk.index[got]] = False
            if not todo.any():
                break
    return out


def _parse_money(raw: pd.Series, spec: SourceSpec) -> pd.Series:
    if pd.api.types.is_float_dtype(raw.dtype) and raw.dtype == "float64":
        return raw
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("float64")
    text = raw.astype("str").str.replace(_MONEY_JUNK, "", regex=True)
    if spec.thousands:
        text = text.str.replace(spec.thousands, "", regex=False)
    if spec.decimal == ",":
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    return pd.to_numeric(text.mask(text == ""), errors="coerce").astype("float64")


def _parse_int(raw: pd.Series, spec: SourceSpec) -> pd.Series:
    values = _parse_money(raw, spec)
    whole = values.where(values == np.floor(values))
    return whole.astype("Int64")


def _parse_float(raw: pd.Series, spec: SourceSpec) -> pd.Series:
    return _parse_money(raw, spec)


def _parse_text(raw: pd.Series, spec: SourceSpec) -> pd.Series:
    text = raw.astype("str").str.strip() if _is_text(raw) else raw.astype("str")
    return text.mask(raw.isna() | (text == ""))


def _parse_category(raw: pd.Series, spec: SourceSpec) -> pd.Series:
    if isinstance(raw.dtype, pd.CategoricalDtype):
        return raw
    return _parse_text(raw, spec).astype("category")


def _parse_bool(raw: pd.Series, spec: SourceSpec) -> pd.Series:
    if pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("boolean")
    if pd.api.types.is_numeric_dtype(raw.dtype):
        return raw.map({1: True, 0: False}).astype("boolean")
    text = raw.astype("str").str.strip().str.lower()
    out = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    out[text.isin(_TRUE).to_numpy()] = True
    out[text.isin(_FALSE).to_numpy()] = False
    return out


_PARSERS = {
    "id": _parse_id,
    "date": _parse_date,
    "money": _parse_money,
    "int": _parse_int,
    "float": _parse_float,
    "text": _parse_text,
    "category": _parse_category,
    "bool": _parse_bool,
}
