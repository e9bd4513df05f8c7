"""Fit diagnostics in the open: issue codes, messages, usability, and the penalised fallback."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from custkit.errors import ParamsError
from custkit.ltv import (
    BGNBD,
    ISSUE_CODES,
    MBGNBD,
    BaseFitter,
    ConvergenceWarning,
    GammaGamma,
    ParetoNBD,
    fit_with_fallback,
)


def _summary(frequency, recency, T, unit="W"):
    frame = pd.DataFrame({"frequency": frequency, "recency": recency, "T": T})
    frame.index = pd.Index(range(101, 101 + len(frame)), name="customer_id")
    frame.attrs["time_unit"] = unit
    return frame


def _never_dropping_out(n=500, seed=1):
    # every customer buys steadily up to T and never drops out: a runs to 0, the rest to infinity
    rng = np.random.default_rng(seed)
    x = rng.poisson(10, n)
    return _summary(x, np.where(x > 0, 50.0, 0.0), np.full(n, 50.0))


def _fit_quietly(model, summary, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(summary, **kwargs)
    return model, [str(w.message) for w in caught if w.category is ConvergenceWarning]


@pytest.mark.parametrize("cls", [BGNBD, MBGNBD, ParetoNBD, GammaGamma])
def test_a_clean_fit_has_no_issues_and_is_usable(cdnow_summary, cls):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = cls().fit(cdnow_summary)
    assert model.fit_issues_ == () and model.fit_messages_ == ()
    assert model.usable_ is True and model.penalizer_used_ == 0.0


def test_a_fit_that_runs_to_a_bound_is_not_usable_and_says_why():
    model, warned = _fit_quietly(BGNBD(), _never_dropping_out())
    assert "at_bound" in model.fit_issues_ and "se_undefined" in model.fit_issues_
    assert not model.usable_
    assert set(model.fit_issues_) <= set(ISSUE_CODES)
    assert len(model.fit_messages_) == len(model.fit_issues_)
    # the messages are the warnings' texts, each with a fix
    assert list(model.fit_messages_) == warned
    assert all("Fix:" in m for m in model.fit_messages_)


def test_an_optimizer_stopped_early_is_not_converged_and_not_usable(cdnow_summary):
    model, warned = _fit_quietly(BGNBD(), cdnow_summary, maxiter=1)
    assert "not_converged" in model.fit_issues_ and not model.usable_
    assert any("without converging" in m for m in warned)


def test_a_penalised_fit_says_so_without_warning_and_stays_usable(cdnow_summary):
    model, warned = _fit_quietly(BGNBD(penalizer=0.01), cdnow_summary)
    assert model.fit_issues_ == ("penalized",) and model.penalizer_used_ == 0.01
    assert model.usable_ and warned == []


@pytest.mark.parametrize("cls", [BGNBD, GammaGamma])
def test_save_and_load_keep_the_diagnostics(cdnow_summary, tmp_path, cls):
    model, _ = _fit_quietly(cls(penalizer=0.01), cdnow_summary, maxiter=3)
    loaded = BaseFitter.load(model.save(tmp_path / "model.json"))
    for attribute in ("fit_issues_", "fit_messages_", "penalizer_used_", "usable_"):
        assert getattr(loaded, attribute) == getattr(model, attribute)
    assert "not_converged" in loaded.fit_issues_


def test_a_file_saved_before_diagnostics_is_diagnosed_on_load(tmp_path):
    model, _ = _fit_quietly(BGNBD(), _never_dropping_out())
    path = model.save(tmp_path / "old.json")
    payload = json.loads(path.read_text())
    for key in ("fit_issues", "fit_messages", "usable", "penalizer_used"):
        del payload[key]
    path.write_text(json.dumps(payload))
    loaded = BGNBD.load(path)
    assert "at_bound" in loaded.fit_issues_ and not loaded.usable_


def test_fallback_keeps_a_usable_plain_fit(cdnow_summary):
    model = BGNBD(penalizer=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fitted = fit_with_fallback(model, cdnow_summary)
    assert fitted is model and fitted.penalizer_used_ == 0.0 and fitted.fit_issues_ == ()
    assert fitted.params_ == BGNBD().fit(cdnow_summary).params_


def test_fallback_refits_a_diverged_fit_with_a_penalty_and_says_so():
    summary = _never_dropping_out()
    with pytest.warns(ConvergenceWarning, match="plain maximum-likelihood fit diverged"):
        fitted = fit_with_fallback(BGNBD(), summary)
    assert "penalized" in fitted.fit_issues_ and fitted.penalizer_used_ > 0
    message = fitted.fit_messages_[fitted.fit_issues_.index("penalized")]
    assert "diverged (" in message and "at bound" in message and "penalty" in message
    assert "at_bound" in fitted.plain_fit_issues_


@pytest.mark.parametrize("bad", [0.0, -1.0, "0.1"])
def test_fallback_needs_a_positive_penalty(cdnow_summary, bad):
    with pytest.raises(ParamsError, match="Got"):
        fit_with_fallback(BGNBD(), cdnow_summary, fallback_penalizer=bad)


def test_fallback_refuses_what_is_not_a_model(cdnow_summary):
    with pytest.raises(ParamsError, match=r"must be a custkit\.ltv model"):
        fit_with_fallback(object(), cdnow_summary)


def _nobody_leaves(n=3000, seed=0):
    """Customers who buy at Poisson rates λ ~ Gamma(2, 50 weeks) and never drop out."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(2.0, 1 / 50.0, n)
    age = rng.uniform(1, 78, n)
    x = rng.poisson(rate * age)
    last = np.where(x > 0, age * rng.beta(np.maximum(x, 1), 1), 0.0)  # max of x uniforms
    return _summary(x.astype(float), last, age)


