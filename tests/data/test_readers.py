"""Reading sources: every record of a file is counted, sheets are chosen, cells keep their types."""

import decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from custkit.contract import TABLES
from custkit.data import load_store, write_quarantine
from custkit.data.readers import _csv_error, read_source
from custkit.data.records import scan_records
from custkit.errors import DataError
from custkit.params import parse_params

TODAY = "2026-11-23"
HEADER = "order_id,customer_id,order_date,revenue,status"


def _params(folder, sources):
    return parse_params(
        {"store": {"name": "Test", "opened": "2020-01-01"}, "sources": sources},
        path=folder / "params.yaml",
    )


def _orders(n=1000):
    return [HEADER] + [f"{i},7,2025-01-01,{i},completed" for i in range(1, n + 1)]


def _load(tmp_path, lines, name="o.csv", **source):
    (tmp_path / name).write_bytes(("\n".join(lines) + "\n").encode())
    params = _params(tmp_path, {"orders": {"path": name, **source}})
    return load_store(params, today=TODAY, cache_dir=tmp_path / "cache")


# damage that can be confined to its own lines: (line number → replacement), lines rejected
CONFINED = {
    "stray quote opening the last field": ({12: '11,7,2025-01-01,11,"completed'}, [12]),
    "stray quote opening the first field": ({500: '"499,7,2025-01-01,499,completed'}, [500]),
    "two stray quotes far apart": (
        {12: '11,7,2025-01-01,11,"completed', 800: '799,7,"2025-01-01,799,completed'},
        [12, 800],
    ),
    "a stray quote swallowing whole records": (
        {12: '11,7,2025-01-01,11,"completed', 14: '13,7,2025-01-01,13,completed"'},
        [12],  # read line by line, line 14 is a record whose status ends in a quote
    ),
    "an extra field": ({3: "2,7,2025-01-01,2,completed,extra"}, [3]),
    "a missing field": ({1001: "1000,7,2025-01-01,1000"}, [1001]),
    "a truncated last line": ({1001: "1000,7,2025-"}, [1001]),
    "an unquoted comma in a value": ({77: "76,7,2025-01-01,76,comp,leted"}, [77]),
}


@pytest.mark.parametrize("case", CONFINED, ids=list(CONFINED))
def test_records_that_cannot_be_split_are_rejected_by_line_and_nothing_else_is_lost(tmp_path, case):
    changes, bad_lines = CONFINED[case]
    lines = _orders()
    for line, text in changes.items():
        lines[line - 1] = text
    store = _load(tmp_path, lines)
    acc = store.accounting["orders"]
    assert acc.read == 1000 == acc.accepted + acc.rejected
    assert acc.rejected == len(bad_lines) and dict(acc.reasons) == {"malformed_row": len(bad_lines)}
    rejected = store.rejected["orders"]
    assert rejected["source_line"].tolist() == bad_lines
    assert rejected["source_row"].tolist() == [line - 1 for line in bad_lines]
    good = {i for i in range(1, 1001)} - {line - 1 for line in bad_lines}
    assert set(store.orders["order_id"]) == good
    assert store.orders["revenue"].sum() == sum(good)  # revenue i on order i


def test_quarantine_names_the_line_of_a_malformed_record_without_its_content(tmp_path):
    lines = _orders(20)
    lines[5] = '5,7,2025-01-01,5,"completed'
    store = _load(tmp_path, lines)
    text = write_quarantine(store, tmp_path / "q")["orders"].read_text(encoding="utf-8-sig")
    row = pd.read_csv(tmp_path / "q" / "orders.csv", encoding="utf-8-sig").iloc[0]
    assert row["source_line"] == 6 and row["rejection_reason"] == "malformed_row"
    assert "completed" not in text  # the record could not be split: none of it is shown
    assert any(
        "line by line" in note and "line 6" in note for note in store.accounting["orders"].notes
    )


def test_quoted_values_may_span_lines_and_lines_are_traced(tmp_path):
    lines = [
        HEADER,
        '1,7,2025-01-01,10,"compl\neted"',
        "",
        '2,7,2025-01-02,20,"a ""b"""',
        "3,7,x,5,c",
    ]
    store = _load(tmp_path, lines)
    acc = store.accounting["orders"]
    assert acc.read == 3 and acc.accepted == 2 and acc.rejected == 1
    assert store.orders["status"].tolist() == ["compl\neted", 'a "b"']
    bad = store.rejected["orders"].iloc[0]
    assert bad["source_row"] == 3 and bad["source_line"] == 6


