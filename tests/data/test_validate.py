"""Parsing values by stated rules: amounts, non-finite numbers, time zones, out-of-range dates, ids.

Each rule is tested on the forms stores write (parametrised), and where a rule maps a value to a
number, hypothesis writes random values in every allowed form and reads them back.
"""

import datetime as dt
import decimal
import math
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custkit.cli import main
from custkit.contract import TABLES
from custkit.data import load_store
from custkit.data.load import JoinWarning
from custkit.data.validate import MISSING_IDS, parse_column, validate_table
from custkit.params import SourceSpec, parse_params

TODAY = "2026-11-23"
ORDERS = TABLES["orders"]


def _parse(values, column="revenue", table="orders", timezone=None, **options):
    raw = values if isinstance(values, pd.Series) else pd.Series(values, dtype="str")
    spec = SourceSpec(table=table, **options)
    return parse_column(raw, TABLES[table].column(column), spec, timezone=timezone)


def _orders(n, **columns):
    """A raw orders frame of *n* text rows; *columns* replace or add columns."""
    frame = pd.DataFrame(
        {
            "order_id": [str(i + 1) for i in range(n)],
            "customer_id": ["7"] * n,
            "order_date": ["2025-03-01"] * n,
            "revenue": ["10"] * n,
        }
    )
    for name, values in columns.items():
        frame[name] = pd.Series(values) if not isinstance(values, pd.Series) else values
    return frame


def _validate(raw, table="orders", timezone=None, **options):
    spec = SourceSpec(table=table, **options)
    return validate_table(raw, TABLES[table], spec, today=TODAY, timezone=timezone)


def _params(tmp_path, sources, **store):
    return parse_params(
        {"store": {"name": "Test", "opened": "2020-01-01", **store}, "sources": sources},
        path=tmp_path / "params.yaml",
    )


# ------------------------------------------------------------------------------------------------
# Amounts: decimal and thousands options apply to text only, by one stated grammar
# ------------------------------------------------------------------------------------------------

# (text, value, read with the other separator)
DECIMAL_COMMA = [
    ("1234,50", 1234.5, False),
    ("1 234,50", 1234.5, False),
    ("1\u00a0234,50", 1234.5, False),
    ("1\u202f234\u202f567,89", 1234567.89, False),
    ("1.234.567,89", 1234567.89, False),
    ("1'234,5", 1234.5, False),
    ("1.234", 1234.0, False),
    ("12,5", 12.5, False),
    ("-0,5", -0.5, False),
    ("\u22120,5", -0.5, False),
    ("+3", 3.0, False),
    (",5", 0.5, False),
    ("(100)", -100.0, False),
    ("(1 234,50 ₽)", -1234.5, False),
    ("₽ 100", 100.0, False),
    ("100 руб.", 100.0, False),
    ("100р.", 100.0, False),
    ("RUB 1 000", 1000.0, False),
    ("€12,50", 12.5, False),
    ("-$5", -5.0, False),
    ("  7  ", 7.0, False),
    ("1e3", 1000.0, False),
    ("1234.50", 1234.5, True),
    ("1,234.50", 1234.5, True),
    ("0.5", 0.5, True),
]
DECIMAL_POINT = [
    ("1234.50", 1234.5, False),
    ("1,234.50", 1234.5, False),
    ("1,234,567.89", 1234567.89, False),
    ("1 234.5", 1234.5, False),
    ("1,234", 1234.0, False),
    ("-0.5", -0.5, False),
    ("(100.25)", -100.25, False),
    ("$1,000", 1000.0, False),
    ("5.", 5.0, False),
    (".5", 0.5, False),
    ("1.5E+3", 1500.0, False),
    ("12,5", 12.5, True),
    ("-0,5", -0.5, True),
    ("1 234,50", 1234.5, True),
    ("1.234.567,89", 1234567.89, True),
]
UNREADABLE = [
    "1.2.3",
    "12 34",
    "1,23,456.00",
    "abc",
    "(-5)",
    "--5",
    "+-5",
    "(5",
    "5)",
    "1 2",
    "€",
    ".",
]


@pytest.mark.parametrize(("text", "value", "other"), DECIMAL_COMMA)
def test_decimal_comma_reads_every_written_form_of_an_amount(text, value, other):
    parsed = _parse([text], decimal=",")
    assert parsed.values.iloc[0] == pytest.approx(value)
    assert not parsed.bad[0]
    assert parsed.counts.get("other_decimal", 0) == int(other)


