import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from custkit.data.periods import ReportPeriod
from custkit.errors import ReportError
from custkit.reports.context import ReportContext
from custkit.reports.display import kpi_history_html
from custkit.reports.history import (
    COMPARISON_COLUMNS,
    flatten_kpis,
    history_root,
    kpi_history_comparison,
    kpi_label,
    kpi_unit,
    read_kpi_history,
)


def put_kpis(out, period, report, kpis, store="Acme", legacy=False):
    """``<out>/<period>/<report>/<report>.kpis.json``, or with *legacy* the layout before
    report folders, ``<out>/<period>/<report>.kpis.json``."""
    folder = out / period if legacy else out / period / report
    folder.mkdir(parents=True, exist_ok=True)
    document = {"report": report, "period": period, "store": store, "kpis": kpis}
    path = folder / f"{report}.kpis.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.fixture
def two_clients(tmp_path):
    """Acme's audit for 2026-08 (the layout before report folders) and 2026-10 (09 missing),
    Bolt's churn for 2026-10, one broken file, one non-KPI JSON file and a staging folder and a
    report set aside while publishing that must be ignored."""
    put_kpis(
        tmp_path,
        "2026-08",
        "audit",
        {"customers": 100, "revenue": 1000.5, "model": "x"},
        legacy=True,
    )
    put_kpis(tmp_path, "2026-10", "audit", {"customers": 120, "revenue": None, "flag": True})
    put_kpis(
        tmp_path,
        "2026-10",
        "churn",
        {"churn_rate": 0.04, "reason_shares": {"forgot": 0.38, "note": "text"}, "list": [1, 2]},
        store="Bolt",
    )
    (tmp_path / "2026-09").mkdir()
    (tmp_path / "2026-09" / "audit.kpis.json").write_text('{"report": "audit", "kpis": {"cu')
    (tmp_path / "2026-09" / "ltv.kpis.json").write_text('["not", "a", "kpi", "file"]')
    put_kpis(tmp_path / ".staging", "audit-1", "audit", {"customers": 1})
    aside = tmp_path / "2026-10" / ".audit.old-1"  # what a killed publish may leave
    aside.mkdir(parents=True)
    (aside / "audit.kpis.json").write_text('{"report": "audit", "kpis": {"customers": 1}}')
    return tmp_path


def test_history_frame_is_tidy_per_client_with_nested_kpis_flattened(two_clients):
    history = read_kpi_history(two_clients)
    assert list(history.values.columns) == ["client", "report", "period", "kpi", "value", "unit"]
    rows = history.values.drop(columns=["report", "unit"]).itertuples(index=False, name=None)
    assert list(rows) == [
        ("Acme", "2026-08", "customers", 100),
        ("Acme", "2026-08", "revenue", 1000.5),
        ("Acme", "2026-10", "customers", 120),
        ("Bolt", "2026-10", "churn_rate", 0.04),
        ("Bolt", "2026-10", "reason_shares.forgot", 0.38),
    ]
    assert history.values["value"].dtype == "float64"
    assert history.series("Acme", "audit", "customers").to_dict() == {
        "2026-08": 100,
        "2026-10": 120,
    }
    assert history.headline_kpis("Bolt", "churn") == ["churn_rate", "reason_shares.forgot"]
    assert history.headline_kpis("Acme", "audit", n=1) == ["customers"]
    assert set(history.files["file"]) == {
        "2026-08/audit.kpis.json",
        "2026-10/audit/audit.kpis.json",
        "2026-10/churn/churn.kpis.json",
    }


def test_a_report_folder_wins_over_a_file_of_the_older_layout_beside_it(tmp_path):
    put_kpis(tmp_path, "2026-10", "audit", {"customers": 2})
    put_kpis(tmp_path, "2026-10", "audit", {"customers": 1}, legacy=True)
    put_kpis(tmp_path / "2026-10", "exports", "audit", {"customers": 3})  # not a report folder
    history = read_kpi_history(tmp_path)
    assert history.files["file"].tolist() == ["2026-10/audit/audit.kpis.json"]
    assert history.series("Acme", "audit", "customers").to_dict() == {"2026-10": 2}
    frame = kpi_history_comparison(tmp_path, "audit", "2026-11", {"customers": 4}, "Acme")
    assert frame.loc[0, "previous_month"] == 2


def test_history_skips_and_lists_unreadable_files_instead_of_failing(two_clients):
    history = read_kpi_history(two_clients)
    reasons = {f.file: f.reason for f in history.unreadable}
    assert set(reasons) == {"2026-09/audit.kpis.json", "2026-09/ltv.kpis.json"}
    assert "not valid JSON" in reasons["2026-09/audit.kpis.json"]
    assert "no 'kpis' section" in reasons["2026-09/ltv.kpis.json"]


