"""Pareto/NBD: the likelihood and predictions against Fader, Hardie & Lee (2005) and lifetimes."""

from __future__ import annotations

import importlib.util
import itertools
import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import IntegrationWarning, quad
from scipy.special import gammaln, logsumexp

from custkit.ltv import paretonbd as pnbd
from custkit.ltv.paretonbd import ParetoNBD

PUBLISHED = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
PUBLISHED_PARAMS = tuple(PUBLISHED.values())
PUBLISHED_LOG_LIKELIHOOD = -9595.0


def _cdnow_sample_path() -> str:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or spec.origin is None:
        pytest.skip("lifetimes (dev extra) is not installed: it ships the CDNOW sample")
    return os.path.join(os.path.dirname(spec.origin), "datasets", "CDNOW_sample.txt")


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    """CDNOW sample calibration summary as in the papers, built here from the raw file.

    Calibration to 1997-09-30, time in weeks (days / 7), same-day purchases merged, frequency
    = repeat purchase days.
    """
    raw = pd.read_csv(
        _cdnow_sample_path(),
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "value"],
        dtype={"date": str},
    )
    day = pd.to_datetime(raw["date"], format="%Y%m%d")
    end = pd.Timestamp("1997-09-30")
    days = (
        pd.DataFrame({"customer_id": raw["customer_id"], "day": day})
        .loc[day <= end]
        .drop_duplicates()
    )
    per_customer = days.groupby("customer_id")["day"].agg(["count", "min", "max"])
    summary = pd.DataFrame(
        {
            "frequency": per_customer["count"] - 1,
            "recency": (per_customer["max"] - per_customer["min"]).dt.days / 7,
            "T": (end - per_customer["min"]).dt.days / 7,
        }
    )
    summary.attrs["time_unit"] = "W"
    return summary


@pytest.fixture(scope="module")
def fitted(cdnow_summary: pd.DataFrame) -> ParetoNBD:
    return ParetoNBD().fit(cdnow_summary)


def _columns(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))


def _lifetimes_at_published_params():
    lifetimes = pytest.importorskip("lifetimes")
    fitter = lifetimes.ParetoNBDFitter()
    fitter.params_ = pd.Series(PUBLISHED)
    return fitter


def _log_likelihood_by_quadrature(params, x, t_x, T) -> float:
    """Eq. (18) with A0 as its defining integral, integrated numerically on geometric pieces."""
    r, alpha, s, beta = params

    def log_integrand(tau):
        return -(r + x) * np.log(alpha + tau) - (s + 1) * np.log(beta + tau)

    scale = log_integrand(t_x)
    log_dead = -np.inf
    if T > t_x:
        edges = np.unique(np.r_[t_x, t_x + np.geomspace(1e-7, T - t_x, 40)])
        with warnings.catch_warnings():  # quad doubts its last digits near 1e-13; fine here
            warnings.simplefilter("ignore", IntegrationWarning)
            integral = sum(
                quad(
                    lambda tau: np.exp(log_integrand(tau) - scale), lo, hi, epsrel=1e-13, epsabs=0
                )[0]
                for lo, hi in itertools.pairwise(edges)
            )
        log_dead = np.log(s) + np.log(integral) + scale
    log_alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    return float(common + np.logaddexp(log_alive, log_dead))


def _log_hyp2f1_by_long_series(a: float, b: float, z: float, terms: int = 2_000_000) -> float:
    """log 2F1(a, b; a + 1; z) summed term by term after Euler's transformation (reference)."""
    n = np.arange(terms, dtype=float)
    log_ratios = np.log(z) + np.log(a + 1 - b + n) - np.log(a + 1 + n)
    log_terms = np.concatenate([[0.0], np.cumsum(log_ratios)[:-1]])
    return float((1 - b) * np.log1p(-z) + logsumexp(log_terms))


def _simulate(n: int, r: float, alpha: float, s: float, beta: float, seed: int) -> pd.DataFrame:
    """Pareto/NBD customers in days, first purchases over 12 weeks, calibration of 39 weeks."""
    rng = np.random.default_rng(seed)
    end = 273
    age_days = end - rng.integers(0, 84, n)
    rate = rng.gamma(r, 1 / alpha, n)
    death_rate = rng.gamma(s, 1 / beta, n)
    alive_days = np.minimum(rng.exponential(1 / death_rate) * 7, age_days)
    x = rng.poisson(rate * alive_days / 7)
    last = alive_days * rng.random(n) ** (1 / np.maximum(x, 1))
    recency_days = np.where(x > 0, np.clip(np.ceil(last), 1, age_days), 0)
    summary = pd.DataFrame({"frequency": x, "recency": recency_days / 7, "T": age_days / 7})
    summary.attrs["time_unit"] = "W"
    return summary


