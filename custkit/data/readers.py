"""Reading a source (files or a database) into a raw frame with canonical column names.

Reading is kept apart from parsing and validation (:mod:`custkit.data.validate`): text files are
read with every column as text, so a bad value can be quarantined as the store wrote it.

CSV files are read with pyarrow's multi-threaded reader (about twice as fast as pandas' default)
and cached once as Parquet, keyed by the file's path, size, modification time and the reading
options, so the next run reads the cache (about ten times faster than the CSV; see shared/README).
"""

from __future__ import annotations

import glob
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from custkit.data.contract import Table
from custkit.errors import DataError, did_you_mean

if TYPE_CHECKING:
    from custkit.params import SourceSpec

_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}


@dataclass(frozen=True)
class RawTable:
    """A table as read: canonical column names, source values, and where rows came from.

    Attributes
    ----------
    frame : pandas.DataFrame
        The canonical columns found in the source (values as read; text files give text).
    source : str
        Description of the origin (paths or masked URL).
    files : tuple of (str, int)
        For file sources, each file with its row count, in the order the rows appear in
        ``frame``, so a row position can be traced back to a file and line.
    missing_optional : tuple of str
        Optional canonical columns the source does not have.
    """

    frame: pd.DataFrame
    source: str
    files: tuple[tuple[str, int], ...]
    missing_optional: tuple[str, ...]

    def locate(self, positions: pd.Index) -> tuple[pd.Series, pd.Series]:
        """File name and 1-based data row number (header excluded) for row positions."""
        import numpy as np

        pos = np.asarray(positions, dtype=np.int64)
        if not self.files:
            return pd.Series([self.source] * len(pos)), pd.Series(pos + 1)
        ends = np.cumsum([n for _, n in self.files])
        which = np.searchsorted(ends, pos, side="right")
        starts = np.concatenate([[0], ends[:-1]])
        names = np.array([name for name, _ in self.files], dtype=object)
        return pd.Series(names[which]), pd.Series(pos - starts[which] + 1)


