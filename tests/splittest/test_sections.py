"""The report's tables as a manager reads them: values with their units, readings in words,
no false certainty."""

import dataclasses
import math

import pandas as pd
import pytest

from custkit.splittest import (
    experiment_section,
    planning_caption,
    planning_line,
    planning_results,
    planning_table,
    sequential_looks,
)
from custkit.splittest.sections import format_value, reading, sequential_caption


@pytest.fixture(scope="module")
def winner(make_store, review_of):
    return review_of(make_store("winner", effect=0.3, seed=1))


def test_values_carry_their_units():
    assert format_value(0.3646, "share") == "36.5%"
    assert format_value(1736.9, "money", "RUB") == "1,737\u00a0RUB"
    assert format_value(-12.345, "money") == "\u221212.35"
    assert format_value(0.5234, "count") == "0.52"
    assert format_value(math.nan, "money", "RUB") == "—"


def test_a_reading_states_the_direction_only_when_significant_after_holm():
    row = {"variant": "B", "estimate": 0.1, "p_value": 0.01, "p_holm": 0.2}
    assert reading(row, 0.05, srm=False) == "unclear (not after Holm)"
    assert reading({**row, "p_holm": 0.01}, 0.05, srm=False) == "“B” higher"
    assert reading({**row, "estimate": -0.1, "p_holm": 0.01}, 0.05, srm=False) == "“B” lower"
    assert reading({**row, "p_value": 0.3, "p_holm": 1.0}, 0.05, srm=False) == (
        "no clear difference"
    )
    assert reading({**row, "p_value": math.nan}, 0.05, srm=False) == "not enough data"
    assert reading(row, 0.05, srm=True) == "not trustworthy (SRM)"


def test_the_section_shows_values_with_units_and_names_the_variants(winner):
    section = experiment_section(winner, "winner", currency="RUB")
    shown = section.metrics_shown
    assert list(shown.columns[:4]) == ["Window", "Metric", "A (control)", "B (challenger)"]
    revenue = shown.loc[shown["Metric"] == "Revenue per customer"].iloc[-1]
    assert revenue["A (control)"].endswith("\u00a0RUB") and revenue["Change"].startswith("+")
    assert revenue["Reading"] == "“B” higher"
    assert section.title == "winner: B vs A" and section.srm_banner == ""
    assert section.cuped_shown["Variance removed"].str.endswith("%").all()
    assert len(section.bayes_shown) == 5  # every metric but the ratio
    chances = section.bayes_shown["Chance “B” is better"]
    assert not chances.str.contains("100.0%").any()  # ">99.9%", not a false certainty
    assert section.sequential_shown["Decision"].iloc[-1] == "stop: significant"
    assert "crossed on" in section.sequential_caption


def test_captions_say_what_a_table_assumes(winner):
    caption = planning_caption(planning_results(winner))
    assert "80% power" in caption and "90 days" in caption
    looks = sequential_looks(winner, "winner")
    empty = dataclasses.replace(looks, table=looks.table.iloc[:0], crossed=False)
    assert "no customer's window is complete yet" in sequential_caption(empty)


def test_the_planning_line_says_how_many_customers_the_next_test_needs(winner):
    planning = planning_results(winner, lifts=(0.02, 0.05, 0.1))
    line = planning_line(planning, "revenue")
    customers = planning.table.set_index("metric").loc["revenue", "customers_for_0.05"]
    assert line.startswith("To detect a +5.0% change of revenue per customer, a test needs about")
    assert f"{customers:,.0f} customers in each variant" in line
    none_yet = dataclasses.replace(planning, table=planning.table.iloc[:0])
    assert planning_line(none_yet, "revenue") == ""
    pd.testing.assert_frame_equal(planning_table(winner, lifts=(0.02, 0.05, 0.1)), planning.table)
