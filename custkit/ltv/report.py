"""The steps of the LTV report that combine several models: choose a model, value every customer.

Each function here is what one section of ``notebooks/ltv.ipynb`` calls, so the notebook stays a
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
from custkit.i18n import N_, _, n_
from custkit.ltv.base import check_penalizer
from custkit.ltv.bgnbd import BGNBD
from custkit.ltv.clv import (
    _check_discount_rate,
    _check_horizon,
    _check_margin_rate,
    _check_tiers,
    customer_lifetime_value,
    importance_tiers,
    margin_rates,
    next_expected_order_date,
    value_at_risk,
)
from custkit.ltv.gammagamma import GammaGamma
from custkit.ltv.mbgnbd import MBGNBD
from custkit.ltv.paretonbd import ParetoNBD
from custkit.ltv.summary import check_time_unit, summarize
from custkit.ltv.validation import HoldoutComparison, calibration_holdout_comparison

#: What the LTV report loads: the order columns it needs (cost for margins; status to leave out
#: cancelled and returned orders) and the customer columns of its breakdowns and retention list.
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
    penalizer: float = 0.001,
    features: pd.DataFrame | None = None,
    max_customers: int | None = 50_000,
    random_state: int = 0,
) -> HoldoutComparison:
    """Fit every model of :data:`PURCHASE_MODELS` on all but the last *holdout_months* and
    compare their predictions for those months with what customers really bought.

    See :func:`custkit.ltv.validation.calibration_holdout_comparison` for the result. A small
    *penalizer* keeps BG/NBD's a and b from running away on stores where most customers buy once.
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
    """

    model_name: str
    purchase_model: Any
    spend_model: Any
    summary: pd.DataFrame
    clv: pd.DataFrame
    outlook: pd.DataFrame
    value_basis: str


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
    model_name: str,
    reductions: OrderReductions,
    horizons_months: Sequence[int] = (3, 6, 12),
    monthly_discount_rate: float = 0.01,
    margin_rate: float | None = None,
    tiers: Sequence[float] = (0.01, 0.05, 0.20),
    time_unit: str = "W",
    penalizer: float = 0.001,
) -> CustomerValue:
    """Fit *model_name* and Gamma-Gamma on all purchases up to *as_of* and value each customer.

    The margin is *margin_rate* when given, else each customer's own margin from the orders'
    ``cost`` column (shrunk towards the store's, :func:`custkit.ltv.margin_rates`), else revenue.
    Repeat buyers whose purchases were all free are left out of the Gamma-Gamma fit (it needs
    positive spend) and valued with it like everyone else.
    """
    if model_name not in PURCHASE_MODELS:
        raise ParamsError(
            f"model must be one of {list(PURCHASE_MODELS)}. Got {model_name!r} instead."
            + did_you_mean(str(model_name), PURCHASE_MODELS)
        )
    horizons = _check_value_rules(horizons_months, monthly_discount_rate, margin_rate, tiers)
    days = reductions if reductions.customer_days is not None else orders
    summary = summarize(days, as_of=as_of, time_unit=time_unit)
    model = PURCHASE_MODELS[model_name](penalizer=penalizer).fit(summary)
    # repeat buyers whose purchases were free (CDNOW has one) cannot inform a spend model
    # (Gamma-Gamma needs positive values): it is fitted without them and still values them
    free = (summary["frequency"].to_numpy() > 0) & (summary["monetary_value"].to_numpy() <= 0)
    spend = GammaGamma(penalizer=penalizer).fit(summary.loc[~free] if free.any() else summary)
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
    return CustomerValue(model_name, model, spend, summary, clv, outlook, basis)


def check_inputs(store, parameters: Mapping[str, Any]) -> None:
    """What the LTV report checks of its parameters before it fits anything.

    ``custkit validate`` runs this for every params file, so a value the report would refuse
    stops there, with the same message: it runs the checks :func:`compare_purchase_models` and
    :func:`customer_value` make first, with the arguments ``notebooks/ltv.ipynb`` passes them.

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
        "money": f" {currency}" if currency else "",
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
            money=f" {currency}" if currency else "",
        ),
        _(
            "Contact valuable customers whose chance of still buying is falling (the "
            "value-at-risk list) before offering discounts to anyone else; the best active "
            "customers need no discount."
        ),
        "warning" if at_risk > 0.2 * tiers["clv_total"].sum() else "info",
    )


def ltv_kpis(
    comparison: HoldoutComparison, value: CustomerValue
) -> Mapping[str, float | str | dict]:
    """Headline figures of the LTV report, for ``ltv.kpis.json``."""
    outlook = value.outlook.set_index("horizon_months")
    horizon = outlook.index.max()
    return {
        "model": value.model_name,
        "time_unit": value.purchase_model.time_unit_,
        "expected_purchases_12m": float(outlook.loc[horizon, "expected_purchases"]),
        "clv_12m_total": float(outlook.loc[horizon, "clv"]),
        "clv_12m_mean": float(value.clv["clv"].mean()),
        "p_alive_mean": float(value.clv["p_alive"].mean()),
        "value_at_risk": float(value.clv["value_at_risk"].sum()),
        "holdout_mae": comparison.metrics["mae"].to_dict(),
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
