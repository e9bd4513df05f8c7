"""End to end: the demo store in, the customer-audit report out, as a manager receives it."""

import json
import re

import pandas as pd
import pytest

from custkit.cli import main
from custkit.data.demo import write_demo_store
from custkit.reports import run_report

HEADLINE_KPIS = {
    "customers",
    "orders",
    "revenue",
    "average_order_value",
    "repeat_customer_rate",
    "new_customers",
    "active_customers_12m",
    "annual_churn_rate",
}


@pytest.fixture(scope="module")
def audit_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("audit")
    data = write_demo_store(folder / "data", 1500, seed=3)
    result = run_report("audit", data / "params.yaml", out_dir=folder / "reports")
    return folder, data, result


def test_audit_runs_for_the_last_complete_month_by_default(audit_run):
    _, _, result = audit_run
    assert result.ok, result.error
    # the demo store's data end on 2026-11-15, so October is the last complete month
    assert result.period == "2026-10"


def test_html_has_no_code_no_personal_data_and_nothing_fetched_online(audit_run):
    _, data, result = audit_run
    page = result.html.read_text(encoding="utf-8")
    assert "ck.reports.start_report" not in page and "params_file" not in page
    customers = pd.read_csv(data / "customers.csv", dtype=str)
    emails = customers["email"].dropna()
    phones = customers["phone"].dropna()
    for email in emails[emails.str.contains("@")].head(300):
        assert email not in page
    for phone in phones[phones.str.count(r"\d") >= 10].head(300):
        assert phone not in page
    assert not re.search(r"[\w.+-]+@[\w-]+\.(ru|com|org|net)\b", page)
    assert not re.search(r"""(src|href)=["']?https?://""", page)
    assert page.count("data:image/png;base64") >= 10
    assert "Traceback" not in page


def test_kpis_json_holds_the_headline_kpis_and_the_data_accounting(audit_run):
    _, _, result = audit_run
    document = json.loads(result.kpis.read_text(encoding="utf-8"))
    assert document["report"] == "audit" and document["as_of"] == "2026-10-31"
    assert HEADLINE_KPIS <= set(document["kpis"])
    kpis = document["kpis"]
    assert kpis["average_order_value"] == pytest.approx(kpis["revenue"] / kpis["orders"])
    orders = document["accounting"]["orders"]
    assert orders["read"] == orders["accepted"] + orders["rejected"] and orders["rejected"] > 0


def test_contact_lists_go_to_exports_and_rejected_rows_to_quarantine(audit_run):
    _, _, result = audit_run
    folder = result.html.parent
    for name in ("reactivation_list", "birthdays_next_month", "duplicates_to_merge"):
        assert (folder / "exports" / f"{name}.csv").read_bytes().startswith(b"\xef\xbb\xbf")
        assert (folder / "exports" / f"{name}.xlsx").exists()
    reactivation = pd.read_csv(folder / "exports" / "reactivation_list.csv", encoding="utf-8-sig")
    assert {"customer_id"} <= set(reactivation.columns) and len(reactivation) > 0
    quarantine = pd.read_csv(folder / "quarantine" / "orders.csv", encoding="utf-8-sig")
    assert set(quarantine["rejection_reason"]) >= {"unparseable_date", "exact_duplicate"}


def test_index_lists_the_report(audit_run):
    folder, _, _ = audit_run
    index = (folder / "reports" / "index.html").read_text(encoding="utf-8")
    assert "2026-10/audit/audit.html" in index


def test_unknown_report_parameter_is_a_clear_error_before_anything_runs(audit_run, capsys):
    folder, data, _ = audit_run
    argv = ["run", "audit", "--params", str(data / "params.yaml"), "--out", str(folder / "x")]
    assert main([*argv, "--set", "lapse_dayz=200"]) == 2
    err = capsys.readouterr().err
    assert "lapse_dayz" in err and "lapse_days" in err and "Traceback" not in err
    assert not (folder / "x" / "2026-10").exists()
