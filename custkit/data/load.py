"""Loading a store: read every source named in params, validate, and account for every row.

After each table is validated on its own, :func:`load_store` gives ``customer_id`` (and
``referrer_id``, which names a customer) one type in every table, so every join works, and says
loudly when orders and customers barely join.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from custkit.contract import TABLES, Table
from custkit.data.readers import RawTable, read_source
from custkit.data.store import Store, TableAccounting
from custkit.data.validate import REASONS, validate_table
from custkit.exports import CsvDialect, ExportSettings, write_csv
from custkit.i18n import _, get_language, use_language
from custkit.params import Params, load_params

#: Below this share of the orders' customers found in the customers table, loading warns.
MIN_JOINED_SHARE = 0.5
#: Columns holding a customer id, per table (referrer_id names the customer who referred).
CUSTOMER_ID_COLUMNS = {
    "orders": ("customer_id",),
    "customers": ("customer_id", "referrer_id"),
    "feedback": ("customer_id",),
    "messages": ("customer_id",),
    "experiments": ("customer_id",),
}


class JoinWarning(UserWarning):
    """Orders and customers barely join: their customer ids likely name different things."""


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

    _harmonise_customer_ids(frames)
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
        raw.frame,
        table,
        params.sources[name],
        opened=params.opened,
        today=today,
        timezone=params.timezone,
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


def _harmonise_customer_ids(frames: dict[str, pd.DataFrame | None]) -> None:
    """Give every customer id column one type: int64 when all are whole numbers, else text.

    Each table's ids are parsed on their own (:func:`custkit.data.validate.parse_column`), so one
    table may hold whole numbers and another text (``C-17`` beside ``123``). Whole numbers are
    then written as text the way the parser writes whole-number ids (``123``, never ``00123``),
    so equal ids stay equal across tables.
    """
    columns = [
        (name, column)
        for name, names in CUSTOMER_ID_COLUMNS.items()
        if frames.get(name) is not None
        for column in names
        if column in frames[name]
    ]
    if all(pd.api.types.is_integer_dtype(frames[n][c].dtype) for n, c in columns):
        return
    for name, column in columns:
        ids = frames[name][column]
        if pd.api.types.is_integer_dtype(ids.dtype):
            frames[name][column] = _ids_as_text(ids)


def _ids_as_text(ids: pd.Series) -> pd.Series:
    """Whole-number ids (int64 or Int64) as text, missing ids kept missing."""
    array = pa.array(ids, from_pandas=True)
    text = pc.cast(array, pa.large_string())
    return pd.Series(text.to_pandas(), index=ids.index).astype("str")


def _note_unknown_customers(frames: dict, accounting: dict[str, TableAccounting]) -> None:
    """Count orders whose customer is missing from the customers table (kept, but worth a look);
    warn loudly, with the likely cause, when most of the orders' customers are missing."""
    orders, customers = frames.get("orders"), frames.get("customers")
    if orders is None or customers is None:
        return
    known = pd.Index(customers["customer_id"].unique())
    ids = orders["customer_id"]
    unknown = ~ids.isin(known).to_numpy()
    if not unknown.any():
        return
    n_orders, n_customers = int(unknown.sum()), int(ids[unknown].nunique())
    notes = [
        _(
            "{orders:,} orders of {customers:,} customers not in the customers table "
            "(kept; reports treat them as customers with unknown details).",
            orders=n_orders,
            customers=n_customers,
        )
    ]
    distinct = int(ids.nunique())
    found = 1 - n_customers / distinct if distinct else 1.0
    if len(known) and found < MIN_JOINED_SHARE:
        cause = _join_cause(ids.unique(), known)
        notes.append(
            _(
                "Warning: only {share:.0%} of the orders' customers are in the customers table, "
                "so most orders cannot be joined to their customer. Likely cause: {cause} Check "
                "that sources.orders.columns.customer_id and sources.customers.columns."
                "customer_id name the same identifier.",
                share=found,
                cause=cause,
            )
        )
        warnings.warn(
            f"only {found:.0%} of the orders' customers ({distinct - n_customers:,} of "
            f"{distinct:,}) are in the customers table. Likely cause: {cause} Check that "
            "sources.orders.columns.customer_id and sources.customers.columns.customer_id name "
            "the same identifier.",
            JoinWarning,
            stacklevel=3,
        )
    acc = accounting["orders"]
    accounting["orders"] = TableAccounting(**{**acc.__dict__, "notes": (*acc.notes, *notes)})


