"""Report history: the ``<out>/<period>/<report>/<report>.kpis.json`` files of earlier runs,
read back (and ``<out>/<period>/<report>.kpis.json``, the layout before report folders).

Two readers use it: the index page (a trend of each report's headline KPIs per client) and each
report, which compares this month's KPIs with last month's and the same month last year's as they
were reported then. Only files are read, never the store, so the history costs milliseconds and
works for every report, including those whose KPIs cannot be recomputed from the orders.

A history is kept per client: several clients may write into one output folder (different
reports, from different scheduled jobs), and each ``kpis.json`` names its ``store``. A file that
cannot be read (cut short, edited by hand, not a KPI file) is skipped and listed, so one bad file
never hides the rest.
"""

from __future__ import annotations

import math
import numbers
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

# where the kpis.json files are and reading one: in the core layer, for the analyses too
from custkit.kpi_files import KPIS_SUFFIX as KPIS_SUFFIX
from custkit.kpi_files import UnreadableKpis as UnreadableKpis
from custkit.kpi_files import history_root as history_root
from custkit.kpi_files import kpi_files as kpi_files
from custkit.kpi_files import load_kpis_file as load_kpis_file
from custkit.kpi_files import report_kpis_path as report_kpis_path
from custkit.reports.display import humanize
from custkit.units import UNITS, Kpis, declared_unit

#: How many KPIs of a report the index page draws trends for: its first numeric top-level ones.
HEADLINE_KPIS = 4
#: Columns of :attr:`KpiHistory.values`.
VALUE_COLUMNS = ("client", "report", "period", "kpi", "value", "unit")
#: Columns of :attr:`KpiHistory.files`.
FILE_COLUMNS = ("client", "report", "period", "generated_at", "file", "currency")
#: Columns of :func:`kpi_history_comparison`, the same as :func:`custkit.audit.kpi_comparison`.
COMPARISON_COLUMNS = (
    "kpi",
    "label",
    "value",
    "previous_month",
    "change_vs_previous_month",
    "same_month_last_year",
    "change_vs_last_year",
    "unit",
)

#: A unit of :data:`custkit.units.UNITS`, or ``number`` (a figure of a file that declares no
#: unit and whose name does not tell one).
Unit = Literal["count", "money", "share", "percent", "ratio", "days", "score", "number"]

#: Units whose change is a difference (percentage points, score points), not a relative change.
DIFFERENCE_UNITS = ("share", "percent", "score")

_PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_SHARE_RE = re.compile(r"(^|_)(share|shares|rate|ratio|pct|p_alive)($|_)")
_MONEY_RE = re.compile(
    r"(^|_)(revenue|value|clv|ltv|aov|amount|spend|margin|profit|cost|incentive)($|_)"
)
_SCORE_RE = re.compile(r"(^|_)(auc|brier|gini|score|r2)($|_)")
_DAYS_RE = re.compile(r"(^|_)days($|_)")
_PERCENT_RE = re.compile(r"(^|_)pct($|_)")
_COUNT_RE = re.compile(
    r"(^|_)(customers|orders|purchases|contacts|contacted|targets|experiments|count|mae)($|_)"
)


@dataclass(frozen=True)
class UnreadableFile:
    """A ``kpis.json`` left out of the history, and why.

    Attributes
    ----------
    file : str
        Path relative to the output folder, e.g. ``"2026-08/audit/audit.kpis.json"``.
    reason : str
        One line a manager or an analyst can act on.
    """

    file: str
    reason: str


