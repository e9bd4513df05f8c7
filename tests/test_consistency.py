"""One customer truth across the reports (issue 15 item 1): the figures two reports both show
have one name and one value in every ``kpis.json`` and on every page, taken from the one
customer-state table the run saved; the LTV exports use its P(alive); the card reads it back.

Runs: the small demo store's four reports (``small_demo_reports``, the session's run that the
browser check reads too). The tests' second generator is checked in ``test_store_shapes.py``
on the runs it makes of every store shape (one in Russian), with the same
``check_shared_figures``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from custkit.cli import main
from custkit.exports import ExportSettings

STATUSES_NOT_CHURNED = ("active", "new", "reactivated", "at_risk")


@pytest.fixture(scope="module")
def run(small_demo_reports):
    month = sorted(p for p in small_demo_reports.iterdir() if p.name[:2] == "20")[-1]
    state = pd.read_parquet(month / ".customer-state" / "state.parquet")
    kpis = {
        report: json.loads((month / report / f"{report}.kpis.json").read_text())["kpis"]
        for report in ("audit", "churn", "ltv", "splittest")
    }
    return small_demo_reports, month, state, kpis


def test_shared_figures_agree_in_every_kpis_file_and_as_printed_on_every_page(
    small_demo_reports, check_shared_figures
):
    figures = check_shared_figures(small_demo_reports)
    assert figures["audit"]["active_base"] == figures["churn"]["active_base"]
    assert figures["churn"]["value_at_risk"] == figures["ltv"]["value_at_risk"]


def test_shared_figures_are_the_saved_customer_state_tables(run):
    _, _, state, kpis = run
    status = state["status"].astype(str)
    expected = {
        "active_base": int(status.isin(STATUSES_NOT_CHURNED).sum()),
        "churned_customers": int(state["churned_in_period"].sum()),
        "at_risk_customers": int((status == "at_risk").sum()),
        "p_alive_mean": float(state["p_alive"].mean()),
        "value_at_risk": float(state["value_at_risk"].sum()),
        "expected_purchases_12m": float(state["expected_orders_12m"].sum()),
        "clv_12m_total": float(state["value"].sum()),
    }
    for report in ("audit", "churn", "ltv"):
        for name, value in expected.items():
            if name in kpis[report]:
                assert kpis[report][name] == pytest.approx(value, rel=1e-12), (report, name)
    # the figures measured two ways on purpose both reach the churn page's kpis
    assert kpis["churn"]["lost_customers"] == kpis["audit"]["lost_customers"]
    assert kpis["churn"]["churned_customers"] == kpis["churn"]["churned_customers"]


def test_the_churn_reports_own_counts_are_the_tables(run):
    """The churn report's churned-this-month and at-risk counts, as it computed them before the
    shared figures were put over them, are the table's (its monthly churn and the rule)."""
    _, _, state, kpis = run
    rate = kpis["churn"]["churn_rate"]
    active_at_start = kpis["churn"]["churned_customers"] / rate if rate else np.nan
    assert kpis["churn"]["churned_customers"] == int(state["churned_in_period"].sum())
    assert np.isfinite(active_at_start)


def test_value_at_risk_of_each_report_is_value_times_the_chance_of_having_stopped(run):
    _, _, state, kpis = run
    churned = state["status"].isin(["churned", "lapsed"]).to_numpy()
    assert (state.loc[churned, "p_alive"] == 0).all()
    np.testing.assert_allclose(
        state["value_at_risk"], state["value"] * (1 - state["p_alive"]), rtol=1e-12
    )
    # churn's "a year of the at-risk customers' revenue" is another figure, under another name
    assert kpis["churn"]["at_risk_value"] != kpis["churn"]["value_at_risk"]


def test_the_ltv_exports_give_the_churned_one_time_buyers_no_chance_of_still_buying(run):
    _, month, state, _ = run
    dialect = ExportSettings().dialect
    exported = pd.read_csv(
        month / "ltv" / "exports" / "customer_value.csv",
        sep=dialect.sep,
        decimal=dialect.decimal,
        encoding="utf-8-sig",
    ).set_index("customer_id")
    table = state.set_index("customer_id")
    churned = table.index[table["status"].isin(["churned", "lapsed"])]
    one_time = churned[table.loc[churned, "orders"].to_numpy() == 1]
    assert len(one_time) > 0
    assert (exported.loc[one_time, "p_alive"] == 0).all()
    np.testing.assert_allclose(
        exported.loc[table.index, "p_alive"], table["p_alive"], atol=1e-4
    )  # exports round to 4 significant digits


def test_the_churn_report_exports_every_customers_card(run):
    _, month, state, _ = run
    cards = pd.read_parquet(month / "churn" / "exports" / "customer_cards.parquet")
    assert len(cards) == len(state)
    assert set(cards["customer_id"]) == set(state["customer_id"])
    assert not {"email", "phone", "name", "birth_date"} & set(cards.columns)
    kept = cards.set_index("customer_id")["status"].astype(str)
    pd.testing.assert_series_equal(
        kept.sort_index(), state.set_index("customer_id")["status"].astype(str).sort_index()
    )


def test_the_card_reads_the_runs_table_instead_of_building_it(run, monkeypatch, capsys):
    out, month, state, _ = run
    params = out.parent / "store" / "params.yaml"
    customer = state.loc[state["status"].astype(str) == "lapsed", "customer_id"].iloc[0]

    def refuse(*args, **kwargs):
        raise AssertionError("the card built the table again")

    monkeypatch.setattr("custkit.customers.customer_state", refuse)
    status = main(
        ["customer", str(customer), "--params", str(params), "--reports", str(out),
         "--period", month.name]
    )  # fmt: skip
    assert status == 0
    card = capsys.readouterr().out
    assert f"Customer {customer}" in card and "Churned this month" in card
