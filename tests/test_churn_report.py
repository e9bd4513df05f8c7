"""End to end: the demo store in, the churn report out."""

import json
import re

import pandas as pd
import pytest

from custkit.churn.text import REASON_CODES
from custkit.data.demo import write_demo_store
from custkit.reports import run_report

CHURN_KPIS = {
    "churned_customers",
    "churn_rate",
    "at_risk_customers",
    "at_risk_value",
    "reason_shares",
    "model_auc",
    "winback_contacts",
    "expected_winback_revenue",
}


@pytest.fixture(scope="module")
def churn_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("churn")
    data = write_demo_store(folder / "data", 3000, seed=5)
    return run_report("churn", data / "params.yaml", out_dir=folder / "reports")


def test_churn_report_runs_and_saves_the_kpis_the_issue_asks_for(churn_run):
    assert churn_run.ok, churn_run.error
    kpis = json.loads(churn_run.kpis.read_text(encoding="utf-8"))["kpis"]
    assert CHURN_KPIS <= set(kpis)
    assert 0 < kpis["churn_rate"] < 1 and kpis["churned_customers"] > 0
    assert set(kpis["reason_shares"]) <= set(REASON_CODES)
    assert sum(kpis["reason_shares"].values()) == pytest.approx(1.0)
    assert 0.5 < kpis["model_auc"] <= 1
    assert kpis["winback_contacts"] > 0 and kpis["expected_winback_revenue"] > 0


def test_churn_html_has_no_code_and_no_contact_data(churn_run):
    page = churn_run.html.read_text(encoding="utf-8")
    assert "assign_reasons" not in page and "Traceback" not in page
    assert not re.search(r"[\w.+-]+@[\w-]+\.(ru|com|org|net)\b", page)
    assert not re.search(r"\+7 \(\d{3}\)", page)
    assert page.count("data:image/png;base64") >= 6


def test_reasons_export_explains_every_target_and_contacts_respect_consent(churn_run):
    exports = churn_run.html.parent / "exports"
    reasons = pd.read_csv(exports / "churn_reasons.csv", encoding="utf-8-sig")
    expected = {"customer_id", "reason", "evidence", "churn_probability", "value", "action"}
    assert expected | {"channel", "incentive"} <= set(reasons.columns)
    assert reasons["customer_id"].is_unique and reasons["evidence"].notna().all()
    assert set(reasons["reason"]) <= set(REASON_CODES)
    assert reasons["churn_probability"].between(0, 1).all() and (reasons["incentive"] >= 0).all()

    contacts = pd.read_csv(exports / "winback_contacts.csv", encoding="utf-8-sig")
    customers = pd.read_csv(
        churn_run.html.parents[3] / "data" / "customers.csv", encoding="utf-8"
    ).drop_duplicates("customer_id")
    merged = contacts.merge(customers, on="customer_id", suffixes=("", "_customer"))
    by_email = merged.loc[merged["channel"] == "email"]
    by_sms = merged.loc[merged["channel"] == "sms"]
    assert len(merged) == len(contacts) > 0
    assert by_email["consent_email"].astype(str).str.lower().isin(["true", "1"]).all()
    assert by_sms["consent_sms"].astype(str).str.lower().isin(["true", "1"]).all()
    assert by_sms["email"].isna().all()  # only the chosen channel's contact field


#: How a store might label feedback in its own words: each custkit code under a Russian label.
STORE_LABELS = {
    "delivery_cost": "Дорогая доставка",
    "competitor_price": "Нашли дешевле",
    "moved_out_of_delivery_area": "Переезд",
    "quality": "Плохое качество",
    "delivery": "Курьер опоздал",
    "support": "Не помогла поддержка",
    "forgot": "Забыли о нас",
    "unknown": "Другое",
}


def test_store_reason_labels_mapped_in_params_give_the_report_of_custkits_codes(
    churn_run, tmp_path_factory, capsys
):
    """The same store with its reasons in its own words, mapped back under churn.reason_map: the
    churn report runs and says exactly what it says on custkit's codes; without the map,
    ``custkit validate`` stops with the entries to add."""
    import yaml

    from custkit.cli import main

    folder = tmp_path_factory.mktemp("churn-store-labels")
    data = write_demo_store(folder / "data", 3000, seed=5)
    feedback = pd.read_csv(data / "feedback.csv", dtype=str, keep_default_na=False)
    assert set(feedback["reason"]) - {""} <= set(STORE_LABELS)
    feedback["reason"] = feedback["reason"].map(lambda code: STORE_LABELS.get(code, code))
    feedback.to_csv(data / "feedback.csv", index=False)

    assert main(["validate", "--params", str(data / "params.yaml")]) == 2
    err = capsys.readouterr().err
    assert "the churn report would stop" in err and "reason_map:" in err
    assert "'Дорогая доставка'" in err

    params = yaml.safe_load((data / "params.yaml").read_text(encoding="utf-8"))
    params["churn"]["reason_map"] = {label: code for code, label in STORE_LABELS.items()}
    (data / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), "utf-8")
    assert main(["validate", "--params", str(data / "params.yaml")]) == 0

    mapped = run_report("churn", data / "params.yaml", out_dir=folder / "reports")
    assert mapped.ok, mapped.error
    expected = json.loads(churn_run.kpis.read_text(encoding="utf-8"))["kpis"]
    kpis = json.loads(mapped.kpis.read_text(encoding="utf-8"))["kpis"]
    assert kpis["reason_shares"] == pytest.approx(expected["reason_shares"])
    assert kpis["churned_customers"] == expected["churned_customers"]