# ---------------------------------------------------------------------- the mathematics


def test_cdnow_calibration_summary_has_the_papers_counts(cdnow_summary):
    assert len(cdnow_summary) == 2357
    assert cdnow_summary["frequency"].sum() == 2457


def test_log_likelihood_at_published_parameters_is_fader_2005_value(cdnow_summary):
    total = pnbd._log_likelihood(PUBLISHED_PARAMS, *_columns(cdnow_summary))
    assert total == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, abs=0.05)


def test_weighted_log_likelihood_equals_sum_over_customers(cdnow_summary):
    x, t_x, T = _columns(cdnow_summary)
    rows, counts = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    weighted = pnbd._log_likelihood(PUBLISHED_PARAMS, *rows.T, weights=counts)
    assert weighted == pytest.approx(pnbd._log_likelihood(PUBLISHED_PARAMS, x, t_x, T), rel=1e-12)


def test_p_alive_of_the_x26_customer_is_published_0_9979():
    assert pnbd._p_alive(PUBLISHED_PARAMS, 26, 30.86, 31) == pytest.approx(0.9979, abs=5e-5)


def test_predictions_agree_with_lifetimes_on_cdnow_to_4_digits(cdnow_summary):
    lifetimes_model = _lifetimes_at_published_params()
    x, t_x, T = _columns(cdnow_summary)
    for t in (1.0, 10.0, 39.0, 78.0):
        ours = pnbd._conditional_expected_purchases(PUBLISHED_PARAMS, t, x, t_x, T)
        theirs = lifetimes_model.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T)
        np.testing.assert_allclose(ours, theirs, rtol=1e-4)
    np.testing.assert_allclose(
        pnbd._p_alive(PUBLISHED_PARAMS, x, t_x, T),
        lifetimes_model.conditional_probability_alive(x, t_x, T),
        rtol=1e-4,
    )
    t = np.array([1.0, 3.0, 32.0, 78.0])
    np.testing.assert_allclose(
        pnbd._expected_purchases(PUBLISHED_PARAMS, t),
        lifetimes_model.expected_number_of_purchases_up_to_time(t),
        rtol=1e-4,
    )


def test_individual_log_likelihood_agrees_with_lifetimes_on_cdnow(cdnow_summary):
    lifetimes_model = _lifetimes_at_published_params()
    x, t_x, T = _columns(cdnow_summary)
    np.testing.assert_allclose(
        pnbd._individual_log_likelihood(PUBLISHED_PARAMS, x, t_x, T),
        lifetimes_model._conditional_log_likelihood(PUBLISHED_PARAMS, x, t_x, T),
        rtol=1e-10,
    )


EXTREME_HISTORIES = [
    (0, 0.0, 31.0),  # one-time buyer
    (0, 0.0, 0.01),  # brand new
    (1, 0.1, 31.0),
    (26, 30.86, 31.0),
    (300, 20.0, 500.0),  # heavy buyer who stopped long ago
    (300, 499.0, 500.0),
    (300, 0.01, 30.0),
    (5, 0.0, 500.0),  # t_x = 0
    (10, 10.0, 10.0),  # t_x = T: A0 = 0
]
PARAMETER_GRID = list(
    itertools.product([0.05, 0.55, 5.0], [0.01, 10.578, 100.0], [0.05, 1.0, 3.0], [0.01, 11.669])
)


def test_log_likelihood_is_finite_for_extreme_histories_and_parameters():
    x, t_x, T = (np.array(column, dtype=float) for column in zip(*EXTREME_HISTORIES, strict=True))
    for params in [*PARAMETER_GRID, (0.5, 7.0, 0.6, 7.0)]:  # last: alpha == beta
        with np.errstate(divide="raise", invalid="raise"):
            ll = pnbd._individual_log_likelihood(params, x, t_x, T)
            p_alive = pnbd._p_alive(params, x, t_x, T)
            expected = pnbd._conditional_expected_purchases(params, 52.0, x, t_x, T)
        assert np.isfinite(ll).all(), params
        assert ((p_alive >= 0) & (p_alive <= 1)).all(), params
        assert (np.isfinite(expected) & (expected >= 0)).all(), params


