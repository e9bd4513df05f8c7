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
    assert page.count("data:image/png;base64") >= 2 * len(EXPERIMENTS)
    assert page.count("Sample-ratio mismatch in exp_srm") >= 2  # a banner on its metrics
    assert "Sample-ratio mismatch in exp_aa" not in page
    for experiment in EXPERIMENTS:
        assert f"<h2>{experiment}: B vs A</h2>" in page


def test_results_export_holds_every_comparison(splittest_run):
    exports = splittest_run.html.parent / "exports"
    results = pd.read_csv(exports / "splittest_results.csv", encoding="utf-8-sig")
    assert set(results["experiment_id"]) == set(EXPERIMENTS)
    assert set(results["window_days"]) == {30, 60, 90}
    assert (results["customers_control"] > 0).all()


def test_splittest_page_shows_effects_by_segment_and_states_the_revenue_cap(splittest_run):
    page = splittest_run.html.read_text(encoding="utf-8")
    assert "Effects by segment" in page
    assert page.count("by segment: the change within each segment") == len(EXPERIMENTS)
    assert "adjusted (Holm) over each segmentation" in page
    assert "Revenue per customer is capped at what 99% of the buyers of all variants" in page