def default_cache_dir() -> Path:
    """Folder of the Parquet cache of CSV sources (``$CUSTKIT_CACHE`` or ``~/.cache/custkit``)."""
    env = os.environ.get("CUSTKIT_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "custkit"


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
        No file matches, a file cannot be read or decoded, it is empty, or a required column is
        missing (with the close matches found and how to map it in params).
    """
    if spec.url:
        frame = _read_sql(spec)
        return _select_columns(frame, spec, table, spec.description, files=())
    files = sorted(glob.glob(os.path.expanduser(spec.path))) if spec.path else []
    if not files:
        raise DataError(
            "no file matches this path.",
            table=table.name,
            file=spec.path,
            hint=f"check sources.{table.name}.path in your params file (relative paths are "
            "relative to the params file's folder).",
        )
    cache = cache_dir or default_cache_dir()
    parts, counts = [], []
    for file in files:
        frame = _read_file(Path(file), spec, table, cache)
        if frame.empty:
            raise DataError(
                "the file has no data rows.",
                table=table.name,
                file=file,
                hint="export the table again, or remove the file from the source's path.",
            )
        parts.append(frame)
        counts.append(len(frame))
    frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    return RawTable(
        frame=frame,
        source=", ".join(files) if len(files) <= 3 else f"{spec.path} ({len(files)} files)",
        files=tuple(zip(files, counts, strict=True)),
        missing_optional=_missing_optional(frame, table),
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


def _select_columns(
    frame: pd.DataFrame, spec: SourceSpec, table: Table, source: str, files: tuple
) -> RawTable:
    wanted = _wanted_columns([str(c) for c in frame.columns], spec, table, source)
    frame = frame[list(wanted.values())].set_axis(list(wanted), axis=1)
    return RawTable(frame, source, files, _missing_optional(frame, table))


def _missing_optional(frame: pd.DataFrame, table: Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.columns if not c.required and c.name not in frame.columns)


def _list(header: list[str], limit: int = 20) -> str:
    shown = ", ".join(f"'{h}'" for h in header[:limit])
    return shown + (f" and {len(header) - limit} more" if len(header) > limit else "")


def _read_file(file: Path, spec: SourceSpec, table: Table, cache_dir: Path) -> pd.DataFrame:
    suffix = file.suffix.lower()
    try:
        if suffix in _PARQUET_SUFFIXES:
            header = pq.read_schema(file).names
            wanted = _wanted_columns(header, spec, table, str(file))
            arrow = pq.read_table(file, columns=list(wanted.values()))
            # self_destruct frees Arrow buffers column by column: peak memory stays near 1x
            frame = arrow.to_pandas(split_blocks=True, self_destruct=True)
            return frame.set_axis(list(wanted), axis=1)
        if suffix in _EXCEL_SUFFIXES:
            frame = pd.read_excel(file, sheet_name=spec.sheet, dtype=str)
            frame.columns = [str(c) for c in frame.columns]
            wanted = _wanted_columns(list(frame.columns), spec, table, str(file))
            return frame[list(wanted.values())].set_axis(list(wanted), axis=1)
        if suffix in _CSV_SUFFIXES or not suffix:
            return _read_csv_cached(file, spec, table, cache_dir)
    except DataError:
        raise
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise DataError(
            f"the file could not be read: {exc}",
            table=table.name,
            file=str(file),
            hint="check that it is a complete CSV, Parquet or XLSX export.",
        ) from exc
    raise DataError(
        f"files ending in '{suffix}' are not supported.",
        table=table.name,
        file=str(file),
        hint="export the table as CSV, Parquet or XLSX.",
    )


def _csv_header(file: Path, spec: SourceSpec, table: Table) -> tuple[list[str], str]:
    with open(file, "rb") as fh:
        first = fh.readline(1 << 20)
    if not first.strip():
        raise DataError(
            "the file is empty.", table=table.name, file=str(file), hint="export it again."
        )
    try:
        line = first.decode(spec.encoding)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"the file is not in the '{spec.encoding}' encoding ({exc.reason} at byte "
            f"{exc.start} of the header line).",
            table=table.name,
            file=str(file),
            hint=f"set sources.{table.name}.encoding in your params file; exports from Russian "
            "store systems are often 'cp1251'.",
        ) from exc
    line = line.lstrip("\ufeff")
    sep = spec.sep or (";" if ";" in line and "," not in line else ",")
    if file.suffix.lower() == ".tsv" and not spec.sep:
        sep = "\t"
    columns = [str(c) for c in pd.read_csv(io.StringIO(line), sep=sep, nrows=0).columns]
    return columns, sep


def _read_csv_cached(file: Path, spec: SourceSpec, table: Table, cache_dir: Path) -> pd.DataFrame:
    header, sep = _csv_header(file, spec, table)
    wanted = _wanted_columns(header, spec, table, str(file))
    stat = file.stat()
    key = "|".join(
        map(str, (file.resolve(), stat.st_size, stat.st_mtime_ns, spec.encoding, sep, wanted))
    )
    cached = cache_dir / f"{hashlib.sha1(key.encode()).hexdigest()}.parquet"
    if cached.exists():
        try:
            return pq.read_table(cached).to_pandas()
        except (OSError, pa.ArrowException):
            cached.unlink(missing_ok=True)  # a damaged cache entry is rebuilt below
    columns = list(wanted.values())
    try:
        arrow = pacsv.read_csv(
            file,
            read_options=pacsv.ReadOptions(encoding=spec.encoding, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=sep),
            convert_options=pacsv.ConvertOptions(
                include_columns=columns,
                column_types={c: pa.string() for c in columns},
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, UnicodeError) as exc:
        message = str(exc)
        hint = "check the separator (sources.<table>.sep) and that the export is complete."
        if "UTF8" in message or "utf-8" in message.lower() or isinstance(exc, UnicodeError):
            hint = (
                f"set sources.{table.name}.encoding in your params file (now "
                f"'{spec.encoding}'); exports from Russian store systems are often 'cp1251'."
            )
        raise DataError(
            f"the file could not be parsed as CSV: {message.splitlines()[0]}",
            table=table.name,
            file=str(file),
            hint=hint,
        ) from exc
    arrow = arrow.rename_columns(list(wanted))
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".tmp{os.getpid()}")
    pq.write_table(arrow, tmp)
    os.replace(tmp, cached)
    return arrow.to_pandas()


def _read_sql(spec: SourceSpec) -> pd.DataFrame:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(spec.url)
        with engine.connect() as conn:
            if spec.query:
                return pd.read_sql_query(sa.text(spec.query), conn)
            return pd.read_sql_table(spec.sql_table, conn)
    except (sa.exc.SQLAlchemyError, ValueError) as exc:
        raise DataError(
            f"the database query failed: {str(exc).splitlines()[0]}",
            table=spec.table,
            file=spec.description,
            hint=f"check sources.{spec.table}.url and its query/table in your params file.",
        ) from exc
