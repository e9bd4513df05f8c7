"""The report's steps hand back typed, read-only results: the sample-ratio check and the monthly
looks are objects with documented fields, not ``DataFrame.attrs`` that pandas may drop; what a
review computed is owned by the review and cannot be changed by a caller."""

import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special

from custkit.splittest import (
    SequentialLooks,
    SrmCheck,
    design_check,
    metric_results,
    metric_table,
    month_results,
    month_table,
    sequential_looks,
    sequential_table,
    srm_check,
    verdict,
)

PACKAGE = Path(__file__).resolve().parents[2] / "custkit"
EXPERIMENTS = ("winner", "loser", "broken", "young")


@pytest.fixture(scope="module")
def review(make_store, review_of):
    return review_of(
        make_store("winner", customers=3000, effect=0.3, seed=1, first_id=1),
        make_store("loser", customers=3000, effect=-0.3, seed=2, first_id=100_001),
        make_store("broken", customers=3000, share_b=0.44, seed=5, first_id=200_001),
        make_store(
            "young",
            customers=3000,
            first_exposure=pd.Timestamp("2026-08-20"),
            seed=4,
            first_id=300_001,
        ),
    )


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_the_srm_check_is_the_chi_square_test_of_the_split(review, experiment):
    check = srm_check(review, experiment)
    counts = design_check(review, experiment)["customers"].to_numpy(dtype=float)
    # two variants planned 50/50: chi-square with one degree of freedom, (a - b)^2 / (a + b),
    # whose upper tail is erfc(sqrt(x / 2)); written out here, not taken from scipy.stats
    statistic = (counts[0] - counts[1]) ** 2 / counts.sum()
    assert check.p_value == pytest.approx(special.erfc(math.sqrt(statistic / 2)), rel=1e-9)
    assert check.alert == (check.p_value < review.srm_alpha)
    assert check.alpha == review.srm_alpha and check.experiment_id == experiment
    assert experiment in check.summary()


def test_only_the_broken_split_raises_the_srm_alert(review):
    alerts = {e: srm_check(review, e).alert for e in EXPERIMENTS}
    assert alerts == {"winner": False, "loser": False, "broken": True, "young": False}
    assert verdict(review, "broken").code == "srm"
    assert sequential_looks(review, "broken").srm_alert


def test_an_srm_check_without_a_p_value_is_no_alert():
    assert not SrmCheck("new", math.nan, 0.001).alert
    assert SrmCheck("bad", 1e-9, 0.001).alert


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_the_looks_conclusion_is_their_first_crossing(review, experiment):
    looks = sequential_looks(review, experiment)
    table = looks.table
    crossed = table.loc[table["crossed"].astype(bool)]
    assert looks.crossed == (len(crossed) > 0)
    if looks.crossed:
        assert looks.crossing_date == crossed["look_date"].iloc[0]
        assert looks.crossing_z == crossed["z"].iloc[0]
    else:
        assert looks.crossing_date is None and looks.crossing_z is None
    assert looks.records == tuple(table.to_dict("records")) or not len(table)
    assert [r["look"] for r in looks.records] == table["look"].tolist()
    assert (looks.experiment_id, looks.window_days) == (experiment, review.horizon_days)
    assert looks.metric == review.primary_metric and experiment in looks.summary()


def test_the_verdict_reads_the_looks_conclusion(review):
    winner, loser = sequential_looks(review, "winner"), sequential_looks(review, "loser")
    assert winner.crossed and winner.crossing_z > 0 and verdict(review, "winner").code == "ship"
    assert loser.crossed and loser.crossing_z < 0
    assert verdict(review, "loser").code == "keep_control"
    assert verdict(review, "winner").crossing_date == winner.crossing_date
    young = sequential_looks(review, "young")
    assert young.provisional and not young.crossed and young.empty
    assert verdict(review, "young").judge_date == young.judge_date


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_result_of_an_experiment_carries_its_split_alert(review, experiment):
    alert = srm_check(review, experiment).alert
    results = [
        metric_results(review, experiment),
        month_results(review, experiment),
        sequential_looks(review, experiment),
    ]
    assert [r.srm_alert for r in results] == [alert] * 3
    assert {r.experiment_id for r in results} == {experiment}
    assert {r.alpha for r in results} == {review.alpha}


def test_the_metric_results_name_their_family(review):
    results = metric_results(review, "winner")
    tests = int(results.table["p_value"].notna().sum())
    assert (results.family_tests, results.family_experiments) == (tests, 1)
    assert results.multiple_testing == "holm" and not results.family_challengers
    assert f"{tests} tests of this experiment" in results.family
    assert f"of {tests} tests significant" in results.summary()


def test_results_are_read_only(review):
    looks = sequential_looks(review, "winner")
    with pytest.raises(dataclasses.FrozenInstanceError):
        looks.crossed = False
    with pytest.raises(dataclasses.FrozenInstanceError):
        srm_check(review, "winner").p_value = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        metric_results(review, "winner").srm_alert = True


def test_a_caller_changing_its_table_changes_nothing_the_review_holds(review):
    first = sequential_looks(review, "winner")
    first.table["z"] = np.nan
    table = sequential_table(review, "winner")
    table["crossed"] = False
    metric_results(review, "winner").table["significant"] = False
    assert metric_results(review, "winner").table["significant"].any()
    again = sequential_looks(review, "winner")
    assert again.table["z"].notna().all() and again.table["crossed"].any()
    assert verdict(review, "winner").code == "ship"


@pytest.mark.parametrize(
    "step",
    [
        lambda r: design_check(r, "winner"),
        lambda r: sequential_table(r, "winner"),
        lambda r: sequential_looks(r, "winner").table,
        lambda r: metric_table(r, "winner"),
        lambda r: metric_results(r, "winner").table,
        lambda r: month_table(r, "winner"),
        lambda r: month_results(r, "winner").table,
    ],
    ids=[
        "design_check",
        "sequential_table",
        "sequential_looks",
        "metric_table",
        "metric_results",
        "month_table",
        "month_results",
    ],
)
def test_tables_whose_results_are_typed_carry_no_attrs(review, step):
    assert step(review).attrs == {}


def test_the_looks_are_an_exported_result_type(review):
    assert isinstance(sequential_looks(review, "winner"), SequentialLooks)
    assert isinstance(month_table(review, "winner"), pd.DataFrame)


def test_only_the_review_writes_what_it_computed():
    """The review's store of computed results is written through ``SplitTestReview.cached``
    only: no module reaches into ``review._cache``."""
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{number}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"\b\w+\._cache\b", line)
        and not (path.name == "report.py" and "self._cache" in line)
    ]
    assert offenders == [], (
        "Only SplitTestReview.cached may read or write the review's computed results; use "
        f"review.cached(key, compute) instead at: {offenders}"
    )
