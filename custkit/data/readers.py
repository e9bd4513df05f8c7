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
    """Database types as custkit reads them: decimals as floats, dates as timestamps.

    Time-zone-aware timestamps become the wall-clock time of their zone (the database session's
    time zone), the way the store's staff see them.
    """
    import pyarrow.compute as pc

    for index, field in enumerate(arrow.schema):
        column = arrow.column(index)
        if pa.types.is_decimal(field.type):
            column = column.cast(pa.float64())
        elif pa.types.is_date(field.type):
            column = column.cast(pa.timestamp("s"))
        elif pa.types.is_timestamp(field.type) and field.type.tz is not None:
            column = pc.local_timestamp(column)
        else:
            continue
        arrow = arrow.set_column(index, field.name, column)
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

    from custkit.params import mask_url

    secrets = {url.render_as_string(hide_password=False): mask_url(url)}
    if url.password:
        password = str(url.password)
        secrets.update(
            dict.fromkeys({password, quote(password, safe=""), quote_plus(password)}, "***")
        )
    for secret, shown in sorted(secrets.items(), key=lambda item: -len(item[0])):
        text = text.replace(secret, shown)
    return text
