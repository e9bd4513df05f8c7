"""Churn-risk model: holdout against the days-since-last-order rule, scores, checks of inputs."""

import numpy as np
import pandas as pd
import pytest

from custkit.churn.features import FEATURE_LABELS
from custkit.churn.risk import (
    ChurnRiskModel,
    churn_risk,
    evaluate_risk_model,
    risk_training_data,
)
from custkit.data.reduce import purchases, reduce_orders
from custkit.data.signals import reduce_order_signals
from custkit.errors import DataError, NotFittedError, ParamsError

AS_OF = pd.Timestamp("2026-10-31")


@pytest.fixture(scope="module")
def store(demo_store):
    """The 20,000-customer demo store of tests/churn/conftest.py."""
    return demo_store


@pytest.fixture(scope="module")
def risk(store):
    orders = store["orders"]
    return churn_risk(
        orders,
        AS_OF,
        reduce_orders(orders, AS_OF, customer_days=True),
        reduce_order_signals(orders, AS_OF),
        customers=store["customers"],
        feedback=store["feedback"],
        messages=store["messages"],
    )


@pytest.fixture(scope="module")
def training(store):
    return risk_training_data(
        store["orders"], AS_OF, customers=store["customers"], sample=2_000, random_state=3
    )


def test_gradient_boosting_beats_days_since_last_order_on_the_later_holdout(risk):
    evaluation = risk.evaluation
    metrics = evaluation.metrics
    print()
    print(metrics[["roc_auc", "pr_auc", "brier"]].round(3).to_string())
    print(evaluation.conclusion)
    gb, logistic, days = (
        metrics.loc[m, "roc_auc"]
        for m in ("gradient_boosting", "logistic", "days_since_last_order")
    )
    assert gb > days + 0.05
    assert evaluation.auc_gain == pytest.approx(gb - days)
    assert logistic > days
    assert (
        metrics.loc["gradient_boosting", "pr_auc"] > metrics.loc["days_since_last_order", "pr_auc"]
    )
    assert f"{evaluation.auc_gain:+.3f}" in evaluation.conclusion


def test_holdout_is_the_later_period(risk):
    assert risk.test_as_of == AS_OF - pd.Timedelta(days=90)
    assert risk.train_as_of == AS_OF - pd.Timedelta(days=180)
    assert risk.evaluation.as_of == risk.test_as_of


def test_every_active_customer_gets_a_probability(risk, store):
    scores = risk.scores
    assert list(scores.columns) == ["customer_id", "churn_probability"]
    assert scores["churn_probability"].between(0, 1).all()
    bought = purchases(store["orders"], AS_OF)
    recent = bought.loc[bought["order_date"] > AS_OF - pd.Timedelta(days=364)]
    assert set(scores["customer_id"]) == set(recent["customer_id"])
    assert scores["customer_id"].is_unique


def test_calibration_table_has_ten_bins_at_most_and_counts_every_holdout_customer(risk):
    table = risk.evaluation.calibration
    assert list(table.columns) == [
        "bin_start",
        "bin_end",
        "mean_predicted",
        "observed_rate",
        "customers",
    ]
    assert 2 <= len(table) <= 10
    assert table["customers"].sum() == risk.evaluation.customers
    assert table["mean_predicted"].between(table["bin_start"], table["bin_end"]).all()
    assert 0 < risk.evaluation.brier < 0.25


def test_drivers_are_named_in_plain_language(risk):
    drivers = risk.evaluation.drivers
    print()
    print(drivers.head(8).to_string())
    assert set(drivers.index) <= set(FEATURE_LABELS)
    assert (drivers["label"] == [FEATURE_LABELS[f] for f in drivers.index]).all()
    assert drivers["importance"].is_monotonic_decreasing
    assert "days_since_last_order" in drivers.index[:5]
    assert drivers.loc["days_since_last_order", "direction"] == "higher → more risk"
    assert risk.evaluation.importance_rows <= 20_000


def test_assumptions_state_the_label_validation_and_calibration(risk):
    text = " ".join(risk.assumptions)
    assert "no purchase in the next 90 days" in text
    assert "not the report's definition" in text
    assert "2026-05-04" in text and "2026-08-02" in text
    assert "sigmoid" in text
    assert risk.model.baselines is False and risk.model.n_train_ == risk.training_customers


def test_sample_caps_the_training_customers(training, store):
    assert training.sampled and training.sample == 2_000
    assert len(training.X_train) <= 2_000 and len(training.X_test) <= 2_000
    assert training.active_customers["test"] > 2_000
    assert training.X_train.attrs["as_of"] == training.train_as_of
    assert "feedback" in training.X_train.attrs["missing_sources"]


def test_labels_are_no_purchase_in_the_next_horizon(training, store):
    bought = purchases(store["orders"], AS_OF)
    start = training.test_as_of + pd.Timedelta(days=1)
    window = bought.loc[(bought["order_date"] >= start)]
    came_back = training.X_test.index.isin(window["customer_id"])
    assert (training.y_test.to_numpy() == ~came_back).all()
    assert 0.05 < training.y_test.mean() < 0.95