def _join_cause(missing: np.ndarray, known: pd.Index) -> str:
    """The likely reason why the orders' customer ids (*missing*, distinct) are mostly not among
    the customers' (*known*), in words: shapes and ranges of the ids, never the ids themselves
    (they may be e-mail addresses)."""
    order_shape, customer_shape = _id_shape(pd.Series(missing)), _id_shape(known.to_series())
    numeric_orders = pd.api.types.is_integer_dtype(missing.dtype) or order_shape == "9"
    numeric_customers = pd.api.types.is_integer_dtype(known.dtype) or customer_shape == "9"
    o_ids = pd.to_numeric(pd.Series(missing), errors="coerce") if numeric_orders else None
    c_ids = pd.to_numeric(known.to_series(), errors="coerce") if numeric_customers else None
    if (
        o_ids is not None
        and c_ids is not None
        and (o_ids.max() < c_ids.min() or c_ids.max() < o_ids.min())
    ):
        return _(
            "the ids are numbers in different ranges (orders {o_low:,}–{o_high:,}, customers "
            "{c_low:,}–{c_high:,}): the two exports may number customers differently (e.g. a "
            "card number in one, a client code in the other).",
            o_low=int(o_ids.min()),
            o_high=int(o_ids.max()),
            c_low=int(c_ids.min()),
            c_high=int(c_ids.max()),
        )
    if order_shape != customer_shape:
        return _(
            "the ids are written differently: orders' look like '{orders}', customers' like "
            "'{customers}' (A stands for a letter, 9 for a digit).",
            orders=order_shape,
            customers=customer_shape,
        )
    return _(
        "the ids look alike ('{shape}': A stands for a letter, 9 for a digit) but differ: the "
        "customers export may be older or from another store.",
        shape=order_shape,
    )


def _id_shape(ids: pd.Series, sample: int = 10_000) -> str:
    """The most common shape of *ids*: letters as ``A``, digit runs as ``9`` (``C-00017`` →
    ``A-9``), or ``9`` for whole numbers."""
    ids = ids.dropna()
    if pd.api.types.is_integer_dtype(ids.dtype):
        return "9"
    text = ids.iloc[:sample].astype("str")
    shapes = text.str.replace(r"[^\W\d_]+", "A", regex=True).str.replace(r"\d+", "9", regex=True)
    return str(shapes.str.slice(0, 30).mode().iloc[0]) if len(shapes) else ""


def write_quarantine(
    store: Store, out_dir: str | os.PathLike[str], dialect: CsvDialect | None = None
) -> dict[str, Path]:
    """Write each table's rejected rows to ``<out_dir>/<table>.csv`` (UTF-8 with BOM).

    Columns: ``source_row`` (1-based data row in the source file; ``source_file`` too when the
    source had several files), ``rejection_reason`` (a code from
    :data:`custkit.data.validate.REASONS`), ``rejection_explanation`` (in the params' report
    language), then the row as read.
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
    # people read the explanation: in the params' report language (the codes stay as they are)
    with use_language(getattr(store.params, "language", None) or get_language()):
        explanations = {code: _(text) for code, text in REASONS.items()}
    for name, bad in store.rejected.items():
        if bad.empty:
            continue
        frame = bad.copy()
        frame.insert(
            frame.columns.get_loc("rejection_reason") + 1,
            "rejection_explanation",
            frame["rejection_reason"].map(explanations),
        )
        written[name] = write_csv(frame, out / f"{name}.csv", dialect)
    return written
