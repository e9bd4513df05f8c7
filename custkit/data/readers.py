"""Reading a source (files or a database) into a raw frame with canonical column names.

Reading is kept apart from parsing and validation (:mod:`custkit.data.validate`): text files are
read with every column as text, so a bad value can be quarantined as the store wrote it.

CSV files are read with pyarrow's multi-threaded reader (about twice as fast as pandas' default)
and cached once as Parquet, keyed by the file's path, size, modification time and the reading
options, so the next run reads the cache (about ten times faster than the CSV; see shared/README).

Databases are read through SQLAlchemy with a server-side cursor, :data:`SQL_CHUNK_ROWS` rows per
fetch; each chunk becomes an Arrow table at once and the chunks are joined into one frame at the
end. ``pandas.read_sql`` would hold the whole result as Python rows and then again as a frame, and
its chunked mode gives frames whose types differ from chunk to chunk. Credentials are read from
the environment only here (:meth:`~custkit.params.SourceSpec.database_url`), and every database
error is reported with them masked and without the driver's exception attached.
"""

from __future__ import annotations

import glob
import hashlib
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from custkit.contract import Table
from custkit.data import cache
from custkit.data.records import data_lines, scan_records
from custkit.errors import DataError, did_you_mean
from custkit.i18n import _
from custkit.params import mask_url

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import Connection, Engine, Select
    from sqlalchemy.engine import URL

    from custkit.params import SourceSpec

_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}

#: Rows fetched from a database per round trip; each chunk becomes one Arrow table.
SQL_CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class SourceFile:
    """One file (or sheet) of a source and what became of its records.

    Attributes
    ----------
    name : str
        The file's path; for a sheet of a workbook, the path and the sheet's name.
    rows : int
        Rows it gave the frame.
    malformed : numpy.ndarray of int64
        0-based numbers of its data records that could not be split into the header's columns.
    record_lines : numpy.ndarray of int64 or None
        1-based line on which each data record starts (malformed ones included); ``None`` when
        data record *r* (0-based) simply sits on line ``r + 2`` (below a one-line header).
    has_lines : bool
        Whether lines mean anything (text files and sheets; not Parquet).
    """

    name: str
    rows: int
    malformed: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    record_lines: np.ndarray | None = None
    has_lines: bool = True

    @property
    def records(self) -> int:
        """Data records the file holds, by its own count: rows read plus malformed records."""
        return self.rows + len(self.malformed)

    def records_of(self, rows: np.ndarray) -> np.ndarray:
        """0-based data-record numbers of 0-based row positions (malformed records skipped)."""
        skipped = self.malformed - np.arange(len(self.malformed))  # row position of each gap
        return rows + np.searchsorted(skipped, rows, side="right")

    def lines_of(self, records: np.ndarray) -> np.ndarray:
        """1-based line numbers of 0-based data-record numbers."""
        return records + 2 if self.record_lines is None else self.record_lines[records]


