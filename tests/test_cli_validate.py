"""``custkit validate`` checks what the reports check: their parameters, their inputs, the dates.

Each refusal is compared with the message the report itself stops with (the same function
raises it), and the accounting still prints.
"""

import json
import warnings

import pandas as pd
import pytest
import yaml

from custkit import churn, splittest
from custkit.cli import main
from custkit.data.load import load_store
from custkit.errors import CustkitError
from custkit.params import load_params
from custkit.reports import get_report, resolve_parameters

ORDERS = """order_id,customer_id,order_date,revenue,cost
1,1,2025-01-03,100,60
2,2,2025-02-10,250,100
3,1,2025-03-31 18:30:00,80,40
4,3,not a date,50,10
"""
FEEDBACK = """customer_id,created_at,text,reason
1,2025-01-05,Доставка стоит как товар,Дорогая доставка
2,2025-02-12,Привезли через неделю,Курьер опоздал
2,2025-02-20,Всё сломалось,quality
"""
EXPERIMENTS = """experiment_id,customer_id,variant,assigned_at
home_banner,1,A,2025-01-02
home_banner,2,B,2025-01-04
"""
STORE_MAP = {"Дорогая доставка": "delivery_cost", "Курьер опоздал": "delivery"}


def _store(tmp_path, **sections) -> str:
    (tmp_path / "orders.csv").write_text(ORDERS, encoding="utf-8")
    (tmp_path / "feedback.csv").write_text(FEEDBACK, encoding="utf-8")
    (tmp_path / "experiments.csv").write_text(EXPERIMENTS, encoding="utf-8")
    params = {
        "store": {"opened": "2024-01-01"},
        "sources": {"orders": "orders.csv", "feedback": "feedback.csv"},
        "churn": {"reason_map": STORE_MAP},
    }
    params["sources"]["experiments"] = "experiments.csv"
    for name, section in sections.items():
        if section is None:
            params.pop(name, None)
        else:
            params[name] = section
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return str(path)


def _report_error(params_file: str, report: str) -> str:
    """The message the report stops with: its parameters, then the functions its notebook calls."""
    params = load_params(params_file)
    store = load_store(params)
    try:
        values = resolve_parameters(get_report(report), params)
        if report == "churn":
            with warnings.catch_warnings():  # few labelled texts: the keyword lists are used
                warnings.simplefilter("ignore", UserWarning)
                churn.classify_feedback(store.feedback, reason_map=values["reason_map"])
            churn.ChurnRule(
                p_alive_churned=values["p_alive_churned"],
                p_alive_at_risk=values["p_alive_at_risk"],
                one_time_window_days=values["one_time_window_days"],
            )
        if report == "splittest":
            splittest.experiment_designs(
                store.experiments, values["planned_splits"], values["experiments"]
            )
    except CustkitError as exc:
        return str(exc)
    raise AssertionError(f"the {report} report accepts these params")


def test_a_store_the_reports_accept_validates_with_exit_0(tmp_path, capsys):
    assert main(["validate", "--params", _store(tmp_path), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["errors"] == []
    assert set(document["reports"]) == {"audit", "ltv", "churn", "splittest"}
    assert all(r == {"ok": True, "error": None} for r in document["reports"].values())


@pytest.mark.parametrize(
    ("report", "section"),
    [
        ("audit", {"lapse_dayz": 200}),  # a misspelt name
        ("audit", {"lapse_days": "200 days"}),  # a wrong type
        ("ltv", {"horizon_month": 6}),
        ("ltv", {"tiers": "top 1%"}),
        ("churn", {"reason_map": STORE_MAP, "served_region": ["Moscow"]}),
        ("churn", {"reason_map": ["delivery"]}),
        ("churn", {"reason_map": {"Дорогая доставка": "delivery_costs"}}),
        ("churn", {"reason_map": STORE_MAP, "p_alive_churned": 0.7}),  # above p_alive_at_risk
        ("splittest", {"alfa": 0.1}),
        ("splittest", {"experiments": ["checkout_v2"]}),  # not in the data
        ("splittest", {"planned_splits": {"home_banner": {"A": 0.5, "B": 0.6}}}),
    ],
)
def test_report_parameters_the_report_refuses_fail_validate_with_its_message(
    tmp_path, capsys, report, section
):
    params_file = _store(tmp_path, **{report: section})
    assert main(["validate", "--params", params_file]) == 2
    out, err = capsys.readouterr()
    expected = _report_error(params_file, report)
    assert f"custkit: error: the {report} report would stop: {expected}" in err
    assert "Traceback" not in err
    assert out.startswith("table") and "orders" in out  # the accounting still prints


def test_store_feedback_reasons_fail_validate_with_the_reason_map_to_add(tmp_path, capsys):
    params_file = _store(tmp_path, churn=None)
    assert main(["validate", "--params", params_file, "--json"]) == 2
    document = json.loads(capsys.readouterr().out)
    error = document["reports"]["churn"]["error"]
    assert error == _report_error(params_file, "churn")
    assert "'Дорогая доставка' (1 row)" in error and "'Курьер опоздал' (1 row)" in error
    snippet = error[error.index("churn:") : error.index("  Reason codes")]
    assert yaml.safe_load(snippet) == {"churn": {"reason_map": STORE_MAP}}
    assert document["errors"] == [f"the churn report would stop: {error}"]
    assert document["reports"]["audit"]["ok"] and document["tables"]["feedback"]["read"] == 3


def test_validate_prints_each_tables_date_range_in_text_and_json(tmp_path, capsys):
    params_file = _store(tmp_path)
    assert main(["validate", "--params", params_file, "--json"]) == 0
    tables = json.loads(capsys.readouterr().out)["tables"]
    expected = {
        "orders": ("2025-01-03", "2025-03-31"),  # the unreadable date is rejected, not a bound
        "feedback": ("2025-01-05", "2025-02-20"),
        "experiments": ("2025-01-02", "2025-01-04"),
    }
    for table, (first, last) in expected.items():
        assert (tables[table]["first_date"], tables[table]["last_date"]) == (first, last)
        column = {"orders": "order_date", "feedback": "created_at"}.get(table, "assigned_at")
        source = pd.read_csv(tmp_path / f"{table}.csv")[column]
        dates = pd.to_datetime(source, errors="coerce", format="mixed")
        assert first == f"{dates.min():%Y-%m-%d}" and last == f"{dates.max():%Y-%m-%d}"
    assert main(["validate", "--params", params_file]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "dates" in lines[0]
    for table, (first, last) in expected.items():
        row = next(line for line in lines if line.startswith(table))
        assert f"{first} to {last}" in row


def test_a_table_without_dated_rows_has_no_date_range(tmp_path, capsys):
    params_file = _store(tmp_path)
    (tmp_path / "feedback.csv").write_text("customer_id,created_at\n1,someday\n", encoding="utf-8")
    assert main(["validate", "--params", params_file, "--json"]) == 0
    feedback = json.loads(capsys.readouterr().out)["tables"]["feedback"]
    assert feedback["accepted"] == 0 and feedback["rejected"] == 1
    assert feedback["first_date"] is None and feedback["last_date"] is None


def test_validate_json_has_the_same_keys_when_the_data_cannot_be_read(tmp_path, capsys):
    params_file = _store(tmp_path)
    (tmp_path / "orders.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["validate", "--params", params_file, "--json"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert set(document) == {"tables", "reports", "errors"}
    assert "required column 'order_id'" in document["errors"][0]
