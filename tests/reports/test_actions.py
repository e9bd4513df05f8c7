"""``<report>.actions.json``: what a report says to do, written by ``ctx.save_actions`` and read
back whole by the monthly summary; actions are checked when made and ranked by their money."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custkit.data.periods import ReportPeriod
from custkit.errors import ReportError
from custkit.reports.actions import (
    Action,
    UnreadableActions,
    actions_path,
    rank_actions,
    read_actions,
    write_actions,
)
from custkit.reports.context import ReportContext
from custkit.units import UNITS

actions_strategy = st.builds(
    Action,
    title=st.text(min_size=1).filter(str.strip),
    line=st.text(),
    value=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    unit=st.sampled_from(UNITS),
    export=st.none() | st.from_regex(r"[a-z][a-z0-9_.-]{0,20}", fullmatch=True),
    customers=st.none() | st.integers(0, 10**9),
)


@settings(max_examples=60, deadline=None)
@given(actions=st.lists(actions_strategy, max_size=5))
def test_actions_read_back_exactly_as_written(tmp_path_factory, actions):
    folder = tmp_path_factory.mktemp("actions")
    path = write_actions(folder, "churn", actions, period="2026-10", store="Shop")
    assert path == actions_path(folder, "churn") == folder / "churn.actions.json"
    expected = [Action(**{**a.to_dict(), "report": "churn"}) for a in actions]
    assert read_actions(path) == expected


def test_the_file_names_the_report_period_store_and_language(tmp_path):
    action = Action("Win back", "Line.", 1.5, export="winback_contacts", customers=3)
    write_actions(tmp_path, "churn", [action], period="2026-10", store="Shop", language="ru")
    document = json.loads((tmp_path / "churn.actions.json").read_text(encoding="utf-8"))
    assert {k: document[k] for k in ("format", "report", "period", "store", "language")} == {
        "format": 1,
        "report": "churn",
        "period": "2026-10",
        "store": "Shop",
        "language": "ru",
    }
    assert document["actions"] == [
        {
            "title": "Win back",
            "line": "Line.",
            "value": 1.5,
            "unit": "money",
            "export": "winback_contacts",
            "customers": 3,
            "report": "churn",
        }
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": " "}, "Action title must be a non-empty text. Got ' ' instead."),
        ({"value": math.nan}, "Action value must be a finite number or None. Got nan instead."),
        ({"value": math.inf}, "Action value must be a finite number or None. Got inf instead."),
        ({"value": "12"}, "Action value must be a finite number or None. Got '12' instead."),
        ({"value": True}, "Action value must be a finite number or None. Got True instead."),
        ({"unit": "rub"}, "Action unit must be one of ["),
        ({"export": "../contacts"}, "Action export must be the name of an export"),
        ({"export": "exports/list.csv"}, "Action export must be the name of an export"),
        ({"customers": -1}, "Action customers must be a count of 0 or more. Got -1 instead."),
    ],
)
def test_an_action_with_a_bad_field_is_refused_naming_it(fields, message):
    with pytest.raises(ValueError) as err:
        Action(**{"title": "Win back", "line": "Line.", "value": 1.0, **fields})
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "it is not valid JSON"),
        ('{"kpis": {}}', "it has no 'actions' list"),
        ('{"actions": [1]}', "action 1 is not a mapping"),
        ('{"actions": [{"title": "A", "line": "", "value": "x"}]}', "action 1: Action value"),
        ('{"actions": [{"line": "no title", "value": 1}]}', "action 1:"),
    ],
)
def test_a_damaged_actions_file_is_refused_saying_why(tmp_path, text, reason):
    path = tmp_path / "ltv.actions.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UnreadableActions, match=reason):
        read_actions(path)


@settings(max_examples=100, deadline=None)
@given(actions=st.lists(actions_strategy, max_size=8), n=st.integers(0, 5))
def test_ranking_puts_money_first_largest_first_and_keeps_at_most_n(actions, n):
    ranked = rank_actions(actions, n)
    assert len(ranked) == min(n, len(actions))
    money = [a for a in actions if a.unit == "money" and a.value is not None]
    expected = sorted(money, key=lambda a: -a.value)[:n]  # stable: ties keep their order
    assert [a.value for a in ranked[: len(expected)]] == [a.value for a in expected]
    assert all(a.unit != "money" or a.value is None for a in ranked[len(expected) :])


def _context(store, fake_params, folder) -> ReportContext:
    return ReportContext(
        report="ltv",
        store=store,
        params=fake_params(currency="RUB"),
        period=ReportPeriod.from_string("2026-10"),
        output_dir=folder,
    )


def test_save_actions_writes_the_reports_actions_beside_its_kpis(store, fake_params, tmp_path):
    ctx = _context(store, fake_params, tmp_path)
    ctx.export(store.orders[["customer_id"]], "value_at_risk")
    action = Action("Keep valuable customers", "Line.", 815_000.0, export="value_at_risk")

    assert ctx.save_actions([action]) is None  # nothing shown when it ends a cell

    document = json.loads((tmp_path / "ltv.actions.json").read_text(encoding="utf-8"))
    assert (document["period"], document["store"], document["currency"]) == (
        "2026-10",
        "Test store",
        "RUB",
    )
    assert read_actions(tmp_path / "ltv.actions.json") == [
        Action("Keep valuable customers", "Line.", 815_000.0, export="value_at_risk", report="ltv")
    ]


def test_save_actions_refuses_an_action_whose_list_was_not_exported(store, fake_params, tmp_path):
    ctx = _context(store, fake_params, tmp_path)
    with pytest.raises(ReportError) as err:
        ctx.save_actions([Action("Keep", "Line.", 1.0, export="value_at_risk")])
    assert "points to the export 'value_at_risk', which this run has not written" in str(err.value)
    assert not (tmp_path / "ltv.actions.json").exists()
