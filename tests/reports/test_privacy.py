"""The store's contact digests, the guard's lookup and the scrubbing of failure outputs."""

import re
import stat

import nbformat
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custkit.reports.privacy import (
    CONTACT_DIGESTS_FILE,
    ContactDigests,
    contact_digests,
    contacts_in_notebook,
    scrub_notebook,
    scrub_text,
    visible_text,
)

CUSTOMERS = pd.DataFrame(
    {
        "email": ["Zoe.Leak@Example.com ", "ivan@mail.ru", None],
        "phone": ["+7 (916) 123-45-67", "8-903-000-11-22", "12345"],
        "name": ["Zoe  Leakington", "Иван Петрович Сидоров", "Madonna"],
    },
    dtype="string",
)


@pytest.fixture(scope="module")
def digests():
    return ContactDigests.of_frames([CUSTOMERS], labels=["Moscow", "organic"])


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("top buyer: zoe.leak@example.com", "email"),
        ("<td>IVAN@MAIL.RU</td>", "email"),
        ("call +79161234567", "phone"),
        ("call 8 916 123 45 67 today", "phone"),
        ("call 9161234567", "phone"),
        ("(903) 000-11-22", "phone"),
        ("best customer: ZOE LEAKINGTON", "name"),
        ("сидоров: иван петрович сидоров, 3 заказа", "name"),
        ("Zoe\nLeakington", "name"),
    ],
)
def test_the_stores_contact_values_are_found_however_they_are_written(digests, text, kind):
    assert digests.find(text) == {kind: 1}


@pytest.mark.parametrize(
    "text",
    [
        "experiment checkout@v2.test won",  # an e-mail-like label that is nobody's e-mail
        "revenue 9 161 234 567 RUB, 9,161,234,567.00",  # thousands-grouped amounts
        "9161234567.5 and 2024-11-16 00:00:00 and 16.11.2024 12:30",  # decimals, dates, times
        "Zoe ordered; Leakington Road",  # a first name alone, a surname alone
        "Madonna bought twice",  # one-word names are not looked for
        "Иван Петрович",  # two of three words
        "12345",  # too short for a phone
    ],
)
def test_labels_amounts_and_dates_are_not_taken_for_contact_values(digests, text):
    assert not digests.find(text)


def test_phones_read_as_numbers_from_a_spreadsheet_are_found():
    customers = pd.DataFrame({"phone": [79161234567.0, np.nan], "name": [None, None]})
    assert ContactDigests.of_frames([customers]).find("+7 916 123-45-67") == {"phone": 1}


def test_a_name_that_is_also_one_of_the_stores_labels_is_not_looked_for():
    customers = pd.DataFrame({"name": ["Nizhny Novgorod", "Ann Lee"]})
    digests = ContactDigests.of_frames([customers], labels=["Nizhny Novgorod"])
    assert not digests.find("Region: Nizhny Novgorod")
    assert digests.find("ann lee") == {"name": 1}


def test_without_the_customers_every_email_like_text_counts():
    digests = ContactDigests.empty(complete=False)
    assert digests.find("checkout@v2.test and ann@x.ru") == {"email": 2}
    assert not ContactDigests.empty().find("checkout@v2.test")


def test_digests_are_saved_for_the_owner_only_and_read_back(tmp_path, digests):
    path = digests.save(tmp_path)
    assert path.name == CONTACT_DIGESTS_FILE and path.name.startswith(".")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = ContactDigests.load(tmp_path)
    assert loaded is not None and loaded.size == digests.size == 6
    assert np.array_equal(loaded.names, digests.names) and loaded.complete
    assert ContactDigests.load(tmp_path / "nowhere") is None and ContactDigests.load(None) is None


def test_a_report_without_the_customers_table_digests_them_from_the_source(tmp_path):
    from custkit.data.demo import write_demo_store
    from custkit.data.load import load_store

    data = write_demo_store(tmp_path / "data", 200, seed=5)
    store = load_store(data / "params.yaml", tables={"orders": ("status",)})
    assert store.customers is None
    customers = pd.read_csv(data / "customers.csv", dtype=str)
    digests = contact_digests(store)
    row = customers.iloc[7]
    text = f"{row['email']} {row['phone']} {row['name']}"
    assert digests.complete and set(digests.find(text)) == {"email", "phone", "name"}


def test_customer_ids_that_are_email_addresses_are_contact_values(store):
    from dataclasses import replace

    orders = store.orders.assign(customer_id=["ann@shop.ru", "bob@shop.ru", "ann@shop.ru"])
    digests = contact_digests(replace(store, orders=orders))
    assert digests.find("Ann@Shop.ru") == {"email": 1}
    assert not digests.find("checkout@v2.test")


# --- scrubbing -----------------------------------------------------------------------------------

ROW = '100004,2024-11-16 00:00:00,"zoe.leak@example.com","+79161234567",Zoe, Leakington,1980-01-01'


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        (
            f"CSV parse error: Expected 13 columns, got 14: {ROW} ...",
            "Expected 13 columns, got 14: ",
        ),
        (f"Row #6: {ROW.replace(',', ';')}", "Row #6: "),
        (f"line 6: {ROW.replace(',', chr(9))}", "line 6: "),
        (f"table 'customers', file 'c.csv', column 'name': bad row {ROW}", "column 'name'"),
    ],
    ids=["pyarrow", "semicolons", "tabs", "prefix-without-colon"],
)
def test_raw_records_quoted_by_a_parser_are_withheld(message, kept):
    scrubbed = scrub_text(message)
    assert kept in scrubbed and "<row withheld>" in scrubbed
    for value in ("zoe.leak", "79161234567", "Leakington", "1980-01-01"):
        assert value not in scrubbed


