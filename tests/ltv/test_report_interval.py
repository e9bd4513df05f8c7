"""The interval of the base's total value (parametric bootstrap of the fits' parameters),
checked against the delta method and for the behaviour any interval must have."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from custkit.datasets import load_cdnow
from custkit.errors import ParamsError
from custkit.ltv import BGNBD, GammaGamma, summarize
from custkit.ltv.clv import _with_params, customer_lifetime_value, total_value_interval


def _fitted(summary):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = BGNBD().fit(summary)
        spend = GammaGamma().fit(summary)
    clv = customer_lifetime_value(model, spend, summary, horizon_months=12)
    return model, spend, clv


@pytest.fixture(scope="module")
def cdnow_master():
    summary = summarize(load_cdnow("master"), as_of="1998-06-30", time_unit="W")
    return summary, *_fitted(summary)


def test_interval_holds_the_point_estimate_and_is_seeded(cdnow_master):
    summary, model, spend, clv = cdnow_master
    interval = total_value_interval(model, spend, summary, clv, n_draws=200)
    assert interval.point == pytest.approx(clv["clv"].sum())
    assert interval.lower < interval.point < interval.upper
    assert interval.n_draws == 200 and interval.level == 0.9
    again = total_value_interval(model, spend, summary, clv, n_draws=200)
    assert (again.lower, again.upper) == (interval.lower, interval.upper)


def test_interval_widens_with_fewer_customers(cdnow_master):
    summary = cdnow_master[0]
    widths = []
    for n in (len(summary), len(summary) // 8):
        part = summary.iloc[:n]
        model, spend, clv = _fitted(part)
        interval = total_value_interval(model, spend, part, clv, n_draws=200)
        widths.append((interval.upper - interval.lower) / interval.point)
    # relative width grows about as 1 / sqrt(n): 8 times fewer customers, ~2.8 times wider
    assert 2.0 < widths[1] / widths[0] < 4.0


def test_interval_matches_the_delta_method(cdnow_master):
    """The draws' spread against the delta method's: gradient of the total (computed by
    customer_lifetime_value itself) with respect to the log-parameters, by central differences,
    times the fits' covariance on the log scale. Near-normal here (6,000 CDNOW customers), so a
    90% interval is ±1.645 delta-method standard deviations, to Monte Carlo error (1,000
    draws: about 4% on the half-width)."""
    summary = cdnow_master[0].iloc[:6_000]
    model, spend, clv = _fitted(summary)
    gradient, blocks = [], []
    for fitted, other in ((model, "purchases"), (spend, "spend")):
        names = list(fitted._param_names)
        blocks.append(fitted.covariance_.loc[names, names].to_numpy())
        for name in names:
            totals = []
            for step in (1e-4, -1e-4):
                params = dict(fitted.params_)
                params[name] *= np.exp(step)
                drawn = _with_params(fitted, params)
                pair = (drawn, spend) if other == "purchases" else (model, drawn)
                totals.append(
                    customer_lifetime_value(*pair, summary, horizon_months=12)["clv"].sum()
                )
            gradient.append((totals[0] - totals[1]) / 2e-4)
    gradient = np.array(gradient)
    covariance = np.zeros((len(gradient), len(gradient)))
    covariance[:4, :4], covariance[4:, 4:] = blocks
    sd = float(np.sqrt(gradient @ covariance @ gradient))
    interval = total_value_interval(model, spend, summary, clv, n_draws=1_000, max_customers=6_000)
    half_width = (interval.upper - interval.lower) / 2
    assert half_width == pytest.approx(1.645 * sd, rel=0.1)
    assert (interval.upper + interval.lower) / 2 == pytest.approx(interval.point, rel=0.01)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_draws": 5}, "n_draws"),
        ({"n_draws": 200.0}, "n_draws"),
        ({"level": 1.0}, "level"),
        ({"max_customers": 10}, "max_customers"),
    ],
)
def test_interval_refuses_bad_arguments(cdnow_master, kwargs, match):
    summary, model, spend, clv = cdnow_master
    with pytest.raises(ParamsError, match=match):
        total_value_interval(model, spend, summary, clv, **kwargs)


def test_draws_a_model_cannot_evaluate_are_left_out_not_counted_as_a_total_of_zero(
    cdnow_master, monkeypatch
):
    # a far parameter draw of Pareto/NBD can fall where its expectation is NaN (small stores:
    # ~40% of draws); counted as a total of 0, they dragged the lower bound to 0 ("likely between
    # 0 and ..."). Now they are left out, and with too many of them there is no interval at all.
    summary, model, spend, clv = cdnow_master
    good = total_value_interval(model, spend, summary, clv, n_draws=100)
    original = type(model).predict_purchases
    calls = {"n": 0}

    def failing_every(k):
        def predict(self, *args, **kwargs):
            calls["n"] += 1
            out = np.asarray(original(self, *args, **kwargs), dtype=np.float64)
            return out * np.nan if calls["n"] > 1 and calls["n"] % k == 0 else out

        return predict

    monkeypatch.setattr(type(model), "predict_purchases", failing_every(20))  # 1 draw in 20
    few = total_value_interval(model, spend, summary, clv, n_draws=100)
    assert 90 <= few.n_draws < 100
    assert few.lower == pytest.approx(good.lower, rel=0.05) and few.lower > 0
    calls["n"] = 0
    monkeypatch.setattr(type(model), "predict_purchases", failing_every(2))  # half the draws
    many = total_value_interval(model, spend, summary, clv, n_draws=100)
    assert np.isnan(many.lower) and np.isnan(many.upper) and many.point == good.point
