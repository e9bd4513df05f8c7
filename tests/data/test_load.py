import json
import sqlite3

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custkit.cli import main
from custkit.data import load_store, write_quarantine
from custkit.errors import DataError, ParamsError
from custkit.params import parse_params

TODAY = "2026-11-23"

RUSSIAN_EXPORT = (
    "Номер;Клиент;Дата;Сумма;Статус\n"
    "1;100;01.02.2025;1 234,50;выполнен\n"
    "2;101;31.02.2025;100;выполнен\n"
    "3;;01.03.2025;50;выполнен\n"
    "4;102;05.03.2025;abc;отменен\n"
    "5;103;05.03.2031;10;выполнен\n"
    "6;104;05.03.1999;10;выполнен\n"
    "7;105;06.03.2025;20;выполнен\n"
    "7;105;06.03.2025;21;выполнен\n"
    "8;106;07.03.2025 14:30;2\u00a0500,00;выполнен\n"
    "8;106;07.03.2025 14:30;2\u00a0500,00;выполнен\n"
)
RUSSIAN_SOURCE = {
    "path": "orders.csv",
    "encoding": "cp1251",
    "decimal": ",",
    "date_format": "%d.%m.%Y",
    "columns": {
        "order_id": "Номер",
        "customer_id": "Клиент",
        "order_date": "Дата",
        "revenue": "Сумма",
        "status": "Статус",
    },
}


def _params(tmp_path, sources, store=None):
    return parse_params(
        {"store": store or {"name": "Test", "opened": "2020-01-01"}, "sources": sources},
        path=tmp_path / "params.yaml",
    )


@pytest.fixture
def russian(tmp_path):
    (tmp_path / "orders.csv").write_bytes(RUSSIAN_EXPORT.encode("cp1251"))
    return _params(tmp_path, {"orders": RUSSIAN_SOURCE})


def test_russian_export_loads_with_cp1251_semicolon_decimal_comma_and_day_first(russian):
    store = load_store(russian, today=TODAY)
    orders = store.orders.set_index("order_id")
    assert orders.loc[1, "revenue"] == 1234.5
    assert orders.loc[1, "order_date"] == pd.Timestamp("2025-02-01")
    assert orders.loc[8, "revenue"] == 2500.0
    assert orders.loc[8, "order_date"] == pd.Timestamp("2025-03-07 14:30")
    assert orders["customer_id"].dtype == "int64"


def test_every_bad_row_is_rejected_once_with_its_reason(russian):
    acc = load_store(russian, today=TODAY).accounting["orders"]
    assert acc.read == 10 and acc.accepted == 2 and acc.rejected == 8
    assert dict(acc.reasons) == {
        "unparseable_date": 1,
        "missing_id": 1,
        "unparseable_amount": 1,
        "date_in_future": 1,
        "date_before_store_opened": 1,
        "conflicting_duplicate_id": 2,
        "exact_duplicate": 1,
    }


def test_quarantine_file_carries_source_row_numbers_and_raw_values(russian, tmp_path):
    store = load_store(russian, today=TODAY)
    path = write_quarantine(store, tmp_path / "q")["orders"]
    bad = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
    row = bad[bad["rejection_reason"] == "unparseable_date"].iloc[0]
    assert row["source_row"] == "2" and row["order_date"] == "31.02.2025"
    assert row["rejection_explanation"] == "a required date could not be read"
    assert bad[bad["rejection_reason"] == "unparseable_amount"].iloc[0]["revenue"] == "abc"


def test_missing_required_column_names_file_column_and_close_match(tmp_path):
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,order_date,Revenue_RUB\n1,2,2025-01-01,3\n"
    )
    params = _params(tmp_path, {"orders": {"path": "orders.csv"}})
    with pytest.raises(DataError) as err:
        load_store(params, today=TODAY)
    text = str(err.value)
    assert "required column 'revenue'" in text and "orders.csv" in text
    assert "Revenue_RUB" in text and "sources.orders.columns.revenue" in text