def test_a_multiline_quoted_csv_over_16_mb_is_read_whole(tmp_path):
    note = "first line of a long note, " * 10 + "\nsecond line"
    n = 60_000
    with open(tmp_path / "o.csv", "w") as fh:
        fh.write(HEADER + "\n")
        fh.writelines(f'{i},7,2025-01-01,{i},"{note}"\n' for i in range(1, n + 1))
    assert (tmp_path / "o.csv").stat().st_size > 1 << 24
    params = _params(tmp_path, {"orders": "o.csv"})
    store = load_store(params, today=TODAY, cache_dir=tmp_path / "cache")
    assert store.accounting["orders"].read == n == store.accounting["orders"].accepted
    assert (store.orders["status"] == note).all()


def test_damaged_quoting_is_noticed_by_the_record_count():
    data = ("\n".join(_orders(10)) + "\n").encode()
    assert scan_records(data, b",").records == 10
    damaged = data.replace(b"5,completed", b'5,"completed')
    scan = scan_records(damaged, b",")
    assert scan.records == 10 and scan.line_by_line and scan.malformed.tolist() == [4]


@pytest.mark.parametrize(
    "message",
    [
        "CSV parse error: Expected 4 columns, got 5: 7,a@b.ru,+79990001122,Smith, John",
        "CSV parse error: Expected 4 columns, got 3: 7,a@b.ru,+79990001122",
        'CSV parse error at row 12: 7,a@b.ru,"Smith',
    ],
)
def test_parse_errors_never_quote_the_row(tmp_path, message):
    error = _csv_error(pa.ArrowInvalid(message), "utf-8", tmp_path / "c.csv", TABLES["customers"])
    text = str(error)
    assert "a@b.ru" not in text and "7999" not in text and "Smith" not in text
    assert "c.csv" in text


def test_an_unquoted_comma_in_a_name_rejects_that_customer_and_shows_none_of_it(tmp_path, capsys):
    from custkit.cli import main

    (tmp_path / "o.csv").write_text(HEADER + "\n1,7,2025-01-01,5,done\n")
    (tmp_path / "c.csv").write_text(
        "customer_id,email,phone,name\n7,a@b.ru,+79990001122,Smith, John\n8,c@d.ru,+7999000,Ann\n"
    )
    (tmp_path / "p.yaml").write_text("sources:\n  orders: o.csv\n  customers: c.csv\n")
    assert main(["validate", "--params", str(tmp_path / "p.yaml"), "--json"]) == 0
    out = capsys.readouterr()
    assert "a@b.ru" not in out.out + out.err and "Smith" not in out.out + out.err
    assert '"malformed_row": 1' in out.out


def _workbook(path, sheets):
    with pd.ExcelWriter(path) as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)


def _month(first_id, revenue):
    return pd.DataFrame(
        {
            "order_id": [first_id, first_id + 1],
            "customer_id": [7, 8],
            "order_date": pd.to_datetime(["2025-01-05", "2025-02-06"]),
            "revenue": revenue,
        }
    )


@pytest.fixture
def book(tmp_path):
    _workbook(
        tmp_path / "o.xlsx",
        {
            "Jan": _month(1, [1234.5, 10.0]),
            "Feb": _month(3, [20.0, 30.25]),
            "Notes": pd.DataFrame({"text": ["made by hand"]}),
        },
    )
    return tmp_path


@pytest.mark.parametrize(
    ("sheet", "ids"),
    [("Feb", [3, 4]), (1, [3, 4]), (0, [1, 2]), ("all", [1, 2, 3, 4])],
)
def test_a_sheet_is_chosen_by_name_number_or_all(book, sheet, ids):
    params = _params(book, {"orders": {"path": "o.xlsx", "sheet": sheet}})
    store = load_store(params, today=TODAY)
    assert store.orders["order_id"].tolist() == ids
    notes = " ".join(store.accounting["orders"].notes)
    if sheet == "all":
        assert "'Jan', 'Feb'" in notes and "'Notes'" in notes  # read, and not read (columns)


def test_a_workbook_with_several_sheets_and_none_chosen_says_which_were_not_read(book):
    store = load_store(_params(book, {"orders": "o.xlsx"}), today=TODAY)
    assert store.orders["order_id"].tolist() == [1, 2]
    notes = " ".join(store.accounting["orders"].notes)
    assert "only the first, 'Jan'" in notes and "'Feb', 'Notes'" in notes