def test_history_of_an_empty_or_absent_folder_is_empty(tmp_path):
    for folder in (tmp_path, tmp_path / "absent"):
        history = read_kpi_history(folder)
        assert history.values.empty and history.files.empty and history.unreadable == ()


def test_flatten_kpis_keeps_finite_numbers_one_level_deep():
    kpis = {
        "a": np.int64(3),
        "b": np.float64("nan"),
        "c": {"x": 0.5, "y": {"deeper": 1}, "z": False},
        "d": "text",
        "e": math.inf,
    }
    assert flatten_kpis(kpis) == {"a": 3.0, "c.x": 0.5}


@pytest.mark.parametrize(
    ("name", "values", "unit"),
    [
        ("churn_rate", [0.1], "share"),
        ("reason_shares.forgot", [0.3], "share"),
        ("p_alive_mean", [0.9], "share"),
        ("customers", [120.0, 100.0], "count"),
        ("revenue", [1000.5], "money"),
        ("revenue", [1000.0], "money"),
        ("expected_purchases_12m", [2264.3], "count"),
        ("model_auc", [0.74], "score"),
        ("horizon_days", [30.0], "days"),
        ("holdout_total_error_pct", [15.5], "percent"),
        ("lift", [1.2345], "number"),
    ],
)
def test_kpi_unit_of_an_old_file_is_read_from_the_name_then_the_values(name, values, unit):
    assert kpi_unit(name, values) == unit


def test_kpi_labels_are_in_plain_words():
    assert kpi_label("clv_12m_total") == "CLV 12 months total"
    assert kpi_label("reason_shares.moved_out") == "Reason shares: moved out"
    assert kpi_label("holdout_mae.BG/NBD") == "Holdout MAE: BG/NBD"


# --- comparison with earlier reports ------------------------------------------------------------


def test_comparison_reads_last_month_and_the_same_month_last_year(tmp_path):
    put_kpis(tmp_path, "2026-09", "audit", {"customers": 100, "repeat_customer_rate": 0.30})
    put_kpis(tmp_path, "2025-10", "audit", {"customers": 80}, legacy=True)
    put_kpis(tmp_path, "2026-08", "audit", {"customers": 1})  # neither comparison month
    frame = kpi_history_comparison(
        tmp_path, "audit", "2026-10", {"customers": 120, "repeat_customer_rate": 0.33}, "Acme"
    )
    assert tuple(frame.columns) == COMPARISON_COLUMNS
    rows = frame.set_index("kpi")
    assert rows.loc["customers", "previous_month"] == 100
    assert rows.loc["customers", "change_vs_previous_month"] == pytest.approx(0.2)
    assert rows.loc["customers", "change_vs_last_year"] == pytest.approx(0.5)
    assert rows.loc["customers", "unit"] == "count"
    share = rows.loc["repeat_customer_rate"]
    assert share["change_vs_previous_month"] == pytest.approx(0.03)  # percentage points
    assert math.isnan(share["same_month_last_year"]) and math.isnan(share["change_vs_last_year"])


def test_comparison_without_history_or_of_another_client_is_all_missing(tmp_path):
    put_kpis(tmp_path, "2026-09", "audit", {"customers": 100}, store="Other shop")
    put_kpis(tmp_path, "2026-09", "ltv", {"customers": 100})
    frame = kpi_history_comparison(tmp_path, "audit", "2026-10", {"customers": 120}, "Acme")
    assert frame.loc[0, "value"] == 120
    assert frame[["previous_month", "same_month_last_year"]].isna().all().all()
    page = kpi_history_html(frame, period="2026-10")
    assert page.count(">—</td>") == 4  # two values and two changes
    assert "No earlier report of this store" in page and "September 2026" in page


def test_comparison_of_chosen_kpis_including_a_nested_one(tmp_path):
    put_kpis(tmp_path, "2026-09", "churn", {"reason_shares": {"forgot": 0.30}})
    kpis = {"churned_customers": 5, "reason_shares": {"forgot": 0.35}}
    frame = kpi_history_comparison(
        tmp_path, "churn", "2026-10", kpis, names=["reason_shares.forgot"]
    )
    assert frame["kpi"].tolist() == ["reason_shares.forgot"]
    assert frame.loc[0, "change_vs_previous_month"] == pytest.approx(0.05)
    default = kpi_history_comparison(tmp_path, "churn", "2026-10", kpis)
    assert default["kpi"].tolist() == ["churned_customers"]  # top-level KPIs by default


