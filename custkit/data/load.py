"""Loading a store: read every source named in params, validate, and account for every row."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import pandas as pd

from custkit.data.contract import TABLES, Table
from custkit.data.readers import RawTable, read_source
from custkit.data.store import Store, TableAccounting
from custkit.data.validate import REASONS, validate_table
from custkit.exports import CsvDialect, ExportSettings, write_csv
from custkit.i18n import _

if TYPE_CHECKING:
    from custkit.params import Params


def load_store(
    params: Params | str | os.PathLike[str],
    *,
    tables: Iterable[str] | Mapping[str, Iterable[str] | None] | None = None,
    today: pd.Timestamp | str | None = None,
    cache_dir: Path | None = None,
) -> Store:
    """Load, map and validate a store's data.

    Parameters
    ----------
    params : Params or path-like
        A params file (see :mod:`custkit.params`) or its parsed form.
    tables : iterable of str, or mapping of str to columns, optional
        Load only these tables (``orders`` is always loaded); default: every source in params.
        A mapping also names, per table, the optional columns to read (``None``: all), e.g.
        ``{"orders": ["status", "cost"], "customers": None}``: required columns are always read.
    today : Timestamp or str, optional
        Rows dated after this day are rejected as in the future. Default: the current date.
    cache_dir : Path, optional
        Parquet cache folder for CSV sources (default ``~/.cache/custkit``).

    Returns
    -------
    Store
        Accepted rows in the canonical model, with ``accounting`` (read = accepted + rejected,
        counts per reason) and the ``rejected`` rows themselves.

    Raises
    ------
    ParamsError
        The params file is wrong.
    DataError
        A source cannot be used at all (file missing, unreadable, empty, wrong encoding, required
        column missing).

    Examples
    --------
    >>> store = load_store("params/demo.yaml")  # doctest: +SKIP
    >>> store.accounting["orders"].rejected  # doctest: +SKIP
    57
    """
    from custkit.params import load_params  # params imports the contract from this package

    params = load_params(params)
    if tables is None:
        tables = dict.fromkeys(params.sources)
    elif not isinstance(tables, Mapping):
        tables = dict.fromkeys(tables)
    wanted = {"orders": None, **tables}
    frames: dict[str, pd.DataFrame | None] = dict.fromkeys(TABLES)
    accounting: dict[str, TableAccounting] = {}
    rejected: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        if name not in wanted or name not in params.sources:
            continue
        contract = TABLES[name].select(wanted[name])
        raw = read_source(params.sources[name], contract, cache_dir=cache_dir)
        frame, acc, bad = _validate(raw, contract, params, today)
        frames[name], accounting[name], rejected[name] = frame, acc, bad

    _note_unknown_customers(frames, accounting)
    return Store(
        name=params.store_name,
        orders=frames["orders"],
        customers=frames["customers"],
        feedback=frames["feedback"],
        messages=frames["messages"],
        experiments=frames["experiments"],
        accounting=MappingProxyType(accounting),
        rejected=MappingProxyType(rejected),
        params=params,
    )


def _validate(
    raw: RawTable, table: Table, params: Params, today
) -> tuple[pd.DataFrame, TableAccounting, pd.DataFrame]:
    name = table.name
    result = validate_table(
        raw.frame, table, params.sources[name], opened=params.opened, today=today
    )
    accepted = result.accepted
    for column in table.columns:
        # ids are complete after validation: use plain int64 where the ids are whole numbers
        if column.kind == "id" and column.required and accepted[column.name].dtype == "Int64":
            accepted[column.name] = accepted[column.name].astype("int64")
    # rejected rows and records that could not be split into fields, in source order
    bad = raw.rejected(result.rejected_positions, result.rejected_reasons)
    reasons = dict(result.reason_counts)
    if raw.malformed:
        reasons = dict(
            sorted({**reasons, "malformed_row": raw.malformed}.items(), key=lambda x: -x[1])
        )
    notes = [*raw.notes, *result.notes]
    if raw.missing_optional:
        notes.append(
            _(
                "optional columns not in the data (sections using them are skipped): {columns}.",
                columns=", ".join(raw.missing_optional),
            )
        )
    accounting = TableAccounting(
        table=name,
        source=raw.source,
        read=raw.read,  # the source's own record count, malformed records included
        accepted=len(accepted),
        rejected=len(bad),
        reasons=MappingProxyType(reasons),
        notes=tuple(notes),
    )
    return accepted, accounting, bad


def _note_unknown_customers(frames: dict, accounting: dict[str, TableAccounting]) -> None:
    """Count orders whose customer is missing from the customers table (kept, but worth a look)."""
    orders, customers = frames.get("orders"), frames.get("customers")
    if orders is None or customers is None:
        return
    known = pd.Index(customers["customer_id"].unique())
    ids = orders["customer_id"]
    if ids.dtype != known.dtype:
        ids, known = ids.astype("str"), known.astype("str")
    unknown = ~ids.isin(known)
    if unknown.any():
        n_orders, n_customers = int(unknown.sum()), int(ids[unknown].nunique())
        acc = accounting["orders"]
        accounting["orders"] = TableAccounting(
            **{
                **acc.__dict__,
                "notes": (
                    *acc.notes,
                    _(
                        "{orders:,} orders of {customers:,} customers not in the customers table "
                        "(kept; reports treat them as customers with unknown details).",
                        orders=n_orders,
                        customers=n_customers,
                    ),
                ),
            }
        )


def write_quarantine(
    store: Store, out_dir: str | os.PathLike[str], dialect: CsvDialect | None = None
) -> dict[str, Path]:
    """Write each table's rejected rows to ``<out_dir>/<table>.csv`` (UTF-8 with BOM).

    Columns: ``source_row`` (1-based data row in the source file; ``source_file`` too when the
    source had several files), ``rejection_reason`` (a code from
    :data:`custkit.data.validate.REASONS`), ``rejection_explanation``, then the row as read.
    Tables with no rejected rows get no file. Written like the reports' exports
    (:mod:`custkit.exports`): formula-like text neutralised, the CSV dialect of the store's
    params (``;`` and decimal comma for ``language: ru``); the values are not rounded or
    reformatted, as they are evidence of what the source held.

    Parameters
    ----------
    store : Store
    out_dir : path-like
    dialect : CsvDialect, optional
        Default: the one the store's params ask for.

    Returns
    -------
    dict
        Table name → path of the written file.
    """
    dialect = dialect or ExportSettings.from_params(store.params).dialect
    out = Path(out_dir)
    written: dict[str, Path] = {}
    for name, bad in store.rejected.items():
        if bad.empty:
            continue
        frame = bad.copy()
        frame.insert(
            frame.columns.get_loc("rejection_reason") + 1,
            "rejection_explanation",
            frame["rejection_reason"].map(REASONS),
        )
        written[name] = write_csv(frame, out / f"{name}.csv", dialect)
    return written
