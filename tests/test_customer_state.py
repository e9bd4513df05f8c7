"""The customer-state table: one status per customer, the churn report's churned set, the LTV
report's expected orders and value, one P(alive) rule, and the CRM export reading back.

Stores: the tests' generator (``tests/storegen.py``) in three shapes (every table; orders and
customers without cost; orders alone) and the demo store.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import custkit as ck
from custkit import churn, ltv
from custkit.customers import STATUSES, StateOptions, customer_state, write_customer_cards
from custkit.data.load import load_store
from custkit.data.periods import ReportPeriod
from custkit.errors import ParamsError
from custkit.exports import ExportSettings, prepare_export
from custkit.params import load_params

REPO = Path(__file__).resolve().parents[1]
PERIOD = ReportPeriod.from_string("2026-02")
PERSONAL = ("email", "phone", "name", "birth_date")
SHAPES = ("full", "customers_no_birthdays_consents_cost", "orders_only")


@pytest.fixture(scope="module")
def generated(storegen, tmp_path_factory):
    return storegen.generate_store(storegen.StoreSpec(customers=700, seed=3))


@pytest.fixture(scope="module", params=SHAPES)
def shaped(request, storegen, generated, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    params = load_params(storegen.write_store(generated, folder, request.param))
    store = load_store(params)
    table = customer_state(store, PERIOD.as_of, period=PERIOD)
    return request.param, params, store, table


def _expected_status(orders, table_ids, period: ReportPeriod) -> pd.Series:
    """The module docstring's definition, written out per customer from the churn rule."""
    red = ck.reduce_orders(orders, period.as_of, customer_days=True)
    assessment = churn.assess_churn(red)
    status = assessment.status
    first = red.customers.set_index("customer_id")["first_order_date"]
    events = assessment.events
    back = events.loc[
        (events["returned_at"] >= period.start) & (events["returned_at"] <= period.as_of),
        "customer_id",
    ]
    returned = set(back)
    out = {}
    for cid in table_ids:
        rule = status.at[cid, "status"]
        if rule == "churned":
            out[cid] = "lapsed" if status.at[cid, "churned_at"] >= period.start else "churned"
        elif rule == "at_risk":
            out[cid] = "at_risk"
        elif first[cid] >= period.start:
            out[cid] = "new"
        elif cid in returned:
            out[cid] = "reactivated"
        else:
            out[cid] = "active"
    return pd.Series(out, name="status")


def test_statuses_partition_every_customer_with_a_purchase(shaped):
    _, _, store, table = shaped
    red = ck.reduce_orders(store.orders, PERIOD.as_of, customer_days=True)
    assert table["customer_id"].is_unique
    assert set(table["customer_id"]) == set(red.customers["customer_id"])
    assert table["status"].notna().all()
    assert set(table["status"].cat.categories) == set(STATUSES)
    counts = table["status"].value_counts()
    assert counts.sum() == len(table) == len(red.customers)


def test_each_status_follows_its_definition_in_the_module_docstring(shaped):
    _, _, store, table = shaped
    expected = _expected_status(store.orders, table["customer_id"], PERIOD)
    got = table.set_index("customer_id")["status"].astype(str)
    pd.testing.assert_series_equal(got, expected.reindex(got.index), check_names=False)
    # every status is met on a store of 700 customers over 14 months but reactivated (rare)
    assert {"churned", "lapsed", "at_risk", "new", "active"} <= set(got)


def test_churned_and_at_risk_customers_are_the_churn_reports(shaped):
    _, _, store, table = shaped
    red = ck.reduce_orders(store.orders, PERIOD.as_of, customer_days=True)
    status = churn.assess_churn(red, rule=churn.ChurnRule()).status
    churned = set(status.index[status["status"] == "churned"])
    at_risk = set(status.index[status["status"] == "at_risk"])
    assert set(table.loc[table["status"].isin(["churned", "lapsed"]), "customer_id"]) == churned
    assert set(table.loc[table["status"] == "at_risk", "customer_id"]) == at_risk


def test_lapsed_customers_are_the_churn_reports_churned_this_month_who_stayed_away(shaped):
    _, _, store, table = shaped
    red = ck.reduce_orders(store.orders, PERIOD.as_of, customer_days=True)
    assessment = churn.assess_churn(red)
    month = churn.monthly_churn(assessment.events, red).iloc[-1]
    lapsed = (table["status"] == "lapsed").sum()
    assert lapsed == month["churned"] - month["returned_since"]


