"""MBG/NBD: the modified BG/NBD, where a customer may also drop out right after the first purchase.

Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of models for
customer base analysis", *International Journal of Research in Marketing* 24(3); the same model
as ``BTYDplus::mbgcnbd`` with k = 1 and ``lifetimes.ModifiedBetaGeoFitter``. Unlike BG/NBD, a
customer with no repeat purchase is not assumed alive, which avoids BG/NBD's P(alive) = 1 for
all one-time buyers. Hypergeometric terms are written after Euler's transformation (see
:mod:`custkit.ltv.bgnbd`), so large x or T give no overflow. See :mod:`custkit.ltv.base` for why
this is our own code rather than ``lifetimes``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import digamma, expit, gammaln

from custkit.ltv.base import BaseFitter, Distinct, as_float_arrays, like_input
from custkit.ltv.bgnbd import BGNBD, _dropout_tail, _log_beta_ratio


class MBGNBD(BaseFitter):
    """MBG/NBD model (parameters r, alpha, a, b).

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on the parameters (see :class:`~custkit.ltv.base.BaseFitter`).
    """

    _param_names = ("r", "alpha", "a", "b")
    # same data and starting values as BG/NBD
    _initial_params = BGNBD._initial_params
    _prepare = BGNBD._prepare
    _scales = BGNBD._scales
    _rescaling_log_jacobian = BGNBD._rescaling_log_jacobian

    @staticmethod
    def _terms(params, dx: Distinct, dtx: Distinct, dT: Distinct):
        r, alpha, a, b = params
        ux, ix = dx.values, dx.index
        log_at = np.log(alpha + dT.values)[dT.index]
        log_atx = np.log(alpha + dtx.values)[dtx.index]
        rx = (r + ux)[ix]
        a3 = -rx * log_at
        a4 = (np.log(a) - np.log(b + ux))[ix] - rx * log_atx
        return a3, a4, log_at, log_atx, rx

    def _log_likelihood(self, params: np.ndarray, dx, dtx, dT) -> np.ndarray:
        r, alpha, a, b = params
        ux = dx.values
        per_x = gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + _log_beta_ratio(a, b, ux, 1)[0]
        a3, a4, *_ = self._terms(params, dx, dtx, dT)
        return per_x[dx.index] + np.logaddexp(a3, a4)

    def _log_likelihood_gradient(self, params: np.ndarray, dx, dtx, dT) -> np.ndarray:
        r, alpha, a, b = params
        ux, ix = dx.values, dx.index
        a3, a4, log_at, log_atx, rx = self._terms(params, dx, dtx, dT)
        w4 = expit(a4 - a3)
        w3 = 1.0 - w4
        _, ratio_a, ratio_b = _log_beta_ratio(a, b, ux, 1)
        d_r = (digamma(r + ux) - digamma(r) + np.log(alpha))[ix] - w3 * log_at - w4 * log_atx
        d_alpha = r / alpha - rx * (
            w3 / (alpha + dT.values)[dT.index] + w4 / (alpha + dtx.values)[dtx.index]
        )
        d_a = ratio_a[ix] + w4 / a
        d_b = ratio_b[ix] - w4 * (1.0 / (b + ux))[ix]
        return np.column_stack([d_r, d_alpha, d_a, d_b])

    def _log_odds_dropped(self, x, t_x, T) -> np.ndarray:
        r, alpha, a, b = self._params_tuple()
        return np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))

    # 1 / (1 + odds of having dropped out), with this model's odds
    p_alive = BGNBD.p_alive

    def predict_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        """Expected repeat purchases in the next *t* periods given the history (x, t_x, T).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Aligned to the index of the first Series argument.
        """
        r, alpha, a, b = self._params_tuple()
        t_, x, t_x, big_t = as_float_arrays(t, frequency, recency, T)
        z = t_ / (alpha + big_t + t_)
        tail = 1.0 - _dropout_tail(r, a, a + b, x, z)
        numerator = (a + b + x) / (a - 1) * tail
        with np.errstate(over="ignore"):
            denominator = 1.0 + np.exp(self._log_odds_dropped(x, t_x, big_t))
        result = numerator / denominator
        return like_input(result, frequency, recency, T, t, name="expected_purchases")

    def expected_purchases(self, t: Any) -> Any:
        """Unconditional expected repeat purchases E[X(t)] of a new customer in (0, t]."""
        r, alpha, a, b = self._params_tuple()
        (t_,) = as_float_arrays(t)
        z = t_ / (alpha + t_)
        tail = 1.0 - _dropout_tail(r, a, a + b, 0.0, z)
        result = b / (a - 1) * tail
        return like_input(result, t, name="expected_purchases")
