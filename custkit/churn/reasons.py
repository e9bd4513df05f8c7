"""Why each churned customer left, and what drives the risk of those at risk: every sign of
trouble weighed by how much more often it comes before leaving than among customers who stayed.

Evidence signs (per customer, from the sources the store has):

=====================================  ========================================================
sign                                   reason it points to
=====================================  ========================================================
a recent order arrived late, by band   ``delivery`` (bands of the largest delay: 1, 2, 3, 4–5,
of delay                               6–9, 10+ days)
a recent order paid ≥ 1.4× the         ``delivery_cost`` (bands 1.4–2×, 2–3×, 3×+). An actual
region's usual delivery price          rise in the charge: an order under a free-shipping
                                       threshold pays the usual price and is no sign. Only
                                       without delivery regions: the shipping share of the
                                       recent orders rose ≥ 4 points (to ≥ 8%)
coupons on half the recent orders,     ``competitor_price``; a coupon on all of a short history
30 points more than before             (nothing earlier to compare with) is a sign of its own
a recent order returned                ``quality``
feedback naming a reason, by kind      that reason (survey, ticket, review, other kinds apart)
(:mod:`custkit.churn.text`)
a rating ≤ 2 with no reason named      ``support`` for tickets, ``quality`` otherwise
last delivery or home region unserved  ``moved_out_of_delivery_area``
=====================================  ========================================================

Feedback counts from ``lookback_days`` before the customer's last order to ``period_days`` after
it.

**Weights.** Each sign's likelihood ratio is learned from the store's own customers: how often
the churned customers show it on their last orders, against customers who *stayed* — who ordered
again after their last orders of the same period (:func:`stayer_signals`: quarters back from
as-of), in the same order-count band (1, 2, 3–4, 5–9, 10+ orders: more orders, more chances of a
late one)::

    LR = (k + c) / (E + c),   E = Σ_stratum n_churned,stratum × r_stayed,stratum

*k* churned customers show the sign; *E* of them would, were they like the customers who stayed
(each stratum's rate — period × band — shrunk toward the stayers' overall rate by 10
pseudo-customers); *c* (``prior_events``, default 3) is a Gamma(c, c) prior on the ratio, centred
on LR = 1: the posterior mean above. A sign no customer who stayed shows needs three leavers with
it to reach LR = 2, so a rare sign cannot win by noise, while a sign seen on hundreds keeps its
measured ratio. On a store where 15% of all orders are late a 1–2 day delay weighs about 1; a
week's delay that customers who stayed never had weighs a lot. (Customers merely active at as-of
are no comparison group: some of them are leaving and have not been flagged yet.)

Signs of one reason are independent evidence: their log-ratios add (naive Bayes, counting only
signs with LR > 1). A churned customer's reason is the reason with the largest combined ratio
when it reaches ``min_ratio`` (default 2: "well above 1"); otherwise no sign beats the store's
base rate and the customer *forgot* the store (``unknown`` only when the store has no evidence
source at all). Customers at risk get the same evidence as a risk *driver*, never a reason;
active customers get neither. The evidence column quotes the two strongest signs and the
ratio.

Why not a library: the ratio is two counts per sign and band; a classifier (e.g. scikit-learn's
naive Bayes) would learn "churned or not" from all customers, while this asks which sign tells
a leaver apart, with an explicit prior, in a few vectorised group-bys.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import pandas as pd

from custkit.churn.codes import REASON_CODES
from custkit.data.signals import check_recent_orders, reduce_order_signals
from custkit.errors import DataError, ParamsError
from custkit.i18n import N_, _, n_

__all__ = ["ReasonAssignment", "assign_reasons", "sign_label", "stayer_signals"]

#: Upper edges (exclusive) of the delay bands in days, and of the surcharge bands (× usual).
_DELAY_BANDS = (1, 2, 3, 4, 6, 10, np.inf)
_SURCHARGE_BANDS = (1.4, 2.0, 3.0, np.inf)
#: A rise of the shipping share of the recent orders over the earlier ones this large marks a
#: surcharge that took much more of the order than before (a small basket charged more).
_SHARE_RISE = 0.1
#: Order-count bands the stayers' rates are taken in: 1, 2, 3–4, 5–9, 10+ placed orders.
_ORDER_BANDS = (1, 2, 3, 5, 10, np.inf)
#: Pseudo-customers shrinking a band's stayer rate toward the stayers' overall rate.
_BAND_PRIOR = 10.0
_KINDS = ("survey", "ticket", "review")


#: The evidence source of customers' own words (:attr:`ReasonAssignment.sources_used`).
FEEDBACK_SOURCE = "feedback texts and ratings"


@dataclass(frozen=True)
class ReasonAssignment:
    """Reasons of the churned customers, drivers of those at risk, and the weights behind them.

    Attributes
    ----------
    reasons : pandas.DataFrame
        Indexed by ``customer_id``, the churned and at-risk customers of the status: ``status``,
        ``reason`` (categorical, :data:`REASON_CODES`; churned customers only, missing for the
        others), ``driver`` (the same codes for customers at risk whose evidence clears
        ``min_ratio``; missing otherwise), ``likelihood_ratio`` (of the reason's or driver's
        signs combined; 1 when none), ``strength`` (``1 − 1 / likelihood_ratio``: the share of
        such evidence that leaving explains, 0 for ``forgot`` / ``unknown``), ``evidence``
        (plain text in the report language: the two strongest signs and their ratio, no
        personal data), ``evidence_items`` (how many signs pointed to it).
    sources_used : tuple of str
        Evidence sources the data had.
    sources_missing : tuple of str
        Sources it lacked, in words a manager can act on (in the report language).
    ratios : pandas.DataFrame
        One row per sign seen: ``sign``, ``reason``, ``churned`` (churned customers with it),
        ``churned_share``, ``expected_share`` (among the churned, were they like the customers
        who stayed), ``likelihood_ratio`` (shrunk) — largest first.
    """

    reasons: pd.DataFrame
    sources_used: tuple[str, ...]
    sources_missing: tuple[str, ...]
    ratios: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def tells_forgot(self) -> bool:
        """Whether ``forgot`` means forgot: only customers' own words (feedback) can say that a
        leaver with no sign in the orders had no reason. Without feedback such a leaver may
        have left for a reason the orders do not show (prices elsewhere, poor support), and
        the reports say "no sign of a reason in the data" instead."""
        return FEEDBACK_SOURCE in self.sources_used


def _each(say: Callable[..., str], *columns) -> np.ndarray:
    """``say(*values)`` for every row of *columns*, called once per distinct combination.

    Evidence sentences are written per customer; formatting (and translating) each distinct
    combination of values once keeps a million customers fast. Round float columns to the
    precision the sentence shows before passing them.
    """
    n = len(columns[0]) if columns else 0
    if n == 0:
        return np.empty(0, dtype=object)
    frame = pd.DataFrame({i: np.asarray(c) for i, c in enumerate(columns)})
    codes, uniques = pd.MultiIndex.from_frame(frame).factorize()
    texts = np.empty(len(uniques), dtype=object)
    texts[:] = [say(*values) for values in uniques]
    return texts[codes]


def _fill(template: str, **columns: pd.Series) -> pd.Series:
    """A translated *template* with each ``{field}`` filled from a column of text, row by row
    (vectorized: the translation may put the fields in another order)."""
    index = next(iter(columns.values())).index
    out = pd.Series("", index=index, dtype=object)
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        out = out + literal
        if name is not None:
            out = out + columns[name].astype(str)
    return out


def _share_rise_text(recent: np.ndarray, before: np.ndarray) -> np.ndarray:
    """The evidence text of a rise in the shipping share of the order value, per customer."""
    return _each(
        lambda r, b: _(
            "delivery cost rose to {recent:.0%} of the order value (was {before:.0%})",
            recent=r,
            before=b,
        ),
        np.round(recent, 2),
        np.round(before, 2),
    )


def _items(at, sign, reason: str, text) -> pd.DataFrame:
    """Evidence rows: which observations (positions *at*) show *sign* (a str, or one per row),
    pointing to *reason*."""
    n = len(at)
    return pd.DataFrame(
        {
            "at": np.asarray(at, dtype=np.int64),
            "sign": np.broadcast_to(np.asarray(sign, dtype=object), (n,)),
            "reason": np.full(n, reason, dtype=object),
            "text": np.broadcast_to(np.asarray(text, dtype=object), (n,)),
        }
    )


def _banded(name: str, values: np.ndarray, edges: Sequence[float], unit: str) -> np.ndarray:
    """Sign names ``name:lo-hi`` of *values* in the bands closed below by the previous edge."""
    position = np.searchsorted(np.asarray(edges[1:]), values, side="right")
    labels = []
    for lo, hi in pairwise(edges):
        labels.append(f"{name}:{lo:g}{unit}+" if np.isinf(hi) else f"{name}:{lo:g}-{hi:g}{unit}")
    return np.asarray(labels, dtype=object)[position]


def _order_items(signals: pd.DataFrame, served: set[str] | None) -> tuple[list, list, list]:
    """Evidence from the orders (*signals* with the observations' positions ``at``); returns
    (items, sources used, sources missing)."""
    items, used, missing = [], [], []
    s = signals
    ids = s["at"].to_numpy()
    if "late_recent" in s:
        used.append("delivery dates")
        late = s["late_recent"].to_numpy() >= 1
        delay = np.maximum(s["max_delay_days_recent"].to_numpy()[late], 1)
        count = s["late_recent"].to_numpy()[late]
        text = _each(
            lambda c, d: (
                n_(
                    "{c} of the last orders arrived late (up to {n} day)",
                    "{c} of the last orders arrived late (up to {n} days)",
                    int(d),
                    c=c,
                )
                if c > 1
                else n_(
                    "a recent order arrived {n} day late",
                    "a recent order arrived {n} days late",
                    int(d),
                )
            ),
            count,
            delay,
        )
        sign = _banded("late", delay, _DELAY_BANDS, "d")
        items.append(_items(ids[late], sign, "delivery", text))
    else:
        missing.append(_("promised and actual delivery dates (late deliveries)"))
    if "shipping_vs_usual_recent" in s:
        used.append("shipping cost")
        times = s["shipping_vs_usual_recent"].to_numpy(dtype=np.float64)
        surcharged = times >= _SURCHARGE_BANDS[0]
        text = _each(
            lambda t: _(
                "paid {times:.1f}× the region's usual delivery price on a recent order",
                times=t,
            ),
            np.round(times[surcharged], 1),
        )
        sign = _banded("surcharge", times[surcharged], _SURCHARGE_BANDS, "x")
        if "shipping_share_recent" in s:
            # a surcharge that also took a much larger share of the order (a small basket
            # charged more) is a sign of its own: customers who stayed rarely show both
            recent = s["shipping_share_recent"].to_numpy()[surcharged]
            before = s["shipping_share_before"].to_numpy()[surcharged]
            with np.errstate(invalid="ignore"):
                rose = recent - before >= _SHARE_RISE
            sign = np.where(
                rose, _banded("surcharge+share", times[surcharged], _SURCHARGE_BANDS, "x"), sign
            )
            share_text = _share_rise_text(recent[rose], before[rose])
            text = text.copy()
            text[rose] = text[rose] + "; " + share_text
        items.append(_items(ids[surcharged], sign, "delivery_cost", text))
    elif "shipping_share_recent" in s:
        # without delivery regions there is no usual price: a rise in the shipping share is the
        # only sign, and its ratio says how often customers who stayed show it too
        used.append("shipping cost")
        recent = s["shipping_share_recent"].to_numpy()
        before = s["shipping_share_before"].to_numpy()
        with np.errstate(invalid="ignore"):
            rose = (recent - before >= 0.04) & (recent >= 0.08)
        text = _share_rise_text(recent[rose], before[rose])
        items.append(_items(ids[rose], "shipping_share_rose", "delivery_cost", text))
    else:
        missing.append(_("shipping cost per order"))
    if "coupon_share_recent" in s:
        used.append("coupons")
        recent = s["coupon_share_recent"].to_numpy()
        before = s["coupon_share_before"].to_numpy()
        with np.errstate(invalid="ignore"):
            rose = (recent >= 0.5) & (recent >= before + 0.3)
            only = np.isnan(before) & (recent >= 0.5)  # no earlier orders to compare with
        text = _each(
            lambda r, b: _(
                "used a coupon on {recent:.0%} of the last orders (before: {before:.0%})",
                recent=r,
                before=b,
            ),
            np.round(recent[rose], 2),
            np.round(before[rose], 2),
        )
        items.append(_items(ids[rose], "coupon_rose", "competitor_price", text))
        text = _each(
            lambda r: _("used a coupon on {share:.0%} of their orders", share=r),
            np.round(recent[only], 2),
        )
        items.append(_items(ids[only], "coupon_only", "competitor_price", text))
    if "returned_recent" in s:
        used.append("order statuses")
        hit = s["returned_recent"].to_numpy() >= 1
        text = _("returned an order shortly before leaving")
        items.append(_items(ids[hit], "returned", "quality", text))
    else:
        missing.append(_("order status (returns)"))
    if "last_region" in s and served is not None:
        used.append("delivery regions")
        last = s["last_region"].astype(object)
        hit = (last.notna() & ~last.isin(served)).to_numpy()
        text = _each(
            lambda r: _("last order went to {region}, where the store does not deliver", region=r),
            last[hit].to_numpy(),
        )
        items.append(_items(ids[hit], "last_region_unserved", "moved_out_of_delivery_area", text))
    elif served is None:
        missing.append(_("the list of served regions (params: served_regions)"))
    return items, used, missing


def _feedback_items(texts: pd.DataFrame, feedback: pd.DataFrame, windows: pd.DataFrame) -> list:
    """Evidence from reviews, tickets and surveys inside each observation's window (*windows*:
    ``customer_id``, ``at``, ``start``, ``end``)."""
    rating = feedback["rating"].to_numpy() if "rating" in feedback else np.nan
    rows = texts.assign(rating=rating).merge(windows, on="customer_id", how="inner")
    rows = rows.loc[(rows["created_at"] >= rows["start"]) & (rows["created_at"] < rows["end"])]
    rows = rows.reset_index(drop=True)
    if "kind" in rows:
        kind = rows["kind"].astype(object).fillna("").astype(str).str.strip().str.lower()
    else:
        kind = pd.Series("", index=rows.index)
    kind_sign = kind.where(kind.isin(_KINDS), "other").to_numpy(dtype=object)
    named = (rows["reason"].astype(object) != "unknown").to_numpy()
    items = []
    if named.any():
        said = rows.loc[named]
        # the kinds of the contract in words; a store's own kinds stay as written
        kinds = {
            "": _("feedback"),
            "survey": _("survey"),
            "ticket": _("ticket"),
            "review": _("review"),
        }
        text = _fill(
            _('{kind} {date}: "{text}"'),
            kind=kind[named].replace(kinds),
            date=said["created_at"].dt.strftime("%Y-%m-%d"),
            text=said["evidence"],
        )
        reason = said["reason"].astype(object).to_numpy()
        sign = "said:" + kind_sign[named] + ":" + reason.astype(str)
        frame = _items(said["at"], sign, "", text.to_numpy())
        frame["reason"] = reason
        items.append(frame)
    low = ~named & (rows["rating"] <= 2).to_numpy()
    if low.any():
        rated = rows.loc[low]
        text = _each(
            lambda r, d: _("rated {rating:g}/5 on {date}", rating=r, date=d),
            rated["rating"].to_numpy(dtype=np.float64),
            rated["created_at"].dt.strftime("%Y-%m-%d").to_numpy(dtype=object),
        )
        frame = _items(rated["at"], "low_rating:" + kind_sign[low], "", text)
        frame["reason"] = np.where(kind[low] == "ticket", "support", "quality")
        items.append(frame)
    return items


#: Each sign family in words (English; :func:`sign_label` translates). ``{band}``: days of delay
#: or times the usual delivery price; ``{kind}``: survey, ticket, review or feedback.
_SIGN_LABELS = {
    "late": N_("late delivery (days late: {band})"),
    "surcharge": N_("delivery surcharge ({band}× the usual price)"),
    "surcharge+share": N_(
        "delivery surcharge ({band}× the usual price), larger share of the order"
    ),
    "shipping_share_rose": N_("delivery cost rose as a share of the order"),
    "coupon_rose": N_("coupons on the last orders, more than before"),
    "coupon_only": N_("coupons on all of a short history"),
    "returned": N_("returned order"),
    "last_region_unserved": N_("last order to an unserved region"),
    "home_region_unserved": N_("home region unserved"),
    "said": N_("{kind} naming the reason"),
    "low_rating": N_("low rating ({kind})"),
}
_KIND_WORDS = {
    "survey": N_("survey"),
    "ticket": N_("ticket"),
    "review": N_("review"),
    "other": N_("feedback"),
}


def sign_label(sign: str) -> str:
    """A sign of :attr:`ReasonAssignment.ratios` in words, in the report language
    (``late:4-6d`` → "late delivery (4–5 days)")."""
    family, _sep, detail = str(sign).partition(":")
    if family not in _SIGN_LABELS:
        return str(sign)
    if family in ("said", "low_rating"):
        kind = detail.split(":")[0]
        return _(_SIGN_LABELS[family], kind=_(_KIND_WORDS.get(kind, kind)))
    if family in ("late", "surcharge", "surcharge+share"):
        low, _dash, high = detail.rstrip("dx+").partition("-")
        if detail.endswith("+"):
            band = f"{low}+"
        elif family == "late":  # whole days: 4-6 is 4 or 5
            band = low if int(high) - int(low) == 1 else f"{low}–{int(high) - 1}"
        else:
            band = f"{low}–{high}"
        return _(_SIGN_LABELS[family], band=band)
    return _(_SIGN_LABELS[family])


def _likelihood_ratios(
    pairs: pd.DataFrame,
    churned: np.ndarray,
    stayed: np.ndarray,
    stratum: np.ndarray,
    prior: float,
) -> pd.DataFrame:
    """Each sign's likelihood ratio (module docstring): *pairs* are the distinct (observation
    position ``at``, ``sign``, ``reason``) rows; *churned*, *stayed* and *stratum* are per
    observation. Returns the table of :attr:`ReasonAssignment.ratios`."""
    n_strata = int(stratum.max()) + 1 if len(stratum) else 1
    n_churned = np.bincount(stratum[churned], minlength=n_strata).astype(np.float64)
    n_stayed = np.bincount(stratum[stayed], minlength=n_strata).astype(np.float64)
    codes, signs = pd.factorize(pairs["sign"], sort=True)
    k = len(signs)
    at = pairs["at"].to_numpy()
    in_churned, in_stayed = churned[at], stayed[at]
    k_churned = np.bincount(
        codes[in_churned] * n_strata + stratum[at][in_churned], minlength=k * n_strata
    ).reshape(k, n_strata)
    k_stayed = np.bincount(
        codes[in_stayed] * n_strata + stratum[at][in_stayed], minlength=k * n_strata
    ).reshape(k, n_strata)
    if n_stayed.sum() > 0:
        overall = k_stayed.sum(axis=1) / n_stayed.sum()
        rate = (k_stayed + _BAND_PRIOR * overall[:, None]) / (n_stayed + _BAND_PRIOR)
        expected_by_stratum = rate * n_churned
        expected = expected_by_stratum.sum(axis=1)
        ratio = (k_churned.sum(axis=1) + prior) / (expected + prior)
    else:  # nobody stayed: nothing to compare with, no sign beats the base rate
        expected = np.full(k, np.nan)
        ratio = np.ones(k)
    reason = pairs.drop_duplicates("sign").set_index("sign")["reason"].reindex(signs)
    total = max(n_churned.sum(), 1.0)
    table = pd.DataFrame(
        {
            "sign": np.asarray(signs, dtype=object),
            "reason": reason.to_numpy(dtype=object),
            "churned": k_churned.sum(axis=1),
            "churned_share": k_churned.sum(axis=1) / total,
            "expected_share": expected / total,
            "likelihood_ratio": ratio,
        }
    )
    return table.sort_values("likelihood_ratio", ascending=False, ignore_index=True)


def _strongest_reason(
    evidence: pd.DataFrame, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per customer position (0..n-1): the reason with the largest combined ratio (None when no
    sign has LR > 1), that ratio, the evidence quoted (its two strongest signs) and the count of
    its signs. *evidence* has ``at``, ``sign``, ``reason``, ``text`` and ``likelihood_ratio``."""
    telling = evidence.loc[evidence["likelihood_ratio"].to_numpy() > 1.0]
    distinct = telling.drop_duplicates(["at", "sign"])
    score = (
        np.log(distinct["likelihood_ratio"])
        .groupby([distinct["at"], distinct["reason"]], sort=False)
        .sum()
        .rename("score")
        .reset_index()
    )
    best = score.sort_values(["at", "score"], ascending=[True, False]).drop_duplicates("at")
    reason = np.full(n, None, dtype=object)
    ratio = np.ones(n)
    reason[best["at"].to_numpy()] = best["reason"].to_numpy()
    ratio[best["at"].to_numpy()] = np.exp(best["score"].to_numpy())
    chosen = telling.loc[telling["reason"].to_numpy() == reason[telling["at"].to_numpy()]]
    chosen = chosen.sort_values(["at", "likelihood_ratio"], ascending=[True, False])
    chosen = chosen.drop_duplicates(["at", "text"])
    rank = chosen.groupby("at", sort=False).cumcount().to_numpy()
    first = chosen.loc[rank == 0].set_index("at")["text"]
    second = chosen.loc[rank == 1].set_index("at")["text"].reindex(first.index)
    text = np.full(n, None, dtype=object)
    text[first.index.to_numpy()] = np.where(second.notna(), first + "; " + second.fillna(""), first)
    items = np.zeros(n, dtype=np.int64)
    counted = chosen.groupby("at", sort=False).size()
    items[counted.index.to_numpy()] = counted.to_numpy()
    return reason, ratio, text, items