@pytest.mark.parametrize("cls", [BGNBD, MBGNBD, ParetoNBD])
def test_a_dropout_parameter_run_to_zero_is_at_bound_and_not_usable(cls):
    # the penalty pulls the dropout parameters towards 0 on data where nobody leaves, as the
    # raw penalty did on the demo store (Pareto/NBD s ≈ 5e-13)
    model, warned = _fit_quietly(cls(penalizer=0.001), _nobody_leaves())
    assert "at_bound" in model.fit_issues_ and not model.usable_
    assert any("ran to a bound" in m for m in warned)
    low = [v for v in model._bound_check_params().values() if v < 1e-6]
    assert low


def _same_dropout(n=3000, seed=0, p=0.3):
    """BG/NBD customers who all drop out with the same probability p after each repeat purchase
    (Beta(a, b) with a, b → ∞): the plain fit runs a and b to infinity."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.5, 1 / 10.0, n)
    age = np.round(rng.uniform(1, 78, n) * 7) / 7  # whole days, in weeks
    times = np.cumsum(rng.exponential(1.0, (n, 60)) / rate[:, None], axis=1)
    allowed = rng.geometric(p, n)  # drops out right after this many repeat purchases
    x = np.minimum((times <= age[:, None]).sum(axis=1), allowed)
    last = times[np.arange(n), np.maximum(x - 1, 0)]
    last = np.where(x > 0, np.clip(np.ceil(last * 7) / 7, 1 / 7, age), 0.0)
    return _summary(x.astype(float), last, age)


@pytest.mark.parametrize(("cls", "seed"), [(BGNBD, 2), (MBGNBD, 0)])
def test_fallback_rescues_a_fit_whose_dropout_parameters_run_to_infinity(cls, seed):
    summary = _same_dropout(seed=seed)
    plain, _ = _fit_quietly(cls(), summary)
    assert "at_bound" in plain.fit_issues_ and not plain.usable_
    with pytest.warns(ConvergenceWarning, match="diverged \\(at bound"):
        rescued = fit_with_fallback(cls(), summary)
    assert rescued.fit_issues_ == ("penalized",) and rescued.usable_
    assert np.isfinite(list(rescued.standard_errors_.values())).all()
    # the penalty keeps the planted mean dropout probability a / (a + b) = 0.3
    a, b = rescued.params_["a"], rescued.params_["b"]
    assert a / (a + b) == pytest.approx(0.3, abs=0.05)
