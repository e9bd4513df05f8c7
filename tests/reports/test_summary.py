"""The monthly summary page (``<period>/summary.html``) built from fixtures of kpis.json and
actions.json files: its five figures and their changes, the actions ranked by value with links
to their lists, a line for each report that failed or did not run, Russian, and the index
listing it first."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from custkit.i18n import use_language
from custkit.reports.actions import Action, write_actions
from custkit.reports.display import GREEN, GREY, RED
from custkit.reports.index import SUMMARY_FILE, build_index, report_runs
from custkit.reports.summary import HEADLINE_FIGURES, TOP_ACTIONS, build_summary

REPORTS = ["audit", "churn", "ltv", "splittest"]
#: Figures of two months: (report, KPI) → (September, October, unit).
FIGURES = {
    ("audit", "revenue"): (1_000_000.0, 1_100_000.0, "money"),
    ("audit", "active_customers_12m"): (15_000, 14_400, "count"),
    ("churn", "churned_customers"): (40, 50, "count"),
    ("ltv", "clv_12m_total"): (30_000_000.0, 30_000_000.0, "money"),
    ("splittest", "ready_to_ship"): (1, 2, "count"),
}


def write_report(out: Path, period: str, report: str, store: str = "Shop", **extra) -> Path:
    """A published report: its page and a kpis.json with this month's :data:`FIGURES`."""
    month = 0 if period == "2026-09" else 1
    kpis = {kpi: values[month] for (name, kpi), values in FIGURES.items() if name == report}
    units = {kpi: values[2] for (name, kpi), values in FIGURES.items() if name == report}
    kpis.update(extra)
    folder = out / period / report
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "report": report,
        "period": period,
        "store": store,
        "currency": "RUB",
        "generated_at": f"{period}-28T10:00:00",
        "kpis": kpis,
        "units": units,
    }
    (folder / f"{report}.kpis.json").write_text(json.dumps(document), encoding="utf-8")
    (folder / f"{report}.html").write_text("<html><body>report</body></html>", encoding="utf-8")
    return folder


def declare(folder: Path, report: str, *actions: Action, xlsx: bool = True) -> None:
    """Write the report's actions.json and the export files its actions point to."""
    for action in actions:
        if action.export:
            (folder / "exports").mkdir(exist_ok=True)
            (folder / "exports" / f"{action.export}.csv").write_text("customer_id\n1\n")
            if xlsx:
                (folder / "exports" / f"{action.export}.xlsx").write_bytes(b"PK")
    write_actions(folder, report, actions, period=folder.parent.name, store="Shop")


@pytest.fixture
def two_months(tmp_path) -> Path:
    out = tmp_path / "out"
    for period in ("2026-09", "2026-10"):
        for report in REPORTS:
            write_report(out, period, report)
    return out