@dataclass(frozen=True)
class KpiHistory:
    """Every readable ``kpis.json`` of an output folder.

    Attributes
    ----------
    values : pandas.DataFrame
        Tidy: one row per numeric KPI of each file, columns ``client, report, period, kpi,
        value`` (a float) and ``unit`` (as the file declares it; ``""`` in files written before
        kpis.json declared units). Dicts of numbers are flattened one level
        (``reason_shares.forgot``); text, flags, lists and missing values are left out. Sorted by
        client, report and period; within a file the KPIs keep the file's order.
    files : pandas.DataFrame
        One row per readable file: ``client, report, period, generated_at, file, currency``
        (``""`` for files written before kpis.json recorded the store's currency).
    unreadable : tuple of UnreadableFile
        Files that could not be used.
    """

    values: pd.DataFrame
    files: pd.DataFrame
    unreadable: tuple[UnreadableFile, ...] = field(default_factory=tuple)

    def series(self, client: str, report: str, kpi: str) -> pd.Series:
        """Values of one KPI indexed by period, oldest first."""
        rows = self.values[
            (self.values["client"] == client)
            & (self.values["report"] == report)
            & (self.values["kpi"] == kpi)
        ]
        return pd.Series(rows["value"].to_numpy(), index=rows["period"].to_numpy(), name=kpi)

    def headline_kpis(self, client: str, report: str, n: int = HEADLINE_KPIS) -> list[str]:
        """The first *n* numeric top-level KPIs of the client's latest file of *report*.

        Nested ones (``reason_shares.forgot``) only fill up when there are fewer than *n*.
        """
        rows = self.values[(self.values["client"] == client) & (self.values["report"] == report)]
        if rows.empty:
            return []
        latest = rows[rows["period"] == rows["period"].max()]["kpi"].tolist()
        names = [k for k in latest if "." not in k] + [k for k in latest if "." in k]
        return names[:n]

    def unit(self, client: str, report: str, kpi: str) -> Unit:
        """The unit to show *kpi* of *report* in: the one its newest file declaring it names
        (this client's first, then any client's: a report's KPIs mean the same for every
        store); for KPI files written before units were declared, the one its name suggests
        (:func:`kpi_unit`)."""
        rows = self.values[(self.values["report"] == report) & (self.values["kpi"] == kpi)]
        declared = rows[rows["unit"] != ""]
        if len(declared):
            own = declared[declared["client"] == client]
            chosen = own if len(own) else declared.sort_values("period", kind="stable")
            return chosen["unit"].iloc[-1]
        return kpi_unit(kpi, rows.loc[rows["client"] == client, "value"].to_numpy())

    def currency(self, client: str) -> str:
        """The currency of the client's newest KPI file that names one (``""`` if none does)."""
        rows = self.files[(self.files["client"] == client) & (self.files["currency"] != "")]
        return (
            str(rows.sort_values("period", kind="stable")["currency"].iloc[-1]) if len(rows) else ""
        )


def read_kpi_history(out_dir: str | os.PathLike[str]) -> KpiHistory:
    """Read every ``<out_dir>/<period>/<report>/<report>.kpis.json`` (and, from output folders
    written before reports had a folder each, ``<out_dir>/<period>/<report>.kpis.json``).

    Parameters
    ----------
    out_dir : path-like
        An output folder of ``custkit run`` or ``custkit schedule run``. Hidden folders
        (``.staging``, a report set aside while publishing) are not read.

    Returns
    -------
    KpiHistory
        The client of a file is its ``store``; its period is the folder's name (the file's own
        ``period`` when the folder is not named ``YYYY-MM``). Unreadable files are listed in
        ``unreadable``, never raised.
    """
    out = Path(out_dir)
    values: list[tuple[str, str, str, str, float, str]] = []
    files: list[tuple[str, str, str, str, str, str]] = []
    unreadable = []
    for path in kpi_files(out):
        relative = path.relative_to(out).as_posix()
        try:
            document = load_kpis_file(path)
        except UnreadableKpis as exc:
            unreadable.append(UnreadableFile(relative, str(exc)))
            continue
        period = path.relative_to(out).parts[0]
        if not _PERIOD_RE.match(period):
            period = str(document.get("period") or "")
            if not _PERIOD_RE.match(period):
                unreadable.append(UnreadableFile(relative, "it names no report month (YYYY-MM)"))
                continue
        report = str(document.get("report") or path.name.removesuffix(KPIS_SUFFIX))
        client = str(document.get("store") or "")
        generated = str(document.get("generated_at") or "")
        currency = str(document.get("currency") or "")
        files.append((client, report, period, generated, relative, currency))
        units = declared_units(document)
        for kpi, value in flatten_kpis(document["kpis"]).items():
            values.append((client, report, period, kpi, value, declared_unit(kpi, units) or ""))
    value_frame = pd.DataFrame(values, columns=list(VALUE_COLUMNS)).astype({"value": "float64"})
    keys = ["client", "report", "period"]
    return KpiHistory(
        values=value_frame.sort_values(keys, kind="stable").reset_index(drop=True),
        files=pd.DataFrame(files, columns=list(FILE_COLUMNS))
        .sort_values(keys, kind="stable")
        .reset_index(drop=True),
        unreadable=tuple(unreadable),
    )