def test_expected_orders_value_and_tiers_are_the_ltv_reports(shaped):
    _, _, store, table = shaped
    red = ck.reduce_orders(store.orders, PERIOD.as_of, customer_days=True)
    chosen = ltv.compare_purchase_models(store.orders, PERIOD.as_of).best_purchase_model
    assert table.attrs["model"] == chosen
    value = ltv.customer_value(store.orders, PERIOD.as_of, chosen, red, horizons_months=[3, 6, 12])
    clv = value.clv.reindex(table["customer_id"])
    np.testing.assert_allclose(table["expected_orders_12m"], clv["expected_purchases"], rtol=1e-12)
    np.testing.assert_allclose(table["value"], clv["clv"], rtol=1e-12)
    np.testing.assert_allclose(table["p_alive_model"], clv["p_alive"], rtol=1e-12)
    assert (table["tier"].astype(str).to_numpy() == clv["tier"].astype(str).to_numpy()).all()
    assert table.attrs["value_basis"] == value.value_basis
    assert (table["value_basis"] == value.value_basis).all()


def test_value_is_margin_only_when_the_orders_have_a_cost(shaped):
    _, _, store, table = shaped
    has_cost = "cost" in store.orders and store.orders["cost"].notna().any()
    assert table.attrs["value_basis"] == ("margin" if has_cost else "revenue")


def test_customers_the_churn_rule_calls_churned_have_no_chance_of_still_buying(shaped):
    """Issue 15: LTV gave P(alive) = 1.00 to one-time buyers of two years ago whom the churn
    report called churned; the table gives one figure by one rule."""
    _, _, _, table = shaped
    churned = table["status"].isin(["churned", "lapsed"])
    assert churned.any()
    assert (table.loc[churned, "p_alive"] == 0).all()
    assert (table.loc[churned, "p_alive_source"] == "churn_rule").all()
    kept = table.loc[~churned]
    np.testing.assert_array_equal(kept["p_alive"], kept["p_alive_model"])
    # value at risk: the whole value of the churned, value × (1 − P(alive)) of the others
    np.testing.assert_allclose(table.loc[churned, "value_at_risk"], table.loc[churned, "value"])
    one_time_old = (table["orders"] == 1) & (table["status"] == "churned")
    assert (table.loc[one_time_old, "p_alive"] == 0).all()


def test_reasons_and_evidence_belong_to_churned_customers_only(shaped):
    _, _, _, table = shaped
    churned = table["status"].isin(["churned", "lapsed"])
    assert table.loc[~churned, "churn_reason"].isna().all()
    assert table.loc[~churned, "reason_evidence"].isna().all()
    assert table.loc[churned, "churn_reason"].notna().all()
    targets = table["next_action"].notna()
    assert targets.any()
    assert set(table.loc[targets, "status"]) <= {"churned", "lapsed", "at_risk"}


def test_given_risk_scores_make_the_plan_the_churn_reports_plan(shaped):
    """The churn report plans with its risk model's probabilities; given them, the table's
    next action, its text (incentive or not) and channel are that plan's, customer by customer."""
    _, _, store, table = shaped
    red = ck.reduce_orders(store.orders, PERIOD.as_of, customer_days=True)
    assessment = churn.assess_churn(red)
    at_risk = assessment.status.index[assessment.status["status"] == "at_risk"]
    rng = np.random.default_rng(0)
    scores = pd.DataFrame(
        {"customer_id": at_risk, "churn_probability": rng.uniform(0, 1, len(at_risk))}
    )
    given = customer_state(
        store, PERIOD.as_of, period=PERIOD, risk_scores=scores,
        options=StateOptions(model=table.attrs["model"]),
    )  # fmt: skip
    signals = ck.data.reduce_order_signals(store.orders, PERIOD.as_of, recent_orders=2)
    stayed = churn.stayer_signals(store.orders, PERIOD.as_of, recent_orders=2)
    texts = churn.classify_feedback(store.feedback) if store.feedback is not None else None
    reasons = churn.assign_reasons(
        assessment.status, signals, PERIOD.as_of, texts, store.feedback, store.messages,
        None, store.customers, stayed=stayed,
    )  # fmt: skip
    targets = churn.winback_targets(
        assessment.status, reasons.reasons, scores, churn.value_if_kept(red), PERIOD.as_of
    )
    segments = ck.audit.rfm_scores(red, PERIOD).set_index("customer_id")["segment"]
    plan = churn.winback_plan(
        targets, store.customers, store.messages, churn.WinbackPolicy(),
        PERIOD.as_of + pd.Timedelta(days=1), segments=segments,
    ).plan.set_index("customer_id")  # fmt: skip
    mine = given.set_index("customer_id").reindex(plan.index)
    for ours, theirs in [("next_action", "action"), ("next_action_text", "action_text"),
                         ("contact_channel", "channel")]:  # fmt: skip
        got = mine[ours].astype("string").fillna("")
        want = plan[theirs].astype("string").fillna("")
        assert (got == want).all(), ours
    assert (given["value"].to_numpy() == table["value"].to_numpy()).all()


