"""Running report notebooks into dated, offline, PII-free HTML reports.

Notebooks call :func:`start_report` and the ``show_*`` helpers; the command line calls
:func:`run_reports`. One module per concern, in papermill's spirit: ``registry`` (which reports
exist), ``inspection`` (what a notebook declares), ``parameters`` (checked parameter values),
``context`` (what a notebook calls), ``display`` (HTML helpers), ``execute`` (papermill),
``html`` (nbconvert), ``history`` (earlier runs' KPIs), ``index`` (the index page), ``files``
(atomic writes), ``run`` (the flow).
"""

from custkit.reports.context import ReportContext, declared_values, start_report
from custkit.reports.display import (
    for_analysts,
    pii_guard,
    show_figure,
    show_finding,
    show_header,
    show_kpi_history,
    show_kpis,
    show_table,
)
from custkit.reports.execute import NotebookStepError, execute_notebook, kernel_name
from custkit.reports.history import KpiHistory, read_kpi_history
from custkit.reports.html import failure_page, notebook_to_html
from custkit.reports.index import build_index
from custkit.reports.inspection import RESERVED, Parameter, notebook_parameters
from custkit.reports.parameters import parse_overrides, resolve_parameters
from custkit.reports.registry import ReportInfo, get_report, list_reports, notebooks_dir
from custkit.reports.run import RunResult, run_report, run_reports

__all__ = [
    "RESERVED",
    "KpiHistory",
    "NotebookStepError",
    "Parameter",
    "ReportContext",
    "ReportInfo",
    "RunResult",
    "build_index",
    "declared_values",
    "execute_notebook",
    "failure_page",
    "for_analysts",
    "get_report",
    "kernel_name",
    "list_reports",
    "notebook_parameters",
    "notebook_to_html",
    "notebooks_dir",
    "parse_overrides",
    "pii_guard",
    "read_kpi_history",
    "resolve_parameters",
    "run_report",
    "run_reports",
    "show_figure",
    "show_finding",
    "show_header",
    "show_kpi_history",
    "show_kpis",
    "show_table",
    "start_report",
]
