"""The customer cards export: the whole customer-state table for a CRM import.

``exports/customer_cards.csv`` is written by :func:`custkit.exports.write_csv` under the
project's CSV rules (dialect by report language, rounding, formula-like text neutralised);
``exports/customer_cards.parquet`` keeps the same rows, columns and (rounded) values with their
types, for tools that read Parquet. No XLSX: the table has a row per customer, more than Excel
holds on large stores. The table has no contact data; a CRM joins it to its own by
``customer_id``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from custkit.exports import ExportSettings, WrittenExport, prepare_export, write_csv

__all__ = ["CARDS_EXPORT", "write_customer_cards"]

#: File name (without suffix) of the export.
CARDS_EXPORT = "customer_cards"


def write_customer_cards(
    folder: str | os.PathLike[str], table: pd.DataFrame, params: Any = None
) -> WrittenExport:
    """Write *table* to ``<folder>/customer_cards.csv`` and ``.parquet``.

    Parameters
    ----------
    folder : path-like
        The exports folder (a report's ``ctx.output_dir / "exports"``).
    table : pandas.DataFrame
        :func:`custkit.customers.customer_state`.
    params : Params, optional
        For the CSV dialect (:meth:`custkit.exports.ExportSettings.from_params`).

    Returns
    -------
    WrittenExport
        The two paths and the row count.
    """
    settings = ExportSettings.from_params(params)
    prepared = prepare_export(table.reset_index(drop=True), phone_region=settings.phone_region)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csv = write_csv(prepared.frame, folder / f"{CARDS_EXPORT}.csv", settings.dialect)
    parquet = folder / f"{CARDS_EXPORT}.parquet"
    staging = parquet.with_name(f".{parquet.name}.tmp")
    frame = prepared.frame.copy(deep=False)
    frame.attrs = {}  # attrs hold options (mappings) that Parquet metadata need not carry
    frame.to_parquet(staging, index=False)
    staging.replace(parquet)
    return WrittenExport(paths=[csv, parquet], rows=len(table), no_xlsx="rows")
