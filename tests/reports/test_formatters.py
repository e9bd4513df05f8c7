"""Money, days, dates and KPI values written the way each report language writes them.

Russian pages show ``1 234 ₽`` (not ``1 234 RUB``) and ``14 окт. 2026`` (not ``2026-10-14``),
joined by no-break spaces so a line never wraps inside an amount or a date.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custkit.i18n import currency_symbol, format_day, format_message, use_language
from custkit.reports.display import format_change, format_days, format_kpi, format_money

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("language", "value", "currency", "shown"),
    [
        ("en", 1234.0, "RUB", f"1,234{NBSP}RUB"),
        ("en", 12.5, "RUB", f"12.50{NBSP}RUB"),
        ("en", -1234.0, "USD", f"\u22121,234{NBSP}USD"),
        ("en", 1234.0, "", "1,234"),
        ("ru", 1234.0, "RUB", f"1{NBSP}234{NBSP}₽"),
        ("ru", 2766644.0, "RUB", f"2{NBSP}766{NBSP}644{NBSP}₽"),
        ("ru", 12.5, "RUB", f"12,50{NBSP}₽"),
        ("ru", -1234.0, "rub", f"\u22121{NBSP}234{NBSP}₽"),
        ("ru", 1234.0, "USD", f"1{NBSP}234{NBSP}$"),
        ("ru", 1234.0, "EUR", f"1{NBSP}234{NBSP}€"),
        ("ru", 1234.0, "", f"1{NBSP}234"),
        ("ru", float("nan"), "RUB", "—"),
    ],
)
def test_money_is_written_with_the_currency_the_language_uses(language, value, currency, shown):
    with use_language(language):
        assert format_money(value, currency) == shown


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_russian_money_never_shows_the_code_nor_breaks_a_line(value):
    with use_language("ru"):
        text = format_money(value, "RUB")
    assert "RUB" not in text and text.endswith(f"{NBSP}₽") and " " not in text


@pytest.mark.parametrize(
    ("language", "day", "shown"),
    [
        ("en", dt.date(2026, 10, 14), "2026-10-14"),
        ("ru", dt.date(2026, 10, 14), f"14{NBSP}окт.{NBSP}2026"),
        ("ru", dt.date(2026, 5, 3), f"3{NBSP}мая{NBSP}2026"),
        ("ru", dt.date(2026, 1, 31), f"31{NBSP}янв.{NBSP}2026"),
        ("ru", dt.datetime(2026, 12, 1, 15, 30), f"1{NBSP}дек.{NBSP}2026"),
    ],
)
def test_a_day_is_written_the_way_the_language_writes_it(language, day, shown):
    with use_language(language):
        assert format_day(day) == shown
        assert format_message("{d:%Y-%m-%d}", d=day) == shown


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)))
def test_a_russian_day_never_wraps_and_never_is_iso(day):
    text = format_day(day, "ru")
    assert " " not in text and str(day.year) in text and "-" not in text


@pytest.mark.parametrize(
    ("language", "currency", "symbol"),
    [
        ("en", "RUB", "RUB"),
        ("ru", "RUB", "₽"),
        ("ru", "rub", "₽"),
        ("ru", "KZT", "KZT"),
        ("ru", "", ""),
        ("ru", "валюта", "валюта"),
        ("ru", "руб.", "руб."),
    ],
)
def test_currency_symbol_is_the_code_in_english_and_the_sign_in_russian(language, currency, symbol):
    assert currency_symbol(currency, language) == symbol


@pytest.mark.parametrize(
    ("language", "value", "unit", "shown"),
    [
        ("en", 0.7412, "score", "0.74"),
        ("en", 28869.4, "count", "28,869"),
        ("en", 28869.4, "money", f"28,869{NBSP}RUB"),
        ("en", 0.234, "share", "23.4%"),
        ("en", 15.5, "percent", "15.5%"),
        ("en", 1.25, "ratio", "1.25×"),
        ("en", 1.0, "days", f"1{NBSP}day"),
        ("en", 30.0, "days", f"30{NBSP}days"),
        ("en", 2.5, "number", "2.50"),
        ("ru", 0.7412, "score", "0,74"),
        ("ru", 28869.4, "money", f"28{NBSP}869{NBSP}₽"),
        ("ru", 0.234, "share", "23,4%"),
        ("ru", 1.0, "days", f"1{NBSP}день"),
        ("ru", 3.0, "days", f"3{NBSP}дня"),
        ("ru", 30.0, "days", f"30{NBSP}дней"),
    ],
)
def test_a_kpi_is_written_by_its_unit_and_only_money_carries_a_currency(
    language, value, unit, shown
):
    with use_language(language):
        assert format_kpi(value, unit, "RUB") == shown


@pytest.mark.parametrize(
    ("change", "unit", "shown"),
    [
        (0.042, "count", "+4.2%"),
        (-0.013, "share", "\u22121.3 pp"),
        (-1.3, "percent", "\u22121.3 pp"),
        (0.02, "score", "+0.02"),
        (0.1, "days", "+10.0%"),
        (float("inf"), "money", "—"),
    ],
)
def test_a_change_is_relative_for_amounts_and_a_difference_for_shares_and_scores(
    change, unit, shown
):
    assert format_change(change, unit) == shown


def test_missing_days_show_a_dash():
    assert format_days(float("nan")) == "—" and format_days(None) == "—"


@pytest.mark.parametrize(
    ("language", "stamp", "shown"),
    [
        ("en", "2026-10-14", "2026-10-14"),
        ("en", "2026-10-14 09:30", f"2026-10-14{NBSP}09:30"),
        ("ru", "2026-10-14", f"14{NBSP}окт.{NBSP}2026"),
        ("ru", "2026-10-14 09:30", f"14{NBSP}окт.{NBSP}2026{NBSP}09:30"),
    ],
)
def test_dates_in_a_table_are_written_the_way_the_language_writes_them(language, stamp, shown):
    import pandas as pd

    from custkit.reports.display import table_html

    frame = pd.DataFrame({"segment": ["a"], "first_order_date": [pd.Timestamp(stamp)]})
    with use_language(language):
        page = table_html(frame)
    assert f">{shown}</td>" in page or f">{shown}<" in page, page


@pytest.mark.parametrize(
    "text", ["2026-12-14", "too early — judge on 2026-12-14", f"2026-10-14{NBSP}09:30"]
)
def test_an_iso_date_inside_a_table_cell_never_breaks_at_its_hyphens(text):
    # the churn page's campaign table broke "2026-12-14" over two lines in a narrow column
    import pandas as pd

    from custkit.reports.display import table_html

    page = table_html(pd.DataFrame({"verdict": [text]}))
    date = text[text.index("2026") :]
    assert f'<span style="white-space: nowrap">{date}</span>' in page
