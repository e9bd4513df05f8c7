"""Report parameter values: notebook defaults ← the params file's report section ← ``--set``.

The notebook's ``parameters`` cell is the schema. Every key a user gives must be declared there,
and its value must have the type of the default (an ``int`` is fine where a ``float`` is
expected). papermill itself only warns about unknown parameters, so the check lives here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import yaml

from custkit.errors import ParamsError, did_you_mean
from custkit.reports.inspection import NO_LITERAL, OPTIONAL_RESERVED, RESERVED, Parameter
from custkit.reports.registry import ReportInfo, get_report

if TYPE_CHECKING:
    from custkit.params import Params

_RESERVED_OPTION = {
    "params_file": "--params",
    "period": "--period",
    "output_dir": "--out",
    "partial": "--partial",
}
#: Parameters a report no longer has: (report, name) → what replaces it, for params files
#: written for an earlier custkit.
_RETIRED = {
    ("churn", "p_alive_churned"): (
        "the churn rule no longer uses BG/NBD's P(alive): a customer has churned when silent for "
        "longer than churn_quantile (default 0.9) of their own or the store's gaps between "
        "purchases"
    ),
    ("churn", "p_alive_at_risk"): (
        "the churn rule no longer uses BG/NBD's P(alive): a customer is at risk when silent for "
        "longer than at_risk_quantile (default 0.75) of their own or the store's gaps"
    ),
}
_TYPE_WORDS = {
    "int": "an int",
    "float": "a number",
    "str": "a string",
    "bool": "true or false",
    "list": "a list",
    "tuple": "a list",
    "dict": "a mapping",
}


def parse_overrides(pairs: Iterable[str]) -> dict[str, str]:
    """Turn ``["lapse_days=200", "recency_days=[30,60]"]`` into ``{name: text}``.

    Raises
    ------
    ParamsError
        A pair has no ``=`` or no name.
    """
    overrides: dict[str, str] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            raise ParamsError(
                f"--set expects name=value, e.g. --set lapse_days=200. Got {pair!r} instead."
            )
        overrides[name.strip()] = text.strip()
    return overrides


def resolve_parameters(
    report: str | ReportInfo,
    params: Params | None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The parameter values to run *report* with, checked against its notebook.

    Parameters
    ----------
    report : str or ReportInfo
        Report name (or its info from :func:`~custkit.reports.registry.get_report`).
    params : Params or None
        Its ``report_params(name)`` section overrides the notebook defaults.
    overrides : mapping, optional
        ``--set`` values; text is parsed with ``yaml.safe_load`` (``200`` → int,
        ``[30,60]`` → list); other values are used as given.

    Returns
    -------
    dict
        Every parameter with a literal default or a given value, reserved ones excluded.

    Raises
    ------
    ParamsError
        An unknown or reserved name, an unreadable ``--set`` value, or a value of the wrong type.
    """
    info = report if isinstance(report, ReportInfo) else get_report(report)
    where = str(getattr(params, "where", None) or "the params file")
    section = params.report_params(info.name) if params is not None else {}
    if not isinstance(section, Mapping):
        raise ParamsError(
            f"Section '{info.name}' of {where} must be a mapping of parameter: value. "
            f"Got {section!r} instead."
        )
    values = {
        name: parameter.default
        for name, parameter in info.parameters.items()
        if parameter.default is not NO_LITERAL
    }
    for name, value in section.items():
        source = f"section '{info.name}' of {where}"
        parameter = _declared(info, str(name), source)
        values[name] = check_value(info.name, parameter, value, source)
    for name, text in (overrides or {}).items():
        source = f"--set {name}={text}"
        parameter = _declared(info, name, source)
        values[name] = check_value(
            info.name, parameter, _parse_text(parameter, text, source), source
        )
    return values


def check_value(report: str, parameter: Parameter, value: Any, source: str = "") -> Any:
    """Return *value* (``int`` → ``float``, ``list`` → ``tuple`` where the default says so).

    Raises
    ------
    ParamsError
        ``"audit parameter 'lapse_days' must be an int. Got 'abc' (str) instead."``
    """
    kind = parameter.type_name.split("[")[0].lower()
    if kind not in _TYPE_WORDS:  # None/expression defaults and exotic annotations: not checked
        return value
    element = _element_type(parameter.default) if kind in ("list", "tuple") else None
    if not _is_type(value, kind) or (element and not all(_is_type(v, element) for v in value)):
        expected = _TYPE_WORDS[kind] + (f" of {element}" if element else "")
        where = f" (from {source})" if source else ""
        raise ParamsError(
            f"{report} parameter '{parameter.name}' must be {expected}. "
            f"Got {value!r} ({type(value).__name__}) instead{where}."
        )
    if kind == "float":
        return float(value)
    if kind == "tuple":
        return tuple(value)
    if element == "float":
        return [float(v) for v in value]
    return value


def _declared(info: ReportInfo, name: str, source: str) -> Parameter:
    if name in RESERVED or name in OPTIONAL_RESERVED:
        raise ParamsError(
            f"'{name}' cannot be set in {source}: the runner sets it for every report. "
            f"Use the {_RESERVED_OPTION[name]} option of 'custkit run' instead."
        )
    if (info.name, name) in _RETIRED:
        raise ParamsError(
            f"{info.name} parameter '{name}' (in {source}) was retired: "
            f"{_RETIRED[info.name, name]}. Remove it, or set the new parameter instead."
        )
    if name not in info.parameters:
        valid = ", ".join(info.parameters) or "(none)"
        raise ParamsError(
            f"{info.name} parameter '{name}' does not exist (in {source})."
            f"{did_you_mean(name, info.parameters)} Valid {info.name} parameters: {valid}."
        )
    return info.parameters[name]


def _parse_text(parameter: Parameter, text: Any, source: str) -> Any:
    if not isinstance(text, str):
        return text
    if parameter.type_name == "str":  # `--set label=2026` means the text "2026"
        return text
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ParamsError(
            f"Cannot read the value in {source}: {exc}. Quote lists, e.g. --set 'days=[30,60]'."
        ) from exc


def _is_type(value: Any, kind: str) -> bool:
    if isinstance(value, bool):
        return kind == "bool"
    return {
        "int": isinstance(value, int),
        "float": isinstance(value, (int, float)),
        "str": isinstance(value, str),
        "bool": False,
        "list": isinstance(value, (list, tuple)),
        "tuple": isinstance(value, (list, tuple)),
        "dict": isinstance(value, Mapping),
    }[kind]


def _element_type(default: Any) -> str | None:
    """``int``/``float``/``str`` when a non-empty default list holds only that type."""
    if not isinstance(default, (list, tuple)) or not default:
        return None
    kinds = {"float" if isinstance(v, float) else type(v).__name__ for v in default}
    if kinds == {"int", "float"}:
        return "float"
    kind = kinds.pop() if len(kinds) == 1 else None
    return kind if kind in ("int", "float", "str") else None