def test_history_root_is_found_from_a_staging_a_period_or_a_plain_folder(tmp_path):
    assert history_root(tmp_path / ".staging" / "audit-1a2b", "2026-10") == tmp_path
    assert history_root(tmp_path / "2026-10", "2026-10") == tmp_path
    assert history_root(tmp_path / "2026-10" / "audit", "2026-10") == tmp_path
    assert history_root(tmp_path / "mine", "2026-10") == tmp_path / "mine"


def test_kpi_history_html_shows_changes_coloured_by_direction_and_escaped():
    frame = pd.DataFrame(
        {
            "kpi": ["customers", "churn_rate", "reason_shares.forgot"],
            "label": ["Customers <all>", "Churn rate", "Reason shares: forgot"],
            "value": [120.0, 0.05, 0.4],
            "previous_month": [100.0, 0.04, 0.3],
            "change_vs_previous_month": [0.2, 0.01, 0.1],
            "same_month_last_year": [np.nan, np.nan, np.nan],
            "change_vs_last_year": [np.nan, np.nan, np.nan],
            "unit": ["count", "share", "share"],
        }
    )
    page = kpi_history_html(frame, currency="EUR", period="2026-01")
    assert "January 2026" in page and "December 2025" in page and "January 2025" in page
    assert "Customers &lt;all&gt;" in page and "<all>" not in page
    assert 'color: #2e7d32;">+20.0%</td>' in page  # more customers: good
    assert 'color: #c62828;">+1.0 pp</td>' in page  # more churn: bad
    assert 'color: inherit;">+10.0 pp</td>' in page  # a reason's share: neither
    assert "published in the earlier reports" in page


def test_kpi_history_html_can_fold_the_table_under_a_summary(tmp_path):
    frame = kpi_history_comparison(tmp_path, "audit", "2026-10", {"customers": 120})
    page = kpi_history_html(frame, period="2026-10", collapsed=True)
    assert page.startswith("<details") and "<summary" in page and "<table" in page
    assert "as published for September 2026 and October 2025" in page


def test_kpi_history_html_refuses_a_frame_without_its_columns():
    with pytest.raises(ReportError, match="missing column"):
        kpi_history_html(pd.DataFrame({"kpi": ["x"]}))


def test_context_compares_the_saved_kpis_with_the_runners_output_folder(
    store, fake_params, tmp_path
):
    put_kpis(tmp_path, "2026-09", "audit", {"customers": 100}, store="Test store")
    ctx = ReportContext(
        report="audit",
        store=store,
        params=fake_params(),
        period=ReportPeriod.from_string("2026-10"),
        output_dir=tmp_path / ".staging" / "audit-0123",
    )
    with pytest.raises(ReportError, match="save_kpis"):
        ctx.history_comparison()
    ctx.save_kpis({"customers": np.int64(150), "model": "BG/NBD"})
    frame = ctx.history_comparison()
    assert frame["kpi"].tolist() == ["customers"]
    assert frame.loc[0, "change_vs_previous_month"] == pytest.approx(0.5)
    given = ctx.history_comparison({"customers": 50})
    assert given.loc[0, "change_vs_previous_month"] == pytest.approx(-0.5)


# --- end to end ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_months(tmp_path_factory):
    from custkit.data.demo import write_demo_store
    from custkit.reports import run_report

    folder = tmp_path_factory.mktemp("history")
    data = write_demo_store(folder / "data", 1500, seed=5)
    out = folder / "reports"
    results = [
        run_report("audit", data / "params.yaml", period=period, out_dir=out)
        for period in ("2026-09", "2026-10")
    ]
    return out, results


def test_second_months_report_shows_the_change_against_the_first(two_months):
    out, results = two_months
    assert all(result.ok for result in results), [r.error for r in results]
    before, now = (
        json.loads((out / p / "audit" / "audit.kpis.json").read_text(encoding="utf-8"))["kpis"]
        for p in ("2026-09", "2026-10")
    )
    page = (out / "2026-10" / "audit" / "audit.html").read_text(encoding="utf-8")
    table = page[page.index("Against earlier reports") :]
    assert "September 2026" in table and "October 2025" in table
    change = now["customers"] / before["customers"] - 1
    expected = f"{change:+.1%}".replace("-", "\u2212")
    assert re.search(rf"Customers</td>.*?{re.escape(expected)}</td>", table, re.S)
    first = (out / "2026-09" / "audit" / "audit.html").read_text(encoding="utf-8")
    assert "No earlier report of this store" in first


def test_index_lists_both_months_with_a_trend(two_months):
    out, _ = two_months
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.index('href="2026-10/audit/audit.html"') < page.index(
        'href="2026-09/audit/audit.html"'
    )
    assert "October 2026" in page and "September 2026" in page
    assert "Trends over the last 12 months" in page and "<polyline" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
