"""BG/NBD: the beta-geometric / negative binomial model of repeat purchasing.

Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the
Pareto/NBD model", *Marketing Science* 24(2). While alive, a customer buys as a Poisson process
with rate λ ~ Gamma(r, α); after each repeat purchase the customer drops out for good with
probability p ~ Beta(a, b). Time is counted in the summary's unit (``time_unit_``).

The hypergeometric terms of the predictions are written after Euler's transformation,
``(1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``, whose
series stays near 1 for any frequency, so large x or T give no overflow and no NaN. See
:mod:`custkit.ltv.base` for why this is our own code rather than ``lifetimes``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betainc, betaln, digamma, expit, gammaln, hyp2f1

from custkit.errors import ParamsError
from custkit.ltv.base import (
    BaseFitter,
    Distinct,
    as_float_arrays,
    dot,
    like_input,
    log_nbd_pmf,
    purchase_probability,
)

#: Below this many rows, finding the distinct (x, T) pairs costs more than it saves.
_DISTINCT_MIN_ROWS = 20_000


#: Above this many purchases the ratio of beta functions is taken from ``betaln`` directly.
_RATIO_MAX_X = 100_000


def _log_beta_ratio(a: float, b: float, x: np.ndarray, shift: int = 0):
    """``log B(a, b+x+shift) / B(a, b)`` for whole x >= 0, and its derivatives in a and b.

    ``betaln(a, b+x) − betaln(a, b)`` cancels catastrophically when a and b are large (a fit
    running a and b up to 1e9 loses the per-customer likelihood to rounding, and the optimizer
    then chases the rounding). The ratio is the product ``Π_{j<x} (b+j)/(a+b+j)``: its log is a
    cumulative sum of ``−log1p(a/(b+j))``, exact to rounding for any a and b; the derivatives
    are the cumulative sums of ``−1/(a+b+j)`` and ``a/((b+j)(a+b+j))`` (the digamma
    differences of the same ratio).
    """
    k = (np.asarray(x, dtype=np.float64) + shift).astype(np.int64)
    top = int(k.max()) if k.size else 0
    if top > _RATIO_MAX_X:
        value = betaln(a, b + k) - betaln(a, b)
        d_a = digamma(a + b) - digamma(a + b + k)
        d_b = digamma(b + k) - digamma(a + b + k) - digamma(b) + digamma(a + b)
        return value, d_a, d_b
    j = np.arange(top, dtype=np.float64)
    b_j, ab_j = b + j, a + b + j
    zero = np.zeros(1)
    value = np.concatenate([zero, np.cumsum(-np.log1p(a / b_j))])[k]
    d_a = np.concatenate([zero, np.cumsum(-1.0 / ab_j)])[k]
    d_b = np.concatenate([zero, np.cumsum(a / (b_j * ab_j))])[k]
    return value, d_a, d_b


def _scaled_hyp2f1(a: float, b: float, c: np.ndarray, z: np.ndarray, a1: float) -> np.ndarray:
    """``(1 − z)^a1 · 2F1(a, b; c; z)`` elementwise, evaluated once per distinct (c, z) pair.

    ``hyp2f1`` dominates the cost of a prediction; c depends only on x and z only on T (and t),
    so a base of a million customers has a few tens of thousands of distinct pairs. Each pair's
    value is computed by the same expression as row by row, so the result is identical.
    """
    if c.size < _DISTINCT_MIN_ROWS:
        return (1.0 - z) ** a1 * hyp2f1(a, b, c, z)
    c_codes, c_values = pd.factorize(c.reshape(-1), use_na_sentinel=False)
    z_codes, z_values = pd.factorize(z.reshape(-1), use_na_sentinel=False)
    pair = c_codes.astype(np.int64) * len(z_values) + z_codes
    pair_codes, pairs = pd.factorize(pair)
    c_pair, z_pair = c_values[pairs // len(z_values)], z_values[pairs % len(z_values)]
    values = (1.0 - z_pair) ** a1 * hyp2f1(a, b, c_pair, z_pair)
    return values[pair_codes].reshape(c.shape)


def _dropout_tail(r: float, a: float, c0: float, x: Any, z: Any) -> np.ndarray:
    """``(1 − z)^(a−1) · 2F1(c0−r, a−1; c0+x; z)``: the hypergeometric term of the BG/NBD family's
    predictions (``c0 = a+b−1`` for BG/NBD, ``a+b`` for MBG/NBD; x = 0 for unconditional ones).

    When a fit runs a and b up (a > 1e5, as on stores where most customers buy once), this form
    multiplies an overflowing hypergeometric by a vanishing power (inf · 0 = NaN). Those values
    are recomputed through Euler's transformation, ``(1 − z)^(x+r) · 2F1(x+r, c0+x−a+1; c0+x;
    z)``, which has neither; finite values are kept, so ordinary fits give what they always gave.
    """
    x, z = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(z, dtype=np.float64))
    with np.errstate(all="ignore"):
        scaled = np.array(_scaled_hyp2f1(c0 - r, a - 1, c0 + x, z, a - 1), dtype=np.float64)
    bad = ~np.isfinite(scaled)
    if bad.any():
        xb, zb = x[bad], z[bad]
        with np.errstate(all="ignore"):
            scaled[bad] = (1.0 - zb) ** (xb + r) * hyp2f1(xb + r, c0 + xb - a + 1, c0 + xb, zb)
    return scaled


class BGNBD(BaseFitter):
    """BG/NBD model (parameters r, alpha, a, b).

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on the parameters (see :class:`~custkit.ltv.base.BaseFitter`).

    Examples
    --------
    >>> from custkit.datasets import load_cdnow
    >>> from custkit.ltv import summarize, BGNBD
    >>> summary = summarize(load_cdnow(), calibration_end="1997-09-30", as_of="1998-06-30")
    >>> model = BGNBD().fit(summary)
    >>> round(model.params_["r"], 3)
    0.243
    """

    _param_names = ("r", "alpha", "a", "b")

    def _initial_params(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, *, weights):
        # method-of-moments-like guesses: λ's mean ≈ repeat purchases per unit time
        rate = float(weights @ x) / max(float(weights @ T), 1e-12)
        return np.array([1.0, 1.0 / max(rate, 1e-12), 1.0, 3.0])

    def _scales(self, x, t_x, T, *, weights) -> tuple[np.ndarray, np.ndarray]:
        # time rescaled to max T = 1, as lifetimes does before penalising; alpha is in time
        span = float(T.max())
        return np.array([1.0, span, span]), np.array([1.0, span, 1.0, 1.0])

    def _rescaling_log_jacobian(self, columns, weights, column_scales) -> float:
        # x purchase times in time / S: the density gains a factor S per repeat purchase
        return float(weights @ columns[0]) * float(np.log(column_scales[1]))

    def _prepare(self, x, t_x, T) -> tuple[Distinct, Distinct, Distinct]:
        return Distinct.of(x), Distinct.of(t_x), Distinct.of(T)

    @staticmethod
    def _terms(params, dx: Distinct, dtx: Distinct, dT: Distinct):
        """Row terms a3, a4 (log of the two likelihood branches) and the gathered logs."""
        r, alpha, a, b = params
        ux, ix = dx.values, dx.index
        repeat = ux > 0
        log_at = np.log(alpha + dT.values)[dT.index]
        log_atx = np.log(alpha + dtx.values)[dtx.index]
        rx = (r + ux)[ix]
        log_c = np.full(len(ux), -np.inf)
        log_c[repeat] = np.log(a) - np.log(b + ux[repeat] - 1)
        a3 = -rx * log_at
        a4 = log_c[ix] - rx * log_atx
        return a3, a4, log_at, log_atx, rx

    def _log_likelihood(self, params: np.ndarray, dx, dtx, dT) -> np.ndarray:
        r, alpha, a, b = params
        ux = dx.values
        ratio, _, _ = _log_beta_ratio(a, b, ux)
        per_x = gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + ratio
        a3, a4, *_ = self._terms(params, dx, dtx, dT)
        return per_x[dx.index] + np.logaddexp(a3, a4)

    def _log_likelihood_gradient(self, params: np.ndarray, dx, dtx, dT) -> np.ndarray:
        r, alpha, a, b = params
        ux, ix = dx.values, dx.index
        a3, a4, log_at, log_atx, rx = self._terms(params, dx, dtx, dT)
        w4 = expit(a4 - a3)  # share of the "dropped out after t_x" branch
        w3 = 1.0 - w4
        inv_bx1 = np.zeros(len(ux))
        inv_bx1[ux > 0] = 1.0 / (b + ux[ux > 0] - 1)
        _, ratio_a, ratio_b = _log_beta_ratio(a, b, ux)
        d_r = (digamma(r + ux) - digamma(r) + np.log(alpha))[ix] - w3 * log_at - w4 * log_atx
        d_alpha = r / alpha - rx * (
            w3 / (alpha + dT.values)[dT.index] + w4 / (alpha + dtx.values)[dtx.index]
        )
        d_a = ratio_a[ix] + w4 / a
        d_b = ratio_b[ix] - w4 * inv_bx1[ix]
        return np.column_stack([d_r, d_alpha, d_a, d_b])

    def _weighted_log_likelihood(self, weights: np.ndarray, dx, dtx, dT):
        """Weighted total log-likelihood and gradient with the weights folded in once per fit.

        Per row ``ll = per_x[x] + logaddexp(a3, a4)`` with ``a3 = -(r+x) log(α+T)``. Written as
        ``a3 + logaddexp(0, a4 - a3)``, the ``per_x`` and ``a3`` parts become dot products of
        per-x and per-T weight sums (a few hundred values); only the "dropped out after t_x"
        branch of the repeat buyers needs work per row. Same value as
        ``weights @ _log_likelihood(...)`` up to rounding (``tests/ltv/test_bgnbd.py``).
        """
        ux, utx, uT = dx.values, dtx.values, dT.values
        n = float(weights.sum())
        w_x = np.bincount(dx.index, weights=weights, minlength=len(ux))
        w_t = np.bincount(dT.index, weights=weights, minlength=len(uT))
        wx_t = np.bincount(dT.index, weights=weights * ux[dx.index], minlength=len(uT))
        repeat = ux[dx.index] > 0
        ix, itx, i_t = dx.index[repeat], dtx.index[repeat], dT.index[repeat]
        x_rep, w_rep = ux[ix], weights[repeat]
        ux_rep = ux > 0
        log_bx1, inv_bx1 = np.zeros(len(ux)), np.zeros(len(ux))
        log_bx1_rows = np.empty(len(ix))
        d_log = np.empty(len(ix))  # log(α+t_x) − log(α+T), per repeat row
        rx = np.empty(len(ix))
        odds = np.empty(len(ix))  # a4 − a3: log-odds of "dropped out after t_x"
        tmp, tmp2 = np.empty(len(ix)), np.empty(len(ix))
        small = np.empty(len(ix))  # exp(−|odds|), in (0, 1]
        one_plus = np.empty(len(ix))  # 1 + exp(−|odds|)

        def evaluate(params: np.ndarray, gradient: bool) -> tuple[float, np.ndarray | None]:
            r, alpha, a, b = params
            log_alpha = np.log(alpha)
            log_at, log_atx = np.log(alpha + uT), np.log(alpha + utx)
            log_bx1[ux_rep] = np.log(b + ux[ux_rep] - 1)
            np.take(log_bx1, ix, out=log_bx1_rows)
            np.take(log_atx, itx, out=d_log)
            np.subtract(d_log, np.take(log_at, i_t, out=tmp), out=d_log)
            np.add(x_rep, r, out=rx)
            # odds = log(a) − log(b+x−1) − (r+x)·(log(α+t_x) − log(α+T))
            np.multiply(rx, d_log, out=odds)
            np.subtract(np.log(a) - log_bx1_rows, odds, out=odds)
            ratio, ratio_a, ratio_b = _log_beta_ratio(a, b, ux)
            per_x = gammaln(r + ux) - gammaln(r) + r * log_alpha + ratio
            # logaddexp(0, odds) = max(odds, 0) + log(1 + exp(−|odds|)), and the same
            # exp(−|odds|) gives expit(odds) below: one exp and one log per row, no log1p
            np.exp(np.negative(np.abs(odds, out=small), out=small), out=small)
            np.add(small, 1.0, out=one_plus)
            softplus = dot(w_rep, np.maximum(odds, 0.0, out=tmp))
            softplus += dot(w_rep, np.log(one_plus, out=tmp))
            total = float(w_x @ per_x) - (r * float(w_t @ log_at) + float(wx_t @ log_at)) + softplus
            if not gradient:
                return total, None
            # w4 = expit(odds), the share of the "dropped out after t_x" branch, times w
            np.copyto(small, 1.0, where=odds >= 0)
            share = np.divide(small, one_plus, out=tmp2)
            np.multiply(share, w_rep, out=share)
            inv_at, inv_atx = 1.0 / (alpha + uT), 1.0 / (alpha + utx)
            d_r = (
                float(w_x @ (digamma(r + ux) - digamma(r) + log_alpha))
                - float(w_t @ log_at)
                - dot(share, d_log)
            )
            # Σ w·w4·(r+x)·(1/(α+t_x) − 1/(α+T))
            np.take(inv_atx, itx, out=tmp)
            np.subtract(tmp, np.take(inv_at, i_t, out=small), out=tmp)
            np.multiply(tmp, rx, out=tmp)
            d_alpha = n * r / alpha - (r * float(w_t @ inv_at) + float(wx_t @ inv_at))
            d_alpha -= dot(share, tmp)
            share_sum = float(share.sum())
            d_a = float(w_x @ ratio_a) + share_sum / a
            inv_bx1[ux_rep] = 1.0 / (b + ux[ux_rep] - 1)
            d_b = float(w_x @ ratio_b)
            d_b -= dot(share, np.take(inv_bx1, ix, out=tmp))
            return total, np.array([d_r, d_alpha, d_a, d_b])

        return evaluate

    # ------------------------------------------------------------------ predictions
    def _log_odds_dropped(self, x, t_x, T) -> np.ndarray:
        """log of a/(b+x-1) · ((α+T)/(α+t_x))^(r+x) for repeat buyers, -inf otherwise."""
        r, alpha, a, b = self._params_tuple()
        repeat = x > 0
        bx1 = np.where(repeat, b + x - 1, 1.0)
        value = np.log(a) - np.log(bx1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return np.where(repeat, value, -np.inf)

    def p_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        """Probability that a customer with history (x, t_x, T) is still alive at T.

        Parameters
        ----------
        frequency, recency, T : float, array or Series
            Repeat purchases, time of the last purchase and age, in ``time_unit_``.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Aligned to the index of the first Series argument.
        """
        x, t_x, big_t = as_float_arrays(frequency, recency, T)
        result = expit(-self._log_odds_dropped(x, t_x, big_t))
        return like_input(result, frequency, recency, T, name="p_alive")

    def age_at_p_alive(self, p: float, frequency: Any, recency: Any) -> Any:
        """Age T at which a customer with x repeat purchases, the last at t_x, has P(alive) = *p*.

        P(alive) falls as time passes without a purchase; solving ``p_alive(x, t_x, T) = p``
        for T gives, for x > 0, ``T = (α + t_x) · exp((log((1−p)/p) − log(a/(b+x−1))) / (r+x))
        − α``, never less than t_x (a customer already below *p* right after buying is there at
        once). Customers without repeat purchases never fall below 1 in BG/NBD (it lets a
        customer drop out only after a repeat purchase): their age is ``inf``.

        Parameters
        ----------
        p : float
            Probability in (0, 1).
        frequency, recency : float, array or Series
            Repeat purchases and time of the last purchase, in ``time_unit_``.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            T in ``time_unit_``, aligned to the index of the first Series argument.
        """
        if isinstance(p, bool) or not isinstance(p, int | float | np.floating) or not 0 < p < 1:
            raise ParamsError(f"p must be a float in the range (0, 1). Got {p!r} instead.")
        r, alpha, a, b = self._params_tuple()
        x, t_x = as_float_arrays(frequency, recency)
        repeat = x > 0
        bx1 = np.where(repeat, b + x - 1, 1.0)
        exponent = (np.log((1 - p) / p) - np.log(a) + np.log(bx1)) / (r + x)
        with np.errstate(over="ignore"):
            age = np.maximum((alpha + t_x) * np.exp(exponent) - alpha, t_x)
        result = np.where(repeat, age, np.inf)
        return like_input(result, frequency, recency, name="age_at_p_alive")

    def predict_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        """Expected repeat purchases in the next *t* periods given the history (x, t_x, T).

        Fader, Hardie & Lee (2005), equation (10).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Aligned to the index of the first Series argument.
        """
        r, alpha, a, b = self._params_tuple()
        t_, x, t_x, big_t = as_float_arrays(t, frequency, recency, T)
        z = t_ / (alpha + big_t + t_)
        tail = 1.0 - _dropout_tail(r, a, a + b - 1, x, z)
        numerator = (a + b + x - 1) / (a - 1) * tail
        with np.errstate(over="ignore"):
            denominator = 1.0 + np.exp(self._log_odds_dropped(x, t_x, big_t))
        result = numerator / denominator
        return like_input(result, frequency, recency, T, t, name="expected_purchases")

    def expected_purchases(self, t: Any) -> Any:
        """Unconditional expected repeat purchases E[X(t)] of a new customer in (0, t].

        Fader, Hardie & Lee (2005), equation (9).
        """
        r, alpha, a, b = self._params_tuple()
        (t_,) = as_float_arrays(t)
        z = t_ / (alpha + t_)
        tail = 1.0 - _dropout_tail(r, a, a + b - 1, 0.0, z)
        result = (a + b - 1) / (a - 1) * tail
        return like_input(result, t, name="expected_purchases")

    def probability_of_purchases(
        self, x: Any, t: Any, frequency: Any = None, recency: Any = None, T: Any = None
    ) -> Any:
        """Probability of exactly *x* repeat purchases in a period of length *t*.

        For a new customer (only *x* and *t* given), Fader, Hardie & Lee (2005), equation (8):
        ``B(a, b+x)/B(a, b) · NBD(x; r, α, t) + [x > 0] B(a+1, b+x−1)/B(a, b) · P(NBD(r, α,
        t) >= x)``, the same as ``lifetimes``' ``probability_of_n_purchases_up_to_time``. Given
        a customer's history (*frequency*, *recency*, *T*), the next *t* periods after T: a
        customer who has dropped out buys nothing, one still alive (``p_alive``) buys like a
        new customer with the posterior parameters ``r + x, α + T, a, b + x``.

        Parameters
        ----------
        x : int, array or Series
            Number of purchases, whole numbers >= 0.
        t : float, array or Series
            Length of the period, in ``time_unit_``.
        frequency, recency, T : float, array or Series, optional
            A customer's history; all three or none.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Aligned to the index of the first Series argument.
        """
        r, alpha, a, b = self._params_tuple()
        return purchase_probability(
            x,
            t,
            (frequency, recency, T),
            lambda x_, t_: _bgnbd_pmf(x_, t_, r, alpha, a, b),
            self.p_alive,
            lambda x_, t_, f_, big_t: _bgnbd_pmf(x_, t_, r + f_, alpha + big_t, a, b + f_),
        )


def _bgnbd_pmf(x: np.ndarray, t: np.ndarray, r: Any, alpha: Any, a: Any, b: Any) -> np.ndarray:
    """P(X(t) = x) of a BG/NBD customer alive at 0 (Fader, Hardie & Lee 2005, eq. 8)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_beta_ab = betaln(a, b)
        still = np.exp(betaln(a, b + x) - log_beta_ab + log_nbd_pmf(x, r, alpha, t))
        # P(NBD >= x) = 1 − Σ_{j<x} NBD(j) = I_{t/(α+t)}(x, r), the regularized incomplete beta
        tail = betainc(np.maximum(x, 1.0), r, t / (alpha + t))
        weight = np.exp(betaln(a + 1.0, np.maximum(b + x - 1.0, 1e-300)) - log_beta_ab)
        dropped = np.where(x > 0, weight * tail, 0.0)
    return still + dropped
