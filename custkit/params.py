"""Params files: one YAML per store (or client) that names its data and the report settings.

A params file has three kinds of top-level sections::

    store:                      # shown in report headers
      name: "My store"
      currency: RUB
      opened: 2019-03-01        # orders dated earlier are rejected as impossible
    sources:                    # where each canonical table comes from
      orders:
        path: exports/orders_*.csv      # CSV, Parquet or XLSX; globs allowed; relative to this file
        encoding: cp1251
        sep: ";"
        decimal: ","
        date_format: "%d.%m.%Y"
        columns: {order_id: "Номер", customer_id: "Клиент", order_date: "Дата", revenue: "Сумма"}
      customers:
        url: sqlite:///crm.db          # any SQLAlchemy URL, with `query` or `table`
        query: select * from clients
    audit:                      # parameters of notebooks/audit.ipynb, checked against it
      lapse_days: 365

Every name is checked here, once: an unknown section, source option or canonical column is a
:class:`~custkit.errors.ParamsError` that names the file, the key, the close matches and the valid
choices. Report sections are checked against their notebook's parameters cell when a report runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from custkit.data.contract import TABLES
from custkit.errors import ParamsError, did_you_mean

#: Top-level sections that configure a report (the notebook of the same name).
REPORT_SECTIONS = ("audit", "ltv", "churn", "splittest")
_STORE_KEYS = ("name", "currency", "opened")
_SOURCE_OPTIONS = (
    "path",
    "url",
    "query",
    "table",
    "columns",
    "encoding",
    "sep",
    "decimal",
    "thousands",
    "date_format",
    "dayfirst",
    "sheet",
)


@dataclass(frozen=True)
class SourceSpec:
    """Where one canonical table comes from and how to read it.

    Attributes
    ----------
    table : str
        Canonical table name (``orders``, ``customers``, …).
    path : str or None
        File path or glob, absolute (resolved against the params file's folder).
    url, query, sql_table : str or None
        SQLAlchemy URL and either a query or a table name, for database sources.
    columns : Mapping[str, str]
        Canonical column name → the store's column name. Canonical names not listed are looked up
        under their own name.
    encoding, sep, decimal, thousands, date_format, dayfirst, sheet
        Reading options for text and spreadsheet files. ``sep=None`` means: comma, or semicolon
        when the header line has semicolons and no commas.
    """

    table: str
    path: str | None = None
    url: str | None = None
    query: str | None = None
    sql_table: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    encoding: str = "utf-8"
    sep: str | None = None
    decimal: str = "."
    thousands: str | None = None
    date_format: str | None = None
    dayfirst: bool = False
    sheet: str | int = 0

    @property
    def description(self) -> str:
        """Human-readable origin, with any database password masked."""
        if self.path:
            return self.path
        from sqlalchemy.engine import make_url

        try:
            url = make_url(self.url).render_as_string(hide_password=True)
        except Exception:  # an unparseable URL still must not leak a password
            url = "<database url>"
        return f"{url} ({'query' if self.query else 'table ' + str(self.sql_table)})"


@dataclass(frozen=True)
class Params:
    """A parsed, checked params file (see module docstring for the format)."""

    path: Path | None
    store_name: str = "Store"
    currency: str = ""
    opened: pd.Timestamp | None = None
    sources: Mapping[str, SourceSpec] = field(default_factory=dict)
    reports: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def report_params(self, report: str) -> dict[str, Any]:
        """Parameter values the params file sets for *report* (may be empty)."""
        return dict(self.reports.get(report, {}))

    @property
    def where(self) -> str:
        return str(self.path) if self.path else "params"


def load_params(path: str | os.PathLike[str] | Params) -> Params:
    """Read and check a params YAML file.

    Parameters
    ----------
    path : path-like or Params
        The YAML file. A :class:`Params` is returned as is.

    Returns
    -------
    Params

    Raises
    ------
    ParamsError
        The file is missing or not YAML, or a section, option or column name is unknown.
    """
    if isinstance(path, Params):
        return path
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise ParamsError(
            f"params file '{path}' does not exist. Give the path of a YAML file, "
            "e.g. params/demo.yaml."
        )
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ParamsError(f"params file '{file}' is not valid YAML: {exc}") from exc
    return parse_params(raw or {}, path=file)


def parse_params(raw: Mapping[str, Any], path: Path | None = None) -> Params:
    """Check a params mapping (the parsed YAML) and build :class:`Params`.

    Relative source paths are resolved against ``path``'s folder (the current folder if ``path``
    is None).
    """
    where = str(path) if path else "params"
    _require_mapping(raw, where, "the file")
    valid_top = ("store", "sources", *REPORT_SECTIONS)
    for key in raw:
        _check_name(key, valid_top, where, "section")

    store = raw.get("store") or {}
    _require_mapping(store, where, "store")
    for key in store:
        _check_name(key, _STORE_KEYS, where, "store option", prefix="store.")
    opened = None
    if store.get("opened") is not None:
        try:
            opened = pd.Timestamp(store["opened"])
        except (ValueError, TypeError) as exc:
            raise ParamsError(
                f"{where}: store.opened must be a date like 2019-03-01. "
                f"Got {store['opened']!r} instead."
            ) from exc

    sources_raw = raw.get("sources")
    if not sources_raw:
        raise ParamsError(
            f"{where}: no 'sources' section. Name at least the orders file, e.g.\n"
            "  sources:\n    orders: {path: data/orders.csv}"
        )
    _require_mapping(sources_raw, where, "sources")
    base = path.parent if path else Path.cwd()
    sources = {}
    for table, spec in sources_raw.items():
        _check_name(table, list(TABLES), where, "table", prefix="sources.")
        sources[table] = _parse_source(table, spec, base, where)
    if "orders" not in sources:
        raise ParamsError(f"{where}: sources has no 'orders' entry; every report needs orders.")

    reports = {}
    for name in REPORT_SECTIONS:
        section = raw.get(name) or {}
        _require_mapping(section, where, name)
        reports[name] = dict(section)

    return Params(
        path=path,
        store_name=str(store.get("name") or "Store"),
        currency=str(store.get("currency") or ""),
        opened=opened,
        sources=sources,
        reports=reports,
    )


def _parse_source(table: str, spec: Any, base: Path, where: str) -> SourceSpec:
    prefix = f"sources.{table}"
    if isinstance(spec, str):
        spec = {"path": spec}
    _require_mapping(spec, where, prefix)
    for key in spec:
        _check_name(key, _SOURCE_OPTIONS, where, "source option", prefix=prefix + ".")
    has_path, has_url = bool(spec.get("path")), bool(spec.get("url"))
    if has_path == has_url:
        raise ParamsError(
            f"{where}: {prefix} needs exactly one of 'path' (a CSV, Parquet or XLSX file) or "
            "'url' (a database, with 'query' or 'table')."
        )
    if has_url and bool(spec.get("query")) == bool(spec.get("table")):
        raise ParamsError(f"{where}: {prefix} has a url; give exactly one of 'query' or 'table'.")

    columns = spec.get("columns") or {}
    _require_mapping(columns, where, prefix + ".columns")
    contract = TABLES[table]
    for canonical, source in columns.items():
        if canonical not in contract.names:
            raise ParamsError(
                f"{where}: {prefix}.columns maps '{canonical}', which is not a column of the "
                f"{table} table.{did_you_mean(str(canonical), contract.names)} Keys of 'columns' "
                f"are custkit's names, values are yours. Valid keys: {', '.join(contract.names)}."
            )
        if not isinstance(source, str) or not source:
            raise ParamsError(
                f"{where}: {prefix}.columns.{canonical} must be the name of a column in your "
                f"data (text). Got {source!r} instead."
            )

    path = None
    if has_path:
        path = str(spec["path"])
        if not Path(path).expanduser().is_absolute():
            path = os.path.normpath(base / path)
    decimal = str(spec.get("decimal", "."))
    if decimal not in (".", ","):
        raise ParamsError(f"{where}: {prefix}.decimal must be '.' or ','. Got {decimal!r} instead.")
    dayfirst = spec.get("dayfirst", False)
    if not isinstance(dayfirst, bool):
        raise ParamsError(
            f"{where}: {prefix}.dayfirst must be true or false. Got {dayfirst!r} instead."
        )
    return SourceSpec(
        table=table,
        path=path,
        url=os.path.expandvars(str(spec["url"])) if has_url else None,
        query=spec.get("query"),
        sql_table=spec.get("table"),
        columns={str(k): str(v) for k, v in columns.items()},
        encoding=str(spec.get("encoding", "utf-8")),
        sep=spec.get("sep"),
        decimal=decimal,
        thousands=spec.get("thousands"),
        date_format=spec.get("date_format"),
        dayfirst=dayfirst,
        sheet=spec.get("sheet", 0),
    )


def _require_mapping(value: Any, where: str, what: str) -> None:
    if not isinstance(value, Mapping):
        raise ParamsError(
            f"{where}: {what} must be a mapping of 'key: value' lines. "
            f"Got {type(value).__name__} instead."
        )


def _check_name(key: Any, valid: Any, where: str, what: str, prefix: str = "") -> None:
    valid = list(valid)
    if key not in valid:
        raise ParamsError(
            f"{where}: unknown {what} '{prefix}{key}'.{did_you_mean(str(key), valid)} "
            f"Valid: {', '.join(valid)}."
        )
