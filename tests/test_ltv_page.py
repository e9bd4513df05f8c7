"""The LTV page as a manager reads it (issue 15, item 5), in English and in Russian.

The page opens with its answer (what the base is worth, its interval, who holds the value,
value at risk) and one plain line on the model; model selection, errors (MAE, RMSE) and
P(alive) live only in the folded blocks for analysts. No code of the kit reaches the page or a
figure: not a model's (``gradient_boosting``), a tier's (``top_5%``), a segment's
(``champions``), a status's (``not_scored``) nor a column's (``total_error_pct``). A store with
too little history says in its headline what it cannot tell, instead of failing.
"""

from __future__ import annotations

import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml

from custkit.audit.rfm import SEGMENTS
from custkit.data.demo import write_demo_store
from custkit.ltv.clv import NOT_SCORED
from custkit.ltv.report import LTV_KPI_UNITS
from custkit.ltv.validation import GRADIENT_BOOSTING, NAIVE
from custkit.reports import run_report

sys.path.insert(0, str(Path(__file__).resolve().parent))
import storegen

#: How a kit's code looks in text: snake_case (``cant_lose``, ``top_5%``, ``p_alive``).
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+%?")
FILE_NAME = re.compile(r"[\w./-]+\.(?:csv|xlsx|parquet)\b")


def kit_codes() -> set[str]:
    """Every code of the kit a page might leak: model, tier, segment, status and column codes,
    and the LTV report's KPI names."""
    tiers = {"top_1%", "top_5%", "top_20%", "rest", NOT_SCORED}
    columns = {
        "p_alive",
        "p_alive_mean",
        "clv_share",
        "clv_total",
        "clv_mean",
        "value_at_risk",
        "value_at_risk_share",
        "total_error_pct",
        "not_eligible_reason",
        "predicted_purchases",
        "actual_purchases",
        "first_order_month",
        "acquisition_channel",
        "expected_purchases",
        "horizon_months",
    }
    models = {NAIVE, GRADIENT_BOOSTING, "bg_nbd", "mbg_nbd", "pareto_nbd", "gamma_gamma"}
    return tiers | columns | models | set(SEGMENTS) | {"scored"} | set(LTV_KPI_UNITS)


class _Text(HTMLParser):
    """Visible text of a page; with ``closed=True`` only what shows with every folded
    ``<details>`` block closed (its ``<summary>`` line stays)."""

    def __init__(self, closed: bool = False) -> None:
        super().__init__()
        self.closed, self.parts, self.cells = closed, [], []
        self._hidden = self._details = self._summary = 0
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in ("script", "style", "title")
        self._details += tag == "details"
        self._summary += tag == "summary"
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        self._hidden -= tag in ("script", "style", "title")
        self._details -= tag == "details"
        self._summary -= tag == "summary"
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._hidden or (self.closed and self._details and not self._summary):
            return
        self.parts.append(data)
        if self._cell is not None:
            self._cell.append(data)


def page_text(html: str, closed: bool = False) -> tuple[str, list[str]]:
    parser = _Text(closed)
    parser.feed(html)
    return " ".join(parser.parts), parser.cells


def figure_texts(result) -> list[str]:
    nb = json.loads(result.html.with_suffix(".ipynb").read_text(encoding="utf-8"))
    return [
        text
        for cell in nb["cells"]
        for output in cell.get("outputs", [])
        for text in output.get("metadata", {}).get("custkit", {}).get("texts", [])
    ]


def store_words(folder: Path) -> set[str]:
    """The store's own labels (its channels and regions are shown as it writes them)."""
    customers = pd.read_csv(folder / "customers.csv", dtype=str)
    words = set()
    for column in ("acquisition_channel", "region"):
        if column in customers:
            words.update(customers[column].dropna().str.lower().unique())
    return words


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return write_demo_store(tmp_path_factory.mktemp("ltv-page") / "data", 1500, seed=5)


