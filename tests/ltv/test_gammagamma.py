"""Gamma-Gamma against Fader, Hardie & Lee (2005b) on the CDNOW sample and against lifetimes."""

import warnings

import numpy as np
import pandas as pd
import pytest

from custkit.errors import DataError
from custkit.ltv import GammaGamma
from custkit.ltv.base import ConvergenceWarning


@pytest.fixture(scope="module")
def model(cdnow_summary):
    return GammaGamma().fit(cdnow_summary)


def test_gamma_gamma_reproduces_published_cdnow_parameters_on_946_repeat_buyers(model):
    assert model.n_customers_ == 946
    assert round(model.params_["p"], 2) == 6.25
    assert round(model.params_["q"], 2) == 3.74
    assert round(model.params_["v"], 2) == 15.44


def test_population_mean_spend_is_35_17_and_is_the_spend_of_a_customer_without_repeats(model):
    p, q, v = (model.params_[k] for k in ("p", "q", "v"))
    assert model.expected_spend(0, 0.0) == pytest.approx(p * v / (q - 1))
    assert round(model.expected_spend(0, 123.0), 2) == 35.17
    assert round(model.population_mean_spend(), 2) == 35.17


def test_gamma_gamma_agrees_with_lifetimes(cdnow_summary, model):
    lifetimes = pytest.importorskip("lifetimes")
    repeat = cdnow_summary[cdnow_summary["frequency"] > 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = lifetimes.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
        ref_spend = ref.conditional_expected_average_profit(
            cdnow_summary["frequency"], cdnow_summary["monetary_value"]
        )
    for name in ("p", "q", "v"):
        assert model.params_[name] == pytest.approx(ref.params_[name], rel=5e-4)
    spend = model.expected_spend(cdnow_summary["frequency"], cdnow_summary["monetary_value"])
    assert isinstance(spend, pd.Series) and spend.index.equals(cdnow_summary.index)
    np.testing.assert_allclose(spend.to_numpy(), np.asarray(ref_spend), rtol=1e-3)


def test_expected_spend_shrinks_towards_the_population_mean(model):
    few, many = model.expected_spend(np.array([1, 50]), np.array([100.0, 100.0]))
    assert model.population_mean_spend() < few < many < 100.0


def test_gamma_gamma_rejects_repeat_buyers_with_negative_spend_naming_them(cdnow_summary):
    broken = cdnow_summary.copy()
    broken.loc[1, "monetary_value"] = -5.0
    with pytest.raises(DataError, match=r"column 'monetary_value'.*customers 1\b"):
        GammaGamma().fit(broken)


def test_gamma_gamma_needs_repeat_buyers(cdnow_summary):
    with pytest.raises(DataError, match="no customer has a repeat purchase"):
        GammaGamma().fit(cdnow_summary.assign(frequency=0))


def _spread_out_spend(seed=3, n=4000):
    # spend so spread out (log-normal, sigma 2 across customers) that q falls below 1
    rng = np.random.default_rng(seed)
    frequency = rng.integers(0, 4, n).astype(float)
    monetary = np.where(frequency > 0, np.exp(rng.normal(6, 2, n)), 0.0)
    return pd.DataFrame({"frequency": frequency, "monetary_value": monetary})


def test_customers_get_their_own_average_shrunk_to_the_median_when_q_is_below_one():
    summary = _spread_out_spend()
    frequency, monetary = summary["frequency"].to_numpy(), summary["monetary_value"].to_numpy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = GammaGamma().fit(summary)
    assert model.params_["q"] < 1 and not model.mean_defined_
    assert "mean_undefined" in model.fit_issues_
    message = model.fit_messages_[model.fit_issues_.index("mean_undefined")]
    assert any(str(w.message) == message for w in caught)
    assert "infinite" in message and "median" in message
    repeat = frequency > 0
    median = np.median(monetary[repeat])
    assert model.median_repeat_spend_ == pytest.approx(median)
    spend = model.expected_spend(frequency, monetary)
    expected = (frequency * monetary + median) / (frequency + 1)
    np.testing.assert_allclose(spend, expected, rtol=1e-12)
    assert spend[frequency == 0] == pytest.approx(median)
    lifetimes_name = model.conditional_expected_average_profit(frequency, monetary)
    np.testing.assert_allclose(lifetimes_name, spend)
    assert model.population_mean_spend() == np.inf


def test_saved_model_keeps_the_fallback_spend(tmp_path):
    with pytest.warns(ConvergenceWarning):
        model = GammaGamma().fit(_spread_out_spend(), time_unit="W")
    loaded = GammaGamma.load(model.save(tmp_path / "gg.json"))
    assert loaded.median_repeat_spend_ == model.median_repeat_spend_
    assert loaded.mean_defined_ is False and loaded.fit_issues_ == model.fit_issues_
    assert loaded.expected_spend(0.0, 0.0) == pytest.approx(model.median_repeat_spend_)


@pytest.mark.parametrize("params", [(6.25, 3.74, 15.44), (6.05, 4.39, 1975.0), (0.5, 20.0, 100.0)])
def test_gamma_gamma_weighted_likelihood_and_gradient_equal_the_per_row_sums(cdnow_summary, params):
    # the fit folds the weights into sums computed once; the per-row formulas are the reference
    model = GammaGamma()
    frame = model._select_rows(cdnow_summary)
    raw = [frame[c].to_numpy(np.float64) for c in ("frequency", "monetary_value")]
    columns, weights = model._compress(raw)
    prepared = model._prepare(*columns)
    values = np.array(params)
    total, gradient = model._weighted_log_likelihood(weights, *prepared)(values, True)
    row_gradients = model._log_likelihood_gradient(values, *prepared)
    assert total == pytest.approx(float(weights @ model._log_likelihood(values, *prepared)), 1e-12)
    scale = np.abs(weights[:, None] * row_gradients).sum(axis=0)
    np.testing.assert_allclose(gradient, weights @ row_gradients, rtol=0, atol=1e-12 * scale.max())


@pytest.fixture(scope="module")
def master_summary():
    from custkit.datasets import load_cdnow
    from custkit.ltv import summarize

    return summarize(load_cdnow("master"), as_of="1998-06-30", time_unit="W")


def test_cdnow_master_fits_without_its_free_repeat_buyer_and_counts_him(master_summary):
    s = master_summary
    assert s.loc[10244, "frequency"] > 0 and s.loc[10244, "monetary_value"] == 0
    with pytest.warns(UserWarning, match=r"customers 10244\)"):
        model = GammaGamma().fit(s)
    assert model.n_zero_value_excluded_ == 1
    assert model.n_customers_ == int((s["frequency"] > 0).sum()) - 1
    assert model.usable_ and model.mean_defined_ and model.fit_issues_ == ()
    spend = model.expected_spend(s["frequency"], s["monetary_value"])
    assert np.isfinite(spend).all() and (spend > 0).all()
    # the same fit as lifetimes' on the repeat buyers with positive spend
    lifetimes = pytest.importorskip("lifetimes")
    kept = s.loc[(s["frequency"] > 0) & (s["monetary_value"] > 0)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = lifetimes.GammaGammaFitter().fit(kept["frequency"], kept["monetary_value"])
    for ours, theirs in zip(("p", "q", "v"), ("p", "q", "v"), strict=True):
        assert model.params_[ours] == pytest.approx(ref.params_[theirs], rel=1e-3)


@pytest.mark.parametrize("n_free", [1, 3, 20])
def test_zero_value_repeat_buyers_are_left_out_and_counted(cdnow_summary, n_free):
    s = cdnow_summary.copy()
    free = s.index[s["frequency"] > 0][:n_free]
    s.loc[free, "monetary_value"] = 0.0
    with pytest.warns(UserWarning, match=f"{n_free} repeat buyer"):
        model = GammaGamma().fit(s)
    without = GammaGamma().fit(s.drop(index=free))
    assert model.n_zero_value_excluded_ == n_free and without.n_zero_value_excluded_ == 0
    assert model.params_ == without.params_ and model.n_customers_ == 946 - n_free
    assert np.isfinite(model.expected_spend(s.loc[free, "frequency"], 0.0)).all()


def test_a_summary_whose_repeat_buyers_all_paid_nothing_is_refused(cdnow_summary):
    s = cdnow_summary.assign(monetary_value=0.0)
    with pytest.raises(DataError, match="no repeat buyer has a positive mean purchase value"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            GammaGamma().fit(s)


def test_cdnow_master_runs_through_customer_value(master_summary):
    import custkit as ck
    from custkit.datasets import load_cdnow
    from custkit.ltv import customer_value

    orders = load_cdnow("master")
    as_of = pd.Timestamp("1998-06-30")
    reductions = ck.reduce_orders(orders, as_of, customer_days=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = customer_value(orders, as_of, "BG/NBD", reductions, horizons_months=[12])
    clv = value.clv["clv"]
    assert len(clv) == orders["customer_id"].nunique() and np.isfinite(clv).all()
    assert clv.loc[10244] >= 0 and value.spend_model.mean_defined_
