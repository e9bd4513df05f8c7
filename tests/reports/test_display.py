import numpy as np
import pandas as pd
import pytest

from custkit.data.periods import ReportPeriod
from custkit.errors import ReportError
from custkit.findings import Finding
from custkit.reports.context import ReportContext
from custkit.reports.display import (
    finding_html,
    header_html,
    humanize,
    kpis_html,
    pii_guard,
    show_table,
    table_html,
)


def test_pii_guard_rejects_a_frame_with_an_email_column():
    with pytest.raises(ReportError, match="column 'email' that holds personal data"):
        pii_guard(pd.DataFrame({"customer_id": ["1"], "email": ["a@b.com"]}))


@pytest.mark.parametrize("column", ["Phone", "customer_phone", "name", "birth_date", "E-mail"])
def test_pii_guard_rejects_columns_named_like_personal_data(column):
    with pytest.raises(ReportError, match="personal data"):
        pii_guard(pd.DataFrame({column: ["x"]}))


def test_pii_guard_rejects_email_addresses_hidden_in_other_columns():
    with pytest.raises(ReportError, match="e-mail addresses in column 'contact'"):
        pii_guard(pd.DataFrame({"contact": ["call me", "ann@example.org"]}))


def test_pii_guard_looks_for_the_stores_own_contacts_once_the_report_started(monkeypatch):
    from custkit.reports import privacy

    customers = pd.DataFrame({"email": ["ann@shop.ru"], "phone": ["+79161234567"],
                              "name": ["Ann Lee"]})  # fmt: skip
    monkeypatch.setattr(privacy, "_current", privacy.ContactDigests.of_frames([customers]))
    experiments = pd.DataFrame({"experiment": ["checkout@v2.test"], "customers": [120]})
    assert pii_guard(experiments) is experiments
    for column, value, kind in (
        ("top", "ANN LEE", "names"),
        ("contact", "8 (916) 123-45-67", "phone numbers"),
        ("who", "Ann@Shop.ru", "e-mail addresses"),
    ):
        with pytest.raises(ReportError) as err:
            pii_guard(pd.DataFrame({column: ["x", value]}))
        message = str(err.value)
        assert f"has {kind} of the store's customers in column '{column}'" in message
        assert value not in message


def test_pii_guard_passes_aggregate_tables_unchanged():
    frame = pd.DataFrame({"segment_name": ["champions"], "customers": [10]})
    assert pii_guard(frame) is frame


def test_show_table_refuses_personal_data_before_displaying():
    with pytest.raises(ReportError):
        show_table(pd.DataFrame({"email": ["a@b.com"]}))


def test_table_html_formats_thousands_shares_and_escapes_text():
    frame = pd.DataFrame(
        {
            "channel": ["<b>ads</b>", "organic"],
            "revenue": [1234567.891, 50.0],
            "orders": np.array([1200, 3], dtype="int64"),
            "repeat_rate": [0.25, 0.1234],
        }
    )
    page = table_html(frame, caption="By channel & region")
    assert "&lt;b&gt;ads&lt;/b&gt;" in page and "<b>ads" not in page
    assert "1,234,568" in page and "1,200" in page
    assert "25.0%" in page and "12.3%" in page
    assert "Repeat rate" in page  # headers in plain words
    assert "By channel &amp; region" in page
    assert "<th" in page and ">0<" not in page  # no RangeIndex column


def test_table_html_tells_shares_and_per_cents_by_their_names():
    frame = pd.DataFrame({"total_error_pct": [15.51], "p_alive_mean": [0.939], "mae": [0.96]})
    page = table_html(frame)
    assert ">15.5%<" in page and ">93.9%<" in page and ">0.96<" in page


def test_table_html_says_how_many_rows_it_left_out():
    page = table_html(pd.DataFrame({"customers": range(30)}), max_rows=5)
    assert "Showing the first 5 of 30 rows." in page
    assert page.count("<tr>") == 6  # header + 5 rows


def test_kpis_html_shows_relative_changes_and_percentage_points_with_colours():
    frame = pd.DataFrame(
        {
            "kpi": ["orders", "repeat_customer_rate", "annual_churn_rate"],
            "label": ["Orders", "Repeat customers", "Annual churn"],
            "value": [1042, 0.30, 0.22],
            "previous_month": [1000, 0.313, 0.20],
            "change_vs_previous_month": [0.042, -0.013, 0.02],
            "same_month_last_year": [np.nan, np.nan, np.nan],
            "change_vs_last_year": [np.nan, np.nan, np.nan],
            "unit": ["count", "share", "share"],
        }
    )
    page = kpis_html(frame)
    assert "1,042" in page and "30.0%" in page
    assert '#2e7d32; font-weight: 600;">+4.2%</span>' in page  # more orders: green
    assert '#c62828; font-weight: 600;">\u22121.3 pp</span>' in page  # fewer repeaters: red
    assert '#c62828; font-weight: 600;">+2.0 pp</span>' in page  # more churn: red
    assert ">—</span> vs same month last year" in page