def text_of(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


def figure_cards(page: str) -> dict[str, tuple[str, str]]:
    """Label → (value text, change HTML) of each headline figure on the page."""
    cards = re.findall(
        r'<div class="figure"><div class="label">(.*?)</div><div class="value">(.*?)</div>'
        r'<div class="change">(.*?)</div></div>',
        page,
    )
    return {html.unescape(label): (html.unescape(value), change) for label, value, change in cards}


def action_rows(page: str) -> list[tuple[str, str, list[str]]]:
    """(money, title, links) of each action shown, in order."""
    rows = re.findall(r'<tr><td class="rank">\d+</td>(.*?)</tr>', page, flags=re.S)
    found = []
    for row in rows:
        money = html.unescape(re.search(r'<td class="money"[^>]*>(.*?)</td>', row).group(1))
        title = html.unescape(re.search(r"<b>(.*?)</b>", row).group(1))
        found.append((money, title, re.findall(r'href="([^"]+)"', row)))
    return found


def test_the_summary_shows_the_five_headline_figures_with_their_change_and_colour(two_months):
    page = build_summary(two_months, "2026-10", reports=REPORTS).read_text(encoding="utf-8")

    cards = figure_cards(page)
    assert list(cards) == list(HEADLINE_FIGURES.values()) and len(cards) == 5
    revenue = cards["Revenue this month"]
    assert revenue[0] == "1,100,000\u00a0RUB"
    assert f'<span style="color: {GREEN};">+10.0%</span> vs month before' in revenue[1]
    active = cards["Active customers (bought in the last 12 months)"]
    assert active[0] == "14,400" and f'color: {RED};">−4.0%' in active[1]
    churned = cards["Customers who stopped buying this month"]  # a rise is bad news: red
    assert churned[0] == "50" and f'color: {RED};">+25.0%' in churned[1]
    value = cards["Value of the customer base over the next 12 months"]
    assert value[0] == "30,000,000\u00a0RUB" and f'color: {GREY};">+0.0%</span>' in value[1]
    ready = cards["Experiments ready to ship"]
    assert ready[0] == "2" and f'color: {GREEN};">+100.0%' in ready[1]


def test_a_figure_without_last_month_says_so_and_without_its_report_shows_a_dash(tmp_path):
    out = tmp_path / "out"
    for report in ("audit", "churn", "ltv"):
        write_report(out, "2026-10", report)
    write_report(out, "2026-09", "audit")

    page = build_summary(out, "2026-10", reports=REPORTS).read_text(encoding="utf-8")

    cards = figure_cards(page)
    assert "vs month before" in cards["Revenue this month"][1]
    assert cards["Customers who stopped buying this month"][1] == "no figure for the month before"
    assert cards["Experiments ready to ship"][0] == "—"
    assert cards["Experiments ready to ship"][1] == "no Split tests report for this month"


def test_the_three_most_valuable_actions_are_shown_largest_first_with_their_lists(two_months):
    october = two_months / "2026-10"
    declare(
        october / "churn",
        "churn",
        Action("Win back", "4,000 customers; loses money.", -280_000.0, export="winback_contacts"),
    )
    declare(
        october / "ltv",
        "ltv",
        Action("Keep valuable customers", "10,000 customers.", 815_000.0, export="value_at_risk"),
    )
    declare(
        october / "audit",
        "audit",
        Action("Reactivate", "2,900 customers.", 1_600_000.0, export="reactivation_list"),
        xlsx=False,
    )
    declare(
        october / "splittest",
        "splittest",
        Action("Ship exp_1", "B did better.", 900_000.0, export="splittest_results"),
        Action("Ship exp_2", "C did better.", None, export="splittest_results"),
    )

    page = build_summary(two_months, "2026-10", reports=REPORTS).read_text(encoding="utf-8")

    rows = action_rows(page)
    assert len(rows) == TOP_ACTIONS
    assert [(money, title) for money, title, _links in rows] == [
        ("1,600,000\u00a0RUB", "Reactivate"),
        ("900,000\u00a0RUB", "Ship exp_1"),
        ("815,000\u00a0RUB", "Keep valuable customers"),
    ]
    assert rows[0][2] == ["audit/exports/reactivation_list.csv"]  # no XLSX written: no link
    assert rows[2][2] == ["ltv/exports/value_at_risk.csv", "ltv/exports/value_at_risk.xlsx"]
    for _money, _title, links in rows:
        assert all((october / link).is_file() for link in links)
    assert "from the Customer audit report" in text_of(page)
    assert "Win back" not in text_of(page)  # a plan that loses money ranks below the rest


def test_a_losing_action_is_shown_in_red_when_it_is_among_the_three(two_months):
    declare(
        two_months / "2026-10" / "churn",
        "churn",
        Action("Win back", "It loses money.", -280_000.0, export="winback_contacts"),
    )
    page = build_summary(two_months, "2026-10", reports=REPORTS).read_text(encoding="utf-8")
    assert action_rows(page) == [
        ("−280,000\u00a0RUB", "Win back", ["churn/exports/winback_contacts.csv",
                                      "churn/exports/winback_contacts.xlsx"]),
    ]  # fmt: skip
    assert f'class="money" style="color: {RED};"' in page


def test_a_month_without_actions_says_no_report_proposes_one(two_months):
    page = build_summary(two_months, "2026-10", reports=REPORTS).read_text(encoding="utf-8")
    assert "No report of this month proposes an action." in text_of(page)


def test_an_unreadable_actions_file_leaves_out_only_that_reports_actions(two_months):
    october = two_months / "2026-10"
    declare(october / "ltv", "ltv", Action("Keep", "Line.", 10.0, export="value_at_risk"))
    (october / "audit" / "audit.actions.json").write_text("{not json", encoding="utf-8")
    page = build_summary(two_months, "2026-10", reports=REPORTS).read_text(encoding="utf-8")
    assert [title for _money, title, _links in action_rows(page)] == ["Keep"]


def test_the_summary_links_every_report_and_says_which_failed_or_did_not_run(two_months):
    october = two_months / "2026-10"
    failure = october / "churn.failed.html"
    failure.write_text("<html>failed</html>", encoding="utf-8")
    for path in (october / "splittest").iterdir():
        path.unlink()
    (october / "splittest").rmdir()

    page = build_summary(two_months, "2026-10", reports=REPORTS).read_text(encoding="utf-8")

    reports = re.search(r'<ul class="reports">(.*?)</ul>', page).group(1)
    assert re.findall(r'href="([^"]+)"', reports) == [
        "audit/audit.html",
        "churn.failed.html",
        "churn/churn.html",  # the last good report of the month
        "ltv/ltv.html",
    ]
    shown = text_of(reports)
    assert "Churn: who is leaving, why, and the win-back plan: failed this month" in shown
    assert "Split tests: did not run this month" in shown
    assert '<a href="../index.html">All reports and months</a>' in page


def test_the_summary_is_written_in_russian_with_roubles(two_months):
    declare(
        two_months / "2026-10" / "ltv",
        "ltv",
        Action("Удержать", "10 000 клиентов.", 815_000.0, export="value_at_risk"),
    )
    with use_language("ru"):
        page = build_summary(two_months, "2026-10", reports=REPORTS).read_text(encoding="utf-8")
    text = text_of(page)
    assert '<html lang="ru">' in page
    cards = figure_cards(page)
    assert cards["Выручка за месяц"][0] == "1\u00a0100\u00a0000\u00a0₽"
    assert "+10,0%</span> к предыдущему месяцу" in cards["Выручка за месяц"][1]
    assert "Shop · Октябрь 2026" in text or "Shop · Октябрь\u00a02026" in text
    for words in ("Что сделать в первую очередь", "Отчёты", "из отчёта «Пожизненная ценность"):
        assert words in text, words
    assert "RUB" not in text
    assert not re.search(r"\b\d{4}-\d\d-\d\d\b", text), text  # 8 дек. 2026, not ISO
    for english in ("Revenue", "What to do first", "from the", "vs month before"):
        assert english not in text, english


def test_nothing_is_written_for_a_month_without_reports(two_months):
    assert build_summary(two_months, "2026-11") is None
    assert build_summary(two_months, "unknown") is None
    assert not (two_months / "2026-11").exists()


def test_the_figures_are_those_of_the_store_of_the_month(two_months):
    """Another store's files in the same folder do not mix into this store's figures."""
    write_report(two_months, "2026-10", "other", store="Other shop", revenue=5.0)
    page = build_summary(two_months, "2026-10", client="Shop", reports=REPORTS)
    assert figure_cards(page.read_text(encoding="utf-8"))["Revenue this month"][0] == (
        "1,100,000\u00a0RUB"
    )


# --- the index lists it ---------------------------------------------------------------------------


def test_the_index_lists_each_months_summary_first_and_never_as_a_report(two_months):
    build_summary(two_months, "2026-10", reports=REPORTS)
    index = build_index(two_months).read_text(encoding="utf-8")

    assert "summary" not in {run.report for run in report_runs(two_months)}
    header = re.search(r"<h3>Runs, newest first</h3><table><thead><tr>(.*?)</tr>", index).group(1)
    assert re.findall(r"<th>(.*?)</th>", header)[:3] == ["Month", "Summary", "Customer audit"]
    october = re.search(r"<tr><td>October 2026</td>(.*?)</tr>", index).group(1)
    links = re.findall(r'href="([^"]+)"', october)
    assert links[0] == f"2026-10/{SUMMARY_FILE}" and links[1] == "2026-10/audit/audit.html"
    september = re.search(r"<tr><td>September 2026</td>(.*?)</tr>", index).group(1)
    assert september.startswith("<td></td>")  # no summary for September: an empty cell
    assert f'<a href="2026-10/{SUMMARY_FILE}">summary of the month</a>' in index


def test_the_index_has_no_summary_column_while_no_month_has_a_summary(two_months):
    index = build_index(two_months).read_text(encoding="utf-8")
    assert "<th>Summary</th>" not in index and SUMMARY_FILE not in index


@pytest.mark.parametrize(
    ("as_of", "says"),
    [
        ("2026-10-15", "month not over: data through 15 October 2026"),
        ("2026-10-31", None),
        (None, None),  # a file written before kpis.json held as_of: a whole month
    ],
)
def test_a_month_reported_before_it_is_over_says_so(two_months, as_of, says):
    for report in REPORTS:
        path = two_months / "2026-10" / report / f"{report}.kpis.json"
        document = json.loads(path.read_text(encoding="utf-8"))
        document["as_of"] = as_of
        path.write_text(json.dumps(document), encoding="utf-8")
    page = build_summary(two_months, "2026-10", reports=REPORTS).read_text(encoding="utf-8")
    if says:
        assert f'<div class="partial">{says}</div>' in page
    else:
        assert "partial" not in page.split("</style>")[1]
