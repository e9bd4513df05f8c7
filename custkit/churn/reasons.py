"""Why each churned or at-risk customer left: a primary reason code, with the evidence shown.

Every source the store has contributes *evidence items* — (customer, reason, strength, what was
seen). Items for the same reason add up as independent signs, ``1 − Π(1 − strength)``, and a
customer's primary reason is the one with the strongest total; the evidence column quotes the
items behind it. Items and their strengths (0–1):

=====================================  ========================================================
feedback text                          survey answer 0.9, ticket 0.85, review 0.75, times the
                                       text classifier's confidence (:mod:`custkit.churn.text`)
late deliveries in the last orders     ``delivery``: 0.5, +0.05 a day of delay (to 0.75),
                                       +0.1 when two or more were late
delivery cost rose                     ``delivery_cost``: 0.6 when shipping took ≥ 4 points
                                       more of the recent orders' value than of earlier ones
                                       (≥ 8% in all); 0.55 when a recent order paid ≥ 1.4×
                                       the region's usual delivery price
coupon dependence before leaving       ``competitor_price``: 0.45 when half or more of the
                                       recent purchases used a coupon, 30 points more than
                                       the earlier ones
returned orders before leaving         ``quality``: 0.55
low ratings (≤ 2) without a reason     ``quality`` 0.35 (reviews) / ``support`` 0.35 (tickets)
in the text
last delivery or home region unserved  ``moved_out_of_delivery_area``: 0.9
=====================================  ========================================================

A customer without any item of strength ≥ ``min_strength`` *forgot* the store when the store sent
them no message within ``quiet_days`` of their last order, before or after. One who kept hearing
from the store gets the reason of a *weak sign* (strength 0.2: coupons on all of a short history,
with no earlier orders to compare with) when there is one, else ``unknown``. Feedback counts from
``lookback_days`` before the last order to as-of.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from custkit.churn.codes import REASON_CODES
from custkit.errors import DataError, ParamsError
from custkit.i18n import _, n_

__all__ = ["ReasonAssignment", "assign_reasons"]

_KIND_WEIGHT = {"survey": 0.9, "ticket": 0.85, "review": 0.75}
_OTHER_KIND_WEIGHT = 0.7
#: strength of weak signs: they name a reason only for customers who would otherwise be unknown
_WEAK = 0.2


@dataclass(frozen=True)
class ReasonAssignment:
    """Primary reasons of the customers asked about, and which evidence sources were there.

    Attributes
    ----------
    reasons : pandas.DataFrame
        Indexed by ``customer_id``: ``reason`` (categorical, :data:`REASON_CODES`),
        ``strength`` (of the reason's items combined, 0 for ``forgot`` / ``unknown``), ``evidence``
        (plain text in the report language: the two strongest items behind the reason, no
        personal data),
        ``evidence_items`` (how many items pointed to that reason).
    sources_used : tuple of str
        Evidence sources the data had.
    sources_missing : tuple of str
        Sources it lacked, in words a manager can act on (in the report language).
    """

    reasons: pd.DataFrame
    sources_used: tuple[str, ...]
    sources_missing: tuple[str, ...]


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
    for literal, field, _spec, _conversion in string.Formatter().parse(template):
        out = out + literal
        if field is not None:
            out = out + columns[field].astype(str)
    return out


def _items(customer_ids, reason: str, strength, text) -> pd.DataFrame:
    n = len(customer_ids)
    return pd.DataFrame(
        {
            "customer_id": np.asarray(customer_ids),
            "reason": np.full(n, reason, dtype=object),
            "strength": np.broadcast_to(np.asarray(strength, dtype=np.float64), (n,)),
            "text": np.broadcast_to(np.asarray(text, dtype=object), (n,)),
        }
    )


def _order_items(signals: pd.DataFrame, served: set[str] | None) -> tuple[list, list, list]:
    """Evidence from the orders; returns (items, sources used, sources missing)."""
    items, used, missing = [], [], []
    s = signals
    ids = s["customer_id"].to_numpy()
    if "late_recent" in s:
        used.append("delivery dates")
        late = s["late_recent"].to_numpy() >= 1
        delay = s["max_delay_days_recent"].to_numpy()[late]
        count = s["late_recent"].to_numpy()[late]
        strength = 0.5 + 0.05 * np.minimum(delay, 5) + 0.1 * (count >= 2)
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
        items.append(_items(ids[late], "delivery", strength, text))
    else:
        missing.append(_("promised and actual delivery dates (late deliveries)"))
    if "shipping_share_recent" in s:
        used.append("shipping cost")
        recent = s["shipping_share_recent"].to_numpy()
        before = s["shipping_share_before"].to_numpy()
        with np.errstate(invalid="ignore"):
            rose = (recent - before >= 0.04) & (recent >= 0.08)
        text = _each(
            lambda r, b: _(
                "delivery cost rose to {recent:.0%} of the order value (was {before:.0%})",
                recent=r,
                before=b,
            ),
            np.round(recent[rose], 2),
            np.round(before[rose], 2),
        )
        items.append(_items(ids[rose], "delivery_cost", 0.6, text))
        if "shipping_vs_usual_recent" in s:
            times = s["shipping_vs_usual_recent"].to_numpy()
            surcharged = times >= 1.4
            text = _each(
                lambda t: _(
                    "paid {times:.1f}× the region's usual delivery price on a recent order",
                    times=t,
                ),
                np.round(times[surcharged], 1),
            )
            items.append(_items(ids[surcharged], "delivery_cost", 0.55, text))
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
        items.append(_items(ids[rose], "competitor_price", 0.45, text))
        text = _each(
            lambda r: _("used a coupon on {share:.0%} of their orders", share=r),
            np.round(recent[only], 2),
        )
        items.append(_items(ids[only], "competitor_price", _WEAK, text))
    if "returned_recent" in s:
        used.append("order statuses")
        hit = s["returned_recent"].to_numpy() >= 1
        text = _("returned an order shortly before leaving")
        items.append(_items(ids[hit], "quality", 0.55, text))
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
        items.append(_items(ids[hit], "moved_out_of_delivery_area", 0.9, text))
    elif served is None:
        missing.append(_("the list of served regions (params: served_regions)"))
    return items, used, missing


def _feedback_items(texts: pd.DataFrame, feedback: pd.DataFrame, window: pd.DataFrame) -> list:
    """Evidence from reviews, tickets and surveys inside each customer's window."""
    rating = feedback["rating"].to_numpy() if "rating" in feedback else np.nan
    rows = texts.assign(rating=rating).join(window, on="customer_id", how="inner")
    rows = rows.loc[rows["created_at"] >= rows["window_start"]]
    if "kind" in rows:
        kind = rows["kind"].astype(object).fillna("").astype(str).str.lower()
    else:
        kind = pd.Series("", index=rows.index)
    weight = kind.map(_KIND_WEIGHT).fillna(_OTHER_KIND_WEIGHT).to_numpy()
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
        strength = said["confidence"].to_numpy(dtype=np.float64) * weight[named]
        frame = _items(said["customer_id"], "", strength, text.to_numpy())
        frame["reason"] = said["reason"].astype(object).to_numpy()
        items.append(frame)
    low = ~named & (rows["rating"] <= 2).to_numpy()
    if low.any():
        rated = rows.loc[low]
        text = _each(
            lambda r, d: _("rated {rating:g}/5 on {date}", rating=r, date=d),
            rated["rating"].to_numpy(dtype=np.float64),
            rated["created_at"].dt.strftime("%Y-%m-%d").to_numpy(dtype=object),
        )
        frame = _items(rated["customer_id"], "", 0.35, text)
        frame["reason"] = np.where(kind[low] == "ticket", "support", "quality")
        items.append(frame)
    return items


def _strongest_reason(items: list[pd.DataFrame]) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Each customer's strongest reason (``best``: ``reason``, ``strength`` by customer), the
    evidence quoted for it (its two strongest items, joined) and how many items pointed to it.

    Empties *items* as it goes: on a million-customer store the items and their sorted copy hold
    hundreds of MB of text, which should not outlive this step (it sets the report's memory peak).
    """
    evidence = pd.concat(items, ignore_index=True) if items else _items([], "", 0.0, "")
    items.clear()
    # independent items for one reason add up (noisy-or): a return, a complaint and a low rating
    # together outweigh one survey answer, which customers give carelessly at times
    evidence["doubt"] = np.log1p(-np.minimum(evidence["strength"].to_numpy(), 0.99))
    total = evidence.groupby(["customer_id", "reason"], sort=False)["doubt"].sum()
    per_reason = (-np.expm1(total)).rename("strength").reset_index()
    best = (
        per_reason.sort_values(["customer_id", "strength"], ascending=[True, False])
        .drop_duplicates("customer_id")
        .set_index("customer_id")
    )
    # the evidence quoted: the two strongest items for the chosen reason
    ranked = evidence.sort_values(["customer_id", "strength"], ascending=[True, False])
    del evidence
    best_reason = best["reason"].reindex(ranked["customer_id"]).to_numpy()
    chosen = ranked.loc[ranked["reason"].to_numpy() == best_reason]
    del ranked
    rank = chosen.groupby("customer_id", sort=False).cumcount().to_numpy()
    first = chosen.loc[rank == 0].set_index("customer_id")["text"]
    second = chosen.loc[rank == 1].set_index("customer_id")["text"].reindex(first.index)
    joined = pd.Series(
        np.where(second.notna(), first + "; " + second.fillna(""), first),
        index=first.index,
        dtype=object,
    )
    return best, joined, chosen.groupby("customer_id", sort=False).size()


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
    min_strength: float = 0.3,
) -> ReasonAssignment:
    """Give every customer in *status* a primary churn reason, with the evidence.

    Parameters
    ----------
    status : pandas.DataFrame
        The customers to explain, indexed by ``customer_id`` with ``last_order_date``
        (e.g. the churned and at-risk rows of :func:`custkit.churn.definition.churn_status`).
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
        The canonical messages table: tells ``forgot`` from ``unknown``.
    served_regions : sequence of str, optional
        Regions the store delivers to; without it the region evidence is skipped.
    customers : pandas.DataFrame, optional
        The canonical customers table: a home ``region`` outside *served_regions* is evidence of
        a move too.
    lookback_days : int, default 180
        Feedback from this many days before the last order counts.
    quiet_days : int, default 90
        "No messages lately" means none within this many days of the last order.
    min_strength : float, default 0.3
        Weaker evidence is not enough to name a reason.

    Returns
    -------
    ReasonAssignment
    """
    for name, value, low, high in (
        ("lookback_days", lookback_days, 1, 3650),
        ("quiet_days", quiet_days, 1, 3650),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ParamsError(
                f"The '{name}' parameter must be an int in the range [{low}, {high}]. "
                f"Got {value!r} instead."
            )
        if not low <= value <= high:
            raise ParamsError(
                f"The '{name}' parameter must be an int in the range [{low}, {high}]. "
                f"Got {value!r} instead."
            )
    if not 0 < float(min_strength) <= 1:
        raise ParamsError(
            f"The 'min_strength' parameter must be a float in the range (0, 1]. "
            f"Got {min_strength!r} instead."
        )
    if "last_order_date" not in status.columns:
        raise DataError(
            "column 'last_order_date' is missing.",
            table="status",
            hint="pass the churn status from custkit.churn.assess_churn(...).status.",
        )
    as_of_ts = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
    served = None if served_regions is None else {str(r) for r in served_regions}
    wanted = status.index
    signals = signals.loc[signals["customer_id"].isin(wanted)]
    items, used, missing = _order_items(signals, served)

    if customers is not None and served is not None and "region" in customers:
        home = customers.drop_duplicates("customer_id").set_index("customer_id")["region"]
        home = home.reindex(wanted).astype(object)
        hit = (home.notna() & ~home.isin(served)).to_numpy()
        text = _each(
            lambda r: _("home region is now {region}, where the store does not deliver", region=r),
            home[hit].to_numpy(),
        )
        items.append(_items(wanted[hit], "moved_out_of_delivery_area", 0.9, text))

    window = pd.DataFrame(
        {"window_start": status["last_order_date"] - pd.Timedelta(days=lookback_days)}
    )
    if feedback_reasons is not None and feedback is not None and len(feedback_reasons):
        used.append("feedback texts and ratings")
        texts = feedback_reasons.loc[feedback_reasons["created_at"] < as_of_ts]
        items.extend(_feedback_items(texts, feedback.loc[texts.index], window))
    else:
        missing.append(_("reviews, support tickets or survey answers (feedback)"))

    best, joined, n_items = _strongest_reason(items)
    strength = best["strength"].reindex(wanted).fillna(0.0).to_numpy()
    strong = strength >= min_strength
    weak = ~strong & (strength > 0)
    reason = best["reason"].reindex(wanted).where(strong)
    text = joined.reindex(wanted).where(strong)
    if messages is not None:
        used.append("messages")
        last = status["last_order_date"].reindex(wanted)
        sent = messages.loc[
            messages["customer_id"].isin(wanted[~strong]) & (messages["sent_at"] < as_of_ts),
            ["customer_id", "sent_at"],
        ]
        gap = sent["sent_at"].to_numpy() - last.reindex(sent["customer_id"]).to_numpy()
        lately = np.abs(gap) <= np.timedelta64(quiet_days, "D")
        received = (
            sent.loc[lately].groupby("customer_id").size().reindex(wanted, fill_value=0).to_numpy()
        )
        forgot = ~strong & (received == 0)
    else:
        missing.append(_("marketing messages (to tell 'forgot' from 'unknown')"))
        received = np.zeros(len(wanted), dtype=np.int64)
        forgot = ~strong & ~weak
    reason[forgot] = "forgot"
    text[forgot] = (
        n_(
            "no complaint, no sign of trouble and no message from the store within {n} day of "
            "the last order",
            "no complaint, no sign of trouble and no message from the store within {n} days of "
            "the last order",
            quiet_days,
        )
        if messages is not None
        else _("no complaint and no sign of trouble in the orders")
    )
    leaning = weak & ~forgot  # kept hearing from the store: a weak sign is the best guess
    reason[leaning] = best["reason"].reindex(wanted)[leaning]
    text[leaning] = _fill(_("weak sign: {evidence}"), evidence=joined.reindex(wanted)[leaning])
    unknown = ~strong & ~forgot & ~leaning
    reason[unknown] = "unknown"
    text[unknown] = _each(
        lambda n: n_(
            "no complaint or sign of trouble; received {n} message lately and did not come back",
            "no complaint or sign of trouble; received {n} messages lately and did not come back",
            int(n),
        ),
        received[unknown],
    )
    strength = np.where(strong | leaning, strength, 0.0)
    frame = pd.DataFrame(
        {
            "reason": pd.Categorical(reason.to_numpy(), categories=list(REASON_CODES)),
            "strength": strength,
            "evidence": text.to_numpy(dtype=object),
            "evidence_items": n_items.reindex(wanted, fill_value=0).to_numpy(),
        },
        index=wanted,
    )
    return ReasonAssignment(frame, tuple(used), tuple(missing))
