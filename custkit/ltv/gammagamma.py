"""Gamma-Gamma: the spend-per-purchase model of the repeat buyers.

Fader, Hardie & Lee (2005b), "RFM and CLV: using iso-value curves for customer base analysis",
*Journal of Marketing Research* 42(4), and Fader & Hardie's note "The Gamma-Gamma model of
monetary value" (2013). A customer's purchase values are Gamma(p, ν) with ν ~ Gamma(q, γ); the
model is fitted on the repeat buyers' number of repeat purchases ``frequency`` and mean repeat
purchase value ``monetary_value`` (both from :func:`custkit.ltv.summarize`). It assumes spend
does not depend on purchase frequency — check that the correlation between the two is weak.
The third parameter is called ``v`` (γ in the papers). See :mod:`custkit.ltv.base` for why this
is our own code rather than ``lifetimes``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from custkit.errors import DataError
from custkit.ltv.base import (
    BaseFitter,
    Distinct,
    _quote_rows,
    as_float_arrays,
    dot,
    like_input,
)


class GammaGamma(BaseFitter):
    """Gamma-Gamma spend model (parameters p, q, v).

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on the parameters (see :class:`~custkit.ltv.base.BaseFitter`).

    Attributes
    ----------
    n_zero_value_excluded_ : int
        Repeat buyers left out of the fit because their repeat purchases are all worth 0.
    mean_defined_ : bool
        q > 1: the model's mean spend is finite. When False, ``fit_issues_`` holds
        ``"mean_undefined"`` and :meth:`expected_spend` uses its fallback.
    mean_repeat_spend_, median_repeat_spend_ : float
        The repeat buyers' average purchase value and the median of their averages.

    Notes
    -----
    ``fit`` uses only customers with ``frequency > 0`` and positive ``monetary_value``;
    ``n_customers_`` counts them.
    """

    _param_names = ("p", "q", "v")
    _data_columns = ("frequency", "monetary_value")

    def _select_rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        # repeat buyers whose repeat purchases are all free carry no spend to fit: left out and
        # counted (n_zero_value_excluded_), so one free order does not stop the report
        repeat = frame["frequency"].to_numpy() > 0
        zero = repeat & (frame["monetary_value"].to_numpy(dtype=np.float64) == 0)
        self.n_zero_value_excluded_ = int(zero.sum())
        if zero.any():
            warnings.warn(
                f"Gamma-Gamma: {int(zero.sum())} repeat buyer(s) whose repeat purchases are all "
                f"worth 0 (customers {_quote_rows(frame, zero)}) are left out of the spend fit "
                "(n_zero_value_excluded_); their expected spend is predicted like any "
                "customer's.",
                UserWarning,
                stacklevel=4,
            )
        return frame.loc[repeat & ~zero]

    def _check_data(self, frame: pd.DataFrame) -> None:
        repeat = frame["frequency"].to_numpy() > 0
        value = frame["monetary_value"].to_numpy(dtype=np.float64)
        bad = repeat & (value < 0)
        if bad.any():
            raise DataError(
                f"{int(bad.sum())} repeat buyer(s) have a negative mean purchase value "
                f"(customers {_quote_rows(frame, bad)}); Gamma-Gamma needs spend of 0 or more.",
                table="summary",
                column="monetary_value",
                hint="drop refunds (negative orders) before summarizing, or drop those "
                "customers from the summary.",
            )
        if not (repeat & (value > 0)).any():
            raise DataError(
                f"no repeat buyer has a positive mean purchase value ({int(repeat.sum())} "
                "repeat buyer(s), all worth 0): Gamma-Gamma has no spend to fit.",
                table="summary",
                column="monetary_value",
                hint="check that the orders' revenue column is read correctly.",
            )

    def _initial_params(self, x: np.ndarray, m: np.ndarray, *, weights) -> np.ndarray:
        mean = float(weights @ m) / float(weights.sum())
        # p·v/(q−1) is the mean spend: start from q = 3, p = 4 and solve for v
        return np.array([4.0, 3.0, max(mean * 2.0 / 4.0, 1e-6)])

    def _scales(self, x, m, *, weights) -> tuple[np.ndarray, np.ndarray]:
        # spend rescaled by the repeat buyers' mean spend; v is in the currency
        mean = float(weights @ m) / float(weights.sum())
        return np.array([1.0, mean]), np.array([1.0, 1.0, mean])

    def _rescaling_log_jacobian(self, columns, weights, column_scales) -> float:
        # one mean spend per customer, in spend / M: its density gains a factor M
        return float(weights.sum()) * float(np.log(column_scales[1]))

    def _prepare(self, x, m) -> tuple[Distinct, np.ndarray, np.ndarray, np.ndarray]:
        # x·m and log(x·m) are data-only: computed once, not at every likelihood evaluation
        return Distinct.of(x), x, x * m, np.log(x * m)

    def _log_likelihood(self, params: np.ndarray, dx, x, xm, log_xm) -> np.ndarray:
        # (px − 1) log m + px log x  =  px log(xm) − log m  =  px log(xm) − log(xm) + log x
        p, q, v = params
        ux = dx.values
        per_x = gammaln(p * ux + q) - gammaln(p * ux) - gammaln(q) + q * np.log(v) + np.log(ux)
        px = p * x
        return per_x[dx.index] + (px - 1) * log_xm - (px + q) * np.log(xm + v)

    def _log_likelihood_gradient(self, params: np.ndarray, dx, x, xm, log_xm) -> np.ndarray:
        p, q, v = params
        ux, ix = dx.values, dx.index
        log_xmv = np.log(xm + v)
        psi_pxq = digamma(p * ux + q)
        d_p = (ux * (psi_pxq - digamma(p * ux)))[ix] + x * (log_xm - log_xmv)
        d_q = (psi_pxq - digamma(q) + np.log(v))[ix] - log_xmv
        d_v = q / v - (p * x + q) / (xm + v)
        return np.column_stack([d_p, d_q, d_v])

    def _weighted_log_likelihood(self, weights: np.ndarray, dx, x, xm, log_xm):
        """Weighted total log-likelihood and gradient with the weights folded in once per fit.

        Per row ``(px − 1) log(xm) − (px + q) log(xm + v)`` is
        ``p·x·(log(xm) − log(xm + v)) − log(xm) − q·log(xm + v)``: with ``w·x`` and
        ``Σ w log(xm)`` computed once, an evaluation takes one log, one division and a few sums
        per row. Same value as ``weights @ _log_likelihood(...)`` up to rounding
        (``tests/ltv/test_gammagamma.py``).
        """
        ux = dx.values
        n = float(weights.sum())
        w_x = np.bincount(dx.index, weights=weights, minlength=len(ux))
        wx = weights * x
        sum_w_log_xm = dot(weights, log_xm)
        log_xmv = np.empty(len(x))
        diff = np.empty(len(x))
        inv = np.empty(len(x))

        def evaluate(params: np.ndarray, gradient: bool) -> tuple[float, np.ndarray | None]:
            p, q, v = params
            np.log(np.add(xm, v, out=inv), out=log_xmv)
            np.subtract(log_xm, log_xmv, out=diff)
            per_x = gammaln(p * ux + q) - gammaln(p * ux) - gammaln(q) + q * np.log(v) + np.log(ux)
            total = float(w_x @ per_x) + p * dot(wx, diff) - sum_w_log_xm
            total -= q * dot(weights, log_xmv)
            if not gradient:
                return total, None
            psi_pxq = digamma(p * ux + q)
            np.reciprocal(inv, out=inv)  # 1 / (xm + v)
            d_p = float(w_x @ (ux * (psi_pxq - digamma(p * ux)))) + dot(wx, diff)
            d_q = float(w_x @ (psi_pxq - digamma(q) + np.log(v))) - dot(weights, log_xmv)
            d_v = n * q / v - (p * dot(wx, inv) + q * dot(weights, inv))
            return total, np.array([d_p, d_q, d_v])

        return evaluate

    def fit(self, summary: pd.DataFrame, **kwargs: Any) -> GammaGamma:
        """Fit on the repeat buyers of *summary* with positive spend; see :meth:`BaseFitter.fit`.

        Repeat buyers whose repeat purchases are all worth 0 are left out and counted in
        ``n_zero_value_excluded_``. Also stores ``mean_repeat_spend_`` (the repeat buyers'
        average purchase value) and ``median_repeat_spend_`` (the median of their averages),
        and ``mean_defined_`` (q > 1); when q <= 1 the fit reports ``"mean_undefined"`` and
        :meth:`expected_spend` uses its fallback.
        """
        return super().fit(summary, **kwargs)

    def _remember(self, frame: pd.DataFrame) -> None:
        x = frame["frequency"].to_numpy(np.float64)
        m = frame["monetary_value"].to_numpy(np.float64)
        self.mean_repeat_spend_ = float((x * m).sum() / x.sum())
        self.median_repeat_spend_ = float(np.median(m))
        self.mean_defined_ = bool(self.params_["q"] > 1)

    def _model_issues(self) -> list[tuple[str, str]]:
        if self.params_["q"] > 1:
            return []
        median = getattr(self, "median_repeat_spend_", float("nan"))
        return [
            (
                "mean_undefined",
                f"Gamma-Gamma fitted q = {self.params_['q']:.3f} <= 1: spend per purchase is so "
                "spread out that the model's mean spend is infinite, so expected spend falls back "
                "to each customer's own average purchase value shrunk towards the median of the "
                f"repeat buyers' averages ({median:,.2f}; customers without repeat purchases get "
                "the median). Fix: check for extreme order values (wholesale orders, typos) and "
                "cap them before fitting.",
            )
        ]

    def _extra_state(self) -> dict:
        return {
            "mean_repeat_spend": getattr(self, "mean_repeat_spend_", None),
            "median_repeat_spend": getattr(self, "median_repeat_spend_", None),
            "n_zero_value_excluded": getattr(self, "n_zero_value_excluded_", 0),
        }

    def _load_extra_state(self, state: dict) -> None:
        if state.get("mean_repeat_spend") is not None:
            self.mean_repeat_spend_ = float(state["mean_repeat_spend"])
        if state.get("median_repeat_spend") is not None:
            self.median_repeat_spend_ = float(state["median_repeat_spend"])
        self.n_zero_value_excluded_ = int(state.get("n_zero_value_excluded", 0))
        self.mean_defined_ = bool(self.params_["q"] > 1)

    def expected_spend(self, frequency: Any, monetary_value: Any) -> Any:
        """Expected mean purchase value of a customer given x repeat purchases of mean m.

        ``p (v + x m) / (p x + q − 1)``; for x = 0 the population mean ``p v / (q − 1)``.
        When q <= 1 (``mean_defined_`` False) the model's mean is infinite and every customer
        gets the fallback ``(x m + M) / (x + 1)``: the own average m shrunk towards the median
        M of the repeat buyers' averages (``median_repeat_spend_``) as if M were one more
        purchase; customers without repeat purchases get M (a warning at fit says so).

        Parameters
        ----------
        frequency, monetary_value : float, array or Series
            Repeat purchases and their mean value (``monetary_value`` is ignored when x = 0).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Aligned to the index of the first Series argument.
        """
        p, q, v = self._params_tuple()
        x, m = as_float_arrays(frequency, monetary_value)
        m = np.where(x > 0, m, 0.0)
        if q > 1:
            result = p * (v + x * m) / (p * x + q - 1)
        else:
            median = getattr(self, "median_repeat_spend_", np.nan)
            result = (x * m + median) / (x + 1.0)
        return like_input(result, frequency, monetary_value, name="expected_spend")

    def conditional_expected_average_profit(self, frequency: Any, monetary_value: Any) -> Any:
        """The name ``lifetimes`` gives :meth:`expected_spend` (same result)."""
        return self.expected_spend(frequency, monetary_value)

    def population_mean_spend(self) -> float:
        """Mean purchase value of the population, ``p v / (q − 1)``; ``inf`` when q <= 1."""
        p, q, v = self._params_tuple()
        return float(p * v / (q - 1)) if q > 1 else float("inf")
