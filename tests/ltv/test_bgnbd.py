"""BG/NBD against Fader, Hardie & Lee (2005) on the CDNOW sample and against lifetimes."""

import warnings

import numpy as np
import pandas as pd
import pytest

from custkit.errors import ParamsError
from custkit.ltv import BGNBD


@pytest.fixture(scope="module")
def model(cdnow_summary):
    return BGNBD().fit(cdnow_summary)


def test_bgnbd_reproduces_fader_2005_parameters_and_total_log_likelihood(model):
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert {k: round(v, 3) for k, v in model.params_.items()} == published
    assert round(model.log_likelihood_, 1) == -9582.4
    assert model.n_customers_ == 2357
    assert model.time_unit_ == "W"
    assert model.converged_


def test_bgnbd_unconditional_expected_purchases_match_the_paper(model):
    got = model.expected_purchases(np.array([1.0, 3.0, 32.0]))
    np.testing.assert_array_equal(np.round(got, 4), [0.0532, 0.1506, 1.0437])
    # the paper prints 1.8576 for 78 weeks; its own parameters give 1.8580 here and in lifetimes
    assert model.expected_purchases(78.0) == pytest.approx(1.8576, abs=5e-4)


def test_bgnbd_conditional_prediction_and_p_alive_of_the_papers_customer(model):
    assert round(model.predict_purchases(39, 2, 30.43, 38.86), 3) == 1.226
    assert round(model.p_alive(2, 30.43, 38.86), 4) == 0.7266


def test_age_at_p_alive_inverts_p_alive(model):
    x = np.array([1.0, 2.0, 2.0, 10.0, 0.0])
    t_x = np.array([5.0, 30.43, 1.0, 20.0, 0.0])
    age = model.age_at_p_alive(0.3, x, t_x)
    np.testing.assert_allclose(model.p_alive(x[:4], t_x[:4], age[:4]), 0.3, rtol=1e-10)
    assert np.all(age[:4] > t_x[:4]) and np.isinf(age[4])  # one-time buyers never drop below
    # the paper's customer is at 0.7266 at T = 38.86: the 0.7266 crossing is at that age
    assert model.age_at_p_alive(0.7266, 2, 30.43) == pytest.approx(38.86, abs=0.02)
    with pytest.raises(ParamsError, match=r"p must be a float in the range \(0, 1\). Got 1"):
        model.age_at_p_alive(1, x, t_x)


def test_bgnbd_standard_errors_are_positive_and_intervals_cover_the_estimates(model):
    table = model.summary_
    assert list(table.columns) == ["coef", "se", "lower 95%", "upper 95%"]
    assert (table["se"] > 0).all()
    assert (table["lower 95%"] < table["coef"]).all() and (table["coef"] < table["upper 95%"]).all()


def test_bgnbd_agrees_with_lifetimes_to_three_significant_digits(cdnow_summary, model):
    lifetimes = pytest.importorskip("lifetimes")
    s = cdnow_summary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = lifetimes.BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
        ref_pred = ref.conditional_expected_number_of_purchases_up_to_time(
            39, s["frequency"], s["recency"], s["T"]
        )
        ref_alive = ref.conditional_probability_alive(s["frequency"], s["recency"], s["T"])
    for name in ("r", "alpha", "a", "b"):
        assert model.params_[name] == pytest.approx(ref.params_[name], rel=5e-4)
    pred = model.predict_purchases(39, s["frequency"], s["recency"], s["T"])
    np.testing.assert_allclose(pred.to_numpy(), np.asarray(ref_pred), rtol=1e-3)
    np.testing.assert_allclose(
        model.p_alive(s["frequency"], s["recency"], s["T"]).to_numpy(),
        np.asarray(ref_alive),
        rtol=1e-3,
    )


def test_bgnbd_predictions_are_finite_for_heavy_buyers_and_long_histories(model):
    x = np.array([0, 1, 50, 300, 300, 2000])
    t_x = np.array([0, 10, 400, 400, 500, 499])
    big_t = np.array([500, 500, 500, 500, 500, 500])
    pred = model.predict_purchases(39, x, t_x, big_t)
    alive = model.p_alive(x, t_x, big_t)
    assert np.isfinite(pred).all() and np.isfinite(alive).all()
    assert (pred >= 0).all() and ((alive >= 0) & (alive <= 1)).all()
    # bought 300 times, the last at T: alive and buying ~ 300/500 per week
    assert alive[4] > 0.99 and pred[4] == pytest.approx(39 * 300 / 500, rel=0.1)
    # same count but silent for 100 weeks: almost surely gone
    assert alive[3] < 1e-10
    assert np.isfinite(model.expected_purchases(np.array([1e-6, 1e3, 1e6]))).all()


def test_bgnbd_predictions_follow_the_index_of_series_input(model, cdnow_summary):
    s = cdnow_summary.iloc[:5]
    pred = model.predict_purchases(39, s["frequency"], s["recency"], s["T"])
    assert isinstance(pred, pd.Series) and pred.index.equals(s.index)
    assert isinstance(model.expected_purchases(np.array([1.0, 2.0])), np.ndarray)


def test_one_time_buyers_are_alive_under_bgnbd(model):
    assert model.p_alive(0, 0, 38.86) == 1.0


def _random_histories(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 730, n) / 7
    x = rng.poisson(rng.gamma(0.5, 6.0, n)).astype(float)
    t_x = np.where(x > 0, np.ceil(rng.uniform(0, 1, n) * T * 7) / 7, 0.0)
    frame = pd.DataFrame({"frequency": x, "recency": t_x, "T": T})
    frame.attrs["time_unit"] = "W"
    return frame