def test_mapping_to_an_absent_column_is_reported(tmp_path):
    (tmp_path / "orders.csv").write_text("id,client,date,sum\n1,2,2025-01-01,3\n")
    source = {"path": "orders.csv", "columns": {"order_id": "id", "customer_id": "cliente"}}
    with pytest.raises(DataError, match=r"'cliente', which is not in the file.*'client'"):
        load_store(_params(tmp_path, {"orders": source}), today=TODAY)


def test_wrong_encoding_says_which_encoding_to_set(tmp_path):
    (tmp_path / "orders.csv").write_bytes(RUSSIAN_EXPORT.encode("cp1251"))
    source = {**RUSSIAN_SOURCE, "encoding": "utf-8"}
    with pytest.raises(DataError, match="cp1251"):
        load_store(_params(tmp_path, {"orders": source}), today=TODAY)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"order_id,customer_id,order_date,revenue\n", "no data rows")],
)
def test_empty_files_are_clear_errors(tmp_path, content, message):
    (tmp_path / "orders.csv").write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_store(_params(tmp_path, {"orders": "orders.csv"}), today=TODAY)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no file matches"):
        load_store(_params(tmp_path, {"orders": "nope/*.csv"}), today=TODAY)


def test_glob_of_several_files_is_one_table_with_rows_traced_to_files(tmp_path):
    (tmp_path / "o1.csv").write_text("order_id,customer_id,order_date,revenue\n1,1,2025-01-01,5\n")
    (tmp_path / "o2.csv").write_text(
        "order_id,customer_id,order_date,revenue\n2,1,2025-01-02,5\n3,1,bad,5\n"
    )
    store = load_store(_params(tmp_path, {"orders": "o*.csv"}), today=TODAY)
    assert store.accounting["orders"].accepted == 2
    bad = store.rejected["orders"].iloc[0]
    assert bad["source_file"].endswith("o2.csv") and bad["source_row"] == 2


def test_parquet_xlsx_and_sqlite_sources_give_the_same_orders(tmp_path):
    frame = pd.DataFrame(
        {
            "order_id": [1, 2, 3],
            "customer_id": [10, 10, 11],
            "order_date": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"]),
            "revenue": [10.0, 20.5, 30.0],
        }
    )
    frame.to_parquet(tmp_path / "o.parquet")
    frame.to_excel(tmp_path / "o.xlsx", index=False)
    with sqlite3.connect(tmp_path / "shop.db") as con:
        frame.assign(order_date=frame["order_date"].dt.strftime("%Y-%m-%d")).to_sql("o", con)
    loaded = [
        load_store(_params(tmp_path, {"orders": src}), today=TODAY).orders
        for src in (
            "o.parquet",
            "o.xlsx",
            {"url": f"sqlite:///{tmp_path / 'shop.db'}", "query": "select * from o"},
        )
    ]
    for orders in loaded:
        pd.testing.assert_frame_equal(orders, frame, check_dtype=False)


def test_csv_is_cached_as_parquet_and_the_cache_follows_file_changes(tmp_path):
    cache = tmp_path / "cache"
    csv = tmp_path / "o.csv"
    csv.write_text("order_id,customer_id,order_date,revenue\n1,1,2025-01-01,5\n")
    params = _params(tmp_path, {"orders": "o.csv"})
    load_store(params, today=TODAY, cache_dir=cache)
    assert len(list(cache.glob("*.parquet"))) == 1
    csv.write_text("order_id,customer_id,order_date,revenue\n1,1,2025-01-01,5\n2,1,2025-01-03,7\n")
    assert len(load_store(params, today=TODAY, cache_dir=cache).orders) == 2


