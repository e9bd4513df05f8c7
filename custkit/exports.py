"""Files that operators open: the CSV and XLSX exports of a report and the quarantine files.

Export lists (``ctx.export``) and rejected input rows (:func:`custkit.data.load.write_quarantine`)
are loaded into CRMs and opened in Excel. They are written here, under one set of rules, so that
such a file holds every row and every cell of its frame, reads back as written, and runs nothing
when it is opened. The module sits below ``custkit.data`` and ``custkit.reports``, which both
use it.

The rules
---------
Dialect
    CSV in UTF-8 with a byte-order mark (so Excel detects the encoding). The separator and the
    decimal mark follow the report language: ``;`` and ``,`` for ``language: ru`` (what Russian
    Excel expects), ``,`` and ``.`` otherwise; params override them (``exports: {sep: ";",
    decimal: ","}``; a decimal comma without a separator means ``;``). Text is quoted only where
    it must be (it holds the separator, a quote or a line break); numbers are never quoted. An
    empty text and a missing value are both an empty cell.
Numbers
    Integers stay integers, and a column of whole floats (counts with gaps) is written as whole
    numbers, never ``1.0``. Money, known by its column name (``revenue``, ``cost``,
    ``shipping_cost``, ``discount``, ``price``, ``amount``, ``incentive``, ``profit``, ``spend``,
    ``clv``, ``value``, ``value_at_risk``; not when the name also says ``share``, ``rate``,
    ``p_…``), is rounded to 2 decimals; every other fraction to 2 decimals but at least 4
    significant digits (a probability 0.571184… → 0.5712, a p-value 1.23456e-07 → 1.235e-07),
    so no ``0.30000000000000004``; halves are rounded away from zero (0.005 → 0.01). Fractions
    are written positionally (``123456789012.25``, not ``1.23e+11``) below 10^15. Infinities
    are written as ``inf`` / ``-inf`` (as text in XLSX).
Phones
    The ``phone`` column is written in E.164 (``+79161234567``) with Google's ``phonenumbers``,
    in the store's region (``store.country``; default ``RU`` for stores with ``language: ru`` or
    ``currency: RUB``, otherwise none: then only numbers written with ``+`` and a country code
    are understood). A value that is not a possible number there, or that carries an extension,
    is kept exactly as written and counted (the count is shown under the export's note).
Formulas (OWASP "CSV injection")
    In CSV, a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    gets a leading ``'``, so a spreadsheet shows it as text instead of running it. A text that is
    only a sign and digits (``+79161234567``, ``-15``, ``-1,5``) is not prefixed: no spreadsheet
    can run it (Excel may read it as a number, which it is). Numeric columns are numbers,
    negative ones included, and are never prefixed. In XLSX, text is always written as a text
    cell (never a formula, never a link), so nothing needs a prefix there.
Dates
    Dates as ``2026-11-01`` and times (in columns that have any) as ``2026-11-01 10:30:01``, to
    the second; time-zone-aware times as the wall-clock time of their zone. In XLSX they are real
    Excel dates (dates before 1900-03-01, which Excel cannot hold, are written as text).
XLSX
    One sheet, header frozen, with a filter. Up to :data:`XLSX_MAX_ROWS` rows (params
    ``exports.xlsx_max_rows``, at most Excel's 1,048,575 data rows); longer lists, and lists
    with a text longer than Excel's 32,767 characters per cell, get the CSV only, and the note
    says why. Integers of 16 digits or more (beyond Excel's 15 significant digits) are written
    as text, so an order number is never rounded. The XML non-characters U+FFFE and U+FFFF,
    which no XLSX can hold, become U+FFFD there (the CSV keeps them).

What is our own code, and why
-----------------------------
- The CSV text is built column by column with pyarrow compute kernels and written in one piece:
  pyarrow's CSV writer quotes every text and has no decimal comma, and pandas' ``to_csv`` with
  ``decimal=","`` is about 3x slower (numbers below).
- The XLSX is written with xlsxwriter's public typed methods (``write_string``,
  ``write_number``…), row by row in its ``constant_memory`` mode: the worksheet is streamed to
  disk, so memory stays flat (pandas' ``to_excel`` writes column by column, which that mode
  cannot take: it kept only the first column and the last row). Its default mode is no faster
  (13.4 s against 13.3 s for 100k rows in the same minute) and holds every cell in memory
  (+130 MiB per 100k rows). xlsxwriter is pure Python, a few µs per cell, so time, not memory,
  sets the cap.
- Phones: ``phonenumbers`` parses ~30,000 numbers a second. Numbers in E.164 shape, and
  national numbers of the store's region with a plain national prefix (``8 916 …``), are
  checked against its metadata (country code, prefixes, possible lengths) with vectorised
  string operations instead; ``tests/test_exports.py`` checks with hypothesis that this agrees
  with ``phonenumbers`` wherever it decides. The rest go through ``phonenumbers``, once per
  distinct value.

Measured with ``bench/bench_exports.py`` (10 columns: ids, name, e-mail, phone, money, share,
count, two dates, a flag) on the 2-core development machine, 2026-12-07, while other jobs kept
its load average at 5-7 (an idle moment ran the same xlsxwriter loop over 100k rows in 5.4 s,
so read the times as upper bounds and compare within a row):

=========  =======  ==========================  =======  ==========
rows       prepare  CSV (pandas ``to_csv``)     XLSX     peak
=========  =======  ==========================  =======  ==========
10,000     0.20 s   0.08 s (0.15 s)             2.3 s    0.17 GiB
100,000    0.52 s   0.81 s (1.95 s)             26 s     0.26 GiB
1,000,000  9.1 s    17.5 s (26.8 s)             160 s    0.63 GiB
=========  =======  ==========================  =======  ==========

Memory no longer limits the XLSX (the old cap of 10,000 rows guarded against it); time does.
:data:`XLSX_MAX_ROWS` is 20,000 rows (about a second a list): at 100,000 the audit of the 1M
bench store spent 7.3 s in its exports instead of 0.5 s (lists of 58k and 31k rows), 11 s of a
24 s report, for spreadsheets of a length no one reads row by row. A params file may raise it to
Excel's limit where such a spreadsheet is worth the seconds (``exports.xlsx_max_rows``).
"""

