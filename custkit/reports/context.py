"""What a report notebook calls first: ``ctx = start_report(...)``, then ``ctx.save_kpis``,
``ctx.export`` and ``ctx.save_actions``.

Keeping this in the package keeps notebooks thin: loading, the period, the output folder, the
quarantine files and the header are the same for every report.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from custkit.data.periods import ReportPeriod, check_period, default_period
from custkit.data.sections import Section, skipped_sections
from custkit.errors import ReportError, did_you_mean
from custkit.exports import (
    EXCEL_MAX_CELL_CHARS,
    XLSX_MAX_ROWS,
    ExportSettings,
    WrittenExport,
    write_export,
)
from custkit.i18n import get_language, n_, set_language
from custkit.reports.files import write_text_atomic
from custkit.storage import to_json_value as to_json_value
from custkit.units import Kpis

if TYPE_CHECKING:
    from custkit.data.store import Store
    from custkit.params import Params
    from custkit.reports.actions import Action

#: Hidden file in the output folder telling the runner which period and store a run resolved,
#: even when the notebook fails before it saves its KPIs.
RUN_INFO_FILE = ".run-info.json"
#: Environment variable: the folder notebook runs without an ``output_dir`` write under.
OUTPUT_DIR_ENV = "CUSTKIT_OUTPUT_DIR"
#: Their folder beside the params file otherwise.
NOTEBOOK_OUTPUT = "notebook-output"


@dataclass(frozen=True)
class ReportContext:
    """A report run: its store, params, period and output folder.

    Attributes
    ----------
    report : str
    store : Store
    params : Params
    period : ReportPeriod
    output_dir : Path
        Holds ``<report>.kpis.json``, ``exports/`` and ``quarantine/``.
    title : str
        The report title (first heading of its notebook).
    quarantine : Mapping[str, Path]
        Table → file of its rejected rows.
    sections : Mapping[str, Section]
        The report's sections that need more than orders (see :mod:`custkit.data.sections`).
    skipped : Mapping[str, str]
        Section key → the line saying why the store's data cannot fill it.
    """

    report: str
    store: Store
    params: Params
    period: ReportPeriod
    output_dir: Path
    title: str = ""
    quarantine: Mapping[str, Path] = field(default_factory=dict)
    sections: Mapping[str, Section] = field(default_factory=dict)
    skipped: Mapping[str, str] = field(default_factory=dict)
    tables: Any = None
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    def customer_state(self, value: Any = None) -> pd.DataFrame:
        """The customer-state table of this store and period (:mod:`custkit.customers`).

        Read from ``<out>/<period>/.customer-state/`` when a report of the same run (or an
        earlier run on the same data and parameters) saved it there; otherwise built, with the
        purchase model the LTV report chose when it saved one, and saved for the next report and
        ``custkit customer ID`` (:mod:`custkit.customers.saved`). The options are the params
        file's churn and LTV report parameters, as the card's. Call it before
        ``store.release("orders")``: the data's fingerprint reads the orders. *value*: the LTV
        report's own :func:`custkit.ltv.customer_value`, used by the build instead of a refit.
        """
        if "state" not in self._memo:
            from custkit.customers.saved import shared_state

            self._memo["state"] = shared_state(
                self.store,
                self.period,
                self.state_options(),
                self.state_folder,
                fingerprint=self._fingerprint(),
                store_for_build=self._store_for_state,
                value=value,
            )
        return self._memo["state"]

    def state_options(self):
        """The :class:`~custkit.customers.StateOptions` of the params file's report parameters."""
        return state_options(self.params)

    @property
    def state_folder(self) -> Path:
        """Where this run's customer-state table and purchase-model choice are saved."""
        from custkit.customers.saved import state_folder
        from custkit.reports.history import history_root

        return state_folder(history_root(self.output_dir, self.period.period), self.period.period)

    def remember_purchase_model(
        self, model: str, holdout_months: int, time_unit: str, penalizer: float
    ) -> None:
        """Save the purchase model the LTV report's holdout check chose, for the table's build
        (and the card) to reuse instead of running the check again."""
        from custkit.customers.saved import model_choice_key, save_purchase_model

        key = model_choice_key(
            self._fingerprint(), self.period.as_of, holdout_months, time_unit, penalizer
        )
        save_purchase_model(self.state_folder, key, model)

    def shared_figures(self, lapse_days: int | None = None, red: Any = None) -> Kpis:
        """This report's figures shared with the other reports, from the customer-state table
        (:mod:`custkit.customers.figures`): put them in ``save_kpis`` and on the page.

        *lapse_days* is the audit's (default: the params file's audit ``lapse_days``); *red*
        the report's order reductions up to as-of, if it has them (else reduced here).
        """
        from custkit.customers.figures import REPORT_FIGURES, lost_customers, shared_kpis

        names = REPORT_FIGURES.get(self.report, ())
        lost = None
        if "lost_customers" in names:
            if lapse_days is None:
                lapse_days = int(report_parameter_values("audit", self.params)["lapse_days"])
            self._memo["lapse_days"] = lapse_days
            red = red if red is not None else self._reductions()
            lost = lost_customers(red, self.period, lapse_days)
        if "state" not in self._memo and set(names) <= STATUS_FIGURES:
            # figures of the statuses only (the audit's): the churn rule decides them, so the
            # saved table when a report saved one, else the statuses alone; no model is fitted
            return shared_kpis(self._statuses(), names, lost=lost)
        return shared_kpis(self.customer_state(), names, lost=lost)

    def _statuses(self) -> pd.DataFrame:
        """The saved customer-state table when there is one, else the same statuses computed
        from the order reductions alone (:func:`custkit.customers.customer_state` without a
        purchase model: its value, reason and plan columns empty)."""
        from custkit.customers.saved import load_state, state_key
        from custkit.customers.state import customer_state
        from custkit.data.reduce import reduce_orders

        options = self.state_options()
        table = load_state(self.state_folder, state_key(self._fingerprint(), self.period, options))
        if table is None:
            store = self.store if self.store.orders is not None else self._store_for_state()
            red = reduce_orders(store.orders, self.period.as_of, customer_days=True)
            table = customer_state(red, self.period.as_of, period=self.period, options=options)
        return table

    def export_customer_cards(self, table: pd.DataFrame | None = None) -> ExportedFiles:
        """Write the customer-state table (default :meth:`customer_state`) to
        ``exports/customer_cards.csv`` and ``.parquet`` for a CRM import; a table carrying the
        churn report's own plan (:func:`custkit.customers.with_plan`) is also saved as this run's
        table, so the card shows the report's next actions."""
        from custkit.customers import write_customer_cards
        from custkit.customers.saved import save_state, state_key

        table = self.customer_state() if table is None else table
        written = write_customer_cards(self.output_dir / "exports", table, self.params)
        if table.attrs.get("plan") == "churn report":
            key = state_key(self._fingerprint(), self.period, self.state_options())
            save_state(self.state_folder, key, table)
        return ExportedFiles.of(written)

    def _fingerprint(self) -> str:
        if "fingerprint" not in self._memo:
            from custkit.customers.saved import data_fingerprint

            store = self.store if self.store.orders is not None else self._store_for_state()
            self._memo["fingerprint"] = data_fingerprint(store)
        return self._memo["fingerprint"]

    def _store_for_state(self) -> Store:
        """This report's store when it loaded all the table reads, else the whole store."""
        from custkit.customers.state import READS

        if self.store.orders is not None and _covers(self.tables, READS):
            return self.store
        if "full_store" not in self._memo:
            self._memo["full_store"] = _load_store(self.params)
        return self._memo["full_store"]

    def _reductions(self):
        if "reductions" not in self._memo:
            from custkit.data.reduce import reduce_orders

            store = self.store if self.store.orders is not None else self._store_for_state()
            self._memo["reductions"] = reduce_orders(store.orders, self.period.as_of)
        return self._memo["reductions"]

    def section(self, key: str) -> bool:
        """True when the store's data can fill section *key*; otherwise show, in its place, the
        line saying why it is skipped and return False.

        ``if ctx.section("birthdays"): ...`` guards a section; the header lists every skipped one.

        Raises
        ------
        ReportError
            For a key the report did not declare in ``start_report(..., sections=...)``.
        """
        self.show_skipped(key)
        return key not in self.skipped

    def show_skipped(self, *keys: str) -> None:
        """Show the line of each section of *keys* the store's data cannot fill, in its place:
        for a part of a section that is left out while the rest runs (``ctx.section`` guards
        a whole one)."""
        unknown = [key for key in keys if key not in self.sections]
        if unknown:
            raise ReportError(
                f"Section must be one of the sections declared in start_report "
                f"{sorted(self.sections)}. Got {unknown[0]!r} instead."
                f"{did_you_mean(unknown[0], self.sections)}"
            )
        lines = [self.skipped[key] for key in keys if key in self.skipped]
        if lines:
            from IPython.display import HTML, display

            from custkit.reports.display import skipped_line_html

            display(HTML("".join(skipped_line_html(line) for line in lines)))

    def save_kpis(self, kpis: Mapping[str, Any], units: Mapping[str, str] | None = None) -> Path:
        """Write ``<output_dir>/<report>.kpis.json`` atomically and return its path.

        The file holds ``report, period, as_of, store, currency, custkit_version, generated_at,
        kpis, units`` and
        ``accounting`` (per table: read, accepted, rejected, reasons, quarantine file, notes).
        NaN and infinities become ``null``; numpy and pandas scalars become plain JSON values.

        ``units`` names the unit of each numeric KPI (:mod:`custkit.units`): those *kpis*
        declares (a :class:`~custkit.units.Kpis`, as the reports' kpi functions return), then
        *units*. A numeric KPI declared by neither gets the unit its name suggests
        (:func:`custkit.reports.history.kpi_unit`) and a warning saying how to declare it.
        """
        import custkit
        from custkit.reports.history import kpi_units

        accounting = {}
        for table, acc in self.store.accounting.items():
            entry = acc.to_dict()
            if table in self.quarantine:
                entry["quarantine"] = _relative(self.quarantine[table], self.output_dir)
            accounting[table] = entry
        document = {
            "report": self.report,
            "period": self.period.period,
            "as_of": f"{self.period.as_of:%Y-%m-%d}",
            "store": self.store_name,
            "currency": str(getattr(self.params, "currency", "") or ""),
            "custkit_version": custkit.__version__,
            "generated_at": dt.datetime.now().isoformat(timespec="seconds"),
            "kpis": to_json_value(dict(kpis)),
            "units": kpi_units(kpis, units, warn=True),
            "accounting": to_json_value(accounting),
        }
        text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)
        return write_text_atomic(self.output_dir / f"{self.report}.kpis.json", text + "\n")

    def save_actions(self, actions: Sequence[Action]) -> None:
        """Write ``<output_dir>/<report>.actions.json``: what this report says to do, with the
        money at stake and the export list each action works from, for the monthly summary page
        (:mod:`custkit.reports.actions`, :mod:`custkit.reports.summary`).

        Call it once, at the end of the cell that writes the lists, with every action of the
        run (an empty list when there is nothing to propose); a second call replaces the first.
        Returns nothing, so that the call can end a cell without showing a path on the page.

        Raises
        ------
        ReportError
            An action points to an export this run has not written.
        """
        from custkit.reports.actions import write_actions

        actions = list(actions)
        exports = self.output_dir / "exports"
        for action in actions:
            if action.export and not (exports / f"{action.export}.csv").exists():
                raise ReportError(
                    f"Action {action.title!r} points to the export {action.export!r}, which this "
                    f"run has not written: call ctx.export(frame, {action.export!r}) before "
                    "ctx.save_actions."
                )
        write_actions(
            self.output_dir,
            self.report,
            actions,
            period=self.period.period,
            store=self.store_name,
            currency=str(getattr(self.params, "currency", "") or ""),
            language=get_language(),
        )

    def history_comparison(
        self, kpis: Mapping[str, Any] | None = None, names: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """This run's KPIs against the previous month's and the same month last year's reports.

        Reads ``<period>/<report>.kpis.json`` of the earlier months from the output folder this
        run publishes into (the same client's files only); see
        :func:`custkit.reports.history.kpi_history_comparison` for the columns.

        Parameters
        ----------
        kpis : mapping, optional
            This run's KPIs; default: those saved by :meth:`save_kpis`.
        names : sequence of str, optional
            KPIs to compare; default: every numeric top-level one.

        Raises
        ------
        ReportError
            *kpis* is not given and :meth:`save_kpis` has not been called yet.
        """
        from custkit.reports.history import (
            KPIS_SUFFIX,
            UnreadableKpis,
            declared_units,
            history_root,
            kpi_history_comparison,
            load_kpis_file,
        )

        if kpis is None:
            try:
                document = load_kpis_file(self.output_dir / f"{self.report}{KPIS_SUFFIX}")
            except UnreadableKpis:
                raise ReportError(
                    "There are no saved KPIs to compare: call ctx.save_kpis(kpis) first, or pass "
                    "the KPIs to compare."
                ) from None
            kpis = Kpis(document["kpis"], declared_units(document))
        root = history_root(self.output_dir, self.period.period)
        return kpi_history_comparison(
            root, self.report, self.period.period, kpis, client=self.store_name, names=names
        )

    def export(self, frame: pd.DataFrame, name: str) -> ExportedFiles:
        """Write *frame* to ``exports/<name>.csv`` (UTF-8 with BOM, for Excel) and ``.xlsx``.

        Exports are where customer lists (with contacts) go; they never appear in the HTML.
        The rules (CSV dialect by report language, rounding, phones in E.164, formula-like text
        neutralised, the XLSX cap of params ``exports.xlsx_max_rows``) are
        :mod:`custkit.exports`'. Returns the paths, as a list that shows as a one-line note (not
        as absolute paths) when it ends a notebook cell.
        """
        if not re.fullmatch(r"[\w][\w.-]*", name):
            raise ReportError(
                f"Export name must be a plain file name such as 'reactivation_list'. "
                f"Got {name!r} instead."
            )
        settings = ExportSettings.from_params(self.params)
        return ExportedFiles.of(write_export(frame, self.output_dir / "exports", name, settings))

    @property
    def store_name(self) -> str:
        return str(getattr(self.params, "store_name", None) or self.store.name)


class ExportedFiles(list):
    """The files one ``ctx.export`` call wrote; a list of paths with a short, readable display.

    Attributes
    ----------
    rows : int
    phones_kept : int
        Phones kept as written (not a number ``phonenumbers`` could read).
    no_xlsx : str or None
        Why there is no XLSX (``"rows"``, ``"long_text"``), None when there is one.
    xlsx_max_rows : int
    """

    def __init__(
        self,
        paths: list[Path],
        rows: int,
        phones_kept: int = 0,
        no_xlsx: str | None = None,
        xlsx_max_rows: int = XLSX_MAX_ROWS,
    ) -> None:
        super().__init__(paths)
        self.rows = rows
        self.phones_kept = phones_kept
        self.no_xlsx = no_xlsx
        self.xlsx_max_rows = xlsx_max_rows

    @classmethod
    def of(cls, written: WrittenExport) -> ExportedFiles:
        return cls(
            written.paths,
            rows=written.rows,
            phones_kept=written.phones_kept,
            no_xlsx=written.no_xlsx,
            xlsx_max_rows=written.xlsx_max_rows,
        )

    def __repr__(self) -> str:
        """``7,674 rows exported to exports/list.csv, exports/list.xlsx``, in the report
        language, with why there is no XLSX and how many phones were kept as written."""
        names = ", ".join(f"exports/{p.name}" for p in self)
        if self.no_xlsx == "rows":
            text = n_(
                "{n:,} row exported to {names} (no XLSX: more than {limit:,} rows; open the CSV)",
                "{n:,} rows exported to {names} (no XLSX: more than {limit:,} rows; open the CSV)",
                self.rows,
                names=names,
                limit=self.xlsx_max_rows,
            )
        elif self.no_xlsx == "long_text":
            text = n_(
                "{n:,} row exported to {names} (no XLSX: a cell is longer than the {limit:,} "
                "characters Excel holds; open the CSV)",
                "{n:,} rows exported to {names} (no XLSX: a cell is longer than the {limit:,} "
                "characters Excel holds; open the CSV)",
                self.rows,
                names=names,
                limit=EXCEL_MAX_CELL_CHARS,
            )
        else:
            text = n_(
                "{n:,} row exported to {names}",
                "{n:,} rows exported to {names}",
                self.rows,
                names=names,
            )
        if self.phones_kept:
            text += "; " + n_(
                "{n:,} phone kept as written (not a number in a known format)",
                "{n:,} phones kept as written (not numbers in a known format)",
                self.phones_kept,
            )
        return text

    def _repr_html_(self) -> str:
        import html

        return f'<p style="color: #666666;">{html.escape(repr(self))}</p>'


def notebook_output_root(params: Params) -> Path:
    """Where a notebook run without an output folder writes its periods' folders.

    ``$CUSTKIT_OUTPUT_DIR`` when set (the test suite points it at a temporary folder), else
    ``notebook-output/`` beside the params file (git ignores it). Published reports are written
    by ``custkit run --out``, so an analyst re-running a notebook in JupyterLab leaves them alone.
    """
    override = os.environ.get(OUTPUT_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser().resolve()
    base = Path(params.path).parent if getattr(params, "path", None) else Path.cwd()
    return base.resolve() / NOTEBOOK_OUTPUT


def start_report(
    report: str,
    params_file: str,
    period: str = "",
    output_dir: str = "",
    tables: Sequence[str] | Mapping[str, Sequence[str] | None] | None = None,
    partial: bool = False,
    sections: Mapping[str, Section] | None = None,
) -> ReportContext:
    """Load the store, resolve and check the period, prepare the output folder, show the header.

    Parameters
    ----------
    report : str
        Report name (its notebook is ``custkit/notebooks/<report>.ipynb``).
    params_file : str
        Params YAML.
    period : str
        ``"YYYY-MM"``; ``""`` means the last complete month in the data.
    output_dir : str
        Folder for kpis.json, exports/ and quarantine/; ``""`` means
        ``<notebook_output_root(params)>/<period>``: a run from JupyterLab never writes over a
        published report.
    tables : sequence of str, or mapping of table to optional columns, optional
        The tables the report reads (orders are always read) and, in a mapping, the optional
        columns it uses (see :func:`custkit.data.load.load_store`); default: everything in
        params. Reading only what a report needs saves seconds and memory on large stores.
    partial : bool
        Report a month that is not over; its pages say "data through <last day of data>".
    sections : mapping of str to Section, optional
        What each section beyond the orders needs (the report's ``SECTIONS``); the header names
        the ones the store's data cannot fill, and ``ctx.section(key)`` guards each.

    Returns
    -------
    ReportContext
        The report language (params ``language``) is set for everything displayed after this.

    Raises
    ------
    PeriodError
        The period is before or after the data, or not over and *partial* is False (see
        :func:`custkit.data.periods.check_period`).
    """
    from custkit.reports.display import show_header
    from custkit.reports.index import report_title
    from custkit.reports.privacy import record_contact_digests

    params = _load_params(params_file)
    set_language(params.language)
    store = _load_store(params, tables)
    first, last = _order_date_range(store)
    requested = ReportPeriod.from_string(period) if period else default_period(last)
    resolved = check_period(requested, first, last, partial=partial)
    if output_dir:
        folder = Path(output_dir).expanduser().resolve()
    else:  # an analyst's run: never into a published month
        folder = notebook_output_root(params) / resolved.period
    folder.mkdir(parents=True, exist_ok=True)
    if output_dir:  # a runner-managed folder: tell the runner what this run resolved
        info = {
            "report": report,
            "period": resolved.period,
            "store": params.store_name,
            "language": params.language,
        }
        write_text_atomic(folder / RUN_INFO_FILE, json.dumps(info, ensure_ascii=False))
    record_contact_digests(store, folder if output_dir else None)  # for the personal-data guard
    quarantine = _write_quarantine(store, folder / "quarantine")
    ctx = ReportContext(
        report=report,
        store=store,
        params=params,
        period=resolved,
        output_dir=folder,
        title=report_title(report),
        quarantine=dict(quarantine),
        sections=dict(sections or {}),
        skipped=skipped_sections(store, sections or {}),
        tables=tables,
    )
    show_header(ctx)
    return ctx


#: The reports whose parameters the customer-state table is built with.
STATE_REPORTS = ("churn", "ltv")
#: Environment variable through which ``custkit run`` hands its ``--set`` values of
#: :data:`STATE_REPORTS` to every report's kernel (JSON ``{"churn": {...}, "ltv": {...}}``): the
#: table, built by whichever report reads it first, then uses the churn rule and models the
#: churn and LTV reports of that run use, even when the run's first report is the audit.
STATE_PARAMETERS_ENV = "CUSTKIT_STATE_PARAMETERS"


#: Shared figures that need only the customers' statuses (the churn rule's), not a model fit.
STATUS_FIGURES = frozenset(
    {"active_base", "churned_customers", "at_risk_customers", "lost_customers"}
)


def state_options(params: Params, model: str | None = None):
    """The :class:`~custkit.customers.StateOptions` of *params*: the churn and LTV reports'
    parameters (:func:`report_parameter_values`), as the reports and ``custkit customer`` use."""
    from custkit.customers import StateOptions

    return StateOptions.from_report_parameters(
        churn=report_parameter_values("churn", params),
        ltv=report_parameter_values("ltv", params),
        model=model,
    )


def report_parameter_values(report: str, params: Params | None) -> dict[str, Any]:
    """*report*'s parameter values: its notebook's literal defaults, then the params file's.

    The values :func:`custkit.reports.parameters.resolve_parameters` gives for a params file
    the runner has already checked, read from the notebook's JSON with :mod:`ast`, without
    papermill and nbformat: importing them takes a report kernel or the card 8-10 s.
    """
    import ast

    from custkit.reports.registry import notebooks_dir

    path = notebooks_dir() / f"{report}.ipynb"
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportError(f"Cannot read notebook '{path}': {exc}") from exc
    values: dict[str, Any] = {}
    for cell in notebook.get("cells", []):
        if "parameters" not in cell.get("metadata", {}).get("tags", []):
            continue
        source = cell.get("source", "")
        for node in ast.parse("".join(source) if isinstance(source, list) else source).body:
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                try:
                    values[node.targets[0].id] = ast.literal_eval(node.value)
                except (ValueError, SyntaxError, TypeError):
                    pass
        break
    for name in ("params_file", "period", "output_dir", "partial"):  # the runner's to set
        values.pop(name, None)
    given = dict(params.report_params(report) or {}) if params is not None else {}
    given.update(_run_overrides(report))
    for name, value in given.items():
        default = values.get(name)
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # as resolve_parameters: an int where the default is a float
        values[name] = value
    return values


def declared_values(report: str, namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The values *namespace* (a report notebook's ``globals()``) holds for the parameters
    *report*'s notebook declares (the runner's reserved ones left out): what its
    ``check_inputs`` takes, so a notebook refuses a bad value before it loads anything."""
    return {
        name: namespace[name] for name in report_parameter_values(report, None) if name in namespace
    }


def _run_overrides(report: str) -> dict[str, Any]:
    """The ``--set`` values of the running ``custkit run`` for *report* (see
    :data:`STATE_PARAMETERS_ENV`); none outside a run."""
    text = os.environ.get(STATE_PARAMETERS_ENV)
    if not text or report not in STATE_REPORTS:
        return {}
    try:
        given = json.loads(text)
    except ValueError as exc:
        raise ReportError(f"{STATE_PARAMETERS_ENV} is not valid JSON: {exc}") from exc
    values = given.get(report) if isinstance(given, dict) else None
    return dict(values) if isinstance(values, dict) else {}


def _covers(tables: Any, needed: Mapping[str, Sequence[str] | None]) -> bool:
    """True when a store loaded with *tables* (``start_report``'s) has every table and optional
    column of *needed* (None: every column)."""
    if tables is None:
        return True
    if not isinstance(tables, Mapping):
        tables = dict.fromkeys(tables)
    for table, columns in needed.items():
        if table == "orders" and table not in tables:
            given: Any = ()
        elif table not in tables:
            return False
        else:
            given = tables[table]
        if given is None:
            continue
        if columns is None or not set(columns) <= set(given):
            return False
    return True


def _relative(path: Path, folder: Path) -> str:
    try:
        return Path(path).resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return str(path)


def _order_date_range(store: Store) -> tuple[pd.Timestamp, pd.Timestamp]:
    orders = store.orders
    if orders is None or orders.empty:
        raise ReportError("The store has no accepted orders, so there is no period to report on.")
    dates = orders["order_date"]
    return dates.min(), dates.max()


# Loaders are imported late so the report layer does not depend on the data layer at import time.
def _load_params(path: str | os.PathLike[str]) -> Params:
    from custkit.params import load_params

    return load_params(path)


def _load_store(params: Params, tables=None) -> Store:
    from custkit.data.load import load_store

    return load_store(params, tables=tables)


def _write_quarantine(store: Store, folder: Path) -> Mapping[str, Path]:
    from custkit.data.load import write_quarantine

    return write_quarantine(store, folder)
