"""The LTV report's fits in the open: plain fits with a fallback penalty, models that cannot be
chosen, the tracking chart and the holdout table as one computation, the analyst details, and
end to end on the demo's model-consistent mode (the BG/NBD process), where the report must track
the holdout within 5%."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from custkit.data.demo import generate_demo_store, write_demo_store
from custkit.ltv import BGNBD, ParetoNBD, compare_purchase_models
from custkit.ltv.validation import calibration_holdout_comparison
from custkit.reports import run_report

AS_OF = pd.Timestamp("2026-10-31")


@pytest.fixture(scope="module")
def realistic_orders() -> pd.DataFrame:
    return generate_demo_store(2_000, seed=3, dirty=False)["orders"]


@pytest.fixture(scope="module")
def realistic_comparison(realistic_orders):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compare_purchase_models(realistic_orders, AS_OF)


# --- the tracking chart and the holdout table: one computation -----------------------------


@pytest.mark.parametrize("time_unit", ["D", "W", "M"])
def test_tracking_chart_ends_where_the_holdout_table_says(realistic_orders, time_unit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        comparison = compare_purchase_models(realistic_orders, AS_OF, time_unit=time_unit)
    tracking, metrics = comparison.tracking.table, comparison.metrics
    assert tracking["week_end"].iloc[-1].normalize() == AS_OF
    for name in comparison.fitted_models:
        chart_gap = tracking[name].iloc[-1] - tracking["actual"].iloc[-1]
        table_gap = metrics.loc[name, "predicted_purchases"] - metrics.loc[name, "actual_purchases"]
        assert chart_gap == pytest.approx(table_gap, rel=1e-9, abs=1e-6)


def test_tracking_chart_counts_the_same_holdout_purchases_as_the_table(realistic_comparison):
    tracking = realistic_comparison.tracking.table
    before = tracking.loc[tracking["week_end"] <= realistic_comparison.calibration_end]
    # the holdout purchases the chart adds after the calibration end are the table's actual
    # total (the week that holds the calibration end may hold some calibration days)
    cal_day_total = realistic_comparison.predictions["actual"].sum()
    rise = tracking["actual"].iloc[-1] - before["actual"].iloc[-1]
    assert rise >= cal_day_total * 0.97 and rise <= cal_day_total


def test_tracking_chart_fits_the_past_then_forecasts_from_the_actual_count(
    realistic_comparison,
):
    # up to the calibration end the curve is the unconditional expectation (it starts near 0);
    # after it, the conditional forecast starting from the actual count there
    curves = realistic_comparison.tracking
    tracking = curves.table
    holdout = tracking["week"] > curves.calibration_weeks
    start = curves.actual_at_calibration_end
    assert tracking.loc[~holdout, "actual"].iloc[-1] <= start <= tracking["actual"].iloc[-1]
    for name in realistic_comparison.fitted_models:
        past, forecast = tracking.loc[~holdout, name], tracking.loc[holdout, name]
        assert past.iloc[0] == pytest.approx(0.0, abs=5.0) and past.is_monotonic_increasing
        assert forecast.is_monotonic_increasing and forecast.iloc[0] >= start


# --- fits: penalty 0 with a fallback, and models that cannot be chosen ---------------------


def test_report_fits_by_plain_maximum_likelihood_and_penalises_only_as_a_fallback(
    realistic_comparison,
):
    for model in realistic_comparison.fitted_models.values():
        if "penalized" in model.fit_issues_:
            assert model.plain_fit_issues_  # the plain fit failed first
        else:
            assert model.penalizer_used_ == 0.0


def test_the_report_and_its_functions_default_to_no_penalty():
    import inspect
    from pathlib import Path

    from custkit.ltv import customer_value
    from custkit.reports.inspection import notebook_parameters

    notebook = Path(__file__).resolve().parents[2] / "custkit" / "notebooks" / "ltv.ipynb"
    assert notebook_parameters(notebook)["penalizer"].default == 0.0
    for function in (compare_purchase_models, customer_value):
        assert inspect.signature(function).parameters["penalizer"].default == 0.0


class _UnusableFit(ParetoNBD):
    """Pareto/NBD whose fit reports it ran to a bound, as on the demo (s ≈ 5e-13)."""

    def fit(self, summary, **kwargs):
        super().fit(summary, **kwargs)
        self.fit_issues_ = ("at_bound", "se_undefined")
        self.fit_messages_ = ("at a bound", "no standard errors")
        self.usable_ = False
        return self


def _compare(orders, models):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return calibration_holdout_comparison(
            orders, AS_OF - pd.DateOffset(months=6), AS_OF, models, baselines=False
        )


def test_a_model_whose_fit_is_not_usable_is_not_eligible_and_not_chosen(realistic_orders):
    comparison = _compare(
        realistic_orders, {"Pareto/NBD": _UnusableFit(penalizer=0.01), "BG/NBD": BGNBD(0.01)}
    )
    row = comparison.metrics.loc["Pareto/NBD"]
    assert not row["usable"] and not row["eligible"]
    assert row["not_eligible_reason"] == "fit not usable"
    assert comparison.best_purchase_model == "BG/NBD"
    assert "cannot be trusted" in comparison.finding.conclusion


def test_when_no_model_is_usable_the_best_predictor_is_used_and_the_finding_says_so(
    realistic_orders,
):
    comparison = _compare(realistic_orders, {"Pareto/NBD": _UnusableFit(penalizer=0.01)})
    assert comparison.best_purchase_model == "Pareto/NBD"
    assert comparison.finding.level == "bad"
    assert "No purchase model could be fitted cleanly" in comparison.finding.action


# --- end to end on the model-consistent demo ---------------------------------------------------


@pytest.fixture(scope="module")
def bgnbd_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ltv_bgnbd")
    data = write_demo_store(folder / "data", 20_000, seed=1, purchases="bgnbd")
    return run_report("ltv", data / "params.yaml", out_dir=folder / "reports")


def test_ltv_report_tracks_the_holdout_within_5_percent_on_the_bgnbd_demo(bgnbd_run):
    assert bgnbd_run.ok, bgnbd_run.error
    kpis = json.loads(bgnbd_run.kpis.read_text(encoding="utf-8"))["kpis"]
    assert abs(kpis["holdout_total_error_pct"][kpis["model"]]) <= 5.0
    assert kpis["clv_12m_total_lower"] < kpis["clv_12m_total"] < kpis["clv_12m_total_upper"]


def test_ltv_report_shows_the_analyst_details_and_the_interval(bgnbd_run):
    page = bgnbd_run.html.read_text(encoding="utf-8")
    assert "For analysts: how the forecast was checked" in page and "Model fits" in page
    assert "Log likelihood" in page or "log_likelihood" in page.lower()
    assert "likely between" in page  # the interval, in the headline


# --- analyst details, notes and the manager's finding --------------------------------------


@pytest.fixture(scope="module")
def cdnow_value():
    """The report's steps on CDNOW master, which holds one repeat buyer whose repeat purchase
    was free (customer 10244, 1997-03-07)."""
    from custkit.data.reduce import reduce_orders
    from custkit.datasets import load_cdnow
    from custkit.ltv import customer_value

    orders = load_cdnow("master")
    as_of = pd.Timestamp("1998-06-30")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        comparison = compare_purchase_models(orders, as_of, holdout_months=6)
        value = customer_value(
            orders,
            as_of,
            comparison.best_purchase_model,
            reduce_orders(orders, as_of, customer_days=True),
            interval_draws=50,
        )
    return comparison, value


def test_cdnow_master_runs_through_customer_value_and_the_free_repeat_buyer_is_noted(
    cdnow_value,
):
    from custkit.ltv.report import fit_notes

    value = cdnow_value[1]
    assert value.spend_model.n_zero_value_excluded_ == 1
    assert value.spend_model.penalizer_used_ == 0.0  # plain fit: nothing diverged here
    assert any(
        "1 repeat buyer whose repeat purchases were all free" in n for n in fit_notes(*cdnow_value)
    )
    assert value.interval.lower < value.interval.point < value.interval.upper


def test_fit_details_list_every_fit_with_standard_errors(cdnow_value):
    from custkit.ltv.report import fit_details

    comparison, value = cdnow_value
    details = fit_details(comparison, value)
    assert len(details) == len(comparison.fitted_models) + 2
    assert list(details["model"].iloc[-2:]) == [value.model_name, "Gamma-Gamma"]
    spend = details.iloc[-1]
    se = value.spend_model.standard_errors_["q"]
    assert f"q {value.spend_model.params_['q']:.4g} ({se:.3g})" in spend["parameters"]
    assert details["converged"].all() and (details["penalizer"] == 0).all()
    assert np.isfinite(details["log_likelihood"]).all()


def _heavy_tailed_spend() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frequency = rng.integers(1, 6, 3_000)
    return pd.DataFrame(
        {
            "frequency": frequency,
            "recency": frequency * 2.0,
            "T": 20.0,
            "monetary_value": rng.pareto(0.9, 3_000) * 100 + 10,
        }
    )


def test_an_infinite_mean_order_value_is_said_plainly_with_its_fallback(cdnow_value):
    from custkit.i18n import use_language
    from custkit.ltv import GammaGamma
    from custkit.ltv.report import CustomerValue, fit_finding, fit_notes

    comparison, value = cdnow_value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spend = GammaGamma().fit(_heavy_tailed_spend())
    assert not spend.mean_defined_
    heavy = CustomerValue(
        *[getattr(value, f) for f in ("model_name", "purchase_model")],
        spend,
        value.summary,
        value.clv,
        value.outlook,
        value.value_basis,
    )
    notes = fit_notes(comparison, heavy)
    assert any("no finite mean" in n and "shrunk towards the median" in n for n in notes)
    finding = fit_finding(comparison, heavy)
    assert finding is not None and "no finite mean" in finding.conclusion
    with use_language("ru"):
        assert any("нет конечного среднего" in n for n in fit_notes(comparison, heavy))


def test_a_fallback_penalty_is_said_in_plain_words_in_both_languages(realistic_comparison):
    from custkit.i18n import use_language
    from custkit.ltv import fit_with_fallback
    from custkit.ltv.report import CustomerValue, fit_finding, fit_notes

    # customers who all drop out with the same probability: BG/NBD's plain fit runs a and b to
    # infinity (as in tests/ltv/test_fit_diagnostics.py), so the report falls back to a penalty
    summary = _same_dropout(seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = fit_with_fallback(BGNBD(), summary)
    assert "penalized" in model.fit_issues_ and model.plain_fit_issues_
    value = CustomerValue(
        "BG/NBD", model, _spend_model(), summary, pd.DataFrame(), pd.DataFrame(), "revenue"
    )
    notes = fit_notes(realistic_comparison, value)
    assert any(
        "BG/NBD (all purchases): the plain maximum-likelihood fit diverged" in n for n in notes
    )
    assert "small penalty" in fit_finding(realistic_comparison, value).conclusion
    with use_language("ru"):
        assert any("разошлась" in n for n in fit_notes(realistic_comparison, value))


def _same_dropout(n=3000, seed=0, p=0.3):
    """BG/NBD customers (weeks) who all drop out with the same probability p after each repeat
    purchase: Beta(a, b) with a, b → ∞."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.5, 1 / 10.0, n)
    age = np.round(rng.uniform(1, 78, n) * 7) / 7  # whole days, in weeks
    times = np.cumsum(rng.exponential(1.0, (n, 60)) / rate[:, None], axis=1)
    allowed = rng.geometric(p, n)  # drops out right after this many repeat purchases
    x = np.minimum((times <= age[:, None]).sum(axis=1), allowed)
    last = times[np.arange(n), np.maximum(x - 1, 0)]
    last = np.where(x > 0, np.clip(np.ceil(last * 7) / 7, 1 / 7, age), 0.0)
    summary = pd.DataFrame({"frequency": x.astype(float), "recency": last, "T": age})
    summary.index = pd.Index(range(101, 101 + n), name="customer_id")
    summary.attrs["time_unit"] = "W"
    return summary


def _spend_model():
    from custkit.ltv import GammaGamma

    summary = _heavy_tailed_spend()
    summary["monetary_value"] = np.random.default_rng(1).gamma(4.0, 50.0, len(summary))
    return GammaGamma().fit(summary)


def test_a_purchase_model_that_could_not_be_fitted_is_named_in_the_notes(cdnow_value):
    from types import SimpleNamespace

    from custkit.i18n import use_language
    from custkit.ltv.report import fit_notes

    comparison, value = cdnow_value
    fitted = dict(comparison.fitted_models)
    fitted.pop("MBG/NBD")
    partial = SimpleNamespace(fitted_models=fitted)
    assert "MBG/NBD could not be fitted on these data" in fit_notes(partial, value)[0]
    with use_language("ru"):
        assert fit_notes(partial, value)[0].startswith("MBG/NBD не удалось подобрать")


def test_no_finding_when_every_fit_was_plain(cdnow_value):
    from custkit.ltv.report import fit_finding

    assert fit_finding(*cdnow_value) is None