def test_unseen_categories_are_scored_as_other_or_missing(training):
    model = ChurnRiskModel(baselines=False).fit(training.X_train, training.y_train)
    later = training.X_test.copy()
    later["region"] = later["region"].cat.add_categories(["Atlantis"])
    later.iloc[:5, later.columns.get_loc("region")] = "Atlantis"
    probability = model.predict_proba(later)
    assert probability.between(0, 1).all() and probability.index.equals(later.index)
    with pytest.raises(NotFittedError, match="baselines=False"):
        model.predict_proba(later, model="logistic")
    with pytest.raises(ParamsError, match=r"'model' .* \{'gradient_boosting', 'logistic', 'days"):
        model.predict_proba(later, model="forest")
    with pytest.raises(DataError, match=r"lack the column\(s\) \['region'\]"):
        model.predict_proba(later.drop(columns="region"))
    with pytest.raises(ParamsError, match="X must be the DataFrame of churn_features"):
        model.predict_proba(later.to_numpy())


def test_evaluation_runs_on_a_small_holdout(training):
    model = ChurnRiskModel().fit(training.X_train, training.y_train)
    evaluation = evaluate_risk_model(model, training.X_test, training.y_test, importance_rows=300)
    assert evaluation.importance_rows == 300
    assert list(evaluation.metrics.index) == [
        "gradient_boosting",
        "logistic",
        "days_since_last_order",
    ]


def test_parameters_out_of_range_are_refused_with_the_allowed_range(store):
    orders = store["orders"]
    reductions = reduce_orders(orders, AS_OF)
    signals = pd.DataFrame()
    with pytest.raises(
        ParamsError,
        match=r"The 'horizon_days' parameter of churn_risk must be an int in the range "
        r"\[7, 365\]. Got 0 instead.",
    ):
        churn_risk(orders, AS_OF, reductions, signals, horizon_days=0)
    with pytest.raises(ParamsError, match=r"'sample' parameter .* \[1000, 100000000\]. Got 10"):
        churn_risk(orders, AS_OF, reductions, signals, sample=10)
    with pytest.raises(ParamsError, match=r"'active_days' .* range \[90, 3650\]. Got 30"):
        risk_training_data(orders, AS_OF, active_days=30)
    with pytest.raises(ParamsError, match=r"reduce_orders.*2026-10-31.*built as of 2026-09-30"):
        churn_risk(orders, AS_OF, reduce_orders(orders, "2026-09-30"), signals)


def test_model_parameters_are_checked_in_fit():
    x = pd.DataFrame({"days_since_last_order": np.arange(100.0)})
    y = np.arange(100) % 2 == 0
    with pytest.raises(ParamsError, match=r"'calibration' .* \{'sigmoid', 'isotonic'\}. Got 'x'"):
        ChurnRiskModel(calibration="x").fit(x, y)
    with pytest.raises(ParamsError, match=r"'learning_rate' .* range \(0.0, 1.0\]. Got 0 instead"):
        ChurnRiskModel(learning_rate=0).fit(x, y)
    with pytest.raises(ParamsError, match="y has 3 labels for 100 rows"):
        ChurnRiskModel().fit(x, y[:3])
    with pytest.raises(DataError, match="both churned and retained"):
        ChurnRiskModel().fit(x, np.zeros(100, dtype=bool))
    with pytest.raises(NotFittedError, match="not fitted yet"):
        ChurnRiskModel().predict_proba(x)
    assert ChurnRiskModel(C=2.0).get_params()["C"] == 2.0


def weekly_orders(customers, weeks, start="2026-01-05"):
    """Every customer buys every week: nobody churns."""
    ids = np.repeat(np.arange(customers), weeks)
    dates = pd.Timestamp(start) + pd.to_timedelta(np.tile(np.arange(weeks) * 7, customers), "D")
    return pd.DataFrame(
        {
            "order_id": np.arange(len(ids)),
            "customer_id": ids,
            "order_date": dates,
            "revenue": 100.0,
        }
    )


def test_too_few_active_customers_raise_a_data_error_that_says_what_to_do():
    orders = weekly_orders(customers=50, weeks=43)
    with pytest.raises(DataError, match="only 50 customers were active on 2026-05-04") as error:
        risk_training_data(orders, AS_OF)
    assert "smaller horizon_days" in str(error.value)


def test_a_period_with_one_label_raises_a_data_error():
    orders = weekly_orders(customers=300, weeks=43)
    with pytest.raises(DataError, match=r"300 of the 300 customers .* bought again within 90"):
        risk_training_data(orders, AS_OF)


def test_an_as_of_past_the_orders_warns():
    orders = weekly_orders(customers=300, weeks=20)  # last purchase 2026-05-18
    with pytest.warns(UserWarning, match="the last purchase is dated 2026-05-18"):
        with pytest.raises(DataError):
            risk_training_data(orders, AS_OF)


def test_training_built_earlier_gives_the_same_scores_without_the_orders(store, risk):
    """The report builds the training data, releases the orders, then scores: same model."""
    orders = store["orders"]
    tables = {k: store[k] for k in ("customers", "feedback", "messages")}
    training = risk_training_data(orders, AS_OF, **tables)
    reductions = reduce_orders(orders, AS_OF, customer_days=True)
    signals = reduce_order_signals(orders, AS_OF)
    again = churn_risk(None, AS_OF, reductions, signals, **tables, training=training)
    pd.testing.assert_frame_equal(again.scores, risk.scores)
    pd.testing.assert_frame_equal(again.evaluation.metrics, risk.evaluation.metrics)
    with pytest.raises(ParamsError, match="training was built for as_of 2026-10-31, horizon_days"):
        churn_risk(None, AS_OF, reductions, signals, horizon_days=60, training=training)
    with pytest.raises(ParamsError, match=r"needs the orders, or training=risk_training_data"):
        churn_risk(None, AS_OF, reductions, signals)
    with pytest.raises(ParamsError, match="needs the orders when reductions have no customer_days"):
        churn_risk(None, AS_OF, reduce_orders(orders, AS_OF), signals, training=training)
