"""Every report on every store shape: from orders alone to every table, and CDNOW as a store.

The stores come from the tests' own generator (``tests/storegen.py``), not the demo: text ids,
the store's own column names, statuses in two languages, euros with cents. Each shape runs all
four reports once (``run_reports("all")``); every report must finish, name the sections the data
cannot fill in plain words (in the report language), and publish outputs that read back: every
export CSV with the columns it promises, a parseable kpis.json, and no personal value of the
store in any page or notebook.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from custkit.datasets import load_cdnow
from custkit.reports import run_reports

#: The shapes of storegen.SHAPES and the language each runs in (one in Russian: the skip lines
#: must be translated), and the sections each report must name as skipped.
ORDERS_ONLY_SKIPS = {
    "audit": {
        "acquisition_channel",
        "acquisition_region",
        "referrals",
        "registration",
        "categories_by_region",
        "categories_by_channel",
        "reactivation_list",
        "birthdays_next_month",
        "duplicates_to_merge",
    },
    "ltv": {"value_by_channel", "value_by_region"},
    "churn": {"feedback_texts", "classifier_check", "campaigns", "winback_contacts"},
    "splittest": {"reviews", "planning"},
}
NO_PERSONAL_EXTRAS = {"reactivation_list", "birthdays_next_month"}
SHAPES = {
    "orders_only": ("en", ORDERS_ONLY_SKIPS),
    "customers_no_birthdays_consents_cost": (
        "en",
        {
            "audit": NO_PERSONAL_EXTRAS,
            "ltv": set(),
            "churn": {"feedback_texts", "classifier_check", "campaigns"},
            "splittest": {"reviews", "planning"},
        },
    ),
    "with_feedback": (
        "ru",
        {
            "audit": NO_PERSONAL_EXTRAS,
            "ltv": set(),
            "churn": {"campaigns"},
            "splittest": {"reviews", "planning"},
        },
    ),
    "with_messages": (
        "en",
        {
            "audit": NO_PERSONAL_EXTRAS,
            "ltv": set(),
            "churn": {"campaigns"},
            "splittest": {"reviews", "planning"},
        },
    ),
    "full": ("en", {"audit": set(), "ltv": set(), "churn": set(), "splittest": set()}),
}
#: Columns each export promises (its function's docstring): they must read back from the CSV.
EXPORT_COLUMNS = {
    "reactivation_list": {"customer_id", "last_order_date", "orders", "revenue"},
    "birthdays_next_month": {"customer_id", "birth_date"},
    "duplicates_to_merge": {"customer_id"},
    "customer_value": {"customer_id", "p_alive"},
    "value_at_risk": {"customer_id", "value_at_risk"},
    "churn_reasons": {"customer_id", "reason"},
    "customer_cards": {"customer_id", "status", "p_alive", "value", "value_at_risk", "next_action"},
    "winback_contacts": {"customer_id", "channel", "email", "phone", "action"},
    "splittest_assignments_set_aside": set(),
    "splittest_results": set(),
}


@pytest.fixture(scope="module")
def generated(storegen):
    return storegen.generate_store(storegen.StoreSpec(customers=800, seed=5))


@pytest.fixture(scope="module", params=[*SHAPES, "cdnow_master"])
def shape_run(request, generated, storegen, tmp_path_factory):
    """One shape written as files, and all four reports run on it once."""
    name = request.param
    folder = tmp_path_factory.mktemp(name)
    if name == "cdnow_master":
        params = _write_cdnow(folder / "data")
        language, skips = "en", ORDERS_ONLY_SKIPS
    else:
        language, skips = SHAPES[name]
        params = storegen.write_store(generated, folder / "data", name, language=language)
    results = run_reports("all", params, out_dir=folder / "reports")
    return name, language, skips, {r.report: r for r in results}


def _write_cdnow(folder: Path) -> Path:
    folder.mkdir(parents=True)
    load_cdnow("master").to_csv(folder / "orders.csv", index=False)
    params = {
        "store": {"name": "CDNOW", "currency": "USD", "opened": "1997-01-01"},
        "sources": {"orders": {"path": "orders.csv"}},
    }
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params), encoding="utf-8")
    return path


def _text(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_every_report_finishes_on_every_store_shape(shape_run):
    name, _language, _skips, results = shape_run
    assert set(results) == {"audit", "churn", "ltv", "splittest"}
    failed = {report: r.error for report, r in results.items() if not r.ok}
    assert not failed, f"{name}: {failed}"


def test_each_report_names_the_sections_its_data_cannot_fill(shape_run, storegen):
    import html

    from custkit import audit, churn, ltv, splittest
    from custkit.i18n import _, use_language

    name, language, skips, results = shape_run
    declared = {
        "audit": audit.SECTIONS,
        "ltv": ltv.SECTIONS,
        "churn": churn.SECTIONS,
        "splittest": splittest.SECTIONS,
    }
    for report, result in results.items():
        if not result.ok:
            continue
        page = html.unescape(result.html.read_text(encoding="utf-8"))
        block = re.search(r'class="custkit-skipped".*?</ul>', page, flags=re.S)
        listed = re.findall(r"<li>(.*?)</li>", block.group(0)) if block else []
        with use_language(language):
            titles = {key: _(section.title) for key, section in declared[report].items()}
            heading = _("Sections skipped for lack of data:")
        named = {
            key for key, title in titles.items() for line in listed if line.startswith(title + ":")
        }
        assert named == skips[report], f"{name}/{report}: {listed}"
        assert len(listed) == len(named)
        for line in listed:
            assert re.fullmatch(r"[^:]+: \S+ — .+", line), line  # "<section>: skipped — <why>"
        if listed:
            assert heading in page
            if language == "ru":
                assert "пропущен" in listed[0] and not re.search(r"\bskipped\b", _text(page))


def test_exports_read_back_with_the_columns_they_promise(shape_run):
    """Each CSV in the report language's dialect, with its XLSX holding the same rows and
    columns (the XLSX once held only its first column)."""
    name, language, _skips, results = shape_run
    sep, decimal = (";", ",") if language == "ru" else (",", ".")
    for report, result in results.items():
        if not result.ok:
            continue
        exports = result.html.parent / "exports"
        for csv in exports.glob("*.csv") if exports.is_dir() else []:
            frame = pd.read_csv(csv, sep=sep, decimal=decimal, encoding="utf-8-sig")
            promised = EXPORT_COLUMNS[csv.stem]
            assert promised <= set(frame.columns), f"{name}/{report}: {csv.name} {list(frame)}"
            assert not frame.columns.duplicated().any()
            xlsx = csv.with_suffix(".xlsx")
            if xlsx.exists():
                sheet = pd.read_excel(xlsx, engine="openpyxl")
                assert list(sheet.columns) == list(frame.columns), f"{name}: {xlsx.name}"
                assert len(sheet) == len(frame), f"{name}: {xlsx.name}"
                assert sheet.notna().sum().tolist() == frame.notna().sum().tolist(), xlsx.name


def test_shared_figures_agree_in_every_kpis_file_and_page(shape_run, check_shared_figures):
    """Issue 15 item 1 on the second generator's shapes (one in Russian) and CDNOW: the figures
    two reports show have one value everywhere (``tests/test_consistency.py`` for the demo)."""
    _name, _language, _skips, results = shape_run
    month = next(iter(results.values())).html.parent.parent
    figures = check_shared_figures(month.parent, month.name)
    assert figures["audit"]["churned_customers"] == figures["churn"]["churned_customers"]


def test_kpis_json_parses_and_accounts_for_every_row(shape_run):
    name, _language, _skips, results = shape_run
    for report, result in results.items():
        if not result.ok:
            continue
        document = json.loads(result.kpis.read_text(encoding="utf-8"))
        assert document["report"] == report and document["period"] == result.period
        assert isinstance(document["kpis"], dict) and document["kpis"]
        for table, acc in document["accounting"].items():
            assert acc["read"] == acc["accepted"] + acc["rejected"], f"{name}/{table}"


def test_no_personal_value_of_the_store_in_any_page_or_notebook(shape_run, generated):
    name, _language, _skips, results = shape_run
    values = generated.personal_values() if name != "cdnow_master" else []
    folder = next(iter(results.values())).html.parent.parent
    pages = [*folder.rglob("*.html"), *folder.rglob("*.ipynb")]
    assert pages
    personal = re.compile("|".join(map(re.escape, values))) if values else None
    for path in pages:
        text = re.sub(r"[A-Za-z0-9+/=\\n]{300,}", " ", path.read_text(encoding="utf-8"))  # images
        leaked = personal.findall(text) if personal else []
        assert not leaked, f"{name}: {path.name} shows {leaked[:3]}"


def test_the_run_writes_the_months_summary_from_its_reports_figures_and_actions(
    shape_run, generated
):
    """``<period>/summary.html``: a link to every report of the run, the headline figures as
    each report's kpis.json holds them, the three most valuable of the actions the reports
    declared with links to lists that exist, in the report language, and no personal value."""
    from custkit.i18n import _, use_language
    from custkit.reports.actions import rank_actions, read_actions
    from custkit.reports.display import format_kpi
    from custkit.reports.summary import HEADLINE_FIGURES

    name, language, _skips, results = shape_run
    folder = next(iter(results.values())).html.parent.parent
    page = (folder / "summary.html").read_text(encoding="utf-8")
    text = _text(html.unescape(page))
    links = re.findall(r'href="([^"]+)"', page)
    for report in results:
        assert f"{report}/{report}.html" in links, f"{name}: no link to {report}"
    for link in links:
        assert (folder / link).resolve().is_file(), f"{name}: {link} leads nowhere"

    currency = json.loads(results["audit"].kpis.read_text(encoding="utf-8"))["currency"]
    with use_language(language):
        for (report, kpi), label in HEADLINE_FIGURES.items():
            document = json.loads(results[report].kpis.read_text(encoding="utf-8"))
            shown = format_kpi(document["kpis"].get(kpi), document["units"].get(kpi), currency)
            shown = re.sub(r"\s+", " ", shown)  # as _text writes no-break spaces
            assert f"{_(label)} {shown}" in text, f"{name}: {label} is not {shown}"
        declared = [
            action
            for report in results
            if (results[report].html.parent / f"{report}.actions.json").exists()
            for action in read_actions(results[report].html.parent / f"{report}.actions.json")
        ]
        for action in rank_actions(declared):
            shown = f"{format_kpi(action.value, action.unit, currency)} {action.title}"
            shown = re.sub(r"\s+", " ", shown)
            assert shown in text, f"{name}: action {action.title!r} not shown"
        heading = _("What to do first")
    assert heading in text
    if name == "full":
        assert {"audit", "ltv"} <= {a.report for a in declared}
        for action in declared:
            assert (folder / action.report / "exports" / f"{action.export}.csv").is_file()
    if language == "ru":
        assert "Что сделать в первую очередь" in text
        for english in ("What to do first", "The reports", "Revenue", "vs month", "from the "):
            assert english not in text, f"{name}: {english!r} on the Russian summary"
        assert not re.search(r"\b(customers?|did better|spent|list)\b", text), text
    values = generated.personal_values() if name != "cdnow_master" else []
    for path in [folder / "summary.html", *folder.glob("*/*.actions.json")]:
        content = path.read_text(encoding="utf-8")
        leaked = [value for value in values if value in content]
        assert not leaked, f"{name}: {path.name} shows {leaked[:3]}"
