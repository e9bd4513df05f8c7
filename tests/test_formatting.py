"""The core layer's number formatting (custkit.formatting): the split-test and churn pages
write changes, intervals and shares with the same functions, in both languages."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custkit import formatting
from custkit.formatting import (
    MINUS,
    format_change_interval,
    format_day_count,
    format_percent,
    format_relative_change,
)
from custkit.i18n import use_language
from custkit.reports import display


@pytest.mark.parametrize(
    ("language", "value", "shown"),
    [
        ("en", 0.042, "+4.2%"),
        ("en", -0.013, f"{MINUS}1.3%"),
        ("en", -0.0004, "0.0%"),  # never −0.0%
        ("en", 0.0, "0.0%"),
        ("ru", 0.042, "+4,2%"),
        ("ru", -0.013, f"{MINUS}1,3%"),
        ("en", math.nan, "—"),
        ("en", math.inf, "—"),
        ("en", None, "—"),
    ],
)
def test_a_relative_change_is_signed_and_never_minus_zero(language, value, shown):
    with use_language(language):
        assert format_relative_change(value) == shown


@pytest.mark.parametrize(
    ("low", "high", "shown"),
    [
        (-0.012, 0.063, f"{MINUS}1.2% … +6.3%"),
        (math.nan, 0.063, "—"),
        (-0.012, math.inf, "—"),
    ],
)
def test_an_interval_of_changes_shows_both_ends_or_a_dash(low, high, shown):
    with use_language("en"):
        assert format_change_interval(low, high) == shown


@pytest.mark.parametrize(
    ("language", "value", "shown"),
    [("en", 0.365, "36.5%"), ("ru", 0.365, "36,5%"), ("en", math.nan, "—"), ("en", "x", "—")],
)
def test_a_share_is_a_percent_with_one_decimal(language, value, shown):
    with use_language(language):
        assert format_percent(value) == shown


@pytest.mark.parametrize(
    ("language", "days", "shown"),
    [("en", 1, "1 day"), ("en", 90, "90 days"), ("ru", 90, "90 дней"), ("ru", 21, "21 день")],
)
def test_a_window_length_is_counted_in_the_language(language, days, shown):
    with use_language(language):
        assert format_day_count(days) == shown


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_relative_change_never_shows_a_hyphen_minus_or_minus_zero(value):
    with use_language("en"):
        shown = format_relative_change(value)
    assert "-" not in shown
    assert not shown.startswith(f"{MINUS}0.0")


@pytest.mark.parametrize(
    "name",
    [
        "MINUS",
        "signed",
        "format_count",
        "format_money",
        "format_share",
        "format_change",
        "format_days",
        "format_kpi",
    ],
)
def test_the_notebook_api_shows_numbers_with_the_core_formatting(name):
    assert getattr(display, name) is getattr(formatting, name)