@pytest.fixture(scope="module", params=["en", "ru"])
def page(request, store, tmp_path_factory):
    params = store / "params.yaml"
    if request.param == "ru":
        raw = yaml.safe_load(params.read_text(encoding="utf-8"))
        raw["language"] = "ru"
        params = store / "params-ru.yaml"  # beside the data: its paths stay relative
        params.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    result = run_report("ltv", params, out_dir=tmp_path_factory.mktemp(f"ltv-{request.param}"))
    assert result.status == "ok", result.error
    return request.param, result


def test_the_ltv_page_shows_no_code_of_the_kit_in_text_tables_or_figures(page, store):
    language, result = page
    text, cells = page_text(result.html.read_text(encoding="utf-8"))
    text = FILE_NAME.sub(" ", text)  # the lists' files are named as they are on disk
    figures = figure_texts(result)
    codes, own = kit_codes(), store_words(store)
    leaked = {word for word in SNAKE.findall(text) if word.lower() not in own}
    leaked |= {word for t in figures for word in SNAKE.findall(t) if word.lower() not in own}
    # a code that is also a word (naive, rest, scored, champions) leaks as a whole cell or label
    leaked |= {c for c in cells if c in codes} | {t for t in figures if t.strip() in codes}
    assert not leaked, f"codes on the {language} LTV page: {sorted(leaked)}"


def test_the_ltv_page_opens_with_its_answer_and_folds_the_statistics(page):
    language, result = page
    html = result.html.read_text(encoding="utf-8")
    shown, _cells = page_text(html, closed=True)
    everything, _cells = page_text(html)
    answer = {"en": "What the base is worth", "ru": "Сколько стоит клиентская база"}[language]
    intro_end = "before it is trusted." if language == "en" else "последних месяцах данных."
    after_intro = shown[shown.index(intro_end) + len(intro_end) :]
    assert after_intro.lstrip().startswith(answer), after_intro[:300]
    headline = shown[shown.index(answer) :][:1200]
    assert re.search(r"\d[\d\s\u00a0,]{5,}", headline), headline  # the value, in full
    for statistic in ("MAE", "RMSE", "P(alive)", "Eligible", "log-likelihood", "Log likelihood"):
        assert statistic not in shown, f"{statistic!r} outside the blocks for analysts"
    # ...and the detail is still there, folded
    for statistic in ("MAE", "RMSE"):
        assert statistic in everything
    model_line = {"en": "The forecast uses the ", "ru": "Прогноз построен по модели "}[language]
    assert model_line in shown
    assert html.count('class="ck-details"') >= 3


@pytest.fixture(scope="module")
def thin_store(tmp_path_factory) -> Path:
    """Three and a half months of orders, 200 customers buying about once a year: shorter than
    the six months the forecast is checked on, with few repeat buyers."""
    spec = storegen.StoreSpec(customers=200, start="2025-12-01", orders_per_year=1.0, seed=3)
    folder = tmp_path_factory.mktemp("thin")
    return storegen.write_store(storegen.generate_store(spec), folder, "orders_only")


def test_a_thin_store_gets_a_page_whose_headline_says_what_it_cannot_tell(thin_store, tmp_path):
    result = run_report("ltv", thin_store, out_dir=tmp_path)
    assert result.status == "ok", result.error
    shown, _cells = page_text(result.html.read_text(encoding="utf-8"), closed=True)
    headline = shown[shown.index("What the base is worth") :][:1500]
    assert "too thin" in headline
    assert re.search(r"the orders cover only \d+ months?, less than the 12 months", headline)
    assert "bought more than once, too few" in headline
    assert "could not be checked against the last months" in headline
    assert "A rough estimate" in headline
    kpis = json.loads(result.kpis.read_text(encoding="utf-8"))["kpis"]
    assert kpis["model"] == "BG/NBD" and kpis["clv_12m_total"] >= 0