from __future__ import annotations

import functools
import math
import os
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Longest export that also gets an XLSX (params ``exports.xlsx_max_rows`` changes it).
XLSX_MAX_ROWS = 20_000
#: Data rows an Excel sheet holds (1,048,576 rows with the header).
EXCEL_MAX_ROWS = 1_048_575
#: Characters an Excel cell holds.
EXCEL_MAX_CELL_CHARS = 32_767
#: Separators and decimal marks a CSV export may use.
SEPARATORS = (",", ";", "\t")
DECIMAL_MARKS = (".", ",")

# a text that begins like a formula (OWASP CSV injection), and the plain signed numbers that do not
_FORMULA_START = r"^[=+\-@\t\r]"
_SIGNED_NUMBER = r"^[+-]\d+(?:[.,]\d+)?$"
_MONEY_NAMES = frozenset({"value", "value_at_risk", "clv", "aov"})
_MONEY_WORDS = r"revenue|cost|price|amount|incentive|profit|spend|discount|clv"
_MONEY_RE = re.compile(rf"(^|_)({_MONEY_WORDS})($|_)")
_SHARE_RE = re.compile(r"(^|_)(share|rate|ratio|pct|p|probability|p_alive|p_value|p_holm)($|_)")
_MIN_DECIMALS, _SIGNIFICANT, _MAX_DECIMALS = 2, 4, 15
_POSITIONAL_LIMIT = 1e15
_EXCEL_EPOCH = np.datetime64("1899-12-30", "s")
_EXCEL_FIRST_DATE = pd.Timestamp("1900-03-01")
_EXCEL_MAX_INT = 10**15
_XLSX_MAX_FLOAT = 1.797693134862315e308
_CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV export separates fields and writes decimals.

    Attributes
    ----------
    sep : str
        Field separator: ``,``, ``;`` or a tab.
    decimal : str
        Decimal mark: ``.`` or ``,``.
    """

    sep: str = ","
    decimal: str = "."

    def __post_init__(self) -> None:
        if self.sep not in SEPARATORS:
            raise ValueError(f"sep must be one of {SEPARATORS}. Got {self.sep!r} instead.")
        if self.decimal not in DECIMAL_MARKS:
            raise ValueError(
                f"decimal must be one of {DECIMAL_MARKS}. Got {self.decimal!r} instead."
            )
        if self.sep == self.decimal:
            raise ValueError(
                f"sep and decimal must differ: a CSV with {self.sep!r} for both cannot be read "
                "back. Use sep ';' with decimal ','."
            )


@dataclass(frozen=True)
class ExportSettings:
    """Everything that decides how a frame is written: dialect, phone region, XLSX cap.

    Attributes
    ----------
    dialect : CsvDialect
    phone_region : str or None
        ISO 3166 region for phones written without a country code (``"RU"``); None: only
        numbers with ``+`` and a country code are understood.
    xlsx_max_rows : int
        Longest frame that also gets an XLSX.
    """

    dialect: CsvDialect = CsvDialect()
    phone_region: str | None = None
    xlsx_max_rows: int = XLSX_MAX_ROWS

    @classmethod
    def from_params(cls, params: Any) -> ExportSettings:
        """The settings a params file asks for (see the module docstring); defaults for None.

        Parameters
        ----------
        params : Params or None
            Reads ``language``, ``currency``, ``country`` and ``exports`` (all optional).
        """
        language = getattr(params, "language", "en")
        options: Mapping[str, Any] = getattr(params, "exports", None) or {}
        russian = language == "ru"
        decimal = options.get("decimal") or ("," if russian else ".")
        sep = options.get("sep") or (";" if decimal == "," else ",")
        country = getattr(params, "country", None)
        if not country and (russian or str(getattr(params, "currency", "")).upper() == "RUB"):
            country = "RU"
        return cls(
            dialect=CsvDialect(sep=sep, decimal=decimal),
            phone_region=country or None,
            xlsx_max_rows=int(options.get("xlsx_max_rows", XLSX_MAX_ROWS)),
        )


@dataclass(frozen=True)
class PreparedExport:
    """A frame ready to write: numbers rounded, phones in E.164.

    Attributes
    ----------
    frame : DataFrame
    phones_kept : int
        Phones that are not a possible number in the region, kept as written.
    """

    frame: pd.DataFrame
    phones_kept: int = 0


@dataclass(frozen=True)
class WrittenExport:
    """What :func:`write_export` wrote.

    Attributes
    ----------
    paths : list of Path
        The CSV, and the XLSX when there is one.
    rows : int
    phones_kept : int
        Phones kept as written (not a possible number in the store's region).
    no_xlsx : str or None
        Why there is no XLSX: ``"rows"`` (longer than the cap) or ``"long_text"`` (a cell longer
        than Excel holds); None when there is one.
    xlsx_max_rows : int
    """

    paths: list[Path]
    rows: int
    phones_kept: int = 0
    no_xlsx: str | None = None
    xlsx_max_rows: int = XLSX_MAX_ROWS


def write_export(
    frame: pd.DataFrame, folder: str | os.PathLike[str], name: str, settings: ExportSettings
) -> WrittenExport:
    """Write *frame* to ``<folder>/<name>.csv`` and, where it fits, ``<name>.xlsx``, atomically.

    Parameters
    ----------
    frame : DataFrame
        The list; a non-default index is written as leading columns.
    folder : path-like
    name : str
        File name without suffix.
    settings : ExportSettings

    Returns
    -------
    WrittenExport
    """
    table = frame if isinstance(frame.index, pd.RangeIndex) else frame.reset_index()
    prepared = prepare_export(table, phone_region=settings.phone_region)
    folder = Path(folder)
    paths = [write_csv(prepared.frame, folder / f"{name}.csv", settings.dialect)]
    limit = min(settings.xlsx_max_rows, EXCEL_MAX_ROWS)
    no_xlsx = None
    if len(table) > limit:
        no_xlsx = "rows"
    elif _longest_text(prepared.frame) > EXCEL_MAX_CELL_CHARS:
        no_xlsx = "long_text"
    xlsx = folder / f"{name}.xlsx"
    if no_xlsx is None:
        paths.append(write_xlsx(prepared.frame, xlsx))
    else:
        xlsx.unlink(missing_ok=True)  # never leave an earlier run's XLSX beside this CSV
    return WrittenExport(
        paths=paths,
        rows=len(table),
        phones_kept=prepared.phones_kept,
        no_xlsx=no_xlsx,
        xlsx_max_rows=limit,
    )


def prepare_export(frame: pd.DataFrame, phone_region: str | None = None) -> PreparedExport:
    """*frame* with numbers rounded for people and the ``phone`` column in E.164.

    Whole-number float columns become nullable integers; other float columns are rounded as the
    module docstring says; the ``phone`` column goes through :func:`format_phones`. Nothing
    else changes.
    """
    out = frame.copy(deep=False)
    phones_kept = 0
    for i, column in enumerate(frame.columns):  # by position: names may repeat
        values = frame.iloc[:, i]
        if str(column) == "phone":  # before numbers: a phone read as a number is still a phone
            values, kept = format_phones(values, phone_region)
            phones_kept += kept
        elif _is_float(values):
            values = round_for_people(values, str(column))
        else:
            continue
        out.isetitem(i, values)
    return PreparedExport(out, phones_kept)


def round_for_people(values: pd.Series, name: str = "") -> pd.Series:
    """Round a float column as exports are written (see the module docstring).

    Parameters
    ----------
    values : Series
        Floats.
    name : str
        Column name: money names get exactly 2 decimals.

    Returns
    -------
    Series
        ``Int64`` when every finite value is a whole number (and below 2**53), otherwise
        ``float64`` with the rounded values.
    """
    x = values.to_numpy(dtype="float64", na_value=np.nan)
    finite = np.isfinite(x)
    present = ~np.isnan(x)
    if present.any() and finite[present].all():
        whole = x[present]
        if (whole == np.round(whole)).all() and (np.abs(whole) < 2**53).all():
            out = pd.array(np.where(present, x, 0).astype("int64"), dtype="Int64")
            out[~present] = pd.NA
            return pd.Series(out, index=values.index, name=values.name)
    decimals = _decimals(x, name)
    return pd.Series(_round(x, decimals), index=values.index, name=values.name)


def format_phones(values: pd.Series, region: str | None) -> tuple[pd.Series, int]:
    """Phones in E.164 where they can be read; the others as written.

    Parameters
    ----------
    values : Series
        Phones as text (numbers are read as their digits).
    region : str or None
        ISO 3166 region for numbers written without a country code.

    Returns
    -------
    (Series, int)
        The phones (text) and how many non-empty ones were kept as written.
    """
    text = _phone_text(values)
    present = text.notna()
    if not present.any():
        return text, 0
    given = text[present]
    result = e164_fast(given, region)
    slow = result.isna()
    if slow.any():
        distinct = pd.unique(given[slow].to_numpy())
        parsed = {value: _e164_slow(value, region) for value in distinct}
        result[slow] = given[slow].map(parsed)
    kept = result.isna()
    result[kept] = given[kept]
    out = text.copy()
    out[present] = result.to_numpy()
    return out, int(kept.sum())


def e164_fast(phones: pd.Series, region: str | None = None) -> pd.Series:
    """E.164 for the phones whose form needs no parsing; NA for the others.

    Two forms are taken, once spaces, brackets, dots and dashes are dropped:

    - ``+``, a country code ``phonenumbers`` knows and a national number of a possible length
      for it that does not begin with the country's national prefix (``phonenumbers`` may strip
      one: those are left to it);
    - in *region*, its national prefix and a national number of a possible length, where the
      whole is not of a possible length itself, does not begin with the country code or the
      international call prefix, and the region has a plain prefix (``8`` in Russia, ``0`` in
      Germany) without rewriting rules.

    Everything else is NA: for :func:`format_phones` to parse.
    """
    codes, possible, prefixes = _phone_metadata()
    text = pa.array(phones.astype("str").to_numpy(dtype=object), type=pa.string())
    compact = pc.replace_substring_regex(text, r"[\s().\-\x{00a0}]", "")
    ok = pc.match_substring_regex(compact, r"^\+[1-9]\d{6,17}$")
    digits = pc.utf8_slice_codeunits(compact, 1, 32)
    country = pa.nulls(len(digits), pa.string())
    national = pa.nulls(len(digits), pa.string())
    for width in (1, 2, 3):  # country codes are prefix-free: at most one width matches
        head = pc.utf8_slice_codeunits(digits, 0, width)
        new = pc.and_(pc.is_null(country), pc.is_in(head, value_set=codes))
        country = pc.if_else(new, head, country)
        national = pc.if_else(new, pc.utf8_slice_codeunits(digits, width, 32), national)
    length = pc.cast(pc.utf8_length(national), pa.string())
    key = pc.binary_join_element_wise(country, length, ":")
    ok = pc.and_(ok, pc.is_in(key, value_set=possible)).fill_null(False)
    for code in pc.unique(country.filter(ok)).to_pylist():
        if code in prefixes:  # may start with a national prefix phonenumbers would strip
            mine = pc.equal(country, code)
            risky = pc.match_substring_regex(national, prefixes[code]) if prefixes[code] else True
            ok = pc.and_(ok, pc.invert(pc.and_(mine, risky)).fill_null(True))
    result = pc.if_else(ok, pc.binary_join_element_wise("+", digits, ""), None)
    rule = _national_rule(region) if region else None
    if rule is not None:
        prefix, code, lengths, whole_lengths, international = rule
        n = pc.utf8_length(compact)
        local = pc.and_(
            pc.match_substring_regex(compact, rf"^{prefix}\d+$"),
            pc.invert(pc.starts_with(compact, code)),
        )
        local = pc.and_(local, pc.is_in(pc.subtract(n, len(prefix)), value_set=lengths))
        local = pc.and_(local, pc.invert(pc.is_in(n, value_set=whole_lengths)))
        if international:
            local = pc.and_(local, pc.invert(pc.match_substring_regex(compact, international)))
        local = pc.and_(local, pc.is_null(result)).fill_null(False)
        rest = pc.utf8_slice_codeunits(compact, len(prefix), 32)
        result = pc.if_else(local, pc.binary_join_element_wise(f"+{code}", rest, ""), result)
    return pd.Series(result.to_numpy(zero_copy_only=False), index=phones.index, dtype="object")


def neutralise_formulas(text: pa.Array) -> pa.Array:
    """Prefix ``'`` to every text that a spreadsheet would run as a formula (module docstring)."""
    risky = pc.and_(
        pc.match_substring_regex(text, _FORMULA_START),
        pc.invert(pc.match_substring_regex(text, _SIGNED_NUMBER)),
    )
    return pc.if_else(risky, pc.binary_join_element_wise("'", text, ""), text)