def stayer_signals(
    orders: pd.DataFrame,
    as_of: pd.Timestamp | str,
    recent_orders: int = 3,
    period_days: int = 91,
    periods: int = 8,
) -> pd.DataFrame:
    """Order signals of the customers who stayed: the comparison group of :func:`assign_reasons`.

    At each cut ``as_of − j × period_days`` (j = 1 … *periods*, not before the first order) the
    signals of the customers whose last order before the cut fell in the period before it and
    who ordered again after the cut (up to *as_of*): their last orders of that period, followed
    by another order. A customer who left after an order of the same period is compared with
    them, so a store whose delivery or prices changed over time is judged period by period.

    Parameters
    ----------
    orders : pandas.DataFrame
        Canonical orders.
    as_of : Timestamp or str
        The report's as-of day.
    recent_orders : int, default 3
        As in :func:`~custkit.data.signals.reduce_order_signals`: use the value the churned
        customers' signals were built with.
    period_days : int, default 91
        Length of a period; pass the same to :func:`assign_reasons`.
    periods : int, default 8
        How many periods back (each is one pass over the orders).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`~custkit.data.signals.reduce_order_signals` and ``cut`` (the
        period's last day), one row per customer and period they stayed in.
    """
    check_recent_orders(recent_orders)
    _check_params(180, 90, 2.0, 10.0, period_days)
    if isinstance(periods, bool) or not isinstance(periods, int | np.integer) or periods < 1:
        raise ParamsError(f"The 'periods' parameter must be an int ≥ 1. Got {periods!r} instead.")
    day = pd.Timestamp(as_of).normalize()
    ns = np.timedelta64(1, "D").astype("timedelta64[ns]").astype(np.int64)
    times = orders["order_date"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    end = (day + pd.Timedelta(days=1)).value
    codes, _uniques = pd.factorize(orders["customer_id"])
    known = (times != np.iinfo(np.int64).min) & (times < end) & (codes >= 0)  # NaT: int64 min
    n_customers = int(codes.max()) + 1 if len(codes) else 0
    last = np.full(n_customers, np.iinfo(np.int64).min)
    np.maximum.at(last, codes[known], times[known])
    first = times[known].min() if known.any() else None
    frames = []
    for j in range(1, periods + 1):
        cut = day - pd.Timedelta(days=j * period_days)
        if first is None or cut.value < first - first % ns:
            break
        cut_end = cut.value + ns
        begins = cut_end - period_days * ns
        # customers with an order in the period who ordered again after it; only their orders
        # up to the cut are reduced (a quarter's customers, not the whole store, per pass)
        candidate = np.zeros(n_customers, dtype=bool)
        candidate[codes[known & (times >= begins) & (times < cut_end)]] = True
        candidate &= last >= cut_end
        rows = candidate[codes] & known & (times < cut_end)
        signals = reduce_order_signals(orders.loc[rows], cut, recent_orders)
        # buyers only, like the churn status: a customer whose orders were all cancelled or
        # returned has not bought yet
        in_period = signals["last_placed_date"] >= pd.Timestamp(begins)
        frames.append(signals.loc[in_period & (signals["purchases"] > 0)].assign(cut=cut))
    if not frames:
        return reduce_order_signals(orders.iloc[:0], day, recent_orders).assign(cut=day)
    return pd.concat(frames, ignore_index=True)


def _check_params(lookback_days, quiet_days, min_ratio, prior_events, period_days) -> None:
    for name, value, low, high in (
        ("lookback_days", lookback_days, 1, 3650),
        ("quiet_days", quiet_days, 1, 3650),
        ("period_days", period_days, 7, 3650),
    ):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | np.integer)
            or not low <= value <= high
        ):
            raise ParamsError(
                f"The '{name}' parameter must be an int in the range [{low}, {high}]. "
                f"Got {value!r} instead."
            )
    for name, value, low in (("min_ratio", min_ratio, 1.0), ("prior_events", prior_events, 0.0)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float | np.integer | np.floating)
            or not low < float(value) < np.inf
        ):
            raise ParamsError(
                f"The '{name}' parameter must be a float greater than {low:g}. "
                f"Got {value!r} instead."
            )