@dataclass(frozen=True)
class RawTable:
    """A table as read: canonical column names, source values, and where rows came from.

    Attributes
    ----------
    frame : pandas.DataFrame
        The canonical columns found in the source (values as read: text from text files, typed
        cells from spreadsheets and Parquet).
    source : str
        Description of the origin (paths or masked URL).
    files : tuple of SourceFile
        For file sources, each file (or sheet) in the order its rows appear in ``frame``, so a
        row can be traced back to its file, record and line.
    missing_optional : tuple of str
        Optional canonical columns the source does not have.
    notes : tuple of str
        What reading decided that a reader of the report should know (files skipped as empty,
        sheets read or not read, a file read line by line), in the report language.
    """

    frame: pd.DataFrame
    source: str
    files: tuple[SourceFile, ...]
    missing_optional: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def malformed(self) -> int:
        """Records of the source that could not be split into fields (not in ``frame``)."""
        return sum(len(f.malformed) for f in self.files)

    @property
    def read(self) -> int:
        """Records the source holds by its own count: rows of ``frame`` plus malformed records."""
        return len(self.frame) + self.malformed

    def locate(self, positions: pd.Index) -> tuple[pd.Series, pd.Series, pd.Series | None]:
        """File name, 1-based data record number (header excluded) and 1-based line number of
        row positions of ``frame``; the lines are ``None`` for sources without lines."""
        pos = np.asarray(positions, dtype=np.int64)
        if not self.files:
            return pd.Series([self.source] * len(pos)), pd.Series(pos + 1), None
        ends = np.cumsum([f.rows for f in self.files])
        which = np.searchsorted(ends, pos, side="right")
        local = pos - np.concatenate([[0], ends[:-1]])[which]
        records = np.zeros(len(pos), dtype=np.int64)
        lines = np.zeros(len(pos), dtype=np.int64)
        for index, file in enumerate(self.files):
            mine = which == index
            if mine.any():
                records[mine] = file.records_of(local[mine])
                lines[mine] = file.lines_of(records[mine])
        names = np.array([f.name for f in self.files], dtype=object)
        has_lines = all(f.has_lines for f in self.files)
        return (
            pd.Series(names[which]),
            pd.Series(records + 1),
            pd.Series(lines) if has_lines else None,
        )

    def rejected(self, positions: np.ndarray, reasons: np.ndarray) -> pd.DataFrame:
        """The rejected rows as read, and every malformed record, in source order.

        Columns: ``source_file`` (when the source has several files or sheets), ``source_row``
        (1-based data record), ``source_line`` (1-based line or sheet row; text files and
        sheets only), ``rejection_reason``, then the canonical columns as read (empty for a
        malformed record: it could not be split into them).
        """
        files, rows, lines = self.locate(pd.Index(positions))
        bad = self.frame.iloc[positions].reset_index(drop=True)
        # prefixed names: a table may have its own 'reason' or 'row' column (feedback has 'reason')
        bad.insert(0, "rejection_reason", reasons)
        if lines is not None:
            bad.insert(0, "source_line", lines.to_numpy())
        bad.insert(0, "source_row", rows.to_numpy())
        if len(self.files) > 1:
            bad.insert(0, "source_file", files.to_numpy())
        if not self.malformed:
            return bad
        file_of_row = np.searchsorted(np.cumsum([f.rows for f in self.files]), positions, "right")
        malformed = pd.concat(
            [
                pd.DataFrame(
                    {
                        "_file": index,
                        "source_file": file.name,
                        "source_row": file.malformed + 1,
                        "source_line": file.lines_of(file.malformed),
                        "rejection_reason": "malformed_row",
                    }
                )
                for index, file in enumerate(self.files)
                if len(file.malformed)
            ],
            ignore_index=True,
        )
        malformed = malformed[[c for c in malformed.columns if c in bad.columns or c == "_file"]]
        bad = pd.concat([bad.assign(_file=file_of_row), malformed], ignore_index=True)
        bad = bad.sort_values(["_file", "source_row"], kind="stable", ignore_index=True)
        return bad.drop(columns="_file")


def default_cache_dir() -> Path:
    """Folder of the Parquet cache of CSV sources (``$CUSTKIT_CACHE`` or ``~/.cache/custkit``)."""
    return cache.default_cache_dir()


def read_source(spec: SourceSpec, table: Table, cache_dir: Path | None = None) -> RawTable:
    """Read one source into a :class:`RawTable`.

    Parameters
    ----------
    spec : SourceSpec
        Where and how to read.
    table : Table
        The canonical table it maps onto; decides which columns are needed.
    cache_dir : Path, optional
        Folder for the Parquet cache of CSV files; ``None`` uses :func:`default_cache_dir`.

    Raises
    ------
    DataError
        No file matches, a file cannot be read or decoded, every file is empty, or a required
        column is missing (with the close matches found and how to map it in params).
    """
    if spec.url or spec.url_env:
        frame = _read_sql(spec, table)
        return RawTable(frame, spec.description, (), _missing_optional(frame, table))
    files = sorted(glob.glob(os.path.expanduser(spec.path))) if spec.path else []
    if not files:
        raise DataError(
            "no file matches this path.",
            table=table.name,
            file=spec.path,
            hint=f"check sources.{table.name}.path in your params file (relative paths are "
            "relative to the params file's folder).",
        )
    cache_dir = cache_dir or default_cache_dir()
    parts: list[pd.DataFrame] = []
    read: list[SourceFile] = []
    notes: list[str] = []
    empty: list[str] = []
    for file in files:
        for frame, source_file in _read_file(Path(file), spec, table, cache_dir, notes):
            if source_file.records == 0:
                empty.append(source_file.name)
                continue
            parts.append(frame)
            read.append(source_file)
    if not parts:
        raise DataError(
            "the file has no data rows." if len(empty) == 1 else "none of the files has data rows.",
            table=table.name,
            file=spec.path if len(files) > 1 else files[0],
            hint="export the table again, or remove the file from the source's path.",
        )
    if empty:
        notes.append(
            _(
                "files without data rows were skipped: {files}.",
                files=", ".join(Path(name).name for name in empty),
            )
        )
    frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    return RawTable(
        frame=frame,
        source=", ".join(files) if len(files) <= 3 else f"{spec.path} ({len(files)} files)",
        files=tuple(read),
        missing_optional=_missing_optional(frame, table),
        notes=tuple(notes),
    )