def test_log_likelihood_matches_quadrature_of_the_a0_integral():
    for params in PARAMETER_GRID[::3]:
        for x, t_x, T in EXTREME_HISTORIES:
            ours = pnbd._individual_log_likelihood(params, x, t_x, T)[0]
            reference = _log_likelihood_by_quadrature(params, x, t_x, T)
            assert ours == pytest.approx(reference, rel=1e-9, abs=1e-9), (params, x, t_x, T)


@pytest.mark.parametrize(
    ("a", "b", "z"),
    [
        (306.606, 1.606, 0.999),  # scipy.special.hyp2f1(1, 305, 306.606, 0.999) is NaN
        (309.0, 4.0, 0.905),
        (1.2, 0.5, 0.9999),  # b < 1: one-time buyer with r < 1 and alpha << beta
        (0.1, 1.05, 0.9999),
        (3.0, 2.0, 0.98),
        (1.16, 0.553, 0.5),
    ],
)
def test_log_hyp2f1_is_exact_where_scipy_fails(a, b, z):
    ours = pnbd._log_hyp2f1_a_b_a1(a, b, z)[0]
    assert ours == pytest.approx(_log_hyp2f1_by_long_series(a, b, z), rel=1e-10, abs=1e-10)


def test_log_likelihood_is_continuous_across_alpha_equal_beta(cdnow_summary):
    x, t_x, T = _columns(cdnow_summary)
    equal = pnbd._log_likelihood((0.55, 11.0, 0.6, 11.0), x, t_x, T)
    for beta in (11.0 * (1 - 1e-9), 11.0 * (1 + 1e-9)):
        assert pnbd._log_likelihood((0.55, 11.0, 0.6, beta), x, t_x, T) == pytest.approx(
            equal, abs=1e-5
        )


def test_expected_purchases_are_continuous_at_s_equal_one():
    t = np.array([1.0, 39.0, 520.0])
    at_one = pnbd._expected_purchases((0.5, 10.0, 1.0, 12.0), t)
    near_one = pnbd._expected_purchases((0.5, 10.0, 1.0 + 1e-7, 12.0), t)
    np.testing.assert_allclose(at_one, near_one, rtol=1e-6)


# ---------------------------------------------------------------------- the estimator


def test_fit_reproduces_fader_2005_parameters_on_cdnow(fitted):
    assert round(fitted.params_["r"], 3) == PUBLISHED["r"]
    assert round(fitted.params_["alpha"], 3) == PUBLISHED["alpha"]
    assert round(fitted.params_["s"], 3) == PUBLISHED["s"]
    # beta is weakly identified (flat likelihood): compare loosely, the likelihood tightly
    assert fitted.params_["beta"] == pytest.approx(PUBLISHED["beta"], rel=0.02)
    assert fitted.log_likelihood_ == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, abs=0.1)


def test_fit_stores_time_unit_uncertainty_and_compression(fitted, cdnow_summary):
    assert fitted.time_unit_ == "W"
    assert fitted.converged_
    assert fitted.n_customers_ == 2357
    assert fitted.n_distinct_rows_ < len(cdnow_summary)
    assert list(fitted.summary_.index) == ["r", "alpha", "s", "beta"]
    assert all(np.isfinite(v) and v > 0 for v in fitted.standard_errors_.values())
    lower, upper = fitted.confidence_intervals_.loc["beta"]
    assert lower < fitted.params_["beta"] < upper


def test_fit_returns_self_and_refits_on_new_data(cdnow_summary):
    model = ParetoNBD()
    assert model.fit(cdnow_summary) is model
    half = cdnow_summary.iloc[::2].copy()
    half.attrs["time_unit"] = "W"
    model.fit(half)
    params = tuple(model.params_.values())
    assert model.log_likelihood_ == pytest.approx(
        pnbd._log_likelihood(params, *_columns(half)), rel=1e-10
    )


def test_predictions_are_aligned_to_the_summary_index(fitted, cdnow_summary):
    frequency, recency, T = (cdnow_summary[c] for c in ("frequency", "recency", "T"))
    p_alive = fitted.p_alive(frequency, recency, T)
    expected = fitted.predict_purchases(39.0, frequency, recency, T)
    assert isinstance(p_alive, pd.Series) and p_alive.index.equals(cdnow_summary.index)
    assert isinstance(expected, pd.Series) and expected.index.equals(cdnow_summary.index)
    assert ((p_alive > 0) & (p_alive <= 1)).all()
    assert (expected > 0).all()
    assert fitted.predict_purchases(0.0, 3, 20.0, 30.0) == 0.0
    assert fitted.p_alive(26, 30.86, 31) == pytest.approx(0.9979, abs=5e-4)


