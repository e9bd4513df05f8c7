"""What ``custkit validate`` checks for each report: its parameters and its inputs, as it would.

For every report notebook found, the params file's report section is checked against the
notebook's parameters cell (:func:`~custkit.reports.parameters.resolve_parameters`, as
``custkit run`` does), then the report package's ``check_inputs(store, parameters)`` runs when it
has one (``custkit.audit.check_inputs``: the lapse, activity and loyalty limits, the norm, the
RFM thresholds, the reactivation window; ``custkit.ltv.check_inputs``: holdout, time unit,
penalizer, horizon, discount and margin rates, tiers; ``custkit.churn.check_inputs``: the
feedback reasons through ``reason_map``, the churn rule, the win-back policy;
``custkit.splittest.check_inputs``: levels, windows, metrics, the experiments asked for and the
planned splits). Those functions call what the notebooks call, so a value a report would refuse
is refused here with the same message, before any report runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from custkit.errors import CustkitError
from custkit.reports.parameters import resolve_parameters
from custkit.reports.registry import get_report, report_names

if TYPE_CHECKING:
    from custkit.data.store import Store
    from custkit.params import Params


@dataclass(frozen=True)
class ReportCheck:
    """The outcome of checking one report against a store.

    Attributes
    ----------
    report : str
    parameters : Mapping[str, Any] or None
        The parameter values the report would run with; None when they are wrong.
    error : str or None
        The message the report would stop with; None when it would start.
    """

    report: str
    parameters: Mapping[str, Any] | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


def check_reports(params: Params, store: Store | None = None) -> list[ReportCheck]:
    """Check every report's parameters (and, given *store*, its inputs) without running it.

    Parameters
    ----------
    params : Params
        The params file.
    store : Store, optional
        The loaded store, for the reports' input checks.

    Returns
    -------
    list of ReportCheck
        One per report, by name.
    """
    checks = []
    for name in report_names():
        values = None
        try:
            values = resolve_parameters(get_report(name), params)
            if store is not None:
                check = _input_check(name)
                if check is not None:
                    check(store, values)
        except CustkitError as exc:
            checks.append(ReportCheck(name, values, str(exc)))
        else:
            checks.append(ReportCheck(name, values, None))
    return checks


def _input_check(report: str):
    """``custkit.<report>.check_inputs``, or None (a report of the user's own, or none there)."""
    module = f"custkit.{report}"
    try:
        package = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return None
    return getattr(package, "check_inputs", None)