def _wanted_columns(header: list[str], spec: SourceSpec, table: Table, file: str) -> dict[str, str]:
    """Map canonical name → source column for the columns present; raise if a required is absent."""
    by_lower = {h.strip().lower(): h for h in header}
    found: dict[str, str] = {}
    for column in table.columns:
        mapped = spec.columns.get(column.name)
        if mapped is not None:
            if mapped in header:
                found[column.name] = mapped
                continue
            raise DataError(
                f"params map '{column.name}' to column '{mapped}', which is not in the file."
                f"{did_you_mean(mapped, header)} Columns found: {_list(header)}.",
                table=table.name,
                file=file,
                column=mapped,
                hint=f"correct sources.{table.name}.columns.{column.name} in your params file.",
            )
        source = by_lower.get(column.name)
        if source is not None:
            found[column.name] = source
        elif column.required:
            raise DataError(
                f"required column '{column.name}' ({column.description}) was not found."
                f"{did_you_mean(column.name, header)} Columns found: {_list(header)}.",
                table=table.name,
                file=file,
                column=column.name,
                hint=f"map it in your params file: sources.{table.name}.columns."
                f'{column.name}: "<your column name>"',
            )
    return found


def _missing_optional(frame: pd.DataFrame, table: Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.columns if not c.required and c.name not in frame.columns)


def _list(header: list[str], limit: int = 20) -> str:
    shown = ", ".join(f"'{h}'" for h in header[:limit])
    return shown + (f" and {len(header) - limit} more" if len(header) > limit else "")


def _read_file(
    file: Path, spec: SourceSpec, table: Table, cache_dir: Path, notes: list[str]
) -> list[tuple[pd.DataFrame, SourceFile]]:
    """The frame(s) one file gives (a workbook may give one per sheet), each with its record."""
    suffix = file.suffix.lower()
    try:
        if suffix in _PARQUET_SUFFIXES:
            return [_read_parquet(file, spec, table)]
        if suffix in _EXCEL_SUFFIXES:
            return _read_workbook(file, spec, table, notes)
        if suffix in _CSV_SUFFIXES or not suffix:
            return [_read_csv_cached(file, spec, table, cache_dir, notes)]
    except DataError:
        raise
    except (OSError, ValueError, ImportError, KeyError, pa.ArrowException) as exc:
        # the type and first line only: a reader's message may quote the data it choked on
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise DataError(
            f"the file could not be read ({type(exc).__name__}{': ' + reason if reason else ''}).",
            table=table.name,
            file=str(file),
            hint="check that it is a complete CSV, Parquet or XLSX export (.xls: save it as "
            ".xlsx).",
        ) from None
    raise DataError(
        f"files ending in '{suffix}' are not supported.",
        table=table.name,
        file=str(file),
        hint="export the table as CSV, Parquet or XLSX.",
    )


def _read_parquet(file: Path, spec: SourceSpec, table: Table) -> tuple[pd.DataFrame, SourceFile]:
    header = pq.read_schema(file).names
    wanted = _wanted_columns(header, spec, table, str(file))
    arrow = _plain_types(pq.read_table(file, columns=list(wanted.values())))
    # self_destruct frees Arrow buffers column by column: peak memory stays near 1x
    frame = arrow.to_pandas(split_blocks=True, self_destruct=True)
    frame = frame.set_axis(list(wanted), axis=1)
    return frame, SourceFile(str(file), len(frame), has_lines=False)


