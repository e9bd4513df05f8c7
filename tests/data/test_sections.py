"""Which sections a store's data can fill: every way a table or column can be missing."""

from __future__ import annotations

from types import MappingProxyType

import pandas as pd
import pytest

from custkit.data.sections import Section, section, skip_reason, skipped_sections
from custkit.data.store import Store
from custkit.i18n import use_language


def _store(**tables) -> Store:
    orders = pd.DataFrame(
        {
            "order_id": [1, 2],
            "customer_id": [1, 2],
            "order_date": pd.to_datetime(["2026-01-01", "2026-01-02"]),
            "revenue": [10.0, 20.0],
            "channel": ["web", None],
        }
    )
    frames = dict.fromkeys(["customers", "feedback", "messages", "experiments"])
    frames.update(tables)
    return Store(
        name="s",
        orders=orders,
        **frames,
        accounting=MappingProxyType({}),
        rejected=MappingProxyType({}),
        params=None,
    )


CUSTOMERS = pd.DataFrame(
    {"customer_id": [1, 2], "birth_date": pd.to_datetime([None, None]), "region": ["A", None]}
)


@pytest.mark.parametrize(
    ("spec", "tables", "reason"),
    [
        (section("T", "customers"), {}, "the data has no customers table"),
        (section("T", "customers.region"), {}, "the data has no customers table"),
        (
            section("T", "customers.consent_sms"),
            {"customers": CUSTOMERS},
            "the customers table has no consent_sms column",
        ),
        (
            section("T", "customers.birth_date"),
            {"customers": CUSTOMERS},
            "the birth_date column of the customers table is empty",
        ),
        (section("T", "customers.region"), {"customers": CUSTOMERS}, None),
        (section("T", "orders.channel"), {}, None),
        (section("T", "orders.cost"), {}, "the orders table has no cost column"),
        (section("T", any_of=("customers.region", "orders.channel")), {}, None),
        (
            section("T", any_of=("customers.birth_date", "orders.cost")),
            {"customers": CUSTOMERS},
            "the birth_date column of the customers table is empty; "
            "the orders table has no cost column",
        ),
        (
            section("T", "feedback.text", "feedback.reason"),
            {},
            "the data has no feedback table",  # said once, not once per column
        ),
    ],
)
def test_skip_reason_names_every_missing_table_or_column_once(spec, tables, reason):
    assert skip_reason(_store(**tables), spec) == reason


def test_skipped_sections_are_one_plain_line_each_in_the_report_language():
    sections = {
        "birthdays": section("Birthday list for next month", "customers.birth_date"),
        "orders": section("Headline figures", "orders"),
    }
    store = _store(customers=CUSTOMERS.drop(columns="birth_date"))
    assert skipped_sections(store, sections) == {
        "birthdays": "Birthday list for next month: skipped — "
        "the customers table has no birth_date column"
    }
    with use_language("ru"):
        assert skipped_sections(store, sections) == {
            "birthdays": "Дни рождения в следующем месяце: пропущено — "
            "в таблице «клиенты» нет столбца birth_date"
        }


@pytest.mark.parametrize("need", ["customer", "customers.birthday", "orders.", "x.y"])
def test_a_section_cannot_need_what_the_data_contract_does_not_have(need):
    with pytest.raises(ValueError, match=r"table\.column"):
        Section("T", (need,))


def test_every_report_declares_sections_of_the_contract_it_reads():
    from custkit import audit, churn, ltv, splittest

    for report in (audit, ltv, churn, splittest):
        for key, spec in report.SECTIONS.items():
            for need in (*spec.needs, *spec.any_of):
                table, _dot, column = need.partition(".")
                assert table in report.READS, (report.__name__, key, need)
                columns = report.READS[table]
                assert not column or columns is None or column in columns, (key, need)