def test_missing_tables_leave_empty_columns_and_a_note_not_an_error(shaped):
    _, _, store, table = shaped
    notes = " ".join(table.attrs["notes"])
    if store.messages is None:
        assert table["frequency_cap_ok"].isna().all()
        assert "No messages table" in notes
    else:
        assert table["frequency_cap_ok"].notna().all()
    if store.customers is None:
        assert (table.loc[table["next_action"].notna(), "contact"] == False).all()  # noqa: E712
        assert "No customers table" in notes


def test_the_table_holds_no_personal_data(shaped, generated):
    _, _, _, table = shaped
    assert not set(PERSONAL) & set(table.columns)
    text = table.select_dtypes(exclude="number").astype(str).to_numpy().ravel()
    cells = set(text)
    assert not cells & set(generated.personal_values())


def test_customer_cards_export_reads_back_with_the_same_rows_columns_and_values(shaped, tmp_path):
    _, params, _, table = shaped
    written = write_customer_cards(tmp_path / "exports", table, params)
    csv, parquet = written.paths
    assert (csv.name, parquet.name) == ("customer_cards.csv", "customer_cards.parquet")
    dialect = ExportSettings.from_params(params).dialect
    from_csv = pd.read_csv(
        csv, sep=dialect.sep, decimal=dialect.decimal, encoding="utf-8-sig", keep_default_na=False
    )
    from_parquet = pd.read_parquet(parquet)
    expected = prepare_export(table).frame
    for frame in (from_csv, from_parquet):
        assert list(frame.columns) == list(table.columns)
        assert len(frame) == len(table)
        ids = frame["customer_id"].astype(str).to_numpy()
        assert (ids == table["customer_id"].astype(str).to_numpy()).all()
    for column in ("value", "p_alive", "expected_orders_12m", "value_at_risk", "revenue"):
        want = expected[column].astype("float64")
        got = pd.to_numeric(from_csv[column].replace("", np.nan)).astype("float64")
        np.testing.assert_allclose(got, want, rtol=0, atol=0, equal_nan=True)
        np.testing.assert_allclose(from_parquet[column].astype("float64"), want, equal_nan=True)
    for column in ("status", "tier", "churn_reason", "next_action"):
        want = expected[column].astype("string").fillna("")
        assert (from_csv[column].astype(str).to_numpy() == want.to_numpy()).all()
        assert (from_parquet[column].astype("string").fillna("") == want).all()


def test_reductions_alone_give_statuses_and_say_what_is_missing():
    orders = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 3, 4],
            "order_date": pd.to_datetime(
                ["2025-01-05", "2025-02-01", "2026-02-10", "2025-03-01", "2026-02-20", "2026-01-20"]
            ),
            "revenue": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
        }
    )
    red = ck.reduce_orders(orders, PERIOD.as_of, customer_days=True)
    table = customer_state(red, PERIOD.as_of)
    assert list(table["customer_id"]) == [1, 2, 3, 4]
    status = dict(zip(table["customer_id"], table["status"].astype(str), strict=True))
    assert status[1] == "churned"  # silent for a year
    assert status[2] == "new"
    assert status[3] == "reactivated"  # back after eleven silent months
    assert table["value"].isna().all()
    assert "choose a purchase model" in " ".join(table.attrs["notes"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(1, 12), st.integers(0, 423), st.floats(1, 500)),
        min_size=1,
        max_size=60,
    )
)
def test_any_order_history_gets_one_status_per_customer_by_the_definition(rows):
    days = pd.to_timedelta([day for _, day, _ in rows], unit="D")
    orders = pd.DataFrame(
        {
            "customer_id": [cid for cid, _, _ in rows],
            "order_date": pd.Timestamp("2025-01-01") + days,
            "revenue": [amount for _, _, amount in rows],
        }
    )
    red = ck.reduce_orders(orders, PERIOD.as_of, customer_days=True)
    table = customer_state(red, PERIOD.as_of)
    assert sorted(table["customer_id"]) == sorted(set(orders["customer_id"]))
    expected = _expected_status(orders, table["customer_id"], PERIOD)
    got = table.set_index("customer_id")["status"].astype(str)
    pd.testing.assert_series_equal(got, expected.reindex(got.index), check_names=False)
    churned = table["status"].isin(["churned", "lapsed"])
    assert (table.loc[churned, "p_alive"] == 0).all()


