"""MBG/NBD against BTYDplus's published CDNOW parameters and lifetimes' ModifiedBetaGeoFitter."""

import warnings

import numpy as np
import pytest

from custkit.ltv import MBGNBD


@pytest.fixture(scope="module")
def model(cdnow_summary):
    return MBGNBD().fit(cdnow_summary)


def test_mbgnbd_reproduces_btydplus_cdnow_parameters(model):
    published = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
    assert {k: round(v, 3) for k, v in model.params_.items()} == published
    assert model.time_unit_ == "W" and model.n_customers_ == 2357


def test_mbgnbd_agrees_with_lifetimes(cdnow_summary, model):
    lifetimes = pytest.importorskip("lifetimes")
    s = cdnow_summary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = lifetimes.ModifiedBetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
        ref_pred = ref.conditional_expected_number_of_purchases_up_to_time(
            39, s["frequency"], s["recency"], s["T"]
        )
        ref_alive = ref.conditional_probability_alive(s["frequency"], s["recency"], s["T"])
        ref_uncond = ref.expected_number_of_purchases_up_to_time(np.array([1.0, 39.0, 78.0]))
    for name in ("r", "alpha", "a", "b"):
        assert model.params_[name] == pytest.approx(ref.params_[name], rel=5e-4)
    pred = model.predict_purchases(39, s["frequency"], s["recency"], s["T"])
    np.testing.assert_allclose(pred.to_numpy(), np.asarray(ref_pred), rtol=1e-3)
    alive = model.p_alive(s["frequency"], s["recency"], s["T"])
    np.testing.assert_allclose(alive.to_numpy(), np.asarray(ref_alive), rtol=1e-3)
    np.testing.assert_allclose(
        model.expected_purchases(np.array([1.0, 39.0, 78.0])), ref_uncond, rtol=1e-3
    )


def test_mbgnbd_one_time_buyers_may_have_left(model):
    assert model.p_alive(0, 0, 38.86) < 1.0


def test_mbgnbd_is_finite_for_large_frequency_and_age(model):
    pred = model.predict_purchases(39, 300, np.array([400.0, 500.0]), 500)
    alive = model.p_alive(300, np.array([400.0, 500.0]), 500)
    assert np.isfinite(pred).all() and np.isfinite(alive).all()
    assert alive[0] < 1e-10 < 0.99 < alive[1]


def test_predictions_stay_finite_and_continuous_when_a_and_b_run_very_large():
    x = np.array([0.0, 1.0, 5.0, 40.0])
    t_x = np.array([0.0, 10.0, 30.0, 50.0])
    big_t = np.array([20.0, 40.0, 60.0, 52.0])
    predictions = []
    for scale in (1e3, 1e4, 1e5):
        model = MBGNBD()
        model.params_ = {"r": 1.2, "alpha": 33.8, "a": 1.2 * scale, "b": 98.8 * scale}
        predictions.append(model.predict_purchases(52.0, x, t_x, big_t))
        assert np.isfinite(model.expected_purchases(52.0))
    assert np.all(np.isfinite(predictions))
    np.testing.assert_allclose(predictions[2], predictions[1], rtol=1e-3)
    np.testing.assert_allclose(predictions[1], predictions[0], rtol=1e-2)
