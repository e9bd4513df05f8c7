"""End to end: the demo store in, the split-test report out."""

import json
import re
from html.parser import HTMLParser
from typing import get_args

import pandas as pd
import pytest
import yaml

from custkit.data.demo import write_demo_store
from custkit.reports import run_report
from custkit.splittest.findings import REASON_LABELS
from custkit.splittest.metrics import METRICS
from custkit.splittest.segments import CUSTOMER_COLUMNS, NEW_VS_RETURNING
from custkit.splittest.verdicts import VerdictCode

METRIC_KPIS = {"estimate", "ci_low", "ci_high", "p_value", "srm_p_value", "verdict"}
EXPERIMENTS = ["exp_month2", "exp_aa", "exp_srm"]


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    # large enough for the planted 53/47 split of exp_srm to be a clear mismatch
    return write_demo_store(tmp_path_factory.mktemp("splittest") / "data", 10_000, seed=5)


@pytest.fixture(scope="module")
def splittest_run(demo_store):
    return run_report(
        "splittest",
        demo_store / "params.yaml",
        out_dir=demo_store.parent / "reports",
        overrides={"experiments": json.dumps(EXPERIMENTS)},
    )


@pytest.fixture(scope="module")
def russian_run(demo_store):
    """Every experiment of the store (the win-back tests' variants are "contact" and
    "holdout"), in Russian."""
    params = yaml.safe_load((demo_store / "params.yaml").read_text(encoding="utf-8"))
    params["language"] = "ru"
    russian = demo_store / "params-ru.yaml"
    russian.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return run_report("splittest", russian, out_dir=demo_store.parent / "reports-ru")


def test_splittest_report_runs_and_saves_its_kpis(splittest_run):
    assert splittest_run.ok, splittest_run.error
    kpis = json.loads(splittest_run.kpis.read_text(encoding="utf-8"))["kpis"]
    assert kpis["experiments_reviewed"] == 3 and list(kpis["experiments"]) == EXPERIMENTS
    for experiment in kpis["experiments"].values():
        assert {"verdict", "srm_p_value", "judge_date", "metrics"} <= set(experiment)
        assert set(experiment["metrics"]) >= {"conversion", "orders", "revenue", "aov"}
        for metric in experiment["metrics"].values():
            assert METRIC_KPIS <= set(metric)
    assert kpis["experiments"]["exp_srm"]["srm_p_value"] < 0.001
    assert kpis["experiments"]["exp_srm"]["verdict"].startswith("sample-ratio mismatch")
    assert kpis["experiments"]["exp_aa"]["verdict_code"] in ("too_early", "no_difference")


def test_splittest_html_is_readable_offline_and_flags_the_broken_split(splittest_run):
    page = splittest_run.html.read_text(encoding="utf-8")
    assert "review_experiments" not in page and "Traceback" not in page
    assert not re.search(r"[\w.+-]+@[\w-]+\.(ru|com|org|net)\b", page)
    assert not re.search(r"""(src|href)=["']?https?://""", page)
    assert page.count("data:image/png;base64") >= 2  # the decided test's two charts, folded
    assert page.count("exp_srm: the split is broken —") == 1  # one line, not a banner per table
    assert "exp_aa: the split is broken —" not in page
    assert "exp_month2: ship “B”" in page


def test_results_export_holds_every_comparison(splittest_run):
    exports = splittest_run.html.parent / "exports"
    results = pd.read_csv(exports / "splittest_results.csv", encoding="utf-8-sig")
    assert set(results["experiment_id"]) == set(EXPERIMENTS)
    assert set(results["window_days"]) == {30, 60, 90}
    assert (results["customers_control"] > 0).all()


@pytest.fixture(scope="module")
def two_monthly_runs(tmp_path_factory):
    """The September and October reports of a small demo store, into one output folder."""
    folder = tmp_path_factory.mktemp("splittest_months")
    data = write_demo_store(folder / "data", 4_000, seed=3)
    overrides = {"experiments": json.dumps(["exp_aa", "exp_month2"])}
    return [
        run_report("splittest", data / "params.yaml", period, folder / "reports", overrides)
        for period in ("2026-09", "2026-10")
    ]


def test_the_next_months_report_keeps_the_looks_of_the_month_before(two_monthly_runs):
    september, october = two_monthly_runs
    assert september.ok and october.ok, (september.error, october.error)
    kept = json.loads(september.kpis.read_text(encoding="utf-8"))["kpis"]["experiments"]
    now = json.loads(october.kpis.read_text(encoding="utf-8"))["kpis"]["experiments"]
    for experiment in ("exp_aa", "exp_month2"):
        before, after = kept[experiment]["looks"], now[experiment]["looks"]
        assert after["planned_customers"] == before["planned_customers"]
        looks_before = before["by_variant"]["B"]["revenue"]
        looks_after = after["by_variant"]["B"]["revenue"]
        assert looks_before and looks_after[: len(looks_before)] == looks_before
        assert len(looks_after) >= len(looks_before)
    page = october.html.read_text(encoding="utf-8")
    assert "are kept as the report for 2026-09 showed them" in page


