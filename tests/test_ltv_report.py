"""End to end: the demo store in, the LTV report out."""

import json
import re

import pandas as pd
import pytest

from custkit.data.demo import write_demo_store
from custkit.reports import run_report

LTV_KPIS = {
    "model",
    "time_unit",
    "expected_purchases_12m",
    "clv_12m_total",
    "clv_12m_mean",
    "p_alive_mean",
    "holdout_mae",
    "value_at_risk",
}


@pytest.fixture(scope="module")
def ltv_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ltv")
    data = write_demo_store(folder / "data", 1500, seed=5)
    return run_report("ltv", data / "params.yaml", out_dir=folder / "reports")


def test_ltv_report_runs_and_saves_its_kpis(ltv_run):
    assert ltv_run.ok, ltv_run.error
    document = json.loads(ltv_run.kpis.read_text(encoding="utf-8"))
    kpis = document["kpis"]
    assert LTV_KPIS <= set(kpis)
    assert kpis["time_unit"] == "W" and kpis["model"] in kpis["holdout_mae"]
    assert kpis["clv_12m_total"] > 0 and 0 < kpis["p_alive_mean"] <= 1
    assert 0 <= kpis["value_at_risk"] <= kpis["clv_12m_total"]


def test_ltv_html_has_no_code_and_no_contact_data(ltv_run):
    page = ltv_run.html.read_text(encoding="utf-8")
    assert "compare_purchase_models" not in page and "Traceback" not in page
    assert not re.search(r"[\w.+-]+@[\w-]+\.(ru|com|org|net)\b", page)
    assert not re.search(r"""(src|href)=["']?https?://""", page)
    assert page.count("data:image/png;base64") >= 6


def test_every_customer_is_valued_and_never_negative_or_missing(ltv_run):
    exports = ltv_run.html.parent / "exports"
    table = pd.read_csv(exports / "customer_value.csv", encoding="utf-8-sig")
    assert table["customer_id"].is_unique
    assert table[["clv", "p_alive", "expected_purchases"]].notna().all().all()
    assert (table["clv"] >= 0).all()
    # one-time buyers are worth something too (Gamma-Gamma's population mean, or its fallback)
    scored = table[(table["status"] == "scored") & (table["expected_purchases"] > 0.01)]
    assert (scored["clv"] > 0).all()
    assert set(table["tier"]) <= {"top_1%", "top_5%", "top_20%", "rest", "not_scored"}
    at_risk = pd.read_csv(exports / "value_at_risk.csv", encoding="utf-8-sig")
    assert at_risk["value_at_risk"].is_monotonic_decreasing
    assert {"email", "consent_email"} <= set(at_risk.columns)


# 200 customers are too few for Pareto/NBD's s: its convergence warnings are expected here
@pytest.mark.filterwarnings("ignore::custkit.ltv.base.ConvergenceWarning")
def test_model_comparison_runs_on_a_customer_sample_of_large_bases():
    from custkit.data.demo import generate_demo_store
    from custkit.ltv import compare_purchase_models

    orders = generate_demo_store(600, seed=2, dirty=False)["orders"]
    comparison = compare_purchase_models(orders, pd.Timestamp("2026-10-31"), max_customers=200)
    assert len(comparison.predictions) <= 200
    assert comparison.best_purchase_model in {"BG/NBD", "MBG/NBD", "Pareto/NBD"}