@pytest.mark.parametrize(("text", "value", "other"), DECIMAL_POINT)
def test_decimal_point_reads_every_written_form_of_an_amount(text, value, other):
    parsed = _parse([text])
    assert parsed.values.iloc[0] == pytest.approx(value)
    assert not parsed.bad[0]
    assert parsed.counts.get("other_decimal", 0) == int(other)


@pytest.mark.parametrize("decimal_sep", [".", ","])
@pytest.mark.parametrize("text", UNREADABLE)
def test_an_amount_fitting_no_reading_rejects_the_row_as_unparseable(text, decimal_sep):
    result = _validate(_orders(2, revenue=[text, "5"]), decimal=decimal_sep)
    assert result.reason_counts == {"unparseable_amount": 1}
    assert list(result.rejected_positions) == [0]


def test_an_explicit_thousands_option_is_one_more_group_separator():
    parsed = _parse(["1_234,5", "1_234_567"], decimal=",", thousands="_")
    assert parsed.values.tolist() == [1234.5, 1234567.0]


@pytest.mark.parametrize("decimal_sep", [".", ","])
@pytest.mark.parametrize("thousands", [None, ".", ",", " "])
def test_typed_numbers_are_used_as_they_are_whatever_the_text_options(decimal_sep, thousands):
    typed = [1234.5, 1234.56, 0.5, 100001.0]
    floats = _parse(pd.Series(typed), decimal=decimal_sep, thousands=thousands)
    assert floats.values.tolist() == typed
    ints = _parse(pd.Series([1234, 7]), decimal=decimal_sep, thousands=thousands)
    assert ints.values.tolist() == [1234.0, 7.0]
    # an XLSX column mixes typed cells and text; a Parquet decimal may arrive as Decimal objects
    mixed = pd.Series([1234.5, 7, decimal.Decimal("1234.50"), "1 234,50"], dtype=object)
    parsed = _parse(mixed, decimal=",", thousands=thousands if thousands != "," else None)
    assert parsed.values.tolist() == [1234.5, 7.0, 1234.5, 1234.5]
    assert not parsed.bad.any()


def test_a_decimal_comma_source_keeps_point_amounts_of_a_csv_and_says_so(tmp_path):
    (tmp_path / "o.csv").write_text(
        "order_id;customer_id;order_date;revenue\n1;7;2025-01-01;1234.50\n2;7;2025-01-02;1 234,50\n"
    )
    source = {"path": "o.csv", "sep": ";", "decimal": ","}
    store = load_store(_params(tmp_path, {"orders": source}), today=TODAY)
    assert store.orders["revenue"].tolist() == [1234.5, 1234.5]
    notes = " ".join(store.accounting["orders"].notes)
    assert "1 values of column 'revenue' use '.' as the decimal separator, not ','" in notes


def test_a_decimal_comma_source_keeps_numeric_xlsx_cells_and_parquet_decimals(tmp_path):
    pd.DataFrame(
        {"order_id": [1], "customer_id": [7], "order_date": ["2025-01-01"], "revenue": [1234.5]}
    ).to_excel(tmp_path / "o.xlsx", index=False)
    table = pa.table(
        {
            "order_id": [1],
            "customer_id": [7],
            "order_date": pa.array([dt.datetime(2025, 1, 1)]),
            "revenue": pa.array([decimal.Decimal("1234.50")], pa.decimal128(10, 2)),
        }
    )
    pq.write_table(table, tmp_path / "o.parquet")
    for name in ("o.xlsx", "o.parquet"):
        params = _params(tmp_path, {"orders": {"path": name, "decimal": ","}})
        assert load_store(params, today=TODAY).orders["revenue"].tolist() == [1234.5], name


def _written(cents: int, point: str, group: str, currency: str, parentheses: bool) -> str:
    """*cents* written as a store might write it."""
    units, rest = divmod(abs(cents), 100)
    digits = f"{units:,}".replace(",", group) if group else str(units)
    text = f"{digits}{point}{rest:02d}"
    text = f"{currency}{text}" if currency else text
    if cents < 0:
        text = f"({text})" if parentheses else f"-{text}"
    return text