def flatten_kpis(kpis: Mapping[str, Any]) -> dict[str, float]:
    """The numeric KPIs of *kpis*, with dicts of numbers flattened one level.

    ``{"churn_rate": 0.04, "reason_shares": {"forgot": 0.38}, "model": "BG/NBD"}`` gives
    ``{"churn_rate": 0.04, "reason_shares.forgot": 0.38}``. Flags, text, lists, missing and
    non-finite values are left out.
    """
    flat: dict[str, float] = {}
    for name, value in kpis.items():
        if isinstance(value, Mapping):
            for inner, inner_value in value.items():
                if _is_number(inner_value):
                    flat[f"{name}.{inner}"] = float(inner_value)
        elif _is_number(value):
            flat[str(name)] = float(value)
    return flat


def kpi_label(name: str) -> str:
    """``churn_rate`` → ``Churn rate``; ``reason_shares.forgot`` → ``Reason shares: forgot``."""
    parent, dot, child = name.partition(".")
    if not dot:
        return humanize(name)
    member = humanize(child)
    if re.fullmatch(r"[a-z0-9_]+", child) and not member[:2].isupper():  # keep "CLV", "BG/NBD"
        member = member[:1].lower() + member[1:]
    return f"{humanize(parent)}: {member}"


def kpi_unit(name: str, values: Iterable[Any] = ()) -> Unit:
    """The unit a KPI's name suggests, else its values: for KPIs that declare none (files
    written before kpis.json held ``units``, KPIs saved by hand without one).

    ``score`` for model measures (``…_auc``, ``brier…``); ``days`` (``horizon_days``);
    ``percent`` (``…_pct``, already in per cent); ``share`` (0..1): ``…_rate``, ``…_share``,
    ``p_alive…`` or a member of ``reason_shares``; ``money`` (shown with the currency):
    ``revenue``, ``…_value``, ``clv…`` and the like; ``count``: customers, orders, purchases,
    or every value whole; otherwise ``number`` (shown as a plain number, never with a currency).
    """
    parts = name.lower().split(".")
    if _SCORE_RE.search(parts[0]):
        return "score"
    if _DAYS_RE.search(parts[0]):
        return "days"
    if _PERCENT_RE.search(parts[0]):
        return "percent"
    if any(_SHARE_RE.search(part) for part in parts):
        return "share"
    if _MONEY_RE.search(parts[0]):
        return "money"
    if _COUNT_RE.search(parts[0]):
        return "count"
    numbers = [float(v) for v in values if _is_number(v)]
    if numbers and all(v == round(v) for v in numbers):
        return "count"
    return "number"


def kpi_units(
    kpis: Mapping[str, Any], units: Mapping[str, str] | None = None, warn: bool = False
) -> dict[str, str]:
    """The unit of each numeric KPI of *kpis* (flattened names, as in :func:`flatten_kpis`).

    Declared units come first: those of *kpis* when it is a :class:`~custkit.units.Kpis`, then
    *units*; the others are guessed by :func:`kpi_unit`, with a warning when *warn*.

    Raises
    ------
    ValueError
        A declared unit outside :data:`custkit.units.UNITS`.
    """
    from custkit.units import check_units

    declared = {**getattr(kpis, "units", {}), **check_units(units or {})}
    found: dict[str, str] = {}
    guessed = []
    for name, value in flatten_kpis(kpis).items():
        unit = declared_unit(name, declared)
        if unit is None:
            unit = kpi_unit(name, [value])
            guessed.append(f"{name}: {unit}")
        found[name] = unit
    if guessed and warn:
        import warnings

        warnings.warn(
            f"KPI(s) saved without a declared unit, shown by the unit their name suggests "
            f"({'; '.join(guessed)}). Declare them: ctx.save_kpis(kpis, units={{name: unit}}), "
            f"unit one of {list(UNITS)}.",
            stacklevel=3,
        )
    return found


