"""Every KPI declares its unit, and the index and the comparisons write each figure by it.

The four reports of the session's small demo run (`small_demo_reports`); the index of that output
folder must show a model's AUC and counts without a currency and money with it (issue 15: the
index showed "Model AUC 0.74 RUB" and "Expected purchases 12 months 28,869 RUB").
"""

from __future__ import annotations

import json
import re
import shutil
import warnings

import pytest

from custkit.reports.history import (
    flatten_kpis,
    kpi_history_comparison,
    read_kpi_history,
)
from custkit.reports.index import build_index
from custkit.units import UNITS, Kpis

REPORTS = ("audit", "ltv", "churn", "splittest")
NBSP = "\u00a0"


@pytest.fixture(scope="module")
def demo_runs(small_demo_reports, tmp_path_factory):
    """A copy of the session's small demo run (the tests here rebuild its index) and each
    report's kpis.json in it."""
    out = tmp_path_factory.mktemp("units") / "reports"
    shutil.copytree(small_demo_reports, out)
    runs = {report: next(out.glob(f"*/{report}/{report}.kpis.json")) for report in REPORTS}
    return out, runs


def _trend_values(page: str) -> dict[str, str]:
    """Label → latest value of each row of the index's trends table."""
    rows = re.findall(
        r"<td>([^<]+)</td><td><svg.*?</svg></td><td class=\"num\"><b>([^<]+)</b>", page
    )
    return dict(rows)


@pytest.mark.parametrize("report", REPORTS)
def test_every_numeric_kpi_of_every_report_declares_a_unit_of_the_allowed_set(demo_runs, report):
    _out, runs = demo_runs
    document = json.loads(runs[report].read_text(encoding="utf-8"))
    numeric = flatten_kpis(document["kpis"])
    assert numeric, f"{report} saved no numeric KPI"
    undeclared = sorted(set(numeric) - set(document["units"]))
    assert not undeclared, f"{report} KPIs without a unit: {undeclared}"
    assert set(document["units"].values()) <= set(UNITS)


def test_index_of_a_run_shows_scores_and_counts_without_a_currency_and_money_with_it(demo_runs):
    out, _runs = demo_runs
    values = _trend_values(build_index(out).read_text(encoding="utf-8"))
    assert re.fullmatch(r"0\.\d\d", values["Model AUC"]), values["Model AUC"]
    for label in ("Expected purchases 12 months", "Churned customers", "Orders", "Customers"):
        assert re.fullmatch(r"[\d,]+", values[label]), (label, values[label])
    for label in ("Revenue", "CLV 12 months total", "Average order value"):
        assert values[label].endswith(f"{NBSP}RUB"), (label, values[label])
    assert re.fullmatch(r"\d+\.\d%", values["Churn rate"]), values["Churn rate"]
    assert not [v for v in values.values() if "RUB" in v and not v.endswith(f"{NBSP}RUB")]


def test_index_in_russian_writes_money_with_the_rouble_sign(demo_runs, monkeypatch):
    from custkit.i18n import use_language

    out, _runs = demo_runs
    with use_language("ru"):
        page = build_index(out).read_text(encoding="utf-8")
    assert "RUB" not in page and f"{NBSP}₽</b>" in page


def _write_kpis(folder, period, report, kpis, units=None):
    path = folder / period / report / f"{report}.kpis.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"report": report, "period": period, "store": "Acme", "currency": "RUB"}
    document["kpis"] = kpis
    if units is not None:
        document["units"] = units
    path.write_text(json.dumps(document), encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "value", "declared", "shown"),
    [
        ("model_auc", 0.74, "score", "0.74"),
        ("expected_purchases_12m", 28869.4, "count", "28,869"),
        ("lift_factor", 1.25, "ratio", "1.25×"),
        ("window_days", 30.0, "days", f"30{NBSP}days"),
        ("holdout_total_error_pct", 15.5, "percent", "15.5%"),
        ("incentive_value", 1234.0, "money", f"1,234{NBSP}RUB"),
    ],
)
def test_old_kpi_files_take_the_unit_the_newest_file_of_their_report_declares(
    tmp_path, name, value, declared, shown
):
    _write_kpis(tmp_path, "2026-09", "churn", {name: value})  # before kpis.json had units
    _write_kpis(tmp_path, "2026-10", "churn", {name: value}, {name: declared})
    history = read_kpi_history(tmp_path)
    assert history.unit("Acme", "churn", name) == declared
    page = build_index(tmp_path).read_text(encoding="utf-8")
    assert f"<b>{shown}</b>" in page and f"Sep 2026: {shown}" in page


def test_a_kpi_file_without_units_falls_back_to_the_unit_its_name_suggests(tmp_path):
    _write_kpis(tmp_path, "2026-10", "churn", {"model_auc": 0.74, "at_risk_value": 5000.0})
    history = read_kpi_history(tmp_path)
    assert history.unit("Acme", "churn", "model_auc") == "score"
    assert history.unit("Acme", "churn", "at_risk_value") == "money"


def test_a_unit_declared_in_a_file_by_hand_outside_the_set_is_ignored(tmp_path):
    _write_kpis(tmp_path, "2026-10", "churn", {"model_auc": 0.74}, {"model_auc": "furlongs"})
    assert read_kpi_history(tmp_path).unit("Acme", "churn", "model_auc") == "score"


def test_comparison_takes_the_declared_unit_before_the_name(tmp_path):
    _write_kpis(tmp_path, "2026-09", "churn", {"odd": 0.5}, {"odd": "score"})
    kpis = Kpis({"odd": 0.75, "things": 3.5}, {"things": "count"})
    frame = kpi_history_comparison(tmp_path, "churn", "2026-10", kpis, client="Acme")
    units = dict(zip(frame["kpi"], frame["unit"], strict=True))
    assert units == {"odd": "score", "things": "count"}
    assert frame.set_index("kpi").loc["odd", "change_vs_previous_month"] == pytest.approx(0.25)


@pytest.mark.parametrize("unit", ["RUB", "number", "", "Count"])
def test_a_unit_outside_the_set_is_refused_with_the_allowed_ones(unit):
    with pytest.raises(ValueError, match=r"Unit of KPI 'x' must be one of \[.*\]\. Got"):
        Kpis({"x": 1.0}, {"x": unit})


def test_kpis_keep_their_units_when_updated_and_stay_a_plain_dict():
    kpis = Kpis({"a": 1}, {"a": "count"})
    kpis.update(Kpis({"b": 0.5}, {"b": "share"}), c=2)
    assert kpis == {"a": 1, "b": 0.5, "c": 2} and isinstance(kpis, dict)
    assert kpis.units == {"a": "count", "b": "share"}
    assert json.loads(json.dumps(kpis)) == {"a": 1, "b": 0.5, "c": 2}


def test_saving_a_kpi_without_a_unit_warns_how_to_declare_it():
    from custkit.reports.history import kpi_units

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        units = kpi_units(Kpis({"a": 1, "b": 2.5}, {"a": "count"}), warn=True)
    assert units == {"a": "count", "b": "number"}
    assert len(caught) == 1 and "b: number" in str(caught[0].message)
    assert "units={name: unit}" in str(caught[0].message)