def test_splittest_page_shows_effects_by_segment_and_states_the_revenue_cap(splittest_run):
    page = splittest_run.html.read_text(encoding="utf-8")
    assert "Effects by segment" in page
    assert page.count("by segment: the change within each segment") == len(EXPERIMENTS)  # folded
    assert "adjusted (Holm) over each segmentation" in page
    assert "Revenue per customer is capped at what 99% of the buyers of all variants" in page
    assert "To detect a +5.0% change of revenue per customer, a test needs about" in page


# ------------------------------------------------------------------- the page a manager reads
#: A block folded for analysts (reports.display.for_analysts): closed until the reader opens it.
FOLDED = re.compile(r'<details class="ck-details".*?</details>', re.S)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in ("script", "style", "title")

    def handle_endtag(self, tag):
        self._hidden -= tag in ("script", "style", "title")

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def text_of(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def managers_view(page: str) -> str:
    """The page as it opens: folded blocks closed, the header's data accounting left out."""
    page = FOLDED.sub(" ", page)
    return re.sub(r'<div class="custkit-header".*?</details>', " ", page, count=1, flags=re.S)


def internal_codes() -> set[str]:
    """custkit's own codes a page must show by their labels only: metric, verdict, assignment
    reason and segmentation codes."""
    return {
        *METRICS,
        *get_args(VerdictCode),
        *REASON_LABELS,
        NEW_VS_RETURNING,
        *CUSTOMER_COLUMNS,
    }


@pytest.fixture(params=["en", "ru"])
def run(request):
    return request.getfixturevalue("splittest_run" if request.param == "en" else "russian_run")


def test_no_internal_code_reaches_the_page(run):
    assert run.ok, run.error
    text = text_of(run.html.read_text(encoding="utf-8"))  # folded blocks included
    russian = run.html.parent.parent.parent.name == "reports-ru"
    # in English, "revenue" or "orders" is a word of the sentence; a code with "_" never is
    codes = {c for c in internal_codes() if russian or "_" in c or c in ("aov", "srm")}
    found = sorted({c for c in codes if re.search(rf"(?<![\w/]){re.escape(c)}(?![\w/])", text)})
    assert not found, f"internal codes on the page: {found}"


def test_the_page_as_it_opens_writes_shares_as_per_cents_and_days_whole(run):
    text = text_of(managers_view(run.html.read_text(encoding="utf-8")))
    text = re.sub(r"custkit \d[\d.]*", " ", text)  # the version in the header
    text = re.sub(r"\bp\s*[<=]\s*[\d.,]+", " ", text)  # a p-value is a probability, said as such
    mark = "," if run.html.parent.parent.parent.name == "reports-ru" else "."  # decimal mark
    fractions = re.findall(rf"(?<![\d.,])[01]{re.escape(mark)}\d+(?![\d%])", text)
    assert not fractions, f"numbers that should be per cents: {fractions[:10]}"
    part_days = re.findall(r"\d+[.,]\d+\s*(?:days?|дн)", text)
    assert not part_days, part_days


def test_the_managers_sentences_quote_every_variant_name(run):
    page = managers_view(run.html.read_text(encoding="utf-8"))
    page = re.sub(r"<table.*?</table>", " ", page, flags=re.S)  # a column of names is a label
    text = text_of(re.sub(r"<h\d.*?</h\d>", " ", page, flags=re.S))
    kpis = json.loads(run.kpis.read_text(encoding="utf-8"))["kpis"]["experiments"]
    names = {v for e in kpis.values() for v in e["variants"]}
    names.discard("A")  # in English also the article
    bare = [n for n in names if re.search(rf"(?<![“«\w]){re.escape(n)}(?![”»\w])", text)]
    assert names and not bare, f"variant names bare in a sentence: {bare}"


def test_broken_and_too_early_tests_are_one_line_each_with_their_detail_folded(run):
    page = run.html.read_text(encoding="utf-8")
    shown = managers_view(page)
    kpis = json.loads(run.kpis.read_text(encoding="utf-8"))["kpis"]["experiments"]
    collapsed = [e for e, k in kpis.items() if k["verdict_code"] in ("srm", "too_early")]
    assert collapsed
    lines = re.findall(r'<p style="border-left: 4px[^>]*>(.*?)</p>', shown, re.S)
    for experiment in collapsed:
        assert sum(line.startswith(f"{experiment}: ") for line in lines) == 1, experiment
        headed = re.findall(
            rf"<h\d>{experiment}\b|text-transform: uppercase;\">{experiment}:", shown
        )
        assert not headed, f"{experiment} still has a section of its own"
    # statistics and charts only folded: the page as it opens holds the overview, the rows set
    # aside and nothing per experiment
    assert "<img" not in shown and "<img" in page
    assert shown.count("<table") <= 2
    assert "⚠" not in shown  # no banner repeated on every table of a broken test
