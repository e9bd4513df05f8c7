"""The churn page as a manager reads it (issue 15, item 5).

The page opens with its answer; the statistics sit in folded "For analysts" blocks; no internal
code of the kit reaches the page (reason, status, segment, action, channel, feature codes), in
English or in Russian; days are whole and shares are per cents outside those blocks. On a store
with orders and customers only (the tests' second generator) the headline says what the data
cannot tell, and a year of revenue is not called margin.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
import yaml

from custkit.audit.rfm import SEGMENTS
from custkit.churn.codes import REASON_CODES
from custkit.churn.definition import STATUSES as RULE_STATUSES
from custkit.churn.features import FEATURE_LABELS
from custkit.churn.winback import ACTIONS, CHANNELS, NO_DELIVERY_ACTION, PLAN_COLUMNS
from custkit.customers.state import STATUSES as CUSTOMER_STATUSES
from custkit.data.demo import write_demo_store
from custkit.reports import run_report


class _PageText(HTMLParser):
    """Visible text of a page: all of it, and the part outside ``<details>`` blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.all: list[str] = []
        self.outside: list[str] = []
        self._hidden = 0
        self._details = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "title"):
            self._hidden += 1
        elif tag == "details":
            self._details += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "title"):
            self._hidden -= 1
        elif tag == "details":
            self._details -= 1

    def handle_data(self, data):
        if self._hidden:
            return
        self.all.append(data)
        if not self._details:
            self.outside.append(data)


def page_text(page: str) -> tuple[str, str]:
    """(all visible text, visible text outside the "For analysts" blocks) of *page*."""
    parser = _PageText()
    parser.feed(page)
    # one piece of text a line: a table cell "0.21" beside the next, "days since…", is two
    return "\n".join(parser.all), "\n".join(parser.outside)


def figure_texts(result) -> str:
    """The words drawn into the page's figures (``show_figure`` keeps them in the notebook)."""
    nb = json.loads(result.html.with_suffix(".ipynb").read_text(encoding="utf-8"))
    return "\n".join(  # one text a line: a tick "0.21" beside "days since…" is two
        text
        for cell in nb["cells"]
        for output in cell.get("outputs", [])
        for text in output.get("metadata", {}).get("custkit", {}).get("texts", [])
    )


#: The kit's own codes: none may be shown to a manager, in any language.
KIT_CODES = sorted(
    {
        *REASON_CODES,
        *RULE_STATUSES,
        *CUSTOMER_STATUSES,
        *SEGMENTS,
        *(action.code for action in ACTIONS.values()),
        NO_DELIVERY_ACTION.code,
        *CHANNELS,
        *FEATURE_LABELS,
        *PLAN_COLUMNS,
    }
)
#: Codes that are also plain English words ("active", "quality", "email"): an English page may
#: use the word; a Russian page may not show it at all.
WORD_CODES = [code for code in KIT_CODES if "_" not in code]
JOINED_CODES = [code for code in KIT_CODES if "_" in code]


def _codes_found(text: str, codes: list[str]) -> list[str]:
    return [code for code in codes if re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text)]


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    return write_demo_store(tmp_path_factory.mktemp("churn-page") / "data", 3000, seed=5)


@pytest.fixture(scope="module", params=["en", "ru"])
def churn_page(request, demo_store, tmp_path_factory):
    """The churn report of a small demo store, in English and in Russian."""
    params = yaml.safe_load((demo_store / "params.yaml").read_text(encoding="utf-8"))
    params["language"] = request.param
    path = demo_store / f"params-{request.param}.yaml"
    path.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    result = run_report("churn", path, out_dir=tmp_path_factory.mktemp(f"churn-{request.param}"))
    assert result.ok, result.error
    return request.param, result


def test_no_internal_code_of_the_kit_is_shown_on_the_churn_page(churn_page):
    language, result = churn_page
    text, _outside = page_text(result.html.read_text(encoding="utf-8"))
    shown = f"{text} {figure_texts(result)}"
    codes = JOINED_CODES + (WORD_CODES if language == "ru" else [])
    found = _codes_found(shown, codes)
    assert not found, f"internal codes on the {language} churn page: {found}"