def write_csv(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    dialect: CsvDialect | None = None,
) -> Path:
    """Write *frame* as a CSV export (UTF-8 with BOM, the dialect, formulas neutralised).

    Parameters
    ----------
    frame : DataFrame
        Written as it is (its index is not written).
    path : path-like
    dialect : CsvDialect, optional
        Default: comma and point.
    """
    dialect = dialect or CsvDialect()
    with _atomic(path) as tmp, open(tmp, "wb") as fh:
        fh.write("\ufeff".encode())
        header = [_quote(pa.array([str(c)]), dialect.sep) for c in frame.columns]
        fh.write(_join_rows(header, dialect.sep, 1))
        kinds = [_kind(frame.iloc[:, i]) for i in range(frame.shape[1])]
        for start in range(0, len(frame), _CHUNK_ROWS):
            chunk = frame.iloc[start : start + _CHUNK_ROWS]
            cells = [_csv_cells(chunk.iloc[:, i], k, dialect) for i, k in enumerate(kinds)]
            fh.write(_join_rows(cells, dialect.sep, len(chunk)))
    return Path(path)


def write_xlsx(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write *frame* as one XLSX sheet: every cell typed, text never a formula (module docstring).

    Parameters
    ----------
    frame : DataFrame
        At most :data:`EXCEL_MAX_ROWS` rows.
    path : path-like

    Raises
    ------
    ValueError
        *frame* has more rows than an Excel sheet holds.
    """
    import xlsxwriter

    if len(frame) > EXCEL_MAX_ROWS:
        raise ValueError(
            f"An XLSX sheet holds at most {EXCEL_MAX_ROWS:,} rows. Got {len(frame):,} instead."
        )
    options = {
        "constant_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    with _atomic(path) as tmp, xlsxwriter.Workbook(str(tmp), options) as book:
        sheet = book.add_worksheet("export")
        formats = {
            "date": book.add_format({"num_format": "yyyy-mm-dd"}),
            "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
            "header": book.add_format({"bold": True}),
        }
        for col, name in enumerate(frame.columns):
            sheet.write_string(0, col, _xml_safe(str(name)), formats["header"])
            sheet.set_column(col, col, min(max(len(str(name)) + 2, 10), 40))
        sheet.freeze_panes(1, 0)
        if len(frame.columns):
            sheet.autofilter(0, 0, max(len(frame), 1), len(frame.columns) - 1)
        writers = {
            "text": sheet.write_string,
            "number": sheet.write_number,
            "bool": sheet.write_boolean,
            "any": sheet.write,  # a column mixing numbers and text (inf, long integers)
        }
        kinds = [_kind(frame.iloc[:, i]) for i in range(frame.shape[1])]
        for start in range(0, len(frame), _CHUNK_ROWS):
            chunk = frame.iloc[start : start + _CHUNK_ROWS]
            columns = [_xlsx_cells(chunk.iloc[:, i], k, formats) for i, k in enumerate(kinds)]
            calls = [(writers[kind], fmt) for kind, _, fmt in columns]
            rows = zip(*(cells for _, cells, _ in columns), strict=True)
            for row, values in enumerate(rows, start=start + 1):
                for col, value in enumerate(values):
                    if value is not None:
                        write, fmt = calls[col]
                        write(row, col, value, fmt)
    return Path(path)


# --- CSV cells -----------------------------------------------------------------------------------


def _csv_cells(values: pd.Series, kind: str, dialect: CsvDialect) -> pa.Array:
    """One column of *kind* (see :func:`_kind`) as CSV fields: quoted where needed, empty for
    missing."""
    if kind == "float":
        x = values.to_numpy(dtype="float64", na_value=np.nan)
        text = _float_text(x, dialect.decimal)
    elif kind == "int":
        text = pc.cast(pa.array(values, from_pandas=True), pa.string())
    elif kind == "bool":
        array = pa.array(values.astype("boolean"), from_pandas=True)
        text = pc.if_else(array, "true", "false")
    elif kind in ("date", "datetime"):
        text = _date_text(values, with_time=kind == "datetime")
    else:
        text = neutralise_formulas(_text_array(values))
        return _quote(text, dialect.sep).fill_null("")
    return text.fill_null("")


def _text_array(values: pd.Series) -> pa.Array:
    """Text cells of a text, categorical or mixed column; None where missing or empty."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype("object")
    if isinstance(values.dtype, pd.StringDtype):
        array = pa.array(values, from_pandas=True)
    else:
        strings = values.where(values.isna(), values.astype("str"))
        array = pa.array(strings.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    array = pc.cast(array, pa.string())
    return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)


def _quote(text: pa.Array, sep: str) -> pa.Array:
    """RFC 4180 quoting: a field holding the separator, a quote or a line break is quoted."""
    text = pc.cast(text, pa.string())
    needs = pc.match_substring_regex(text, f'[{re.escape(sep)}"\\r\\n]')
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, text)


