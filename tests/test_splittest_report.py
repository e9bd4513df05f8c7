"""End to end: the demo store in, the split-test report out."""

import json
import re

import pandas as pd
import pytest

from custkit.data.demo import write_demo_store
from custkit.reports import run_report

METRIC_KPIS = {"estimate", "ci_low", "ci_high", "p_value", "srm_p_value", "verdict"}
EXPERIMENTS = ["exp_month2", "exp_aa", "exp_srm"]


@pytest.fixture(scope="module")
def splittest_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("splittest")
    # large enough for the planted 53/47 split of exp_srm to be a clear mismatch
    data = write_demo_store(folder / "data", 10_000, seed=5)
    return run_report(
        "splittest",
        data / "params.yaml",
        out_dir=folder / "reports",
        overrides={"experiments": json.dumps(EXPERIMENTS)},
    )


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