@pytest.mark.parametrize("sheet", ["Mar", 5])
def test_a_sheet_that_does_not_exist_is_an_error_listing_the_sheets(book, sheet):
    params = _params(book, {"orders": {"path": "o.xlsx", "sheet": sheet}})
    with pytest.raises(DataError, match=r"Sheets: 'Jan', 'Feb', 'Notes'"):
        load_store(params, today=TODAY)


def test_sheet_rows_are_traced_to_their_sheet_and_row(book):
    frame = _month(1, [5.0, 6.0])
    frame.loc[1, "order_date"] = pd.NaT
    _workbook(book / "o.xlsx", {"Jan": _month(10, [1.0, 2.0]), "Feb": frame})
    store = load_store(_params(book, {"orders": {"path": "o.xlsx", "sheet": "all"}}), today=TODAY)
    bad = store.rejected["orders"].iloc[0]
    assert bad["source_file"].endswith("o.xlsx[Feb]") and bad["source_line"] == 3


@pytest.mark.parametrize("decimal_sign", [".", ","])
def test_typed_cells_stay_typed_whatever_the_decimal_option(book, decimal_sign):
    spec = parse_params(
        {"sources": {"orders": {"path": str(book / "o.xlsx"), "decimal": decimal_sign}}}
    ).sources["orders"]
    raw = read_source(spec, TABLES["orders"]).frame
    assert raw["revenue"].dtype == "float64" and raw["revenue"].tolist() == [1234.5, 10.0]
    assert pd.api.types.is_datetime64_any_dtype(raw["order_date"])


def test_parquet_decimals_arrive_as_floats(tmp_path):
    revenue = pa.array([decimal.Decimal("1234.50"), decimal.Decimal("0.10")], pa.decimal128(12, 2))
    table = pa.table(
        {
            "order_id": [1, 2],
            "customer_id": [7, 7],
            "order_date": pa.array(pd.to_datetime(["2025-01-01", "2025-01-02"])),
            "revenue": revenue,
        }
    )
    pq.write_table(table, tmp_path / "o.parquet")
    spec = parse_params({"sources": {"orders": str(tmp_path / "o.parquet")}}).sources["orders"]
    raw = read_source(spec, TABLES["orders"]).frame
    assert raw["revenue"].dtype == "float64"
    assert np.allclose(raw["revenue"], [1234.5, 0.1])


def test_a_header_only_file_in_a_glob_is_skipped_with_a_note(tmp_path):
    (tmp_path / "o1.csv").write_text(HEADER + "\n1,7,2025-01-01,5,done\n")
    (tmp_path / "o2.csv").write_text(HEADER + "\n")
    store = load_store(_params(tmp_path, {"orders": "o*.csv"}), today=TODAY, cache_dir=tmp_path)
    assert store.accounting["orders"].read == 1
    assert any("skipped: o2.csv" in note for note in store.accounting["orders"].notes)


def test_a_glob_of_header_only_files_is_an_error(tmp_path):
    for name in ("o1.csv", "o2.csv"):
        (tmp_path / name).write_text(HEADER + "\n")
    with pytest.raises(DataError, match="none of the files has data rows"):
        load_store(_params(tmp_path, {"orders": "o*.csv"}), today=TODAY, cache_dir=tmp_path)


@pytest.mark.parametrize("encoding", ["utf-16", "cp1251", "utf-8-sig"])
def test_exports_in_any_encoding_are_counted_from_their_text(tmp_path, encoding):
    text = "\r\n".join([HEADER, '1,7,2025-01-01,5,"выполнен\r\nдоставлен"', "2,7,2025-01-02,6,ок"])
    (tmp_path / "o.csv").write_bytes(text.encode(encoding))
    params = _params(tmp_path, {"orders": {"path": "o.csv", "encoding": encoding}})
    store = load_store(params, today=TODAY, cache_dir=tmp_path / "cache")
    assert store.accounting["orders"].read == 2 == store.accounting["orders"].accepted
    assert store.orders["status"].tolist() == ["выполнен\r\nдоставлен", "ок"]


def test_the_cache_gives_the_same_accounting_as_the_file(tmp_path):
    lines = _orders(50)
    lines[10] = '10,7,2025-01-01,10,"completed'
    lines[20] = "20,7,2025-01-01"
    first = _load(tmp_path, lines)
    params = _params(tmp_path, {"orders": "o.csv"})
    again = load_store(params, today=TODAY, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("*.parquet"))) == 1
    assert again.accounting["orders"] == first.accounting["orders"]
    pd.testing.assert_frame_equal(again.rejected["orders"], first.rejected["orders"])