def _join_rows(cells: list[pa.Array], sep: str, rows: int) -> bytes:
    """The CSV lines of *rows* rows given each column's field text, as UTF-8 bytes."""
    if not cells:
        return b"\n" * rows
    cells = [pc.cast(c, pa.string()) for c in cells]
    lines = pc.binary_join_element_wise(*cells, sep) if len(cells) > 1 else cells[0]
    lines = pc.binary_join_element_wise(lines, "", "\n")
    if isinstance(lines, pa.ChunkedArray):
        lines = pa.concat_arrays(lines.chunks)
    _, offsets, data = lines.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32)[[lines.offset, lines.offset + len(lines)]]
    start, end = (int(v) for v in bounds)
    return data[start:end].to_pybytes() if data is not None else b""


def _float_text(x: np.ndarray, decimal: str) -> pa.Array:
    """Fractions in positional notation (``123456789012.25``), trailing zeros dropped.

    Rounded values are written from their integer count of the smallest decimal unit, so the
    text is exactly the rounded decimal; values of 10**15 and more, or with more than 15
    decimals, take Arrow's shortest round-trip text.
    """
    out = np.full(len(x), None, dtype=object)
    finite = np.isfinite(x)
    out[np.isposinf(x)] = "inf"
    out[np.isneginf(x)] = "-inf"
    decimals = _decimals_needed(x)
    positional = finite & (np.abs(x) < _POSITIONAL_LIMIT) & (decimals <= _MAX_DECIMALS)
    for d in np.unique(decimals[positional]):
        rows = positional & (decimals == d)
        units = np.round(np.abs(x[rows]) * 10.0**d).astype("int64")
        digits = pc.utf8_lpad(pc.cast(pa.array(units), pa.string()), int(d) + 1, "0")
        if d:
            whole = pc.utf8_slice_codeunits(digits, 0, -int(d))
            fraction = pc.utf8_rtrim(pc.utf8_slice_codeunits(digits, -int(d)), "0")
            has_fraction = pc.not_equal(fraction, "")
            text = pc.if_else(
                has_fraction, pc.binary_join_element_wise(whole, fraction, decimal), whole
            )
        else:
            text = digits
        negative = pa.array((x[rows] < 0) & (units > 0))
        text = pc.if_else(negative, pc.binary_join_element_wise("-", text, ""), text)
        out[rows] = text.to_numpy(zero_copy_only=False)
    rest = finite & ~positional
    if rest.any():
        text = pc.cast(pa.array(x[rest]), pa.string()).to_pylist()
        out[rest] = [t.replace(".", decimal) for t in text]
    return pa.array(out, type=pa.string())


