"""Every report in Russian (params ``language: ru``): no English left on the page or in a figure.

Each report runs once on the demo store; the check reads the page's visible text and the words
drawn into its figures (``show_figure`` keeps them in the output metadata) and lists every Latin
word that is neither the store's own data (a region, a channel, an experiment's name…) nor one of
the abbreviations analysts read in any language (CLV, RFM, BG/NBD…).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml

from custkit.data.validate import REASONS
from custkit.reports import run_report

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
REPORTS = ("audit", "ltv", "churn", "splittest")

#: Latin words a Russian report may show: notation and abbreviations kept in every language,
#: units and file formats. Not "RUB" (Russian pages write ₽) nor "CLV" (the market says LTV).
ALLOWED = {
    *"LTV RFM RF KPI MAE RMSE AUC ROC PR SRM AOV CUPED BG NBD MBG Pareto Gamma NPS".split(),
    *"custkit CSV XLSX HTML ID SMS Email Push".split(),
    "P(alive)",
}
LATIN_WORD = re.compile(r"P\(alive\)|[A-Za-z][A-Za-z'’]+")


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "title"):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "title"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _VisibleText()
    parser.feed(page)
    return " ".join(parser.parts)


def data_words() -> set[str]:
    """Words of the demo store's own data: store name, regions, channels, categories, names of
    experiments, variants and campaigns (a store's own labels are shown as it writes them)."""
    words = {"Demo", "store"}
    for file in DEMO.glob("*.csv"):
        frame = pd.read_csv(file, nrows=200_000, dtype=str)
        for column in frame.columns:
            values = frame[column].dropna()
            if values.nunique() <= 200 and not column.startswith(("email", "phone", "name")):
                for value in values.unique():
                    words.update(LATIN_WORD.findall(value))
    return words


IDENTIFIER = re.compile(r"[\w-]+(?:[_./][\w-]+)+|\w*\d\w*")


def english_words(text: str, allowed: set[str]) -> list[str]:
    """Latin words of *text* not in *allowed*; identifiers (``exp_month2``, ``clv.csv``,
    ``BG/NBD``) and words glued to digits (``12m``) pass."""
    text = IDENTIFIER.sub(" ", text.replace("P(alive)", " "))
    return [word for word in LATIN_WORD.findall(text) if word not in allowed]


@pytest.fixture(scope="module")
def russian_params(tmp_path_factory) -> Path:
    """params/demo.yaml with ``language: ru`` (source paths made absolute for the copy)."""
    original = ROOT / "params" / "demo.yaml"
    raw = yaml.safe_load(original.read_text(encoding="utf-8"))
    for spec in raw["sources"].values():
        spec["path"] = str((original.parent / spec["path"]).resolve())
    raw["language"] = "ru"
    path = tmp_path_factory.mktemp("params") / "demo-ru.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def allowed() -> set[str]:
    return ALLOWED | data_words()


@pytest.mark.parametrize("report", REPORTS)
def test_report_in_russian_has_no_english_left(report, russian_params, allowed, tmp_path):
    result = run_report(report, russian_params, out_dir=tmp_path)
    assert result.status == "ok", result.error
    page = result.html.read_text(encoding="utf-8")
    text = visible_text(page)
    assert re.search("[а-яА-Я]", text)
    on_page = english_words(text, allowed)
    nb = json.loads(result.html.with_suffix(".ipynb").read_text(encoding="utf-8"))
    in_figures = [
        word
        for cell in nb["cells"]
        for output in cell.get("outputs", [])
        for figure_text in output.get("metadata", {}).get("custkit", {}).get("texts", [])
        for word in english_words(figure_text, allowed)
    ]
    assert in_figures or any(
        o.get("metadata", {}).get("custkit") for c in nb["cells"] for o in c.get("outputs", [])
    ), "no figure carried its texts: show_figure keeps them in the output metadata"
    assert not on_page and not in_figures, (
        f"English left in the Russian {report} report — on the page: "
        f"{sorted(set(on_page))[:60]}; in figures: {sorted(set(in_figures))[:60]}"
    )
    figures = " ".join(
        figure_text
        for cell in nb["cells"]
        for output in cell.get("outputs", [])
        for figure_text in output.get("metadata", {}).get("custkit", {}).get("texts", [])
    )
    for code in ("RUB", "CLV"):
        assert code not in text and code not in figures, f"{code} on the Russian {report} page"
    iso_dates = re.findall(r"\b\d{4}-\d\d-\d\d\b", text)  # Russian pages write 14 окт. 2026
    assert not iso_dates, f"ISO dates on the Russian {report} page: {iso_dates[:5]}"
    english_reasons = [reason for reason in REASONS.values() if reason in text]
    assert not english_reasons, english_reasons
    for quarantine in result.html.parent.glob("quarantine/*.csv"):
        explanations = pd.read_csv(quarantine, sep=";", encoding="utf-8-sig", dtype=str)
        english = explanations["rejection_explanation"].isin(list(REASONS.values()))
        assert not english.any(), f"{quarantine.name}: quarantine explanations in English"
