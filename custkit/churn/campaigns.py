"""What past win-back campaigns brought back: return rates of contacted customers against a
holdout group, per campaign, channel and churn reason.

A campaign is a group of messages whose name starts with ``winback`` (:func:`evaluate_campaigns`);
its holdout, when the store kept one, comes from the experiments table (the same experiment id,
variant ``holdout``). A customer returned when they bought within ``window_days`` of their first
message (or of their assignment, for the holdout). The measured uplift is what
:func:`custkit.churn.winback_plan` uses instead of the assumed return rate once enough customers
were measured.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from custkit.churn._inputs import (
    _DAY_NS,
    WinbackWarning,
    _check_id_kinds,
    _check_number,
    _day,
    _days,
    _require,
    _take,
)
from custkit.errors import ParamsError
from custkit.i18n import _

__all__ = ["CampaignEvaluation", "evaluate_campaigns"]


@dataclass(frozen=True)
class CampaignEvaluation:
    """How many customers past win-back campaigns brought back, against a holdout when there is one.

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per campaign and customer: ``campaign``, ``customer_id``, ``group``
        (``"contact"`` / ``"holdout"``), ``start_day`` (first message's day, or the assignment
        day for the holdout), ``channel`` (first message's; missing for the holdout),
        ``reason`` (when reasons were given) and ``returned`` (a purchase on days ``start_day``
        … ``start_day + window_days - 1``).
    overall, by_campaign, by_channel : pandas.DataFrame
        Return rates, all campaigns pooled / per campaign / per channel. Columns: the keys,
        ``contacted``, ``returned``, ``return_rate`` (all campaigns); ``tested_contacted``,
        ``tested_returned``, ``tested_return_rate`` (only campaigns with a holdout group);
        ``holdout``, ``holdout_returned``, ``holdout_return_rate``; ``uplift`` (tested minus
        holdout return rate) with ``uplift_low`` / ``uplift_high`` (Newcombe's hybrid-score
        interval at ``1 - alpha``, statsmodels ``confint_proportions_2indep``). A holdout gets no
        message, so per channel it is compared with the whole holdout of the same campaigns:
        channels were not assigned at random, read that uplift as a rough guide.
    by_reason, by_reason_channel : pandas.DataFrame or None
        The same per reason and per reason and channel, when reasons were given.
    window_days, prefix, alpha : as passed.
    """

    customers: pd.DataFrame
    overall: pd.DataFrame
    by_campaign: pd.DataFrame
    by_channel: pd.DataFrame
    by_reason: pd.DataFrame | None
    by_reason_channel: pd.DataFrame | None
    window_days: int
    prefix: str
    alpha: float

    def measured_return_rate(self, min_customers: int = 100) -> tuple[float, str, str] | None:
        """The store's own return rate for the plan, its source and a sentence saying what it is.

        The pooled uplift over the holdout when at least *min_customers* were contacted and as
        many held out (clipped to [0, 1]); else the pooled return rate of the contacted when at
        least *min_customers* were (it overstates: some would have come back anyway); else
        ``None``.
        """
        if self.overall.empty:
            return None
        row = self.overall.iloc[0]
        fields = {
            "level": 1 - self.alpha,
            "uplift": row["uplift"],
            "low": row["uplift_low"],
            "high": row["uplift_high"],
            "contacted": int(row["contacted"]),
            "tested": int(row["tested_contacted"]),
            "held_out": int(row["holdout"]),
            "rate": row["return_rate"],
            "days": self.window_days,
        }
        if row["tested_contacted"] >= min_customers and row["holdout"] >= min_customers:
            rate = float(np.clip(row["uplift"], 0.0, 1.0))
            if row["uplift"] < 0:
                text = _(
                    "this store's measured uplift of past win-back campaigns over their holdout "
                    "groups, {uplift:.1%} ({level:.0%} CI {low:.1%} to {high:.1%}; {tested:,} "
                    "contacted vs {held_out:,} held out, a purchase within {days} days); a "
                    "negative uplift counts as none",
                    **fields,
                )
            else:
                text = _(
                    "this store's measured uplift of past win-back campaigns over their holdout "
                    "groups, {uplift:.1%} ({level:.0%} CI {low:.1%} to {high:.1%}; {tested:,} "
                    "contacted vs {held_out:,} held out, a purchase within {days} days)",
                    **fields,
                )
            return rate, "measured_uplift", text
        if row["contacted"] >= min_customers:
            text = _(
                "the return rate of customers contacted in past win-back campaigns, {rate:.1%} "
                "({contacted:,} customers, a purchase within {days} days); with no holdout group "
                "it also counts customers who would have come back anyway, so it overstates",
                **fields,
            )
            return float(row["return_rate"]), "measured_return_rate", text
        return None


def _returned(
    ids: pd.Series, start_day: np.ndarray, purchases: pd.DataFrame, window_days: int
) -> np.ndarray:
    """Whether each (customer, start day) has a purchase day in [start, start + window)."""
    n = len(ids)
    if n == 0 or len(purchases) == 0:
        return np.zeros(n, dtype=bool)
    codes, uniques = pd.factorize(purchases["customer_id"])
    day = _days(purchases["order_day"])
    keep = (codes >= 0) & (day > np.iinfo(np.int64).min)
    codes, day = codes[keep].astype(np.int64), day[keep]
    if len(day) == 0:
        return np.zeros(n, dtype=bool)
    d0 = int(day.min())
    key = np.sort((codes << 32) | (day - d0))
    who = pd.Index(uniques).get_indexer(ids)
    start = np.clip(start_day - d0, 0, 2**32 - 1)
    at = np.searchsorted(key, (np.maximum(who, 0).astype(np.int64) << 32) | start)
    safe = np.minimum(at, len(key) - 1)
    first_day = (key[safe] & (2**32 - 1)) + d0
    return (
        (who >= 0)
        & (at < len(key))
        & ((key[safe] >> 32) == who)
        & (first_day < start_day + window_days)
    )


def _rate_table(
    frame: pd.DataFrame, keys: list[str], tested: set[str], alpha: float
) -> pd.DataFrame:
    """Contacted vs holdout return rates per *keys*, with Newcombe's interval of the uplift."""
    from statsmodels.stats.proportion import confint_proportions_2indep  # slow import: ~1 s

    frame = frame.assign(_all="all")
    keys = ["_all", *keys]
    hold_keys = [k for k in keys if k != "channel"]
    contact = frame.loc[frame["group"] == "contact"]
    holdout = frame.loc[frame["group"] == "holdout"]

    def counts(part: pd.DataFrame, by: list[str], names: tuple[str, str]) -> pd.DataFrame:
        grouped = part.groupby(by, observed=True, sort=True)["returned"]
        out = pd.DataFrame({names[0]: grouped.size(), names[1]: grouped.sum()})
        return out.reset_index()

    table = counts(contact, keys, ("contacted", "returned"))
    table = table.merge(
        counts(
            contact.loc[contact["campaign"].isin(tested)],
            keys,
            ("tested_contacted", "tested_returned"),
        ),
        on=keys,
        how="left",
    ).merge(counts(holdout, hold_keys, ("holdout", "holdout_returned")), on=hold_keys, how="left")
    for column in ("tested_contacted", "tested_returned", "holdout", "holdout_returned"):
        table[column] = table[column].fillna(0).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["return_rate"] = table["returned"] / table["contacted"]
        table["tested_return_rate"] = table["tested_returned"] / table["tested_contacted"]
        table["holdout_return_rate"] = table["holdout_returned"] / table["holdout"]
    table["uplift"] = table["tested_return_rate"] - table["holdout_return_rate"]
    low = np.full(len(table), np.nan)
    high = np.full(len(table), np.nan)
    valid = ((table["tested_contacted"] > 0) & (table["holdout"] > 0)).to_numpy()
    if valid.any():
        low[valid], high[valid] = confint_proportions_2indep(
            table["tested_returned"].to_numpy()[valid],
            table["tested_contacted"].to_numpy()[valid],
            table["holdout_returned"].to_numpy()[valid],
            table["holdout"].to_numpy()[valid],
            method="newcomb",
            compare="diff",
            alpha=alpha,
        )
    table["uplift_low"], table["uplift_high"] = low, high
    columns = [
        *keys[1:],
        "contacted",
        "returned",
        "return_rate",
        "tested_contacted",
        "tested_returned",
        "tested_return_rate",
        "holdout",
        "holdout_returned",
        "holdout_return_rate",
        "uplift",
        "uplift_low",
        "uplift_high",
    ]
    return table[columns]


def evaluate_campaigns(
    messages: pd.DataFrame,
    experiments: pd.DataFrame | None,
    purchases_after: pd.DataFrame,
    window_days: int = 60,
    *,
    reasons: pd.DataFrame | None = None,
    prefix: str = "winback",
    holdout_variant: str = "holdout",
    alpha: float = 0.05,
    as_of: Any = None,
) -> CampaignEvaluation:
    """Return rates of past win-back campaigns by campaign, channel and reason, vs their holdouts.

    Parameters
    ----------
    messages : pandas.DataFrame
        Canonical messages: ``customer_id``, ``sent_at``, ``campaign``, ``channel``. Campaigns
        whose name starts with *prefix* (ignoring case) are evaluated; a customer's first message
        of a campaign starts their window and gives their channel.
    experiments : pandas.DataFrame or None
        Canonical experiments. A campaign has a holdout group when rows with ``experiment_id``
        equal to the campaign name have ``variant`` *holdout_variant*; their window starts on
        ``assigned_at``. A held-out customer who was messaged anyway stays in the holdout (as
        assigned) and is left out of the contacted, with a :class:`WinbackWarning`.
    purchases_after : pandas.DataFrame
        Purchases per customer and day, as :func:`custkit.data.reduce.reduce_customer_days`
        returns them (``customer_id``, ``order_day``), covering the windows.
    window_days : int, default 60
        A customer returned when they bought on their start day or the ``window_days - 1`` days
        after it (a purchase on the send day before the message counts too, in both groups).
    reasons : pandas.DataFrame, optional
        ``customer_id``, ``reason``: adds ``by_reason`` and ``by_reason_channel``. Customers
        without a reason count as ``unknown``.
    prefix : str, default "winback"
        Name prefix of win-back campaigns.
    holdout_variant : str, default "holdout"
        Variant name of the holdout group (ignoring case).
    alpha : float, default 0.05
        Uplift intervals cover ``1 - alpha``.
    as_of : date, optional
        Last day the purchases cover; default: the latest ``order_day`` in *purchases_after*.
        Customers whose window ends after it are left out with a warning: whether they return
        is not known yet, and counting them would understate the return rate.

    Returns
    -------
    CampaignEvaluation
    """
    owner = "evaluate_campaigns"
    window_days = _check_number(owner, "window_days", window_days, 1, 3650, integer=True)
    alpha = _check_number(owner, "alpha", alpha, 0.0, 0.5, low_open=True)
    if not isinstance(prefix, str):
        raise ParamsError(
            f"The 'prefix' parameter of {owner} must be a str. Got {prefix!r} instead."
        )
    _require(messages, "messages", ["customer_id", "sent_at", "campaign"])
    _require(purchases_after, "purchases", ["customer_id", "order_day"])
    _check_id_kinds(
        messages["customer_id"], purchases_after["customer_id"], "messages", "purchases"
    )

    campaign = messages["campaign"]
    if not isinstance(campaign.dtype, pd.CategoricalDtype):
        campaign = campaign.astype("category")
    names = pd.Index(campaign.cat.categories.astype(str))
    chosen = names.str.strip().str.lower().str.startswith(prefix.strip().lower())
    rows = np.append(np.asarray(chosen, dtype=bool), False)[campaign.cat.codes.to_numpy()]
    picked = messages.loc[rows]
    sent = pd.DataFrame(
        {
            "campaign": names.to_numpy()[campaign.cat.codes.to_numpy()[rows]],
            "customer_id": picked["customer_id"].to_numpy(),
            "start_day": _days(picked["sent_at"]),
            "channel": (
                picked["channel"].astype("string").fillna("unknown").to_numpy(dtype=object)
                if "channel" in picked.columns
                else np.full(len(picked), "unknown", dtype=object)
            ),
        }
    )
    sent = sent.loc[sent["start_day"] > np.iinfo(np.int64).min]
    sent = sent.sort_values(["campaign", "customer_id", "start_day"], kind="stable")
    contact = sent.drop_duplicates(["campaign", "customer_id"]).assign(group="contact")

    holdout = contact.iloc[:0]
    if experiments is not None and len(experiments) and len(contact):
        _require(
            experiments, "experiments", ["experiment_id", "customer_id", "variant", "assigned_at"]
        )
        exp_id = experiments["experiment_id"].astype("string").str.strip()
        variant = experiments["variant"].astype("string").str.strip().str.lower()
        pick = exp_id.isin(set(contact["campaign"])) & (variant == holdout_variant.lower())
        pick = pick.fillna(False).to_numpy(dtype=bool)
        holdout = pd.DataFrame(
            {
                "campaign": exp_id.to_numpy()[pick],
                "customer_id": experiments["customer_id"].to_numpy()[pick],
                "start_day": _days(experiments["assigned_at"])[pick],
                "channel": pd.NA,
                "group": "holdout",
            }
        ).drop_duplicates(["campaign", "customer_id"])
        both = contact.merge(holdout[["campaign", "customer_id"]], how="left", indicator=True)
        crossed = (both["_merge"] == "both").to_numpy()
        if crossed.any():
            warnings.warn(
                f"{int(crossed.sum())} customers of a holdout group were messaged in the same "
                "campaign; they stay in the holdout (as assigned) and are left out of the "
                "contacted. Check the campaign's audience filter.",
                WinbackWarning,
                stacklevel=2,
            )
            contact = contact.loc[~crossed]
    frame = pd.concat([contact, holdout], ignore_index=True)
    frame["group"] = frame["group"].astype(pd.CategoricalDtype(["contact", "holdout"]))

    if as_of is None and len(purchases_after):
        as_of = purchases_after["order_day"].max()
    if as_of is not None and not pd.isna(as_of) and len(frame):
        last = _day(as_of).value // _DAY_NS
        open_window = frame["start_day"].to_numpy() + window_days - 1 > last
        if open_window.any():
            late = sorted(set(frame.loc[open_window, "campaign"]))
            warnings.warn(
                f"{int(open_window.sum())} customers of campaign(s) {late} have a "
                f"{window_days}-day window ending after {_day(as_of):%Y-%m-%d}; they are left "
                "out until their window closes.",
                WinbackWarning,
                stacklevel=2,
            )
            frame = frame.loc[~open_window].reset_index(drop=True)

    frame["returned"] = _returned(
        frame["customer_id"], frame["start_day"].to_numpy(), purchases_after, window_days
    )
    if reasons is not None:
        _require(reasons, "reasons", ["customer_id", "reason"])
        by_id = reasons.drop_duplicates("customer_id").set_index("customer_id")["reason"]
        at = pd.Index(by_id.index).get_indexer(frame["customer_id"])
        frame["reason"] = _take(by_id.astype("string"), at).fillna("unknown").to_numpy()
    frame["start_day"] = (frame["start_day"].to_numpy() * _DAY_NS).view("datetime64[ns]")
    frame["channel"] = frame["channel"].astype("category")
    frame["campaign"] = frame["campaign"].astype("category")
    tested = set(frame.loc[frame["group"] == "holdout", "campaign"].astype(str))
    has_reason = reasons is not None
    return CampaignEvaluation(
        customers=frame,
        overall=_rate_table(frame, [], tested, alpha),
        by_campaign=_rate_table(frame, ["campaign"], tested, alpha),
        by_channel=_rate_table(frame, ["channel"], tested, alpha),
        by_reason=_rate_table(frame, ["reason"], tested, alpha) if has_reason else None,
        by_reason_channel=(
            _rate_table(frame, ["reason", "channel"], tested, alpha) if has_reason else None
        ),
        window_days=window_days,
        prefix=prefix,
        alpha=alpha,
    )