def assign_reasons(
    status: pd.DataFrame,
    signals: pd.DataFrame,
    as_of: pd.Timestamp | str,
    feedback_reasons: pd.DataFrame | None = None,
    feedback: pd.DataFrame | None = None,
    messages: pd.DataFrame | None = None,
    served_regions: Sequence[str] | None = None,
    customers: pd.DataFrame | None = None,
    lookback_days: int = 180,
    quiet_days: int = 90,
    min_ratio: float = 2.0,
    prior_events: float = 3.0,
    stayed: pd.DataFrame | None = None,
    period_days: int = 91,
) -> ReasonAssignment:
    """Give every churned customer a primary reason and every customer at risk a risk driver,
    each with the evidence, weighed against the customers who stayed (module docstring).

    Parameters
    ----------
    status : pandas.DataFrame
        Every customer's churn status, indexed by ``customer_id`` with ``status`` (``churned``,
        ``at_risk``, ``active``) and ``last_order_date``:
        :attr:`custkit.churn.ChurnAssessment.status`. The ``active`` customers are the
        comparison group the ratios are learned against.
    signals : pandas.DataFrame
        :func:`custkit.data.signals.reduce_order_signals` at *as_of*.
    as_of : Timestamp or str
        The report's as-of date; later feedback and messages are ignored.
    feedback_reasons : pandas.DataFrame, optional
        :func:`custkit.churn.text.classify_feedback` of *feedback* (one row per feedback row,
        same order).
    feedback : pandas.DataFrame, optional
        The canonical feedback table (for ``rating``).
    messages : pandas.DataFrame, optional
        The canonical messages table: the evidence of a customer with no telling sign says how
        many messages they received around their last order.
    served_regions : sequence of str, optional
        Regions the store delivers to; without it the region evidence is skipped.
    customers : pandas.DataFrame, optional
        The canonical customers table: a home ``region`` outside *served_regions* is evidence of
        a move too.
    lookback_days : int, default 180
        Feedback from this many days before the last order counts.
    quiet_days : int, default 90
        Messages within this many days of the last order are counted in the evidence.
    min_ratio : float, default 2.0
        A reason (or driver) needs a combined likelihood ratio of at least this; > 1.
    prior_events : float, default 3.0
        Pseudo-events of the additive prior on each sign's ratio (shrinkage toward 1); > 0.
    stayed : pandas.DataFrame, optional
        :func:`stayer_signals` of the same orders: the comparison group, customers who ordered
        again after the orders of a period. Without it, the customers active at *as_of* are
        compared with (their last orders are not yet followed by another one: some of them
        are leaving, which understates the ratios).
    period_days : int, default 91
        The periods of *stayed*: a leaver is compared with the customers who stayed after
        orders of the same period, and feedback counts up to this many days after the last
        order (a customer who stayed: up to the end of the period).

    Returns
    -------
    ReasonAssignment

    Raises
    ------
    custkit.errors.DataError
        When *status* lacks ``status`` or ``last_order_date``.
    custkit.errors.ParamsError
        For a parameter out of range.
    """
    _check_params(lookback_days, quiet_days, min_ratio, prior_events, period_days)
    for column in ("status", "last_order_date"):
        if column not in status.columns:
            raise DataError(
                f"column '{column}' is missing.",
                table="status",
                hint="pass every customer's churn status, active ones included (they are what "
                "the reasons are weighed against): custkit.churn.assess_churn(...).status.",
            )
    state = status["status"].astype(str).to_numpy()
    as_of_ts = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
    served = None if served_regions is None else {str(r) for r in served_regions}
    explained = (state == "churned") | (state == "at_risk")
    customers_all = status.index[explained]  # the customers the result is about
    n = len(customers_all)
    last = status["last_order_date"].to_numpy(dtype="datetime64[ns]")[explained]
    # the comparison group: customers who came back after their orders of a period (see
    # stayer_signals), or else the customers active at as-of
    if stayed is None:
        active = state == "active"
        reference = signals.loc[signals["customer_id"].isin(status.index[active])].copy()
        reference["cut"] = pd.Timestamp(as_of).normalize()
        reference["last_placed_date"] = (
            status["last_order_date"].reindex(reference["customer_id"]).to_numpy()
        )
    else:
        missing_columns = {"customer_id", "cut", "last_placed_date"} - set(stayed.columns)
        if missing_columns:
            raise DataError(
                f"lacks the column(s) {sorted(missing_columns)}.",
                table="stayed",
                hint="pass the frame custkit.churn.stayer_signals(orders, as_of) returns.",
            )
        reference = stayed
    m = len(reference)
    cuts = np.unique(reference["cut"].to_numpy(dtype="datetime64[ns]"))
    if not len(cuts):
        cuts = np.array([np.datetime64(pd.Timestamp(as_of).normalize().as_unit("ns"))])
    day = np.timedelta64(1, "D")
    # a leaver's last order falls in the period of the first cut on or after it
    period = np.minimum(np.searchsorted(cuts + day, last, side="right"), len(cuts) - 1)
    period_ref = np.searchsorted(cuts, reference["cut"].to_numpy(dtype="datetime64[ns]"))
    churned = np.r_[state[explained] == "churned", np.zeros(m, dtype=bool)]
    at_risk = np.r_[state[explained] == "at_risk", np.zeros(m, dtype=bool)]
    compared = np.r_[np.zeros(n, dtype=bool), np.ones(m, dtype=bool)]

    mine = signals.loc[signals["customer_id"].isin(customers_all)]
    observed = pd.concat(
        [
            mine.assign(at=customers_all.get_indexer(mine["customer_id"])),
            reference.drop(columns=["cut"]).assign(at=np.arange(n, n + m)),
        ],
        ignore_index=True,
    )
    observed = observed.drop(columns=["last_placed_date"], errors="ignore")
    items, used, missing = _order_items(observed, served)
    ids = np.r_[customers_all.to_numpy(dtype=object), reference["customer_id"].to_numpy(object)]
    placed = np.ones(n + m)
    if "placed_orders" in observed:
        placed[observed["at"].to_numpy()] = observed["placed_orders"].to_numpy(np.float64)
    band = np.searchsorted(np.asarray(_ORDER_BANDS[1:]), np.nan_to_num(placed, nan=1.0), "right")
    band = np.minimum(band, len(_ORDER_BANDS) - 2)
    stratum = np.r_[period, period_ref] * (len(_ORDER_BANDS) - 1) + band
    del observed, mine
    if customers is not None and served is not None and "region" in customers:
        home = customers.drop_duplicates("customer_id").set_index("customer_id")["region"]
        home = home.reindex(ids).astype(object)
        hit = (home.notna() & ~home.isin(served)).to_numpy()
        text = _each(
            lambda r: _("home region is now {region}, where the store does not deliver", region=r),
            home[hit].to_numpy(),
        )
        items.append(
            _items(np.flatnonzero(hit), "home_region_unserved", "moved_out_of_delivery_area", text)
        )

    if feedback_reasons is not None and feedback is not None and len(feedback_reasons):
        used.append(FEEDBACK_SOURCE)
        # a leaver's feedback from lookback_days before the last order to one period after it;
        # of a customer who stayed, to the cut (at most one period after their order)
        end = np.r_[
            np.minimum(last + np.timedelta64(period_days, "D"), np.datetime64(as_of_ts, "ns")),
            reference["cut"].to_numpy(dtype="datetime64[ns]") + day,
        ]
        start = np.r_[last, reference["last_placed_date"].to_numpy("datetime64[ns]")]
        windows = pd.DataFrame(
            {
                "customer_id": ids,
                "at": np.arange(n + m),
                "start": start - np.timedelta64(lookback_days, "D"),
                "end": end,
            }
        )
        texts = feedback_reasons.loc[feedback_reasons["created_at"] < as_of_ts]
        items.extend(_feedback_items(texts, feedback.loc[texts.index], windows))
    else:
        missing.append(_("reviews, support tickets or survey answers (feedback)"))
    if not m:
        missing.append(_("customers who stayed, to compare the leavers' signs with"))

    evidence = pd.concat(items, ignore_index=True) if items else _items([], "", "", "")
    items.clear()  # a million customers' items hold hundreds of MB of text
    pairs = evidence.drop_duplicates(["at", "sign"])[["at", "sign", "reason"]]
    ratios = _likelihood_ratios(pairs, churned, compared, stratum, float(prior_events))
    evidence = evidence.loc[evidence["at"].to_numpy() < n]
    evidence = evidence.join(ratios.set_index("sign")["likelihood_ratio"], on="sign")
    best, ratio, joined, n_items = _strongest_reason(evidence, n)
    del evidence
    churned, at_risk = churned[:n], at_risk[:n]
    strong = ratio >= float(min_ratio)

    quiet = ~strong
    received = np.zeros(n, dtype=np.int64)
    if messages is not None:
        used.append("messages")
        last_order = status["last_order_date"]
        sent = messages.loc[
            messages["customer_id"].isin(customers_all[quiet]) & (messages["sent_at"] < as_of_ts),
            ["customer_id", "sent_at"],
        ]
        gap = sent["sent_at"].to_numpy() - last_order.reindex(sent["customer_id"]).to_numpy()
        lately = np.abs(gap) <= np.timedelta64(quiet_days, "D")
        received = (
            sent.loc[lately]
            .groupby("customer_id")
            .size()
            .reindex(customers_all, fill_value=0)
            .to_numpy()
        )
    else:
        missing.append(
            _("marketing messages (did a leaver with no sign keep hearing from the store)")
        )
    text = np.full(n, None, dtype=object)
    ratio_text = _each(
        lambda r: _("{ratio:.1f}× as common as among customers who stayed", ratio=r),
        np.round(ratio[strong], 1),
    )
    text[strong] = _fill(
        _("{evidence} ({ratio})"),
        evidence=pd.Series(joined[strong], dtype=object),
        ratio=pd.Series(ratio_text, dtype=object),
    ).to_numpy()
    if messages is not None:
        text[quiet] = _each(
            lambda m: (
                n_(
                    "no complaint or sign of trouble; received {n} message lately and did not "
                    "come back",
                    "no complaint or sign of trouble; received {n} messages lately and did not "
                    "come back",
                    int(m),
                )
                if m
                else n_(
                    "no complaint, no sign of trouble and no message from the store within {n} "
                    "day of the last order",
                    "no complaint, no sign of trouble and no message from the store within {n} "
                    "days of the last order",
                    quiet_days,
                )
            ),
            received[quiet],
        )
    else:
        text[quiet] = _("no complaint and no sign of trouble in the orders")
    # a churned customer with no sign above the store's base rate forgot it; with no evidence
    # source at all there is nothing to judge by
    fallback = "forgot" if used else "unknown"
    reason = np.where(churned, np.where(strong, best, fallback), None)
    driver = np.where(at_risk & strong, best, None)
    strength = np.where(strong, 1.0 - 1.0 / ratio, 0.0)
    frame = pd.DataFrame(
        {
            "status": state[explained],
            "reason": pd.Categorical(reason, categories=list(REASON_CODES)),
            "driver": pd.Categorical(driver, categories=list(REASON_CODES)),
            "likelihood_ratio": np.where(strong, ratio, 1.0),
            "strength": strength,
            "evidence": text,
            "evidence_items": np.where(strong, n_items, 0),
        },
        index=customers_all,
    )
    return ReasonAssignment(frame, tuple(used), tuple(missing), ratios)
