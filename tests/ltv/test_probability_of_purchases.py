"""P(exactly x purchases in t) of BG/NBD and Pareto/NBD against lifetimes on CDNOW parameters."""

import warnings

import numpy as np
import pandas as pd
import pytest

from custkit.errors import ParamsError
from custkit.ltv import BGNBD, ParetoNBD

BGNBD_CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PARETO_CDNOW = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
HORIZONS = [0.5, 1.0, 10.0, 39.0, 78.0]
HISTORIES = [(2, 30.43, 38.86), (0, 0.0, 38.86), (26, 30.86, 31.0), (5, 2.0, 39.0), (1, 1.0, 1.5)]


def _model(cls, params):
    model = cls()
    model.params_ = dict(params)
    return model


def _lifetimes(name, params):
    lifetimes = pytest.importorskip("lifetimes")
    fitter = getattr(lifetimes, name)()
    fitter.params_ = pd.Series(params)
    return fitter


@pytest.mark.parametrize("t", HORIZONS)
def test_bgnbd_new_customer_probabilities_match_lifetimes(t):
    ref = _lifetimes("BetaGeoFitter", BGNBD_CDNOW)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = [float(ref.probability_of_n_purchases_up_to_time(t, n)) for n in range(11)]
    got = _model(BGNBD, BGNBD_CDNOW).probability_of_purchases(np.arange(11), t)
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-15)


@pytest.mark.parametrize("t", HORIZONS)
@pytest.mark.parametrize("history", [None, *HISTORIES])
def test_pareto_nbd_probabilities_match_lifetimes_closed_form(t, history):
    ref = _lifetimes("ParetoNBDFitter", PARETO_CDNOW)
    model = _model(ParetoNBD, PARETO_CDNOW)
    x, t_x, age = history or (0.0, 0.0, 0.0)  # lifetimes: a new customer is one with T = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = [
            float(ref.conditional_probability_of_n_purchases_up_to_time(n, t, x, t_x, age))
            for n in range(11)
        ]
    if history is None:
        got = model.probability_of_purchases(np.arange(11), t)
    else:
        got = model.probability_of_purchases(np.arange(11), t, x, t_x, age)
    # lifetimes' closed form subtracts nearly equal terms: 1e-16 absolute at tiny probabilities
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-13)


@pytest.mark.parametrize(
    ("cls", "params"), [(BGNBD, BGNBD_CDNOW), (ParetoNBD, PARETO_CDNOW)], ids=["bgnbd", "pareto"]
)
@pytest.mark.parametrize("history", [None, *HISTORIES])
def test_probabilities_sum_to_one_and_their_mean_is_the_expected_purchases(cls, params, history):
    model = _model(cls, params)
    x = np.arange(800)
    if history is None:
        p = model.probability_of_purchases(x, 39.0)
        mean = model.expected_purchases(39.0)
    else:
        p = model.probability_of_purchases(x, 39.0, *history)
        mean = model.predict_purchases(39.0, *history)
    assert p.sum() == pytest.approx(1.0, abs=1e-9)
    assert float(x @ p) == pytest.approx(mean, rel=1e-8)
    assert (p >= 0).all()


@pytest.mark.parametrize("cls", [BGNBD, ParetoNBD])
def test_probabilities_are_aligned_to_the_customers_and_vectorised(cls, cdnow_summary):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cls().fit(cdnow_summary)
    s = cdnow_summary
    none = model.probability_of_purchases(0, 39.0, s["frequency"], s["recency"], s["T"])
    assert isinstance(none, pd.Series) and none.index.equals(s.index)
    one_by_one = [
        model.probability_of_purchases(0, 39.0, f, r, t)
        for f, r, t in s[["frequency", "recency", "T"]].to_numpy()[:5]
    ]
    np.testing.assert_allclose(none.to_numpy()[:5], one_by_one, rtol=1e-12)
    # with t = 0 nothing is bought
    assert model.probability_of_purchases(np.array([0, 1]), 0.0).tolist() == [1.0, 0.0]


@pytest.mark.parametrize("cls", [BGNBD, ParetoNBD])
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"x": 1.5, "t": 1.0}, "x must be whole numbers"),
        ({"x": -1, "t": 1.0}, "x must be whole numbers"),
        ({"x": 1, "t": -1.0}, "t must be periods >= 0"),
        ({"x": 1, "t": 1.0, "frequency": 2}, "frequency, recency and T together"),
    ],
)
def test_probability_of_purchases_rejects_bad_arguments(cls, kwargs, message):
    model = _model(cls, BGNBD_CDNOW if cls is BGNBD else PARETO_CDNOW)
    with pytest.raises(ParamsError, match=message):
        model.probability_of_purchases(**kwargs)
