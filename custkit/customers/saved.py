"""The customer-state table saved once per store and period, for every report and the card.

A report run writes the table to ``<out>/<period>/.customer-state/state.parquet`` the first time
a report asks for it (:meth:`custkit.reports.context.ReportContext.customer_state`); the other
reports of the run and ``custkit customer ID`` read it back instead of recomputing it. The LTV
report saves the purchase model its holdout check chose beside it (``purchase-model.json``), so
the table's build reuses that choice instead of running the holdout check again (most of the
table's time: ~60 s of a card's 69 s on the demo).

A saved file is used only when its key matches: a hash of the data (:func:`data_fingerprint`),
the period, the report parameters the table reads (:class:`~custkit.customers.StateOptions`)
and the custkit version. Anything else (other data, a changed parameter, a new custkit) builds
the table again and replaces the file. Files are written atomically
(:func:`custkit.reports.files.write_atomic`); the table holds no contact data.

Why our own few lines: the two files are keyed by our own fingerprint and read by our own
code; a caching library (joblib.Memory, diskcache) would pickle the arguments (a whole store)
to key them, and could not share a file between a report run and the CLI.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from custkit.storage import to_json_value, write_atomic, write_text_atomic

__all__ = [
    "STATE_FOLDER",
    "data_fingerprint",
    "load_purchase_model",
    "load_state",
    "model_choice_key",
    "save_purchase_model",
    "save_state",
    "state_folder",
    "state_key",
]

#: Hidden folder of a period's output folder that holds the saved table and model choice.
STATE_FOLDER = ".customer-state"
_STATE_FILE = "state.parquet"
_MODEL_FILE = "purchase-model.json"
_METADATA_KEY = b"custkit_state"
#: Bumped when the table's columns or meaning change, so older files are not read.
_FORMAT = 2


def state_folder(root: str | os.PathLike[str], period: str) -> Path:
    """``<root>/<period>/.customer-state``: *root* is the output folder of a run (``--out``)."""
    return Path(root) / period / STATE_FOLDER


def data_fingerprint(store: Any) -> str:
    """A hash of the store's data the table depends on.

    The accepted orders' customer, date, amount, cost and status (whichever the store has),
    hashed row by row (:func:`pandas.util.hash_pandas_object`, vectorised: ~0.1 s per million
    orders), and, for the other tables, their sources as params give them with each file's
    size and modification time (every report loads the orders; not every one loads the others,
    so their contents cannot be hashed alike in every report).
    """
    import glob

    orders = store.orders
    if orders is None:
        raise ValueError("The store's orders were released: take the fingerprint before.")
    columns = [c for c in ("customer_id", "order_date", "revenue", "cost", "status") if c in orders]
    digest = hashlib.blake2b(digest_size=16)
    rows = pd.util.hash_pandas_object(orders[columns], index=False).to_numpy()
    digest.update(np.ascontiguousarray(rows).tobytes())
    sources = {}
    for table, spec in sorted(getattr(store.params, "sources", {}).items()):
        if table == "orders":
            continue
        files = sorted(glob.glob(spec.path)) if getattr(spec, "path", None) else []
        stats = [(f, os.stat(f).st_size, os.stat(f).st_mtime_ns) for f in files]
        sources[table] = {"spec": repr(spec), "files": stats}
    digest.update(json.dumps(sources, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _hash(parts: Mapping[str, Any]) -> str:
    import custkit

    text = json.dumps(
        {**parts, "custkit": custkit.__version__, "format": _FORMAT}, sort_keys=True, default=str
    )
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def state_key(fingerprint: str, period: Any, options: Any) -> str:
    """The key of a table: data, period (its month and as-of) and :class:`StateOptions`."""
    return _hash(
        {
            "data": fingerprint,
            "period": [period.period, f"{period.start:%Y-%m-%d}", f"{period.as_of:%Y-%m-%d}"],
            "options": options.as_dict(),
        }
    )


def model_choice_key(
    fingerprint: str, as_of: Any, holdout_months: int, time_unit: str, penalizer: float
) -> str:
    """The key of a purchase-model choice: the data and the holdout check's parameters."""
    return _hash(
        {
            "data": fingerprint,
            "as_of": f"{pd.Timestamp(as_of):%Y-%m-%d}",
            "holdout_months": holdout_months,
            "time_unit": time_unit,
            "penalizer": penalizer,
        }
    )