@pytest.mark.parametrize(
    "params", [(0.243, 4.414, 0.793, 2.426), (0.37, 0.9, 0.28, 1.55), (3.0, 40.0, 2.5, 0.3)]
)
@pytest.mark.parametrize("data", ["cdnow", "random"])
def test_bgnbd_weighted_likelihood_and_gradient_equal_the_per_row_sums(cdnow_summary, data, params):
    # the fit uses a fast path with the weights folded into per-x / per-T sums; the per-row
    # formulas are the reference
    summary = cdnow_summary if data == "cdnow" else _random_histories(7, 50_000)
    model = BGNBD()
    raw = [summary[c].to_numpy(np.float64) for c in ("frequency", "recency", "T")]
    columns, weights = model._compress(raw)
    prepared = model._prepare(*columns)
    values = np.array(params)
    total, gradient = model._weighted_log_likelihood(weights, *prepared)(values, True)
    rows = model._log_likelihood(values, *prepared)
    row_gradients = model._log_likelihood_gradient(values, *prepared)
    assert total == pytest.approx(float(weights @ rows), rel=1e-12)
    scale = np.abs(weights[:, None] * row_gradients).sum(axis=0)  # size of the summed terms
    np.testing.assert_allclose(gradient, weights @ row_gradients, rtol=0, atol=1e-12 * scale.max())
    assert model._weighted_log_likelihood(weights, *prepared)(values, False) == (total, None)


def test_bgnbd_predictions_on_many_rows_equal_row_by_row_exactly(model):
    # from 20,000 rows predict_purchases evaluates hyp2f1 once per distinct (x, T) pair
    summary = _random_histories(3, 30_000)
    x, t_x, T = (summary[c].to_numpy(np.float64) for c in ("frequency", "recency", "T"))
    x = x.copy()
    x[5] = np.nan
    whole = model.predict_purchases(52.0, x, t_x, T)
    by_chunk = np.concatenate(
        [
            model.predict_purchases(52.0, x[i : i + 1000], t_x[i : i + 1000], T[i : i + 1000])
            for i in range(0, len(x), 1000)
        ]
    )
    np.testing.assert_array_equal(whole, by_chunk)
    assert np.isnan(whole[5]) and np.isfinite(np.delete(whole, 5)).all()
    times = np.linspace(1.0, 104.0, len(x))  # a different t per row: fewer shared pairs
    np.testing.assert_array_equal(
        model.predict_purchases(times, x, t_x, T),
        np.concatenate(
            [
                model.predict_purchases(
                    times[i : i + 1000], x[i : i + 1000], t_x[i : i + 1000], T[i : i + 1000]
                )
                for i in range(0, len(x), 1000)
            ]
        ),
    )


def test_predictions_stay_finite_and_continuous_when_a_and_b_run_very_large():
    # stores where most customers buy once push a and b towards infinity at a fixed ratio;
    # the textbook formula then multiplies an overflowing 2F1 by a vanishing power
    x = np.array([0.0, 1.0, 5.0, 40.0])
    t_x = np.array([0.0, 10.0, 30.0, 50.0])
    big_t = np.array([20.0, 40.0, 60.0, 52.0])
    predictions = []
    for scale in (1e3, 1e4, 1e5):
        model = BGNBD()
        model.params_ = {"r": 1.2, "alpha": 33.8, "a": 1.2 * scale, "b": 98.8 * scale}
        predictions.append(model.predict_purchases(52.0, x, t_x, big_t))
        assert np.isfinite(model.expected_purchases(52.0))
    assert np.all(np.isfinite(predictions))
    np.testing.assert_allclose(predictions[2], predictions[1], rtol=1e-3)
    np.testing.assert_allclose(predictions[1], predictions[0], rtol=1e-2)


@pytest.mark.parametrize("a", [0.5, 1e3, 5e9])
@pytest.mark.parametrize("b", [2.0, 1e6, 1e13])
@pytest.mark.parametrize("shift", [0, 1])
def test_beta_ratio_of_the_likelihood_is_exact_for_any_a_and_b(a, b, shift):
    # betaln(a, b+x) − betaln(a, b) cancels catastrophically for large a and b (a fit running
    # them to 1e9 then chases rounding); the product Π (b+j)/(a+b+j) in exact rationals is the
    # reference
    from fractions import Fraction

    from custkit.ltv.bgnbd import _log_beta_ratio

    x = np.arange(6)
    value, d_a, d_b = _log_beta_ratio(a, b, x, shift)
    for k, got in zip(x + shift, value, strict=True):
        product = Fraction(1)
        for j in range(k):
            product *= (Fraction(b) + j) / (Fraction(a) + Fraction(b) + j)
        exact = np.log(float(product)) if product < 0.5 else np.log1p(float(product - 1))
        assert got == pytest.approx(exact, rel=1e-12, abs=1e-300)
    if a < 1e4 and b < 1e3:  # where digamma differences are accurate, they agree
        from scipy.special import digamma

        k = x + shift
        np.testing.assert_allclose(d_a, digamma(a + b) - digamma(a + b + k), rtol=1e-9, atol=1e-15)
        expected_b = digamma(b + k) - digamma(a + b + k) - digamma(b) + digamma(a + b)
        np.testing.assert_allclose(d_b, expected_b, rtol=1e-9, atol=1e-15)