def test_orders_of_unknown_customers_are_kept_and_noted(tmp_path):
    (tmp_path / "o.csv").write_text(
        "order_id,customer_id,order_date,revenue\n1,1,2025-01-01,5\n2,9,2025-01-02,5\n"
    )
    (tmp_path / "c.csv").write_text("customer_id,email\n1,a@b.ru\n")
    store = load_store(_params(tmp_path, {"orders": "o.csv", "customers": "c.csv"}), today=TODAY)
    assert len(store.orders) == 2
    assert any(
        "1 orders of 1 customers not in the customers table" in n
        for n in store.accounting["orders"].notes
    )


def test_unreadable_optional_values_are_emptied_and_counted(tmp_path):
    (tmp_path / "c.csv").write_text(
        "customer_id,birth_date,consent_email\n1,1990-05-01,да\n2,someday,no\n3,,maybe\n"
    )
    (tmp_path / "o.csv").write_text("order_id,customer_id,order_date,revenue\n1,1,2025-01-01,5\n")
    store = load_store(_params(tmp_path, {"orders": "o.csv", "customers": "c.csv"}), today=TODAY)
    customers = store.customers
    assert len(customers) == 3
    assert customers["consent_email"].tolist()[:2] == [True, False]
    notes = " ".join(store.accounting["customers"].notes)
    assert "1 values of optional column 'birth_date'" in notes
    assert "1 values of optional column 'consent_email'" in notes


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["1", "2", "3", "", "x"]),
            st.sampled_from(["2025-01-01", "2031-01-01", "1990-01-01", "bad", ""]),
            st.sampled_from(["10", "-1", "abc", "", "5,5"]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_read_equals_accepted_plus_rejected(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("prop")
    lines = ["order_id,customer_id,order_date,revenue"]
    lines += [f'{oid},7,{date},"{rev}"' for oid, date, rev in rows]
    (folder / "o.csv").write_text("\n".join(lines) + "\n")
    acc = load_store(_params(folder, {"orders": "o.csv"}), today=TODAY).accounting["orders"]
    assert acc.read == len(rows) == acc.accepted + acc.rejected
    assert sum(acc.reasons.values()) == acc.rejected


def test_cli_validate_json_reports_accounting_and_exit_status(russian, tmp_path, capsys):
    params_file = tmp_path / "params.yaml"
    params_file.write_text(
        "store: {opened: 2020-01-01}\nsources:\n  orders:\n"
        + "".join(
            f"    {k}: {json.dumps(v, ensure_ascii=False)}\n" for k, v in RUSSIAN_SOURCE.items()
        ),
        encoding="utf-8",
    )
    assert main(["validate", "--params", str(params_file), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    orders = report["tables"]["orders"]
    assert orders["read"] == orders["accepted"] + orders["rejected"] == 10
    assert report["errors"] == []


def test_cli_validate_exits_2_with_a_message_and_no_traceback(tmp_path, capsys):
    (tmp_path / "orders.csv").write_text("a,b\n1,2\n")
    params_file = tmp_path / "params.yaml"
    params_file.write_text("sources:\n  orders: orders.csv\n")
    assert main(["validate", "--params", str(params_file)]) == 2
    err = capsys.readouterr().err
    assert "required column 'order_id'" in err and "Traceback" not in err


def test_optional_ids_may_be_empty_and_tables_with_a_reason_column_quarantine_fine(tmp_path):
    (tmp_path / "o.csv").write_text("order_id,customer_id,order_date,revenue\n1,1,2025-01-01,5\n")
    (tmp_path / "c.csv").write_text("customer_id,referrer_id\n1,\n2,1\n")
    (tmp_path / "f.csv").write_text(
        "customer_id,created_at,reason\n1,2025-01-02,quality\n1,not a date,delivery\n"
    )
    sources = {"orders": "o.csv", "customers": "c.csv", "feedback": "f.csv"}
    store = load_store(_params(tmp_path, sources), today=TODAY)
    assert store.accounting["customers"].rejected == 0
    path = write_quarantine(store, tmp_path / "q")["feedback"]
    bad = pd.read_csv(path, encoding="utf-8-sig")
    assert bad.loc[0, "rejection_reason"] == "unparseable_date"
    assert bad.loc[0, "reason"] == "delivery"


def test_reports_can_read_only_the_optional_columns_they_use(tmp_path):
    (tmp_path / "o.csv").write_text(
        "order_id,customer_id,order_date,revenue,status,coupon\n1,1,2025-01-01,5,done,X\n"
    )
    tables = {"orders": ["status"], "customers": None}
    store = load_store(_params(tmp_path, {"orders": "o.csv"}), tables=tables, today=TODAY)
    assert list(store.orders.columns) == [
        "order_id",
        "customer_id",
        "order_date",
        "revenue",
        "status",
    ]
    assert store.customers is None
    notes = " ".join(store.accounting["orders"].notes)
    assert "coupon" not in notes and "status" not in notes


@pytest.mark.parametrize(
    "keys",
    [
        pd.Series([5, 6, 5, 7, 9, 9, 9], dtype="int64"),  # dense integers: counted
        pd.Series([1, 10**12, 1, 3], dtype="int64"),  # sparse integers: hashed
        pd.Series(["a", None, "b", "a", None], dtype="str"),  # text, missing never repeats
    ],
)
def test_repeated_keys_match_pandas_duplicated(keys):
    from custkit.data.validate import _repeated

    expected = keys.duplicated(keep=False).to_numpy() & keys.notna().to_numpy()
    assert _repeated(keys).tolist() == expected.tolist()


def test_release_lets_go_of_a_table_and_keeps_its_accounting(russian):
    store = load_store(russian)
    store.release("orders", "customers")
    assert store.orders is None and store.customers is None
    assert store.accounting["orders"].accepted > 0
    with pytest.raises(ParamsError, match=r"Got 'order' instead.*Did you mean 'orders'"):
        store.release("order")


@pytest.mark.parametrize(
    "payload", ['=HYPERLINK("http://evil.example","x")', "+cmd|'/C calc'!A0", "-1+1", "@SUM(1)"]
)
def test_quarantine_files_neutralise_formula_like_values(payload, tmp_path):
    (tmp_path / "o.csv").write_text(
        "order_id,customer_id,order_date,revenue\n1,1,2025-01-01,5\n2,1,2025-01-02,"
        + payload.replace('"', '""').join('""')
        + "\n",
        encoding="utf-8",
    )
    store = load_store(_params(tmp_path, {"orders": "o.csv"}), today=TODAY)
    path = write_quarantine(store, tmp_path / "q")["orders"]
    bad = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
    assert bad.loc[0, "revenue"] == "'" + payload


@pytest.mark.parametrize(
    ("language", "exports", "sep"),
    [("en", "", ","), ("ru", "", ";"), ("ru", "exports: {sep: ',', decimal: '.'}\n", ",")],
)
def test_cli_validate_quarantine_follows_the_params_csv_dialect(
    russian, tmp_path, capsys, language, exports, sep
):
    params_file = tmp_path / "params.yaml"
    params_file.write_text(
        f"language: {language}\n{exports}store: {{opened: 2020-01-01}}\nsources:\n  orders:\n"
        + "".join(
            f"    {k}: {json.dumps(v, ensure_ascii=False)}\n" for k, v in RUSSIAN_SOURCE.items()
        ),
        encoding="utf-8",
    )
    argv = ["validate", "--params", str(params_file), "--quarantine", str(tmp_path / "q")]
    assert main(argv) == 0
    capsys.readouterr()
    header = (tmp_path / "q" / "orders.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith(
        f"source_row{sep}source_line{sep}rejection_reason{sep}rejection_explanation{sep}"
    )
    bad = pd.read_csv(tmp_path / "q" / "orders.csv", sep=sep, encoding="utf-8-sig", dtype=str)
    assert len(bad) == 8 and "31.02.2025" in set(bad["order_date"])
