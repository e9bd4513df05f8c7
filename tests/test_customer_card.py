"""``custkit customer ID``: the customer card, importance first, in the report language, with no
contact data; an unknown id is a clear error (exit 2) that names no other id."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from custkit import cli
from custkit.customers import STATUS_LABELS
from custkit.i18n import _ as translate
from custkit.i18n import get_language, use_language

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    # the command sets the process's report language: restore it for the tests that follow
    with use_language(get_language()):
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main(list(args))
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def generated(storegen):
    return storegen.generate_store(storegen.StoreSpec(customers=700, seed=3))


@pytest.fixture(scope="module", params=["en", "ru"])
def exported(request, storegen, generated, tmp_path_factory):
    """The store in one language, the card of its first customer and the whole table exported."""
    folder = tmp_path_factory.mktemp(f"store_{request.param}")
    params = storegen.write_store(generated, folder, "full", language=request.param)
    first = str(generated.tables["orders"]["customer_id"].iloc[0])
    status, out, err = _run(
        "customer", first, "--params", str(params), "--export", str(folder / "exports")
    )
    assert status == 0, err
    table = pd.read_parquet(folder / "exports" / "customer_cards.parquet")
    return request.param, params, table, out


def _card(params: Path, customer_id: str, *options: str) -> str:
    status, out, err = _run(
        "customer", customer_id, "--params", str(params), "--period", "2026-02", *options
    )
    assert status == 0, err
    return out


def test_the_export_option_writes_the_whole_table_for_a_crm(exported, generated):
    _, _, table, out = exported
    assert "customer cards of" in out
    bought = generated.tables["orders"]["customer_id"].nunique()
    assert 0 < len(table) <= bought
    assert table["customer_id"].is_unique


def test_a_churned_customers_card_puts_importance_first_then_reason_action_and_last_orders(
    exported, generated
):
    language, params, table, _ = exported
    churned = table.loc[(table["status"] == "churned") & table["churn_reason"].notna()]
    row = churned.sort_values("orders", ascending=False).iloc[0]
    lines = _card(params, row["customer_id"]).splitlines()
    with use_language(language):
        heads = [
            translate("Customer {customer_id}", customer_id=row["customer_id"]),
            translate("Importance: {tier}", tier="").rstrip(),
            translate("Value, margin over {months} months: {value}", months=12, value="").rstrip(),
            translate("Chance of still buying: {p_alive}", p_alive="").rstrip(),
            translate("Status: {status}", status=translate(STATUS_LABELS["churned"])),
        ]
        reason = translate("Reason: {reason}", reason="").rstrip()
        orders_head = translate("Last orders (date, amount, status):")
    for line, head in zip(lines, heads, strict=False):
        assert line.startswith(head), (line, head)
    assert any(line.startswith(reason) for line in lines)
    assert lines.index(orders_head) > 4
    listed = lines[lines.index(orders_head) + 1 :]
    assert 1 <= len(listed) <= 5
    dates = [pd.Timestamp(line.split()[0]) for line in listed]
    assert dates == sorted(dates, reverse=True)
    assert all(d <= pd.Timestamp("2026-02-28") for d in dates)


def test_the_card_shows_no_contact_data_of_anyone(exported, generated):
    _, params, table, first_card = exported
    personal = generated.personal_values()
    someone = table.sort_values("value", ascending=False).iloc[0]["customer_id"]
    for card in (first_card, _card(params, someone, "--model", "BG/NBD")):
        assert not [value for value in personal if value in card]


def test_a_russian_store_gets_a_russian_card(exported):
    language, _, _, out = exported
    if language != "ru":
        pytest.skip("the Russian store only")
    assert "Важность:" in out and "Статус:" in out and "Последние заказы" in out
    assert "Importance" not in out and "Status:" not in out


def test_an_unknown_customer_is_an_error_naming_no_other_id(exported):
    _, params, table, _ = exported
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "custkit.cli", "customer", "NOPE-1", "--params", str(params)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "'NOPE-1' was not found" in proc.stderr
    assert f"{len(table):,} customers" in proc.stderr
    assert not [cid for cid in table["customer_id"].head(50) if str(cid) in proc.stderr]
    assert proc.stdout == ""


@pytest.mark.parametrize("period", ["2026-13", "2031-01"])
def test_a_wrong_period_is_refused_before_any_computation(exported, period):
    _, params, _, _ = exported
    status, out, err = _run("customer", "C-00001", "--params", str(params), "--period", period)
    assert status == 2
    assert "period" in err.lower() and out == ""


def test_a_given_model_values_the_cards_with_it_as_the_ltv_report_would(exported, tmp_path):
    import custkit as ck
    from custkit import ltv
    from custkit.data.load import load_store
    from custkit.params import load_params

    _, params, table, _ = exported
    someone = str(table["customer_id"].iloc[0])
    status, _, err = _run(
        "customer", someone, "--params", str(params), "--period", "2026-02",
        "--model", "BG/NBD", "--export", str(tmp_path),
    )  # fmt: skip
    assert status == 0, err
    cards = pd.read_parquet(tmp_path / "customer_cards.parquet").set_index("customer_id")
    store = load_store(load_params(params))
    as_of = pd.Timestamp("2026-02-28")
    red = ck.reduce_orders(store.orders, as_of, customer_days=True)
    value = ltv.customer_value(store.orders, as_of, "BG/NBD", red).clv.reindex(cards.index)
    pd.testing.assert_series_equal(
        cards["expected_orders_12m"], value["expected_purchases"].round(4), check_names=False,
        rtol=1e-3,
    )  # fmt: skip
    with pytest.raises(SystemExit) as exit_:
        _run("customer", someone, "--params", str(params), "--model", "GBM")
    assert exit_.value.code == 2


def test_an_unknown_customer_is_told_before_any_table_is_computed(exported, monkeypatch):
    import custkit.customers

    _, params, table, _ = exported

    def no_table(*args, **kwargs):
        raise AssertionError("the table was computed for an id that has no purchase")

    monkeypatch.setattr(custkit.customers, "customer_state", no_table)
    status, out, err = _run("customer", "NOPE-2", "--params", str(params))
    assert status == 2 and out == ""
    assert f"'NOPE-2' was not found among the {len(table):,} customers" in err
