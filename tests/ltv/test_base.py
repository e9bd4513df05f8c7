"""The shared model machinery: validation, compression, diagnostics, save and load."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from custkit.errors import DataError, ParamsError
from custkit.ltv import BGNBD, BaseFitter, ConvergenceWarning, GammaGamma, NotFittedError


def _summary(frequency, recency, T, unit="W"):
    frame = pd.DataFrame({"frequency": frequency, "recency": recency, "T": T})
    frame.index = pd.Index(range(101, 101 + len(frame)), name="customer_id")
    frame.attrs["time_unit"] = unit
    return frame


@pytest.mark.parametrize("bad", [-1, float("nan"), "0.1", None, True])
def test_penalizer_outside_its_range_is_quoted_in_the_error(cdnow_summary, bad):
    with pytest.raises(ParamsError, match=rf"in the range \[0.0, inf\). Got {bad!r} instead"):
        BGNBD(penalizer=bad).fit(cdnow_summary)


def test_constructor_only_stores_parameters():
    model = BGNBD(penalizer=-5)
    assert model.penalizer == -5 and not hasattr(model, "params_")


@pytest.mark.parametrize(
    ("change", "column", "message"),
    [
        (lambda s: s.drop(columns="recency"), None, r"lacks the column\(s\) \['recency'\]"),
        (lambda s: s.assign(T=-1.0), "T", "negative"),
        (lambda s: s.assign(frequency=s["frequency"] + 0.5), "frequency", "not whole numbers"),
        (lambda s: s.assign(recency=s["T"] + 1), "recency", "recency is greater than T"),
        (lambda s: s.assign(frequency=0), "frequency", "no customer has a repeat purchase"),
        (lambda s: s.assign(recency=np.nan), "recency", "not finite"),
    ],
)
def test_bad_summaries_raise_data_errors_naming_column_and_customers(
    cdnow_summary, change, column, message
):
    with pytest.raises(DataError, match=message) as info:
        BGNBD().fit(change(cdnow_summary))
    if column is not None:
        assert info.value.column == column
        if "repeat" not in message:
            assert "customers 1, 2" in str(info.value)


def test_fit_returns_self_and_sets_fitted_attributes(cdnow_summary):
    model = BGNBD()
    assert model.fit(cdnow_summary) is model
    assert set(model.params_) == {"r", "alpha", "a", "b"}
    assert model.n_customers_ == 2357
    # compression: far fewer distinct (x, t_x, T) rows than customers
    assert model.n_distinct_rows_ < 1100
    assert len(model.data_fingerprint_) == 64
    assert model.summary_.attrs["time_unit"] == "W"


def test_fingerprint_depends_on_the_data_not_on_row_order(cdnow_summary):
    a = BGNBD().fit(cdnow_summary).data_fingerprint_
    b = BGNBD().fit(cdnow_summary.iloc[::-1]).data_fingerprint_
    c = BGNBD().fit(cdnow_summary.iloc[:-1]).data_fingerprint_
    assert a == b != c


def test_penalizer_shrinks_parameters_at_a_cost_in_likelihood(cdnow_summary):
    plain = BGNBD().fit(cdnow_summary)
    penalized = BGNBD(penalizer=0.1).fit(cdnow_summary)
    squares = [sum(v**2 for v in m.params_.values()) for m in (plain, penalized)]
    assert squares[1] < squares[0]
    assert penalized.log_likelihood_ < plain.log_likelihood_


def test_save_and_load_round_trip_as_json(cdnow_summary, tmp_path):
    model = BGNBD().fit(cdnow_summary)
    path = model.save(tmp_path / "bgnbd.json")
    payload = json.loads(path.read_text())
    assert payload["model"] == "BGNBD" and payload["time_unit"] == "W"
    assert payload["data_fingerprint"] == model.data_fingerprint_
    assert "custkit_version" in payload
    assert payload["log_likelihood"] == pytest.approx(-9582.43, abs=0.01)
    loaded = BaseFitter.load(path)
    assert type(loaded) is BGNBD
    assert loaded.params_ == model.params_
    assert loaded.time_unit_ == "W"
    pd.testing.assert_frame_equal(loaded.summary_, model.summary_, rtol=1e-9)
    assert loaded.p_alive(2, 30.43, 38.86) == model.p_alive(2, 30.43, 38.86)


def test_loading_a_file_of_another_model_raises(cdnow_summary, tmp_path):
    path = GammaGamma().fit(cdnow_summary).save(tmp_path / "gg.json")
    with pytest.raises(DataError, match="holds a GammaGamma model, not a BGNBD"):
        BGNBD.load(path)
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(DataError, match="cannot read a saved model"):
        BGNBD.load(tmp_path / "junk.json")


def test_predicting_before_fit_says_to_fit_first():
    with pytest.raises(NotFittedError, match=r"call fit\(summary\)"):
        BGNBD().p_alive(1, 1, 2)


def test_degenerate_data_warn_with_cause_and_fix():
    # every customer buys steadily up to T and never drops out: a runs to 0, the rest to infinity
    rng = np.random.default_rng(1)
    x = rng.poisson(10, 500)
    summary = _summary(x, np.where(x > 0, 50.0, 0.0), np.full(500, 50.0))
    with pytest.warns(ConvergenceWarning) as record:
        BGNBD().fit(summary)
    messages = " ".join(str(w.message) for w in record)
    assert "ran to a bound" in messages and "penalizer" in messages
    assert "not positive definite" in messages


def test_optimizer_stopping_early_warns_with_the_fix(cdnow_summary):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model = BGNBD().fit(cdnow_summary, maxiter=1)
    messages = [str(w.message) for w in record if w.category is ConvergenceWarning]
    assert any("without converging" in m and "Fix: pass fit(..., maxiter" in m for m in messages)
    assert not model.converged_


def test_a_summary_without_time_unit_warns_and_fit_accepts_one(cdnow_summary):
    bare = pd.DataFrame(
        cdnow_summary[["frequency", "recency", "T"]].to_numpy(),
        columns=["frequency", "recency", "T"],
    )
    with pytest.warns(UserWarning, match="time_unit='W'"):
        BGNBD().fit(bare)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert BGNBD().fit(bare, time_unit="D").time_unit_ == "D"
    with pytest.raises(ParamsError, match="Got 'weeks' instead"):
        BGNBD().fit(bare, time_unit="weeks")


def test_initial_params_with_unknown_names_are_rejected(cdnow_summary):
    with pytest.raises(ParamsError, match=r"unknown parameter\(s\) \['beta'\]"):
        BGNBD().fit(cdnow_summary, initial_params={"beta": 1.0})
    fitted = BGNBD().fit(cdnow_summary, initial_params={"r": 0.5, "b": 1.0})
    assert round(fitted.params_["r"], 3) == 0.243


def test_compression_gives_the_sorted_distinct_rows_and_their_counts():
    rng = np.random.default_rng(11)
    columns = [
        rng.integers(0, 30, 20_000).astype(float),
        rng.integers(0, 200, 20_000) / 7,
        rng.integers(0, 200, 20_000) / 7,
    ]
    distinct, counts = BaseFitter._compress(columns)
    expected, expected_counts = np.unique(np.column_stack(columns), axis=0, return_counts=True)
    np.testing.assert_array_equal(np.column_stack(distinct), expected)
    np.testing.assert_array_equal(counts, expected_counts)