@settings(max_examples=200, deadline=None)
@given(
    cents=st.integers(-(10**11), 10**11),
    decimal_sep=st.sampled_from([".", ","]),
    group=st.sampled_from(["", " ", "\u00a0", "'", "other"]),
    currency=st.sampled_from(["", "₽", "$ ", "€"]),
    parentheses=st.booleans(),
)
def test_any_amount_written_in_the_declared_format_reads_back_exactly(
    cents, decimal_sep, group, currency, parentheses
):
    other = "," if decimal_sep == "." else "."
    text = _written(cents, decimal_sep, other if group == "other" else group, currency, parentheses)
    parsed = _parse([text], decimal=decimal_sep)
    assert not parsed.bad[0], text
    assert round(parsed.values.iloc[0] * 100) == cents, text
    assert parsed.counts.get("other_decimal", 0) == 0


@settings(max_examples=100, deadline=None)
@given(cents=st.integers(0, 10**9).filter(lambda c: c % 100), group=st.sampled_from(["", " "]))
def test_an_amount_with_cents_in_the_other_format_is_read_and_counted(cents, group):
    # with cents, '1234.50' under decimal ',' has no reading but the other one
    text = _written(cents, ".", group, "", False)
    parsed = _parse([text], decimal=",")
    assert round(parsed.values.iloc[0] * 100) == cents
    assert parsed.counts["other_decimal"] == 1


# ------------------------------------------------------------------------------------------------
# Non-finite amounts
# ------------------------------------------------------------------------------------------------

NON_FINITE_TEXT = ["inf", "Infinity", "-inf", "+INF", "1e309", "-1e400", "NaN", "nan"]
NON_FINITE_TYPED = [math.inf, -math.inf]


@pytest.mark.parametrize("decimal_sep", [".", ","])
@pytest.mark.parametrize("value", NON_FINITE_TEXT)
def test_non_finite_text_amounts_reject_the_row(value, decimal_sep):
    result = _validate(_orders(2, revenue=[value, "5"]), decimal=decimal_sep)
    assert result.reason_counts == {"unparseable_amount": 1}
    assert np.isfinite(result.accepted["revenue"]).all()


@pytest.mark.parametrize("value", [*NON_FINITE_TYPED, math.nan])
def test_non_finite_typed_amounts_reject_the_row(value):
    for revenue in (pd.Series([value, 5.0]), pd.Series([value, 5.0], dtype=object)):
        result = _validate(_orders(2, revenue=revenue))
        assert result.reason_counts == {"unparseable_amount": 1}
        assert result.accepted["revenue"].tolist() == [5.0]


@pytest.mark.parametrize("column", ["discount", "shipping_cost", "cost", "items"])
@pytest.mark.parametrize("value", [*NON_FINITE_TEXT, *NON_FINITE_TYPED])
def test_non_finite_optional_amounts_are_emptied_and_noted(column, value):
    values = pd.Series([value, "5"], dtype=object)
    result = _validate(_orders(2, **{column: values}))
    assert result.reason_counts == {}
    assert result.accepted[column].isna().tolist() == [True, False]
    assert any(
        f"1 values of optional column '{column}' were not finite numbers" in n for n in result.notes
    ), result.notes


# ------------------------------------------------------------------------------------------------
# Time zones
# ------------------------------------------------------------------------------------------------

MOSCOW = "Europe/Moscow"
AWARE_TEXT = [
    (["2025-03-01T10:00:00+03:00"], ["2025-03-01 10:00"]),
    (["2025-03-01T07:00:00Z"], ["2025-03-01 10:00"]),
    (["2025-03-01T07:00:00.250Z"], ["2025-03-01 10:00:00.250"]),
    (["2025-03-01 10:00:00+0300"], ["2025-03-01 10:00"]),
    (["2025-03-01T10:00:00+03:00", "2025-03-01T12:00:00+05:00"], ["2025-03-01 10:00"] * 2),
    (["2025-03-01T07:00:00Z", "2025-03-01T10:00:00+03:00"], ["2025-03-01 10:00"] * 2),
    (["2025-03-01T10:00:00+03:00", "2025-03-01 10:00"], ["2025-03-01 10:00"] * 2),
]


@pytest.mark.parametrize(("texts", "expected"), AWARE_TEXT)
def test_times_with_offsets_are_converted_to_the_store_time_zone(texts, expected):
    parsed = _parse(texts, column="order_date", timezone=MOSCOW)
    assert parsed.values.tolist() == [pd.Timestamp(e) for e in expected]
    assert parsed.counts["converted"] == sum("+" in t or "Z" in t for t in texts)


