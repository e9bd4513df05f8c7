"""``custkit validate`` checks what the reports check: their parameters, their inputs, the dates.

Each refusal is compared with the message the report itself stops with (the same function
raises it), and the accounting still prints.
"""

import json
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import yaml

import custkit
from custkit import churn, splittest
from custkit.cli import main
from custkit.data.demo import write_demo_store
from custkit.data.load import load_store
from custkit.errors import CustkitError
from custkit.i18n import get_language, set_language
from custkit.params import load_params
from custkit.reports import get_report, resolve_parameters, run_report
from custkit.splittest.segments import check_segmentations

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
                churn_quantile=values["churn_quantile"],
                at_risk_quantile=values["at_risk_quantile"],
                one_time_window_days=values["one_time_window_days"],
            )
        if report == "splittest":
            splittest.experiment_designs(
                store.experiments, values["planned_splits"], values["experiments"]
            )
            splittest.adjust_p_values([], values["multiple_testing"])
            splittest.check_review_inputs(
                store.experiments,
                multiple_testing=values["multiple_testing"],
                cap_percentile=values["cap_percentile"],
            )
            check_segmentations(values["segment_by"])
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
        ("churn", {"reason_map": STORE_MAP, "at_risk_quantile": 0.95}),  # above churn_quantile
        ("splittest", {"alfa": 0.1}),
        ("splittest", {"experiments": ["checkout_v2"]}),  # not in the data
        ("splittest", {"planned_splits": {"home_banner": {"A": 0.5, "B": 0.6}}}),
        ("splittest", {"multiple_testing": "fdr"}),
        ("splittest", {"cap_percentile": 1.5}),
        ("splittest", {"segment_by": ["channel"]}),
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


# --- the audit's and the LTV report's parameter rules ------------------------------------------
#: For every parameter of custkit/notebooks/audit.ipynb and ltv.ipynb: values its rule refuses
#: (a range, an option list, a rule between two parameters).
REFUSED = {
    "audit": {
        "lapse_days": [20, 100],  # below health's 31; not above active_days (180)
        "churn_norm": [-0.1, 1.5],
        "repeat_within_days": [0, 1000],
        "rfm_recency_days": [[30, 90, 180], [90, 30, 180, 365]],
        "rfm_frequency_orders": [[1, 2, 2, 5], [0, 1, 2, 3]],
        "active_days": [0, 400],  # 400: not below lapse_days (365)
        "loyal_orders": [2],
        "reactivation_min_days": [0],
        "reactivation_max_days": [100],  # below reactivation_min_days (180)
    },
    "ltv": {
        "time_unit": ["Q", "w"],
        "holdout_months": [0, 25],
        "horizon_months": [0, 2000],
        "monthly_discount_rate": [-0.01, 1.0],
        "margin_rate": [1.5, "30%"],
        "penalizer": [-0.001, float("inf")],
        "tiers": [[0.2, 0.05], [0.0, 0.5]],
    },
}
REFUSED_CASES = [
    pytest.param(report, name, value, id=f"{report}.{name}={value!r}")
    for report, rules in REFUSED.items()
    for name, values in rules.items()
    for value in values
]


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    """A small demo store (all tables, every section filled): its params file, sources absolute."""
    folder = write_demo_store(tmp_path_factory.mktemp("validate") / "data", 100, seed=3)
    params = yaml.safe_load((folder / "params.yaml").read_text(encoding="utf-8"))
    for source in params["sources"].values():
        source["path"] = str(folder / source["path"])
    return params


def _params_file(folder, params: dict) -> str:
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return str(path)


def _notebook_error(report: str, params_file: str, output_dir) -> str:
    """The message the report's notebook stops with: its code cells run in order, in this
    process, with the parameter values ``custkit run`` would inject after the parameters cell."""
    values = resolve_parameters(get_report(report), load_params(params_file))
    notebook = json.loads(get_report(report).notebook.read_text(encoding="utf-8"))
    namespace: dict = {}
    language = get_language()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for cell in notebook["cells"]:
                if cell["cell_type"] != "code":
                    continue
                exec(compile("".join(cell["source"]), f"{report}.ipynb", "exec"), namespace)
                if "parameters" in cell["metadata"].get("tags", []):
                    namespace.update(values, params_file=params_file, output_dir=str(output_dir))
    except CustkitError as exc:
        return str(exc)
    finally:
        set_language(language)
        plt.close("all")
    raise AssertionError(f"the {report} notebook accepts {values}")


def test_every_audit_and_ltv_parameter_has_refused_values_to_test():
    for report, rules in REFUSED.items():
        declared = set(get_report(report).parameters)
        assert set(rules) == declared, report


@pytest.mark.parametrize(("report", "name", "value"), REFUSED_CASES)
def test_a_value_the_audit_or_ltv_report_refuses_fails_validate_with_its_message(
    tmp_path, capsys, demo_store, report, name, value
):
    params_file = _params_file(tmp_path, {**demo_store, report: {name: value}})
    assert main(["validate", "--params", params_file, "--json"]) == 2
    document = json.loads(capsys.readouterr().out)
    error = document["reports"][report]["error"]
    assert error == _notebook_error(report, params_file, tmp_path / "out")
    assert document["errors"] == [f"the {report} report would stop: {error}"]


def test_the_demo_params_and_a_demo_store_pass_the_audit_and_ltv_checks(
    tmp_path, capsys, demo_store
):
    demo_params = load_params(Path(__file__).parents[1] / "params" / "demo.yaml")
    for report in ("audit", "ltv"):
        getattr(custkit, report).check_inputs(None, resolve_parameters(report, demo_params))
    assert main(["validate", "--params", _params_file(tmp_path, demo_store), "--json"]) == 0
    reports = json.loads(capsys.readouterr().out)["reports"]
    assert reports["audit"] == reports["ltv"] == {"ok": True, "error": None}


def test_custkit_run_stops_on_a_refused_ltv_value_with_the_message_validate_gives(
    tmp_path, capsys, demo_store
):
    """The same refusal through the real runner (a kernel), before any model is fitted."""
    params_file = _params_file(tmp_path, {**demo_store, "ltv": {"penalizer": -0.001}})
    assert main(["validate", "--params", params_file, "--json"]) == 2
    error = json.loads(capsys.readouterr().out)["reports"]["ltv"]["error"]
    result = run_report("ltv", params_file, out_dir=tmp_path / "reports")
    assert not result.ok and result.error.endswith(f"ParamsError: {error}")
    assert "penalizer" in error and "compare_purchase_models" in error
