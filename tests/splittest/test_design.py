"""Experiment designs: planned splits from params (exact ids and patterns), the control found by
name, the review order and the parameter errors."""

import pandas as pd
import pytest

from custkit.errors import ParamsError
from custkit.splittest import experiment_designs


@pytest.fixture
def experiments():
    return pd.DataFrame(
        {
            "experiment_id": ["late", "late", "winback_1", "winback_1", "early", "early"],
            "customer_id": [1, 2, 3, 4, 5, 6],
            "variant": ["treatment", "control", "contact", "holdout", "B", "A"],
            "assigned_at": pd.to_datetime(
                ["2026-05-01", "2026-05-02", "2026-03-01", "2026-03-01", "2026-01-01", "2026-01-02"]
            ),
        }
    )


def test_unplanned_experiments_get_equal_shares_and_the_control_by_name(experiments):
    designs = experiment_designs(experiments)
    assert list(designs) == ["early", "winback_1", "late"]  # by first exposure
    assert designs["early"].variants == ("A", "B") and designs["early"].planned_shares == (0.5, 0.5)
    assert designs["late"].control == "control" and designs["late"].challengers == ("treatment",)
    assert designs["winback_1"].control == "holdout"
    assert not designs["early"].planned


def test_planned_splits_match_ids_before_patterns_and_list_the_control_first(experiments):
    plans = {
        "winback_*": {"holdout": 0.2, "contact": 0.8},
        "early": {"A": 0.9, "B": 0.1},
    }
    designs = experiment_designs(experiments, plans)
    assert designs["winback_1"].variants == ("holdout", "contact")
    assert designs["winback_1"].planned_shares == (0.2, 0.8) and designs["winback_1"].planned
    assert designs["early"].planned_shares == (0.9, 0.1)
    assert not designs["late"].planned


def test_include_keeps_the_given_order_and_names_unknown_experiments(experiments):
    assert list(experiment_designs(experiments, include=["late", "early"])) == ["late", "early"]
    with pytest.raises(ParamsError, match=r"\['erly'\].*Did you mean 'early'"):
        experiment_designs(experiments, include=["erly"])


@pytest.mark.parametrize(
    ("plans", "message"),
    [
        ({"early": {"A": 0.5, "B": 0.4}}, r"summing to 1\. Got .* \(sum 0\.9\)"),
        ({"early": {"A": 1.0}}, r"at least two variants"),
        ({"early": {"A": -0.5, "B": 1.5}}, r"shares > 0"),
        (["early"], r"planned_splits must map an experiment id"),
    ],
)
def test_planned_splits_are_checked(experiments, plans, message):
    with pytest.raises(ParamsError, match=message):
        experiment_designs(experiments, plans)


def test_no_experiments_table_gives_no_designs_unless_some_were_asked_for():
    assert experiment_designs(None) == {}
    with pytest.raises(ParamsError, match="no experiments table"):
        experiment_designs(None, include=["x"])