@pytest.mark.parametrize(
    "message",
    [
        "There is no report called 'audt'. Did you mean 'audit'? Reports: audit, churn, ltv, "
        "splittest, or 'all'.",
        "table 'orders', file '/data/orders.csv', column 'revenue', rows 3, 17, 2,041: "
        "not a number.",
        "Step 'Base health' failed: ValueError: lapse threshold is negative",
        "table 'orders': rows 3,17,2041,5000,6000 have no date.",
        "In CSV column #3: Row #5: CSV conversion error to int64: invalid value 'abc'",
        "Cannot cast DatetimeArray to dtype float64 (shape (1, 3), dims a; b; c; d; e)",
    ],
)
def test_messages_without_personal_data_are_left_as_they_are(message):
    assert scrub_text(message) == message


def test_emails_phones_and_the_stores_names_are_scrubbed_step_and_rows_kept(digests):
    message = (
        "Step 'Top customers' failed: KeyError: 'Zoe Leakington <zoe.leak@example.com>, "
        "+7 (916) 123-45-67' in rows 12, 13 on 2026-10-01 10:00"
    )
    scrubbed = scrub_text(message, digests)
    assert scrubbed == (
        "Step 'Top customers' failed: KeyError: '<name> <<e-mail>>, <phone>' in rows 12, 13 on "
        "2026-10-01 10:00"
    )


NAME = st.text("abcdefghijklmnopqrstuvwxyzабвгдежзиклмнопрстуфхцчшщэюя", min_size=2, max_size=9)


@settings(max_examples=60, deadline=None)
@given(
    words=st.lists(NAME, min_size=2, max_size=3),
    local=st.from_regex(r"[a-z][a-z0-9._]{0,10}[a-z0-9]", fullmatch=True),
    digits=st.from_regex(r"9[0-9]{9}", fullmatch=True),
    style=st.sampled_from(["+7{}", "8{}", "+7 ({0}) {1}-{2}-{3}", "8 {0} {1} {2} {3}"]),
    before=st.sampled_from(["", "KeyError: '", "<td>", "row 5: "]),
)
def test_any_customers_contacts_are_found_and_scrubbed(words, local, digits, style, before):
    name = " ".join(w.capitalize() for w in words)
    email = f"{local}@shop-{len(local)}.ru"
    parts = (digits[:3], digits[3:6], digits[6:8], digits[8:])
    phone = style.format(digits) if "{}" in style else style.format(*parts)
    customers = pd.DataFrame({"email": [email], "phone": [phone], "name": [name]})
    digests = ContactDigests.of_frames([customers])
    text = (
        f"{before}{name.upper()} wrote from {email.upper()}, call {phone}; order 1234 of 2026-10-01"
    )
    assert digests.find(text) == {"email": 1, "phone": 1, "name": 1}
    scrubbed = scrub_text(text, digests)
    assert name.lower() not in scrubbed.lower() and email.lower() not in scrubbed.lower()
    assert digits not in re.sub(r"\D", "", scrubbed) and "order 1234 of 2026-10-01" in scrubbed


def _failed_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    table = "<table><tr><td>Zoe</td><td>Leakington</td><td>3</td></tr></table>"
    nb.cells = [
        nbformat.v4.new_code_cell(
            "# Top customers\nshow(top)",
            outputs=[
                nbformat.v4.new_output("stream", name="stdout", text="zoe.leak@example.com\n"),
                nbformat.v4.new_output(
                    "display_data", data={"text/html": table, "text/plain": "t"}
                ),
                nbformat.v4.new_output(
                    "execute_result",
                    data={"application/json": {"top": "zoe.leak@example.com"}, "text/plain": "{}"},
                    execution_count=1,
                ),
                nbformat.v4.new_output(
                    "display_data",
                    data={"image/png": "iVBOR", "text/plain": "<Figure>"},
                    metadata={"custkit": {"texts": ["Zoe Leakington", "Revenue"]}},
                ),
                nbformat.v4.new_output(
                    "error",
                    ename="ValueError",
                    evalue="no segment for Zoe Leakington",
                    traceback=[
                        "\x1b[31mValueError\x1b[0m: no segment for Zoe Leakington (+79161234567)"
                    ],
                ),
            ],
        )
    ]
    return nb


def test_a_failed_notebook_keeps_no_contact_value_in_any_output(digests):
    nb = scrub_notebook(_failed_notebook(), digests)
    text = nbformat.writes(nb)
    for value in ("zoe.leak", "Leakington", "79161234567", "iVBOR"):
        assert value not in text
    assert "ValueError" in text and "Revenue" in text and "# Top customers" in text
    assert not list(contacts_in_notebook(nb, digests))


def test_the_guard_reads_every_output_kind_and_names_cells_not_values(digests):
    found = dict(contacts_in_notebook(_failed_notebook(), digests))
    assert list(found) == [0] and set(found[0]) == {"email", "name", "phone"}


def test_visible_text_leaves_out_styles_scripts_images_and_tags():
    page = (
        "<style>.a{color:red} ann@x.ru</style><script>var p='89161234567'</script>"
        '<img src="data:image/png;base64,ODkxNjEyMzQ1Njc="><p>Zoe&nbsp;<b>Lee</b> &amp; co</p>'
    )
    text = visible_text(page)
    assert "ann@x.ru" not in text and "8916" not in text and "base64" not in text
    assert re.sub(r"\s+", " ", text).strip() == "Zoe Lee & co"