def _date_text(values: pd.Series, with_time: bool) -> pa.Array:
    """``2026-11-01`` or ``2026-11-01 10:30:01`` (Arrow's casts: much faster than strftime)."""
    seconds = pa.array(_wall_clock(values).to_numpy(dtype="datetime64[s]"), from_pandas=True)
    if not with_time:
        return pc.cast(pc.cast(seconds, pa.date32()), pa.string())
    return pc.cast(seconds, pa.string())


# --- XLSX cells ----------------------------------------------------------------------------------


def _xlsx_cells(values: pd.Series, kind: str, formats: dict) -> tuple[str, list, Any]:
    """(writer, cell values with None for empty, format) of one column of *kind*."""
    if kind in ("float", "int"):
        x = np.array(values.astype("object").where(values.notna(), None), dtype=object)
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        # infinities, and the few floats whose 16-digit text (xlsxwriter's) would overflow
        odd = (~np.isfinite(numbers) & ~np.isnan(numbers)) | (np.abs(numbers) > _XLSX_MAX_FLOAT)
        if kind == "int":
            odd |= np.abs(numbers) >= _EXCEL_MAX_INT
        else:
            x = np.where(np.isnan(numbers), None, numbers).astype(object)
        if odd.any():  # infinities and long integers: text, so no value is lost
            x[odd] = [_number_text(v) for v in x[odd]]
            return "any", x.tolist(), None
        return "number", x.tolist(), None
    if kind == "bool":
        return "bool", values.astype("object").where(values.notna(), None).tolist(), None
    if kind in ("date", "datetime"):
        stamps = _wall_clock(values).astype("datetime64[s]")
        serial = (stamps - _EXCEL_EPOCH) / np.timedelta64(1, "D")
        cells = np.where(np.isnat(stamps), None, serial).astype(object)
        early = ~np.isnat(stamps) & (stamps < np.datetime64(_EXCEL_FIRST_DATE, "s"))
        fmt = formats[kind]
        if early.any():
            text = _date_text(pd.Series(stamps[early]), with_time=kind == "datetime")
            cells[early] = text.to_pylist()
            return "any", cells.tolist(), fmt
        return "number", cells.tolist(), fmt
    text = _text_array(values)
    text = pc.replace_substring_regex(text, "[\ufffe\uffff]", "\ufffd")
    return "text", text.to_pylist(), None


