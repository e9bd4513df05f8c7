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
    ConvergenceWarning,
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

    Notes
    -----
    ``fit`` uses only customers with ``frequency > 0``; ``n_customers_`` counts them.
    """

    _param_names = ("p", "q", "v")
    _data_columns = ("frequency", "monetary_value")

    def _select_rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.loc[frame["frequency"].to_numpy() > 0]

    def _check_data(self, frame: pd.DataFrame) -> None:
        repeat = frame["frequency"].to_numpy() > 0
        bad = repeat & ~(frame["monetary_value"].to_numpy(dtype=np.float64) > 0)
        if bad.any():
            raise DataError(
                f"{int(bad.sum())} repeat buyer(s) have a mean purchase value of 0 or less "
                f"(customers {_quote_rows(frame, bad)}); Gamma-Gamma needs positive spend.",
                table="summary",
                column="monetary_value",
                hint="drop free or fully refunded orders before summarizing, or drop those "
                "customers from the summary.",
            )

    def _initial_params(self, x: np.ndarray, m: np.ndarray, *, weights) -> np.ndarray:
        mean = float(weights @ m) / float(weights.sum())
        # p·v/(q−1) is the mean spend: start from q = 3, p = 4 and solve for v
        return np.array([4.0, 3.0, max(mean * 2.0 / 4.0, 1e-6)])

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
        """Fit on the repeat buyers of *summary*; see :meth:`BaseFitter.fit`.

        Also stores ``mean_repeat_spend_``, the repeat buyers' average purchase value, used for
        customers without repeat purchases when q ≤ 1 (see :meth:`expected_spend`).
        """
        super().fit(summary, **kwargs)
        repeat = summary.loc[summary["frequency"].to_numpy() > 0]
        x = repeat["frequency"].to_numpy(np.float64)
        m = repeat["monetary_value"].to_numpy(np.float64)
        self.mean_repeat_spend_ = float((x * m).sum() / x.sum())
        if self.params_["q"] <= 1:
            warnings.warn(
                f"Gamma-Gamma fitted q = {self.params_['q']:.3f} ≤ 1: spend per purchase is so "
                "spread out that the model's population mean is infinite. Customers without "
                f"repeat purchases get the repeat buyers' average purchase value "
                f"({self.mean_repeat_spend_:,.2f}) instead. Check for extreme order values "
                "(wholesale orders, typos) and consider capping them before fitting.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _extra_state(self) -> dict:
        return {"mean_repeat_spend": getattr(self, "mean_repeat_spend_", None)}

    def _load_extra_state(self, state: dict) -> None:
        if state.get("mean_repeat_spend") is not None:
            self.mean_repeat_spend_ = float(state["mean_repeat_spend"])

    def expected_spend(self, frequency: Any, monetary_value: Any) -> Any:
        """Expected mean purchase value of a customer given x repeat purchases of mean m.

        ``p (v + x m) / (p x + q − 1)``; for x = 0 the population mean ``p v / (q − 1)``.
        That needs p x + q > 1: when q ≤ 1 the population mean is infinite and customers with
        too few repeat purchases get ``mean_repeat_spend_`` instead (a warning at fit says so).

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
        denominator = p * x + q - 1
        defined = denominator > 0
        result = np.where(
            defined,
            p * (v + x * m) / np.where(defined, denominator, 1.0),
            getattr(self, "mean_repeat_spend_", np.nan),
        )
        return like_input(result, frequency, monetary_value, name="expected_spend")

    def population_mean_spend(self) -> float:
        """Mean purchase value of the population, ``p v / (q − 1)``."""
        p, q, v = self._params_tuple()
        return float(p * v / (q - 1))