def _read_workbook(
    file: Path, spec: SourceSpec, table: Table, notes: list[str]
) -> list[tuple[pd.DataFrame, SourceFile]]:
    """The chosen sheet(s) of a workbook, cells with their types (numbers, dates, text).

    No ``dtype=str``: a number cell stays a number and a date cell a datetime, so the
    ``decimal`` and ``thousands`` options (meant for text) can never change a typed cell.
    """
    with pd.ExcelFile(file) as book:
        names = [str(name) for name in book.sheet_names]
        chosen = _chosen_sheets(names, spec, table, file)
        if spec.sheet is None and len(names) > 1:
            notes.append(
                _(
                    "the workbook {file} has several sheets; only the first, '{sheet}', was "
                    "read (sheet: all reads every sheet with the same columns). Not read: "
                    "{others}.",
                    file=file.name,
                    sheet=names[0],
                    others=", ".join(f"'{name}'" for name in names[1:]),
                )
            )
        out: list[tuple[pd.DataFrame, SourceFile]] = []
        header: list[str] | None = None
        read: list[str] = []
        different: list[str] = []
        for sheet in chosen:
            frame = pd.read_excel(book, sheet_name=book.sheet_names[names.index(sheet)])
            frame.columns = [str(c) for c in frame.columns]
            if spec.sheet == "all" and header is not None and list(frame.columns) != header:
                different.append(sheet)
                continue
            if spec.sheet == "all" and frame.empty and not len(frame.columns):
                continue  # a blank sheet
            header = header or list(frame.columns)
            name = str(file) if len(names) == 1 or spec.sheet != "all" else f"{file}[{sheet}]"
            wanted = _wanted_columns(list(frame.columns), spec, table, name)
            frame = frame[list(wanted.values())].set_axis(list(wanted), axis=1)
            out.append((frame, SourceFile(name, len(frame))))
            read.append(sheet)
    if spec.sheet == "all":
        notes.append(
            _(
                "sheets of {file} read as one table: {sheets}.",
                file=file.name,
                sheets=", ".join(f"'{name}'" for name in read),
            )
        )
        if different:
            notes.append(
                _(
                    "sheets of {file} not read because their columns differ from the first "
                    "sheet's: {sheets}.",
                    file=file.name,
                    sheets=", ".join(f"'{name}'" for name in different),
                )
            )
    return out


def _chosen_sheets(names: list[str], spec: SourceSpec, table: Table, file: Path) -> list[str]:
    sheet = spec.sheet
    if sheet is None:
        return names[:1]
    if sheet == "all":
        return names
    if isinstance(sheet, int):
        if 0 <= sheet < len(names):
            return [names[sheet]]
        problem = f"there is no sheet number {sheet} (sheets count from 0)"
    elif sheet in names:
        return [sheet]
    else:
        problem = f"there is no sheet '{sheet}'.{did_you_mean(str(sheet), names)}"
    raise DataError(
        f"{problem.rstrip('.')}. Sheets: {_list(names)}.",
        table=table.name,
        file=str(file),
        hint=f"set sources.{table.name}.sheet to a sheet's name, its number from 0, or 'all'.",
    )


def _read_csv_cached(
    file: Path, spec: SourceSpec, table: Table, cache_dir: Path, notes: list[str]
) -> tuple[pd.DataFrame, SourceFile]:
    data, encoding, whole = _ascii_compatible(file, spec, table)
    header, sep = _csv_header(data, encoding, file, spec, table)
    wanted = _wanted_columns(header, spec, table, str(file))
    stat = file.stat()
    key = "|".join(
        map(str, (2, file.resolve(), stat.st_size, stat.st_mtime_ns, spec.encoding, sep, wanted))
    )
    entry = cache_dir / f"{hashlib.sha1(key.encode()).hexdigest()}.parquet"
    hit = cache.read(entry) if entry.exists() else None
    if hit is not None:
        arrow, meta = hit
    else:
        if not whole:
            data = file.read_bytes()  # so far only the head, for the header line
        arrow, meta = _read_csv(data, encoding, sep, header, wanted, file, table)
        del data
        cache.write(entry, arrow, meta)
    malformed = np.asarray(meta["malformed"], dtype=np.int64)
    record_lines = None
    if _LINE_COLUMN in arrow.column_names:
        record_lines = np.empty(arrow.num_rows + len(malformed), dtype=np.int64)
        kept = np.ones(len(record_lines), dtype=bool)
        kept[malformed] = False
        record_lines[kept] = arrow.column(_LINE_COLUMN).to_numpy()
        record_lines[malformed] = meta["malformed_lines"]
        arrow = arrow.drop_columns(_LINE_COLUMN)
    if meta["line_by_line"]:
        lines = np.asarray(meta["malformed_lines"], dtype=np.int64)
        notes.append(
            _(
                "the quoting of {file} is damaged (a quote opens a value and does not close it "
                "where a value ends), so it was read line by line; lines that are not whole "
                "records were set aside ({n:,} in all, the first on line {first:,}).",
                file=file.name,
                n=len(lines),
                first=int(lines[0]) if len(lines) else 0,
            )
        )
    frame = arrow.to_pandas()
    return frame, SourceFile(str(file), len(frame), malformed, record_lines)