def test_unconditional_expected_purchases_grow_with_the_horizon(fitted):
    expected = fitted.expected_purchases(np.array([1.0, 3.0, 32.0, 78.0]))
    assert np.all(np.diff(expected) > 0)
    assert isinstance(fitted.expected_purchases(52.0), float)


def test_saved_model_predicts_the_same_after_load(fitted, tmp_path):
    loaded = ParetoNBD.load(fitted.save(tmp_path / "paretonbd.json"))
    assert loaded.params_ == fitted.params_
    assert loaded.time_unit_ == "W"
    assert loaded.p_alive(2, 30.43, 38.86) == fitted.p_alive(2, 30.43, 38.86)


def test_fit_on_simulated_customers_recovers_the_parameters():
    truth = {"r": 0.8, "alpha": 8.0, "s": 0.7, "beta": 12.0}
    model = ParetoNBD().fit(_simulate(20_000, *truth.values(), seed=7))
    intervals = model.confidence_intervals_
    for name, value in truth.items():
        assert intervals.loc[name, "lower 95%"] < value < intervals.loc[name, "upper 95%"], name


# ---------------------------------------------------------------------- speed without new numbers
def _pair_index_by_sorting(x, t_x, T):
    """The pair index as main built it before issue 15 (``numpy.unique(axis=0)``): reference."""
    n = x.shape[0]
    pairs = np.stack([np.concatenate([x, x]), np.concatenate([t_x, T])], axis=1)
    distinct, inverse = np.unique(pairs, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    return distinct[:, 0].copy(), distinct[:, 1].copy(), inverse[:n], inverse[n:]


_small_times = st.sampled_from([0.0, 0.5, 1.0, 2.25, 7.0, 30.86, 31.0, 39.0])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), _small_times, _small_times), min_size=1, max_size=40))
def test_pair_index_finds_each_rows_pairs_as_sorting_did(rows):
    x, t_x, T = (np.array(column, dtype=float) for column in zip(*rows, strict=True))
    pair_x, pair_t, at_t_x, at_T = pnbd._pair_index(x, t_x, T)
    # each row points at its own pairs, and each distinct pair appears once
    np.testing.assert_array_equal(pair_x[at_t_x], x)
    np.testing.assert_array_equal(pair_t[at_t_x], t_x)
    np.testing.assert_array_equal(pair_x[at_T], x)
    np.testing.assert_array_equal(pair_t[at_T], T)
    reference = _pair_index_by_sorting(x, t_x, T)
    assert len(pair_x) == len(reference[0])
    assert len(set(zip(pair_x, pair_t, strict=True))) == len(pair_x)


def test_likelihood_and_p_alive_are_the_numbers_the_sorted_pair_index_gave(cdnow_summary):
    x, t_x, T = _columns(cdnow_summary)
    for params in (PUBLISHED_PARAMS, (2.5, 55.8, 123.3, 528_907.9), (0.3, 2.0, 0.2, 90.0)):
        hashed = pnbd._individual_log_likelihood(params, x, t_x, T)
        pairs = _pair_index_by_sorting(x, t_x, T)
        sorted_ = pnbd._individual_log_likelihood(params, x, t_x, T, pairs)
        np.testing.assert_allclose(hashed, sorted_, rtol=1e-12, atol=0)


@pytest.mark.parametrize("params", [PUBLISHED_PARAMS, (2.5, 55.8, 123.3, 528_907.9)])
def test_predictions_for_a_column_of_horizons_equal_one_horizon_at_a_time(cdnow_summary, params):
    x, t_x, T = _columns(cdnow_summary)
    horizons = np.arange(1.0, 13.0) * 4.348
    together = pnbd._conditional_expected_purchases(
        params, horizons[:, None], x[None], t_x[None], T[None]
    )
    assert together.shape == (len(horizons), len(x))
    for row, horizon in zip(together, horizons, strict=True):
        alone = pnbd._conditional_expected_purchases(params, horizon, x, t_x, T)
        np.testing.assert_allclose(row, alone, rtol=1e-12, atol=0)
