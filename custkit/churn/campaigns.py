"""What past win-back campaigns brought back: return rates of contacted customers against a
holdout group, per campaign, channel and churn reason, judged as the split-test report judges them.

A campaign is a group of messages whose name starts with ``winback`` (:func:`evaluate_campaigns`);
its holdout, when the store kept one, comes from the experiments table (the same experiment id,
variant ``holdout``), and then the campaign *is* a split test: its contact and holdout arms are
the experiment's variant and control.

One evaluation for both reports
-------------------------------
Up to issue 14 this module counted returns its own way (a 60-day window from the send day,
the send day included, Newcombe's interval of the difference), and the churn report said
winback_2026_04 worked (+0.07) while the split-test report said "no difference detected" for
the same campaign. Now nothing here measures on its own: the tested campaigns go through
:func:`custkit.splittest.review_experiments` with the split-test report's settings (window,
primary metric, planned split, capping, looks kept from earlier reports), each customer's window
is :func:`custkit.splittest.metrics.customer_metrics`' (days 1…horizon after exposure, complete
by the as-of date), every difference and relative change comes from
:mod:`custkit.splittest.comparisons` (one standard error, the relative change by the delta
method), and each campaign's verdict is :func:`custkit.splittest.verdict`. So the churn report's
campaign table shows the numbers and the verdict of the split-test report's overview.

A customer *returned* when they bought in that window (the split-test metric ``conversion``).
The measured uplift of the return rate over the holdout is what
:func:`custkit.churn.winback_plan` uses instead of the assumed return rate once enough customers
were measured.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from custkit.churn._inputs import (
    WinbackWarning,
    _check_id_kinds,
    _days,
    _require,
    _take,
)
from custkit.data.periods import DAY_NS
from custkit.errors import ParamsError
from custkit.i18n import _

__all__ = ["REVIEW_SETTINGS", "CampaignEvaluation", "evaluate_campaigns"]

#: The split-test report's parameters a campaign evaluation takes over (``settings`` of
#: :func:`evaluate_campaigns`), so both reports judge a campaign alike.
REVIEW_SETTINGS = (
    "windows_days",
    "horizon_days",
    "primary_metric",
    "alpha",
    "srm_alpha",
    "multiple_testing",
    "planned_splits",
    "pre_exposure_days",
    "include_exposure_day",
    "cap_percentile",
    "planned_customers",
    "planned_lift",
)
#: What a win-back campaign is planned as when the settings do not say: the split-test report's
#: default (``planned_splits`` of ``custkit/notebooks/splittest.ipynb``), a fifth held out.
DEFAULT_PLANNED_SPLITS = {"winback_*": {"holdout": 0.2, "contact": 0.8}}


@dataclass(frozen=True)
class CampaignEvaluation:
    """How many customers past win-back campaigns brought back, against a holdout when there is one.

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per campaign and customer whose window is complete: ``campaign``,
        ``customer_id``, ``group`` (``"contact"`` / ``"holdout"``: the experiment's variant and
        control), ``start_day`` (the assignment day of a tested campaign, else the first
        message's day), ``channel`` (first message's; ``"unknown"`` for a contacted customer
        never messaged; missing for the holdout), ``reason`` (when reasons were given) and
        ``returned`` (a purchase in the split-test window: the ``window_days`` days after
        ``start_day``, or from it with ``include_exposure_day``).
    overall, by_campaign, by_channel : pandas.DataFrame
        Return rates, all campaigns pooled / per campaign / per channel. Columns: the keys,
        ``contacted``, ``returned``, ``return_rate`` (all campaigns); ``tested_contacted``,
        ``tested_returned``, ``tested_return_rate`` (only campaigns with a holdout group whose
        split is not broken); ``holdout``, ``holdout_returned``, ``holdout_return_rate``;
        ``uplift`` (tested minus holdout return rate, in points) with ``uplift_low`` /
        ``uplift_high`` at ``1 - alpha``, from
        :func:`custkit.splittest.compare_proportions` (``relative=False``), the split-test
        report's statistics. A holdout gets no message, so per channel it is compared with the
        whole holdout of the same campaigns: channels were not assigned at random, read that
        uplift as a rough guide.
    by_reason, by_reason_channel : pandas.DataFrame or None
        The same per reason and per reason and channel, when reasons were given.
    verdicts : pandas.DataFrame
        One row per tested campaign, as the split-test report shows it: ``campaign``,
        ``contacted``, ``holdout``, ``return_rate``, ``holdout_return_rate``,
        ``return_change`` / ``return_change_low`` / ``return_change_high`` (relative change of
        the return rate, :func:`custkit.splittest.metric_table`'s ``conversion`` row at the
        horizon), ``metric`` (the primary metric), ``estimate`` / ``ci_low`` / ``ci_high`` /
        ``p_value`` (its relative change), ``verdict`` (code), ``verdict_text`` (English, as
        ``splittest.kpis.json``) and ``verdict_label`` (the report language), from
        :func:`custkit.splittest.verdict`.
    review : SplitTestReview or None
        The split-test review of the tested campaigns.
    window_days : int
        The split-test horizon every customer is measured over.
    prefix, alpha : as passed (alpha from the settings).
    """

    customers: pd.DataFrame
    overall: pd.DataFrame
    by_campaign: pd.DataFrame
    by_channel: pd.DataFrame
    by_reason: pd.DataFrame | None
    by_reason_channel: pd.DataFrame | None
    verdicts: pd.DataFrame
    review: Any
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


def _rate_table(
    frame: pd.DataFrame, keys: list[str], tested: set[str], alpha: float
) -> pd.DataFrame:
    """Contacted vs holdout return rates per *keys*, with the split-test interval of the
    uplift."""
    from custkit.splittest.comparisons import compare_proportions
    from custkit.splittest.inputs import SplitTestWarning

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
    counts = table[["holdout_returned", "holdout", "tested_returned", "tested_contacted"]]
    # a few rows (campaigns, channels, reasons), not customers
    for i, (x_a, n_a, x_b, n_b) in enumerate(counts.to_numpy(np.int64)):
        if n_a > 0 and n_b > 0:
            with warnings.catch_warnings():  # nobody / everybody returned: NaN, said in the table
                warnings.simplefilter("ignore", SplitTestWarning)
                result = compare_proportions(x_a, n_a, x_b, n_b, relative=False, alpha=alpha)
            low[i], high[i] = result.ci_low, result.ci_high
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
    reductions,
    *,
    reasons: pd.DataFrame | None = None,
    prefix: str = "winback",
    holdout_variant: str = "holdout",
    settings: Mapping[str, Any] | None = None,
    look_history: Mapping[str, Any] | None = None,
) -> CampaignEvaluation:
    """Return rates of past win-back campaigns by campaign, channel and reason, vs their holdouts,
    and each tested campaign's split-test verdict.

    Parameters
    ----------
    messages : pandas.DataFrame
        Canonical messages: ``customer_id``, ``sent_at``, ``campaign``, ``channel``. Campaigns
        whose name starts with *prefix* (ignoring case) are evaluated; a customer's first message
        of a campaign gives their channel (and, in a campaign without a holdout, starts their
        window).
    experiments : pandas.DataFrame or None
        Canonical experiments. A campaign is tested when rows with ``experiment_id`` equal to
        the campaign name have ``variant`` *holdout_variant*: its arms are then the
        experiment's, checked by :func:`custkit.splittest.clean_assignments` (a customer in both
        arms is set aside, as the split-test report does); a held-out customer who was messaged
        anyway stays in the holdout (as assigned), with a :class:`WinbackWarning`.
    reductions : OrderReductions
        ``custkit.reduce_orders(orders, as_of, customer_days=True)``, as the split-test report
        reads it; its ``as_of`` closes the windows.
    reasons : pandas.DataFrame, optional
        ``customer_id``, ``reason``: adds ``by_reason`` and ``by_reason_channel``. Customers
        without a reason count as ``unknown``.
    prefix : str, default "winback"
        Name prefix of win-back campaigns.
    holdout_variant : str, default "holdout"
        Variant name of the holdout group (ignoring case).
    settings : mapping, optional
        The split-test report's parameters (e.g.
        ``custkit.reports.resolve_parameters("splittest", ctx.params)``); the keys in
        :data:`REVIEW_SETTINGS` are passed to :func:`custkit.splittest.review_experiments`, the
        rest is ignored. Default: its defaults, win-back campaigns planned as
        :data:`DEFAULT_PLANNED_SPLITS`.
    look_history : mapping, optional
        The split-test looks of earlier reports (:func:`custkit.splittest.earlier_looks`), so a
        verdict the split-test report reached at an earlier look stands here too.

    Returns
    -------
    CampaignEvaluation
    """
    from custkit.splittest.report import review_experiments

    owner = "evaluate_campaigns"
    if not isinstance(prefix, str):
        raise ParamsError(
            f"The 'prefix' parameter of {owner} must be a str. Got {prefix!r} instead."
        )
    if settings is not None and not isinstance(settings, Mapping):
        raise ParamsError(
            f"The 'settings' parameter of {owner} must be a mapping of split-test report "
            f"parameters. Got {settings!r} instead."
        )
    if not hasattr(reductions, "customer_days") or not hasattr(reductions, "as_of"):
        raise ParamsError(
            f"The 'reductions' parameter of {owner} must be custkit.reduce_orders(orders, "
            f"as_of, customer_days=True). Got {type(reductions).__name__} instead."
        )
    options = {"planned_splits": DEFAULT_PLANNED_SPLITS}
    options.update({k: v for k, v in (settings or {}).items() if k in REVIEW_SETTINGS})
    _require(messages, "messages", ["customer_id", "sent_at", "campaign"])
    purchases = reductions.customer_days
    _check_id_kinds(messages["customer_id"], purchases["customer_id"], "messages", "purchases")

    sent = _first_messages(messages, prefix)
    tested: list[str] = []
    if experiments is not None and len(experiments):
        _require(
            experiments, "experiments", ["experiment_id", "customer_id", "variant", "assigned_at"]
        )
        exp_id = experiments["experiment_id"].astype("string").str.strip()
        variant = experiments["variant"].astype("string").str.strip().str.lower()
        is_campaign = exp_id.str.lower().str.startswith(prefix.strip().lower()).fillna(False)
        held = is_campaign & (variant == holdout_variant.lower()).fillna(False)
        tested = sorted(set(exp_id[held.to_numpy(dtype=bool)].dropna()))
    review = None
    if tested:
        review = review_experiments(
            experiments, reductions, include=tested, look_history=look_history, **options
        )
        horizon, exposure_day = review.horizon_days, bool(options.get("include_exposure_day"))
        arms = review.assignments.table
        arms = arms.loc[arms["experiment_id"].astype(str).isin(tested)]
        arms = pd.DataFrame(
            {
                "experiment_id": arms["experiment_id"].astype(str).to_numpy(),
                "customer_id": arms["customer_id"].to_numpy(),
                "variant": np.where(
                    arms["variant"].astype(str).str.strip().str.lower() == holdout_variant.lower(),
                    "holdout",
                    "contact",
                ),
                "assigned_at": arms["assigned_at"].to_numpy(dtype="datetime64[ns]"),
            }
        )
        _warn_crossed(arms, sent)
    else:
        horizon = int(options.get("horizon_days", 90))
        exposure_day = bool(options.get("include_exposure_day"))
        arms = pd.DataFrame(
            {"experiment_id": [], "customer_id": [], "variant": [], "assigned_at": []}
        ).astype({"assigned_at": "datetime64[ns]"})
    # campaigns without a holdout: their contacted, from the first message
    untested = sent.loc[~sent["campaign"].isin(tested)]
    contacted_only = pd.DataFrame(
        {
            "experiment_id": untested["campaign"].to_numpy(),
            "customer_id": untested["customer_id"].to_numpy(),
            "variant": "contact",
            "assigned_at": (untested["start_day"].to_numpy() * DAY_NS).view("datetime64[ns]"),
        }
    )
    if len(arms) and len(contacted_only):
        everyone = pd.concat([arms, contacted_only], ignore_index=True)
    else:
        everyone = arms if len(arms) else contacted_only
    frame = _customer_windows(everyone, reductions, horizon, exposure_day, sent)
    open_window = ~frame.pop("window_complete").to_numpy(dtype=bool)
    if open_window.any():
        late = sorted(set(frame.loc[open_window, "campaign"].astype(str)))
        warnings.warn(
            f"{int(open_window.sum())} customers of campaign(s) {late} have a {horizon}-day "
            f"window ending after {reductions.as_of:%Y-%m-%d}; they are left out until their "
            "window closes.",
            WinbackWarning,
            stacklevel=2,
        )
        frame = frame.loc[~open_window].reset_index(drop=True)
    if reasons is not None:
        _require(reasons, "reasons", ["customer_id", "reason"])
        by_id = reasons.drop_duplicates("customer_id").set_index("customer_id")["reason"]
        at = pd.Index(by_id.index).get_indexer(frame["customer_id"])
        frame["reason"] = _take(by_id.astype("string"), at).fillna("unknown").to_numpy()
    frame["channel"] = frame["channel"].astype("category")
    frame["campaign"] = frame["campaign"].astype("category")
    verdicts = _campaign_verdicts(review, tested)
    judged = set(verdicts.loc[verdicts["verdict"] != "srm", "campaign"]) & set(
        frame.loc[frame["group"] == "holdout", "campaign"].astype(str)
    )
    alpha = review.alpha if review is not None else float(options.get("alpha", 0.05))
    has_reason = reasons is not None
    return CampaignEvaluation(
        customers=frame,
        overall=_rate_table(frame, [], judged, alpha),
        by_campaign=_rate_table(frame, ["campaign"], judged, alpha),
        by_channel=_rate_table(frame, ["channel"], judged, alpha),
        by_reason=_rate_table(frame, ["reason"], judged, alpha) if has_reason else None,
        by_reason_channel=(
            _rate_table(frame, ["reason", "channel"], judged, alpha) if has_reason else None
        ),
        verdicts=verdicts,
        review=review,
        window_days=horizon,
        prefix=prefix,
        alpha=alpha,
    )


def _first_messages(messages: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Each customer's first message of each win-back campaign: ``campaign``, ``customer_id``,
    ``start_day`` (days since 1970), ``channel``."""
    campaign = messages["campaign"]
    if not isinstance(campaign.dtype, pd.CategoricalDtype):
        campaign = campaign.astype("category")
    names = pd.Index(campaign.cat.categories.astype(str))
    chosen = names.str.strip().str.lower().str.startswith(prefix.strip().lower())
    rows = np.append(np.asarray(chosen, dtype=bool), False)[campaign.cat.codes.to_numpy()]
    picked = messages.loc[rows]
    sent = pd.DataFrame(
        {
            "campaign": names.str.strip().to_numpy()[campaign.cat.codes.to_numpy()[rows]],
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
    return sent.drop_duplicates(["campaign", "customer_id"]).reset_index(drop=True)


def _warn_crossed(arms: pd.DataFrame, sent: pd.DataFrame) -> None:
    """Warn about held-out customers who were messaged in their campaign anyway."""
    holdout = arms.loc[arms["variant"] == "holdout", ["experiment_id", "customer_id"]]
    crossed = holdout.merge(
        sent[["campaign", "customer_id"]],
        left_on=["experiment_id", "customer_id"],
        right_on=["campaign", "customer_id"],
    )
    if len(crossed):
        warnings.warn(
            f"{len(crossed)} customers of a holdout group were messaged in the same campaign; "
            "they stay in the holdout (as assigned), as in the split-test report. Check the "
            "campaign's audience filter.",
            WinbackWarning,
            stacklevel=3,
        )


def _customer_windows(
    arms: pd.DataFrame, reductions, horizon: int, exposure_day: bool, sent: pd.DataFrame
) -> pd.DataFrame:
    """Each arm row's return in the split-test window, by the split-test's own per-customer
    metrics, with the channel of the customer's first message of the campaign."""
    from custkit.splittest.metrics import customer_metrics

    columns = ["campaign", "customer_id", "group", "start_day", "channel", "returned"]
    if not len(arms):
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        return empty.assign(
            returned=pd.Series(dtype=bool),
            start_day=pd.Series(dtype="datetime64[ns]"),
            window_complete=pd.Series(dtype=bool),
            group=pd.Series(dtype=pd.CategoricalDtype(["contact", "holdout"])),
        )
    measured = customer_metrics(
        arms, reductions, horizon, pre_exposure_days=0, include_exposure_day=exposure_day
    )
    key = pd.MultiIndex.from_arrays([sent["campaign"], sent["customer_id"]])
    at = key.get_indexer(
        pd.MultiIndex.from_arrays([measured["experiment_id"].astype(str), measured["customer_id"]])
    )
    channel = np.where(at >= 0, sent["channel"].to_numpy(dtype=object)[np.maximum(at, 0)], None)
    group = measured["variant"].astype(str).to_numpy()
    channel = np.where(group == "holdout", None, np.where(channel == None, "unknown", channel))  # noqa: E711
    return pd.DataFrame(
        {
            "campaign": measured["experiment_id"].astype(str).to_numpy(),
            "customer_id": measured["customer_id"].to_numpy(),
            "group": pd.Categorical(group, categories=["contact", "holdout"]),
            "start_day": measured["exposure_date"].to_numpy(),
            "channel": channel,
            "returned": measured["conversion"].to_numpy(dtype=bool),
            "window_complete": measured["window_complete"].to_numpy(dtype=bool),
        }
    )


#: Columns of :attr:`CampaignEvaluation.verdicts`.
VERDICT_COLUMNS = (
    "campaign",
    "contacted",
    "holdout",
    "return_rate",
    "holdout_return_rate",
    "return_change",
    "return_change_low",
    "return_change_high",
    "metric",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "verdict",
    "verdict_text",
    "verdict_label",
)


def _campaign_verdicts(review, tested: list[str]) -> pd.DataFrame:
    """One row per tested campaign: the split-test report's numbers and verdict for it."""
    from custkit.splittest.report import metric_table
    from custkit.splittest.verdicts import verdict

    rows = []
    for campaign in tested if review is not None else []:
        result = verdict(review, campaign)
        table = metric_table(review, campaign)
        back = table.loc[
            (table["window_days"] == review.horizon_days) & (table["metric"] == "conversion")
        ]
        row = back.iloc[0] if len(back) else None
        rows.append(
            {
                "campaign": campaign,
                "contacted": int(row["customers_variant"]) if row is not None else 0,
                "holdout": int(row["customers_control"]) if row is not None else 0,
                "return_rate": row["value_variant"] if row is not None else math.nan,
                "holdout_return_rate": row["value_control"] if row is not None else math.nan,
                "return_change": row["estimate"] if row is not None else math.nan,
                "return_change_low": row["ci_low"] if row is not None else math.nan,
                "return_change_high": row["ci_high"] if row is not None else math.nan,
                "metric": result.metric,
                "estimate": result.estimate,
                "ci_low": result.ci_low,
                "ci_high": result.ci_high,
                "p_value": result.p_value,
                "verdict": result.code,
                "verdict_text": result.text,
                "verdict_label": result.label,
            }
        )
    return pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))