#: Where the KPI history starts: the figures of ``kpis.json`` as the index shows them, each in its
#: declared unit (the model's ROC-AUC a score), kept as they are for the month-on-month view.
HISTORY = {"en": "Against earlier reports", "ru": "В сравнении с прошлыми отчётами"}
#: A share written as a fraction ("uplift 0.07"), not per cents, points or a version number.
FRACTION = re.compile(r"(?<![\d.,])0[.,]\d+(?![.,]?\d)(?![ \u00a0]*(?:%|pp|п\.))")


def test_days_are_whole_and_shares_are_per_cents_on_the_churn_page(churn_page):
    language, result = churn_page
    text, outside = page_text(result.html.read_text(encoding="utf-8"))
    shown = f"{text}\n{figure_texts(result)}"
    fractional_days = re.findall(r"\d+[.,]\d+[ \u00a0]*(?:days?|дн\w*|день)", shown)
    assert not fractional_days, fractional_days
    # outside the analysts' blocks and the KPI history, shares are per cents
    fractions = FRACTION.findall(outside.split(HISTORY[language])[0])
    assert not fractions, f"fractions on the {language} page for managers: {fractions}"


def test_the_churn_page_opens_with_its_answer_and_folds_the_statistics(churn_page):
    language, result = churn_page
    page = result.html.read_text(encoding="utf-8")
    text, outside = page_text(page)
    kpis = json.loads(result.kpis.read_text(encoding="utf-8"))["kpis"]
    title = {"en": "This month in short", "ru": "Коротко о месяце"}[language]
    first_section = {"en": "Churn this month", "ru": "Отток в этом месяце"}[language]
    answer = outside[outside.index(title) : outside.index(first_section)]
    churned = f"{kpis['churned_customers']:,}".replace(",", "\u00a0" if language == "ru" else ",")
    assert churned in answer, answer
    plan = {
        "en": ("pays off", "break-even", "loses money"),
        "ru": ("окупается", "в ноль", "убыточен"),
    }
    assert any(words in answer for words in plan[language]), answer
    for term in ("ROC-AUC", "PR-AUC", "Brier", "Брайер", "Precision", "Recall"):
        assert term not in outside.split(HISTORY[language])[0], f"{term} outside for analysts"
    assert "ROC-AUC" in text  # folded, not dropped
    assert page.count("<details") >= 5


def test_the_reasons_are_not_grouped_by_a_segment_measured_after_leaving(churn_page):
    _language, result = churn_page
    text, _outside = page_text(result.html.read_text(encoding="utf-8"))
    for segment_words in ("customer segment", "сегмент"):
        assert segment_words not in text.lower()


@pytest.fixture(scope="module")
def thin_run(storegen, tmp_path_factory):
    """The churn report of a store with orders and customers only: no feedback, no messages,
    no cost (the second generator's ``customers_no_birthdays_consents_cost`` shape)."""
    folder = tmp_path_factory.mktemp("churn-thin")
    generated = storegen.generate_store(storegen.StoreSpec(customers=800, seed=5))
    shape = "customers_no_birthdays_consents_cost"
    params = storegen.write_store(generated, folder / "data", shape)
    result = run_report("churn", params, out_dir=folder / "reports")
    assert result.ok, result.error
    return result


def test_on_orders_and_customers_only_the_headline_says_what_the_data_cannot_tell(thin_run):
    text, outside = page_text(thin_run.html.read_text(encoding="utf-8"))
    answer = outside[outside.index("This month in short") : outside.index("Churn this month")]
    assert "the data cannot tell why" in answer, answer
    reasons = outside[outside.index("Why customers leave") :]
    assert "cannot tell whether they forgot the store" in reasons[:600]
    shown = f"{text} {figure_texts(thin_run)}"
    assert "Forgot about the store" not in shown
    assert "No sign of a reason in the data" in figure_texts(thin_run)


def test_without_a_cost_column_the_value_at_stake_is_called_revenue_not_margin(thin_run):
    text, _outside = page_text(thin_run.html.read_text(encoding="utf-8"))
    assert "of revenue a year (the orders have no cost, so not margin)" in text
    margin = [m.start() for m in re.finditer(r"\bmargin\b", text)]
    allowed = [m.start() + len("so not ") for m in re.finditer(r"so not margin", text)]
    assert margin == allowed, "the page calls a year of revenue margin"
