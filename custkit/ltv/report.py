"""The steps of the LTV report that combine several models: choose a model, value every customer.

Each function is what a section of ``custkit/notebooks/ltv.ipynb`` calls, so the notebook stays a
sequence of calls and an analyst can run the same steps on their own data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from custkit.data.reduce import OrderReductions
from custkit.data.sections import section
from custkit.errors import ParamsError, did_you_mean
from custkit.findings import Finding
from custkit.i18n import N_, _, currency_symbol, format_value, n_
from custkit.ltv.base import check_penalizer
from custkit.ltv.bgnbd import BGNBD
from custkit.ltv.clv import (
    TotalValueInterval,
    _check_discount_rate,
    _check_horizon,
    _check_margin_rate,
    _check_tiers,
    customer_lifetime_value,
    importance_tiers,
    margin_rates,
    next_expected_order_date,
    total_value_interval,
    value_at_risk,
)
from custkit.ltv.gammagamma import GammaGamma
from custkit.ltv.mbgnbd import MBGNBD
from custkit.ltv.paretonbd import ParetoNBD
from custkit.ltv.summary import TIME_UNIT_DAYS, check_time_unit, summarize
from custkit.ltv.validation import (
    GRADIENT_BOOSTING,
    MAX_TOTAL_ERROR_PCT,
    NAIVE,
    HoldoutComparison,
    _fit,
    calibration_holdout_comparison,
)
from custkit.units import Kpis

#: What the LTV report's own sections read: the order columns it needs (cost for margins; status
#: to leave out cancelled and returned orders) and the customer columns of its breakdowns and
#: retention list. Its notebook loads :data:`custkit.customers.READS`, which covers these: the
#: report builds the customer-state table when no other report has (it runs first, see
#: :data:`custkit.reports.run.RUN_FIRST`), so the store is loaded once.
READS = {
    "orders": ("status", "cost"),
    "customers": (
        "acquisition_channel",
        "region",
        "name",
        "email",
        "phone",
        "consent_email",
        "consent_sms",
    ),
}

#: The LTV report's sections that need the customers table (see :mod:`custkit.data.sections`).
SECTIONS = {
    "value_by_channel": section(
        N_("Value by acquisition channel"), "customers.acquisition_channel"
    ),
    "value_by_region": section(N_("Value by region"), "customers.region"),
}

#: The purchase models the report compares, by display name.
PURCHASE_MODELS = {"BG/NBD": BGNBD, "MBG/NBD": MBGNBD, "Pareto/NBD": ParetoNBD}

#: The model the report values customers with when none could be checked on past months: the
#: most used of the three (Fader, Hardie & Lee 2005), fitted on all purchases.
UNCHECKED_MODEL = "BG/NBD"

#: Fewer repeat buyers than this and the page says the data cannot tell how often customers come
#: back: a rule of thumb for four-parameter purchase models. On the test generator's 15-month
#: stores (``tests/storegen.py``, seed 1) the standard errors of the purchase rate's r and α were
#: 42-68% of the estimates with 32 repeat buyers (BG/NBD, Pareto/NBD), 32-44% with 104 and
#: 16-40% with 385; the dropout parameters were not pinned down at any of these sizes.
MIN_REPEAT_BUYERS = 100


def _check_comparison_rules(holdout_months: int, time_unit: str, penalizer: float) -> None:
    """The arguments of :func:`compare_purchase_models` as it takes them, or ParamsError: checked
    before any fit, since a model whose fit fails is only left out of the comparison."""
    if (
        isinstance(holdout_months, bool)
        or not isinstance(holdout_months, int)
        or not 1 <= holdout_months <= 24
    ):
        raise ParamsError(
            f"holdout_months must be an int in the range [1, 24]. Got {holdout_months!r} instead."
        )
    check_time_unit(time_unit)
    check_penalizer(penalizer, "compare_purchase_models")


def compare_purchase_models(
    orders: pd.DataFrame,
    as_of: pd.Timestamp,
    holdout_months: int = 6,
    time_unit: str = "W",
    penalizer: float = 0.0,
    features: pd.DataFrame | None = None,
    max_customers: int | None = 50_000,
    random_state: int = 0,
) -> HoldoutComparison:
    """Fit every model of :data:`PURCHASE_MODELS` on all but the last *holdout_months* and
    compare their predictions for those months with what customers really bought.

    See :func:`custkit.ltv.validation.calibration_holdout_comparison` for the result. With
    *penalizer* 0 (the default) every model is fitted by plain maximum likelihood through
    :func:`custkit.ltv.fit_with_fallback`, which adds a small scale-free penalty only when that
    fit is not usable (and says so in the model's ``fit_messages_``); a positive *penalizer*
    is used as given for every fit.
    On bases larger than *max_customers* the comparison runs on a random sample of that many
    customers (all their orders): the per-customer errors it ranks models by are averages, which
    50,000 customers estimate closely (on the 1M-customer benchmark store the errors differ from
    those on 100,000 in the third decimal and rank the models the same), and it saves over half
    a minute on a million customers. The chosen model is then fitted on everyone by
    :func:`customer_value`.
    """
    _check_comparison_rules(holdout_months, time_unit, penalizer)
    if max_customers is not None:
        ids = orders["customer_id"].unique()
        if len(ids) > max_customers:
            rng = np.random.default_rng(random_state)
            sample = rng.choice(ids, size=max_customers, replace=False)
            orders = orders.loc[orders["customer_id"].isin(sample)]
    as_of = pd.Timestamp(as_of)
    calibration_end = as_of - pd.DateOffset(months=holdout_months)
    models = {name: cls(penalizer=penalizer) for name, cls in PURCHASE_MODELS.items()}
    return calibration_holdout_comparison(
        orders, calibration_end, as_of, models, time_unit=time_unit, features=features
    )


@dataclass(frozen=True)
class CustomerValue:
    """Every customer's expected value, from one purchase model and the Gamma-Gamma spend model.

    Attributes
    ----------
    model_name : str
        The purchase model used.
    purchase_model, spend_model
        The fitted models (on all purchases up to ``as_of``).
    summary : pandas.DataFrame
        :func:`custkit.ltv.summarize` at ``as_of``.
    clv : pandas.DataFrame
        :func:`custkit.ltv.customer_lifetime_value` over the longest horizon, plus
        ``value_at_risk``, ``tier`` and ``next_expected_order_date``.
    outlook : pandas.DataFrame
        One row per horizon: ``horizon_months``, ``expected_purchases``, ``expected_revenue`` and
        ``clv`` for the whole base.
    value_basis : str
        ``"margin"`` or ``"revenue"`` (no cost data and no margin rate).
    interval : TotalValueInterval or None
        The interval of the base's total ``clv`` over the longest horizon, from the fits'
        parameter uncertainty (:func:`custkit.ltv.clv.total_value_interval`).
    """

    model_name: str
    purchase_model: Any
    spend_model: Any
    summary: pd.DataFrame
    clv: pd.DataFrame
    outlook: pd.DataFrame
    value_basis: str
    interval: TotalValueInterval | None = None


def _check_value_rules(
    horizons_months: Sequence[int],
    monthly_discount_rate: float,
    margin_rate: float | None,
    tiers: Sequence[float],
) -> list[int]:
    """The arguments of :func:`customer_value` that the functions it calls check, checked with
    their checks before the models are fitted; returns the horizons, sorted."""
    horizons = sorted({int(h) for h in horizons_months})
    if not horizons or horizons[0] < 1:
        raise ParamsError(
            f"horizons_months must be positive whole months, e.g. [3, 6, 12]. "
            f"Got {list(horizons_months)!r} instead."
        )
    _check_horizon(horizons[-1])  # customer_lifetime_value
    _check_discount_rate(monthly_discount_rate)
    if margin_rate is not None:
        _check_margin_rate(margin_rate)
    _check_tiers(tiers)  # importance_tiers
    return horizons


def customer_value(
    orders: pd.DataFrame,
    as_of: pd.Timestamp,
    model_name: str | None,
    reductions: OrderReductions,
    horizons_months: Sequence[int] = (3, 6, 12),
    monthly_discount_rate: float = 0.01,
    margin_rate: float | None = None,
    tiers: Sequence[float] = (0.01, 0.05, 0.20),
    time_unit: str = "W",
    penalizer: float = 0.0,
    interval_draws: int = 200,
) -> CustomerValue:
    """Fit *model_name* and Gamma-Gamma on all purchases up to *as_of* and value each customer.

    *model_name* ``None`` (no purchase model could be fitted on the months before the holdout,
    e.g. a history shorter than the holdout: ``HoldoutComparison.best_purchase_model``) takes
    :data:`UNCHECKED_MODEL`; the page says that the forecast could not be checked.

    The margin is *margin_rate* when given, else each customer's own margin from the orders'
    ``cost`` column (shrunk towards the store's, :func:`custkit.ltv.margin_rates`), else revenue.
    Both models are fitted as in :func:`compare_purchase_models` (*penalizer* 0: through
    :func:`custkit.ltv.fit_with_fallback`). Gamma-Gamma leaves repeat buyers whose repeat
    purchases were all free out of its fit and counts them (``n_zero_value_excluded_``); they
    are valued with it like everyone else. The total's interval (90%) comes from
    *interval_draws* parameter draws (:func:`custkit.ltv.clv.total_value_interval`, seeded); 0
    gives no interval (``interval`` None: the customer-state table needs none).
    """
    if model_name is None:  # no model could be checked (see compare_purchase_models)
        model_name = UNCHECKED_MODEL
    if model_name not in PURCHASE_MODELS:
        raise ParamsError(
            f"model must be one of {list(PURCHASE_MODELS)}. Got {model_name!r} instead."
            + did_you_mean(str(model_name), PURCHASE_MODELS)
        )
    horizons = _check_value_rules(horizons_months, monthly_discount_rate, margin_rate, tiers)
    days = reductions if reductions.customer_days is not None else orders
    summary = summarize(days, as_of=as_of, time_unit=time_unit)
    model = _fit(PURCHASE_MODELS[model_name](penalizer=penalizer), summary)
    spend = _fit(GammaGamma(penalizer=penalizer), summary)
    margins = None
    if margin_rate is None and "margin" in reductions.customers:
        margins = margin_rates(reductions)
    clv = customer_lifetime_value(
        model,
        spend,
        summary,
        horizon_months=horizons[-1],
        monthly_discount_rate=monthly_discount_rate,
        margin_rate=margin_rate,
        margins=margins,
    )
    totals = pd.DataFrame(clv.attrs["cumulative_totals"])
    outlook = totals.iloc[[h - 1 for h in horizons]].reset_index(drop=True)
    outlook.insert(0, "horizon_months", horizons)
    clv["value_at_risk"] = value_at_risk(clv)
    clv["tier"] = importance_tiers(clv, tiers)
    clv["next_expected_order_date"] = next_expected_order_date(model, summary, as_of)
    basis = clv.attrs.get("value_basis", "margin")
    interval = (
        total_value_interval(model, spend, summary, clv, n_draws=interval_draws)
        if interval_draws
        else None
    )
    return CustomerValue(model_name, model, spend, summary, clv, outlook, basis, interval)


def check_inputs(store, parameters: Mapping[str, Any]) -> None:
    """What the LTV report checks of its parameters before it fits anything.

    ``custkit validate`` runs this for every params file, so a value the report would refuse
    stops there, with the same message: it runs the checks :func:`compare_purchase_models` and
    :func:`customer_value` make first, with the arguments the LTV notebook passes them.

    Parameters
    ----------
    store : Store
        The loaded store (the LTV report's checks need none of its tables).
    parameters : mapping
        The LTV report's parameter values
        (:func:`custkit.reports.parameters.resolve_parameters`).

    Raises
    ------
    ParamsError
        As the report would.
    """
    _check_comparison_rules(
        parameters["holdout_months"], parameters["time_unit"], parameters["penalizer"]
    )
    _check_value_rules(
        [3, 6, parameters["horizon_months"]],  # the horizons the notebook shows
        parameters["monthly_discount_rate"],
        parameters["margin_rate"],
        parameters["tiers"],
    )


def customer_groups(
    reductions: OrderReductions,
    customers: pd.DataFrame | None,
    segments: pd.DataFrame | None = None,
) -> dict[str, pd.Series]:
    """The customer attributes CLV is broken down by, each a Series indexed by customer_id:
    acquisition channel and region (from the customers table), first-order month, RF segment."""
    customer_ids = pd.Index(reductions.customers["customer_id"], name="customer_id")
    months = pd.Categorical(reductions.customers["first_order_date"].dt.to_period("M"))
    groups = {
        "first_order_month": pd.Series(
            months.rename_categories(months.categories.astype(str)),
            index=customer_ids,
            name="first_order_month",
        )
    }
    if customers is not None:
        table = customers.drop_duplicates("customer_id").set_index("customer_id")
        for column in ("acquisition_channel", "region"):
            if column in table and table[column].notna().any():  # an empty column: no groups
                groups[column] = table[column].astype("category").rename(column)
    if segments is not None:
        groups["segment"] = segments.set_index("customer_id")["segment"].rename("segment")
    return groups


def outlook_finding(value: CustomerValue, currency: str = "") -> Finding:
    """What the base is expected to buy and be worth over the report's horizons."""
    last = value.outlook.iloc[-1]
    fields = {
        "orders": last["expected_purchases"],
        "value": last["clv"],
        "money": f"\u00a0{currency_symbol(currency)}" if currency else "",
        "alive": value.clv["p_alive"].mean(),
    }
    months = int(last["horizon_months"])
    if value.value_basis == "margin":
        conclusion = n_(
            "Over the next {n} month the current customers are expected to place {orders:,.0f} "
            "orders worth {value:,.0f}{money} in margin (discounted); on average a customer is "
            "{alive:.0%} likely to still be buying.",
            "Over the next {n} months the current customers are expected to place {orders:,.0f} "
            "orders worth {value:,.0f}{money} in margin (discounted); on average a customer is "
            "{alive:.0%} likely to still be buying.",
            months,
            **fields,
        )
    else:
        conclusion = n_(
            "Over the next {n} month the current customers are expected to place {orders:,.0f} "
            "orders worth {value:,.0f}{money} in revenue (discounted); on average a customer is "
            "{alive:.0%} likely to still be buying.",
            "Over the next {n} months the current customers are expected to place {orders:,.0f} "
            "orders worth {value:,.0f}{money} in revenue (discounted); on average a customer is "
            "{alive:.0%} likely to still be buying.",
            months,
            **fields,
        )
    interval = value.interval
    if interval is not None and np.isfinite(interval.lower) and np.isfinite(interval.upper):
        conclusion += " " + _(
            "Given how precisely the models' parameters are known, the value lies between "
            "{lower:,.0f} and {upper:,.0f}{money} ({level:.0%} interval).",
            lower=interval.lower,
            upper=interval.upper,
            money=fields["money"],
            level=interval.level,
        )
    return Finding(
        _("What the customer base is worth"),
        conclusion,
        _(
            "Plan retention spend against this value: it is what keeping today's customers is "
            "worth."
        ),
        "info",
    )


def tiers_finding(tiers: pd.DataFrame, currency: str = "") -> Finding:
    """How concentrated value is and how much of it may slip away."""
    top = tiers.set_index("tier")
    top20 = top["clv_share"].reindex(["top_1%", "top_5%", "top_20%"]).sum()
    at_risk = tiers["value_at_risk"].sum()
    return Finding(
        _("Most valuable customers"),
        _(
            "The top 20% of customers hold {share:.0%} of expected value; {at_risk:,.0f}{money} "
            "of it belongs to customers who may already have stopped buying.",
            share=top20,
            at_risk=at_risk,
            money=f"\u00a0{currency_symbol(currency)}" if currency else "",
        ),
        _(
            "Contact valuable customers whose chance of still buying is falling (the "
            "value-at-risk list) before offering discounts to anyone else; the best active "
            "customers need no discount."
        ),
        "warning" if at_risk > 0.2 * tiers["clv_total"].sum() else "info",
    )


# ------------------------------------------------------------- the page's answer, in plain words
def model_label(name: str) -> str:
    """How the page names a model of the comparison: a baseline in words (its code stays in
    ``kpis.json``), a purchase model by its published name (``BG/NBD``)."""
    if name == NAIVE:
        return _("Simple rule: past purchase rate")
    if name == GRADIENT_BOOSTING:
        return _("Gradient boosting on purchase history")
    return str(name)


def _money_text(currency: str) -> str:
    return f"\u00a0{currency_symbol(currency)}" if currency else ""


def _checked(comparison: HoldoutComparison, model: str) -> pd.Series | None:
    """The comparison's row of *model*, when the holdout had purchases to check it on."""
    metrics = comparison.metrics
    if model not in metrics.index or not metrics.loc[model, "actual_purchases"] > 0:
        return None
    return metrics.loc[model]


def data_limits(
    comparison: HoldoutComparison, value: CustomerValue, horizon_months: int | None = None
) -> list[str]:
    """What these data cannot tell, in plain words in the report language; empty when the
    forecast stands on enough data.

    Four limits are named: a history shorter than the forecast's horizon, fewer repeat buyers
    than :data:`MIN_REPEAT_BUYERS`, a forecast that could not be checked on past months (no
    purchase model could be fitted before the holdout) and a checked forecast whose total was
    off by more than the comparison trusts.
    """
    limits = []
    horizon = int(horizon_months or value.outlook["horizon_months"].max())
    unit_days = TIME_UNIT_DAYS[value.purchase_model.time_unit_]
    history_months = float(value.summary["T"].max()) * unit_days / (365.25 / 12)
    if history_months < horizon:
        limits.append(
            n_(
                "the orders cover only {n} month, less than the {horizon} months forecast",
                "the orders cover only {n} months, less than the {horizon} months forecast",
                max(int(history_months), 1),
                horizon=horizon,
            )
        )
    repeat = int((value.summary["frequency"] > 0).sum())
    if repeat < MIN_REPEAT_BUYERS:
        limits.append(
            n_(
                "only {n} customer has bought more than once, too few to tell how often "
                "customers come back",
                "only {n} customers have bought more than once, too few to tell how often "
                "customers come back",
                repeat,
            )
        )
    row = _checked(comparison, value.model_name)
    if row is None:
        limits.append(
            _(
                "the forecast could not be checked against the last months (no model could be "
                "fitted on the months before them)"
            )
        )
    elif not row["eligible"]:
        limits.append(
            _(
                "checked on the last months, the forecast was off by {error:.0f}%, more than "
                "the {tolerance:g}% we trust",
                error=abs(row["total_error_pct"]),
                tolerance=MAX_TOTAL_ERROR_PCT,
            )
        )
    return limits


def worth_finding(
    comparison: HoldoutComparison,
    value: CustomerValue,
    tiers: pd.DataFrame,
    currency: str = "",
) -> Finding:
    """The LTV page's answer: what today's customers are worth over the horizon and its
    interval, how much of it the most valuable hold and how much may walk away; on thin data
    (:func:`data_limits`), first what the data cannot tell.

    *tiers* is :func:`custkit.ltv.tier_summary` of ``value.clv``.
    """
    last = value.outlook.iloc[-1]
    months = int(last["horizon_months"])
    money = _money_text(currency)
    worth = (
        n_(
            "Today's customers are expected to bring {value:,.0f}{money} of margin over the "
            "next {n} month",
            "Today's customers are expected to bring {value:,.0f}{money} of margin over the "
            "next {n} months",
            months,
            value=last["clv"],
            money=money,
        )
        if value.value_basis == "margin"
        else n_(
            "Today's customers are expected to bring {value:,.0f}{money} of revenue over the "
            "next {n} month",
            "Today's customers are expected to bring {value:,.0f}{money} of revenue over the "
            "next {n} months",
            months,
            value=last["clv"],
            money=money,
        )
    )
    interval = value.interval
    if interval is not None and np.isfinite(interval.lower) and np.isfinite(interval.upper):
        worth += " " + _(
            "(likely between {lower:,.0f} and {upper:,.0f}{money})",
            lower=interval.lower,
            upper=interval.upper,
            money=money,
        )
    worth += "."
    scored = tiers.loc[tiers["tier"] != "not_scored"]
    top = scored.loc[scored["tier"] != "rest"]
    at_risk = float(tiers["value_at_risk"].sum())
    total = float(tiers["clv_total"].sum())
    who = ""
    if len(top):
        who = " " + _(
            "The most valuable {share:.0%} of customers ({customers:,} people) hold {held:.0%} "
            "of it; {at_risk:,.0f}{money} ({risk_share:.0%}) belongs to customers who may "
            "already have stopped buying.",
            share=float(top["customers"].sum()) / max(float(scored["customers"].sum()), 1.0),
            customers=int(top["customers"].sum()),
            held=float(top["clv_share"].sum()),
            at_risk=at_risk,
            money=money,
            risk_share=at_risk / total if total > 0 else 0.0,
        )
    limits = data_limits(comparison, value)
    if limits:
        return Finding(
            _("What the base is worth: the data are too thin to tell reliably"),
            _(
                "These data cannot tell reliably what the base is worth: {limits}.",
                limits="; ".join(limits),
            )
            + " "
            + _("A rough estimate:")
            + " "
            + worth[:1].lower()
            + worth[1:]
            + who,
            _(
                "Read these numbers as a rough guide, not a plan; the forecast becomes "
                "checkable once the orders cover more months and more customers have bought "
                "twice."
            ),
            "warning",
        )
    return Finding(
        _("What the base is worth"),
        worth + who,
        _(
            "Plan retention spend against this value, and contact the valuable customers whose "
            "chance of still buying is falling (the value-at-risk list) before offering "
            "discounts to anyone else."
        ),
        "warning" if total > 0 and at_risk > 0.2 * total else "info",
    )


def model_line(comparison: HoldoutComparison, value: CustomerValue) -> str:
    """One plain sentence on the model behind the forecast and how far to trust it: how far its
    total was off on the held-out months, against what the comparison trusts."""
    row = _checked(comparison, value.model_name)
    months = max(round((comparison.as_of - comparison.calibration_end).days / (365.25 / 12)), 1)
    if row is None:
        return _(
            "The forecast uses the {model} model; it could not be checked against past months, "
            "since no model could be fitted on the months before them.",
            model=value.model_name,
        )
    fields = {
        "model": value.model_name,
        "error": abs(row["total_error_pct"]),
        "predicted": row["predicted_purchases"],
        "actual": row["actual_purchases"],
        "tolerance": MAX_TOTAL_ERROR_PCT,
    }
    if row["eligible"]:
        return n_(
            "The forecast uses the {model} model; checked on the last {n} month, it was off by "
            "{error:.0f}% ({predicted:,.0f} purchases expected, {actual:,.0f} made) — within "
            "the {tolerance:g}% we trust.",
            "The forecast uses the {model} model; checked on the last {n} months, it was off by "
            "{error:.0f}% ({predicted:,.0f} purchases expected, {actual:,.0f} made) — within "
            "the {tolerance:g}% we trust.",
            months,
            **fields,
        )
    return n_(
        "The forecast uses the {model} model; checked on the last {n} month, it was off by "
        "{error:.0f}% ({predicted:,.0f} purchases expected, {actual:,.0f} made) — more than "
        "the {tolerance:g}% we trust, so read it as rough.",
        "The forecast uses the {model} model; checked on the last {n} months, it was off by "
        "{error:.0f}% ({predicted:,.0f} purchases expected, {actual:,.0f} made) — more than "
        "the {tolerance:g}% we trust, so read it as rough.",
        months,
        **fields,
    )


def holdout_table(comparison: HoldoutComparison) -> pd.DataFrame:
    """The holdout check for analysts, as the page shows it: models by their labels
    (:func:`model_label`), errors with their abbreviations explained, whether each is trusted
    and why not; headers in the report language."""
    metrics = comparison.metrics
    trusted = [
        _("yes") if ok else (_(why) if why else _("no"))
        for ok, why in zip(metrics["eligible"], metrics["not_eligible_reason"], strict=True)
    ]
    return pd.DataFrame(
        {
            _("Model"): [model_label(name) for name in metrics.index],
            _("Kind"): [_(kind) for kind in metrics["kind"]],
            _("Mean error per customer (MAE)"): metrics["mae"].to_numpy(),
            _("Typical error, large misses weighed more (RMSE)"): metrics["rmse"].to_numpy(),
            _("Purchases expected"): metrics["predicted_purchases"].to_numpy(),
            _("Purchases made"): metrics["actual_purchases"].to_numpy(),
            _("Total off by"): [
                format_value(e, "+.0f") + "%" if np.isfinite(e) else "—"
                for e in metrics["total_error_pct"]
            ],
            _("Trusted"): trusted,
        }
    )


def with_churn_rule(value: CustomerValue, state: pd.DataFrame) -> CustomerValue:
    """*value* with P(alive) by the one rule of the customer-state table.

    The purchase model gives every one-time buyer P(alive) near 1 whatever their age (a BG/NBD
    artefact: 555 one-time buyers of the demo gone for years had > 0.99); the customer-state
    table (:func:`custkit.customers.customer_state`) gives 0 to the customers the churn rule
    calls churned. This takes its ``p_alive`` and recomputes ``value_at_risk``, so the LTV
    page, its exports and ``ltv.kpis.json`` show the same P(alive) and value at risk as the
    churn report and the customer card. Expected purchases, value and tiers are unchanged.

    Parameters
    ----------
    value : CustomerValue
    state : pandas.DataFrame
        The table of the same store and as-of date.

    Returns
    -------
    CustomerValue
        A copy; customers missing from *state* keep the model's P(alive).
    """
    import dataclasses

    clv = value.clv.copy()
    rule = state.set_index("customer_id")["p_alive"].reindex(clv.index)
    model = clv["p_alive"].to_numpy(dtype=np.float64)
    clv["p_alive"] = np.where(rule.notna().to_numpy(), rule.to_numpy(dtype=np.float64), model)
    clv["value_at_risk"] = value_at_risk(clv)
    return dataclasses.replace(value, clv=clv)


def _finite_or_none(interval: TotalValueInterval | None, bound: str) -> float | None:
    number = getattr(interval, bound, np.nan) if interval is not None else np.nan
    return float(number) if np.isfinite(number) else None


def ltv_kpis(
    comparison: HoldoutComparison, value: CustomerValue
) -> Mapping[str, float | str | dict]:
    """Headline figures of the LTV report, for ``ltv.kpis.json``, with their units
    (:data:`LTV_KPI_UNITS`)."""
    outlook = value.outlook.set_index("horizon_months")
    horizon = outlook.index.max()
    kpis = {
        "model": value.model_name,
        "time_unit": value.purchase_model.time_unit_,
        "expected_purchases_12m": float(outlook.loc[horizon, "expected_purchases"]),
        "clv_12m_total": float(outlook.loc[horizon, "clv"]),
        "clv_12m_total_lower": _finite_or_none(value.interval, "lower"),
        "clv_12m_total_upper": _finite_or_none(value.interval, "upper"),
        "clv_12m_mean": float(value.clv["clv"].mean()),
        "p_alive_mean": float(value.clv["p_alive"].mean()),
        "value_at_risk": float(value.clv["value_at_risk"].sum()),
        "holdout_mae": comparison.metrics["mae"].to_dict(),
        "holdout_total_error_pct": comparison.metrics["total_error_pct"].to_dict(),
    }
    return Kpis(kpis, LTV_KPI_UNITS)


#: The unit of each numeric KPI of :func:`ltv_kpis` (see :mod:`custkit.units`).
LTV_KPI_UNITS = {
    "expected_purchases_12m": "count",
    "clv_12m_total": "money",
    "clv_12m_total_lower": "money",
    "clv_12m_total_upper": "money",
    "clv_12m_mean": "money",
    "p_alive_mean": "share",
    "value_at_risk": "money",
    "holdout_mae": "count",  # purchases per customer
    "holdout_total_error_pct": "percent",
}


def customer_value_table(value: CustomerValue) -> pd.DataFrame:
    """What an operator looks up per customer: value, tier, chance of still buying, next order.

    No contact data: the table joins to the store's systems by ``customer_id``. The ``reason`` a
    customer is not scored is written in the report language; codes (``tier``, ``status``) are
    not translated.
    """
    columns = [
        "clv",
        "tier",
        "p_alive",
        "expected_purchases",
        "value_at_risk",
        "next_expected_order_date",
        "status",
        "reason",
    ]
    table = value.clv[columns].reset_index()
    # the reason is read by people: in the report's language (the categories, not the rows)
    reasons = table["reason"].cat.categories
    table["reason"] = table["reason"].cat.rename_categories([_(r) if r else r for r in reasons])
    return table.sort_values("clv", ascending=False, kind="stable").reset_index(drop=True)


def value_at_risk_list(
    value: CustomerValue, customers: pd.DataFrame | None, top: int = 10_000
) -> pd.DataFrame:
    """The retention list: the *top* customers by value at risk, with contacts and consents.

    Export files only (it carries personal data), never the HTML report.
    """
    at_risk = value.clv.loc[value.clv["value_at_risk"] > 0]
    at_risk = at_risk.nlargest(top, "value_at_risk")
    table = at_risk[["value_at_risk", "clv", "p_alive", "tier"]].reset_index()
    if customers is not None:
        contact = [
            c for c in ("name", "email", "phone", "consent_email", "consent_sms") if c in customers
        ]
        details = customers.drop_duplicates("customer_id")[["customer_id", *contact]]
        table = table.merge(details, on="customer_id", how="left")
    return table


# ------------------------------------------------------------------ analyst details: the fits
def _fits(comparison: HoldoutComparison, value: CustomerValue) -> list[tuple[str, str, Any]]:
    """(model, data it was fitted on, fitted model): the comparison's fits, then the report's."""
    fits = [(name, N_("last months held out"), m) for name, m in comparison.fitted_models.items()]
    fits.append((value.model_name, N_("all purchases"), value.purchase_model))
    fits.append(("Gamma-Gamma", N_("all purchases"), value.spend_model))
    return fits


#: Parameters named by their Greek letters, as in the papers (and the same in every language).
_SYMBOLS = {"alpha": "α", "beta": "β", "gamma": "γ"}


def fit_details(comparison: HoldoutComparison, value: CustomerValue) -> pd.DataFrame:
    """One row per fit of the report, for analysts: parameters with standard errors, whether
    the optimizer converged, the log-likelihood and the penalty used.

    Columns ``model``, ``fitted_on`` (in the report language), ``parameters`` (``name
    estimate (standard error)``, ``se n/a`` when undefined), ``converged``, ``usable``,
    ``log_likelihood``, ``penalizer`` and ``customers``.
    """
    rows = []
    for name, data, model in _fits(comparison, value):
        errors = getattr(model, "standard_errors_", {})
        parts = []
        for param, estimate in model.params_.items():
            se = errors.get(param, np.nan)
            spread = format_value(se, ".3g") if np.isfinite(se) else _("se n/a")
            symbol = _SYMBOLS.get(param, param)
            parts.append(f"{symbol} {format_value(estimate, '.4g')} ({spread})")
        rows.append(
            {
                "model": name,
                "fitted_on": _(data),
                "parameters": "; ".join(parts),
                "converged": bool(getattr(model, "converged_", True)),
                "usable": bool(getattr(model, "usable_", True)),
                "log_likelihood": float(getattr(model, "log_likelihood_", np.nan)),
                "penalizer": float(getattr(model, "penalizer_used_", 0.0)),
                "customers": int(getattr(model, "n_customers_", 0)),
            }
        )
    return pd.DataFrame(rows)


def _issue_text(code: str, name: str, data: str, model: Any) -> str:
    """One fit issue in plain words, in the report language."""
    where = f"{name} ({_(data)})"
    if code == "not_converged":
        return _(
            "{model}: the fit stopped before it converged, so its parameters may not be the "
            "best ones for the data.",
            model=where,
        )
    if code == "at_bound":
        return _(
            "{model}: a parameter ran to the edge of its range: the data hardly tell its "
            "value (few repeat buyers, a short history, or a model that does not fit).",
            model=where,
        )
    if code == "se_undefined":
        return _(
            "{model}: the standard errors cannot be computed (the fit is flat in some "
            "direction), so how precise it is is unknown.",
            model=where,
        )
    if code == "penalized":
        if getattr(model, "plain_fit_issues_", None):
            return _(
                "{model}: the plain maximum-likelihood fit diverged, so the model was fitted "
                "again with a small penalty (penalizer = {penalizer:g}) that keeps its "
                "parameters finite; its forecasts lean slightly towards average customers.",
                model=where,
                penalizer=model.penalizer_used_,
            )
        return _(
            "{model}: fitted with the penalty set in the report's parameters (penalizer = "
            "{penalizer:g}).",
            model=where,
            penalizer=model.penalizer_used_,
        )
    if code == "mean_undefined":
        return _(
            "{model}: the average order value model has no finite mean (q = {q:.2f}, at most "
            "1: order values are very spread out). Each customer's expected order value is "
            "their own average shrunk towards the median of the repeat buyers' averages "
            "({median:,.0f}) instead; customers without repeat purchases get that median.",
            model=where,
            q=model.params_["q"],
            median=getattr(model, "median_repeat_spend_", np.nan),
        )
    return ""  # no other codes in the fit contract


def fit_notes(comparison: HoldoutComparison, value: CustomerValue) -> list[str]:
    """What an analyst should know about the report's fits, in plain words in the report
    language: purchase models that could not be fitted at all, each fit's issues
    (``fit_issues_``) and the customers the spend model left out."""
    notes = [
        _(
            "{model} could not be fitted on these data and is left out of the comparison.",
            model=name,
        )
        for name in PURCHASE_MODELS
        if name not in comparison.fitted_models
    ]
    for name, data, model in _fits(comparison, value):
        texts = (_issue_text(code, name, data, model) for code in model.fit_issues_)
        notes.extend(text for text in texts if text)
    excluded = int(getattr(value.spend_model, "n_zero_value_excluded_", 0))
    if excluded:
        notes.append(
            n_(
                "Gamma-Gamma: {n} repeat buyer whose repeat purchases were all free is left out "
                "of the average order value fit; they are valued like everyone else.",
                "Gamma-Gamma: {n} repeat buyers whose repeat purchases were all free are left "
                "out of the average order value fit; they are valued like everyone else.",
                excluded,
            )
        )
    return notes


def fit_finding(comparison: HoldoutComparison, value: CustomerValue) -> Finding | None:
    """For managers, when a fit needed help: a fallback penalty, an undefined mean order value
    or a model that could not be fitted cleanly; ``None`` when every fit was plain."""
    fits = _fits(comparison, value)
    fallback = sorted({n for n, _d, m in fits if getattr(m, "plain_fit_issues_", None)})
    unusable = sorted({n for n, _d, m in fits if not getattr(m, "usable_", True)})
    no_mean = not getattr(value.spend_model, "mean_defined_", True)
    if not (fallback or unusable or no_mean):
        return None
    sentences = []
    if fallback:
        sentences.append(
            _(
                "The plain fit of {models} did not settle on finite values, so a small penalty "
                "was added to fit them; their forecasts are usable but lean slightly towards "
                "average customers.",
                models=", ".join(fallback),
            )
        )
    if unusable:
        sentences.append(
            _(
                "{models} could not be fitted cleanly even so and were not used to choose a model.",
                models=", ".join(unusable),
            )
        )
    if no_mean:
        sentences.append(
            _(
                "Order values are so spread out that the average order value model has no "
                "finite mean; each customer's expected order value is their own average, "
                "pulled towards the typical customer's."
            )
        )
    return Finding(
        _("How the models were fitted"),
        " ".join(sentences),
        _("The block for analysts below says what happened in each fit."),
        "warning" if unusable else "info",
    )