@pytest.mark.parametrize("fmt", ["%d.%m.%Y", None])
def test_offsets_are_read_beside_a_declared_date_format(fmt):
    text = "01.03.2025 10:00:00+03:00" if fmt else "2025-03-01T10:00:00+03:00"
    options = {"date_format": fmt} if fmt else {}
    parsed = _parse([text, "02.03.2025" if fmt else "2025-03-02"], "order_date", **options)
    assert parsed.values.iloc[0] == pd.Timestamp("2025-03-01 07:00")  # UTC by default
    assert not parsed.bad.any()


@pytest.mark.parametrize(
    "typed",
    [
        pd.Series(pd.to_datetime(["2025-03-01 07:00"]).tz_localize("UTC")),
        pd.Series(pd.to_datetime(["2025-03-01 16:00"]).tz_localize("Asia/Tokyo")),
        pd.Series(
            pd.to_datetime(["2025-03-01 07:00"]).tz_localize("UTC").astype("datetime64[ms, UTC]")
        ),
        pd.Series([dt.datetime(2025, 3, 1, 7, tzinfo=dt.UTC)], dtype=object),
        pd.Series(
            [
                dt.datetime(2025, 3, 1, 7, tzinfo=dt.UTC),
                dt.datetime(2025, 3, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=5))),
            ],
            dtype=object,
        ),
    ],
    ids=["utc", "tokyo", "milliseconds", "python", "python-two-zones"],
)
def test_typed_time_zone_aware_timestamps_are_converted_to_the_store_time_zone(typed):
    parsed = _parse(typed, column="order_date", timezone=MOSCOW)
    assert parsed.values.dtype == "datetime64[ns]"
    assert (parsed.values == pd.Timestamp("2025-03-01 10:00")).all()
    assert parsed.counts["converted"] == len(typed)


def test_conversions_are_noted_with_the_zone_and_how_to_set_it(tmp_path):
    (tmp_path / "o.csv").write_text(
        "order_id,customer_id,order_date,revenue\n"
        "1,7,2025-03-01T10:00:00+03:00,5\n2,7,2025-03-01T07:00:00Z,5\n3,7,2025-03-01 10:00,5\n"
    )
    default = load_store(_params(tmp_path, {"orders": "o.csv"}), today=TODAY)
    assert default.orders["order_date"].tolist()[:2] == [pd.Timestamp("2025-03-01 07:00")] * 2
    notes = " ".join(default.accounting["orders"].notes)
    assert "2 times of column 'order_date' carried a time-zone offset" in notes
    assert "converted to UTC; set store.timezone" in notes
    moscow = load_store(_params(tmp_path, {"orders": "o.csv"}, timezone=MOSCOW), today=TODAY)
    assert (moscow.orders["order_date"] == pd.Timestamp("2025-03-01 10:00")).all()
    assert "converted to the store's time zone, Europe/Moscow" in " ".join(
        moscow.accounting["orders"].notes
    )


def test_time_zone_aware_parquet_timestamps_load(tmp_path):
    when = pd.to_datetime(["2025-03-01 07:00", "2025-03-02 07:00"]).tz_localize("UTC")
    table = pa.table(
        {"order_id": [1, 2], "customer_id": [7, 7], "order_date": when, "revenue": [5.0, 6.0]}
    )
    pq.write_table(table, tmp_path / "o.parquet")
    store = load_store(_params(tmp_path, {"orders": "o.parquet"}, timezone=MOSCOW), today=TODAY)
    assert store.orders["order_date"].dt.hour.tolist() == [10, 10]