def test_wrong_options_and_periods_are_refused_with_what_to_pass():
    red = ck.reduce_orders(
        pd.DataFrame(
            {"customer_id": [1], "order_date": pd.to_datetime(["2026-01-01"]), "revenue": [1.0]}
        ),
        PERIOD.as_of,
    )
    with pytest.raises(ParamsError, match="options must be a StateOptions"):
        customer_state(red, PERIOD.as_of, options={"model": "BG/NBD"})
    with pytest.raises(ParamsError, match="as_of must be the reductions' as-of"):
        customer_state(red, "2026-01-31")


def test_state_options_defaults_are_the_notebooks_defaults():
    from custkit.reports.parameters import resolve_parameters

    built = StateOptions.from_report_parameters(
        churn=resolve_parameters("churn", None), ltv=resolve_parameters("ltv", None)
    )
    assert built == StateOptions()


def test_demo_store_table_agrees_with_the_churn_report_and_partitions_the_base():
    params = load_params(REPO / "params" / "demo.yaml")
    store = load_store(params)
    period = ReportPeriod.from_string("2026-10")
    from custkit.reports.parameters import resolve_parameters

    options = StateOptions.from_report_parameters(
        churn=resolve_parameters("churn", params),
        ltv=resolve_parameters("ltv", params),
        model="Pareto/NBD",  # the LTV report's holdout choice on the demo
    )
    table = customer_state(store, period.as_of, period=period, options=options)
    red = ck.reduce_orders(store.orders, period.as_of, customer_days=True)
    status = churn.assess_churn(red).status
    assert len(table) == len(red.customers) == table["customer_id"].nunique()
    churned = set(status.index[status["status"] == "churned"])
    assert set(table.loc[table["status"].isin(["churned", "lapsed"]), "customer_id"]) == churned
    assert (table.loc[table["customer_id"].isin(churned), "p_alive"] == 0).all()
    assert table["next_action"].notna().sum() > 0
    assert not set(PERSONAL) & set(table.columns)


def test_one_time_buyers_of_long_ago_get_no_chance_of_still_buying_on_the_demo():
    """Issue 15: BG/NBD gave all 8,174 one-time buyers P(alive) = 1.00, those who bought once two
    years ago included, while the churn report called them churned after 180 days."""
    store = load_store(load_params(REPO / "params" / "demo.yaml"))
    period = ReportPeriod.from_string("2026-10")
    table = customer_state(store, period.as_of, period=period, options=StateOptions(model="BG/NBD"))
    long_ago = (table["orders"] == 1) & (table["last_order_date"] < pd.Timestamp("2025-10-31"))
    assert long_ago.sum() > 100  # 555 on the demo
    assert (table.loc[long_ago, "p_alive_model"] > 0.99).all()  # the model's artefact, kept
    assert (table.loc[long_ago, "p_alive"] == 0).all()
    assert (table.loc[long_ago, "status"] == "churned").all()
    assert (table.loc[long_ago, "value_at_risk"] == table.loc[long_ago, "value"]).all()


def test_a_store_with_no_repeat_buyer_gets_statuses_without_ltv_figures_and_a_note(
    storegen, generated, tmp_path
):
    # no purchase model can be fitted on one-time buyers only: the reports that read the table
    # (the audit's shared figures) must still run, as they did before they read it
    import dataclasses

    orders = generated.tables["orders"].sort_values("order_date")
    once = dataclasses.replace(
        generated, tables={**generated.tables, "orders": orders.drop_duplicates("customer_id")}
    )
    store = load_store(load_params(storegen.write_store(once, tmp_path, "orders_only")))
    table = customer_state(store, PERIOD.as_of, period=PERIOD)
    assert len(table) == len(ck.reduce_orders(store.orders, PERIOD.as_of).customers)
    assert set(table["status"].astype(str)) <= set(STATUSES) and table["status"].notna().all()
    assert table[["value", "expected_orders_12m"]].isna().all().all()
    assert any(note.startswith("No LTV figures:") for note in table.attrs["notes"])
