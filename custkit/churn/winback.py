"""The win-back plan: what to tell each churned or at-risk customer, on which channel, with how
much incentive, and what past win-back campaigns actually brought back.

Input is one row per customer worth a look (``targets``: ``customer_id``, ``status``, ``reason``,
``evidence``, ``churn_probability``, ``value``; how they are found and why they left is decided
elsewhere in :mod:`custkit.churn`). :func:`winback_plan` turns it into a per-customer plan and a
summary; :func:`contact_list` joins the contacts for the export files. What past campaigns brought
back is measured in :mod:`custkit.churn.campaigns`. Every rule below is a parameter of
:class:`WinbackPolicy`.

The rules
---------
Action
    :data:`ACTIONS` maps each reason code to one action. "We now deliver to your region" is sent
    only when the customer's region is in ``served_regions``; otherwise the action is
    ``no_action`` and the customer is not contacted (``skip_reason`` "cannot deliver to region").
Worth contacting
    ``value >= min_value``.
Channel (:func:`choose_channels`)
    Among the channels the customer consented to *and* has an address for, the one with the
    highest estimated response rate (``converted`` by default). The estimate is the customer's own
    record shrunk toward their segment's, and the segment's toward the store's::

        store_rate[c]      = responses[c] / messages[c]                      (all customers)
        segment_rate[g, c] = (responses[g, c] + S * store_rate[c]) / (messages[g, c] + S)
        rate[i, c]         = (responses[i, c] + K * segment_rate[g(i), c]) / (messages[i, c] + K)

    with ``K = customer_prior_messages`` (20) and ``S = segment_prior_messages`` (200): the prior
    mean comes from the data (empirical Bayes), its strength is a parameter counted in messages —
    one conversion out of one message moves a customer only 1/21 of the way to 100%. A channel
    the store has never used has no rate and ranks below measured ones; ties go to the channel
    listed first in ``channels``.
Frequency cap (:func:`frequency_cap_ok`)
    A customer may be contacted on ``send_date`` only if fewer than ``max_messages`` messages were
    sent to them on the ``cap_days`` calendar days ending with ``send_date`` (days
    ``send_date - cap_days + 1`` … ``send_date``, times of day ignored). With 3 in 7 days and a
    send on 10 May, messages from 4 to 10 May count, one from 3 May does not.
Incentive
    ``floor(min(incentive_rate × value × churn_probability, max_incentive) / incentive_step) ×
    incentive_step``, and 0 when ``churn_probability < min_probability_for_incentive`` or the
    customer is not contacted: money goes where loss is likely, and the best customers at low
    risk get a message without a discount. The incentive is the most the offer may cost (coupon
    value, delivery refund, price-match budget, goodwill credit); it is spent only when used.
Expected result
    A contacted customer is won back (or kept) with probability ``churn_probability × r``: the
    chance they would be lost times the share of those who come back when their reason is
    addressed. ``r`` is the store's own measurement when a :class:`CampaignEvaluation` with enough
    customers is given (the uplift over a holdout group when there is one), else
    ``assumed_return_rate`` = 0.6, a figure from the source articles stated as an assumption in
    every summary. Revenue won back is ``value × churn_probability × r``.

Consent
    A channel needs a ``consent_<channel>`` column that is true for the customer and, for
    channels that need one, an address (:data:`CONTACT_FIELDS`: e-mail for ``email``, phone for
    ``sms`` / ``messenger`` / ``phone``, ``address`` for ``post``; ``push`` needs none). The
    contract records consent for e-mail and SMS only: every other channel counts as not
    consented unless listed in ``assume_consent`` (for consent held elsewhere, e.g. the app's
    notification permission). Addresses are checked for presence, not format.

Contact data (names, e-mails, phones) appears only in :func:`contact_list`, which is for export
files, never for HTML. Everything is vectorized: a plan for 200,000 customers with 2 million
past messages takes about a second.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from custkit.churn._inputs import (
    WinbackWarning,
    _check_id_kinds,
    _check_number,
    _day,
    _days,
    _require,
    _take,
)
from custkit.churn.campaigns import CampaignEvaluation
from custkit.churn.codes import REASON_CODES
from custkit.data.periods import DAY_NS
from custkit.errors import DataError, ParamsError, did_you_mean
from custkit.findings import Finding
from custkit.i18n import _

__all__ = [
    "ACTIONS",
    "BREAK_EVEN_TOLERANCE",
    "CHANNELS",
    "CHANNEL_LABELS",
    "CHURN_REASONS_EXPORT",
    "CONTACTS_EXPORT",
    "CONTACT_FIELDS",
    "NO_DELIVERY_ACTION",
    "SKIP_REASONS",
    "WinbackAction",
    "WinbackPlan",
    "WinbackPolicy",
    "WinbackWarning",
    "channel_label",
    "choose_channels",
    "contact_list",
    "frequency_cap_ok",
    "incentives",
    "winback_plan",
]

#: Messaging channels of the canonical ``messages`` table.
CHANNELS = ("email", "sms", "messenger", "push", "post", "phone")
#: Each channel in words, for charts (English; :func:`channel_label` gives the report language).
CHANNEL_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "email": "E-mail",
        "sms": "SMS",
        "messenger": "Messenger",
        "push": "Push notification",
        "post": "Postal mail",
        "phone": "Phone call",
    }
)
#: Customers-table column holding each channel's address (``None``: the channel needs none).
CONTACT_FIELDS: Mapping[str, str | None] = MappingProxyType(
    {
        "email": "email",
        "sms": "phone",
        "messenger": "phone",
        "phone": "phone",
        "post": "address",
        "push": None,
    }
)
#: Why a target is not contacted, in the order they are checked (the first that applies is shown).
#: Codes of the plan's ``skip_reason`` column, written in English; reports translate them.
SKIP_REASONS = (
    "cannot deliver to region",
    "not worth contacting",
    "no consented channel",
    "frequency cap",
)
#: Statuses a target may have.
STATUSES = ("churned", "at_risk")
#: Export names (``ctx.export(frame, name)`` writes ``exports/<name>.csv`` and ``.xlsx``).
CHURN_REASONS_EXPORT = "churn_reasons"
CONTACTS_EXPORT = "winback_contacts"
_METRICS = ("converted", "clicked", "opened")


def channel_label(channel: Any) -> str:
    """A channel in words in the report language (a store's own channel names stay as written)."""
    return _(CHANNEL_LABELS.get(str(channel), str(channel)))


@dataclass(frozen=True)
class WinbackAction:
    """What to do about one churn reason.

    Attributes
    ----------
    code : str
        Short code shown in tables and exports.
    text : str
        What to send, in plain language, when an incentive is attached (in English: the plan
        and the charts show it in the report language).
    text_without_incentive : str
        The same when the incentive is zero (low churn risk).
    """

    code: str
    text: str
    text_without_incentive: str


#: Reason code → action. ``moved_out_of_delivery_area`` gets :data:`NO_DELIVERY_ACTION` instead
#: when the store does not deliver to the customer's region.
ACTIONS: Mapping[str, WinbackAction] = MappingProxyType(
    {
        "forgot": WinbackAction(
            "reminder",
            "Remind them of the store (new arrivals, their usual categories) with a coupon for "
            "the next order.",
            "Remind them of the store: new arrivals and their usual categories; no coupon.",
        ),
        "delivery_cost": WinbackAction(
            "free_delivery_coupon",
            "Give a free-delivery coupon for the next order.",
            "Tell them how to get free delivery (order threshold, pick-up points); no coupon: "
            "low risk of loss.",
        ),
        "competitor_price": WinbackAction(
            "price_match_offer",
            "Offer to match a competitor's lower price on the next order, up to the incentive.",
            "Show current prices of what they buy; no price-match budget: low risk of loss.",
        ),
        "moved_out_of_delivery_area": WinbackAction(
            "now_deliver_to_region",
            "Tell them we now deliver to their region, with a coupon for the first order there.",
            "Tell them we now deliver to their region.",
        ),
        "quality": WinbackAction(
            "apology_quality_follow_up",
            "Apologize for the quality problem, ask what went wrong, offer an exchange and a "
            "goodwill coupon.",
            "Apologize for the quality problem, ask what went wrong and offer an exchange.",
        ),
        "delivery": WinbackAction(
            "apology_delivery_follow_up",
            "Apologize for the delivery problem, say what has been fixed and add a goodwill "
            "coupon.",
            "Apologize for the delivery problem and say what has been fixed.",
        ),
        "support": WinbackAction(
            "support_follow_up",
            "Have a senior support agent contact them to settle the open issue, with a goodwill "
            "coupon.",
            "Have a senior support agent contact them to settle the open issue.",
        ),
        "unknown": WinbackAction(
            "generic_reminder",
            "Send a reminder with a coupon and ask, in one question, why they stopped buying.",
            "Send a reminder and ask, in one question, why they stopped buying.",
        ),
    }
)
#: The action for a customer who moved where the store does not deliver: none, not contacted.
NO_DELIVERY_ACTION = WinbackAction(
    "no_action",
    "No action: we cannot deliver there.",
    "No action: we cannot deliver there.",
)


# --- parameters ---------------------------------------------------------------------------------


def _check_channels(owner: str, name: str, value: Any, allow_empty: bool) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ParamsError(
            f"The '{name}' parameter of {owner} must be a list of channels from {list(CHANNELS)}, "
            f"e.g. ['email', 'sms']. Got {value!r} instead."
        )
    items = tuple(value)
    for item in items:
        if item not in CHANNELS:
            raise ParamsError(
                f"The '{name}' parameter of {owner} must name channels from {list(CHANNELS)}. "
                f"Got {item!r} instead.{did_you_mean(str(item), CHANNELS)}"
            )
    if len(set(items)) != len(items) or (not items and not allow_empty):
        raise ParamsError(
            f"The '{name}' parameter of {owner} must list each channel once and at least one. "
            f"Got {list(items)!r} instead."
        )
    return items


#: Numeric parameters of :class:`WinbackPolicy`: (low, high, integer, low end open).
_NUMERIC_PARAMETERS: Mapping[str, tuple[float, float, bool, bool]] = MappingProxyType(
    {
        "max_messages": (1, 1000, True, False),
        "cap_days": (1, 366, True, False),
        "min_value": (0.0, float("inf"), False, False),
        "incentive_rate": (0.0, 1.0, False, False),
        "max_incentive": (0.0, float("inf"), False, False),
        "incentive_step": (0.0, float("inf"), False, False),
        "min_probability_for_incentive": (0.0, 1.0, False, False),
        "assumed_return_rate": (0.0, 1.0, False, False),
        "customer_prior_messages": (0.0, float("inf"), False, True),
        "segment_prior_messages": (0.0, float("inf"), False, True),
        "min_measured_customers": (1, 10**9, True, False),
    }
)


@dataclass(frozen=True)
class WinbackPolicy:
    """Parameters of the win-back plan; every rule of :mod:`custkit.churn.winback` reads them.

    Parameters
    ----------
    max_messages : int, default 3
        Frequency cap: at most this many messages to a customer on ``cap_days`` calendar days,
        the planned one included; messages already sent count.
    cap_days : int, default 7
        Length of the frequency-cap window in calendar days, ending with the send day.
    min_value : float, default 0
        Customers whose ``value`` is below this are not worth contacting.
    incentive_rate : float, default 0.1
        Share of the value at risk (``value × churn_probability``) offered as incentive.
    max_incentive : float, default 500
        Most incentive per customer, in the store's currency (500 suits the demo store, RUB).
    incentive_step : float, default 50
        Incentives are rounded down to a multiple of this (coupon denominations); 0: no rounding.
    min_probability_for_incentive : float, default 0.5
        Below this churn probability the incentive is zero: the customer is more likely to stay
        than not, and a discount would mostly pay for orders that come anyway.
    served_regions : list of str, optional
        Regions the store delivers to now (compared ignoring case and surrounding spaces).
        ``None``: unknown, so "we now deliver to your region" is never sent.
    assumed_return_rate : float, default 0.6
        Share of would-be-lost customers who come back when their reason is addressed. The 0.6
        is the source articles' figure, not a measurement; a :class:`CampaignEvaluation` of the
        store's own campaigns replaces it when it has ``min_measured_customers``.
    channels : list of str, default ("email", "sms")
        Channels the plan may use, in order of preference for ties.
    assume_consent : list of str, default ()
        Channels among ``channels`` that count as consented for every customer with an address
        although the customers table has no ``consent_<channel>`` column (consent held
        elsewhere, e.g. app notification permission). Use with care.
    channel_metric : {"converted", "clicked", "opened"}, default "converted"
        Response counted when comparing channels. Opens are not comparable across channels
        (an SMS is "opened" when delivered), so conversions are the default.
    customer_prior_messages : float, default 20
        Strength, in messages, of the segment's rate in a customer's estimate.
    segment_prior_messages : float, default 200
        Strength, in messages, of the store's rate in a segment's estimate.
    message_cost : mapping of str to float, optional
        Cost of one message per channel, for the summary; missing channels cost 0.
    min_measured_customers : int, default 100
        A measured return rate replaces the assumed one only with at least this many contacted
        customers (and as many in the holdout group, for an uplift).
    """

    max_messages: int = 3
    cap_days: int = 7
    min_value: float = 0.0
    incentive_rate: float = 0.1
    max_incentive: float = 500.0
    incentive_step: float = 50.0
    min_probability_for_incentive: float = 0.5
    served_regions: tuple[str, ...] | None = None
    assumed_return_rate: float = 0.6
    channels: tuple[str, ...] = ("email", "sms")
    assume_consent: tuple[str, ...] = ()
    channel_metric: str = "converted"
    customer_prior_messages: float = 20.0
    segment_prior_messages: float = 200.0
    message_cost: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    min_measured_customers: int = 100

    def __post_init__(self) -> None:
        owner = type(self).__name__

        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        for name, (low, high, integer, low_open) in _NUMERIC_PARAMETERS.items():
            value = getattr(self, name)
            put(
                name,
                _check_number(owner, name, value, low, high, integer=integer, low_open=low_open),
            )
        if self.served_regions is not None:
            regions = self.served_regions
            if isinstance(regions, str) or not isinstance(regions, Iterable):
                raise ParamsError(
                    f"The 'served_regions' parameter of {owner} must be a list of region names, "
                    f"e.g. ['Kazan', 'Samara'], or None. Got {regions!r} instead."
                )
            put("served_regions", tuple(str(r) for r in regions))
        put("channels", _check_channels(owner, "channels", self.channels, allow_empty=False))
        assumed = _check_channels(owner, "assume_consent", self.assume_consent, allow_empty=True)
        outside = [c for c in assumed if c not in self.channels]
        if outside:
            raise ParamsError(
                f"The 'assume_consent' parameter of {owner} may only name channels in 'channels' "
                f"{list(self.channels)}. Got {outside!r} instead."
            )
        put("assume_consent", assumed)
        if self.channel_metric not in _METRICS:
            raise ParamsError(
                f"The 'channel_metric' parameter of {owner} must be a str among "
                f"{list(_METRICS)}. Got {self.channel_metric!r} instead."
                f"{did_you_mean(str(self.channel_metric), _METRICS)}"
            )
        if not isinstance(self.message_cost, Mapping):
            raise ParamsError(
                f"The 'message_cost' parameter of {owner} must be a mapping of channel to cost, "
                f"e.g. {{'sms': 3.5}}. Got {self.message_cost!r} instead."
            )
        costs = {}
        for channel, cost in self.message_cost.items():
            _check_channels(owner, "message_cost", [channel], allow_empty=False)
            costs[channel] = _check_number(owner, f"message_cost['{channel}']", cost, 0.0)
        put("message_cost", MappingProxyType(costs))


# --- small helpers ------------------------------------------------------------------------------


def _unique_index(ids: pd.Series, table: str) -> pd.Index:
    index = pd.Index(ids)
    if not index.is_unique:
        dup = index[index.duplicated()][:3].tolist()
        raise DataError(
            f"customer_id must be unique; repeated: {dup}.",
            table=table,
            column="customer_id",
            hint="keep one row per customer.",
        )
    return index


def _codes(values: pd.Series, categories: Iterable[str]) -> np.ndarray:
    """Code of each value in *categories* (ignoring case and spaces), -1 where it is not there.

    Works through the values' categories, so a categorical column of millions of rows is coded
    from a lookup of its few distinct values.
    """
    cat = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    names = pd.Index(cat.cat.categories.astype(str)).str.strip().str.lower()
    lookup = pd.Index(list(categories)).get_indexer(names)
    return np.append(lookup, -1)[cat.cat.codes.to_numpy()]


def _bool_values(values: pd.Series | pd.api.extensions.ExtensionArray) -> np.ndarray:
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if series.dtype == bool:
        return series.to_numpy()
    return series.fillna(False).astype(bool).to_numpy()


def _present(values: pd.Series) -> np.ndarray:
    """True where a contact value is given (not missing, not blank)."""
    text = values.astype("string").str.strip()
    return (text.notna() & (text.str.len() > 0)).fillna(False).to_numpy(dtype=bool)


def _customers_by_id(customers: pd.DataFrame) -> tuple[pd.DataFrame, pd.Index]:
    """Customers with one row per id (the first, as the loader keeps it) and their index."""
    _require(customers, "customers", ["customer_id"])
    if not customers["customer_id"].is_unique:
        customers = customers.drop_duplicates("customer_id")
    return customers, pd.Index(customers["customer_id"])


def _consented(
    customers: pd.DataFrame, positions: np.ndarray, channel: str, assume: Iterable[str]
) -> np.ndarray:
    """Whether each customer (row *positions* of *customers*, -1: unknown) may get *channel*."""
    found = positions >= 0
    consent = f"consent_{channel}"
    if channel in assume:
        granted = found
    elif consent in customers.columns:
        granted = found & _bool_values(_take(customers[consent], positions))
    else:
        return np.zeros(len(positions), dtype=bool)
    contact = CONTACT_FIELDS[channel]
    if contact is None:
        return granted
    if contact not in customers.columns:
        return np.zeros(len(positions), dtype=bool)
    return granted & _present(_take(customers[contact], positions))


def _segment_map(segment: Any, candidates: pd.Index) -> tuple[np.ndarray, pd.Index, int]:
    """Segment codes (-1: none), the ids they belong to and the number of segments."""
    if isinstance(segment, pd.DataFrame):
        _require(segment, "segments", ["customer_id", "segment"])
        segment = segment.set_index("customer_id")["segment"]
    if not isinstance(segment, pd.Series):
        raise ParamsError(
            "segment must be a pandas Series of segment labels indexed by customer_id, or a "
            f"DataFrame with columns customer_id and segment. Got {type(segment).__name__} "
            "instead."
        )
    index = pd.Index(segment.index)
    if not index.is_unique:
        segment = segment[~index.duplicated()]
        index = pd.Index(segment.index)
    hits = index.get_indexer(candidates) >= 0 if len(candidates) else np.zeros(0, dtype=bool)
    if len(candidates) and len(segment) and not hits.any():
        raise DataError(
            "no customer to plan for is in the segment labels: they must be indexed by "
            "customer_id.",
            table="segments",
            hint="pass targets.set_index('customer_id')['segment'] rather than the column itself.",
        )
    codes, uniques = pd.factorize(segment, use_na_sentinel=True)
    return codes.astype(np.int64), index, len(uniques)


# --- channel choice -----------------------------------------------------------------------------


def choose_channels(
    customers: pd.DataFrame,
    messages: pd.DataFrame | None,
    candidates: Iterable[Any],
    segment: pd.Series | pd.DataFrame | None = None,
    policy: WinbackPolicy | None = None,
    before: Any = None,
) -> pd.DataFrame:
    """Choose for each candidate the consented channel with the best estimated response rate.

    Parameters
    ----------
    customers : pandas.DataFrame
        Canonical customers: ``customer_id``, ``consent_email`` / ``consent_sms`` (other channels:
        ``consent_<channel>``), ``email`` / ``phone`` (see :data:`CONTACT_FIELDS`).
    messages : pandas.DataFrame or None
        Canonical messages: ``customer_id``, ``channel``, ``sent_at`` (with *before*) and the
        ``policy.channel_metric`` column. ``None`` or empty: no history, channels are taken in
        the policy's order.
    candidates : array-like
        Customer ids to choose for (unique).
    segment : pandas.Series or DataFrame, optional
        Segment labels indexed by ``customer_id`` (or columns ``customer_id``, ``segment``),
        preferably for the whole base: a segment's rate is measured on all its customers'
        messages. Customers without a label are shrunk toward the store's rate directly.
    policy : WinbackPolicy, optional
        ``channels``, ``assume_consent``, ``channel_metric`` and the two prior strengths.
    before : date, optional
        Only messages sent before this day count (later ones have no outcome yet).

    Returns
    -------
    pandas.DataFrame
        One row per candidate, in their order: ``customer_id``, ``channel`` (categorical, missing
        when no channel is consented), ``channel_rate`` (estimated rate of the chosen channel;
        NaN without history), ``own_messages`` / ``own_responses`` (the customer's history on
        it), ``segment_rate``, ``store_rate``, ``consented_channels`` (how many) and
        ``channel_why`` (categorical, one sentence). The rule is in the module docstring.
    """
    policy = policy or WinbackPolicy()
    customers, cust_index = _customers_by_id(customers)
    if not isinstance(candidates, pd.Series | pd.Index | np.ndarray):
        candidates = list(candidates)
    candidates = _unique_index(pd.Series(candidates), "targets")
    channels = policy.channels
    n, k = len(candidates), len(channels)
    _check_id_kinds(candidates.to_series(), customers["customer_id"], "targets", "customers")
    cust_pos = cust_index.get_indexer(candidates)
    consent = np.column_stack(
        [_consented(customers, cust_pos, c, policy.assume_consent) for c in channels]
    ).reshape(n, k)

    if segment is not None:
        seg_codes, seg_index, n_seg = _segment_map(segment, candidates)
        cand_seg = np.append(seg_codes, -1)[seg_index.get_indexer(candidates)]
    else:
        seg_codes, seg_index, n_seg = np.zeros(0, np.int64), pd.Index([]), 0
        cand_seg = np.full(n, -1, dtype=np.int64)

    own_n = np.zeros((n, k))
    own_x = np.zeros((n, k))
    seg_n = np.zeros((n_seg, k))
    seg_x = np.zeros((n_seg, k))
    store_n = np.zeros(k)
    store_x = np.zeros(k)
    if messages is not None and len(messages):
        metric = policy.channel_metric
        _require(messages, "messages", ["customer_id", "channel"])
        if metric not in messages.columns:
            raise DataError(
                f"column '{metric}' is missing: channels are compared by it.",
                table="messages",
                hint=f"map it under sources.messages.columns, or choose another response with "
                f"WinbackPolicy(channel_metric=...) among {[m for m in _METRICS if m != metric]}.",
            )
        _check_id_kinds(candidates.to_series(), messages["customer_id"], "targets", "messages")
        ch = _codes(messages["channel"], channels)
        use = ch >= 0
        if before is not None:
            _require(messages, "messages", ["sent_at"])
            use &= _days(messages["sent_at"]) < _day(before).value // DAY_NS
        resp = _bool_values(messages[metric]).astype(np.float64)
        store_n = np.bincount(ch[use], minlength=k).astype(np.float64)
        store_x = np.bincount(ch[use], weights=resp[use], minlength=k)
        msg_ids = messages["customer_id"]
        at = candidates.get_indexer(msg_ids)
        ok = use & (at >= 0)
        flat = at[ok] * k + ch[ok]
        own_n = np.bincount(flat, minlength=n * k).reshape(n, k).astype(np.float64)
        own_x = np.bincount(flat, weights=resp[ok], minlength=n * k).reshape(n, k)
        if n_seg:
            msg_seg = np.append(seg_codes, -1)[seg_index.get_indexer(msg_ids)]
            ok = use & (msg_seg >= 0)
            flat = msg_seg[ok] * k + ch[ok]
            seg_n = np.bincount(flat, minlength=n_seg * k).reshape(n_seg, k).astype(np.float64)
            seg_x = np.bincount(flat, weights=resp[ok], minlength=n_seg * k).reshape(n_seg, k)

    with np.errstate(invalid="ignore", divide="ignore"):
        store_rate = np.where(store_n > 0, store_x / store_n, np.nan)
    s_prior, c_prior = policy.segment_prior_messages, policy.customer_prior_messages
    seg_rate = (seg_x + s_prior * store_rate) / (seg_n + s_prior)  # NaN where the store has none
    prior = np.where(
        (cand_seg >= 0)[:, None],
        seg_rate[np.maximum(cand_seg, 0)] if n_seg else np.nan,
        store_rate[None, :],
    )
    rate = (own_x + c_prior * prior) / (own_n + c_prior)

    # unmeasured channels rank below measured ones (rates are >= 0), unconsented never win;
    # argmax takes the first of equal scores, i.e. the policy's order
    score = np.where(consent, np.where(np.isfinite(rate), rate, -1.0), -np.inf)
    best = np.argmax(score, axis=1) if k else np.zeros(n, dtype=np.int64)
    rows = np.arange(n)
    n_consented = consent.sum(axis=1)
    has = n_consented > 0
    chosen_rate = np.where(has, rate[rows, best], np.nan)

    metric_word = {"converted": "conversion", "clicked": "click", "opened": "open"}[
        policy.channel_metric
    ]
    why_texts = [
        "no consented channel with a contact",
        "only consented channel",
        "no message history on the consented channels: first in the policy's order",
        *[
            f"highest estimated {metric_word} rate of {m} consented channels"
            for m in range(2, k + 1)
        ],
    ]
    why = np.where(
        ~has,
        0,
        np.where(n_consented == 1, 1, np.where(np.isnan(chosen_rate), 2, n_consented + 1)),
    )
    return pd.DataFrame(
        {
            "customer_id": candidates.to_numpy(),
            "channel": pd.Categorical.from_codes(np.where(has, best, -1), categories=channels),
            "channel_rate": chosen_rate,
            "own_messages": np.where(has, own_n[rows, best], 0).astype(np.int64),
            "own_responses": np.where(has, own_x[rows, best], 0).astype(np.int64),
            "segment_rate": np.where(
                has & (cand_seg >= 0),
                seg_rate[np.maximum(cand_seg, 0), best] if n_seg else np.nan,
                np.nan,
            ),
            "store_rate": np.where(has, store_rate[best], np.nan),
            "consented_channels": n_consented.astype(np.int64),
            "channel_why": pd.Categorical.from_codes(why, categories=why_texts),
        }
    )


# --- frequency cap ------------------------------------------------------------------------------


def frequency_cap_ok(
    messages: pd.DataFrame | None,
    customer_ids: Iterable[Any],
    send_date: Any,
    policy: WinbackPolicy | None = None,
) -> pd.DataFrame:
    """Whether one more message on *send_date* keeps each customer within the frequency cap.

    Parameters
    ----------
    messages : pandas.DataFrame or None
        Canonical messages (``customer_id``, ``sent_at``), every campaign and channel.
    customer_ids : array-like
        Customers to check.
    send_date : date
        Day of the planned message.
    policy : WinbackPolicy, optional
        ``max_messages`` and ``cap_days``.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``messages_in_window`` (messages sent on days ``send_date - cap_days +
        1`` … ``send_date``, compared by calendar day) and ``cap_ok`` (``messages_in_window <
        max_messages``), in the order of *customer_ids*.
    """
    policy = policy or WinbackPolicy()
    if not isinstance(customer_ids, pd.Series | pd.Index | np.ndarray):
        customer_ids = list(customer_ids)
    ids = pd.Series(customer_ids)
    counts = np.zeros(len(ids), dtype=np.int64)
    if messages is not None and len(messages):
        _require(messages, "messages", ["customer_id", "sent_at"])
        _check_id_kinds(ids, messages["customer_id"], "targets", "messages")
        last = _day(send_date).value // DAY_NS
        day = _days(messages["sent_at"])
        in_window = (day > last - policy.cap_days) & (day <= last)
        recent = messages["customer_id"].to_numpy()[in_window]
        if len(recent):
            # count per distinct id, then look the customers up: ids may repeat in customer_ids
            codes, uniques = pd.factorize(recent)
            per_id = np.bincount(codes, minlength=len(uniques))
            at = pd.Index(uniques).get_indexer(ids)
            counts = np.where(at >= 0, per_id[np.maximum(at, 0)], 0).astype(np.int64)
    return pd.DataFrame(
        {
            "customer_id": ids.to_numpy(),
            "messages_in_window": counts,
            "cap_ok": counts < policy.max_messages,
        }
    )


# --- incentive ----------------------------------------------------------------------------------


def incentives(
    value: Any, churn_probability: Any, policy: WinbackPolicy | None = None
) -> np.ndarray:
    """The incentive rule, on arrays: what the offer to each customer may cost at most.

    ``floor(min(incentive_rate × value × churn_probability, max_incentive) / incentive_step)
    × incentive_step`` (rounded to cents when ``incentive_step`` is 0), and 0 where
    ``churn_probability < min_probability_for_incentive`` or the value is not positive.

    Returns
    -------
    numpy.ndarray
        float64 incentives, one per customer.
    """
    policy = policy or WinbackPolicy()
    value = np.asarray(value, dtype=np.float64)
    prob = np.asarray(churn_probability, dtype=np.float64)
    raw = np.minimum(policy.incentive_rate * np.maximum(value, 0.0) * prob, policy.max_incentive)
    if policy.incentive_step > 0:
        # a hair above the quotient: 0.1 * 4500 is 449.99999999999994, not 450
        amount = np.floor(raw / policy.incentive_step + 1e-9) * policy.incentive_step
        amount = np.minimum(amount, policy.max_incentive)
    else:
        amount = np.floor(raw * 100 + 1e-9) / 100
    return np.where(prob >= policy.min_probability_for_incentive, amount, 0.0)


# --- the plan -----------------------------------------------------------------------------------

#: Columns of :attr:`WinbackPlan.plan`, in order (extra columns follow them).
PLAN_COLUMNS = (
    "customer_id",
    "status",
    "reason",
    "evidence",
    "churn_probability",
    "value",
    "action",
    "action_text",
    "channel",
    "incentive",
    "contact",
    "skip_reason",
    "expected_return_probability",
    "expected_revenue_won",
)
#: Columns of the ``churn_reasons`` export (``reason``: a churned customer's reason, the risk
#: driver of one ``at_risk``).
CHURN_REASONS_COLUMNS = (
    "customer_id",
    "status",
    "reason",
    "evidence",
    "churn_probability",
    "value",
    "action",
    "channel",
    "incentive",
)


#: The plan is "about break-even" when its expected value is within this share of its cost
#: (incentives if all are used, plus messages): 319,053 of value for 312,800 of incentives is.
BREAK_EVEN_TOLERANCE = 0.1


@dataclass(frozen=True)
class WinbackPlan:
    """A win-back plan: one row per target and what it adds up to.

    Attributes
    ----------
    plan : pandas.DataFrame
        One row per target, none dropped: :data:`PLAN_COLUMNS`, then ``segment`` (when given),
        ``region``, ``channel_rate``, ``channel_why``, ``messages_in_window``. ``contact`` is
        True, or ``skip_reason`` says why not (:data:`SKIP_REASONS`). ``channel`` is the best
        consented channel even for a customer held back (by the cap, say), so they can be
        contacted later; ``incentive``, ``expected_return_probability`` and
        ``expected_revenue_won`` are 0 for everyone not contacted.
    by_action_channel : pandas.DataFrame
        Contacted customers per ``action`` and ``channel``: ``customers``, ``incentive``,
        ``message_cost``, ``expected_customers_won``, ``expected_revenue_won``.
    skipped : pandas.DataFrame
        ``skip_reason``, ``customers``, ``value`` (their total value).
    send_date : pandas.Timestamp
    policy : WinbackPolicy
    targets, contacted : int
    total_incentive, message_cost : float
        Incentives offered (spent only when used) and the cost of the messages.
    expected_customers_won, expected_revenue_won : float
        Sums over the contacted; see the module docstring.
    return_rate : float
        ``r`` used for the expectation.
    return_rate_source : {"assumed", "measured_uplift", "measured_return_rate"}
    assumption : str
        One sentence saying where ``r`` comes from and how the expectation is computed.
    """

    plan: pd.DataFrame
    by_action_channel: pd.DataFrame
    skipped: pd.DataFrame
    send_date: pd.Timestamp
    policy: WinbackPolicy
    targets: int
    contacted: int
    total_incentive: float
    message_cost: float
    expected_customers_won: float
    expected_revenue_won: float
    return_rate: float
    return_rate_source: str
    assumption: str

    @property
    def churn_reasons(self) -> pd.DataFrame:
        """The ``exports/churn_reasons.csv`` table: :data:`CHURN_REASONS_COLUMNS`, every target."""
        return self.plan[list(CHURN_REASONS_COLUMNS)]

    def kpis(self) -> dict[str, Any]:
        """Headline numbers for ``ctx.save_kpis``."""
        return {
            "winback_targets": self.targets,
            "winback_contacted": self.contacted,
            "winback_total_incentive": self.total_incentive,
            "winback_message_cost": self.message_cost,
            "winback_expected_customers_won": self.expected_customers_won,
            "winback_expected_revenue_won": self.expected_revenue_won,
            "winback_return_rate": self.return_rate,
            "winback_return_rate_source": self.return_rate_source,
        }

    def finding(self, assumption: bool = True) -> Finding:
        """The plan in two sentences, with the assumption behind the expectation (in the report
        language); *assumption* False leaves that out (a page that shows :attr:`assumption` in
        its detail for analysts)."""
        counts = zip(self.skipped["skip_reason"], self.skipped["customers"], strict=True)
        skipped = ", ".join(
            _("{reason} {customers:,}", reason=_(str(reason)), customers=int(n))
            for reason, n in counts
            if n
        )
        conclusion = _(
            "{contacted:,} of {targets:,} churned or at-risk customers can be contacted on "
            "{date:%Y-%m-%d}; expected back: {won:,.0f} customers and {revenue:,.0f} of value, for "
            "{incentive:,.0f} of incentives offered.",
            contacted=self.contacted,
            targets=self.targets,
            date=self.send_date,
            won=self.expected_customers_won,
            revenue=self.expected_revenue_won,
            incentive=self.total_incentive,
        )
        balance = self.balance_text()
        if balance:
            conclusion = f"{conclusion} {balance}"
        file = f"exports/{CONTACTS_EXPORT}.csv"
        action = (
            _("Send the messages of {file}; not contacted: {skipped}.", file=file, skipped=skipped)
            if skipped
            else _("Send the messages of {file}.", file=file)
        )
        return Finding(
            _("Win-back plan"),
            f"{conclusion} {self.assumption}" if assumption else conclusion,
            action,
            "info" if self.contacted and self.balance != "loses_money" else "warning",
        )

    @property
    def balance(self) -> str | None:
        """Whether the expected value pays for the incentives and messages.

        ``"pays_off"``, ``"break_even"`` (the expected value is within
        :data:`BREAK_EVEN_TOLERANCE` of the cost, either side), ``"loses_money"``, or None when
        the plan costs nothing and expects nothing. The cost counts every incentive offered as
        used, so a plan that is about break-even here pays only if fewer are redeemed or more
        customers come back than expected.
        """
        cost = self.total_incentive + self.message_cost
        value = self.expected_revenue_won
        if cost <= 0 and value <= 0:
            return None
        if abs(value - cost) <= BREAK_EVEN_TOLERANCE * cost:
            return "break_even"
        return "pays_off" if value > cost else "loses_money"

    def balance_text(self) -> str:
        """:attr:`balance` in one sentence for a manager (empty when there is nothing to weigh)."""
        cost = self.total_incentive + self.message_cost
        fields = {
            "value": self.expected_revenue_won,
            "cost": cost,
            "net": abs(self.expected_revenue_won - cost),
        }
        if self.balance == "break_even":
            return _(
                "That is about break-even: the expected value ({value:,.0f}) is close to what the "
                "incentives and messages cost if every incentive is used ({cost:,.0f}); the plan "
                "pays only if more customers come back than expected or fewer incentives are used.",
                **fields,
            )
        if self.balance == "loses_money":
            return _(
                "The plan loses money: the expected value ({value:,.0f}) is {net:,.0f} less than "
                "what the incentives and messages cost if every incentive is used ({cost:,.0f}). "
                "Offer smaller incentives or contact fewer customers.",
                **fields,
            )
        if self.balance == "pays_off":
            return _(
                "The expected value exceeds what the incentives and messages cost ({cost:,.0f}) "
                "by {net:,.0f}.",
                **fields,
            )
        return ""


def _check_targets(targets: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Status and reason codes, churn probability and value of the targets, or a DataError."""
    _require(targets, "targets", ["customer_id", "status", "reason", "churn_probability", "value"])
    _unique_index(targets["customer_id"], "targets")
    status = _codes(targets["status"], STATUSES)
    if (status < 0).any():
        bad = str(targets["status"].to_numpy()[status < 0][0])
        raise DataError(
            f"status must be one of {list(STATUSES)}; got {bad!r}.{did_you_mean(bad, STATUSES)}",
            table="targets",
            column="status",
        )
    reason_values = targets["reason"]
    reason = _codes(reason_values, REASON_CODES)
    unknown = REASON_CODES.index("unknown")
    missing = reason_values.isna().to_numpy()
    reason[missing] = unknown  # no reason found is the "unknown" reason
    if (reason < 0).any():
        bad = str(reason_values.to_numpy()[reason < 0][0])
        raise DataError(
            f"reason must be one of {list(REASON_CODES)}; got {bad!r}."
            f"{did_you_mean(bad, REASON_CODES)}",
            table="targets",
            column="reason",
        )
    prob = pd.to_numeric(targets["churn_probability"], errors="coerce").to_numpy(np.float64)
    bad_p = ~((prob >= 0) & (prob <= 1))
    if bad_p.any():
        raise DataError(
            f"churn_probability must be a number in [0, 1]; {int(bad_p.sum())} rows are not "
            f"(first: {targets['churn_probability'].to_numpy()[bad_p][0]!r}).",
            table="targets",
            column="churn_probability",
        )
    value = pd.to_numeric(targets["value"], errors="coerce").to_numpy(np.float64)
    bad_v = ~np.isfinite(value)
    if bad_v.any():
        raise DataError(
            f"value must be a finite number; {int(bad_v.sum())} rows are missing or not numbers.",
            table="targets",
            column="value",
            hint="fill the value of customers the value model could not score (e.g. with 0).",
        )
    return status, reason, prob, value


def _target_regions(
    targets: pd.DataFrame, customers: pd.DataFrame, cust_pos: np.ndarray
) -> pd.Series:
    """Current region: the targets' own ``region`` column, else the customers table's."""
    if "region" in targets.columns:
        return targets["region"].reset_index(drop=True)
    if "region" in customers.columns:
        return _take(customers["region"], cust_pos)
    return pd.Series(pd.NA, index=range(len(targets)), dtype="string")


def _return_rate(
    policy: WinbackPolicy, evaluation: CampaignEvaluation | None
) -> tuple[float, str, str]:
    """The return rate ``r``, its source and the sentences saying where it comes from (in the
    report language)."""
    how = _(
        "Customers expected back: each contacted customer's chance of leaving times that rate, "
        "added up; value expected back: the same, weighted by each customer's value."
    )
    sentences = []
    if evaluation is not None:
        measured = evaluation.measured_return_rate(policy.min_measured_customers)
        if measured is not None:
            rate, source, text = measured
            return (
                rate,
                source,
                _("Return rate {rate:.1%}: {text}.", rate=rate, text=text) + " " + how,
            )
    rate = policy.assumed_return_rate
    sentences.append(
        _(
            "Assumption: {rate:.0%} of contacted customers who would otherwise be lost come back "
            "once their reason is addressed — a figure from the source articles, not measured in "
            "this store (set WinbackPolicy(assumed_return_rate=...), or run win-back campaigns "
            "with a holdout group and pass their evaluation).",
            rate=rate,
        )
    )
    if evaluation is not None:
        sentences.append(
            _(
                "Past win-back campaigns had fewer than {n} contacted customers, too few to "
                "measure.",
                n=policy.min_measured_customers,
            )
        )
    sentences.append(how)
    return rate, "assumed", " ".join(sentences)


def winback_plan(
    targets: pd.DataFrame,
    customers: pd.DataFrame | None,
    messages: pd.DataFrame | None,
    policy: WinbackPolicy,
    send_date: Any,
    segments: pd.Series | pd.DataFrame | None = None,
    evaluation: CampaignEvaluation | None = None,
) -> WinbackPlan:
    """Plan the win-back messages: action, channel, incentive and expected result per customer.

    Parameters
    ----------
    targets : pandas.DataFrame
        One row per customer: ``customer_id``, ``status`` (``"churned"`` / ``"at_risk"``),
        ``reason`` (a :data:`~custkit.churn.text.REASON_CODES` code; missing means
        ``unknown``), ``churn_probability`` (in [0, 1]), ``value`` (expected value if kept,
        e.g. CLV); optional ``evidence`` (text), ``segment`` and ``region`` (current region; else
        the customers table's).
    customers : pandas.DataFrame or None
        Canonical customers with consents and contacts; None when the store has no customers
        table: every target still gets an action and a reason, but no one can be contacted.
    messages : pandas.DataFrame or None
        Canonical messages: the channel history and the frequency cap.
    policy : WinbackPolicy
        Every rule's parameters.
    send_date : date
        Day the messages go out.
    segments : pandas.Series or DataFrame, optional
        Segment labels of the whole base indexed by ``customer_id`` (see
        :func:`choose_channels`); default: the targets' ``segment`` column, if any.
    evaluation : CampaignEvaluation, optional
        Past win-back campaigns; their measured return rate replaces the assumed one.

    Returns
    -------
    WinbackPlan
    """
    if not isinstance(policy, WinbackPolicy):
        raise ParamsError(
            f"policy must be a WinbackPolicy, e.g. WinbackPolicy(max_messages=3). Got "
            f"{type(policy).__name__} instead."
        )
    status, reason, prob, value = _check_targets(targets)
    send_day = _day(send_date)
    ids = targets["customer_id"].reset_index(drop=True)
    if customers is None:  # no customers table: no contacts, so no one is contacted
        customers = pd.DataFrame({"customer_id": ids.iloc[:0]})
    customers, cust_index = _customers_by_id(customers)
    _check_id_kinds(ids, customers["customer_id"], "targets", "customers")
    cust_pos = cust_index.get_indexer(ids)
    n = len(ids)

    # action
    reason_codes = list(REASON_CODES)
    action_of = [ACTIONS[r] for r in reason_codes] + [NO_DELIVERY_ACTION]
    no_delivery = len(reason_codes)
    moved = reason == reason_codes.index("moved_out_of_delivery_area")
    served = pd.Index([r.strip().lower() for r in policy.served_regions or ()])
    region = _target_regions(targets, customers, cust_pos)
    region_key = region.astype("string").str.strip().str.lower()
    delivers = (region_key.isin(served).fillna(False)).to_numpy(dtype=bool)
    action_code = np.where(moved & ~delivers, no_delivery, reason)

    # channel, cap, worth
    if segments is None and "segment" in targets.columns:
        segments = pd.Series(targets["segment"].to_numpy(), index=pd.Index(ids))
    channel = choose_channels(customers, messages, ids, segments, policy, before=send_day)
    cap = frequency_cap_ok(messages, ids, send_day, policy)
    has_channel = channel["channel"].notna().to_numpy()
    skip = np.select(
        [
            action_code == no_delivery,
            value < policy.min_value,
            ~has_channel,
            ~cap["cap_ok"].to_numpy(),
        ],
        [0, 1, 2, 3],
        -1,
    )
    contact = skip < 0

    rate, source, assumption = _return_rate(policy, evaluation)
    incentive = np.where(contact, incentives(value, prob, policy), 0.0)
    expected_p = np.where(contact, prob * rate, 0.0)
    expected_rev = expected_p * value
    with_incentive = incentive > 0
    # what to send, in the report language: the contact list is for the store's operators
    texts = [_(a.text) for a in action_of] + [_(a.text_without_incentive) for a in action_of]
    codes = [a.code for a in action_of]
    action_cats = list(dict.fromkeys(codes))

    plan = pd.DataFrame(
        {
            "customer_id": ids.to_numpy(),
            "status": pd.Categorical.from_codes(status, categories=STATUSES),
            "reason": pd.Categorical.from_codes(reason, categories=REASON_CODES),
            "evidence": (
                targets["evidence"].to_numpy()
                if "evidence" in targets.columns
                else np.full(n, "", dtype=object)
            ),
            "churn_probability": prob,
            "value": value,
            "action": pd.Categorical(
                np.asarray(codes, dtype=object)[action_code], categories=action_cats
            ),
            "action_text": pd.Categorical(
                np.asarray(texts, dtype=object)[
                    action_code + np.where(with_incentive, 0, len(action_of))
                ]
            ),
            "channel": channel["channel"].array,
            "incentive": incentive,
            "contact": contact,
            "skip_reason": pd.Categorical.from_codes(skip, categories=SKIP_REASONS),
            "expected_return_probability": expected_p,
            "expected_revenue_won": expected_rev,
        }
    )
    if segments is not None:
        seg = (
            segments
            if isinstance(segments, pd.Series)
            else segments.set_index("customer_id")["segment"]
        )
        seg = seg[~pd.Index(seg.index).duplicated()]
        plan["segment"] = _take(
            seg.reset_index(drop=True), pd.Index(seg.index).get_indexer(ids)
        ).to_numpy()
    plan["region"] = region.to_numpy()
    plan["channel_rate"] = channel["channel_rate"].to_numpy()
    plan["channel_why"] = channel["channel_why"].array
    plan["messages_in_window"] = cap["messages_in_window"].to_numpy()

    cost_of = np.array([policy.message_cost.get(c, 0.0) for c in policy.channels])
    chan_code = channel["channel"].cat.codes.to_numpy()
    message_cost = np.where(contact, cost_of[np.maximum(chan_code, 0)], 0.0)
    sent = plan.loc[contact].assign(message_cost=message_cost[contact])
    by_action_channel = (
        sent.groupby(["action", "channel"], observed=True)
        .agg(
            customers=("customer_id", "size"),
            incentive=("incentive", "sum"),
            message_cost=("message_cost", "sum"),
            expected_customers_won=("expected_return_probability", "sum"),
            expected_revenue_won=("expected_revenue_won", "sum"),
        )
        .reset_index()
        .sort_values("customers", ascending=False, kind="stable", ignore_index=True)
    )
    skip_counts = np.bincount(skip[~contact], minlength=len(SKIP_REASONS))
    skip_value = np.bincount(skip[~contact], weights=value[~contact], minlength=len(SKIP_REASONS))
    skipped = pd.DataFrame(
        {"skip_reason": list(SKIP_REASONS), "customers": skip_counts, "value": skip_value}
    )
    return WinbackPlan(
        plan=plan,
        by_action_channel=by_action_channel,
        skipped=skipped,
        send_date=send_day,
        policy=policy,
        targets=n,
        contacted=int(contact.sum()),
        total_incentive=float(incentive.sum()),
        message_cost=float(message_cost.sum()),
        expected_customers_won=float(expected_p.sum()),
        expected_revenue_won=float(expected_rev.sum()),
        return_rate=float(rate),
        return_rate_source=source,
        assumption=assumption,
    )


# --- contact list -------------------------------------------------------------------------------


def contact_list(plan: WinbackPlan | pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """The contacted customers with the one contact their chosen channel needs. Export only.

    Parameters
    ----------
    plan : WinbackPlan or pandas.DataFrame
        A plan (or its ``plan`` frame).
    customers : pandas.DataFrame
        Canonical customers; consent is checked again against it, and a customer whose consent
        or address is gone is left out with a :class:`WinbackWarning`. Pass the
        :class:`WinbackPlan` itself when its policy assumes consent for a channel
        (``assume_consent``): a bare frame does not carry that assumption.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``name`` (when known), ``channel``, ``email``, ``phone`` (and
        ``address`` when a channel needs it) — only the field of the customer's channel is
        filled, the others are empty — then ``action``, ``action_text``, ``incentive``,
        ``reason``, ``value``, ``churn_probability``; most valuable first. Contact data: write it
        to export files (CSV / XLSX), never into an HTML report.
    """
    frame = plan.plan if isinstance(plan, WinbackPlan) else plan
    _require(frame, "plan", ["customer_id", "contact", "channel"])
    chosen = frame.loc[frame["contact"].to_numpy(dtype=bool)].reset_index(drop=True)
    customers, cust_index = _customers_by_id(customers)
    pos = cust_index.get_indexer(chosen["customer_id"])
    channel = chosen["channel"].astype("string")
    fields = ["email", "phone"] + (["address"] if (channel == "post").any() else [])
    ok = np.zeros(len(chosen), dtype=bool)
    out = pd.DataFrame({"customer_id": chosen["customer_id"].to_numpy()})
    if "name" in customers.columns:
        out["name"] = _take(customers["name"], pos).to_numpy()
    out["channel"] = chosen["channel"].to_numpy()
    for name in fields:
        out[name] = pd.Series(pd.NA, index=out.index, dtype="string")
    for ch in set(channel.dropna()):
        rows = (channel == ch).fillna(False).to_numpy(dtype=bool)
        # consent as it stands now, not as when the plan was made
        allowed = np.zeros(len(chosen), dtype=bool)
        allowed[rows] = _consented(customers, pos[rows], ch, _assumed(plan, ch))
        ok |= allowed
        contact = CONTACT_FIELDS.get(ch)
        if contact is not None and contact in customers.columns:
            values = _take(customers[contact], pos[allowed]).astype("string").to_numpy()
            out.loc[allowed, contact] = values
    if (~ok).any():
        warnings.warn(
            f"{int((~ok).sum())} planned customers no longer consent to their channel or have no "
            "contact for it; they are left out of the contact list.",
            WinbackWarning,
            stacklevel=2,
        )
    for column in ("action", "action_text", "incentive", "reason", "value", "churn_probability"):
        if column in chosen.columns:
            out[column] = chosen[column].to_numpy()
    out = out.loc[ok]
    if "value" in out.columns:
        out = out.sort_values("value", ascending=False, kind="stable")
    return out.reset_index(drop=True)


def _assumed(plan: WinbackPlan | pd.DataFrame, channel: str) -> tuple[str, ...]:
    """Channels whose consent the plan's policy assumed (none for a bare frame)."""
    if isinstance(plan, WinbackPlan) and channel in plan.policy.assume_consent:
        return (channel,)
    return ()