def save_state(folder: str | os.PathLike[str], key: str, table: pd.DataFrame) -> Path:
    """Write *table* (and its ``attrs``) to ``<folder>/state.parquet`` under *key*, atomically."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrow = pa.Table.from_pandas(table.reset_index(drop=True), preserve_index=False)
    # pandas' nullable types (boolean, string, Int64) come back from Arrow as objects: say them
    nullable = {
        str(c): str(t)
        for c, t in table.dtypes.items()
        if isinstance(t, pd.api.extensions.ExtensionDtype)
        and not isinstance(t, pd.CategoricalDtype)
    }
    note = json.dumps(
        {"key": key, "attrs": to_json_value(table.attrs), "dtypes": nullable}, ensure_ascii=False
    )
    arrow = arrow.replace_schema_metadata(
        {**(arrow.schema.metadata or {}), _METADATA_KEY: note.encode()}
    )
    return write_atomic(folder / _STATE_FILE, lambda path: pq.write_table(arrow, path))


def load_state(folder: str | os.PathLike[str], key: str | None) -> pd.DataFrame | None:
    """The table saved in *folder* under *key* (any key when None), or None.

    None when there is no file, it is unreadable, or it was made from other data or parameters.
    """
    path = Path(folder) / _STATE_FILE
    if not path.is_file():
        return None
    try:
        arrow = pq.read_table(path)
        note = json.loads((arrow.schema.metadata or {})[_METADATA_KEY])
    except (OSError, KeyError, ValueError, pa.ArrowException):
        return None
    if key is not None and note.get("key") != key:
        return None
    table = arrow.to_pandas()
    for column, dtype in (note.get("dtypes") or {}).items():
        if column in table:
            table[column] = table[column].astype(dtype)
    table.attrs = dict(note.get("attrs") or {})
    return table


def save_purchase_model(folder: str | os.PathLike[str], key: str, model: str) -> Path:
    """Write the purchase model the LTV report chose (``"BG/NBD"``, ...) under *key*."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(folder / _MODEL_FILE, json.dumps({"key": key, "model": model}))


def load_purchase_model(folder: str | os.PathLike[str], key: str) -> str | None:
    """The purchase model saved in *folder* under *key*, or None."""
    try:
        saved = json.loads((Path(folder) / _MODEL_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("key") != key:
        return None
    model = saved.get("model")
    return model if isinstance(model, str) else None


def shared_state(
    store: Any,
    period: Any,
    options: Any,
    folder: str | os.PathLike[str],
    *,
    fingerprint: str | None = None,
    store_for_build: Any = None,
    value: Any = None,
) -> pd.DataFrame:
    """The table of *store* and *period*: read from *folder* when saved there, else built and saved.

    Parameters
    ----------
    store : custkit.data.Store
        The store whose data keys the file (its orders must still be loaded, unless
        *fingerprint* is given).
    period : ReportPeriod
    options : StateOptions
        With ``model=None`` the build takes the purchase model the LTV report saved in *folder*
        (:func:`save_purchase_model`), and chooses one on the holdout only when there is none.
    folder : path-like
        :func:`state_folder` of the run.
    fingerprint : str, optional
        :func:`data_fingerprint` of *store*, when the caller has it.
    store_for_build : custkit.data.Store or callable, optional
        The store to build from (default *store*), e.g. one with every table loaded; a callable
        returning it is called only when the table is built.
    value : custkit.ltv.CustomerValue, optional
        The LTV report's value of the chosen model, passed to the build (no second fit).

    Returns
    -------
    pandas.DataFrame
        :func:`custkit.customers.customer_state`; ``attrs["loaded"]`` says whether it was read.
    """
    from dataclasses import replace

    from custkit.customers.state import customer_state

    fingerprint = fingerprint or data_fingerprint(store)
    key = state_key(fingerprint, period, options)
    table = load_state(folder, key)
    if table is not None:
        table.attrs["loaded"] = True
        return table
    choice_key = model_choice_key(
        fingerprint, period.as_of, options.holdout_months, options.time_unit, options.penalizer
    )
    model = options.model or load_purchase_model(folder, choice_key)
    build_options = replace(options, model=model) if model else options
    if callable(store_for_build):
        store_for_build = store_for_build()
    table = customer_state(
        store_for_build or store, period.as_of, period=period, options=build_options, value=value
    )
    table.attrs["options"] = options.as_dict()  # the key's options: the model was the chosen one
    if options.model is None and model is None and table.attrs.get("model"):
        save_purchase_model(folder, choice_key, table.attrs["model"])
    save_state(folder, key, table)
    table.attrs["loaded"] = False
    return table