def _number_text(value: Any) -> str:
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value) if isinstance(value, float) else str(value)


def _xml_safe(text: str) -> str:
    return re.sub("[\ufffe\uffff]", "\ufffd", text)


# --- shared helpers ------------------------------------------------------------------------------


@contextmanager
def _atomic(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A hidden temporary path beside *path*, renamed to it when the block succeeds: a reader
    (an operator, a CRM import) never sees half a file. (``custkit.reports.files`` has the same
    for report outputs; this module sits below the report layer.)"""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _kind(values: pd.Series) -> str:
    """``float``, ``int``, ``bool``, ``date``, ``datetime`` or ``text`` for a column."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        stamps = _wall_clock(values).dropna()
        whole_days = stamps.empty or bool((stamps == stamps.dt.normalize()).all())
        return "date" if whole_days else "datetime"
    if pd.api.types.is_object_dtype(dtype):
        inferred = pd.api.types.infer_dtype(values, skipna=True)
        if inferred == "boolean":
            return "bool"
        if inferred == "integer" and _fits_int64(values):
            return "int"
        if inferred in ("floating", "mixed-integer-float"):
            return "float"
    return "text"


def _is_float(values: pd.Series) -> bool:
    return _kind(values) == "float"


def _fits_int64(values: pd.Series) -> bool:
    try:
        values.dropna().astype("int64")
    except (OverflowError, ValueError, TypeError):
        return False
    return True


def _wall_clock(values: pd.Series) -> pd.Series:
    """Datetimes without a zone: aware ones as the wall-clock time of their zone."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    return pd.to_datetime(values)


def _decimals(x: np.ndarray, name: str) -> np.ndarray:
    """Decimals each value keeps: 2 for money, else 2 but at least 4 significant digits."""
    lowered = name.lower()
    if lowered in _MONEY_NAMES or (_MONEY_RE.search(lowered) and not _SHARE_RE.search(lowered)):
        return np.full(len(x), _MIN_DECIMALS)
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.abs(x)))
    wanted = _SIGNIFICANT - 1 - np.where(np.isfinite(magnitude), magnitude, 0)
    return np.maximum(wanted, _MIN_DECIMALS).astype("int64")


def _round(x: np.ndarray, decimals: np.ndarray) -> np.ndarray:
    """*x* rounded to *decimals* each, half away from zero: the nearest float to the rounded
    decimal."""
    out = x.copy()
    finite = np.isfinite(x)
    with np.errstate(over="ignore", invalid="ignore"):
        small = np.abs(x) * 10.0 ** np.minimum(decimals, _MAX_DECIMALS) < 2**53
    scaled = finite & (decimals <= _MAX_DECIMALS) & small
    power = 10.0 ** decimals[scaled]
    # half away from zero, as people round money (0.005 → 0.01); numpy's round is half-even
    scaled_x = x[scaled] * power
    out[scaled] = np.sign(scaled_x) * np.floor(np.abs(scaled_x) + 0.5) / power
    tiny = finite & (decimals > _MAX_DECIMALS)
    if tiny.any():  # below 1e-12: rare, formatted one by one
        out[tiny] = [float(f"{v:.{_SIGNIFICANT}g}") for v in x[tiny]]
    return out


def _decimals_needed(x: np.ndarray) -> np.ndarray:
    """Fewest decimals (0-16) that write each value exactly as its shortest decimal form."""
    out = np.full(len(x), 99, dtype="int64")
    todo = np.isfinite(x)
    for d in range(_MAX_DECIMALS + 1):
        if not todo.any():
            break
        power = 10.0**d
        with np.errstate(over="ignore", invalid="ignore"):
            exact = todo & (np.round(x * power) / power == x)
        out[exact] = d
        todo &= ~exact
    return out


def _longest_text(frame: pd.DataFrame) -> int:
    longest = 0
    for i in range(frame.shape[1]):
        values = frame.iloc[:, i]
        if _kind(values) == "text" and values.notna().any():
            longest = max(longest, int(values.dropna().astype("str").str.len().max()))
    return longest


def _phone_text(values: pd.Series) -> pd.Series:
    """Phones as text: numbers as their digits (``79161234567``, not ``79161234567.0``)."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        text = pd.Series(pd.NA, index=values.index, dtype="object")
        ok = np.isfinite(numbers)
        text[ok] = pd.Series(numbers[ok]).astype("int64").astype(str).to_numpy()
        return text
    present = values.notna().to_numpy() & values.astype("str").ne("").to_numpy()
    text = pd.Series(pd.NA, index=values.index, dtype="object")
    text[present] = values[present].astype("str").to_numpy(dtype=object)
    return text


def _e164_slow(value: str, region: str | None) -> Any:
    import phonenumbers

    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return pd.NA
    if number.extension or not phonenumbers.is_possible_number(number):
        return pd.NA
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.cache
def _phone_metadata() -> tuple[pa.Array, pa.Array, dict[str, str | None]]:
    """Country codes, ``"code:length"`` of possible national numbers, national prefix patterns.

    As ``phonenumbers.is_possible_number`` decides: the general description's possible lengths
    (local-only lengths included) of the code's main region. A prefix pattern is None where
    Arrow's regular expressions cannot take it: every number of that code is then parsed.
    """
    import phonenumbers
    from phonenumbers import PhoneMetadata

    codes, possible, prefixes = [], [], {}
    for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, regions[0])
        if metadata is None:
            continue
        general = metadata.general_desc
        lengths = set(general.possible_length or ()) | set(general.possible_length_local_only or ())
        lengths.discard(-1)
        codes.append(str(code))
        possible += [f"{code}:{n}" for n in sorted(lengths)]
        pattern = metadata.national_prefix_for_parsing or metadata.national_prefix
        if pattern:
            try:
                pc.match_substring_regex(pa.array([""]), f"^(?:{pattern})")
            except pa.ArrowInvalid:
                prefixes[str(code)] = None
            else:
                prefixes[str(code)] = f"^(?:{pattern})"
    return pa.array(codes), pa.array(possible), prefixes


@functools.cache
def _national_rule(region: str) -> tuple[str, str, pa.Array, pa.Array, str | None] | None:
    """(national prefix, country code, possible national lengths, possible lengths of prefix and
    number together, international prefix pattern) for :func:`e164_fast`, or None where the
    region's prefix is not a plain one (then every national number is parsed)."""
    from phonenumbers import PhoneMetadata

    metadata = PhoneMetadata.metadata_for_region(region.upper())
    if metadata is None:
        return None
    prefix = metadata.national_prefix_for_parsing
    if not prefix or not prefix.isdigit() or metadata.national_prefix_transform_rule:
        return None
    general = metadata.general_desc
    lengths = set(general.possible_length or ()) - {-1}
    whole = lengths | set(general.possible_length_local_only or ())
    international = metadata.international_prefix
    pattern = f"^(?:{international})" if international else None
    if pattern:
        try:
            pc.match_substring_regex(pa.array([""]), pattern)
        except pa.ArrowInvalid:
            return None
    return (
        prefix,
        str(metadata.country_code),
        pa.array(sorted(lengths), pa.int32()),
        pa.array(sorted(whole), pa.int32()),
        pattern,
    )