#: Column of the cached table holding each row's line number (only for files with gaps or
#: multi-line values, where the line does not follow from the row number).
_LINE_COLUMN = "__custkit_line"


def _read_csv(
    data: bytes,
    encoding: str,
    sep: str,
    header: list[str],
    wanted: dict[str, str],
    file: Path,
    table: Table,
) -> tuple[pa.Table, dict]:
    """Read CSV bytes with pyarrow, checked against the file's own record count.

    Records that cannot be split into the header's columns are cut out first
    (:func:`~custkit.data.records.scan_records`); then every remaining record must come back as
    exactly one row, or the file is refused rather than read with rows missing.
    """
    lines = data_lines(data)
    try:
        arrow, invalid = _arrow_csv(data, encoding, sep, list(wanted.values()), False, file, table)
    except _ParseError:
        arrow, invalid = None, 1  # a quoted value spans blocks: counted below
    if arrow is not None and not invalid and arrow.num_rows == len(lines):
        # every non-empty line is one record (the common case: no record count needed)
        malformed = np.array([], dtype=np.int64)
        record_lines, line_by_line = lines, False
    else:
        # quoted values span lines, a quote swallowed lines, or records have too many or too
        # few fields: count the records from the bytes and cut out those that cannot be read
        del arrow
        scan = scan_records(data, sep.encode("ascii"))
        if scan.fields != len(header):
            raise DataError(
                f"the header line has {len(header)} columns by one count and {scan.fields} by "
                "another (a quote in the header?).",
                table=table.name,
                file=str(file),
                hint="export the file again with plain column names.",
            )
        body = scan.keep if scan.keep is not None else data
        arrow, invalid = _arrow_csv(
            body, encoding, sep, list(wanted.values()), scan.multiline, file, table
        )
        expected = scan.records - len(scan.malformed)
        if invalid or arrow.num_rows != expected:
            raise DataError(
                f"the file holds {scan.records:,} records by custkit's count "
                f"({len(scan.malformed):,} of them malformed), but the CSV reader split the rest "
                f"into {arrow.num_rows:,} rows"
                f"{f' and {invalid:,} malformed ones' if invalid else ''}. Nothing was read "
                "rather than some rows lost.",
                table=table.name,
                file=str(file),
                hint="check the separator (sources.<table>.sep) and the quotes in the file, or "
                "export it again with every text value in quotes.",
            )
        malformed, record_lines, line_by_line = scan.malformed, scan.lines, scan.line_by_line
    arrow = arrow.rename_columns(list(wanted))
    if len(record_lines) and (record_lines[0] != 2 or record_lines[-1] != len(record_lines) + 1):
        kept = np.delete(record_lines, malformed)
        arrow = arrow.append_column(_LINE_COLUMN, pa.array(kept, pa.int64()))
    meta = {
        "malformed": malformed.tolist(),
        "malformed_lines": record_lines[malformed].tolist(),
        "line_by_line": line_by_line,
    }
    return arrow, meta


def _arrow_csv(
    data: bytes,
    encoding: str,
    sep: str,
    columns: list[str],
    multiline: bool,
    file: Path,
    table: Table,
) -> tuple[pa.Table, int]:
    """The wanted columns of CSV bytes as text, and how many records pyarrow could not split."""
    invalid = [0]

    def count_invalid(row: pacsv.InvalidRow) -> str:  # never keep row.text: it holds the data
        invalid[0] += 1
        return "skip"

    try:
        arrow = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(encoding=encoding, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                delimiter=sep, newlines_in_values=multiline, invalid_row_handler=count_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=columns,
                column_types={c: pa.string() for c in columns},
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, UnicodeError) as exc:
        error = _csv_error(exc, encoding, file, table)
        raise error from None
    return arrow, invalid[0]


class _ParseError(DataError):
    """pyarrow could not parse the records (not an encoding problem)."""


