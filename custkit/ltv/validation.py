"""Which purchase model to trust: a calibration / holdout comparison against simple baselines.

The orders are split by date. Every purchase model (BG/NBD, Pareto/NBD, MBG/NBD…) is fitted on
the calibration period and predicts each customer's purchases in the holdout period, conditional
on their calibration history. Two baselines keep the models honest:

- **naive** — the customer's past repeat-purchase rate times the holdout length:
  ``frequency / T * duration_holdout`` (0 for a customer with ``T == 0``);
- **gradient boosting** — scikit-learn's ``HistGradientBoostingRegressor`` (Poisson loss) on the
  RFM features ``frequency, recency, T, monetary_value`` plus any customer features passed
  (acquisition channel, region…). It learns from the past only: features summarized at an
  earlier cut (``calibration_end`` minus the holdout length) against the purchases made in the
  following window of the same length (up to ``calibration_end``); the trained model is then
  applied to the features at ``calibration_end``. The holdout is never seen in training.

Models are ranked by the holdout mean absolute error (MAE) per customer, among those whose total
of predicted holdout purchases is within ``max_total_error_pct`` (50% by default) of the actual
total. The guard matters: most customers buy nothing in a holdout, so a model that predicts zero
for everyone (e.g. a fit that ran to a bound) can have the lowest MAE while being useless for
forecasting the base. A purchase model whose fit is not usable (``usable_`` False: it did not
converge, ran to a bound or has undefined standard errors) is not eligible either, whatever its
errors: its numbers do not come from a maximum of the likelihood. Models outside the tolerance
are ranked after the others, by MAE, and the finding says so. Every model of
:mod:`custkit.ltv` with ``penalizer=0`` is fitted through :func:`custkit.ltv.fit_with_fallback`:
plain maximum likelihood, and a small scale-free penalty only when that fit is not usable.

The comparison also returns the classic BTYD tracking data: cumulative repeat purchases of the
calibration customers, week by week from the first purchase, actual vs each purchase model.
Up to the calibration end a model's curve is its *unconditional* expectation (Fader, Hardie &
Lee 2005, figure 3: how well the fit describes the past); after it, the curve continues from
the actual count at the calibration end with the same *conditional* predictions the holdout
table sums (each customer's expected purchases given their history), so the chart's holdout
rise and the table's predicted total are one number. (Before issue 14 the holdout part was
unconditional too: on the demo it rose ~35% above the actual while the table said +16%, the
unconditional curve forgetting who had already stopped buying.)
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from custkit.data.periods import DAY_NS
from custkit.data.reduce import reduce_customer_days
from custkit.errors import CustkitError, DataError, ParamsError
from custkit.findings import Finding
from custkit.i18n import N_, _, format_value, n_
from custkit.ltv.base import BaseFitter, fit_with_fallback
from custkit.ltv.summary import TIME_UNIT_DAYS, summarize

NAIVE = "naive"
GRADIENT_BOOSTING = "gradient_boosting"
#: How far (per cent) a model's total of holdout purchases may be off and the model still be
#: trusted: the default of :func:`calibration_holdout_comparison`, which the LTV page states.
MAX_TOTAL_ERROR_PCT = 50.0
_RFM = ("frequency", "recency", "T", "monetary_value")


@dataclass(frozen=True)
class TrackingData:
    """The BTYD tracking curves: cumulative repeat purchases per week, actual and by model.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per week since the first purchase: ``week`` (1, 2, …), ``week_end`` (date),
        ``actual`` cumulative repeat purchases of the calibration customers and one column per
        purchase model (unconditional expectation up to the calibration end, then the actual
        count there plus the conditional predictions; see the module docstring).
    time_unit : str or None
        Time unit of the summary the models were fitted on.
    calibration_weeks : float or None
        The week in which the calibration period ends (None: no customer before it).
    actual_at_calibration_end : float or None
        The actual count at the calibration's last day, where the models' holdout curves start.
    """

    table: pd.DataFrame
    time_unit: str | None
    calibration_weeks: float | None = None
    actual_at_calibration_end: float | None = None

    @property
    def empty(self) -> bool:
        """No week to draw: no customer bought before the calibration end."""
        return self.table.empty


@dataclass(frozen=True)
class HoldoutComparison:
    """Purchase models and baselines compared on a holdout period.

    Attributes
    ----------
    metrics : pandas.DataFrame
        One row per model, best first, index ``model``: ``kind`` (``"purchase model"`` or
        ``"baseline"``), ``mae`` and ``rmse`` (purchases per customer), ``predicted_purchases``
        and ``actual_purchases`` (totals over the holdout), ``total_error_pct`` (``100 *
        (predicted - actual) / actual``; 0 when both are 0), ``usable`` (the fit is usable;
        always True for a baseline), ``eligible`` (usable and total error within the
        tolerance) and ``not_eligible_reason`` (``""``, ``"fit not usable"`` or ``"total off"``,
        in English; the report translates it). Eligible models come first, each group by MAE.
    predictions : pandas.DataFrame
        Index ``customer_id`` (the calibration customers): ``actual`` holdout purchases and one
        column of predicted holdout purchases per model.
    tracking : TrackingData
        The weekly tracking curves (``table``) with the week the calibration ends and the
        actual count there, where the models' holdout curves start.
    best_model : str
        The first row of ``metrics``: lowest holdout MAE among the eligible models.
    best_purchase_model : str or None
        The first usable purchase model in ``metrics`` (the one that can give P(alive) and
        CLV); when no purchase model is usable, the first purchase model (lowest MAE), and the
        finding says that no fit is trustworthy; ``None`` when none could be fitted.
    finding : Finding
        Which model was chosen and why, in plain words.
    fitted_models : Mapping[str, object]
        The purchase models, fitted on the calibration period.
    time_unit : str
        Time unit of the summaries and models.
    calibration_end, as_of : pandas.Timestamp
        Last day of the calibration and of the holdout period.
    """

    metrics: pd.DataFrame
    predictions: pd.DataFrame
    tracking: TrackingData
    best_model: str
    best_purchase_model: str | None
    finding: Finding
    fitted_models: Mapping[str, Any]
    time_unit: str
    calibration_end: pd.Timestamp
    as_of: pd.Timestamp


def _check_models(models: Mapping[str, Any]) -> None:
    if not isinstance(models, Mapping):
        raise ParamsError(
            "models must be a dict of name -> unfitted purchase model, e.g. "
            f"{{'BG/NBD': BGNBD()}}. Got {type(models).__name__} instead."
        )
    for name, model in models.items():
        if name in (NAIVE, GRADIENT_BOOSTING, "actual"):
            raise ParamsError(
                f"model name {name!r} is reserved for a baseline; choose another name."
            )
        missing = [
            m for m in ("fit", "predict_purchases", "expected_purchases") if not hasattr(model, m)
        ]
        if missing:
            raise ParamsError(
                f"models[{name!r}] must be a purchase model with fit, predict_purchases and "
                f"expected_purchases (e.g. custkit.ltv.BGNBD()). Got {type(model).__name__}, "
                f"which lacks {missing}."
            )


def _as_array(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(-1)


def _finite_predictions(name: str, values: np.ndarray) -> np.ndarray:
    bad = ~np.isfinite(values)
    if bad.any():
        warnings.warn(
            f"{name} predicted no finite number of purchases for {int(bad.sum())} customer(s); "
            "they count as 0. Check the model's convergence warnings.",
            UserWarning,
            stacklevel=3,
        )
    return np.clip(np.where(bad, 0.0, values), 0.0, None)


def naive_prediction(summary: pd.DataFrame) -> np.ndarray:
    """Past repeat-purchase rate × holdout length: ``frequency / T * duration_holdout``."""
    f = summary["frequency"].to_numpy(dtype=np.float64)
    t = summary["T"].to_numpy(dtype=np.float64)
    rate = np.divide(f, t, out=np.zeros_like(f), where=t > 0)
    return rate * summary["duration_holdout"].to_numpy(dtype=np.float64)


def _feature_frame(summary: pd.DataFrame, features: pd.DataFrame | None) -> pd.DataFrame:
    frame = summary[list(_RFM)].astype(np.float64)
    if features is None:
        return frame
    extra = features.reindex(summary.index)
    for column in extra.columns:
        values = extra[column]
        if not (
            pd.api.types.is_numeric_dtype(values) or isinstance(values.dtype, pd.CategoricalDtype)
        ) or pd.api.types.is_bool_dtype(values):
            values = values.astype("category")
        if isinstance(values.dtype, pd.CategoricalDtype) and len(values.cat.categories) > 255:
            raise ParamsError(
                f"feature {column!r} has {len(values.cat.categories)} categories; the "
                "gradient-boosting baseline takes at most 255. Group rare values first."
            )
        frame[f"feature_{column}"] = values.array
    return frame


def gradient_boosting_prediction(
    orders: pd.DataFrame,
    summary: pd.DataFrame,
    calibration_end: pd.Timestamp,
    holdout_days: int,
    time_unit: str,
    features: pd.DataFrame | None = None,
    max_train_customers: int = 200_000,
    random_state: int = 0,
) -> np.ndarray:
    """Holdout purchases predicted by gradient boosting trained on an earlier window.

    Features of the customers known at ``cut = calibration_end - holdout_days`` are matched
    with their purchases in ``(cut, calibration_end]``; the model learnt there predicts the
    holdout from the features at ``calibration_end`` (the rows of *summary*). Training uses at
    most ``max_train_customers`` customers drawn at random.

    Raises
    ------
    custkit.errors.CustkitError
        When the earlier window has no customers (calibration shorter than the holdout).
    """
    from sklearn.ensemble import HistGradientBoostingRegressor

    cut = calibration_end - pd.Timedelta(days=holdout_days)
    train = summarize(orders, as_of=calibration_end, calibration_end=cut, time_unit=time_unit)
    if train.empty or not (train["frequency_holdout"] > 0).any():
        raise DataError(
            f"no customer bought before {cut:%Y-%m-%d} and again up to {calibration_end:%Y-%m-%d}"
            f" ({len(train)} customers known then): the calibration period must be longer than "
            "the holdout for the gradient-boosting baseline to learn from. Fix: a shorter "
            "holdout_months or a longer history."
        )
    if len(train) > max_train_customers:
        rng = np.random.default_rng(random_state)
        train = train.iloc[np.sort(rng.choice(len(train), max_train_customers, replace=False))]
    # The same feature frame for training and applying keeps categorical codes identical.
    both = pd.concat([train[list(_RFM)], summary[list(_RFM)]], keys=["train", "apply"])
    both.index = both.index.set_names(["part", summary.index.name or "customer_id"])
    flat = both.reset_index(level="part")
    if features is not None:
        extra = _feature_frame(flat[list(_RFM)], features).drop(columns=list(_RFM))
        flat = pd.concat([flat, extra], axis=1)
    x = flat.drop(columns="part")
    is_train = (flat["part"] == "train").to_numpy()
    model = HistGradientBoostingRegressor(
        loss="poisson",
        learning_rate=0.05,
        max_iter=200,
        categorical_features="from_dtype",
        random_state=random_state,
    )
    model.fit(x.loc[is_train], train["frequency_holdout"].to_numpy(dtype=np.float64))
    return np.clip(model.predict(x.loc[~is_train]), 0.0, None)


def _metrics(
    actual: np.ndarray,
    predictions: dict[str, np.ndarray],
    kinds: dict[str, str],
    max_total_error_pct: float,
    usable: Mapping[str, bool] | None = None,
) -> pd.DataFrame:
    rows = []
    total_actual = float(actual.sum())
    for name, predicted in predictions.items():
        error = predicted - actual
        total = float(predicted.sum())
        if total_actual > 0:
            pct_error = 100.0 * (total - total_actual) / total_actual
        else:
            pct_error = 0.0 if total == 0 else np.inf
        rows.append(
            {
                "model": name,
                "kind": kinds[name],
                "mae": float(np.abs(error).mean()) if len(error) else 0.0,
                "rmse": float(np.sqrt((error**2).mean())) if len(error) else 0.0,
                "predicted_purchases": total,
                "actual_purchases": total_actual,
                "total_error_pct": pct_error,
            }
        )
    frame = pd.DataFrame(rows).set_index("model")
    usable = usable or {}
    frame["usable"] = [bool(usable.get(name, True)) for name in frame.index]
    close = frame["total_error_pct"].abs() <= max_total_error_pct
    frame["eligible"] = frame["usable"] & close
    frame["not_eligible_reason"] = np.where(
        ~frame["usable"], N_("fit not usable"), np.where(~close, N_("total off"), "")
    )
    order = np.lexsort((frame["mae"].to_numpy(), ~frame["eligible"].to_numpy()))
    return frame.iloc[order]


def tracking_data(
    orders: pd.DataFrame,
    summary: pd.DataFrame,
    models: Mapping[str, Any],
    calibration_end: pd.Timestamp,
    as_of: pd.Timestamp,
) -> TrackingData:
    """Weekly cumulative repeat purchases of the calibration customers: actual vs expected.

    Up to the calibration end, the expectation of a model at the end of day ``D`` is
    ``sum_i E[X(D - s_i)]`` over the customers, ``s_i`` the first purchase day and ``E[X(t)]``
    the model's unconditional ``expected_purchases`` — the curve of Fader, Hardie & Lee
    (2005), figure 3. After it, the curve is the actual count at the calibration end plus
    ``sum_i E[X(D - c) | history_i]`` (``predict_purchases`` with the summary's history, ``c``
    the calibration end): at ``as_of`` its rise over the holdout is the predicted total of the
    holdout table, to rounding. Same-day purchases count once, as in the summary. See
    :class:`TrackingData` for the columns.
    """
    unit_days = TIME_UNIT_DAYS[summary.attrs.get("time_unit", "W")]
    days = reduce_customer_days(orders, as_of)
    days = days.loc[days["customer_id"].isin(summary.index)]
    if days.empty:  # no customer before the calibration end (a history shorter than the holdout)
        frame = pd.DataFrame(
            {"week": pd.Series(dtype=np.int64), "week_end": pd.Series(dtype="datetime64[ns]")}
        )
        for column in ("actual", *models):
            frame[column] = pd.Series(dtype=np.float64)
        return TrackingData(frame, summary.attrs.get("time_unit"))
    day_number = days["order_day"].to_numpy(dtype="datetime64[ns]").view(np.int64) // DAY_NS
    ids = days["customer_id"].to_numpy()
    first_of_customer = np.r_[True, ids[1:] != ids[:-1]] if len(ids) else np.zeros(0, bool)
    start = int(day_number.min())
    end = int(pd.Timestamp(as_of).normalize().value // DAY_NS)
    n_days = end - start + 1
    offsets = day_number - start
    repeat_per_day = np.bincount(offsets[~first_of_customer], minlength=n_days)
    births = np.bincount(offsets[first_of_customer], minlength=n_days).astype(np.float64)
    week_ends = np.minimum(np.arange(7, n_days + 7, 7), n_days) - 1  # day offsets, inclusive
    week_ends = np.unique(week_ends)
    cumulative_actual = np.cumsum(repeat_per_day)[week_ends]
    lags = np.arange(n_days, dtype=np.float64) / unit_days
    cal_offset = int(pd.Timestamp(calibration_end).normalize().value // DAY_NS) - start
    holdout_weeks = week_ends > cal_offset
    # the actual count at the calibration end, where the conditional predictions start from
    actual_at_cal = float(np.cumsum(repeat_per_day)[min(max(cal_offset, 0), n_days - 1)])
    holdout_ages = (week_ends[holdout_weeks] - cal_offset) / unit_days
    history = [summary[c].to_numpy(dtype=np.float64) for c in ("frequency", "recency", "T")]
    out = {
        "week": np.arange(1, len(week_ends) + 1),
        "week_end": (pd.Timestamp(start * DAY_NS) + pd.to_timedelta(week_ends, unit="D")),
        "actual": cumulative_actual.astype(np.float64),
    }
    for name, model in models.items():
        try:
            expected = _as_array(model.expected_purchases(lags))
        except (TypeError, ValueError):  # a model that only takes scalars
            expected = np.array([float(model.expected_purchases(t)) for t in lags])
        if not np.isfinite(expected).all():
            warnings.warn(
                f"{name} gave no finite expected purchases for some ages; its tracking curve "
                "counts them as 0. Check the model's convergence warnings.",
                UserWarning,
                stacklevel=2,
            )
            expected = np.nan_to_num(expected, nan=0.0, posinf=0.0, neginf=0.0)
        # sum over birth days s <= D of births[s] * E[X(D - s)]: a convolution
        curve = np.convolve(births, expected)[:n_days][week_ends]
        curve[holdout_weeks] = actual_at_cal + _conditional_totals(
            name, model, holdout_ages, history
        )
        out[name] = curve
    return TrackingData(
        table=pd.DataFrame(out),
        time_unit=summary.attrs.get("time_unit"),
        calibration_weeks=(cal_offset + 1) / 7,
        actual_at_calibration_end=actual_at_cal,
    )


def _conditional_totals(
    name: str, model: Any, ages: np.ndarray, history: list[np.ndarray]
) -> np.ndarray:
    """Summed conditional expected purchases of the customers after each of *ages*: the same
    predictions, with the same clean-up, as the holdout table's (one age at a time, each
    vectorised over the customers)."""
    return np.array(
        [
            _finite_predictions(name, _as_array(model.predict_purchases(age, *history))).sum()
            for age in ages
        ]
    )


def _fit(model: Any, summary: pd.DataFrame) -> Any:
    """*model* fitted on *summary*: a custkit model without a penalty of its caller's through
    :func:`custkit.ltv.fit_with_fallback` (which may return a new, penalised model)."""
    if isinstance(model, BaseFitter) and model.penalizer == 0:
        return fit_with_fallback(model, summary)
    return model.fit(summary)


def _label(name: str) -> str:
    """How a finding names a model: a baseline in words, a purchase model by its name."""
    if name == NAIVE:
        return _("the naive baseline (past purchase rate × holdout length)")
    if name == GRADIENT_BOOSTING:
        return _("the gradient-boosting baseline on RFM features")
    return name


def _sentence(text: str) -> str:
    """*text* with a capital first letter (an English conclusion may start with a label)."""
    return text[:1].upper() + text[1:]


def _choice_finding(
    metrics: pd.DataFrame,
    best_purchase: str | None,
    holdout_days: int,
    tolerance: float,
    any_usable: bool = True,
) -> Finding:
    title = _("Model chosen")
    best = str(metrics.index[0])
    row = metrics.iloc[0]
    weeks = round(holdout_days / 7)
    # enough decimals to tell the two best apart
    digits = 2
    if len(metrics) > 1:
        gap = abs(metrics["mae"].iloc[1] - row["mae"])
        digits = int(min(max(2, -np.floor(np.log10(gap)) + 1 if gap > 0 else 2), 4))
    fields = {
        "best": _label(best),
        "mae": format_value(row["mae"], f".{digits}f"),
        "predicted": row["predicted_purchases"],
        "actual": row["actual_purchases"],
        "error": row["total_error_pct"],
    }
    if len(metrics) > 1:
        conclusion = n_(
            "{best} predicted the last {n} week best: off by {mae} purchases per customer on "
            "average (next best: {runner}, {runner_mae}); it expected {predicted:,.0f} purchases "
            "in total against {actual:,.0f} made ({error:+.0f}%).",
            "{best} predicted the last {n} weeks best: off by {mae} purchases per customer on "
            "average (next best: {runner}, {runner_mae}); it expected {predicted:,.0f} purchases "
            "in total against {actual:,.0f} made ({error:+.0f}%).",
            weeks,
            runner=_label(str(metrics.index[1])),
            runner_mae=format_value(metrics["mae"].iloc[1], f".{digits}f"),
            **fields,
        )
    else:
        conclusion = n_(
            "{best} predicted the last {n} week best: off by {mae} purchases per customer on "
            "average; it expected {predicted:,.0f} purchases in total against {actual:,.0f} made "
            "({error:+.0f}%).",
            "{best} predicted the last {n} weeks best: off by {mae} purchases per customer on "
            "average; it expected {predicted:,.0f} purchases in total against {actual:,.0f} made "
            "({error:+.0f}%).",
            weeks,
            **fields,
        )
    conclusion = _sentence(conclusion)
    unusable = metrics.loc[~metrics["usable"]] if "usable" in metrics else metrics.iloc[:0]
    if len(unusable):
        conclusion += " " + _(
            "Left out of the choice because their fit cannot be trusted (see the analyst "
            "details): {names}.",
            names=", ".join(_label(str(n)) for n in unusable.index),
        )
    excluded = metrics.loc[~metrics["eligible"] & metrics.get("usable", True)]
    if len(excluded) and row["eligible"]:
        names = ", ".join(
            f"{_label(str(n))} ({format_value(e, '+.0f')}%)"
            for n, e in excluded["total_error_pct"].items()
        )
        conclusion += " " + _(
            "Left out of the choice because their total was off by more than {tolerance:g}%: "
            "{names}.",
            tolerance=tolerance,
            names=names,
        )
    if best_purchase is not None and not any_usable:
        return Finding(
            title,
            conclusion,
            _(
                "No purchase model could be fitted cleanly, even with the fallback penalty: the "
                "forecasts below use {model}, the one that predicted the last months best, and "
                "are rough. Read the analyst details at the end of the report.",
                model=best_purchase,
            ),
            "bad",
        )
    if not row["eligible"]:
        return Finding(
            title,
            conclusion,
            _(
                "No model predicted the total within {tolerance:g}%: treat every forecast below "
                "as rough, and check the models' warnings (a longer history or a small penalizer "
                "often helps).",
                tolerance=tolerance,
            ),
            "bad",
        )
    if best_purchase is None:
        return Finding(
            title,
            conclusion,
            _(
                "No purchase model could be fitted: CLV and P(alive) cannot be computed. Check "
                "the warnings above."
            ),
            "bad",
        )
    if best == best_purchase:
        close = abs(row["total_error_pct"]) <= 10
        action = _("The forecasts below use {model}.", model=best)
        return Finding(title, conclusion, action, "good" if close else "info")
    purchase_row = metrics.loc[best_purchase]
    action = _(
        "The forecasts below use {model}, the best model that also estimates whether a customer "
        "is still active (error {mae:.2f} per customer); read them with caution, since a simple "
        "baseline did better.",
        model=best_purchase,
        mae=purchase_row["mae"],
    )
    return Finding(title, conclusion, action, "warning")


def calibration_holdout_comparison(
    orders: pd.DataFrame,
    calibration_end: pd.Timestamp | str,
    as_of: pd.Timestamp | str,
    models: Mapping[str, Any],
    time_unit: str = "W",
    features: pd.DataFrame | None = None,
    baselines: bool = True,
    max_total_error_pct: float = MAX_TOTAL_ERROR_PCT,
    random_state: int = 0,
) -> HoldoutComparison:
    """Fit purchase models on a calibration period and compare their holdout predictions.

    Parameters
    ----------
    orders : pandas.DataFrame
        Canonical orders.
    calibration_end : Timestamp or str
        Last day of the calibration period.
    as_of : Timestamp or str
        Last day of the holdout period (after ``calibration_end``).
    models : dict of str to model
        Unfitted purchase models by display name, e.g. ``{"BG/NBD": BGNBD(), "Pareto/NBD":
        ParetoNBD()}``. They are fitted in place on the calibration summary; a custkit model
        with ``penalizer=0`` through :func:`custkit.ltv.fit_with_fallback`, which returns a new,
        penalised model when the plain fit is not usable (the result's ``fitted_models`` holds
        the models used). A model whose fit raises a :class:`~custkit.errors.CustkitError` is
        left out with a warning.
    time_unit : {"D", "W", "M"}, default "W"
        Time unit of the summaries.
    features : pandas.DataFrame, optional
        Extra per-customer features for the gradient-boosting baseline, indexed by
        ``customer_id`` (e.g. acquisition channel, region; text columns become categories).
        They should be known at the customer's first purchase.
    baselines : bool, default True
        Add the naive and gradient-boosting baselines.
    max_total_error_pct : float, default 50.0
        A model whose total predicted holdout purchases are off by more than this many percent
        is ranked after the others (see the module docstring). ``inf`` ranks by MAE alone.
    random_state : int, default 0
        Seed of the gradient-boosting baseline.

    Returns
    -------
    HoldoutComparison
        Metrics, per-customer predictions, tracking data, the chosen model and the finding.
    """
    _check_models(models)
    tolerance = max_total_error_pct
    if (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, int | float | np.integer | np.floating)
        or np.isnan(tolerance)
        or tolerance < 0
    ):
        raise ParamsError(
            "max_total_error_pct must be a float in the range [0, inf]. "
            f"Got {max_total_error_pct!r} instead."
        )
    cal_end = pd.Timestamp(calibration_end).normalize()
    end = pd.Timestamp(as_of).normalize()
    summary = summarize(orders, as_of=end, calibration_end=cal_end, time_unit=time_unit)
    holdout_days = int((end - cal_end).days)
    actual = summary["frequency_holdout"].to_numpy(dtype=np.float64)
    history = [summary[c] for c in ("frequency", "recency", "T")]
    duration = summary["duration_holdout"].to_numpy(dtype=np.float64)

    predictions: dict[str, np.ndarray] = {}
    kinds: dict[str, str] = {}
    fitted: dict[str, Any] = {}
    for name, model in models.items():
        try:
            model = _fit(model, summary)
        except CustkitError as error:
            warnings.warn(
                f"{name} could not be fitted and is left out of the comparison: {error}",
                UserWarning,
                stacklevel=2,
            )
            continue
        values = _as_array(model.predict_purchases(duration, *history))
        predictions[name] = _finite_predictions(name, values)
        kinds[name] = "purchase model"
        fitted[name] = model
    if baselines:
        predictions[NAIVE] = naive_prediction(summary)
        kinds[NAIVE] = "baseline"
        try:
            predictions[GRADIENT_BOOSTING] = gradient_boosting_prediction(
                orders, summary, cal_end, holdout_days, time_unit, features, 200_000, random_state
            )
            kinds[GRADIENT_BOOSTING] = "baseline"
        except CustkitError as error:
            warnings.warn(
                "the gradient-boosting baseline needs a training window as long as the holdout "
                f"before the calibration end; it is left out: {error}",
                UserWarning,
                stacklevel=2,
            )
    if not predictions:
        raise ParamsError(
            "no model could be compared: pass at least one purchase model or baselines=True."
        )
    usable = {name: bool(getattr(model, "usable_", True)) for name, model in fitted.items()}
    metrics = _metrics(actual, predictions, kinds, float(tolerance), usable)
    purchase_rows = metrics.loc[metrics["kind"] == "purchase model"]
    usable_rows = purchase_rows.index[purchase_rows["usable"]]
    best_purchase = (
        str(usable_rows[0])
        if len(usable_rows)
        else (str(purchase_rows.index[0]) if len(purchase_rows) else None)
    )
    frame = pd.DataFrame({"actual": actual, **predictions}, index=summary.index)
    return HoldoutComparison(
        metrics=metrics,
        predictions=frame,
        tracking=tracking_data(orders, summary, fitted, cal_end, end),
        best_model=str(metrics.index[0]),
        best_purchase_model=best_purchase,
        finding=_choice_finding(
            metrics, best_purchase, holdout_days, float(tolerance), bool(len(usable_rows))
        ),
        fitted_models=MappingProxyType(fitted),
        time_unit=time_unit,
        calibration_end=cal_end,
        as_of=end,
    )
