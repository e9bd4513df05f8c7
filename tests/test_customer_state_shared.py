"""The customer-state table saved once per period and read back by every report and the card;
the shared figures taken from it, and the LTV report's P(alive) by the same rule.

Stores: the tests' generator (``tests/storegen.py``, 700 customers, every table). The four
reports' pages and ``kpis.json`` files agreeing is ``tests/test_consistency.py``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import custkit as ck
from custkit import churn, ltv
from custkit.customers import StateOptions, customer_state, with_plan
from custkit.customers.figures import REPORT_FIGURES, SHARED_FIGURES, lost_customers, shared_kpis
from custkit.customers.saved import (
    data_fingerprint,
    load_purchase_model,
    load_state,
    model_choice_key,
    save_purchase_model,
    save_state,
    shared_state,
    state_key,
)
from custkit.data.load import load_store
from custkit.data.periods import ReportPeriod
from custkit.params import load_params
from custkit.reports.run import RUN_FIRST, _in_run_order

PERIOD = ReportPeriod.from_string("2026-02")
OPTIONS = StateOptions(model="BG/NBD")


@pytest.fixture(scope="module")
def store(storegen, tmp_path_factory):
    generated = storegen.generate_store(storegen.StoreSpec(customers=700, seed=5))
    folder = tmp_path_factory.mktemp("store")
    return load_store(load_params(storegen.write_store(generated, folder, "full")))


@pytest.fixture(scope="module")
def table(store):
    return customer_state(store, PERIOD.as_of, period=PERIOD, options=OPTIONS)


def test_a_saved_table_reads_back_with_its_columns_types_values_and_attrs(table, tmp_path):
    save_state(tmp_path, "k1", table)
    back = load_state(tmp_path, "k1")
    pd.testing.assert_frame_equal(back, table.reset_index(drop=True), check_like=False)
    assert back.attrs["model"] == table.attrs["model"]
    assert back.attrs["period"] == PERIOD.period


@pytest.mark.parametrize("damage", ["other key", "no file", "not parquet", "no custkit note"])
def test_a_saved_table_of_other_data_or_a_damaged_file_is_not_read(table, tmp_path, damage):
    save_state(tmp_path, "k1", table)
    path = tmp_path / "state.parquet"
    key = "k1"
    if damage == "other key":
        key = "k2"
    elif damage == "no file":
        path.unlink()
    elif damage == "not parquet":
        path.write_bytes(b"PAR1 not really")
    else:
        table.to_parquet(path)
    assert load_state(tmp_path, key) is None


def test_the_data_fingerprint_follows_the_orders_and_nothing_else(store):
    first = data_fingerprint(store)
    assert data_fingerprint(store) == first
    changed = dataclasses.replace(store, orders=store.orders.copy())
    changed.orders.loc[changed.orders.index[0], "revenue"] += 1.0
    assert data_fingerprint(changed) != first
    shuffled = dataclasses.replace(store, orders=store.orders.iloc[::-1])
    assert data_fingerprint(shuffled) != first  # row order is part of the data as read


@pytest.mark.parametrize("change", ["churn_quantile", "horizon_months", "period"])
def test_the_key_changes_with_every_parameter_the_table_reads(change):
    options = StateOptions()
    period = PERIOD
    if change == "churn_quantile":
        changed = (dataclasses.replace(options, churn_quantile=0.8), period)
    elif change == "horizon_months":
        changed = (dataclasses.replace(options, horizon_months=6), period)
    else:
        changed = (options, ReportPeriod.from_string("2026-01"))
    assert state_key("data", period, options) != state_key("data", changed[1], changed[0])
    assert state_key("data", period, options) == state_key("data", period, StateOptions())


def test_the_table_is_built_once_then_read_back(store, tmp_path, monkeypatch):
    built = []

    def counting(*args, **kwargs):
        built.append(kwargs.get("options"))
        return customer_state(*args, **kwargs)

    monkeypatch.setattr("custkit.customers.state.customer_state", counting)
    first = shared_state(store, PERIOD, OPTIONS, tmp_path)
    again = shared_state(store, PERIOD, OPTIONS, tmp_path)
    assert len(built) == 1
    assert first.attrs["loaded"] is False and again.attrs["loaded"] is True
    pd.testing.assert_frame_equal(again, first.reset_index(drop=True))
    other = shared_state(store, PERIOD, dataclasses.replace(OPTIONS, cap_days=3), tmp_path)
    assert len(built) == 2 and other.attrs["loaded"] is False


def test_the_build_reuses_the_ltv_reports_model_choice_instead_of_the_holdout_check(
    store, tmp_path, monkeypatch
):
    options = StateOptions()  # model chosen on the holdout, as the LTV report chooses it
    key = model_choice_key(
        data_fingerprint(store),
        PERIOD.as_of,
        options.holdout_months,
        options.time_unit,
        options.penalizer,
    )
    save_purchase_model(tmp_path, key, "Pareto/NBD")

    def refuse(*args, **kwargs):
        raise AssertionError("the holdout check ran again")

    monkeypatch.setattr("custkit.ltv.report.compare_purchase_models", refuse)
    table = shared_state(store, PERIOD, options, tmp_path)
    assert table.attrs["model"] == "Pareto/NBD"
    assert load_purchase_model(tmp_path, key) == "Pareto/NBD"
    assert load_purchase_model(tmp_path, "another key") is None


def test_without_a_saved_choice_the_build_chooses_and_saves_it(store, tmp_path):
    options = StateOptions()
    table = shared_state(store, PERIOD, options, tmp_path)
    key = model_choice_key(
        data_fingerprint(store),
        PERIOD.as_of,
        options.holdout_months,
        options.time_unit,
        options.penalizer,
    )
    chosen = ltv.compare_purchase_models(store.orders, PERIOD.as_of).best_purchase_model
    assert table.attrs["model"] == chosen == load_purchase_model(tmp_path, key)


def test_shared_figures_are_the_churn_and_ltv_reports_own_figures(store, table):
    red = ck.reduce_orders(store.orders, PERIOD.as_of, customer_days=True)
    assessment = churn.assess_churn(red)
    monthly = churn.monthly_churn(assessment.events, red).set_index("month")
    report = churn.churn_kpis(monthly.reset_index(), PERIOD, assessment, _no_reasons())
    value = ltv.customer_value(store.orders, PERIOD.as_of, "BG/NBD", red, interval_draws=20)
    value = ltv.with_churn_rule(value, table)
    ltv_report = ltv.ltv_kpis(_comparison_stub(), value)
    kpis = shared_kpis(table, lost=lost_customers(red, PERIOD))
    assert kpis["churned_customers"] == report["churned_customers"]
    assert kpis["at_risk_customers"] == report["at_risk_customers"]
    status = assessment.status["status"].astype(str)
    assert kpis["active_base"] == int((status != "churned").sum())
    for name in ("p_alive_mean", "value_at_risk", "expected_purchases_12m", "clv_12m_total"):
        assert kpis[name] == pytest.approx(ltv_report[name], rel=1e-9), name
    turnover = ck.audit.base_turnover(red, PERIOD)
    assert kpis["lost_customers"] == int(turnover["lost"].iloc[-1])
    assert kpis.units == {name: SHARED_FIGURES[name] for name in kpis}


def test_every_reports_shared_figures_are_declared_with_a_unit():
    for report, names in REPORT_FIGURES.items():
        assert set(names) <= set(SHARED_FIGURES), report
    with pytest.raises(ValueError, match="Shared figure must be one of"):
        shared_kpis(pd.DataFrame(), ["active_customers"])


def test_the_ltv_value_takes_p_alive_zero_for_the_churned_one_time_buyers_included(store, table):
    red = ck.reduce_orders(store.orders, PERIOD.as_of, customer_days=True)
    value = ltv.customer_value(store.orders, PERIOD.as_of, "BG/NBD", red, interval_draws=20)
    ruled = ltv.with_churn_rule(value, table)
    state = table.set_index("customer_id")
    churned = state.index[state["status"].isin(["churned", "lapsed"])]
    one_time = churned[state.loc[churned, "orders"].to_numpy() == 1]
    assert len(one_time) > 0
    assert (value.clv.loc[one_time, "p_alive"] > 0.5).any()  # the model's artefact
    assert (ruled.clv.loc[churned, "p_alive"] == 0).all()
    np.testing.assert_allclose(
        ruled.clv.loc[churned, "value_at_risk"], ruled.clv.loc[churned, "clv"], rtol=1e-12
    )
    kept = state.index.difference(churned)
    np.testing.assert_allclose(ruled.clv.loc[kept, "p_alive"], value.clv.loc[kept, "p_alive"])
    pd.testing.assert_series_equal(ruled.clv["clv"], value.clv["clv"])


def test_the_churn_reports_plan_replaces_only_the_next_actions(store, table):
    red = ck.reduce_orders(store.orders, PERIOD.as_of, customer_days=True)
    plan = _plan_stub(table)
    planned = with_plan(table, plan)
    assert planned.attrs["plan"] == "churn report"
    moved = ["next_action", "next_action_text", "contact_channel", "contact", "skip_reason"]
    kept = [c for c in table.columns if c not in moved]
    pd.testing.assert_frame_equal(planned[kept], table[kept])
    first = plan.plan["customer_id"].iloc[0]
    row = planned.set_index("customer_id").loc[first]
    assert row["next_action"] == "call" and row["contact_channel"] == "phone"
    assert shared_kpis(planned) == shared_kpis(table)
    assert len(red.customers) == len(planned)


def test_reports_that_feed_the_table_run_first_the_others_in_their_order():
    assert _in_run_order(["audit", "churn", "ltv", "splittest"]) == [
        "ltv",
        "churn",
        "audit",
        "splittest",
    ]
    assert _in_run_order(["splittest", "audit"]) == ["splittest", "audit"]
    assert _in_run_order(["churn"]) == ["churn"]
    assert RUN_FIRST[0] == "ltv"


def _no_reasons() -> pd.DataFrame:
    return pd.DataFrame({"reason": pd.Series([], dtype=str), "share": pd.Series([], dtype=float)})


def _comparison_stub():
    metrics = pd.DataFrame({"mae": [1.0], "total_error_pct": [0.0]}, index=["BG/NBD"])
    return type("Comparison", (), {"metrics": metrics})()


def _plan_stub(table):
    ids = table["customer_id"].iloc[:3]
    plan = pd.DataFrame(
        {
            "customer_id": ids.to_numpy(),
            "action": "call",
            "action_text": "Call them.",
            "channel": "phone",
            "contact": True,
            "skip_reason": pd.NA,
        }
    )
    return type("Plan", (), {"plan": plan})()


@pytest.mark.parametrize(
    "sections",
    [
        {},
        {"churn": {"churn_quantile": 0.8, "cap_days": 3}, "ltv": {"horizon_months": 6}},
        {"churn": {"served_regions": ["Moscow"], "margin_rate": 0.3}, "ltv": {"tiers": [0.1]}},
        {"ltv": {"monthly_discount_rate": 0, "penalizer": 1}},  # ints where floats are declared
    ],
)
def test_state_options_read_without_papermill_are_the_checked_report_parameters(sections, tmp_path):
    import yaml

    from custkit.reports.context import report_parameter_values, state_options
    from custkit.reports.parameters import resolve_parameters

    text = (Path(__file__).resolve().parents[1] / "params" / "demo.yaml").read_text()
    document = yaml.safe_load(text)
    for report, values in sections.items():
        document[report] = {**(document.get(report) or {}), **values}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    params = load_params(path)
    checked = StateOptions.from_report_parameters(
        churn=resolve_parameters("churn", params), ltv=resolve_parameters("ltv", params)
    )
    assert state_options(params) == checked
    assert state_key("data", PERIOD, state_options(params)) == state_key("data", PERIOD, checked)
    assert report_parameter_values("audit", params) == resolve_parameters("audit", params)


@pytest.mark.parametrize(
    ("report", "loads"), [("ltv", "ck.customers.READS"), ("churn", "churn.READS")]
)
def test_reports_that_build_the_table_load_everything_it_reads(report, loads):
    from custkit.customers.state import READS
    from custkit.reports.context import _covers
    from custkit.reports.registry import get_report

    # what the notebook passes start_report, and that it covers the report's own sections too
    assert f"tables={loads}" in get_report(report).notebook.read_text(encoding="utf-8")
    loaded = {"ck.customers.READS": ck.customers.READS, "churn.READS": ck.churn.READS}[loads]
    assert _covers(loaded, READS) and _covers(loaded, getattr(ck, report).READS)
    assert not _covers(ck.audit.READS, READS)  # the audit reads the table back, or loads more


def test_the_ltv_reports_own_value_builds_the_same_table_as_a_refit(store, table):
    from custkit.errors import ParamsError

    red = ck.reduce_orders(store.orders, PERIOD.as_of, customer_days=True)
    value = ltv.customer_value(
        store.orders, PERIOD.as_of, "BG/NBD", red, horizons_months=[3, 6, 12]
    )
    given = customer_state(store, PERIOD.as_of, period=PERIOD, options=OPTIONS, value=value)
    pd.testing.assert_frame_equal(given, table)
    short = ltv.customer_value(store.orders, PERIOD.as_of, "BG/NBD", red, horizons_months=[6])
    with pytest.raises(ParamsError, match="horizon 6 months, the options say 12"):
        customer_state(store, PERIOD.as_of, period=PERIOD, options=OPTIONS, value=short)
    other = dataclasses.replace(OPTIONS, model="Pareto/NBD")
    with pytest.raises(ParamsError, match="model 'BG/NBD', the options say 'Pareto/NBD'"):
        customer_state(store, PERIOD.as_of, period=PERIOD, options=other, value=value)


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("report", ["audit", "churn", "ltv"])
def test_each_pages_shared_figures_line_writes_every_figure_by_its_unit(report, language):
    from custkit.i18n import use_language
    from custkit.reports.display import format_kpi
    from custkit.reports.shared import shared_figures_finding

    values = {
        "active_base": 11955,
        "churned_customers": 813,
        "lost_customers": 212,
        "at_risk_customers": 2313,
        "p_alive_mean": 0.7398,
        "value_at_risk": 5307194.97,
        "expected_purchases_12m": 29724.2,
        "clv_12m_total": 32502256.8,
    }
    kpis = {name: values[name] for name in REPORT_FIGURES[report]}
    extra = {"active_customers_12m": 14945.0, "at_risk_value": 5901793.4}
    with use_language(language):
        finding = shared_figures_finding(report, kpis, "RUB", 365, extra)
        text = finding.conclusion
        for name, value in kpis.items():
            if name in ("expected_purchases_12m", "clv_12m_total"):
                continue  # the LTV page writes these in its outlook line
            assert format_kpi(value, SHARED_FIGURES[name], "RUB") in text, (name, text)
        if report == "audit":
            assert format_kpi(14945.0, "count") in text and "365" in text
        if report == "churn":
            assert format_kpi(5901793.4, "money", "RUB") in text and "365" in text
    assert ("RUB" in text) == (language == "en" and report != "audit")


def test_the_table_draws_no_value_interval_the_ltv_page_alone_shows_one(store, table):
    red = ck.reduce_orders(store.orders, PERIOD.as_of, customer_days=True)
    value = ltv.customer_value(store.orders, PERIOD.as_of, "BG/NBD", red, interval_draws=0)
    assert value.interval is None
    drawn = ltv.customer_value(store.orders, PERIOD.as_of, "BG/NBD", red, interval_draws=20)
    assert drawn.interval is not None
    pd.testing.assert_frame_equal(value.clv, drawn.clv)


def test_the_statuses_alone_give_the_full_tables_status_figures(store, table):
    # a report that shows only status figures (the audit) computes them without a model fit
    # when no report saved the table: they must be the full table's
    from custkit.customers.figures import shared_kpis
    from custkit.reports.context import STATUS_FIGURES

    red = ck.reduce_orders(store.orders, PERIOD.as_of, customer_days=True)
    unchosen = dataclasses.replace(OPTIONS, model=None)  # as a report's options: no model given
    alone = customer_state(red, PERIOD.as_of, period=PERIOD, options=unchosen)
    assert alone["value"].isna().all()  # no model was fitted
    names = sorted(STATUS_FIGURES - {"lost_customers"})
    assert dict(shared_kpis(alone, names)) == dict(shared_kpis(table, names))
    pd.testing.assert_series_equal(alone["status"], table["status"])
    pd.testing.assert_series_equal(alone["churned_in_period"], table["churned_in_period"])