def test_finding_html_shows_conclusion_in_bold_and_the_action_escaped():
    finding = Finding("Base health", "Churn is 25% <high>.", "Call lapsed buyers.", "bad")
    page = finding_html(finding)
    assert "<b>Churn is 25% &lt;high&gt;.</b>" in page
    assert "What to do: Call lapsed buyers." in page
    assert "#c62828" in page


def test_header_names_store_period_accounting_and_orders_after_as_of(store, fake_params):
    ctx = ReportContext(
        report="audit",
        store=store,
        params=fake_params(store_name="Shop <&> Co"),
        period=ReportPeriod.from_string("2026-10"),
        output_dir=None,
        title="Customer audit",
    )
    page = header_html(ctx)
    assert "Shop &lt;&amp;&gt; Co" in page
    assert "Customer audit" in page and "October 2026" in page and "31 October 2026" in page
    assert "3 of 5 orders rows accepted" in page
    assert "unparseable date (2)" in page
    assert "1 orders dated after 2026-10-31 are outside this report." in page


def test_header_counts_cancelled_and_returned_orders_left_out(store, fake_params):
    from dataclasses import replace

    orders = store.orders.assign(status=["completed", "Cancelled", "returned"])
    ctx = ReportContext(
        report="audit",
        store=replace(store, orders=orders),
        params=fake_params(),
        period=ReportPeriod.from_string("2026-10"),
        output_dir=None,
    )
    assert "2 cancelled or returned orders are not counted as purchases." in header_html(ctx)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("repeat_customer_rate", "Repeat customer rate"),
        ("clv_12m_total", "CLV 12 months total"),
        ("p_alive_mean", "P(alive) mean"),
        ("srm_alerts", "SRM alerts"),
        ("Already written", "Already written"),
    ],
)
def test_names_read_as_words_with_acronyms_and_units(name, shown):
    assert humanize(name) == shown


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "November 2026 · month not over: data through 15 November 2026"),
        ("ru", "Ноябрь\u00a02026 · месяц не завершён: данные по 15\u00a0ноября\u00a02026"),
    ],
)
def test_header_of_a_month_not_over_says_data_through_its_last_day(
    store, fake_params, language, text
):
    from custkit.data.periods import check_period
    from custkit.i18n import use_language

    dates = store.orders["order_date"]
    month = ReportPeriod.from_string("2026-11")
    period = check_period(month, dates.min(), dates.max(), partial=True)
    ctx = ReportContext("audit", store, fake_params(), period, None, "Audit")
    with use_language(language):
        page = header_html(ctx)
        full = header_html(ReportContext("audit", store, fake_params(), month, None, "Audit"))
    assert text in page
    assert "15 November 2026" not in full and "15\u00a0ноября\u00a02026" not in full


@pytest.mark.parametrize("level", ["good", "info", "warning", "bad"])
def test_a_line_is_one_escaped_paragraph_marked_by_its_level(level):
    from custkit.reports.display import _LEVEL_COLOURS, line_html

    html = line_html("exp_1: <b> & “B”", level)
    assert html.count("<p ") == 1 and "&lt;b&gt; &amp; “B”" in html
    assert _LEVEL_COLOURS[level][0] in html
    assert line_html("", level) == ""


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("The forecast uses the BG/NBD model.", "The forecast uses the BG/NBD model."),
        ("off by 20% <b>", "off by 20% &lt;b&gt;"),  # plain text, never markup
        ("", None),  # nothing to say: nothing shown
    ],
)
def test_show_line_displays_one_escaped_sentence_or_nothing(text, shown):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from custkit.reports.display import show_line

    InteractiveShell.instance()  # display publishes only inside a shell, as in a report's kernel
    try:
        with capture_output(stdout=False, stderr=False, display=True) as captured:
            show_line(text)
    finally:
        InteractiveShell.clear_instance()
    if shown is None:
        assert captured.outputs == []
        return
    (output,) = captured.outputs
    html = output.data["text/html"]
    assert html.startswith("<p ") and html.endswith(f">{shown}</p>")
