"""The steps of the churn report that summarize for managers: churn this month, reasons, KPIs.

Each function is what a section of ``custkit/notebooks/churn.ipynb`` calls, so the notebook stays a
sequence of calls and an analyst can run the same steps on their own data. Conclusions are built
from the numbers.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from custkit.churn.codes import NO_SIGN_LABEL, REASON_CODES, REASON_LABELS, reason_label
from custkit.churn.definition import ChurnAssessment, RuleBacktest
from custkit.data.periods import ReportPeriod
from custkit.data.reduce import OrderReductions
from custkit.data.sections import section
from custkit.findings import Finding
from custkit.formatting import (
    format_change_interval,
    format_day_count,
    format_percent,
    format_relative_change,
    signed,
)
from custkit.i18n import N_, _, currency_symbol, format_day, format_value, n_
from custkit.stats import wilson_interval
from custkit.units import Kpis

__all__ = [
    "READS",
    "SECTIONS",
    "TABLE_FORMATS",
    "annual_revenue",
    "at_risk_finding",
    "at_risk_summary",
    "campaigns_shown",
    "churn_answer",
    "churn_finding",
    "churn_kpis",
    "classifier_finding",
    "classifier_table",
    "data_gaps_finding",
    "feedback_classifier_check",
    "orders_before_leaving",
    "plan_assumption_finding",
    "reason_finding",
    "reason_summary",
    "reason_trend",
    "reason_weights",
    "reasons_by_group",
    "risk_finding",
    "risk_metrics_table",
    "rule_check_finding",
    "rule_check_table",
    "rule_finding",
    "top_group_reasons",
    "value_if_kept",
    "winback_claim_finding",
    "winback_targets",
]

#: What the churn report loads: every order column a signal needs, and the other tables.
READS = {
    "orders": (
        "status",
        "cost",
        "channel",
        "delivery_region",
        "shipping_cost",
        "discount",
        "coupon",
        "promised_delivery_date",
        "delivered_at",
    ),
    "customers": None,
    "feedback": None,
    "messages": None,
    "experiments": None,
}


#: The churn report's sections that need more than the orders (see :mod:`custkit.data.sections`).
SECTIONS = {
    "feedback_texts": section(N_("Reasons read from feedback texts"), "feedback.text"),
    "classifier_check": section(
        N_("How well the feedback texts are read"), "feedback.text", "feedback.reason"
    ),
    "campaigns": section(
        N_("Past win-back campaigns against their holdouts"), "messages", "experiments"
    ),
    "winback_contacts": section(
        N_("Win-back contact list"), "customers", any_of=("customers.email", "customers.phone")
    ),
}


def _wilson(successes: np.ndarray, trials: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    low, high = wilson_interval(successes, np.maximum(trials, 1))
    return np.where(trials > 0, low, np.nan), np.where(trials > 0, high, np.nan)


def annual_revenue(reductions: OrderReductions) -> pd.Series:
    """Each customer's revenue per year of their buying life (first to last purchase, at least a
    year): what the store loses each year the customer stays away."""
    c = reductions.customers
    years = (c["last_order_date"] - c["first_order_date"]).dt.days.to_numpy() / 365.25
    revenue = c["revenue"].to_numpy(dtype=np.float64) / np.maximum(years, 1.0)
    return pd.Series(revenue, index=pd.Index(c["customer_id"], name="customer_id"), name="revenue")


def value_if_kept(reductions: OrderReductions, margin_rate: float | None = None) -> pd.Series:
    """What keeping each customer is worth: a year of their margin.

    A year of revenue (:func:`annual_revenue`) times the customer's margin rate: their own,
    shrunk towards the store's (:func:`custkit.ltv.margin_rates`), when orders have a cost;
    else *margin_rate*; else revenue (``attrs["basis"] = "revenue"``).
    """
    from custkit.ltv.clv import margin_rates

    revenue = annual_revenue(reductions)
    if margin_rate is not None:
        value, basis = revenue * float(margin_rate), "margin"
    elif "margin" in reductions.customers:
        value, basis = revenue * margin_rates(reductions).reindex(revenue.index), "margin"
    else:
        value, basis = revenue, "revenue"
    value = value.rename("value")
    value.attrs["basis"] = basis
    return value


def winback_targets(
    status: pd.DataFrame,
    reasons: pd.DataFrame,
    risk_scores: pd.DataFrame | None,
    value: pd.Series,
    as_of: pd.Timestamp | str,
    lookback_days: int = 365,
) -> pd.DataFrame:
    """The customers a win-back plan considers: at risk now, or churned within *lookback_days*.

    Parameters
    ----------
    status : pandas.DataFrame
        :attr:`custkit.churn.ChurnAssessment.status`.
    reasons : pandas.DataFrame
        :attr:`custkit.churn.ReasonAssignment.reasons` (at least for those customers). The
        targets' ``reason`` is the churned customers' reason and the risk ``driver`` of those at
        risk (missing when none: the plan's ``unknown`` action).
    risk_scores : pandas.DataFrame or None
        :attr:`custkit.churn.ChurnRisk.scores`: the churn probability of scored customers.
        Customers it does not score (inactive for longer than the model's window) count as
        certain to stay away without contact (probability 1).
    value : pandas.Series
        What keeping each customer is worth (e.g. a year of their margin), by ``customer_id``.
    as_of : Timestamp or str
        The report's as-of date.
    lookback_days : int, default 365
        Customers who churned longer ago are not contacted: the reason is no longer fresh.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``status``, ``reason``, ``evidence``, ``churn_probability``,
        ``value``: the input of :func:`custkit.churn.winback_plan`.
    """
    state = status["status"].astype(str)
    recent = status["churned_at"] >= pd.Timestamp(as_of) - pd.Timedelta(days=lookback_days)
    chosen = status.index[(state == "at_risk") | ((state == "churned") & recent)]
    # the action answers a churned customer's reason, or the risk driver of one at risk
    code = reasons["reason"].astype(object)
    if "driver" in reasons.columns:
        code = code.where(code.notna(), reasons["driver"].astype(object))
    probability = pd.Series(1.0, index=chosen)
    if risk_scores is not None:
        scored = risk_scores.set_index("customer_id")["churn_probability"]
        probability = scored.reindex(chosen).fillna(1.0)
    return pd.DataFrame(
        {
            "customer_id": chosen,
            "status": state.reindex(chosen).to_numpy(),
            "reason": code.reindex(chosen).to_numpy(),
            "evidence": reasons["evidence"].reindex(chosen).to_numpy(),
            "churn_probability": probability.to_numpy(),
            "value": value.reindex(chosen).fillna(0.0).clip(lower=0).to_numpy(),
        }
    )


def _money(amount: float, currency: str = "") -> str:
    """An amount of money for a sentence: ``12,345 RUB`` (``12 345 ₽`` in Russian)."""
    return format_value(amount, ",.0f") + (f"\u00a0{currency_symbol(currency)}" if currency else "")


def churn_finding(monthly: pd.DataFrame, period: ReportPeriod, rule_text: str = "") -> Finding:
    """This month's churn against last month's and the year's average, and the rule used when
    *rule_text* is given (the churn page shows it to the analysts: :func:`rule_finding`)."""
    table = monthly.set_index("month")
    month = pd.Period(period.period, "M")
    this = table.loc[month] if month in table.index else None
    if this is None or not np.isfinite(this["churn_rate"]):
        return Finding(
            _("Churn this month"),
            _("No active customers to judge churn by."),
            rule_text or _("Check that the orders reach into this month."),
        )
    before = table.loc[table.index < month, "churn_rate"].dropna()
    previous = before.iloc[-1] if len(before) else np.nan
    typical = before.mean() if len(before) else np.nan
    fields = {
        "month": month.to_timestamp(),
        "churned": int(this["churned"]),
        "active": int(this["active_at_start"]),
        "rate": this["churn_rate"],
        "previous": previous,
    }
    if not np.isfinite(previous):
        sentences = [
            _(
                "In {month:%B %Y}, {churned:,} of the {active:,} customers active at its start "
                "stopped buying ({rate:.1%}).",
                **fields,
            )
        ]
    elif this["churn_rate"] > previous:
        sentences = [
            _(
                "In {month:%B %Y}, {churned:,} of the {active:,} customers active at its start "
                "stopped buying ({rate:.1%}, up from {previous:.1%} the month before).",
                **fields,
            )
        ]
    else:
        sentences = [
            _(
                "In {month:%B %Y}, {churned:,} of the {active:,} customers active at its start "
                "stopped buying ({rate:.1%}, down from {previous:.1%} the month before).",
                **fields,
            )
        ]
    back = table.loc[table.index < month - 5, "returned_share"].dropna()
    if len(back):
        sentences.append(
            _(
                "Of the customers who left six or more months ago, {share:.0%} came back.",
                share=back.mean(),
            )
        )
    if rule_text:
        sentences.append(rule_text)
    worse = np.isfinite(typical) and this["churn_rate"] > 1.2 * typical
    easing = np.isfinite(previous) and this["churn_rate"] < previous
    if worse and easing:
        action = _(
            "Work through the win-back plan below while the reasons are fresh; churn is lower "
            "than last month but still clearly above its usual level, so look at what changed "
            "in recent months."
        )
    elif worse:
        action = _(
            "Work through the win-back plan below while the reasons are fresh; churn is clearly "
            "above its usual level, so look at what changed this month."
        )
    else:
        action = _("Work through the win-back plan below while the reasons are fresh.")
    return Finding(
        _("Churn this month"), " ".join(sentences), action, "warning" if worse else "info"
    )


def churn_answer(
    monthly: pd.DataFrame,
    period: ReportPeriod,
    summary: pd.DataFrame,
    at_risk: pd.DataFrame,
    plan,
    currency: str = "",
    tells_forgot: bool = True,
) -> Finding:
    """The page's answer in plain words: how many left this month and why, what is at stake,
    and the win-back plan's bottom line.

    Parameters
    ----------
    monthly : pandas.DataFrame
        :func:`custkit.churn.monthly_churn`.
    period : ReportPeriod
    summary : pandas.DataFrame
        :func:`reason_summary`.
    at_risk : pandas.DataFrame
        :func:`at_risk_summary`.
    plan : WinbackPlan
        :func:`custkit.churn.winback_plan`.
    currency : str
    tells_forgot : bool, default True
        :attr:`custkit.churn.ReasonAssignment.tells_forgot`: without feedback the answer says
        how many left with no sign of a reason the data can see, not that they forgot.
    """
    table = monthly.set_index("month")
    month = pd.Period(period.period, "M")
    sentences = []
    if month in table.index and np.isfinite(table.loc[month, "churn_rate"]):
        row = table.loc[month]
        sentences.append(
            _(
                "In {month:%B %Y}, {churned:,} of the {active:,} customers active at its start "
                "stopped buying ({rate:.1%}).",
                month=month.to_timestamp(),
                churned=int(row["churned"]),
                active=int(row["active_at_start"]),
                rate=row["churn_rate"],
            )
        )
    if len(summary):
        silent = summary["reason"].isin(["forgot", "unknown"])
        known = summary.loc[summary["reason"] != "unknown"]
        if not tells_forgot and silent.any():
            sentences.append(
                _(
                    "For {share:.0%} of those who left the data cannot tell why: without "
                    "feedback, forgetting the store looks the same as a reason the orders do not "
                    "record.",
                    share=float(summary.loc[silent, "share"].sum()),
                )
            )
        elif len(known):
            sentences.append(
                _(
                    "The most common reason: '{reason}' ({share:.0%} of those who left).",
                    reason=_(str(known.iloc[0]["label"])),
                    share=known.iloc[0]["share"],
                )
            )
    stake = at_risk.iloc[0]
    if stake["customers"]:
        sentences.append(
            n_(
                "{n:,} customer is slipping away; {loss} a year is likely lost without action.",
                "{n:,} customers are slipping away; {loss} a year is likely lost without action.",
                int(stake["customers"]),
                loss=_money(stake["expected_loss"], currency),
            )
        )
    balance = plan.balance
    fields = {
        "contacted": plan.contacted,
        "won": plan.expected_customers_won,
        "value": _money(plan.expected_revenue_won, currency),
        "cost": _money(plan.total_incentive + plan.message_cost, currency),
    }
    if plan.contacted:
        sentences.append(
            {
                "pays_off": _(
                    "The win-back plan contacts {contacted:,} customers and expects {won:,.0f} "
                    "back, {value} for {cost} of incentives and messages: it pays off.",
                    **fields,
                ),
                "break_even": _(
                    "The win-back plan contacts {contacted:,} customers and expects {won:,.0f} "
                    "back, {value} for {cost} of incentives and messages: about break-even.",
                    **fields,
                ),
                "loses_money": _(
                    "The win-back plan contacts {contacted:,} customers and expects {won:,.0f} "
                    "back, {value} for {cost} of incentives and messages: it loses money.",
                    **fields,
                ),
            }.get(balance, "")
        )
    elif plan.targets:
        sentences.append(
            n_(
                "The win-back plan can contact none of the {n:,} churned or at-risk customer.",
                "The win-back plan can contact none of the {n:,} churned or at-risk customers.",
                plan.targets,
            )
        )
    if balance == "loses_money":
        action = _(
            "Make the incentives smaller or contact fewer customers before sending the plan."
        )
    elif plan.targets and not plan.contacted:
        action = _("The win-back plan below says why no one can be contacted.")
    elif not tells_forgot:
        action = _(
            "Send the win-back plan below, and add the store's reviews, support tickets or survey "
            "answers to the export to learn why customers leave."
        )
    else:
        action = _("Send the win-back plan below; each section says why.")
    return Finding(
        _("This month in short"),
        " ".join(t for t in sentences if t),
        action,
        "warning" if balance == "loses_money" or not tells_forgot else "info",
    )


def rule_finding(assessment: ChurnAssessment) -> Finding:
    """How the churn rule decides, with this store's thresholds
    (:attr:`custkit.churn.ChurnAssessment.description`), and the parameters that move it."""
    return Finding(
        _("How the churn rule decides"),
        assessment.description,
        _(
            "To call customers churned sooner or later, change churn_quantile, at_risk_quantile "
            "or one_time_window_days in the params file."
        ),
    )


#: Buyer types of :class:`custkit.churn.RuleBacktest`, in words.
_BUYERS = {
    "one_time": N_("One-time buyers"),
    "repeat": N_("Repeat buyers"),
    "all": N_("All customers"),
}


#: How the churn page's analyst tables show their columns (``show_table(formats=...)``):
#: precision and recall as per cents, likelihood ratios to one decimal.
TABLE_FORMATS = {
    **dict.fromkeys(
        [f"{m}{end}" for m in ("precision", "recall") for end in ("", "_low", "_high")], "share"
    ),
    "times_as_common": "{:.1f}",
}


def rule_check_table(backtest: RuleBacktest) -> pd.DataFrame:
    """The churn rule's out-of-time check for managers: by buyer type, customers, flagged,
    precision and recall with their 95% intervals."""
    t = backtest.table
    return pd.DataFrame(
        {
            "buyers": [_(_BUYERS[b]) for b in t.index],
            "customers": t["customers"].to_numpy(),
            "flagged": t["flagged"].to_numpy(),
            "precision": t["precision"].to_numpy(),
            "precision_low": t["precision_low"].to_numpy(),
            "precision_high": t["precision_high"].to_numpy(),
            "recall": t["recall"].to_numpy(),
            "recall_low": t["recall_low"].to_numpy(),
            "recall_high": t["recall_high"].to_numpy(),
        }
    )


def rule_check_finding(backtest: RuleBacktest) -> Finding:
    """How often the churn rule was right when applied in the past, in plain words."""
    row = backtest.table.loc["all"]
    if not row["flagged"] or not row["left"]:
        return Finding(
            _("How reliable the churn rule is"),
            _(
                "Applied on {cutoff:%Y-%m-%d}, the rule flagged {flagged:,} customers and "
                "{left:,} bought nothing afterwards: too few to judge it.",
                cutoff=backtest.cutoff,
                flagged=int(row["flagged"]),
                left=int(row["left"]),
            ),
            _("Judge the churn figures with care until the store has more history."),
            "warning",
        )
    fields = {
        "cutoff": backtest.cutoff,
        "as_of": backtest.as_of,
        "flagged": int(row["flagged"]),
        "precision": row["precision"],
        "recall": row["recall"],
        "low": row["precision_low"],
        "high": row["precision_high"],
    }
    text = _(
        "Applied on {cutoff:%Y-%m-%d} with the data up to then, the rule flagged {flagged:,} "
        "customers as churned; {precision:.0%} of them (95% interval {low:.0%}–{high:.0%}) "
        "bought nothing up to {as_of:%Y-%m-%d}. Of all customers who bought nothing in that "
        "time, it had flagged {recall:.0%}; the others had bought too recently to tell.",
        **fields,
    )
    # six months of silence is not "never": this precision bounds the true one from above (on the
    # test generator 0.70 against 0.44), so only a high one earns trust
    good = row["precision"] >= 0.7
    return Finding(
        _("How reliable the churn rule is"),
        text,
        _("Most customers the rule calls churned stayed away: plan the win-back on these counts.")
        if good
        else _(
            "Many customers the rule calls churned come back: treat them as lapsed rather than "
            "lost, and prefer reminders to discounts."
        ),
        "good" if good else "warning",
    )


def reason_summary(
    reasons: pd.DataFrame, status: pd.DataFrame, revenue: pd.Series, tells_forgot: bool = True
) -> pd.DataFrame:
    """Customers, share (with a 95% Wilson interval) and yearly revenue lost, by reason.

    Parameters
    ----------
    reasons : pandas.DataFrame
        :attr:`custkit.churn.reasons.ReasonAssignment.reasons`.
    status : pandas.DataFrame
        The churn status of the same customers (``status`` column): only churned customers
        count; at-risk customers have not left yet.
    revenue : pandas.Series
        :func:`annual_revenue`.
    tells_forgot : bool, default True
        :attr:`custkit.churn.ReasonAssignment.tells_forgot`: without feedback ``forgot`` is
        labelled "No sign of a reason in the data" (:data:`custkit.churn.codes.NO_SIGN_LABEL`).

    Returns
    -------
    pandas.DataFrame
        One row per reason code that occurs, largest first: ``reason``, ``label`` (in English,
        for :func:`custkit.i18n._`),
        ``customers``, ``share``, ``share_low``, ``share_high``, ``revenue_lost_per_year``.
    """
    churned = status.index[status["status"].astype(str).to_numpy() == "churned"]
    code = reasons["reason"].reindex(churned).astype(str)
    lost = revenue.reindex(churned).fillna(0.0)
    counts = code.value_counts().reindex(list(REASON_CODES), fill_value=0)
    total = int(counts.sum())
    low, high = _wilson(counts.to_numpy(), np.full(len(counts), total))
    table = pd.DataFrame(
        {
            "reason": counts.index,
            "label": [
                NO_SIGN_LABEL if c == "forgot" and not tells_forgot else REASON_LABELS[c]
                for c in counts.index
            ],
            "customers": counts.to_numpy(),
            "share": counts.to_numpy() / max(total, 1),
            "share_low": low,
            "share_high": high,
            "revenue_lost_per_year": lost.groupby(code).sum().reindex(counts.index, fill_value=0.0),
        }
    )
    table = table.loc[table["customers"] > 0]
    return table.sort_values("customers", ascending=False, kind="stable").reset_index(drop=True)


def reasons_by_group(
    reasons: pd.DataFrame, status: pd.DataFrame, groups: pd.Series, min_customers: int = 100
) -> pd.DataFrame:
    """Churn rate by reason within each group (a band of :func:`orders_before_leaving`, a
    channel, a region), with 95% intervals.

    The rate is the share of the group's customers (churned, at risk and active) who churned for
    that reason. Groups with fewer than *min_customers* customers are left out (listed in
    ``attrs["small_groups"]``): their rates are too noisy to act on. Categorical *groups* keep
    their categories' order in the result. Group by what a customer was before leaving: a
    segment measured at the report date (RF) moves with the silence that made them churned.

    Returns
    -------
    pandas.DataFrame
        Long format: the group column, ``reason``, ``customers`` (in the group), ``churned``
        (for the reason), ``rate``, ``rate_low``, ``rate_high``.
    """
    name = groups.name or "group"
    labels = groups.reindex(status.index).astype(object).fillna("unknown").astype(str)
    size = labels.value_counts()
    small = sorted(size.index[size < min_customers])
    churned = status["status"].astype(str).to_numpy() == "churned"
    code = reasons["reason"].reindex(status.index).astype(str).to_numpy()
    frame = pd.DataFrame({name: labels.to_numpy()[churned], "reason": code[churned]})
    counts = frame.groupby([name, "reason"]).size().rename("churned").reset_index()
    counts["customers"] = size.reindex(counts[name]).to_numpy()
    counts = counts.loc[~counts[name].isin(small)]
    counts["rate"] = counts["churned"] / counts["customers"]
    counts["rate_low"], counts["rate_high"] = _wilson(
        counts["churned"].to_numpy(), counts["customers"].to_numpy()
    )
    out = counts[[name, "reason", "customers", "churned", "rate", "rate_low", "rate_high"]]
    if isinstance(groups.dtype, pd.CategoricalDtype):  # bands keep their order (1, 2, 3–4, 5+)
        order = [str(c) for c in groups.cat.categories] + ["unknown"]
        present = set(labels)
        out = out.assign(**{name: pd.Categorical(out[name], [g for g in order if g in present])})
    out = out.sort_values([name, "rate"], ascending=[True, False]).reset_index(drop=True)
    out.attrs["small_groups"] = small
    return out


#: Bands of :func:`orders_before_leaving`: (fewest orders, most orders, label).
ORDER_BANDS = (
    (1, 1, N_("One order")),
    (2, 2, N_("Two orders")),
    (3, 4, N_("3–4 orders")),
    (5, np.inf, N_("5 or more orders")),
)


def orders_before_leaving(reductions: OrderReductions) -> pd.Series:
    """Each customer's group as it stood at their last order: how many orders they had placed
    (:data:`ORDER_BANDS`, labels in the report language), by ``customer_id``.

    The group of :func:`reasons_by_group` for the churn page. An RF segment is measured at the
    report date, after the customer left: churned customers sit in the "gone quiet" segments
    because they churned, so their reasons by segment say nothing a manager can act on. The
    order count is fixed by the last order: a leaver's group is the one they were in before
    leaving, and later silence cannot move them.
    """
    c = reductions.customers
    orders = c["orders"].to_numpy()
    band = np.searchsorted([hi for _lo, hi, _label in ORDER_BANDS], orders, side="left")
    labels = [_(label) for _lo, _hi, label in ORDER_BANDS]
    codes = np.minimum(band, len(ORDER_BANDS) - 1)
    return pd.Series(
        pd.Categorical.from_codes(codes, labels),
        index=pd.Index(c["customer_id"], name="customer_id"),
        name="orders_before_leaving",
    )


def top_group_reasons(
    by_group: pd.DataFrame, top: int = 10, tells_forgot: bool = True
) -> pd.DataFrame:
    """The *top* highest churn rates of :func:`reasons_by_group`, in words, with intervals;
    *tells_forgot* as in :func:`custkit.churn.reason_label`."""
    name = by_group.columns[0]
    rows = by_group.nlargest(top, "rate")
    # custkit's own group labels (RF segments) in the report language; a store's stay as written
    groups = [_(g) for g in rows[name].astype(str).str.replace("_", " ")]
    return pd.DataFrame(
        {
            name: groups,
            "reason": [reason_label(r, tells_forgot) for r in rows["reason"]],
            "customers": rows["customers"].to_numpy(),
            "churned": rows["churned"].to_numpy(),
            "rate": rows["rate"].to_numpy(),
            "rate_low": rows["rate_low"].to_numpy(),
            "rate_high": rows["rate_high"].to_numpy(),
        }
    )


def reason_weights(ratios: pd.DataFrame, top: int = 15) -> pd.DataFrame:
    """How each sign was weighed, for the analyst: the *top* signs by likelihood ratio that
    churned customers showed — the sign and its reason in words, its share among the churned,
    the share expected were they like the customers who stayed, and how many times as common it
    was (:attr:`custkit.churn.ReasonAssignment.ratios`)."""
    from custkit.churn.reasons import sign_label

    shown = ratios.loc[ratios["churned"] > 0].head(top)
    return pd.DataFrame(
        {
            "sign": [sign_label(s) for s in shown["sign"]],
            "reason": [reason_label(r) for r in shown["reason"]],
            "leavers_share": shown["churned_share"].to_numpy(),
            "stayers_share": shown["expected_share"].to_numpy(),
            "times_as_common": np.round(shown["likelihood_ratio"].to_numpy(), 1),
        }
    )


def reason_trend(
    reasons: pd.DataFrame, status: pd.DataFrame, period: ReportPeriod, months: int = 6
) -> pd.DataFrame:
    """Churned customers by month of churn and reason, and which reasons are growing.

    Returns
    -------
    pandas.DataFrame
        One row per reason: a column per month (the last *months* up to the report month) with
        the customers who churned that month for that reason, then ``recent_share`` and
        ``earlier_share`` (of the month's churners: last three months vs the three before),
        ``growing`` (recent share clearly above earlier: two-proportion z-test, p < 0.05).
    """
    from custkit.splittest import compare_proportions

    churned = status.loc[status["status"].astype(str) == "churned", "churned_at"]
    month = churned.dt.to_period("M")
    last = pd.Period(period.period, "M")
    window = pd.period_range(end=last, periods=int(months), freq="M")
    code = reasons["reason"].reindex(churned.index).astype(str)
    table = (
        pd.crosstab(code, month)
        .reindex(index=list(REASON_CODES), columns=window, fill_value=0)
        .astype(np.int64)
    )
    recent, earlier = window[-3:], window[-6:-3]
    n_recent, n_earlier = table[recent].to_numpy().sum(), table[earlier].to_numpy().sum()
    out = table.copy()
    out.columns = [str(c) for c in table.columns]
    out["recent_share"] = table[recent].sum(axis=1) / max(n_recent, 1)
    out["earlier_share"] = table[earlier].sum(axis=1) / max(n_earlier, 1)
    growing = []
    for code_name in table.index:
        x_b, x_a = int(table.loc[code_name, recent].sum()), int(table.loc[code_name, earlier].sum())
        if n_recent < 20 or n_earlier < 20 or x_a + x_b < 10:
            growing.append(False)
            continue
        test = compare_proportions(x_a, n_earlier, x_b, n_recent, relative=False)
        growing.append(bool(test.p_value < 0.05 and test.estimate > 0))
    out["growing"] = growing
    out = out.loc[table.sum(axis=1) > 0]
    out.index.name = "reason"
    return out.reset_index()


def reason_finding(
    summary: pd.DataFrame,
    trend: pd.DataFrame | None = None,
    currency: str = "",
    tells_forgot: bool = True,
) -> Finding:
    """The main reasons people leave, what they cost, and what is getting worse.

    With *tells_forgot* False (no feedback) a leaver with no sign in the orders may have
    forgotten the store or left for a reason the orders do not show: the finding says how many
    the data cannot explain before naming the most common reason it can see.
    """
    if summary.empty:
        return Finding(_("Why customers leave"), _("No customer churned in this period."), "—")
    if not tells_forgot:
        return _unexplained_finding(summary, trend, currency)
    known = summary.loc[summary["reason"] != "unknown"]
    top = known.iloc[0] if len(known) else summary.iloc[0]
    costly = (
        known.sort_values("revenue_lost_per_year", ascending=False).iloc[0] if len(known) else top
    )
    fields = {
        "top": _(str(top["label"])),
        "share": top["share"],
        "costly": _(str(costly["label"])),
        "money": _money(costly["revenue_lost_per_year"], currency),
    }
    if costly["reason"] == top["reason"]:
        text = _(
            "The most common reason is '{top}' ({share:.0%} of those who left), and it also "
            "costs the most revenue ({money} a year).",
            **fields,
        )
    else:
        text = _(
            "The most common reason is '{top}' ({share:.0%} of those who left); '{costly}' costs "
            "the most revenue ({money} a year).",
            **fields,
        )
    growing = []
    if trend is not None and len(trend):
        growing = [reason_label(c) for c in trend.loc[trend["growing"], "reason"]]
    if growing:
        text += " " + _("Growing: {reasons}.", reasons=", ".join(growing))
    return Finding(
        _("Why customers leave"),
        text,
        _(
            "Start with '{costly}': fix the cause and contact those customers with the matching "
            "offer from the win-back plan.",
            **fields,
        ),
        "warning" if growing else "info",
    )


def _unexplained_finding(
    summary: pd.DataFrame, trend: pd.DataFrame | None, currency: str = ""
) -> Finding:
    """:func:`reason_finding` when the store has no feedback: what the data cannot tell first."""
    silent = summary["reason"].isin(["forgot", "unknown"])
    unexplained = float(summary.loc[silent, "share"].sum())
    seen = summary.loc[~silent]
    text = _(
        "For {share:.0%} of those who left the orders show no sign of a reason, and without "
        "feedback (reviews, support tickets, survey answers) the data cannot tell whether they "
        "forgot the store or left for a reason the orders do not record.",
        share=unexplained,
    )
    if len(seen):
        top = seen.iloc[0]
        text += " " + _(
            "Of the reasons the orders do show, the most common is '{top}' ({share:.0%} of those "
            "who left, {money} of revenue a year).",
            top=_(str(top["label"])),
            share=top["share"],
            money=_money(top["revenue_lost_per_year"], currency),
        )
    growing = []
    if trend is not None and len(trend):
        growing = [
            reason_label(c, tells_forgot=False) for c in trend.loc[trend["growing"], "reason"]
        ]
    if growing:
        text += " " + _("Growing: {reasons}.", reasons=", ".join(growing))
    return Finding(
        _("Why customers leave"),
        text,
        _(
            "Add the store's reviews, support tickets or survey answers to the export: they "
            "tell a customer who forgot the store from one who left for a reason."
        ),
        "warning",
    )


def check_inputs(store, parameters: Mapping[str, Any]) -> None:
    """What the churn report checks of its parameters and inputs before it computes.

    ``custkit validate`` runs this for every params file, so a value the report would refuse
    stops there, with the same message: it calls the functions the notebook calls (the churn
    rule, the win-back policy, the risk model's periods, the feedback labels through
    ``reason_map``), without the models.

    Parameters
    ----------
    store : Store
        The loaded store.
    parameters : mapping
        The churn report's parameter values
        (:func:`custkit.reports.parameters.resolve_parameters`).

    Raises
    ------
    ParamsError, DataError
        As the report would.
    """
    from custkit.churn.definition import ChurnRule
    from custkit.churn.labels import feedback_labels
    from custkit.churn.risk import _check_periods, risk_training_data
    from custkit.churn.winback import WinbackPolicy
    from custkit.data.signals import check_recent_orders

    ChurnRule(
        churn_quantile=parameters["churn_quantile"],
        at_risk_quantile=parameters["at_risk_quantile"],
        one_time_window_days=parameters["one_time_window_days"],
    )
    check_recent_orders(parameters["recent_orders"])
    defaults = inspect.signature(risk_training_data).parameters
    _check_periods(
        parameters["risk_horizon_days"],
        defaults["active_days"].default,
        parameters["risk_sample"],
        defaults["random_state"].default,
        "risk_training_data",
    )
    WinbackPolicy(
        max_messages=parameters["max_messages"],
        cap_days=parameters["cap_days"],
        served_regions=parameters["served_regions"] or None,
        assumed_return_rate=parameters["assumed_return_rate"],
    )
    feedback_labels(store.feedback, parameters.get("reason_map"))


def feedback_classifier_check(
    feedback: pd.DataFrame | None,
    labelled_min: int = 50,
    max_texts: int = 10_000,
    reason_map: Mapping[str, str] | None = None,
):
    """Cross-validated quality of the feedback-text classifier on the store's labelled feedback,
    or ``None`` when fewer than *labelled_min* labelled texts exist (the keyword lists are used
    then; see :func:`custkit.churn.classify_feedback`). At most *max_texts* labelled texts are
    cross-validated: an equal share per reason, rarer reasons whole, drawn with a fixed seed.
    The store's labels are read through *reason_map* (:func:`custkit.churn.labels.feedback_labels`).
    """
    from custkit.churn.labels import feedback_labels
    from custkit.churn.text import _capped_per_reason, evaluate_classifier

    if feedback is None or not {"text", "reason"} <= set(feedback.columns):
        return None
    labels = feedback_labels(feedback, reason_map)
    text = feedback["text"]
    has_text = text.notna() & (text.astype(str).str.strip() != "")
    keep = (labels != "") & has_text.to_numpy()
    codes, texts = labels[keep], text.to_numpy()[keep]
    counts = pd.Series(codes).value_counts()
    frequent = np.isin(codes, counts.index[counts >= 2])
    codes, texts = codes[frequent], texts[frequent]
    if len(codes) < labelled_min or len(set(codes)) < 2:
        return None
    chosen = _capped_per_reason(np.ones(len(codes), dtype=bool), codes, max_texts)
    return evaluate_classifier(texts[chosen], codes[chosen])


def classifier_table(evaluation) -> pd.DataFrame:
    """The classifier check for managers: reason in words, precision, recall, texts checked."""
    table = evaluation.per_reason
    return pd.DataFrame(
        {
            "reason": [reason_label(r) for r in table.index],
            "precision": table["precision"].to_numpy(),
            "recall": table["recall"].to_numpy(),
            "texts": table["support"].to_numpy(),
        }
    )


def classifier_finding(evaluation) -> Finding:
    """How well the feedback texts are read, in plain words (the cross-validation table goes to
    the analysts: :func:`classifier_table`)."""
    good = evaluation.accuracy >= 0.8
    return Finding(
        _("How well the feedback texts are read"),
        _(
            "Checked on {n:,} texts the store had labelled, each read without having seen it "
            "before, the reader named the store's own reason for {accuracy:.0%} of them.",
            n=int(evaluation.n_texts),
            accuracy=evaluation.accuracy,
        ),
        _("Trust the reasons read from the texts.")
        if good
        else _(
            "Read the reasons from texts with care; more labelled feedback would teach the "
            "reader the store's words."
        ),
        "good" if good else "warning",
    )


def risk_metrics_table(risk) -> pd.DataFrame:
    """The risk model's holdout check for analysts: each model's ROC-AUC, PR-AUC and Brier."""
    metrics = risk.evaluation.metrics
    return pd.DataFrame(
        {
            "model": [_(str(label)) for label in metrics["label"]],
            "roc_auc": metrics["roc_auc"].to_numpy(),
            "pr_auc": metrics["pr_auc"].to_numpy(),
            "brier_score": metrics["brier"].to_numpy(),
        }
    )


def risk_finding(risk) -> Finding:
    """How well the risk model predicts, against "days since the last order" alone, in plain
    words: ROC-AUC as the chance of ranking a leaver above a stayer (its definition), the
    scores themselves in :func:`risk_metrics_table` for the analysts."""
    from custkit.churn.risk import DAYS_SINCE_LAST_ORDER, GRADIENT_BOOSTING

    metrics = risk.evaluation.metrics
    model, base = metrics.loc[GRADIENT_BOOSTING], metrics.loc[DAYS_SINCE_LAST_ORDER]
    good = risk.evaluation.auc_gain > 0.01
    return Finding(
        _("How well the risk model predicts"),
        n_(
            "Of two customers active on {day}, one who then bought nothing for {n} day and one "
            "who bought, the model put the one who left first {auc:.0f} times in 100; "
            "days since the last order alone, {base:.0f} times in 100.",
            "Of two customers active on {day}, one who then bought nothing for {n} days and one "
            "who bought, the model put the one who left first {auc:.0f} times in 100; "
            "days since the last order alone, {base:.0f} times in 100.",
            int(risk.horizon_days),
            day=format_day(risk.test_as_of),
            auc=100 * model["roc_auc"],
            base=100 * base["roc_auc"],
        ),
        _("Use the risk scores to choose whom to contact first.")
        if good
        else _(
            "The model adds little to 'days since the last order': contact customers in the "
            "order of how long they have been away."
        ),
        "good" if good else "warning",
    )


def at_risk_summary(status: pd.DataFrame, value: pd.Series, risk_scores: pd.DataFrame | None):
    """Customers at risk now, by their churn status' basis: count, yearly value and expected
    loss (value × churn probability), and ``basis``: what the value counts (``"margin"`` or
    ``"revenue"``, from *value*'s ``attrs["basis"]`` as :func:`value_if_kept` sets it; revenue
    when unsaid)."""
    at_risk = status.index[status["status"].astype(str) == "at_risk"]
    probability = pd.Series(1.0, index=at_risk)
    if risk_scores is not None:
        scored = risk_scores.set_index("customer_id")["churn_probability"]
        probability = scored.reindex(at_risk).fillna(1.0)
    worth = value.reindex(at_risk).fillna(0.0)
    return pd.DataFrame(
        {
            "customers": [len(at_risk)],
            "value": [float(worth.sum())],
            "expected_loss": [float((worth * probability).sum())],
            "high_risk_customers": [int((probability >= 0.5).sum())],
            "basis": [value.attrs.get("basis", "revenue")],
        }
    )


def at_risk_finding(summary: pd.DataFrame, currency: str = "") -> Finding:
    """What the customers slipping away are worth."""
    row = summary.iloc[0]
    fields = {
        "value": _money(row["value"], currency),
        "loss": _money(row["expected_loss"], currency),
        "high": int(row["high_risk_customers"]),
    }
    # a year of margin only when the orders have a cost or params a margin rate: else revenue
    if row.get("basis", "revenue") == "margin":
        text = n_(
            "{n:,} customer is overdue by their own rhythm; together they bring {value} of "
            "margin a year, of which {loss} is likely lost without action ({high:,} customers "
            "are more likely to leave than to stay).",
            "{n:,} customers are overdue by their own rhythm; together they bring {value} of "
            "margin a year, of which {loss} is likely lost without action ({high:,} customers "
            "are more likely to leave than to stay).",
            int(row["customers"]),
            **fields,
        )
    else:
        text = n_(
            "{n:,} customer is overdue by their own rhythm; together they bring {value} of "
            "revenue a year (the orders have no cost, so not margin), of which {loss} is likely "
            "lost without action ({high:,} customers are more likely to leave than to stay).",
            "{n:,} customers are overdue by their own rhythm; together they bring {value} of "
            "revenue a year (the orders have no cost, so not margin), of which {loss} is likely "
            "lost without action ({high:,} customers are more likely to leave than to stay).",
            int(row["customers"]),
            **fields,
        )
    return Finding(
        _("What is at stake"),
        text,
        _(
            "Contact the high-risk valuable customers first; low-risk ones need a reminder, not "
            "a discount."
        ),
        "warning" if row["expected_loss"] > 0.3 * max(row["value"], 1e-9) else "info",
    )


def data_gaps_finding(sources_missing, risk=None, classifier=None) -> Finding:
    """Which evidence the data lacked, and what adding it would give."""
    missing = list(sources_missing)
    if risk is not None and getattr(risk, "missing_data", ()):
        missing.append(
            _(
                "for the risk model: {names} (their features are left out)",
                names=", ".join(risk.missing_data),
            )
        )
    if classifier is None:
        missing.append(
            _(
                "feedback labelled with a reason (the texts were read with keyword lists; labels "
                "would train a model)"
            )
        )
    if not missing:
        return Finding(
            _("Data gaps"),
            _("Every evidence source was present."),
            _("Keep the exports complete."),
            "good",
        )
    return Finding(
        _("Data gaps"),
        _("Missing: {items}.", items="; ".join(missing)),
        _("Add these columns or tables to the export: each makes more reasons recognisable."),
        "warning",
    )


def churn_kpis(
    monthly: pd.DataFrame,
    period: ReportPeriod,
    assessment: ChurnAssessment,
    summary: pd.DataFrame,
    extra: Mapping[str, float] | None = None,
) -> dict:
    """Headline figures for ``churn.kpis.json``; *extra* adds the risk-model and win-back ones
    (``model_auc``, ``at_risk_value``, ``winback_contacts``, ``expected_winback_revenue``).

    Returns a :class:`~custkit.units.Kpis` with the units of :data:`CHURN_KPI_UNITS`; an *extra*
    KPI not named there needs its unit declared by the caller (``kpis.with_units(...)``)."""
    table = monthly.set_index("month")
    month = pd.Period(period.period, "M")
    row = table.loc[month] if month in table.index else None
    status = assessment.status["status"].astype(str)
    kpis = {
        "churned_customers": int(row["churned"]) if row is not None else 0,
        "churn_rate": float(row["churn_rate"]) if row is not None else float("nan"),
        "at_risk_customers": int((status == "at_risk").sum()),
        "reason_shares": {
            r: float(s) for r, s in zip(summary["reason"], summary["share"], strict=True)
        },
    }
    kpis.update(dict(extra or {}))
    return Kpis(kpis, {k: u for k, u in CHURN_KPI_UNITS.items() if k in kpis})


# ============================================================================ past campaigns
def _points(value: float) -> str:
    """A difference of two rates in percentage points: ``+6.1 pp``."""
    if not (isinstance(value, int | float) and np.isfinite(value)):
        return "—"
    return signed(_("{change:+.1f} pp", change=0.0 if abs(value) < 0.0005 else value * 100))


def _points_interval(low: float, high: float) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return "—"
    return f"{_points(low)} … {_points(high)}"


def campaigns_shown(evaluation) -> pd.DataFrame:
    """Past win-back campaigns as a manager reads them, with the split-test report's verdicts.

    One row per campaign: customers contacted and held out, the share of each who bought again
    in the split-test window, the difference in percentage points (with its interval), and for a
    campaign with a holdout group the split-test report's change of its primary metric, its
    interval and its verdict, formatted as that report's overview formats them (the same
    :func:`custkit.splittest.verdict`). A campaign without a holdout group cannot be judged.
    """
    from custkit.splittest.findings import label_shown
    from custkit.splittest.metrics import METRICS

    table = evaluation.by_campaign
    verdicts = evaluation.verdicts.set_index("campaign")
    review = evaluation.review
    metric = review.primary_metric if review is not None else "revenue"
    change = _(
        "{metric}, {days}: change",
        metric=label_shown(METRICS[metric].label),
        days=format_day_count(evaluation.window_days),
    )
    rows = []
    for row in table.to_dict("records"):
        campaign = str(row["campaign"])
        judged = campaign in verdicts.index
        result = verdicts.loc[campaign] if judged else None
        rows.append(
            {
                _("Campaign"): campaign,
                _("Contacted"): format_value(int(row["contacted"]), ","),
                _("Held out"): format_value(int(row["holdout"]), ","),
                _("Bought again: contacted"): format_percent(row["return_rate"]),
                _("Bought again: held out"): format_percent(row["holdout_return_rate"]),
                _("Difference"): _points(row["uplift"]),
                _("Difference, {level:.0%} interval", level=1 - evaluation.alpha): (
                    _points_interval(row["uplift_low"], row["uplift_high"])
                ),
                change: format_relative_change(result["estimate"]) if judged else "—",
                _("{level:.0%} interval", level=1 - evaluation.alpha): (
                    format_change_interval(result["ci_low"], result["ci_high"]) if judged else "—"
                ),
                _("Verdict of the split test"): (
                    result["verdict_label"] if judged else _("no holdout group: cannot be judged")
                ),
            }
        )
    for result in evaluation.verdicts.to_dict("records"):
        if result["campaign"] in set(table["campaign"].astype(str)):
            continue
        # no customer's window has closed yet: the split-test report says when to judge
        rows.append(
            {
                _("Campaign"): result["campaign"],
                _("Verdict of the split test"): result["verdict_label"],
            }
        )
    columns = [
        _("Campaign"),
        _("Contacted"),
        _("Held out"),
        _("Bought again: contacted"),
        _("Bought again: held out"),
        _("Difference"),
        _("Difference, {level:.0%} interval", level=1 - evaluation.alpha),
        change,
        _("{level:.0%} interval", level=1 - evaluation.alpha),
        _("Verdict of the split test"),
    ]
    return pd.DataFrame(rows, columns=columns).astype(object).fillna("—")


def plan_assumption_finding(plan) -> Finding:
    """Where the win-back plan's return rate comes from and how its expectation is computed
    (:attr:`custkit.churn.WinbackPlan.assumption`), for the analysts."""
    measured = plan.return_rate_source != "assumed"
    return Finding(
        _("Where the plan's expectation comes from"),
        plan.assumption,
        _("Keep a holdout group in every win-back campaign, so the rate stays measured.")
        if measured
        else _(
            "Keep a holdout group (customers who get no message) in the next win-back "
            "campaign, so its effect can be measured."
        ),
        "info" if measured else "warning",
    )


def winback_claim_finding(
    evaluation, assumed_return_rate: float = 0.6, min_customers: int = 100
) -> Finding:
    """The literature's win-back figure shown as a claim, beside what this store measured.

    Parameters
    ----------
    evaluation : CampaignEvaluation or None
        :func:`custkit.churn.evaluate_campaigns`; None when the store has no messages or
        experiments.
    assumed_return_rate : float, default 0.6
        The source articles' share of leavers who come back when their reason is addressed.
    min_customers : int, default 100
        Customers contacted and held out the plan needs to use the store's own uplift
        (``WinbackPolicy.min_measured_customers``).
    """
    claim = _(
        "Articles on win-back say about {rate:.0%} of customers who left come back when their "
        "reason is addressed: a claim from the literature, not measured in this store.",
        rate=assumed_return_rate,
    )
    row = None
    if evaluation is not None and not evaluation.overall.empty:
        row = evaluation.overall.iloc[0]
        if row["tested_contacted"] == 0 or row["holdout"] == 0:
            row = None
    if row is None:
        broken = evaluation is not None and (evaluation.verdicts["verdict"] == "srm").any()
        why = (
            _(
                "The holdout groups of this store's win-back campaigns do not match their "
                "planned share (a sample-ratio mismatch, see the split-test report), so the "
                "claim cannot be checked here, and the win-back plan rests on it."
            )
            if broken
            else _(
                "This store has no finished win-back campaign with a holdout group, so the "
                "claim cannot be checked here, and the win-back plan rests on it."
            )
        )
        return Finding(
            _("What win-back campaigns bring back"),
            f"{claim} {why}",
            _(
                "Keep a holdout group (customers who get no message) in the next win-back "
                "campaign, so its effect can be measured."
            ),
            "warning",
        )
    measured = _(
        "This store's own campaigns: {contacted:.1%} of the {tested:,} contacted customers bought "
        "again within {days} days, against {held:.1%} of the {held_out:,} held out who got no "
        "message: {uplift} owed to the messages ({level:.0%} interval {interval}).",
        contacted=row["tested_return_rate"],
        tested=int(row["tested_contacted"]),
        days=evaluation.window_days,
        held=row["holdout_return_rate"],
        held_out=int(row["holdout"]),
        uplift=_points(row["uplift"]),
        level=1 - evaluation.alpha,
        interval=_points_interval(row["uplift_low"], row["uplift_high"]),
    )
    enough = row["tested_contacted"] >= min_customers and row["holdout"] >= min_customers
    action = (
        _("The win-back plan expects the store's own measure, not the literature's.")
        if enough
        else _(
            "Too few customers were measured to replace the literature's figure: the win-back "
            "plan still rests on it. Keep holdout groups in the next campaigns."
        )
    )
    return Finding(_("What win-back campaigns bring back"), f"{claim} {measured}", action, "info")


#: The unit of each numeric KPI of :func:`churn_kpis`, its usual *extra* ones and the win-back
#: plan's (:meth:`custkit.churn.winback.WinbackPlan.kpis`); see :mod:`custkit.units`.
CHURN_KPI_UNITS = {
    "churned_customers": "count",
    "churn_rate": "share",
    "at_risk_customers": "count",
    "reason_shares": "share",
    "model_auc": "score",
    "at_risk_value": "money",
    "winback_contacts": "count",
    "expected_winback_revenue": "money",
    "winback_targets": "count",
    "winback_contacted": "count",
    "winback_total_incentive": "money",
    "winback_message_cost": "money",
    "winback_expected_customers_won": "count",
    "winback_expected_revenue_won": "money",
    "winback_return_rate": "share",
}
