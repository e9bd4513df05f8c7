"""The shared fit / diagnose / save machinery of every custkit LTV model.

Each model (:mod:`~custkit.ltv.bgnbd`, :mod:`~custkit.ltv.mbgnbd`, :mod:`~custkit.ltv.paretonbd`,
:mod:`~custkit.ltv.gammagamma`) lives in its own file and subclasses :class:`BaseFitter`, which
does everything that is not the model's formula: parameter validation, checks of the summary
frame, compression to distinct rows, the optimization, standard errors and confidence intervals,
convergence warnings, and JSON save/load.

Why our own code and not ``lifetimes``
--------------------------------------
``lifetimes`` (0.11.3) is unmaintained and breaks in places on pandas 3. It is slow on a store of
a million customers (BG/NBD 11–14 s, MBG/NBD 36 s, Pareto/NBD 351 s on this machine kind, see
``shared/README.md``) because it evaluates the likelihood once per customer; its
``log_likelihood_`` is a per-customer *mean*, not the total the papers print; and its users
report NaN or negative CLVs without a warning. Here the likelihood is evaluated only over the
distinct (x, t_x, T) rows of the summary, weighted by how many customers share each row (far
fewer rows than customers, because T and t_x are counted in days), fully vectorized, in
log-space; the fit reports the total log-likelihood, standard errors from the Hessian, and warns
with cause and fix when something is off.

What a subclass implements
--------------------------
``_param_names : tuple[str, ...]`` (class attribute)
    Names of the parameters, in the order of the arrays below, e.g. ``("r", "alpha", "a", "b")``.
``_data_columns : tuple[str, ...]`` (class attribute, optional)
    Summary columns the likelihood needs, default ``("frequency", "recency", "T")``;
    Gamma-Gamma uses ``("frequency", "monetary_value")``.
``_log_likelihood(self, params, *columns) -> numpy.ndarray`` (required)
    Log-likelihood of each (distinct) row. ``params`` is a float array of the parameters on their
    natural (positive) scale, in ``_param_names`` order; ``columns`` are float64 arrays, one per
    ``_data_columns`` entry, all of the same length. Must be vectorized (no Python loop over
    rows) and return finite values for every valid row.
``_prepare(self, *columns) -> tuple`` (optional)
    Precompute data-only pieces once per fit (e.g. the distinct values of x and T with their
    inverse index, so ``gammaln`` or ``log`` run over a few hundred values instead of every
    row). Whatever it returns is passed to ``_log_likelihood`` and ``_log_likelihood_gradient``
    in place of ``columns``; the default returns ``columns`` unchanged.
``_initial_params(self, *columns, weights) -> numpy.ndarray`` (optional)
    Starting values on the natural scale; default all ones. Good starting values matter more
    than the optimizer.
``_log_likelihood_gradient(self, params, *columns) -> numpy.ndarray`` (optional)
    Gradient of each row's log-likelihood with respect to the natural-scale parameters, shape
    ``(n_rows, n_params)``. When it is absent, central finite differences are used.
``_weighted_log_likelihood(self, weights, *prepared) -> callable`` (optional)
    Returns ``evaluate(params, gradient) -> (total, grad)``: the weighted total
    ``weights @ _log_likelihood(params, *prepared)`` and, when ``gradient`` is true, its gradient
    ``weights @ _log_likelihood_gradient(...)`` (else ``None``). The default does exactly that;
    a model overrides it for speed, folding the weights into per-value sums once per fit so an
    evaluation does less work per row (BG/NBD, Gamma-Gamma). The per-row methods above stay the
    reference the fast path is tested against.
``_select_rows(self, frame) -> pandas.DataFrame`` (optional)
    Rows of the summary the model is fitted on, default all (Gamma-Gamma: repeat buyers).
``_check_data(self, frame) -> None`` (optional)
    Extra checks raising :class:`~custkit.errors.DataError`, called after the base checks
    (required columns, finite, non-negative, integer ``frequency``, ``recency <= T``). The base
    already raises when no row has ``frequency > 0`` (no repeat buyers).

Everything else — ``fit``, ``params_``, ``log_likelihood_``, ``standard_errors_``,
``confidence_intervals_``, ``summary_``, ``save``/``load`` — comes from the base. Prediction
methods are the subclass's own; :meth:`BaseFitter._params_tuple`, :class:`Distinct` (for
``_prepare``) and :func:`as_float_arrays` / :func:`like_input` help to write them vectorized
and aligned to the input's index.

The objective
-------------
``fit`` first rescales the data to their own units: time divided by the largest T (max T = 1,
as ``lifetimes`` does), spend (Gamma-Gamma) by the repeat buyers' mean spend (``_scales``). On
those data it minimizes ``-(sum of weighted row log-likelihoods) / n_customers + penalizer *
sum(params**2)`` over the log of the parameters with L-BFGS-B, then multiplies the time- and
money-valued parameters (alpha, beta, v) back to the data's own scale. So the penalty is
scale-free: a fit in days, weeks or months, in dollars or roubles, gives the same forecasts
(``tests/ltv/test_penalty.py``: within 1e-6 on CDNOW master), and BG/NBD's penalised fit is
``lifetimes``' ``BetaGeoFitter(penalizer_coef=...)``. The per-customer mean keeps the
objective's scale independent of the base size and makes ``penalizer`` mean the same as in
``lifetimes``; it also means a fixed penalty weighs as much against a million customers'
likelihood as against a thousand's, so the default is 0 (plain maximum likelihood) and
:func:`fit_with_fallback` uses :data:`FALLBACK_PENALIZER` only when the plain fit is not usable.
That strength (3e-5) keeps every model's penalised fit on CDNOW master (23,570 customers)
well inside the plain fit's 95% likelihood-ratio region (2ΔLL: BG/NBD 0.34, Gamma-Gamma 1.12;
1e-4 gave 2.5 and 7.1, 0.001 gave 42 and 108) and still stops MBG/NBD's a and b running to
infinity on the demo store. Because the penalty is on the per-customer mean, the same strength
moves a fit on a larger base further (2ΔLL grows about in proportion to the customers). An L2
penalty pulls parameters towards 0: it stops parameters running to infinity (BG/NBD's a and b
on stores where most customers buy once) but cannot lift one that runs to 0 (Pareto/NBD's s,
BG/NBD's a); such a fit stays ``at_bound`` and not ``usable_``.

``log_likelihood_`` is the TOTAL log-likelihood (without the penalty) of the data as given,
comparable to the papers. Standard errors come from a finite-difference Hessian of the total
negative log-likelihood in log-parameter space (the same on either scale), mapped back with the
delta method (``se = params * se_log``); the 95% intervals are ``exp(log(param) ± 1.96
se_log)``, so they stay positive.

Fit diagnostics
---------------
Every fit sets ``fit_issues_`` (codes from :data:`ISSUE_CODES`), ``fit_messages_`` (one sentence
per issue with cause and fix, the texts of the :class:`ConvergenceWarning` s raised),
``penalizer_used_`` and ``usable_`` (False when the fit is ``not_converged``, ``at_bound`` or
``se_undefined``); ``save``/``load`` keep them.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import gammaln, xlogy

from custkit.errors import DataError, NotFittedError, ParamsError

_Z95 = 1.959963984540054
_LOW, _HIGH = 1e-6, 1e6  # a parameter outside these has run to a bound of the likelihood
_LOG_BOUND = 30.0  # optimizer box in log-space: exp(±30) ≈ 1e±13
_GRADIENT_TOL = 1e-6  # per-customer objective: a line search stopping below this has converged
_TIME_UNITS = ("D", "W", "M")

#: Codes a fit can report in ``fit_issues_``, in the order they are listed.
ISSUE_CODES = ("not_converged", "at_bound", "se_undefined", "penalized", "mean_undefined")
#: Issues that make a fit unusable: its parameters do not maximize a well-defined likelihood.
BLOCKING_ISSUES = ("not_converged", "at_bound", "se_undefined")
#: Strength of the scale-free penalty :func:`fit_with_fallback` uses when the plain fit diverges.
FALLBACK_PENALIZER = 3e-5


class ConvergenceWarning(UserWarning):
    """A model fit may not be trustworthy; the message names the cause and the fix."""


@dataclass(frozen=True)
class Distinct:
    """The distinct values of a data column and, per row, the position of its value.

    ``f(column)`` equals ``f(d.values)[d.index]``: evaluate an expensive function (``gammaln``,
    ``log``) once per distinct value, then gather.
    """

    values: np.ndarray
    index: np.ndarray

    @classmethod
    def of(cls, column: np.ndarray) -> Distinct:
        values, index = np.unique(column, return_inverse=True)
        return cls(values, index.reshape(-1))


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """``a @ b`` of two 1-d float arrays, summed in numpy's own loop rather than by BLAS.

    OpenBLAS hands a dot product of a few hundred thousand rows to its thread pool; between the
    other vector operations of a likelihood evaluation its threads fall asleep, and waking them
    on a busy 2-core machine costs more than the sum itself (BG/NBD fit on 1M customers: 1.9 s
    with BLAS dots, 0.6 s without). ``einsum`` without ``optimize`` stays on one thread.
    """
    return float(np.einsum("i,i->", a, b))


def as_float_arrays(*values: Any) -> tuple[np.ndarray, ...]:
    """Broadcast scalars / arrays / Series to float64 arrays of one common shape."""
    arrays = [np.asarray(v, dtype=np.float64) for v in values]
    return tuple(np.broadcast_arrays(*arrays))


def like_input(result: np.ndarray, *inputs: Any, name: str | None = None) -> Any:
    """Return *result* as a Series on the index of the first Series among *inputs*.

    Scalars in give a float out; arrays in give an array out.
    """
    for value in inputs:
        if isinstance(value, pd.Series) and len(value) == np.size(result):
            return pd.Series(np.asarray(result).reshape(-1), index=value.index, name=name)
    if np.ndim(result) == 0:
        return float(result)
    return result


def log_nbd_pmf(x: np.ndarray, r: Any, alpha: Any, t: Any) -> np.ndarray:
    """log P(X(t) = x) of the Poisson–gamma (NBD) count: rate λ ~ Gamma(r, alpha), period t.

    ``Γ(r+x) / (Γ(r) x!) · (α/(α+t))^r · (t/(α+t))^x``; ``xlogy`` gives 0 at x = 0, t = 0.
    """
    log_at = np.log(alpha + t)
    return (
        gammaln(r + x)
        - gammaln(r)
        - gammaln(x + 1.0)
        + r * (np.log(alpha) - log_at)
        + xlogy(x, t)
        - x * log_at
    )


def check_purchase_counts(x: Any, t: Any) -> tuple[np.ndarray, np.ndarray]:
    """*x* (whole numbers >= 0) and *t* (>= 0) as float arrays, else :class:`ParamsError`."""
    x_, t_ = (np.asarray(v, dtype=np.float64) for v in (x, t))
    if not (np.isfinite(x_).all() and (x_ >= 0).all() and (x_ == np.round(x_)).all()):
        raise ParamsError(
            f"x must be whole numbers of purchases >= 0. Got {np.ravel(x_)[:5].tolist()!r} instead."
        )
    if not (np.isfinite(t_).all() and (t_ >= 0).all()):
        raise ParamsError(
            f"t must be periods >= 0 in the model's time unit. Got {np.ravel(t_)[:5].tolist()!r} "
            "instead."
        )
    return x_, t_


def purchase_probability(
    x: Any,
    t: Any,
    history: Sequence[Any],
    new_customer: Any,
    p_alive: Any,
    after_history: Any,
) -> Any:
    """P(exactly *x* purchases in *t*) of a purchase model, for a new customer or given a history.

    *history* is ``(frequency, recency, T)``, all None for a new customer, whose probability is
    ``new_customer(x, t)``. Given a history, a customer who has dropped out buys nothing and one
    still alive (``p_alive(frequency, recency, T)``) buys as ``after_history(x, t, frequency, T)``
    (the model's posterior). The callables take float arrays of one shape.
    """
    x_, t_ = check_purchase_counts(x, t)
    if all(v is None for v in history):
        x_, t_ = np.broadcast_arrays(x_, t_)
        return like_input(new_customer(x_, t_), x, t, name="probability")
    if any(v is None for v in history):
        raise ParamsError(
            "probability_of_purchases needs frequency, recency and T together, or none "
            "of them (a new customer)."
        )
    x_, t_, f_, r_, big_t = as_float_arrays(x_, t_, *history)
    alive = np.asarray(p_alive(f_, r_, big_t), dtype=np.float64)
    result = alive * after_history(x_, t_, f_, big_t) + (1.0 - alive) * (x_ == 0)
    return like_input(result, *history, x, t, name="probability")


def check_penalizer(penalizer: Any, owner: str) -> float:
    """*penalizer* as a float if it is a finite number >= 0, else :class:`ParamsError` naming
    *owner* (the model, or the function that passes it on to its models)."""
    pen = penalizer
    ok = isinstance(pen, int | float | np.floating | np.integer) and not isinstance(pen, bool)
    if not ok or not np.isfinite(pen) or pen < 0:
        raise ParamsError(
            f"The 'penalizer' parameter of {owner} must be a float in the "
            f"range [0.0, inf). Got {pen!r} instead."
        )
    return float(pen)


def _quote_rows(frame: pd.DataFrame, mask: np.ndarray, limit: int = 5) -> str:
    ids = frame.index[mask][:limit].tolist()
    more = int(mask.sum()) - len(ids)
    text = ", ".join(repr(i) for i in ids)
    return f"{text} and {more} more" if more > 0 else text


class BaseFitter:
    """Base of the custkit LTV models (see the module docstring for what subclasses implement).

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on the parameters, added to the per-customer mean negative log-likelihood
        (as in ``lifetimes``). Small values (0.001–0.1) stabilize fits on little data.

    Attributes
    ----------
    params_ : dict[str, float]
        Fitted parameters on their natural scale.
    log_likelihood_ : float
        Total log-likelihood of the fitted data (sum over customers, not a mean).
    standard_errors_ : dict[str, float]
        Standard errors (NaN when the Hessian is not positive definite).
    confidence_intervals_ : pandas.DataFrame
        ``lower 95%`` and ``upper 95%`` per parameter.
    summary_ : pandas.DataFrame
        ``coef``, ``se``, ``lower 95%``, ``upper 95%`` per parameter.
    covariance_ : pandas.DataFrame
        Covariance of the log-parameters (inverse Hessian of the total negative log-likelihood).
    n_customers_ : int
        Customers the model was fitted on.
    n_distinct_rows_ : int
        Distinct data rows the likelihood was evaluated on.
    time_unit_ : str or None
        ``"D"``, ``"W"`` or ``"M"``: the unit of recency / T (from ``summary.attrs``).
    data_fingerprint_ : str
        SHA-256 of the compressed data, to tell which data a saved model was fitted on.
    converged_ : bool
        The optimizer reported success.
    optimizer_result_ : scipy.optimize.OptimizeResult
        The raw optimizer output.
    penalizer_used_ : float
        The penalty the fit used; 0.0 for a plain maximum-likelihood fit.
    fit_issues_ : tuple of str
        What is wrong with the fit, a subset of :data:`ISSUE_CODES`: ``"not_converged"``,
        ``"at_bound"`` (a parameter ran outside [1e-6, 1e6] on the scale-free scale),
        ``"se_undefined"`` (Hessian not positive definite), ``"penalized"``
        (``penalizer_used_ > 0``), ``"mean_undefined"`` (Gamma-Gamma q <= 1).
    fit_messages_ : tuple of str
        One plain-English sentence per issue (cause and fix), the texts of the
        :class:`ConvergenceWarning` s the fit raised.
    usable_ : bool
        False when the fit is ``not_converged``, ``at_bound`` or ``se_undefined``: its numbers
        cannot be trusted and a report must not choose the model.
    """

    _param_names: ClassVar[tuple[str, ...]] = ()
    _data_columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T")
    _registry: ClassVar[dict[str, type[BaseFitter]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        BaseFitter._registry[cls.__name__] = cls

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def __repr__(self) -> str:
        if hasattr(self, "params_"):
            shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
            return f"{type(self).__name__}({shown}, fitted on {self.n_customers_} customers)"
        return f"{type(self).__name__}(penalizer={self.penalizer!r})"

    # ------------------------------------------------------------------ hooks for subclasses
    def _log_likelihood(self, params: np.ndarray, *columns: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _initial_params(self, *columns: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return np.ones(len(self._param_names))

    _log_likelihood_gradient = None  # optional: (params, *columns) -> (n_rows, n_params)

    def _weighted_log_likelihood(self, weights: np.ndarray, *prepared: Any) -> Any:
        def evaluate(params: np.ndarray, gradient: bool) -> tuple[float, np.ndarray | None]:
            total = dot(weights, self._log_likelihood(params, *prepared))
            if not gradient:
                return total, None
            gradients = self._log_likelihood_gradient(params, *prepared)
            return total, np.einsum("i,ij->j", weights, gradients)  # no BLAS threads: see dot

        return evaluate

    def _prepare(self, *columns: np.ndarray) -> tuple:
        return columns

    def _scales(self, *columns: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The data's own units: one scale per data column and one per parameter.

        ``fit`` divides each column by its scale (time by the largest T, spend by the repeat
        buyers' mean spend), fits, and multiplies each parameter by its scale (alpha and beta
        are in the time unit, v in the currency). The penalty and the bound check see the
        rescaled parameters, so neither depends on the time unit or the currency. Default:
        nothing is rescaled.
        """
        return np.ones(len(columns)), np.ones(len(self._param_names))

    def _rescaling_log_jacobian(
        self, columns: Sequence[np.ndarray], weights: np.ndarray, column_scales: np.ndarray
    ) -> float:
        """Total log-likelihood on the rescaled data minus that on the data as given.

        A data constant (the likelihood is a density, and rescaling changes its units). This
        default evaluates the likelihood on both at the parameters 1 (an extra pass over the
        data); models override it with the closed form (BG/NBD family: ``Σ x log S``).
        """
        ones = np.ones(len(self._param_names))
        scaled = [c / k for c, k in zip(columns, column_scales, strict=True)]
        on_scaled = self._weighted_log_likelihood(weights, *self._prepare(*scaled))
        as_given = self._weighted_log_likelihood(weights, *self._prepare(*columns))
        _, scales = self._scales(*columns, weights=weights)
        return on_scaled(ones, False)[0] - as_given(ones * scales, False)[0]

    def _select_rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame

    def _check_data(self, frame: pd.DataFrame) -> None:
        return None

    def _remember(self, frame: pd.DataFrame) -> None:
        """Keep what predictions need from the fitted rows besides the parameters."""

    # ------------------------------------------------------------------ validation
    def _validate_params(self) -> float:
        return check_penalizer(self.penalizer, type(self).__name__)

    def _validate_summary(self, summary: pd.DataFrame) -> pd.DataFrame:
        name = type(self).__name__
        if not isinstance(summary, pd.DataFrame):
            raise DataError(
                f"{name}.fit expects a summary DataFrame, got {type(summary).__name__}.",
                hint="build it with custkit.ltv.summarize(orders).",
            )
        missing = [c for c in self._data_columns if c not in summary.columns]
        if missing:
            raise DataError(
                f"the summary lacks the column(s) {missing} that {name} needs.",
                table="summary",
                hint="build it with custkit.ltv.summarize(orders), which adds frequency, "
                "recency, T and monetary_value.",
            )
        if len(summary) == 0:
            raise DataError(f"the summary is empty: {name} has no customers to fit.")
        for col in self._data_columns:
            values = pd.to_numeric(summary[col], errors="coerce").to_numpy(dtype=np.float64)
            bad = ~np.isfinite(values)
            if bad.any():
                raise DataError(
                    f"{int(bad.sum())} row(s) are missing or not finite (customers "
                    f"{_quote_rows(summary, bad)}).",
                    table="summary",
                    column=col,
                    hint="drop those customers or rebuild the summary with custkit.ltv.summarize.",
                )
            neg = values < 0
            if neg.any():
                raise DataError(
                    f"{int(neg.sum())} row(s) are negative "
                    f"(customers {_quote_rows(summary, neg)}).",
                    table="summary",
                    column=col,
                    hint="counts and durations cannot be negative; check the as-of date.",
                )
        if "frequency" in self._data_columns:
            freq = summary["frequency"].to_numpy(dtype=np.float64)
            frac = freq != np.round(freq)
            if frac.any():
                raise DataError(
                    f"{int(frac.sum())} row(s) are not whole numbers (customers "
                    f"{_quote_rows(summary, frac)}).",
                    table="summary",
                    column="frequency",
                    hint="frequency counts repeat purchase periods; use custkit.ltv.summarize.",
                )
            if not (freq > 0).any():
                raise DataError(
                    f"no customer has a repeat purchase (frequency > 0 in none of {len(freq)} "
                    f"rows): {name} cannot be fitted on one-time buyers only.",
                    table="summary",
                    column="frequency",
                    hint="use a longer history (an earlier first date or a later calibration "
                    "end) or a finer time unit.",
                )
        if "recency" in self._data_columns and "T" in self._data_columns:
            rec = summary["recency"].to_numpy(dtype=np.float64)
            big_t = summary["T"].to_numpy(dtype=np.float64)
            late = rec > big_t * (1 + 1e-12) + 1e-12
            if late.any():
                raise DataError(
                    f"recency is greater than T in {int(late.sum())} row(s) (customers "
                    f"{_quote_rows(summary, late)}).",
                    table="summary",
                    column="recency",
                    hint="recency and T must be measured to the same as-of date.",
                )
            zero_rec = (freq > 0) & (rec <= 0) if "frequency" in self._data_columns else None
            if zero_rec is not None and zero_rec.any():
                raise DataError(
                    f"{int(zero_rec.sum())} repeat buyer(s) have recency 0 (customers "
                    f"{_quote_rows(summary, zero_rec)}).",
                    table="summary",
                    column="recency",
                    hint="a repeat purchase lies after the first; merge same-day orders "
                    "(custkit.ltv.summarize does).",
                )
        self._check_data(summary)
        return summary

    # ------------------------------------------------------------------ fitting
    @staticmethod
    def _compress(columns: Sequence[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
        """Distinct rows of *columns* (sorted) and how many customers share each."""
        key = np.zeros(len(columns[0]), dtype=np.int64)
        span = 1
        distinct_values = []
        for column in columns:
            codes, uniques = pd.factorize(column, sort=True)
            span *= max(len(uniques), 1)
            if span >= 2**62:  # the packed key would overflow: sort the rows themselves
                stacked = np.column_stack(columns)
                distinct, counts = np.unique(stacked, axis=0, return_counts=True)
                return [np.ascontiguousarray(distinct[:, j]) for j in range(len(columns))], (
                    counts.astype(np.float64)
                )
            key *= len(uniques)
            key += codes
            distinct_values.append(np.asarray(uniques, dtype=np.float64))
        # sort the packed keys (no argsort), count the runs, and unpack each column's code
        key.sort()
        new_run = np.empty(len(key), dtype=bool)
        new_run[:1] = True
        np.not_equal(key[1:], key[:-1], out=new_run[1:])
        starts = np.flatnonzero(new_run)
        counts = np.diff(starts, append=len(key)).astype(np.float64)
        packed = key[starts]
        out = []
        for uniques in reversed(distinct_values):
            packed, codes = np.divmod(packed, len(uniques))
            out.append(uniques[codes])
        return out[::-1], counts

    def fit(
        self,
        summary: pd.DataFrame,
        *,
        initial_params: dict[str, float] | None = None,
        time_unit: str | None = None,
        maxiter: int = 2000,
    ) -> BaseFitter:
        """Fit the model by maximum likelihood.

        Parameters
        ----------
        summary : pandas.DataFrame
            One row per customer, as built by :func:`custkit.ltv.summarize` (the model's
            ``_data_columns``; other columns are ignored).
        initial_params : dict, optional
            Starting values by parameter name; the model's own guesses otherwise.
        time_unit : {"D", "W", "M"}, optional
            Unit of recency and T; read from ``summary.attrs["time_unit"]`` when not given.
        maxiter : int, default 2000
            Maximum optimizer iterations.

        Returns
        -------
        self
        """
        penalizer = self._validate_params()
        self._validate_summary(summary)
        frame = self._select_rows(summary)
        if time_unit is None:
            time_unit = summary.attrs.get("time_unit")
        if time_unit is not None and time_unit not in _TIME_UNITS:
            raise ParamsError(
                f"The 'time_unit' parameter must be one of {list(_TIME_UNITS)}. "
                f"Got {time_unit!r} instead."
            )
        if time_unit is None:
            warnings.warn(
                f"{type(self).__name__}: the summary does not say its time unit, so predictions "
                "cannot say whether t counts days, weeks or months. Build the summary with "
                "custkit.ltv.summarize or pass fit(..., time_unit='W').",
                UserWarning,
                stacklevel=2,
            )
        raw = [frame[c].to_numpy(dtype=np.float64) for c in self._data_columns]
        columns, weights = self._compress(raw)
        n_customers = float(weights.sum())
        n_params = len(self._param_names)
        # fit on the data in its own units (max T = 1, mean spend = 1): the optimizer's path,
        # the penalty and the bound check are the same whatever the time unit or currency
        column_scales, scales = (
            np.asarray(v, dtype=np.float64) for v in self._scales(*columns, weights=weights)
        )
        rescaled = bool((column_scales != 1).any())
        scaled_columns = (
            [c / k for c, k in zip(columns, column_scales, strict=True)] if rescaled else columns
        )

        start = np.asarray(self._initial_params(*scaled_columns, weights=weights), dtype=float)
        if initial_params is not None:
            unknown = set(initial_params) - set(self._param_names)
            if unknown:
                raise ParamsError(
                    f"initial_params names unknown parameter(s) {sorted(unknown)}; "
                    f"{type(self).__name__} has {list(self._param_names)}."
                )
            for i, name in enumerate(self._param_names):
                if name in initial_params:
                    start[i] = float(initial_params[name]) / scales[i]
        if start.shape != (n_params,) or not (np.isfinite(start).all() and (start > 0).all()):
            raise ParamsError(
                f"initial parameters must be {n_params} positive numbers. "
                f"Got {start * scales!r} instead."
            )

        prepared = self._prepare(*scaled_columns)
        evaluate = self._weighted_log_likelihood(weights, *prepared)

        def total_ll(log_params: np.ndarray) -> float:
            return evaluate(np.exp(log_params), False)[0]

        def objective(log_params: np.ndarray) -> float:
            params = np.exp(log_params)
            value = -total_ll(log_params) / n_customers + penalizer * float(params @ params)
            return value if np.isfinite(value) else 1e300

        fun: Any = objective
        jac: Any = "3-point"
        if self._log_likelihood_gradient is not None:
            # value and gradient share most of their terms: one pass gives both (jac=True)
            def objective_and_jac(log_params: np.ndarray) -> tuple[float, np.ndarray]:
                params = np.exp(log_params)
                total, grad = evaluate(params, True)
                value = -total / n_customers + penalizer * float(params @ params)
                jac_value = (-grad / n_customers + 2 * penalizer * params) * params
                return (value if np.isfinite(value) else 1e300), jac_value

            def jac(log_params: np.ndarray) -> np.ndarray:
                return objective_and_jac(log_params)[1]

            fun = objective_and_jac

        with np.errstate(all="ignore"):
            result = optimize.minimize(
                fun,
                np.log(start),
                jac=True if callable(jac) else jac,
                method="L-BFGS-B",
                bounds=[(-_LOG_BOUND, _LOG_BOUND)] * n_params,
                options={"maxiter": maxiter, "ftol": 1e-13, "gtol": 1e-9, "maxcor": 20},
            )
            log_hat = result.x
            params = np.exp(log_hat) * scales
            # the Hessian in log-parameters is the same on either scale; the log-likelihood
            # differs by a constant (the Jacobian of the rescaling), so it is evaluated on the
            # data as given, comparable to the papers
            log_likelihood = total_ll(log_hat)
            if rescaled:
                log_likelihood -= self._rescaling_log_jacobian(columns, weights, column_scales)
            if callable(jac):  # differences of the analytic gradient: 2n instead of ~2n² calls
                hessian = self._hessian_from_gradient(lambda lp: n_customers * jac(lp), log_hat)
            else:
                hessian = self._hessian(
                    lambda lp: (
                        -total_ll(lp) + n_customers * penalizer * float(np.exp(lp) @ np.exp(lp))
                    ),
                    log_hat,
                )

        self.params_ = {k: float(v) for k, v in zip(self._param_names, params, strict=True)}
        self.log_likelihood_ = float(log_likelihood)
        self.n_customers_ = round(n_customers)
        self.n_distinct_rows_ = len(weights)
        self.time_unit_ = time_unit
        self.data_fingerprint_ = self._fingerprint(columns, weights)
        self.converged_ = self._converged(result)
        self.optimizer_result_ = result
        self.penalizer_used_ = penalizer
        self.parameter_scales_ = {
            k: float(v) for k, v in zip(self._param_names, scales, strict=True)
        }
        self._set_uncertainty(hessian)
        self._remember(frame)
        self._diagnose(result)
        return self

    @staticmethod
    def _converged(result: optimize.OptimizeResult) -> bool:
        """The optimizer converged, or its line search gave up at the optimum.

        L-BFGS-B reports ``ABNORMAL`` (status 2) when no step lowers the objective any more,
        which at the optimum is a matter of rounding: whether it says so or converges can flip
        between the same data in days and in weeks. A gradient of the per-customer objective
        below ``_GRADIENT_TOL`` there is an optimum (moving to the exact one would change the
        total log-likelihood by about ``n · gradient²``, far below 0.01 even on a million
        customers).
        """
        if result.success:
            return True
        gradient = np.asarray(getattr(result, "jac", np.nan), dtype=float)
        return bool(
            result.status == 2
            and np.isfinite(gradient).all()
            and np.abs(gradient).max() <= _GRADIENT_TOL
        )

    @staticmethod
    def _hessian(func: Any, x: np.ndarray, step: float = 1e-4) -> np.ndarray:
        """Central finite-difference Hessian of *func* at *x*."""
        n = len(x)
        h = np.full(n, step)
        f0 = func(x)
        hess = np.empty((n, n))
        for i in range(n):
            ei = np.zeros(n)
            ei[i] = h[i]
            hess[i, i] = (func(x + ei) - 2 * f0 + func(x - ei)) / h[i] ** 2
            for j in range(i):
                ej = np.zeros(n)
                ej[j] = h[j]
                value = (
                    func(x + ei + ej) - func(x + ei - ej) - func(x - ei + ej) + func(x - ei - ej)
                ) / (4 * h[i] * h[j])
                hess[i, j] = hess[j, i] = value
        return hess

    @staticmethod
    def _hessian_from_gradient(grad: Any, x: np.ndarray, step: float = 1e-5) -> np.ndarray:
        """Central differences of an analytic gradient, symmetrized."""
        n = len(x)
        hess = np.empty((n, n))
        for i in range(n):
            e = np.zeros(n)
            e[i] = step
            hess[i] = (grad(x + e) - grad(x - e)) / (2 * step)
        return (hess + hess.T) / 2

    def _set_uncertainty(self, hessian: np.ndarray) -> None:
        names = list(self._param_names)
        params = np.array([self.params_[k] for k in names])
        self._hessian_pd = False
        cov = np.full_like(hessian, np.nan)
        if np.isfinite(hessian).all():
            try:
                np.linalg.cholesky(hessian)
                cov = np.linalg.inv(hessian)
                self._hessian_pd = True
            except np.linalg.LinAlgError:
                pass
        with np.errstate(over="ignore", invalid="ignore"):
            se_log = np.sqrt(np.diag(cov))
            se = params * se_log
            lower = params * np.exp(-_Z95 * se_log)
            upper = params * np.exp(_Z95 * se_log)
        self.covariance_ = pd.DataFrame(cov, index=names, columns=names)
        self.standard_errors_ = {k: float(v) for k, v in zip(names, se, strict=True)}
        self.confidence_intervals_ = pd.DataFrame(
            {"lower 95%": lower, "upper 95%": upper}, index=pd.Index(names, name="param")
        )
        self.summary_ = pd.DataFrame(
            {"coef": params, "se": se, "lower 95%": lower, "upper 95%": upper},
            index=pd.Index(names, name="param"),
        )
        self.summary_.attrs["time_unit"] = self.time_unit_
        self.summary_.attrs["log_likelihood"] = self.log_likelihood_
        self.summary_.attrs["n_customers"] = self.n_customers_

    def _fit_issue_list(self, optimizer_message: str = "") -> list[tuple[str, str]]:
        """The fit's issues as ``(code, message)`` pairs, in :data:`ISSUE_CODES` order."""
        name = type(self).__name__
        issues: list[tuple[str, str]] = []
        if not self.converged_:
            why = f" ({optimizer_message})" if optimizer_message else ""
            issues.append(
                (
                    "not_converged",
                    f"{name}: the optimizer stopped without converging{why}; the parameters "
                    "may not maximize the likelihood. Fix: pass fit(..., maxiter=...) higher, "
                    "start from other initial_params, or fit with "
                    "custkit.ltv.fit_with_fallback, which adds a small penalty when the plain "
                    "fit diverges.",
                )
            )
        at_bound = [
            f"{k} = {v:.3g}"
            for k, v in self._bound_check_params().items()
            if not (_LOW <= v <= _HIGH)
        ]
        if at_bound:
            issues.append(
                (
                    "at_bound",
                    f"{name}: parameter(s) {', '.join(at_bound)} ran to a bound (outside "
                    f"[{_LOW:g}, {_HIGH:g}]): the data hardly inform them (few repeat buyers, a "
                    "short calibration period, or a model that does not fit). Fix: use a longer "
                    "history, choose a simpler model, or set a small penalizer (0.001–0.1).",
                )
            )
        se = np.array(list(self.standard_errors_.values()), dtype=float)
        if not self._hessian_pd or not np.isfinite(se).all():
            issues.append(
                (
                    "se_undefined",
                    f"{name}: the Hessian at the optimum is not positive definite, so standard "
                    "errors and confidence intervals are undefined (the likelihood is flat in some "
                    "direction). Fix: use more data or set a small penalizer (0.001).",
                )
            )
        if self.penalizer_used_ > 0:
            issues.append(
                (
                    "penalized",
                    f"{name} was fitted with a penalty (penalizer = "
                    f"{self.penalizer_used_:g}), which pulls the parameters away from the "
                    "maximum-likelihood fit. Fix: none needed if chosen on purpose; set "
                    "penalizer=0 for the plain maximum-likelihood fit.",
                )
            )
        issues.extend(self._model_issues())
        return issues

    def _bound_check_params(self) -> dict[str, float]:
        """Parameters in the data's own units (``params_ / parameter_scales_``), as checked
        against the bounds ``[_LOW, _HIGH]``: whether a fit ran to a bound does not depend on
        the time unit or the currency."""
        scales = getattr(self, "parameter_scales_", {})
        return {k: v / scales.get(k, 1.0) for k, v in self.params_.items()}

    def _model_issues(self) -> list[tuple[str, str]]:
        """Issues of one model's own (Gamma-Gamma: ``mean_undefined``)."""
        return []

    def _set_issues(self, issues: list[tuple[str, str]]) -> None:
        self.fit_issues_ = tuple(code for code, _ in issues)
        self.fit_messages_ = tuple(message for _, message in issues)
        self.usable_ = not any(code in BLOCKING_ISSUES for code in self.fit_issues_)

    def _diagnose(self, result: optimize.OptimizeResult) -> None:
        issues = self._fit_issue_list(str(result.message))
        self._set_issues(issues)
        for code, message in issues:
            if code != "penalized":  # a penalty chosen by the caller is no surprise
                warnings.warn(message, ConvergenceWarning, stacklevel=3)

    @staticmethod
    def _fingerprint(columns: Sequence[np.ndarray], weights: np.ndarray) -> str:
        digest = hashlib.sha256()
        for array in (*columns, weights):
            digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
        return digest.hexdigest()

    # ------------------------------------------------------------------ helpers for subclasses
    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet: call fit(summary) or "
                f"{type(self).__name__}.load(path) first."
            )

    def _params_tuple(self) -> tuple[float, ...]:
        """Fitted parameters in ``_param_names`` order (raises when not fitted)."""
        self._check_fitted()
        return tuple(self.params_[k] for k in self._param_names)

    # ------------------------------------------------------------------ persistence
    def _extra_state(self) -> dict:
        """Fitted values a model needs besides its parameters (saved by :meth:`save`)."""
        return {}

    def _load_extra_state(self, state: dict) -> None:
        """Restore what :meth:`_extra_state` saved."""

    def save(self, path: str | Path) -> Path:
        """Write the fitted model as JSON (params, log-likelihood, time unit, fingerprint…).

        Returns
        -------
        pathlib.Path
            The file written.
        """
        from custkit import __version__

        self._check_fitted()
        path = Path(path)
        payload = {
            "model": type(self).__name__,
            "custkit_version": __version__,
            "params": self.params_,
            "penalizer": float(self.penalizer),
            "log_likelihood": self.log_likelihood_,
            "standard_errors": {
                k: (None if not np.isfinite(v) else v) for k, v in self.standard_errors_.items()
            },
            "covariance": (self.covariance_.to_numpy().tolist() if self._hessian_pd else None),
            "n_customers": self.n_customers_,
            "n_distinct_rows": self.n_distinct_rows_,
            "time_unit": self.time_unit_,
            "data_fingerprint": self.data_fingerprint_,
            "converged": self.converged_,
            "penalizer_used": self.penalizer_used_,
            "parameter_scales": self.parameter_scales_,
            "fit_issues": list(self.fit_issues_),
            "fit_messages": list(self.fit_messages_),
            "usable": self.usable_,
            "extra": self._extra_state(),
        }
        path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> BaseFitter:
        """Read a model written by :meth:`save`.

        Called on :class:`BaseFitter` it returns the saved model's class; called on a model
        class it raises :class:`~custkit.errors.DataError` when the file holds another model.
        """
        path = Path(path)
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            model = payload["model"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DataError(f"cannot read a saved model: {exc}", file=str(path)) from exc
        target = BaseFitter._registry.get(model)
        if target is None or (cls is not BaseFitter and target is not cls):
            raise DataError(
                f"the file holds a {model} model, not a {cls.__name__}.",
                file=str(path),
                hint=f"load it with custkit.ltv.{model}.load(path) or BaseFitter.load(path).",
            )
        self = target(penalizer=payload.get("penalizer", 0.0))
        self.params_ = {k: float(payload["params"][k]) for k in target._param_names}
        self.log_likelihood_ = float(payload["log_likelihood"])
        self.n_customers_ = int(payload["n_customers"])
        self.n_distinct_rows_ = int(payload.get("n_distinct_rows", 0))
        self.time_unit_ = payload.get("time_unit")
        self.data_fingerprint_ = payload.get("data_fingerprint")
        self.converged_ = bool(payload.get("converged", True))
        self._load_extra_state(payload.get("extra") or {})
        self.optimizer_result_ = None
        cov = payload.get("covariance")
        names = list(target._param_names)
        if cov is not None:
            # rebuild the intervals from the stored covariance (the Hessian's inverse)
            self._set_uncertainty(np.linalg.inv(np.asarray(cov, dtype=float)))
        else:
            self._set_uncertainty(np.full((len(names), len(names)), np.nan))
        self.penalizer_used_ = float(payload.get("penalizer_used", payload.get("penalizer", 0.0)))
        scales = payload.get("parameter_scales") or {}
        self.parameter_scales_ = {k: float(scales.get(k, 1.0)) for k in target._param_names}
        if "fit_issues" in payload:
            self.fit_issues_ = tuple(payload["fit_issues"])
            self.fit_messages_ = tuple(payload.get("fit_messages", ()))
            self.usable_ = bool(payload.get("usable", True))
        else:  # a file saved before custkit reported issues: diagnose again, quietly
            self._set_issues(self._fit_issue_list())
        return self


def fit_with_fallback(
    model: BaseFitter,
    summary: pd.DataFrame,
    *,
    fallback_penalizer: float = FALLBACK_PENALIZER,
    **fit_kwargs: Any,
) -> BaseFitter:
    """Fit *model* by plain maximum likelihood; refit with a small penalty only if that fails.

    The plain fit (penalizer 0) is returned when it is usable (``usable_``). Otherwise the
    model is refitted with the scale-free penalty *fallback_penalizer* and the penalised model
    is returned: its ``fit_issues_`` contain ``"penalized"`` and its ``fit_messages_`` say that
    the plain fit diverged and why. The plain fit's warnings are replaced by one warning saying
    so; the penalised fit's own warnings (if it is still not usable) are raised as usual.

    Parameters
    ----------
    model : BaseFitter
        A model instance (fitted or not); its ``penalizer`` is set to 0 for the plain fit.
    summary : pandas.DataFrame
        As for :meth:`BaseFitter.fit`.
    fallback_penalizer : float, default FALLBACK_PENALIZER
        Strength of the penalty of the refit, > 0.
    **fit_kwargs
        Passed on to :meth:`BaseFitter.fit` (``time_unit``, ``maxiter``, ``initial_params``).

    Returns
    -------
    BaseFitter
        The plain model (the same object as *model*) or a new penalised one of its class.
    """
    if not isinstance(model, BaseFitter):
        raise ParamsError(
            "The 'model' parameter of fit_with_fallback must be a custkit.ltv model "
            f"(BGNBD, MBGNBD, ParetoNBD or GammaGamma). Got {type(model).__name__!r} instead."
        )
    strength = check_penalizer(fallback_penalizer, "fit_with_fallback")
    if strength == 0:
        raise ParamsError(
            "The 'fallback_penalizer' parameter of fit_with_fallback must be a float in the "
            f"range (0.0, inf). Got {fallback_penalizer!r} instead."
        )
    model.penalizer = 0.0
    with warnings.catch_warnings(record=True) as plain_warnings:
        warnings.simplefilter("always")
        model.fit(summary, **fit_kwargs)
    if model.usable_:
        for caught in plain_warnings:  # e.g. Gamma-Gamma's q <= 1, or a missing time unit
            warnings.warn_explicit(caught.message, caught.category, caught.filename, caught.lineno)
        return model
    diverged = ", ".join(
        code.replace("_", " ") for code in model.fit_issues_ if code in BLOCKING_ISSUES
    )
    penalised = type(model)(penalizer=strength)
    penalised.fit(summary, **fit_kwargs)
    name = type(model).__name__
    text = (
        f"{name}: the plain maximum-likelihood fit diverged ({diverged}), so the model was "
        f"refitted with a small scale-free penalty (penalizer = {strength:g}), which keeps "
        "the parameters finite at a small cost in fit. Fix: use a longer history or more "
        "customers, or choose a simpler model."
    )
    messages = list(penalised.fit_messages_)
    messages[penalised.fit_issues_.index("penalized")] = text
    penalised.fit_messages_ = tuple(messages)
    penalised.plain_fit_issues_ = model.fit_issues_
    warnings.warn(text, ConvergenceWarning, stacklevel=2)
    return penalised