FORMATS = ["%d.%m.%Y", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d/%m/%Y", "%m/%d/%Y", "%Y-%m-%d"]


@st.composite
def written_dates(draw):
    """A date written in one of FORMATS, with its fields sometimes unpadded or out of range."""
    fmt = draw(st.sampled_from(FORMATS))
    fields = {
        "d": draw(st.integers(0, 32)),
        "m": draw(st.integers(0, 13)),
        "Y": draw(st.sampled_from([1, 25, 999, 1995, 2024, 2025, 9999])),
        "H": draw(st.integers(0, 25)),
        "M": draw(st.integers(0, 61)),
        "S": draw(st.integers(0, 61)),
    }
    pad = draw(st.booleans())
    text = fmt
    for key, value in fields.items():
        width = 4 if key == "Y" else 2
        text = text.replace(f"%{key}", str(value).zfill(width if pad or key == "Y" else 1))
    return fmt, text + draw(st.sampled_from(["", "", " ", "x", ":00"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(written_dates(), min_size=1, max_size=20))
def test_dates_read_by_arrow_are_those_pandas_reads(cases):
    from custkit.data.validate import _arrow_times

    for fmt, text in cases:
        values = pd.Series([text], dtype="str")
        expected = pd.to_datetime(values, format=fmt, errors="coerce").astype("datetime64[us]")
        assert _arrow_times(values, fmt).tolist() == expected.tolist(), (fmt, text)


# ------------------------------------------------------------------------------------------------
# Out-of-range dates
# ------------------------------------------------------------------------------------------------

OUT_OF_RANGE_TEXT = [
    ("01.01.0001 0:00:00", "%d.%m.%Y"),
    ("01.01.0001", "%d.%m.%Y"),
    ("31.12.9999 23:59:59", "%d.%m.%Y"),
    ("0001-01-01", None),
    ("0001-01-01T00:00:00", None),
    ("9999-12-31", None),
    ("1600-01-01", None),
    ("2300-01-01", None),
]
OUT_OF_RANGE_TYPED = [
    pd.Series(np.array(["0001-01-01", "2025-03-01"], dtype="datetime64[us]")),
    pd.Series(np.array(["9999-12-31", "2025-03-01"], dtype="datetime64[ms]")),
    pd.Series(np.array(["1500-06-01", "2025-03-01"], dtype="datetime64[s]")),
    pd.Series([dt.datetime(1, 1, 1), dt.datetime(2025, 3, 1)], dtype=object),
    pd.Series([dt.date(9999, 12, 31), "2025-03-01"], dtype=object),
]


@pytest.mark.parametrize(("text", "fmt"), OUT_OF_RANGE_TEXT)
def test_out_of_range_text_dates_reject_a_required_date(text, fmt):
    options = {"date_format": fmt} if fmt else {}
    good = "01.03.2025" if fmt else "2025-03-01"
    result = _validate(_orders(2, order_date=[text, good]), **options)
    assert result.reason_counts == {"date_out_of_range": 1}


@pytest.mark.parametrize(("text", "fmt"), OUT_OF_RANGE_TEXT)
def test_out_of_range_text_dates_are_emptied_and_noted_in_an_optional_column(text, fmt):
    options = {"date_format": fmt} if fmt else {}
    good = "01.03.2025" if fmt else "2025-03-01"
    raw = _orders(2, order_date=[good, good], delivered_at=[text, good])
    result = _validate(raw, **options)
    assert result.reason_counts == {}
    assert result.accepted["delivered_at"].isna().tolist() == [True, False]
    assert any("1 dates of optional column 'delivered_at' lie outside" in n for n in result.notes)


@pytest.mark.parametrize("typed", OUT_OF_RANGE_TYPED, ids=["us", "ms", "s", "python", "date"])
def test_out_of_range_typed_dates_reject_or_are_emptied(typed):
    required = _validate(_orders(2, order_date=typed))
    assert required.reason_counts == {"date_out_of_range": 1}
    assert required.accepted["order_date"].tolist() == [pd.Timestamp("2025-03-01")]
    optional = _validate(_orders(2, delivered_at=typed))
    assert optional.reason_counts == {}
    assert optional.accepted["delivered_at"].dtype == "datetime64[ns]"
    assert optional.accepted["delivered_at"].isna().tolist() == [True, False]


def test_out_of_range_parquet_timestamps_load_with_the_optional_ones_emptied(tmp_path):
    days = [dt.datetime(2025, 3, 1), dt.datetime(2025, 3, 2), dt.datetime(2025, 3, 3)]
    placeholders = [dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31), dt.datetime(2025, 3, 4)]
    table = pa.table(
        {
            "order_id": [1, 2, 3],
            "customer_id": [7, 7, 7],
            "order_date": pa.array([*days[:2], dt.datetime(1, 1, 1)], pa.timestamp("us")),
            "revenue": [5.0, 6.0, 7.0],
            "delivered_at": pa.array(placeholders, pa.timestamp("us")),
        }
    )
    pq.write_table(table, tmp_path / "o.parquet")
    store = load_store(_params(tmp_path, {"orders": "o.parquet"}), today=TODAY)
    assert dict(store.accounting["orders"].reasons) == {"date_out_of_range": 1}
    assert store.orders["delivered_at"].isna().tolist() == [True, True]
    assert store.orders["order_date"].dtype == "datetime64[ns]"


def test_1c_empty_dates_in_a_customers_export_load(tmp_path):
    (tmp_path / "c.csv").write_text(
        "customer_id;birth_date;registered_at\n1;01.01.0001 0:00:00;05.03.2024\n"
        "2;12.07.1990 0:00:00;01.01.0001 0:00:00\n"
    )
    (tmp_path / "o.csv").write_text("order_id,customer_id,order_date,revenue\n1,1,2025-01-01,5\n")
    customers = {"path": "c.csv", "sep": ";", "date_format": "%d.%m.%Y"}
    store = load_store(_params(tmp_path, {"orders": "o.csv", "customers": customers}), today=TODAY)
    assert store.customers["birth_date"].isna().tolist() == [True, False]
    assert store.accounting["customers"].rejected == 0


# ------------------------------------------------------------------------------------------------
# Ids
# ------------------------------------------------------------------------------------------------

ID_COLUMNS = [
    (table.name, column.name) for table in TABLES.values() for column in table.columns
    if column.kind == "id"
]  # fmt: skip
SAME_ID = ["123", "00123", "0000000123", "123.0", "00123.00", " 123 ", "\u00a0123"]
PLACEHOLDERS = sorted(MISSING_IDS | {"NULL", "Null", "N/A", "NA", "None", "NaN", "#N/A", "", "  "})


@pytest.mark.parametrize(("table", "column"), ID_COLUMNS)
def test_every_id_column_reads_the_same_id_in_every_written_form(table, column):
    forms = [pd.Series(SAME_ID), pd.Series([123, 123.0, "00123", "123.0"], dtype=object)]
    forms += [pd.Series([123.0, 123.0]), pd.Series([123, 123])]
    for raw in forms:
        parsed = _parse(raw, column=column, table=table)
        assert parsed.values.tolist() == [123] * len(raw), raw.tolist()


@pytest.mark.parametrize(("table", "column"), ID_COLUMNS)
def test_every_id_column_reads_placeholders_as_missing_ids(table, column):
    for ids in (["5", *PLACEHOLDERS], ["C-5", *PLACEHOLDERS]):
        parsed = _parse(ids, column=column, table=table)
        assert parsed.values.isna().tolist() == [False] + [True] * len(PLACEHOLDERS)
        assert "NULL" not in parsed.values.dropna().astype(str).tolist()


@pytest.mark.parametrize("placeholder", ["NULL", "null", "N/A", "NA", "None", "-", "nan", ""])
def test_a_placeholder_customer_id_rejects_the_order_as_missing_id(placeholder):
    result = _validate(_orders(2, customer_id=[placeholder, "7"]))
    assert result.reason_counts == {"missing_id": 1}


def test_text_ids_keep_their_text_and_whole_numbers_are_written_plainly():
    parsed = _parse(
        ["C-17", "00123", "100001.0", "12345678901234567890123", "1.5", "-4"], "order_id"
    )
    assert parsed.values.tolist() == [
        "C-17",
        "123",
        "100001",
        "12345678901234567890123",
        "1.5",
        "-4",
    ]
    assert parsed.counts["rewritten"] == 2
    big = _parse(["999999999999999999", "1"], "order_id")
    assert big.values.tolist() == [999999999999999999, 1]  # exact, not through a float


@settings(max_examples=200, deadline=None)
@given(
    number=st.integers(0, 10**17),
    zeros=st.integers(0, 5),
    tail=st.sampled_from(["", ".0", ".00"]),
    typed=st.sampled_from([None, int, float]),
)
def test_any_whole_number_id_reads_as_that_number(number, zeros, tail, typed):
    raw = (
        pd.Series([typed(number)], dtype=object)
        if typed
        else pd.Series(["0" * zeros + str(number) + tail])
    )
    if typed is float and number > 2**53:
        return  # a float cannot hold it exactly: no reader could recover it
    assert _parse(raw, "customer_id").values.tolist() == [number]


def _store(tmp_path, **tables):
    sources = {}
    for name, text in tables.items():
        (tmp_path / f"{name}.csv").write_text(text)
        sources[name] = f"{name}.csv"
    return load_store(_params(tmp_path, sources), today=TODAY)


def test_customer_ids_written_differently_in_two_tables_join(tmp_path):
    store = _store(
        tmp_path,
        orders="order_id,customer_id,order_date,revenue\n1,123,2025-01-01,5\n2,100001,2025-01-02,5\n",
        customers="customer_id,email\n00123,a@b.ru\n100001.0,c@d.ru\n",
        feedback="customer_id,created_at\n0000123,2025-01-03\n",
    )
    assert store.orders["customer_id"].dtype == "int64"
    assert store.customers["customer_id"].tolist() == [123, 100001]
    assert store.orders["customer_id"].isin(store.customers["customer_id"]).all()
    assert store.feedback["customer_id"].tolist() == [123]
    assert not any("not in the customers table" in n for n in store.accounting["orders"].notes)


def test_customer_ids_are_text_in_every_table_when_one_table_has_text_ids(tmp_path):
    store = _store(
        tmp_path,
        orders="order_id,customer_id,order_date,revenue\n1,0042,2025-01-01,5\n2,C-7,2025-01-02,5\n",
        customers="customer_id,referrer_id\n42,\n43,0042\n",
        messages="customer_id,sent_at\n42,2025-01-03\n",
        experiments="experiment_id,customer_id,variant,assigned_at\n1,42,A,2025-01-03\n",
    )
    for frame, column in (
        (store.orders, "customer_id"),
        (store.customers, "customer_id"),
        (store.customers, "referrer_id"),
        (store.messages, "customer_id"),
        (store.experiments, "customer_id"),
    ):
        assert pd.api.types.is_string_dtype(frame[column].dtype), column
    assert store.orders["customer_id"].tolist() == ["42", "C-7"]
    assert store.customers["referrer_id"].tolist()[1] == "42"
    assert store.orders.merge(store.customers, on="customer_id").shape[0] == 1


# ------------------------------------------------------------------------------------------------
# Orders and customers that barely join
# ------------------------------------------------------------------------------------------------


def _orders_csv(ids):
    rows = [f"{i},{c},2025-01-{i % 28 + 1:02d},5" for i, c in enumerate(ids, 1)]
    return "order_id,customer_id,order_date,revenue\n" + "\n".join(rows) + "\n"


def _customers_csv(ids):
    return "customer_id,email\n" + "\n".join(f"{c},x{n}@shop.ru" for n, c in enumerate(ids)) + "\n"


BARELY_JOINING = [
    (range(1, 41), range(100_001, 100_041), "numbers in different ranges (orders 1–40"),
    (
        range(1, 41),
        [f"CL-{i:05d}" for i in range(1, 41)],
        "orders' look like '9', customers' like 'A-9'",
    ),
    ([f"{i}@mail.ru" for i in range(40)], range(1, 41), "orders' look like '9@A.A'"),
    (range(1, 41), list(range(35, 75)), "the ids look alike"),
]


@pytest.mark.parametrize(("order_ids", "customer_ids", "cause"), BARELY_JOINING)
def test_orders_and_customers_that_barely_join_warn_loudly_with_the_likely_cause(
    tmp_path, order_ids, customer_ids, cause
):
    with pytest.warns(JoinWarning, match="Likely cause") as caught:
        store = _store(
            tmp_path, orders=_orders_csv(order_ids), customers=_customers_csv(customer_ids)
        )
    assert cause in str(caught[0].message)
    notes = " ".join(store.accounting["orders"].notes)
    assert "Warning: only" in notes and cause in notes
    assert "@shop.ru" not in notes and "@mail.ru" not in notes  # shapes, never the ids


def test_orders_and_customers_that_mostly_join_do_not_warn(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", JoinWarning)
        store = _store(
            tmp_path,
            orders=_orders_csv(range(1, 41)),
            customers=_customers_csv(range(1, 25)),
        )
    assert not any("Warning" in n for n in store.accounting["orders"].notes)


def test_cli_validate_shows_the_join_warning(tmp_path, capsys):
    (tmp_path / "orders.csv").write_text(_orders_csv(range(1, 41)))
    (tmp_path / "customers.csv").write_text(_customers_csv([f"C{i}" for i in range(1, 41)]))
    (tmp_path / "params.yaml").write_text(
        "sources:\n  orders: orders.csv\n  customers: customers.csv\n"
    )
    with pytest.warns(JoinWarning):
        status = main(["validate", "--params", str(tmp_path / "params.yaml")])
    out = capsys.readouterr().out
    assert status == 0
    assert "Warning: only 0% of the orders' customers are in the customers table" in out