def _csv_error(exc: Exception, encoding: str, file: Path, table: Table) -> DataError:
    """A DataError for a pyarrow CSV failure that never quotes the row it failed on."""
    message = str(exc)
    if "UTF8" in message or "utf-8" in message.lower() or isinstance(exc, UnicodeError):
        return DataError(
            f"the file is not valid '{encoding}' text.",
            table=table.name,
            file=str(file),
            hint=f"set sources.{table.name}.encoding in your params file; exports from Russian "
            "store systems are often 'cp1251'.",
        )
    counts = re.search(r"Expected \d+ columns?, got \d+", message)
    return _ParseError(
        "the file could not be parsed as CSV"
        + (f" ({counts.group(0).lower()} in a record)." if counts else "."),
        table=table.name,
        file=str(file),
        hint="check the separator (sources.<table>.sep) and that the export is complete.",
    )


def _ascii_compatible(file: Path, spec: SourceSpec, table: Table) -> tuple[bytes, str, bool]:
    """The head of *file* (or all of it) in an encoding whose separators, quotes and line breaks
    are single ASCII bytes, that encoding, and whether the bytes are the whole file.

    Exports in such an encoding (UTF-8, cp1251, KOI8-R, Latin-1 …) are left as they are, and
    only their first megabyte is read here (enough for the header; the rest is read when the
    cache has no copy). Others (UTF-16 from Excel's "Unicode text", UTF-32) are read whole and
    converted to UTF-8, so that records can be counted from bytes.
    """
    probe = '\n\r",;\t|'
    encoding = spec.encoding
    if probe.encode(encoding) == probe.encode("ascii"):
        with open(file, "rb") as fh:
            head = fh.read(1 << 20)
        return head, encoding, len(head) < 1 << 20
    try:
        return file.read_bytes().decode(encoding).encode("utf-8"), "utf-8", True
    except UnicodeDecodeError as exc:
        raise DataError(
            f"the file is not in the '{encoding}' encoding ({exc.reason} at byte {exc.start}).",
            table=table.name,
            file=str(file),
            hint=f"set sources.{table.name}.encoding in your params file.",
        ) from None


def _csv_header(
    data: bytes, encoding: str, file: Path, spec: SourceSpec, table: Table
) -> tuple[list[str], str]:
    end = data.find(b"\n", 0, 1 << 20)
    first = data[: end if end >= 0 else 1 << 20]
    if not first.strip():
        raise DataError(
            "the file is empty.", table=table.name, file=str(file), hint="export it again."
        )
    try:
        line = first.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"the file is not in the '{encoding}' encoding ({exc.reason} at byte "
            f"{exc.start} of the header line).",
            table=table.name,
            file=str(file),
            hint=f"set sources.{table.name}.encoding in your params file; exports from Russian "
            "store systems are often 'cp1251'.",
        ) from None
    line = line.lstrip("\ufeff").rstrip("\r")
    sep = spec.sep or (";" if ";" in line and "," not in line else ",")
    if file.suffix.lower() == ".tsv" and not spec.sep:
        sep = "\t"
    columns = [str(c) for c in pd.read_csv(io.StringIO(line), sep=sep, nrows=0).columns]
    return columns, sep


def _read_sql(spec: SourceSpec, table: Table) -> pd.DataFrame:
    """Read a database source in chunks into a frame of the wanted canonical columns."""
    import sqlalchemy as sa

    url = spec.database_url()
    try:
        engine = sa.create_engine(url, hide_parameters=True)  # errors never quote bound values
    except ImportError as exc:
        raise DataError(
            f"the database driver for '{url.drivername}' URLs is not installed ({exc.name}).",
            table=table.name,
            file=spec.description,
            hint=f"install the Python package '{exc.name}' (for postgresql+psycopg URLs: "
            "pip install 'custkit[postgres]').",
        ) from None
    except sa.exc.SQLAlchemyError as exc:
        raise _database_error(exc, url, spec, table) from None
    try:
        with engine.connect() as conn:
            statement = sa.text(spec.query) if spec.query else _table_select(conn, spec, table)
            # a server-side cursor: the database sends SQL_CHUNK_ROWS rows per fetch
            streaming = conn.execution_options(stream_results=True, yield_per=SQL_CHUNK_ROWS)
            result = streaming.execute(statement)
            header = [str(key) for key in result.keys()]
            wanted = _wanted_columns(header, spec, table, spec.description)
            positions = [header.index(name) for name in wanted.values()]
            chunks = [_arrow_chunk(rows, positions, list(wanted)) for rows in result.partitions()]
    except DataError:
        raise
    except sa.exc.NoSuchTableError:
        raise _no_such_table(engine, spec, table) from None
    except (sa.exc.SQLAlchemyError, OSError, ValueError, TypeError, pa.ArrowException) as exc:
        # from None: the driver's exception may quote the connection string, and a traceback
        # (a notebook shows one) prints every chained exception
        raise _database_error(exc, url, spec, table) from None
    finally:
        engine.dispose()
    if not chunks:
        raise DataError(
            "the query returned no rows.",
            table=table.name,
            file=spec.description,
            hint=f"check sources.{table.name}.query or .table in your params file.",
        )
    arrow = _plain_types(pa.concat_tables(chunks, promote_options="permissive"))
    # self_destruct frees Arrow buffers column by column: peak memory stays near 1x
    return arrow.to_pandas(split_blocks=True, self_destruct=True)


