"""The store's own feedback reasons read as reason codes through params ``churn.reason_map``."""

import re

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from custkit.churn import REASON_CODES, classify_feedback, feedback_classifier_check
from custkit.churn.labels import check_reason_map, feedback_labels
from custkit.errors import DataError, ParamsError

STORE_MAP = {"Дорогая доставка": "delivery_cost", "Курьер опоздал": "delivery"}


def _feedback(reasons, texts=None):
    n = len(reasons)
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "created_at": pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(n), "D"),
            "text": texts if texts is not None else [None] * n,
            "reason": reasons,
        }
    )


def _suggested_map(error: DataError) -> dict:
    """The ``reason_map`` the error's "How to fix" proposes, read as the YAML it shows."""
    snippet = error.hint[error.hint.index("churn:") : error.hint.index("  Reason codes")]
    return yaml.safe_load(snippet)["churn"]["reason_map"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Дорогая доставка", "delivery_cost"),
        ("  дорогая   ДОСТАВКА ", "delivery_cost"),  # case and spaces do not matter
        ("Курьер опоздал", "delivery"),
        ("quality", "quality"),  # custkit's own codes need no entry
        (" Support ", "support"),
        (None, ""),
        ("", ""),
        ("   ", ""),
    ],
)
def test_store_reasons_are_read_through_the_reason_map(value, expected):
    labels = feedback_labels(_feedback([value, "forgot"]), STORE_MAP)
    assert labels.tolist() == [expected, "forgot"]


def test_a_categorical_reason_column_maps_like_text():
    frame = _feedback(pd.Categorical(["Курьер опоздал", None, "quality"]))
    assert feedback_labels(frame, STORE_MAP).tolist() == ["delivery", "", "quality"]


def test_unmapped_store_reasons_stop_with_the_reason_map_lines_to_add():
    frame = _feedback(["Дорогая доставка"] * 3 + ["Курьер опоздал", "quality"])
    with pytest.raises(DataError) as caught:
        feedback_labels(frame)
    message = str(caught.value)
    assert "table 'feedback', column 'reason'" in message
    assert "4 rows" in message and "'Дорогая доставка' (3 rows)" in message
    assert "'Курьер опоздал' (1 row)" in message and "'quality'" not in message
    assert "churn:\n    reason_map:" in message
    assert _suggested_map(caught.value) == STORE_MAP  # guessed from the keyword lists


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20),
        min_size=1,
        max_size=10,
        unique_by=lambda v: " ".join(v.split()).casefold(),
    )
)
@example(["a\u2028b", "x: y", "yes", "123", "#x", "'quoted'"])  # YAML line breaks, syntax, bools
def test_the_suggested_reason_map_is_valid_yaml_that_maps_every_store_reason(values):
    frame = _feedback(values)
    try:
        feedback_labels(frame)
    except DataError as exc:
        suggested = _suggested_map(exc)
        labels = feedback_labels(frame, suggested)
        assert set(labels) <= {*REASON_CODES, ""}
        assert (labels != "").sum() == sum(bool(v.split()) for v in values)
    else:  # only codes and blanks
        assert all(" ".join(v.split()).casefold() in {*REASON_CODES, ""} for v in values)


@pytest.mark.parametrize(
    ("reason_map", "match"),
    [
        (["delivery"], "must map the store's feedback reasons"),
        ("Дорогая доставка=delivery_cost", "must map the store's feedback reasons"),
        ({"Дорого": "delivery_costs"}, "Did you mean 'delivery_cost'"),
        ({"Дорого": "other"}, re.escape("must be one of the reason codes")),
        ({"Дорого": 3}, "Got 3 instead"),
        ({"": "quality"}, "must not have an empty key"),
        ({"Дорого": "quality", " дорого": "delivery_cost"}, "differing only in case"),
    ],
)
def test_a_malformed_reason_map_is_refused_with_the_fix(reason_map, match):
    with pytest.raises(ParamsError, match=match):
        check_reason_map(reason_map)


def test_equal_keys_that_differ_in_case_may_map_to_the_same_code():
    assert check_reason_map({"Дорого": "quality", "ДОРОГО ": "Quality"}) == {"дорого": "quality"}


def test_classify_feedback_keeps_mapped_store_labels_and_names_the_option_without_them():
    frame = _feedback(
        ["Дорогая доставка", "Курьер опоздал", None],
        ["доставка стоит 500 рублей", "курьер не приехал", "Курьер опоздал на два дня"],
    )
    with pytest.raises(DataError, match="reason_map"):
        classify_feedback(frame)
    with pytest.warns(UserWarning, match="labelled texts"):
        out = classify_feedback(frame, reason_map=STORE_MAP)
    assert out["reason"].astype(str).tolist() == ["delivery_cost", "delivery", "delivery"]
    assert out["method"].tolist() == ["label", "label", "keywords"]


def test_the_classifier_check_reads_store_labels_through_the_map():
    rng = np.random.default_rng(0)
    words = {"Дорогая доставка": "доставка дорогая цена", "Курьер опоздал": "курьер опоздал"}
    reasons = rng.choice(list(words), 120)
    texts = [f"{words[r]} {i}" for i, r in enumerate(reasons)]
    frame = _feedback(list(reasons), texts)
    with pytest.raises(DataError, match="reason_map"):
        feedback_classifier_check(frame)
    evaluation = feedback_classifier_check(frame, reason_map=STORE_MAP)
    assert set(evaluation.per_reason.index) == {"delivery_cost", "delivery"}
