"""Churn risk of active customers: who is likely to buy nothing in the next 90 days.

The label
---------
A customer is *active* at an as-of day ``t`` when they made a purchase in the ``active_days``
(365) days up to ``t``. An active customer is labelled *churned* when they make no purchase in
``(t, t + horizon_days]`` (90 days). This is the risk model's forward-looking label — "no purchase
in the next 90 days" — and not the churn definition the churn report counts lost customers by:
a customer with a long buying cycle can be "churned" here and come back later.

Validation in time
------------------
Three as-of days, ``horizon_days`` apart, end at the report's as-of day::

    t_train = as_of - 2 * horizon      t_test = as_of - horizon           as_of
    |---- labels of t_train ----------|---- labels of t_test -----------|
    features at t_train               features at t_test                 features at as_of

The model is fitted on the customers active at ``t_train`` (features from data up to
``t_train``, labels from the next ``horizon_days``) and tested on the customers active at
``t_test`` (labels up to ``as_of``): a later period it has never seen, as it will be used. The
holdout numbers (ROC-AUC, PR-AUC, calibration, drivers) are that model's. The scores come from
the same recipe refitted on the ``t_test`` data — the most recent complete labels — and applied
to the customers active at ``as_of``. The same customers may appear in both periods (at different
days, with different features and labels): the check is out of time, not out of customer.

Models
------
:class:`ChurnRiskModel` holds three scikit-learn models fitted on the same rows:

- **gradient boosting** — ``HistGradientBoostingClassifier`` with native categorical features
  and missing values, early stopping on a 10% validation split; its probabilities are calibrated
  (below). This is the model whose scores the report shows.
- **logistic regression** — the linear baseline: numeric features signed-``log1p``-transformed,
  median-imputed with missing-value indicators and standardized, categories one-hot encoded.
- **days since the last order** — a logistic regression on ``log1p(days_since_last_order)``
  alone: the rule of thumb every store already has. The risk model must beat it on the holdout;
  :class:`RiskEvaluation` says by how much.

Calibration: the boosting model is fitted on 80% of the training customers and calibrated on the
other 20% with ``CalibratedClassifierCV`` around the frozen model (the "prefit" approach). One
boosting fit instead of the three of ``cv=3`` keeps the fit to a few seconds at 100,000
customers. The map is a sigmoid (Platt scaling): boosting on log-loss is nearly calibrated
already, and on the demo stores (20,000–50,000 customers) and the 1M-customer benchmark store a
sigmoid gave a lower holdout Brier score and calibration error than isotonic regression, whose
steps put some customers at exactly 0 or 1.

Size
----
The model trains on a random sample of at most ``sample`` (100,000) of the customers active at
either training day; every customer active at ``as_of`` is scored. The features of the sample
are built from the sample's own orders, so the two earlier reductions cost a fraction of a full
pass over the orders.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV, calibration_curve
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from custkit.churn.features import OTHER, _as_day, churn_features, feature_label
from custkit.data.periods import DAY_NS
from custkit.data.reduce import (
    OrderReductions,
    check_orders,
    purchase_mask,
    reduce_customer_days,
    reduce_orders,
)
from custkit.data.signals import reduce_order_signals
from custkit.errors import DataError, NotFittedError, ParamsError
from custkit.i18n import _

__all__ = [
    "ACTIVE_DAYS",
    "HORIZON_DAYS",
    "IMPORTANCE_ROWS",
    "MODEL_LABELS",
    "ChurnRisk",
    "ChurnRiskModel",
    "RiskEvaluation",
    "RiskTrainingData",
    "churn_risk",
    "evaluate_risk_model",
    "risk_training_data",
]

_NO_DAY = np.iinfo(np.int64).min

#: Days after the as-of day in which an active customer must buy not to count as churned.
HORIZON_DAYS = 90
#: A customer is active when they bought within this many days up to the as-of day.
ACTIVE_DAYS = 365
#: Fewest active customers, and fewest of each label, a period needs to train or test on.
MIN_CUSTOMERS = 200
MIN_PER_CLASS = 20
#: Below this many customers of the rarer label, the holdout numbers get a warning.
_FEW_PER_CLASS = 100
#: Customers scored at a time by ChurnRiskModel.predict_proba.
_PREDICT_ROWS = 100_000
#: Holdout customers the permutation importance is measured on. 50 features x 3 shuffles x 5,000
#: customers x ~55 trees took 5–7 s on one shared core of the benchmark machine; 10,000 and
#: 20,000 customers took two and four times as long and ranked the leading drivers the same, and
#: so did 3,000 customers with 2 shuffles (about 2 s), the default of the churn report.
IMPORTANCE_ROWS = 3_000

GRADIENT_BOOSTING = "gradient_boosting"
LOGISTIC = "logistic"
DAYS_SINCE_LAST_ORDER = "days_since_last_order"
#: The three models of :class:`ChurnRiskModel`, in plain words (English; a report table shows
#: them in the report language).
MODEL_LABELS = {
    GRADIENT_BOOSTING: "gradient boosting on all features",
    LOGISTIC: "logistic regression on all features",
    DAYS_SINCE_LAST_ORDER: "days since the last purchase alone",
}

#: Order columns the risk features read; the others are not copied into the sample.
_ORDER_COLUMNS = (
    "customer_id",
    "order_date",
    "revenue",
    "status",
    "channel",
    "delivery_region",
    "shipping_cost",
    "discount",
    "coupon",
    "promised_delivery_date",
    "delivered_at",
)


# --------------------------------------------------------------------------------------------
# Parameter checks
# --------------------------------------------------------------------------------------------


def _check_int(value: object, name: str, where: str, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not low <= int(value) <= high
    ):
        raise ParamsError(
            f"The '{name}' parameter of {where} must be an int in the range [{low}, {high}]. "
            f"Got {value!r} instead."
        )
    return int(value)


def _check_float(
    value: object, name: str, where: str, low: float, high: float, low_open: bool = True
) -> float:
    ok = (
        not isinstance(value, bool)
        and isinstance(value, int | float | np.integer | np.floating)
        and np.isfinite(value)
        and (low < value if low_open else low <= value)
        and value <= high
    )
    if not ok:
        bracket = "(" if low_open else "["
        raise ParamsError(
            f"The '{name}' parameter of {where} must be a float in the range "
            f"{bracket}{low}, {high}]. Got {value!r} instead."
        )
    return float(value)


def _check_random_state(value: object, where: str) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | np.integer)):
        raise ParamsError(
            f"The 'random_state' parameter of {where} must be an int or None. "
            f"Got {value!r} instead."
        )


def _check_periods(
    horizon_days: object, active_days: object, sample: object, random_state: object, where: str
) -> tuple[int, int, int | None]:
    horizon = _check_int(horizon_days, "horizon_days", where, 7, 365)
    active = _check_int(active_days, "active_days", where, horizon, 3650)
    if sample is not None:
        sample = _check_int(sample, "sample", where, 1_000, 100_000_000)
    _check_random_state(random_state, where)
    return horizon, active, sample


def _day_number(day: pd.Timestamp) -> int:
    return int(day.value // DAY_NS)


def _day_numbers(values: pd.Series) -> np.ndarray:
    times = values.to_numpy(dtype="datetime64[ns]").view(np.int64)
    days = times // DAY_NS
    days[times == _NO_DAY] = _NO_DAY
    return days


# --------------------------------------------------------------------------------------------
# Training data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskTrainingData:
    """Features and labels of the two validation periods (see the module docstring).

    Attributes
    ----------
    X_train, X_test : pandas.DataFrame
        :func:`~custkit.churn.features.churn_features` of the sampled customers active at
        ``train_as_of`` / ``test_as_of``, indexed by ``customer_id``.
    y_train, y_test : pandas.Series
        ``churned`` (bool, same index): no purchase in the ``horizon_days`` after that day.
    train_as_of, test_as_of, as_of : pandas.Timestamp
        ``as_of - 2 * horizon_days``, ``as_of - horizon_days`` and the as-of day.
    horizon_days, active_days : int
        Label window and activity window, in days.
    active_customers : Mapping[str, int]
        Customers active in the whole store at ``"train"`` and ``"test"`` (before sampling).
    sample : int or None
        The sample size asked for; ``sampled`` tells whether the store was larger.
    sampled : bool
        Whether the training customers are a random sample.
    """

    X_train: pd.DataFrame
    y_train: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series
    train_as_of: pd.Timestamp
    test_as_of: pd.Timestamp
    as_of: pd.Timestamp
    horizon_days: int
    active_days: int
    active_customers: Mapping[str, int]
    sample: int | None
    sampled: bool


def _check_period(y: pd.Series, day: pd.Timestamp, horizon: int, active: int) -> None:
    n = len(y)
    what = f"active on {day.date()} (a purchase in the {active} days up to it)"
    if n < MIN_CUSTOMERS:
        raise DataError(
            f"only {n} customers were {what}; the risk model needs at least {MIN_CUSTOMERS}.",
            table="orders",
            hint=(
                f"use a longer order history, or a smaller horizon_days (now {horizon}): the "
                f"model learns from the customers active {2 * horizon} days before as_of."
            ),
        )
    churned = int(y.sum())
    rare = min(churned, n - churned)
    if rare < MIN_PER_CLASS:
        outcome = "bought nothing" if churned > n - churned else "bought again"
        raise DataError(
            f"{n - rare} of the {n} customers {what} {outcome} within {horizon} days; with "
            f"{rare} of the other kind the risk model cannot learn who leaves.",
            table="orders",
            hint=f"change horizon_days (now {horizon}) or use a longer order history.",
        )
    if rare < _FEW_PER_CLASS:
        warnings.warn(
            f"only {rare} of the {n} customers {what} "
            f"{'bought nothing' if churned == rare else 'bought again'} within {horizon} days; "
            "the risk model's holdout numbers are rough. A longer history or a larger store "
            "makes them firmer.",
            UserWarning,
            stacklevel=3,
        )


def risk_training_data(
    orders: pd.DataFrame,
    as_of: pd.Timestamp | str,
    horizon_days: int = HORIZON_DAYS,
    customers: pd.DataFrame | None = None,
    feedback: pd.DataFrame | None = None,
    messages: pd.DataFrame | None = None,
    sample: int | None = 100_000,
    random_state: int | None = 0,
    active_days: int = ACTIVE_DAYS,
) -> RiskTrainingData:
    """Build the features and labels of the training and test periods.

    Parameters
    ----------
    orders : pandas.DataFrame
        Canonical orders (up to *as_of* at least).
    as_of : Timestamp or str
        The report's as-of day; the test labels end on it.
    horizon_days : int, default 90
        Label window: an active customer with no purchase in the next ``horizon_days`` days is
        churned. The periods are ``horizon_days`` apart. In [7, 365].
    customers, feedback, messages : pandas.DataFrame, optional
        Canonical tables for the customer, feedback and message features.
    sample : int or None, default 100_000
        Train on a random sample of at most this many customers (drawn from those active on
        either training day); ``None`` uses all.
    random_state : int or None, default 0
        Seed of the sample.
    active_days : int, default 365
        A customer is active when they bought within this many days up to the as-of day; at
        least ``horizon_days``.

    Returns
    -------
    RiskTrainingData

    Raises
    ------
    custkit.errors.ParamsError
        A parameter is out of range.
    custkit.errors.DataError
        Fewer than 200 active customers in a period, or fewer than 20 of one label.
    """
    where = "risk_training_data"
    horizon, active, sample = _check_periods(horizon_days, active_days, sample, random_state, where)
    check_orders(orders)
    day = _as_day(as_of)
    test_day = day - pd.Timedelta(days=horizon)
    train_day = test_day - pd.Timedelta(days=horizon)
    d_test, d_train = _day_number(test_day), _day_number(train_day)

    is_purchase, _ = purchase_mask(orders, day)
    order_day = _day_numbers(orders["order_date"])
    ids = orders["customer_id"].to_numpy()
    latest = int(order_day.max(where=is_purchase, initial=_NO_DAY))
    if latest != _NO_DAY and _day_number(day) - latest > 7:
        warnings.warn(
            f"as_of is {day.date()} but the last purchase is dated "
            f"{pd.Timestamp(latest * DAY_NS).date()}: customers look churned in the last days "
            "for want of data, not because they left. Set as_of to the last complete day (or "
            "month end) of the orders.",
            UserWarning,
            stacklevel=2,
        )

    def active_at(d: int) -> np.ndarray:
        return pd.unique(ids[is_purchase & (order_day > d - active) & (order_day <= d)])

    active_customers = {"train": len(active_at(d_train)), "test": len(active_at(d_test))}
    # active at either day: a purchase in (t_train - active, t_test], as active >= horizon
    pool = pd.unique(ids[is_purchase & (order_day > d_train - active) & (order_day <= d_test)])
    sampled = sample is not None and len(pool) > sample
    columns = [c for c in _ORDER_COLUMNS if c in orders.columns]
    if sampled:
        chosen = np.random.default_rng(random_state).choice(pool, sample, replace=False)
        rows = orders["customer_id"].isin(chosen).to_numpy()
        sample_orders = orders.loc[rows, columns]
        ids, order_day, is_purchase = ids[rows], order_day[rows], is_purchase[rows]
    else:
        sample_orders = orders[columns]

    frames = []
    for period_day, d in ((train_day, d_train), (test_day, d_test)):
        reductions = reduce_orders(sample_orders, period_day, customer_days=True)
        signals = reduce_order_signals(sample_orders, period_day)
        last = _day_numbers(reductions.customers["last_order_date"])
        is_active = d - last < active
        narrowed = replace(reductions, customers=reductions.customers.loc[is_active])
        features = churn_features(narrowed, signals, period_day, customers, feedback, messages)
        bought = pd.unique(ids[is_purchase & (order_day > d) & (order_day <= d + horizon)])
        churned = pd.Series(~features.index.isin(bought), index=features.index, name="churned")
        _check_period(churned, period_day, horizon, active)
        frames.append((features, churned))
    (x_train, y_train), (x_test, y_test) = frames
    return RiskTrainingData(
        X_train=x_train,
        y_train=y_train,
        X_test=x_test,
        y_test=y_test,
        train_as_of=train_day,
        test_as_of=test_day,
        as_of=day,
        horizon_days=horizon,
        active_days=active,
        active_customers=MappingProxyType(active_customers),
        sample=sample,
        sampled=sampled,
    )


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------


def _check_frame(X: pd.DataFrame) -> None:
    if not isinstance(X, pd.DataFrame):
        raise ParamsError(
            f"X must be the DataFrame of churn_features(...). Got {type(X).__name__} instead."
        )


def _labels(y: pd.Series | np.ndarray, n_rows: int) -> np.ndarray:
    """*y* as a bool array of churned flags, one per row of X."""
    labels = pd.Series(y).to_numpy()
    if len(labels) != n_rows:
        raise ParamsError(f"y has {len(labels)} labels for {n_rows} rows of X; pass one per row.")
    if pd.isna(labels).any():
        raise DataError("some labels are missing; every customer needs churned True or False.")
    return labels.astype(bool)


def _signed_log1p(values: np.ndarray) -> np.ndarray:
    """``sign(x) * log(1 + |x|)``: tames revenue-like tails for the linear baseline."""
    values = np.asarray(values, dtype=np.float64)
    return np.sign(values) * np.log1p(np.abs(values))


class ChurnRiskModel(BaseEstimator):
    """Churn-risk classifier: calibrated gradient boosting plus two baselines.

    The constructor only stores parameters; :meth:`fit` checks them, fits the three models of
    the module docstring and returns ``self``.

    Parameters
    ----------
    learning_rate : float, default 0.15
        Boosting learning rate, in (0, 1]. Against 0.1 it needs a quarter fewer trees (faster
        scoring and permutation importance) for 0.001 less holdout ROC-AUC on the demo stores.
    max_iter : int, default 300
        Most boosting iterations (early stopping usually ends sooner), in [10, 5000].
    max_leaf_nodes : int, default 15
        Leaves per tree, in [2, 1024]. Small trees keep the scoring of a million customers and
        the permutation importance fast; 31 leaves gained nothing on the demo stores.
    min_samples_leaf : int, default 50
        Fewest customers per leaf, in [1, 100000].
    l2_regularization : float, default 1.0
        Boosting L2 penalty, in [0, 1000].
    calibration : {"sigmoid", "isotonic"}, default "sigmoid"
        How the boosting probabilities are calibrated on the held-out slice (see the module
        docstring for why sigmoid).
    calibration_share : float, default 0.2
        Share of the training customers held out for calibration, in (0, 0.5].
    C : float, default 1.0
        Inverse L2 penalty of the logistic baseline, in (0, 1e6].
    baselines : bool, default True
        Also fit the two baselines; a model used only to score can skip them.
    n_threads : int or None, default 1
        Threads (OpenMP and BLAS) for fitting, and for the many small predictions of
        :func:`evaluate_risk_model`; ``None`` uses every core. One thread is the default because
        these run thousands of short parallel sections: on a machine whose cores are busy with
        other work, threads spin-waiting for each other made them four to eight times slower
        than one thread (boosting fit at 60,000 customers: 5 s against 21–31 s; permutation
        importance on 5,000: 14 s against 120 s). :meth:`predict_proba` on many customers, one
        parallel section per tree, uses every core.
    random_state : int or None, default 0
        Seed of the calibration split and the boosting's validation split.

    Attributes
    ----------
    feature_names_in_ : list of str
        Columns seen in ``fit``; ``predict_proba`` needs them all.
    categories_ : dict of str to pandas.Index
        Categories of each categorical feature at ``fit``; later frames are recoded to them
        (unseen values go to ``"other"`` when it exists, else count as missing).
    gradient_boosting_ : HistGradientBoostingClassifier
        The boosting model before calibration (used for permutation importance).
    calibrated_ : CalibratedClassifierCV
        The calibrated boosting model; its probabilities are the churn risk.
    logistic_, days_since_last_order_ : sklearn.pipeline.Pipeline or None
        The two baselines (``None`` when ``baselines=False``).
    n_train_ : int
        Customers fitted on.
    churn_rate_ : float
        Share of them labelled churned.
    """

    def __init__(
        self,
        learning_rate: float = 0.15,
        max_iter: int = 300,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 50,
        l2_regularization: float = 1.0,
        calibration: str = "sigmoid",
        calibration_share: float = 0.2,
        C: float = 1.0,
        baselines: bool = True,
        n_threads: int | None = 1,
        random_state: int | None = 0,
    ) -> None:
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.calibration = calibration
        self.calibration_share = calibration_share
        self.C = C
        self.baselines = baselines
        self.n_threads = n_threads
        self.random_state = random_state

    def _check_params(self) -> None:
        where = type(self).__name__
        _check_float(self.learning_rate, "learning_rate", where, 0.0, 1.0)
        _check_int(self.max_iter, "max_iter", where, 10, 5000)
        _check_int(self.max_leaf_nodes, "max_leaf_nodes", where, 2, 1024)
        _check_int(self.min_samples_leaf, "min_samples_leaf", where, 1, 100_000)
        _check_float(self.l2_regularization, "l2_regularization", where, 0.0, 1000.0, False)
        if self.calibration not in ("sigmoid", "isotonic"):
            raise ParamsError(
                f"The 'calibration' parameter of {where} must be a str among "
                f"{{'sigmoid', 'isotonic'}}. Got {self.calibration!r} instead."
            )
        _check_float(self.calibration_share, "calibration_share", where, 0.0, 0.5)
        _check_float(self.C, "C", where, 0.0, 1e6)
        if not isinstance(self.baselines, bool | np.bool_):
            raise ParamsError(
                f"The 'baselines' parameter of {where} must be a bool. "
                f"Got {self.baselines!r} instead."
            )
        if self.n_threads is not None:
            _check_int(self.n_threads, "n_threads", where, 1, 1024)
        _check_random_state(self.random_state, where)

    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> ChurnRiskModel:
        """Fit the boosting model, its calibration and both baselines.

        Parameters
        ----------
        X : pandas.DataFrame
            Features from :func:`~custkit.churn.features.churn_features`; must include
            ``days_since_last_order``.
        y : array-like of bool
            Churned (True) or not, one per row of *X*.

        Returns
        -------
        ChurnRiskModel
            ``self``, fitted.
        """
        self._check_params()
        _check_frame(X)
        if DAYS_SINCE_LAST_ORDER not in X.columns:
            raise DataError(
                "the features lack 'days_since_last_order', which the baseline needs.",
                hint="build them with custkit.churn.features.churn_features.",
            )
        labels = _labels(y, len(X))
        n_churned = int(labels.sum())
        if min(n_churned, len(labels) - n_churned) < 2:
            raise DataError(
                f"{n_churned} of {len(labels)} customers are labelled churned; the risk model "
                "needs both churned and retained customers to learn from.",
                hint="use a longer history or another horizon_days.",
            )
        self.feature_names_in_ = list(X.columns)
        self.categories_ = {
            c: pd.Index(X[c].cat.categories)
            for c in X.columns
            if isinstance(X[c].dtype, pd.CategoricalDtype)
        }
        is_category = np.array([c in self.categories_ for c in X.columns])
        numeric, categorical = np.flatnonzero(~is_category), np.flatnonzero(is_category)
        matrix = self._matrix(X)

        x_fit, x_cal, y_fit, y_cal = train_test_split(
            matrix,
            labels,
            test_size=self.calibration_share,
            stratify=labels,
            random_state=self.random_state,
        )
        boosting = HistGradientBoostingClassifier(
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            categorical_features=is_category,
            early_stopping=True,
            validation_fraction=0.1,
            n_iter_no_change=10,
            tol=1e-4,
            random_state=self.random_state,
        )
        calibrated = CalibratedClassifierCV(FrozenEstimator(boosting), method=self.calibration)
        self.logistic_ = self.days_since_last_order_ = None
        self.days_column_ = self.feature_names_in_.index(DAYS_SINCE_LAST_ORDER)
        with threadpool_limits(limits=self.n_threads):
            boosting.fit(x_fit, y_fit)
            calibrated.fit(x_cal, y_cal)
            if self.baselines:
                self._fit_baselines(matrix, labels, numeric, categorical)
        self.gradient_boosting_ = boosting
        self.calibrated_ = calibrated
        self.n_train_ = len(labels)
        self.churn_rate_ = n_churned / len(labels)
        return self

    def _fit_baselines(
        self, matrix: np.ndarray, labels: np.ndarray, numeric: np.ndarray, categorical: np.ndarray
    ) -> None:
        numeric_steps = Pipeline(
            [
                ("log", FunctionTransformer(_signed_log1p, feature_names_out="one-to-one")),
                ("impute", SimpleImputer(strategy="median", add_indicator=True)),
                ("scale", StandardScaler()),
            ]
        )
        logistic = Pipeline(
            [
                (
                    "features",
                    ColumnTransformer(
                        [
                            ("numeric", numeric_steps, numeric),
                            ("categories", OneHotEncoder(handle_unknown="ignore"), categorical),
                        ]
                    ),
                ),
                ("model", LogisticRegression(C=self.C, max_iter=2000)),
            ]
        )
        logistic.fit(matrix, labels)
        recency = Pipeline(
            [
                ("log", FunctionTransformer(np.log1p, feature_names_out="one-to-one")),
                ("scale", StandardScaler()),
                ("model", LogisticRegression()),
            ]
        )
        recency.fit(matrix[:, [self.days_column_]], labels)

        self.logistic_ = logistic
        self.days_since_last_order_ = recency

    def _check_fitted(self) -> None:
        if not hasattr(self, "calibrated_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet: call fit(X, y) first."
            )

    def _matrix(self, X: pd.DataFrame) -> np.ndarray:
        """Features as a float64 matrix: fitted column order, categories as codes of ``fit``.

        scikit-learn's models get plain numbers: the boosting model then skips its own
        per-call encoding of pandas categoricals, which dominated the permutation importance.
        """
        # Column-major: each column is written in one contiguous pass.
        matrix = np.empty((len(X), len(self.feature_names_in_)), dtype=np.float64, order="F")
        for j, column in enumerate(self.feature_names_in_):
            values = X[column]
            categories = self.categories_.get(column)
            if categories is None:
                matrix[:, j] = values.to_numpy(dtype=np.float64, na_value=np.nan)
                continue
            if not isinstance(values.dtype, pd.CategoricalDtype):
                values = values.astype("category")
            target = categories.get_indexer(values.cat.categories)
            if OTHER in categories:  # a value unseen in fit was rare then: it is "other"
                target[target < 0] = categories.get_loc(OTHER)
            codes = np.append(target, -1)[values.cat.codes.to_numpy()]
            matrix[:, j] = np.where(codes >= 0, codes, np.nan)
        return matrix

    def feature_matrix(self, X: pd.DataFrame) -> np.ndarray:
        """*X* as the numeric matrix the fitted scikit-learn models take.

        Columns in the order of ``feature_names_in_``; a categorical feature becomes the
        position of its value in ``categories_[name]`` (NaN when missing; a value not seen in
        ``fit`` counts as ``"other"`` when that exists, else as missing).

        Raises
        ------
        custkit.errors.DataError
            When *X* lacks a column the model was fitted on.
        """
        self._check_fitted()
        _check_frame(X)
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise DataError(
                f"the features lack the column(s) {missing} the risk model was fitted on.",
                hint="build them with churn_features from the same tables as the training data.",
            )
        return self._matrix(X)

    def predict_proba(
        self,
        X: pd.DataFrame,
        model: str = GRADIENT_BOOSTING,
    ) -> pd.Series:
        """Churn probability of every row of *X*.

        Parameters
        ----------
        X : pandas.DataFrame
            Features with the columns seen in ``fit``.
        model : {"gradient_boosting", "logistic", "days_since_last_order"}
            Which model answers: the calibrated boosting model (the churn risk) or a baseline.

        Returns
        -------
        pandas.Series
            ``churn_probability`` in [0, 1], indexed like *X*.
        """
        if model not in MODEL_LABELS:
            names = ", ".join(repr(m) for m in MODEL_LABELS)
            raise ParamsError(
                f"The 'model' parameter of predict_proba must be a str among {{{names}}}. "
                f"Got {model!r} instead."
            )
        self._check_fitted()
        _check_frame(X)
        values = np.empty(len(X), dtype=np.float64)
        # In slices: the matrix, and the copy the boosting model makes of it, stay small.
        for start in range(0, len(X), _PREDICT_ROWS):
            part = X.iloc[start : start + _PREDICT_ROWS]
            values[start : start + len(part)] = self._predict_matrix(
                self.feature_matrix(part), model
            )
        return pd.Series(values, index=X.index, name="churn_probability")

    def _predict_matrix(self, matrix: np.ndarray, model: str) -> np.ndarray:
        if model != GRADIENT_BOOSTING and self.logistic_ is None:
            raise NotFittedError(
                f"This {type(self).__name__} was fitted with baselines=False: the {model!r} "
                "baseline is not available. Fit it with baselines=True."
            )
        if model == GRADIENT_BOOSTING:
            values = self.calibrated_.predict_proba(matrix)[:, 1]
        elif model == LOGISTIC:
            values = self.logistic_.predict_proba(matrix)[:, 1]
        else:
            values = self.days_since_last_order_.predict_proba(matrix[:, [self.days_column_]])
            values = values[:, 1]
        return np.clip(values, 0.0, 1.0)


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskEvaluation:
    """How well the risk model ranked and calibrated a later holdout period.

    Attributes
    ----------
    metrics : pandas.DataFrame
        Index ``model`` (``gradient_boosting``, ``logistic``, ``days_since_last_order``):
        ``label`` (plain words), ``roc_auc``, ``pr_auc`` (average precision) and ``brier``
        (Brier score, lower is better) on the holdout.
    auc_gain : float
        ROC-AUC of gradient boosting minus that of days since the last purchase alone.
    calibration : pandas.DataFrame
        Reliability table of the boosting probabilities, one row per non-empty bin of 10 equal
        bins over [0, 1]: ``bin_start``, ``bin_end``, ``mean_predicted``, ``observed_rate``
        (share churned) and ``customers``.
    brier : float
        Brier score of the calibrated boosting probabilities.
    drivers : pandas.DataFrame
        Permutation importance of every feature, largest first, index ``feature``: ``label``
        (plain words), ``importance`` (mean drop in ROC-AUC when the feature is shuffled),
        ``importance_std`` and ``direction`` (``"higher → more risk"``, ``"higher → less
        risk"``, ``"mixed"`` or, for categories, ``"depends on the value"``).
    customers : int
        Holdout customers.
    churn_rate : float
        Share of them who bought nothing in the label window.
    as_of : pandas.Timestamp or None
        Day of the holdout features (``attrs["as_of"]`` of the features).
    horizon_days : int
        Length of the label window.
    importance_rows : int
        Holdout customers the permutation importance was measured on.
    """

    metrics: pd.DataFrame
    auc_gain: float
    calibration: pd.DataFrame
    brier: float
    drivers: pd.DataFrame
    customers: int
    churn_rate: float
    as_of: pd.Timestamp | None
    horizon_days: int
    importance_rows: int

    @property
    def conclusion(self) -> str:
        """The holdout result in one paragraph, generated from the numbers (in the report
        language)."""
        gb = self.metrics.loc[GRADIENT_BOOSTING]
        base = self.metrics.loc[DAYS_SINCE_LAST_ORDER]
        fields = {
            "customers": self.customers,
            "day": self.as_of,
            "share": self.churn_rate,
            "days": self.horizon_days,
            "auc": gb["roc_auc"],
            "pr_auc": gb["pr_auc"],
            "base": base["roc_auc"],
            "base_pr_auc": base["pr_auc"],
            "gain": self.auc_gain,
        }
        if self.as_of is not None:
            sentences = [
                _(
                    "Of the {customers:,} holdout customers active on {day:%Y-%m-%d}, "
                    "{share:.0%} bought nothing in the next {days} days.",
                    **fields,
                )
            ]
        else:
            sentences = [
                _(
                    "Of the {customers:,} holdout customers, {share:.0%} bought nothing in the "
                    "next {days} days.",
                    **fields,
                )
            ]
        if self.auc_gain > 0:
            sentences.append(
                _(
                    "The risk model ranked them with ROC-AUC {auc:.3f} (PR-AUC {pr_auc:.3f}); days "
                    "since the last purchase alone reached {base:.3f} (PR-AUC {base_pr_auc:.3f}), "
                    "so the model beats it by {gain:+.3f} ROC-AUC.",
                    **fields,
                )
            )
        else:
            sentences.append(
                _(
                    "The risk model ranked them with ROC-AUC {auc:.3f} (PR-AUC {pr_auc:.3f}); days "
                    "since the last purchase alone reached {base:.3f} (PR-AUC {base_pr_auc:.3f}), "
                    "so the model does not beat it ({gain:+.3f} ROC-AUC): rank customers by days "
                    "since the last purchase instead.",
                    **fields,
                )
            )
        top = self.drivers.head(3)
        if len(top):
            sentences.append(
                _(
                    "Strongest drivers: {drivers}.",
                    drivers=", ".join(_(str(label)) for label in top["label"]),
                )
            )
        return " ".join(sentences)


def _calibration_table(churned: np.ndarray, probability: np.ndarray, n_bins: int) -> pd.DataFrame:
    observed, predicted = calibration_curve(churned, probability, n_bins=n_bins)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], probability)  # as calibration_curve bins them
    counts = np.bincount(bins, minlength=n_bins)
    filled = np.flatnonzero(counts)
    return pd.DataFrame(
        {
            "bin_start": edges[filled],
            "bin_end": edges[filled + 1],
            "mean_predicted": predicted,
            "observed_rate": observed,
            "customers": counts[filled],
        }
    )


def _direction(values: pd.Series, probability: pd.Series) -> str:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return "depends on the value"
    rho = values.rank().corr(probability.rank())
    if not np.isfinite(rho) or abs(rho) < 0.1:
        return "mixed"
    return "higher → more risk" if rho > 0 else "higher → less risk"


def evaluate_risk_model(
    model: ChurnRiskModel,
    X: pd.DataFrame,
    y: pd.Series | np.ndarray,
    horizon_days: int = HORIZON_DAYS,
    n_bins: int = 10,
    importance_rows: int = IMPORTANCE_ROWS,
    n_repeats: int = 2,
    random_state: int | None = 0,
) -> RiskEvaluation:
    """Score a fitted :class:`ChurnRiskModel` on a later holdout period.

    Parameters
    ----------
    model : ChurnRiskModel
        Fitted on an earlier period.
    X : pandas.DataFrame
        Holdout features (``RiskTrainingData.X_test``).
    y : array-like of bool
        Holdout labels (``RiskTrainingData.y_test``).
    horizon_days : int, default 90
        Label window, for the text of :attr:`RiskEvaluation.conclusion`.
    n_bins : int, default 10
        Bins of the calibration table, in [2, 100].
    importance_rows : int, default 5_000
        Permutation importance is measured on a random subsample of at most this many holdout
        customers, in [100, 10_000_000] (see :data:`IMPORTANCE_ROWS`).
    n_repeats : int, default 2
        Shuffles per feature, in [1, 100].
    random_state : int or None, default 0
        Seed of the subsample and the shuffles.

    Returns
    -------
    RiskEvaluation
    """
    where = "evaluate_risk_model"
    if not isinstance(model, ChurnRiskModel):
        raise ParamsError(
            f"model must be a fitted ChurnRiskModel. Got {type(model).__name__} instead."
        )
    horizon = _check_int(horizon_days, "horizon_days", where, 1, 3650)
    n_bins = _check_int(n_bins, "n_bins", where, 2, 100)
    importance_rows = _check_int(importance_rows, "importance_rows", where, 100, 10_000_000)
    n_repeats = _check_int(n_repeats, "n_repeats", where, 1, 100)
    _check_random_state(random_state, where)
    features = model.feature_matrix(X)
    churned = _labels(y, len(features))
    if churned.all() or not churned.any():
        raise DataError(
            f"all {len(churned)} holdout customers have the same label; ROC-AUC needs both "
            "churned and retained customers.",
            hint="use a longer history or another horizon_days.",
        )
    rng = np.random.default_rng(random_state)
    n = len(features)
    subset = np.sort(rng.choice(n, importance_rows, replace=False)) if n > importance_rows else None
    x_sub = features if subset is None else features[subset]
    y_sub = churned if subset is None else churned[subset]
    rows = []
    probabilities = {}
    with threadpool_limits(limits=model.n_threads):  # see ChurnRiskModel's n_threads
        for name, label in MODEL_LABELS.items():
            p = model._predict_matrix(features, name)
            probabilities[name] = p
            rows.append(
                {
                    "model": name,
                    "label": label,
                    "roc_auc": roc_auc_score(churned, p),
                    "pr_auc": average_precision_score(churned, p),
                    "brier": brier_score_loss(churned, p),
                }
            )
        # Measured on the boosting model before calibration: the calibration map is monotone,
        # so the ranking that ROC-AUC scores is the same, and each shuffle costs less.
        importance = permutation_importance(
            model.gradient_boosting_,
            x_sub,
            y_sub,
            scoring="roc_auc",
            n_repeats=n_repeats,
            random_state=random_state,
        )
    metrics = pd.DataFrame(rows).set_index("model")
    risk = probabilities[GRADIENT_BOOSTING]
    frame = X if subset is None else X.iloc[subset]
    sub_risk = pd.Series(risk if subset is None else risk[subset], index=frame.index)
    names = model.feature_names_in_
    drivers = pd.DataFrame(
        {
            "feature": names,
            "label": [feature_label(c) for c in names],
            "importance": importance.importances_mean,
            "importance_std": importance.importances_std,
            "direction": [_direction(frame[c], sub_risk) for c in names],
        }
    )
    drivers = drivers.sort_values("importance", ascending=False, kind="stable")
    return RiskEvaluation(
        metrics=metrics,
        auc_gain=float(
            metrics.at[GRADIENT_BOOSTING, "roc_auc"] - metrics.at[DAYS_SINCE_LAST_ORDER, "roc_auc"]
        ),
        calibration=_calibration_table(churned, risk, n_bins),
        brier=float(metrics.at[GRADIENT_BOOSTING, "brier"]),
        drivers=drivers.set_index("feature"),
        customers=n,
        churn_rate=float(churned.mean()),
        as_of=X.attrs.get("as_of"),
        horizon_days=horizon,
        importance_rows=len(x_sub),
    )


# --------------------------------------------------------------------------------------------
# The report's entry point
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChurnRisk:
    """Churn risk of every active customer, with the evidence that it can be trusted.

    Attributes
    ----------
    scores : pandas.DataFrame
        One row per customer active at ``as_of``, by ``customer_id``: ``customer_id``,
        ``churn_probability`` (calibrated probability of no purchase in the next
        ``horizon_days`` days).
    evaluation : RiskEvaluation
        Holdout metrics, calibration and drivers of the model trained on the earlier period.
    model : ChurnRiskModel
        The model that produced ``scores`` (refitted on the most recent complete labels).
    holdout_model : ChurnRiskModel
        The model that was evaluated (fitted on the earlier period).
    as_of, train_as_of, test_as_of : pandas.Timestamp
        Scoring day and the feature days of the training and holdout periods.
    horizon_days, active_days : int
        Label window and activity window, in days.
    training_customers : int
        Customers the scoring model was fitted on.
    sampled : bool
        Whether the training customers were a random sample.
    assumptions : tuple of str
        The label, validation, sample and calibration, in sentences for the report (in the
        report language).
    missing_data : tuple of str
        Tables (``feedback``) and optional columns (``customers.region``) the features lacked:
        their features are left out.
    """

    scores: pd.DataFrame
    evaluation: RiskEvaluation
    model: ChurnRiskModel
    holdout_model: ChurnRiskModel
    as_of: pd.Timestamp
    train_as_of: pd.Timestamp
    test_as_of: pd.Timestamp
    horizon_days: int
    active_days: int
    training_customers: int
    sampled: bool
    assumptions: tuple[str, ...]
    missing_data: tuple[str, ...] = ()


def _assumptions(
    data: RiskTrainingData,
    model: ChurnRiskModel,
    evaluation: RiskEvaluation,
    scored: int,
    missing: list[str],
) -> tuple[str, ...]:
    fields = {
        "days": data.horizon_days,
        "active_days": data.active_days,
        "as_of": data.as_of,
        "train_day": data.train_as_of,
        "test_day": data.test_as_of,
        "trained": model.n_train_,
        "active": data.active_customers["test"],
        "scored": scored,
        "map": model.calibration,
        "share": model.calibration_share,
        "rows": evaluation.importance_rows,
        "names": ", ".join(missing),
    }
    lines = [
        _(
            "Churn risk is the probability that a customer active on {as_of:%Y-%m-%d} (a "
            "purchase in the {active_days} days up to it) makes no purchase in the next {days} "
            "days. This is the risk model's forward-looking label, not the report's definition of "
            "a lost customer.",
            **fields,
        ),
        _(
            "Validated out of time: trained on the customers active on {train_day:%Y-%m-%d} and "
            "whether they bought in the following {days} days, tested on those active on "
            "{test_day:%Y-%m-%d} and whether they bought by {as_of:%Y-%m-%d}. The scores come from "
            "the same model refitted on the {test_day:%Y-%m-%d} data.",
            **fields,
        ),
    ]
    if data.sampled:
        lines.append(
            _(
                "The model was trained on a random sample of {trained:,} of the {active:,} "
                "customers active on {test_day:%Y-%m-%d}; all {scored:,} customers active on "
                "{as_of:%Y-%m-%d} are scored.",
                **fields,
            )
        )
    else:
        lines.append(
            _(
                "The model was trained on all {trained:,} customers active on "
                "{test_day:%Y-%m-%d}; all {scored:,} customers active on {as_of:%Y-%m-%d} are "
                "scored.",
                **fields,
            )
        )
    lines.append(
        _(
            "The gradient-boosting probabilities are calibrated ({map} map) on {share:.0%} of the "
            "training customers, held out from the fit.",
            **fields,
        )
    )
    lines.append(
        _(
            "Drivers are ranked by permutation importance (the drop in holdout ROC-AUC when a "
            "feature is shuffled) on {rows:,} holdout customers drawn at random.",
            **fields,
        )
    )
    if missing:
        lines.append(_("Not used (no data): {names}; their features are left out.", **fields))
    return tuple(lines)


def churn_risk(
    orders: pd.DataFrame | None,
    as_of: pd.Timestamp | str,
    reductions: OrderReductions,
    signals: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    feedback: pd.DataFrame | None = None,
    messages: pd.DataFrame | None = None,
    horizon_days: int = HORIZON_DAYS,
    sample: int | None = 100_000,
    random_state: int | None = 0,
    active_days: int = ACTIVE_DAYS,
    training: RiskTrainingData | None = None,
) -> ChurnRisk:
    """Train, validate in time and apply the churn-risk model (see the module docstring).

    Parameters
    ----------
    orders : pandas.DataFrame or None
        Canonical orders; None when *training* is given and *reductions* were built with
        ``customer_days=True``.
    as_of : Timestamp or str
        Scoring day: every customer active on it gets a churn probability.
    reductions : OrderReductions
        ``reduce_orders(orders, as_of)``, shared with the rest of the report. Built with
        ``customer_days=True`` it saves a pass over the orders (about 2 s on 10M orders).
    signals : pandas.DataFrame
        ``reduce_order_signals(orders, as_of)``, shared with the rest of the report.
    customers, feedback, messages : pandas.DataFrame, optional
        Canonical tables; each one present adds its features.
    horizon_days : int, default 90
        Label window in days, in [7, 365].
    sample : int or None, default 100_000
        Train on a random sample of at most this many customers; ``None`` uses all.
    random_state : int or None, default 0
        Seed of the sample, the calibration split and the permutation importance.
    active_days : int, default 365
        Activity window in days, in [horizon_days, 3650].
    training : RiskTrainingData, optional
        :func:`risk_training_data` for the same *as_of*, *horizon_days* and *active_days*, built
        earlier (a report builds it while it still holds the orders, then releases them); default:
        built here from *orders* (*sample* and *random_state* apply to it).

    Returns
    -------
    ChurnRisk

    Raises
    ------
    custkit.errors.ParamsError
        A parameter is out of range, or *reductions* were built for another day.
    custkit.errors.DataError
        Too few active customers, or too few of one label, in a validation period.
    """
    horizon, active, sample = _check_periods(
        horizon_days, active_days, sample, random_state, "churn_risk"
    )
    day = _as_day(as_of)
    if not isinstance(reductions, OrderReductions) or reductions.as_of != day:
        built = getattr(reductions, "as_of", None)
        raise ParamsError(
            f"reductions must be reduce_orders(orders, '{day.date()}') for the same as_of; got "
            f"{type(reductions).__name__}"
            + (f" built as of {built.date()}" if isinstance(built, pd.Timestamp) else "")
            + "."
        )
    if training is None:
        if orders is None:
            raise ParamsError("churn_risk needs the orders, or training=risk_training_data(...).")
        training = risk_training_data(
            orders, day, horizon, customers, feedback, messages, sample, random_state, active
        )
    elif (training.as_of, training.horizon_days, training.active_days) != (day, horizon, active):
        raise ParamsError(
            f"training was built for as_of {training.as_of.date()}, horizon_days "
            f"{training.horizon_days}, active_days {training.active_days}; churn_risk was asked "
            f"for {day.date()}, {horizon}, {active}. Build it with the same values."
        )
    data = training
    holdout_model = ChurnRiskModel(random_state=random_state).fit(data.X_train, data.y_train)
    evaluation = evaluate_risk_model(
        holdout_model, data.X_test, data.y_test, horizon_days=horizon, random_state=random_state
    )
    model = ChurnRiskModel(baselines=False, random_state=random_state)
    model.fit(data.X_test, data.y_test)

    if reductions.customer_days is None:
        if orders is None:
            raise ParamsError(
                "churn_risk needs the orders when reductions have no customer_days: build them "
                "with reduce_orders(orders, as_of, customer_days=True)."
            )
        reductions = replace(reductions, customer_days=reduce_customer_days(orders, day))
    last = _day_numbers(reductions.customers["last_order_date"])
    is_active = _day_number(day) - last < active
    narrowed = replace(reductions, customers=reductions.customers.loc[is_active])
    features = churn_features(narrowed, signals, day, customers, feedback, messages)
    probability = model.predict_proba(features)
    scores = pd.DataFrame(
        {"customer_id": features.index.to_numpy(), "churn_probability": probability.to_numpy()}
    )
    missing = list(features.attrs.get("missing_sources", [])) + list(
        features.attrs.get("missing_columns", [])
    )
    return ChurnRisk(
        scores=scores,
        evaluation=evaluation,
        model=model,
        holdout_model=holdout_model,
        as_of=day,
        train_as_of=data.train_as_of,
        test_as_of=data.test_as_of,
        horizon_days=horizon,
        active_days=active,
        training_customers=model.n_train_,
        sampled=data.sampled,
        assumptions=_assumptions(data, model, evaluation, len(scores), missing),
        missing_data=tuple(missing),
    )