def declared_units(document: Mapping[str, Any]) -> dict[str, str]:
    """The ``units`` a kpis.json document declares, known units only (a file edited by hand
    loses only its unknown entries); ``{}`` for files written before kpis.json held units."""
    units = document.get("units")
    if not isinstance(units, Mapping):
        return {}
    return {str(k): str(u) for k, u in units.items() if u in UNITS}


def kpi_change(value: Any, base: Any, unit: str) -> float:
    """Relative change for counts, money, ratios and days (0.042 = +4.2%), the difference for
    shares, per cents and scores; NaN when either value is missing, or the base is zero for a
    relative change."""
    if not (_is_number(value) and _is_number(base)):
        return math.nan
    if unit in DIFFERENCE_UNITS:
        return float(value) - float(base)
    return float(value) / float(base) - 1 if base else math.nan


def kpi_history_comparison(
    out_dir: str | os.PathLike[str],
    report: str,
    period: str,
    kpis: Mapping[str, Any],
    client: str | None = None,
    names: Sequence[str] | None = None,
    units: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """This run's KPIs next to those reported for the previous month and a year earlier.

    Parameters
    ----------
    out_dir : path-like
        The output folder holding ``<period>/<report>/<report>.kpis.json`` of earlier runs.
    report : str
    period : str
        This run's month, ``"YYYY-MM"``.
    kpis : mapping
        This run's KPIs (as given to ``ctx.save_kpis``).
    client : str, optional
        The store name; an earlier file of another store counts as no history.
    names : sequence of str, optional
        KPIs to compare, in this order (``"reason_shares.forgot"`` for a nested one); default:
        every numeric top-level KPI.
    units : mapping, optional
        KPI → unit, beside those *kpis* declares (:func:`kpi_units`); a KPI declared by
        neither takes the unit the earlier files declare, else the one its name suggests.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COMPARISON_COLUMNS`, one row per KPI; NaN where there is no earlier
        report, or it lacks the KPI. Feeds :func:`custkit.reports.display.kpi_history_html`.
    """
    from custkit.data.periods import ReportPeriod

    current = flatten_kpis(kpis)
    declared = {**getattr(kpis, "units", {}), **dict(units or {})}
    if names is None:
        names = [name for name in current if "." not in name]
    month = ReportPeriod.from_string(period)
    root = Path(out_dir)
    earlier = {
        "previous_month": _earlier_kpis(root, month.previous_month.period, report, client),
        "same_month_last_year": _earlier_kpis(
            root, month.same_month_last_year.period, report, client
        ),
    }
    for earlier_kpis in earlier.values():  # this run's declarations win
        declared = {**earlier_kpis.units, **declared}
    rows = []
    for name in names:
        value = current.get(name, math.nan)
        before = earlier["previous_month"].get(name, math.nan)
        year_ago = earlier["same_month_last_year"].get(name, math.nan)
        unit = declared_unit(name, declared) or kpi_unit(name, [value, before, year_ago])
        rows.append(
            {
                "kpi": name,
                "label": kpi_label(name),
                "value": value,
                "previous_month": before,
                "change_vs_previous_month": kpi_change(value, before, unit),
                "same_month_last_year": year_ago,
                "change_vs_last_year": kpi_change(value, year_ago, unit),
                "unit": unit,
            }
        )
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


def _earlier_kpis(root: Path, period: str, report: str, client: str | None) -> Kpis:
    try:
        document = load_kpis_file(report_kpis_path(root, period, report))
    except UnreadableKpis:  # no earlier report (or a broken one): nothing to compare with
        return Kpis()
    if client is not None and str(document.get("store") or "") != client:
        return Kpis()
    return Kpis(flatten_kpis(document["kpis"]), declared_units(document))


def _is_number(value: Any) -> bool:
    """A finite real number; numpy scalars count, flags do not."""
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, (bool, np.bool_))
        and math.isfinite(float(value))
    )