def _table_select(conn: Connection, spec: SourceSpec, table: Table) -> Select:
    """SELECT of only the wanted columns of ``spec.sql_table`` (``schema.table`` allowed)."""
    import sqlalchemy as sa

    schema, _, name = str(spec.sql_table).rpartition(".")
    header = [str(c["name"]) for c in sa.inspect(conn).get_columns(name, schema=schema or None)]
    wanted = _wanted_columns(header, spec, table, spec.description)
    columns = [sa.column(source) for source in wanted.values()]
    return sa.select(*columns).select_from(sa.table(name, schema=schema or None))


def _no_such_table(engine: Engine, spec: SourceSpec, table: Table) -> DataError:
    import sqlalchemy as sa

    schema, _, name = str(spec.sql_table).rpartition(".")
    try:
        existing = sa.inspect(engine).get_table_names(schema=schema or None)
    except sa.exc.SQLAlchemyError:
        existing = []
    return DataError(
        f"there is no table '{spec.sql_table}' in the database.{did_you_mean(name, existing)}"
        + (f" Tables found: {_list(existing)}." if existing else ""),
        table=table.name,
        file=spec.description,
        hint=f"correct sources.{table.name}.table in your params file.",
    )


def _arrow_chunk(rows: Sequence[Sequence], positions: list[int], names: list[str]) -> pa.Table:
    """One fetched chunk of rows (never empty) as an Arrow table of the wanted columns."""
    columns = list(zip(*rows, strict=True))
    arrays = []
    for position in positions:
        values = columns[position]
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            # types Arrow does not know (UUID, JSON, network addresses): keep them as text
            arrays.append(pa.array([None if v is None else str(v) for v in values], pa.string()))
    return pa.table(arrays, names=names)


def _plain_types(arrow: pa.Table) -> pa.Table:
    """Database and Parquet types as custkit reads them: decimals as floats (pandas would give
    Python ``Decimal`` objects, read back from text, where a decimal option could change them),
    dates as timestamps.

    Time-zone-aware timestamps stay aware: validation converts them to ``store.timezone``, like
    offsets in files, whatever time zone the database session has.
    """
    for index, column_field in enumerate(arrow.schema):
        column = arrow.column(index)
        if pa.types.is_decimal(column_field.type):
            column = column.cast(pa.float64())
        elif pa.types.is_date(column_field.type):
            column = column.cast(pa.timestamp("s"))
        else:
            continue
        arrow = arrow.set_column(index, column_field.name, column)
    return arrow


def _database_error(exc: Exception, url: URL, spec: SourceSpec, table: Table) -> DataError:
    text = str(exc).strip()
    message = _masked(text.splitlines()[0] if text else type(exc).__name__, url)
    return DataError(
        f"the database could not be read: {message}",
        table=table.name,
        file=spec.description,
        hint=f"check sources.{table.name} in your params file (url, query or table) and the "
        "credentials in the environment variable it names.",
    )


def _masked(text: str, url: URL) -> str:
    """*text* with the password of *url*, in every spelling a message could use, as ``***``."""
    from urllib.parse import quote, quote_plus

    secrets = {url.render_as_string(hide_password=False): mask_url(url)}
    if url.password:
        password = str(url.password)
        secrets.update(
            dict.fromkeys({password, quote(password, safe=""), quote_plus(password)}, "***")
        )
    for secret, shown in sorted(secrets.items(), key=lambda item: -len(item[0])):
        text = text.replace(secret, shown)
    return text
