"""Params files: one YAML per store (or client) that names its data and the report settings.

A params file has three kinds of top-level sections, and the report language::

    language: ru                # en (default) or ru: every heading, conclusion and label
    store:                      # shown in report headers
      name: "My store"
      currency: RUB
      opened: 2019-03-01        # orders dated earlier are rejected as impossible
      country: RU               # region of phones written without +country code (exports)
      timezone: Europe/Moscow   # times with an offset are converted to it (default UTC)
    sources:                    # where each canonical table comes from
      orders:
        path: exports/orders_*.csv      # CSV, Parquet or XLSX; globs allowed; relative to this file
        encoding: cp1251
        sep: ";"
        decimal: ","
        date_format: "%d.%m.%Y"
        columns: {order_id: "Номер", customer_id: "Клиент", order_date: "Дата", revenue: "Сумма"}
      customers:
        url: postgresql+psycopg://analyst@db.example.ru:5432/crm   # any SQLAlchemy URL, no password
        password_env: CRM_DB_PASSWORD  # the password is read from this environment variable
        query: select * from clients   # or `table: clients` (`schema.table` also works)
    audit:                      # parameters of custkit/notebooks/audit.ipynb, checked against it
      lapse_days: 365
    exports:                    # optional: CSV dialect and XLSX cap of export files
      sep: ";"                  # default: ';' with decimal ',' for language ru, else ',' and '.'
      decimal: ","
      xlsx_max_rows: 20000      # longer lists get the CSV only (Excel holds 1,048,575 rows)

Every name is checked here, once: an unknown section, source option or canonical column is a
:class:`~custkit.errors.ParamsError` that names the file, the key, the close matches and the valid
choices. Report sections are checked against their notebook's parameters cell when a report runs.

Database credentials never live in a params file. A source gives either ``url`` (a SQLAlchemy URL
without a password; a password in it is refused) plus, where the database needs one,
``password_env`` (the name of the environment variable holding the password), or ``url_env`` (the
name of a variable holding the whole URL, password included). The variables are read only when
the source is read (:meth:`SourceSpec.database_url`), so :class:`Params` never holds a secret, and
every URL shown to a user is masked (:func:`mask_url`).
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from custkit.contract import TABLES
from custkit.errors import ParamsError, did_you_mean
from custkit.exports import DECIMAL_MARKS, EXCEL_MAX_ROWS, SEPARATORS, ExportSettings
from custkit.i18n import LANGUAGES, check_language

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

#: Top-level sections that configure a report (the notebook of the same name).
REPORT_SECTIONS = ("audit", "ltv", "churn", "splittest")
_STORE_KEYS = ("name", "currency", "opened", "country", "timezone")
_EXPORT_KEYS = ("sep", "decimal", "xlsx_max_rows")
_SOURCE_OPTIONS = (
    "path",
    "url",
    "url_env",
    "password_env",
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
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# query-string keys whose values are credentials (psycopg and others accept ?password=...);
# libpq's passfile names a file, not a secret
_SECRET_QUERY_KEY = re.compile(r"^(ssl)?passw(or)?d$|^pwd$|secret|token", flags=re.IGNORECASE)


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
        SQLAlchemy URL (never with a password) and either a query or a table name, for database
        sources. ``sql_table`` may be ``schema.table``.
    url_env : str or None
        Name of the environment variable holding the whole database URL (instead of ``url``).
    password_env : str or None
        Name of the environment variable holding the password for ``url``.
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
    url_env: str | None = None
    password_env: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    encoding: str = "utf-8"
    sep: str | None = None
    decimal: str = "."
    thousands: str | None = None
    date_format: str | None = None
    dayfirst: bool = False
    sheet: str | int | None = None

    @property
    def description(self) -> str:
        """Human-readable origin, with any database password masked."""
        if self.path:
            return self.path
        if self.url:
            url = mask_url(self.url)
        else:
            try:
                url = mask_url(self.database_url())
            except ParamsError:  # the variable is not set yet: name it instead
                url = f"${self.url_env}"
        return f"{url} ({'query' if self.query else 'table ' + str(self.sql_table)})"

    def database_url(self) -> URL:
        """The database URL with its credentials, read from the environment now.

        Returns
        -------
        sqlalchemy.engine.URL
            Its ``repr`` and ``str`` mask the password; never render it unmasked for a user.

        Raises
        ------
        ParamsError
            The environment variable named by ``url_env`` or ``password_env`` is not set or
            empty, or ``url_env``'s value is not a database URL. The message names the
            variable, never its value.
        """
        from sqlalchemy.engine import make_url

        where = f"sources.{self.table}"
        if self.url_env:
            value = _environment_value(self.url_env, f"{where}.url_env", "the database URL")
            try:
                return make_url(value)
            except Exception:  # any parse failure: say so, and quote nothing
                raise ParamsError(
                    f"{where}.url_env: the environment variable {self.url_env} does not hold a "
                    "database URL SQLAlchemy understands, like "
                    "postgresql+psycopg://user:password@host:5432/database."
                ) from None
        url = make_url(self.url)
        if self.password_env:
            password = _environment_value(
                self.password_env, f"{where}.password_env", "the database password"
            )
            url = url.set(password=password)
        return url


@dataclass(frozen=True)
class Params:
    """A parsed, checked params file (see module docstring for the format)."""

    path: Path | None
    store_name: str = "Store"
    currency: str = ""
    language: str = "en"
    opened: pd.Timestamp | None = None
    timezone: str | None = None
    sources: Mapping[str, SourceSpec] = field(default_factory=dict)
    reports: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    country: str | None = None
    exports: Mapping[str, Any] = field(default_factory=dict)

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
    file, raw = read_yaml(path, "params file", "params/demo.yaml")
    return parse_params(raw, path=file)


def read_yaml(path: str | os.PathLike[str], what: str, example: str) -> tuple[Path, Any]:
    """The resolved path of a YAML file and its contents (``{}`` when empty).

    Raises
    ------
    ParamsError
        Naming *what* the file is (e.g. "params file") when it is missing or not YAML, with
        *example* as a path that would do.
    """
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise ParamsError(
            f"{what} '{path}' does not exist. Give the path of a YAML file, e.g. {example}."
        )
    try:
        raw = yaml.load(file.read_text(encoding="utf-8"), Loader=_StrictLoader)  # a SafeLoader
    except _Refused as exc:
        raise ParamsError(f"{what} '{file}': {exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ParamsError(f"{what} '{file}' is not valid YAML: {exc}") from exc
    return file, raw or {}


#: Nodes that aliases (``*name``) may expand to in one file, all aliases together: a params file
#: needs a few (``<<: *defaults``); a "billion laughs" file needs billions.
MAX_ALIAS_NODES = 10_000


class _Refused(yaml.YAMLError):
    """YAML that parses but that custkit refuses (duplicate keys, alias bombs)."""


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing duplicate keys and bounding what aliases expand to.

    PyYAML keeps the last of two equal keys without a word, and expands aliases without limit
    (a 403-byte file of nested aliases costs 313 MB once custkit walks it). Both are refused
    here, with the key or alias and its line.
    """

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._alias_nodes = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = self.anchors.get(event.anchor)
            if node is not None:
                self._alias_nodes += self._size(node)
                if self._alias_nodes > MAX_ALIAS_NODES:
                    raise _Refused(
                        f"aliases expand to more than {MAX_ALIAS_NODES:,} values (alias "
                        f"'*{event.anchor}' on line {event.start_mark.line + 1}). Write the "
                        "values out, or use fewer nested aliases."
                    )
        return super().compose_node(parent, index)

    def _size(self, node) -> int:
        """Values under *node*, counting shared nodes as often as they are referred to."""
        key = id(node)
        if key not in self._sizes:
            if isinstance(node, yaml.MappingNode):
                children = [child for pair in node.value for child in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = node.value
            else:
                children = []
            self._sizes[key] = 1 + sum(self._size(child) for child in children)
        return self._sizes[key]

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[object, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    continue
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise _Refused(
                        f"the key '{key}' appears twice in one mapping (lines {seen[key]} and "
                        f"{line}); YAML would keep only the last. Keep one of them."
                    )
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def parse_params(raw: Mapping[str, Any], path: Path | None = None) -> Params:
    """Check a params mapping (the parsed YAML) and build :class:`Params`.

    Relative source paths are resolved against ``path``'s folder (the current folder if ``path``
    is None).
    """
    where = str(path) if path else "params"
    _require_mapping(raw, where, "the file")
    valid_top = ("language", "store", "sources", "exports", *REPORT_SECTIONS)
    for key in raw:
        _check_name(key, valid_top, where, "section")

    store = raw.get("store") or {}
    _require_mapping(store, where, "store")
    for key in store:
        _check_name(key, _STORE_KEYS, where, "store option", prefix="store.")
    opened = _check_opened(store.get("opened"), where)
    for key in ("name", "currency"):
        value = store.get(key)
        if value is not None and not isinstance(value, str):
            raise ParamsError(
                f'{where}: store.{key} must be text (put it in quotes: {key}: "{value}"). '
                f"Got {value!r} instead."
            )

    timezone = _check_timezone(store.get("timezone"), where)

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

    language = check_language(raw.get("language", LANGUAGES[0]), f"{where}: language")
    reports = {}
    for name in REPORT_SECTIONS:
        section = raw.get(name) or {}
        _require_mapping(section, where, name)
        reports[name] = dict(section)

    return Params(
        path=path,
        store_name=str(store.get("name") or "Store"),
        currency=str(store.get("currency") or ""),
        language=language,
        opened=opened,
        timezone=timezone,
        sources=sources,
        reports=reports,
        country=_check_country(store.get("country"), where),
        exports=_check_exports(raw.get("exports"), language, where),
    )


def _check_timezone(value: Any, where: str) -> str | None:
    """``store.timezone``: an IANA time zone name (checked with :mod:`zoneinfo`), or None."""
    if value is None:
        return None
    import zoneinfo

    try:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(value)
        zoneinfo.ZoneInfo(value.strip())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        names = zoneinfo.available_timezones()
        hint = did_you_mean(str(value), names) if isinstance(value, str) else ""
        if not hint and isinstance(value, str):  # 'Moscow' → 'Europe/Moscow'
            matches = sorted(n for n in names if n.lower().endswith("/" + value.strip().lower()))
            hint = f" Did you mean {' or '.join(repr(m) for m in matches[:3])}?" if matches else ""
        raise ParamsError(
            f"{where}: store.timezone must be an IANA time zone name like Europe/Moscow or UTC. "
            f"Got {value!r} instead.{hint}"
        ) from None
    return value.strip()


def _parse_source(table: str, spec: Any, base: Path, where: str) -> SourceSpec:
    prefix = f"sources.{table}"
    if isinstance(spec, str):
        spec = {"path": spec}
    _require_mapping(spec, where, prefix)
    for key in spec:
        _check_name(key, _SOURCE_OPTIONS, where, "source option", prefix=prefix + ".")
    has_path, has_url, has_url_env = (bool(spec.get(k)) for k in ("path", "url", "url_env"))
    if has_path + has_url + has_url_env != 1:
        raise ParamsError(
            f"{where}: {prefix} needs exactly one of 'path' (a CSV, Parquet or XLSX file), "
            "'url' (a database URL without its password) or 'url_env' (the name of an "
            "environment variable holding the database URL), with 'query' or 'table' for a "
            "database."
        )
    if has_path and spec.get("password_env"):
        raise ParamsError(
            f"{where}: {prefix} reads a file; password_env is for database sources (url)."
        )
    for key in ("query", "table"):
        if has_path and spec.get(key) is not None:
            raise ParamsError(
                f"{where}: {prefix} reads a file (path); '{key}' is for database sources (url). "
                f"Remove {key}, or read the database with url and {key}."
            )
    url = _check_database_options(spec, prefix, where) if not has_path else None

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
    options = _check_reading_options(spec, prefix, where)
    return SourceSpec(
        table=table,
        path=path,
        url=url,
        query=spec.get("query"),
        sql_table=spec.get("table"),
        url_env=spec.get("url_env"),
        password_env=spec.get("password_env"),
        columns={str(k): str(v) for k, v in columns.items()},
        **options,
    )


def _check_country(country: Any, where: str) -> str | None:
    """``store.country``: an ISO 3166 region ``phonenumbers`` knows (``RU``), or None."""
    if country is None:
        return None
    import phonenumbers

    code = country.strip().upper() if isinstance(country, str) else None
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ParamsError(
            f"{where}: store.country must be a two-letter country code such as RU, KZ or DE "
            f"(the region of phone numbers written without +country code). Got {country!r} "
            "instead."
        )
    return code


def _check_exports(section: Any, language: str, where: str) -> dict[str, Any]:
    """The ``exports`` section: ``sep``, ``decimal`` and ``xlsx_max_rows``, each optional."""
    section = section or {}
    _require_mapping(section, where, "exports")
    for key in section:
        _check_name(key, _EXPORT_KEYS, where, "exports option", prefix="exports.")
    shown = {",": "','", ";": "';'", "\t": "a tab", ".": "'.'"}
    for key, allowed in (("sep", SEPARATORS), ("decimal", DECIMAL_MARKS)):
        value = section.get(key)
        if value is not None and value not in allowed:
            raise ParamsError(
                f"{where}: exports.{key} must be one of "
                f"{', '.join(shown.get(a, a) for a in allowed)}. Got {value!r} instead."
            )
    rows = section.get("xlsx_max_rows")
    if rows is not None and (
        isinstance(rows, bool) or not isinstance(rows, int) or not 0 <= rows <= EXCEL_MAX_ROWS
    ):
        raise ParamsError(
            f"{where}: exports.xlsx_max_rows must be a whole number from 0 (no XLSX) to "
            f"{EXCEL_MAX_ROWS:,} (Excel's limit). Got {rows!r} instead."
        )
    options = dict(section)
    try:
        ExportSettings.from_params(Params(path=None, language=language, exports=options))
    except ValueError:
        raise ParamsError(
            f"{where}: exports.sep is ',' and the decimal mark is ',' too (given, or the "
            "default for language: ru): such a CSV cannot be read back. Use sep ';' with "
            "decimal ','."
        ) from None
    return options


#: strptime directives (Python's), and those that say something about the date.
_DIRECTIVES = set("aAwdbBmyYHIpMSfzZjUWcxXGuV%")
_DATE_DIRECTIVES = set("dbBmyYjcxGUWV")
_COMMON_ENCODINGS = ("utf-8", "utf-8-sig", "cp1251", "koi8-r", "utf-16", "latin-1", "cp866")


def _check_reading_options(spec: Mapping[str, Any], prefix: str, where: str) -> dict[str, Any]:
    """The reading options of a source, each checked by type and value."""

    def refuse(key: str, rule: str, value: Any, suggestion: str = "") -> ParamsError:
        return ParamsError(
            f"{where}: {prefix}.{key} must be {rule}. Got {value!r} instead.{suggestion}"
        )

    encoding = spec.get("encoding", "utf-8")
    try:
        if not isinstance(encoding, str):
            raise LookupError
        codecs.lookup(encoding)
    except LookupError:
        raise refuse(
            "encoding",
            "an encoding Python knows, like 'utf-8' or 'cp1251'",
            encoding,
            did_you_mean(str(encoding), _COMMON_ENCODINGS),
        ) from None
    sep = spec.get("sep")
    if sep is not None and not (
        isinstance(sep, str) and len(sep) == 1 and sep.isascii() and sep not in '"\r\n'
    ):
        raise refuse(
            "sep", "one character other than a quote or a line break, like ';' or '\\t'", sep
        )
    decimal = spec.get("decimal", ".")
    if decimal not in (".", ","):
        raise refuse("decimal", "'.' or ','", decimal)
    thousands = spec.get("thousands")
    if thousands is not None and not (
        isinstance(thousands, str) and len(thousands) == 1 and not thousands.isalnum()
    ):
        raise refuse("thousands", "one character, like ' ' or '.'", thousands)
    if thousands == decimal:
        raise ParamsError(
            f"{where}: {prefix}.thousands and {prefix}.decimal must differ. Both are {decimal!r}."
        )
    date_format = spec.get("date_format")
    if date_format is not None:
        if not isinstance(date_format, str):
            raise refuse("date_format", "text like '%d.%m.%Y'", date_format)
        directives = re.findall(r"%(.?)", date_format)
        unknown = [d for d in directives if d not in _DIRECTIVES]
        if unknown:
            raise refuse(
                "date_format",
                f"made of strptime directives like %d, %m, %Y, %H (not %{unknown[0]})",
                date_format,
            )
        if date_format != "ISO8601" and not _DATE_DIRECTIVES.intersection(directives):
            raise refuse(
                "date_format",
                "a date format with a day, month or year like '%d.%m.%Y'",
                date_format,
            )
    dayfirst = spec.get("dayfirst", False)
    if not isinstance(dayfirst, bool):
        raise refuse("dayfirst", "true or false", dayfirst)
    sheet = spec.get("sheet")
    if sheet is not None and not (
        (isinstance(sheet, int) and not isinstance(sheet, bool) and sheet >= 0)
        or (isinstance(sheet, str) and sheet.strip())
    ):
        raise refuse("sheet", "a sheet's name, its number from 0, or 'all'", sheet)
    return {
        "encoding": encoding,
        "sep": sep,
        "decimal": decimal,
        "thousands": thousands,
        "date_format": date_format,
        "dayfirst": dayfirst,
        "sheet": sheet,
    }


def _check_opened(value: Any, where: str) -> pd.Timestamp | None:
    """store.opened as a day: a YAML date, or text or a number like 2019-03-01 or 20190301."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        if isinstance(value, bool) or isinstance(value, float):
            raise ValueError
        if isinstance(value, int) or re.fullmatch(r"\d{8}", text):
            # YYYYMMDD (pd.Timestamp would read an int as nanoseconds since 1970)
            return pd.Timestamp(dt.datetime.strptime(text, "%Y%m%d"))
        if isinstance(value, dt.date):
            return pd.Timestamp(value)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}([ T][\d:.]+)?", text):
            raise ValueError
        return pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        raise ParamsError(
            f"{where}: store.opened must be a date like 2019-03-01 (or 20190301). "
            f"Got {value!r} instead."
        ) from None


def mask_url(url: str | URL) -> str:
    """A database URL as it may be shown: password and credential query values as ``***``.

    Parameters
    ----------
    url : str or sqlalchemy.engine.URL

    Returns
    -------
    str
        The masked URL, or ``"<database url>"`` when *url* cannot be parsed (so that a
        malformed URL is never echoed with its password).
    """
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # an unparseable URL still must not leak a password
        return "<database url>"
    secret_keys = [key for key in parsed.query if _SECRET_QUERY_KEY.search(key)]
    if secret_keys:
        parsed = parsed.update_query_dict(dict.fromkeys(secret_keys, "***"))
    return parsed.render_as_string(hide_password=True)


def _check_database_options(spec: Mapping[str, Any], prefix: str, where: str) -> str | None:
    """Check the options of a database source; return its ``url`` (None with ``url_env``)."""
    from sqlalchemy.engine import make_url

    if bool(spec.get("query")) == bool(spec.get("table")):
        raise ParamsError(
            f"{where}: {prefix} reads a database; give exactly one of 'query' (an SQL query) "
            "or 'table' (a table name)."
        )
    for key in ("url_env", "password_env"):
        name = spec.get(key)
        # the value is not quoted: it may be the password itself, written in the wrong place
        if name is not None and not (isinstance(name, str) and _ENV_NAME.match(name)):
            raise ParamsError(
                f"{where}: {prefix}.{key} must be the name of an environment variable (letters, "
                "digits and '_', like CUSTKIT_DB_PASSWORD), not the secret itself."
            )
    if spec.get("url_env"):
        if spec.get("password_env"):
            raise ParamsError(
                f"{where}: {prefix} has both url_env and password_env. The variable named by "
                "url_env holds the whole URL, password included: drop password_env, or give "
                "'url' (without the password) with password_env."
            )
        return None
    # $VARIABLES in the URL are expanded (e.g. sqlite:///$HOME/crm.db); credentials are not
    # accepted that way either: the expanded URL would be stored, and shown, with them
    url = os.path.expandvars(str(spec["url"]))
    try:
        parsed = make_url(url)
    except Exception:  # not quoted: it may carry a password
        raise ParamsError(
            f"{where}: {prefix}.url is not a database URL SQLAlchemy understands. Write it like "
            "postgresql+psycopg://user@host:5432/database (no password; name the environment "
            "variable holding it under password_env)."
        ) from None
    secret_keys = [key for key in parsed.query if _SECRET_QUERY_KEY.search(key)]
    if parsed.password is not None or secret_keys:
        safe = parsed._replace(password=None).difference_update_query(secret_keys)
        raise ParamsError(
            f"{where}: {prefix}.url contains a password ({mask_url(parsed)}). Passwords must not "
            "be written in params files: put it in an environment variable and name it under "
            f"password_env, e.g.\n  url: {safe.render_as_string(hide_password=True)}\n"
            "  password_env: CUSTKIT_DB_PASSWORD\n(or name a variable holding the whole URL "
            "under url_env)."
        )
    return url


def _environment_value(name: str, key: str, what: str) -> str:
    value = os.environ.get(name)
    if not value:
        state = "is empty" if value is not None else "is not set"
        raise ParamsError(
            f"{key}: the environment variable {name} {state}. Set it to {what} before running "
            f"custkit (e.g. `export {name}=...` in the shell, or your scheduler's or CI's secret "
            "settings); params files name the variable, never the secret."
        )
    return value


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
