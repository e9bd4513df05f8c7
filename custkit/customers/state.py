"""The customer-state table: one row per customer and period, the one customer truth.

Every figure is computed once, from the shared order reductions (:func:`custkit.reduce_orders`),
through the functions the reports use: the churn rule (:func:`custkit.churn.assess_churn`), the
LTV models (:func:`custkit.ltv.compare_purchase_models` to choose one as the LTV report does,
:func:`custkit.ltv.report.customer_value` to value each customer), the churn reasons
(:func:`custkit.churn.assign_reasons`) and the win-back plan (:func:`custkit.churn.winback_plan`).
Nothing here re-implements them: this module only joins and names their results.

Status (one definition, also in the README)
-------------------------------------------
Every customer with a purchase up to as-of has exactly one status at the end of the period
(the report month; as-of is its last day). The churn rule decides first, so that the table's
churned and at-risk customers are exactly the churn report's:

``churned``
    The churn rule says the customer has left (the gap since their last purchase passed their
    churn window) and the window ran out before the period began.
``lapsed``
    Churned by the same rule, with the window running out during the period: the customers the
    churn report counts as "stopped buying this month" and who have not come back since.
    ``lapsed`` and ``churned`` together are the churn rule's churned customers.
``at_risk``
    The churn rule's "at risk" (past the ``at_risk_quantile`` window, not yet the churn one).
``new``
    Not churned or at risk, and the first purchase is in the period.
``reactivated``
    Not churned or at risk, and ordered in the period after having been churned (a churn event
    of the rule whose return falls in the period).
``active``
    Everyone else: bought before the period, within their rhythm.

Customers in the customers table without a purchase up to as-of are not in the table (they
have no status): ``attrs["notes"]`` counts them.

P(alive), one rule for everyone
-------------------------------
``p_alive_model`` is the chosen purchase model's P(alive), exactly as the LTV report has it.
``p_alive`` is the figure to show: the model's, except for the customers the churn rule calls
churned (``churned`` and ``lapsed``), who get 0. BG/NBD gives every one-time buyer P(alive) = 1
whatever their age; the churn rule does not, and a one-time buyer past the store's window to a
second purchase is churned there, so the two never contradict each other on a page.
``p_alive_source`` says which rule gave the number (``model`` or ``churn_rule``).

Value
-----
``expected_orders_12m`` and ``value`` are the LTV report's (the model's expected purchases and
discounted value over ``horizon_months``, the same numbers as ``exports/customer_value.csv``):
margin when the store's orders have a cost column or params give a margin rate, else revenue;
``value_basis`` and ``attrs["value_basis"]`` say which. ``value_at_risk`` is
``value × (1 − p_alive)``: the LTV report's figure for customers the churn rule keeps, the whole
value for those it calls churned.

Stores with only orders (and customers) work: what their data cannot give (feedback evidence,
contact channels, the frequency cap) is empty, and ``attrs["notes"]`` says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from custkit.churn.report import READS as CHURN_READS
from custkit.data.periods import ReportPeriod
from custkit.data.reduce import OrderReductions, reduce_orders
from custkit.data.signals import reduce_order_signals
from custkit.errors import DataError, ParamsError
from custkit.i18n import N_

__all__ = ["STATUSES", "STATUS_LABELS", "StateOptions", "customer_state", "with_plan"]

#: Customer statuses, most urgent first (the module docstring defines each).
STATUSES = ("churned", "lapsed", "at_risk", "reactivated", "new", "active")

#: How pages and the customer card name each status (translated by ``custkit.i18n._``).
STATUS_LABELS = {
    "churned": N_("Churned earlier"),
    "lapsed": N_("Churned this month"),
    "at_risk": N_("At risk of churning"),
    "reactivated": N_("Came back this month"),
    "new": N_("New this month"),
    "active": N_("Active customer"),
}

#: The tables and optional columns the table is built from (``load_store(params, tables=...)``):
#: the churn report's but its experiments; they cover the LTV report's value (orders' cost, status)
#: and its own sections (:data:`custkit.ltv.READS`).
READS = {table: columns for table, columns in CHURN_READS.items() if table != "experiments"}

#: The parameters of the churn and LTV reports the table reads, by report.
_REPORT_KEYS = {
    "churn": (
        "churn_quantile",
        "at_risk_quantile",
        "one_time_window_days",
        "recent_orders",
        "served_regions",
        "reason_map",
        "winback_lookback_days",
        "max_messages",
        "cap_days",
        "assumed_return_rate",
    ),
    "ltv": (
        "time_unit",
        "holdout_months",
        "horizon_months",
        "monthly_discount_rate",
        "margin_rate",
        "penalizer",
        "tiers",
    ),
}


@dataclass(frozen=True)
class StateOptions:
    """The report parameters the table is computed with; defaults are the notebooks' defaults.

    Build it from a params file's report sections with :meth:`from_report_parameters` (the CLI
    passes :func:`custkit.reports.parameters.resolve_parameters` of the churn and LTV reports),
    so that the table and the reports use the same rule, models and plan.

    Parameters
    ----------
    churn_quantile, at_risk_quantile, one_time_window_days
        The churn rule (:class:`custkit.churn.ChurnRule`).
    recent_orders, served_regions, reason_map
        The churn reasons (:func:`custkit.churn.assign_reasons`).
    winback_lookback_days, max_messages, cap_days, assumed_return_rate, winback_margin_rate
        The win-back plan (:class:`custkit.churn.WinbackPolicy`); ``winback_margin_rate`` is the
        churn report's ``margin_rate``.
    time_unit, holdout_months, horizon_months, monthly_discount_rate, margin_rate, penalizer, tiers
        The LTV report's models and value.
    model : str or None
        Purchase model (``"BG/NBD"``, ``"MBG/NBD"``, ``"Pareto/NBD"``); None: chosen on a holdout
        as the LTV report chooses it (:func:`custkit.ltv.compare_purchase_models`, most of the
        table's time).
    """

    churn_quantile: float = 0.9
    at_risk_quantile: float = 0.75
    one_time_window_days: int | None = None
    recent_orders: int = 2
    served_regions: Sequence[str] = ()
    reason_map: Mapping[str, str] | None = None
    winback_lookback_days: int = 365
    max_messages: int = 3
    cap_days: int = 7
    assumed_return_rate: float = 0.6
    winback_margin_rate: float | None = None
    time_unit: str = "W"
    holdout_months: int = 6
    horizon_months: int = 12
    monthly_discount_rate: float = 0.01
    margin_rate: float | None = None
    penalizer: float = 0.0
    tiers: Sequence[float] = (0.01, 0.05, 0.2)
    model: str | None = None

    @classmethod
    def from_report_parameters(
        cls,
        churn: Mapping[str, Any] | None = None,
        ltv: Mapping[str, Any] | None = None,
        model: str | None = None,
    ) -> StateOptions:
        """The options from the churn and LTV reports' resolved parameters (other keys ignored)."""
        values: dict[str, Any] = {}
        for report, given in (("churn", churn or {}), ("ltv", ltv or {})):
            for key in _REPORT_KEYS[report]:
                if key in given:
                    values[key] = given[key]
        if (churn or {}).get("margin_rate") is not None:
            values["winback_margin_rate"] = churn["margin_rate"]
        values["served_regions"] = tuple(values.get("served_regions") or ())
        values["tiers"] = tuple(values.get("tiers") or cls.tiers)
        values["reason_map"] = dict(values.get("reason_map") or {}) or None
        return cls(**values, model=model)

    def as_dict(self) -> dict[str, Any]:
        """The options as plain values (for ``attrs``)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _period(period: ReportPeriod | str | None, as_of: pd.Timestamp) -> ReportPeriod:
    if period is None:
        month = ReportPeriod.from_string(f"{as_of:%Y-%m}")
        return ReportPeriod(month.period, month.start, as_of, complete=as_of == month.as_of)
    if isinstance(period, str):
        period = ReportPeriod.from_string(period)
    if not isinstance(period, ReportPeriod) or period.as_of != as_of:
        raise ParamsError(
            f"period must be the ReportPeriod whose as_of is {as_of:%Y-%m-%d}. "
            f"Got {period!r} instead."
        )
    return period


def _statuses(red: OrderReductions, assessment, period: ReportPeriod) -> pd.DataFrame:
    """The status of every customer of *red*, in its order (module docstring)."""
    ids = red.customers["customer_id"]
    rule = assessment.status.reindex(pd.Index(ids))
    rule_status = rule["status"].astype(str).to_numpy()
    churned = rule_status == "churned"
    at_risk = rule_status == "at_risk"
    churned_at = rule["churned_at"].to_numpy(dtype="datetime64[ns]")
    start = np.datetime64(period.start, "ns")
    lapsed = churned & (churned_at >= start)
    first = red.customers["first_order_date"].to_numpy(dtype="datetime64[ns]")
    new = first >= start
    events = assessment.events
    back = events["returned_at"].to_numpy(dtype="datetime64[ns]")
    in_period = (back >= start) & (back < np.datetime64(period.end, "ns"))
    reactivated = ids.isin(events["customer_id"].to_numpy()[in_period]).to_numpy()
    left = events["churned_at"].to_numpy(dtype="datetime64[ns]")
    left_in_period = (left >= start) & (left < np.datetime64(period.end, "ns"))
    churned_in_period = ids.isin(events["customer_id"].to_numpy()[left_in_period]).to_numpy()
    code = np.select(
        [lapsed, churned, at_risk, new, reactivated],
        [STATUSES.index(s) for s in ("lapsed", "churned", "at_risk", "new", "reactivated")],
        default=STATUSES.index("active"),
    )
    return pd.DataFrame(
        {
            "status": pd.Categorical.from_codes(code.astype(np.int8), categories=list(STATUSES)),
            "churn_window_days": rule["churn_window_days"].to_numpy(),
            "churned_at": rule["churned_at"].to_numpy(),
            "churned_in_period": churned_in_period,
        },
        index=pd.Index(ids),
    )


def _value(
    orders, red, as_of, options: StateOptions, notes: list[str], given: Any = None
) -> tuple[Any, str | None]:
    """The LTV report's :class:`~custkit.ltv.report.CustomerValue` (None when it cannot be had)."""
    from custkit.ltv.report import compare_purchase_models, customer_value

    if given is not None:
        _check_given_value(given, as_of, options)
        return given, given.model_name
    model = options.model
    if model is None:
        if orders is None:
            notes.append(
                "No LTV figures: reductions alone cannot choose a purchase model; pass "
                "StateOptions(model=...) or the store."
            )
            return None, None
        try:
            comparison = compare_purchase_models(
                orders,
                as_of,
                holdout_months=options.holdout_months,
                time_unit=options.time_unit,
                penalizer=options.penalizer,
            )
        except DataError as exc:  # e.g. no repeat buyer yet: statuses still stand without it
            notes.append(f"No LTV figures: {exc}")
            return None, None
        model = comparison.best_purchase_model
    if orders is None and red.customer_days is None:
        notes.append("No LTV figures: the reductions have no customer_days table.")
        return None, None
    try:
        value = customer_value(
            orders,
            as_of,
            model,
            red,
            horizons_months=[options.horizon_months],
            monthly_discount_rate=options.monthly_discount_rate,
            margin_rate=options.margin_rate,
            tiers=options.tiers,
            time_unit=options.time_unit,
            penalizer=options.penalizer,
            interval_draws=0,  # the total's interval is the LTV page's, not the table's
        )
    except DataError as exc:  # no model can be fitted on this history: no LTV columns
        notes.append(f"No LTV figures: {exc}")
        return None, None
    return value, model


def _check_given_value(value: Any, as_of: pd.Timestamp, options: StateOptions) -> None:
    """Refuse a CustomerValue that is not the one the options would compute."""
    horizon = int(value.outlook["horizon_months"].max())
    model = value.model_name
    as_of_given = pd.Timestamp(value.as_of).normalize() if hasattr(value, "as_of") else as_of
    wrong = []
    if horizon != options.horizon_months:
        wrong.append(f"horizon {horizon} months, the options say {options.horizon_months}")
    if options.model is not None and model != options.model:
        wrong.append(f"model {model!r}, the options say {options.model!r}")
    if as_of_given != as_of:
        wrong.append(f"as-of {as_of_given:%Y-%m-%d}, the table's is {as_of:%Y-%m-%d}")
    if wrong:
        raise ParamsError(
            "value must be the LTV report's CustomerValue of the same as-of date, horizon and "
            f"model as the table. Got {'; '.join(wrong)} instead."
        )


def _acquisition(red: OrderReductions, customers: pd.DataFrame | None) -> tuple[pd.Series, str]:
    ids = pd.Index(red.customers["customer_id"])
    if customers is not None and "acquisition_channel" in customers:
        known = customers.drop_duplicates("customer_id").set_index("customer_id")
        channel = known["acquisition_channel"].reindex(ids).astype("string")
        return channel.to_numpy(), "customers.acquisition_channel"
    if "first_order_channel" in red.customers:
        channel = red.customers["first_order_channel"].astype("string")
        return channel.to_numpy(), "orders.channel of the first order"
    return pd.array([pd.NA] * len(ids), dtype="string"), ""


def customer_state(
    store_or_reductions: Any,
    as_of: pd.Timestamp | str,
    *,
    period: ReportPeriod | str | None = None,
    options: StateOptions | None = None,
    risk_scores: pd.DataFrame | None = None,
    value: Any = None,
) -> pd.DataFrame:
    """Every customer's state at the end of a period, from the functions the reports use.

    Parameters
    ----------
    store_or_reductions : custkit.data.Store or OrderReductions
        The loaded store (every figure), or reductions with ``customer_days`` (status, P(alive),
        value with ``options.model`` given; no reasons, actions or channels: a note says so).
    as_of : Timestamp or str
        Last day of the period.
    period : ReportPeriod or str, optional
        The period ending at *as_of*; default its calendar month (from its first day).
    options : StateOptions, optional
        The reports' parameters; default the notebooks' defaults.
    risk_scores : pandas.DataFrame, optional
        :attr:`custkit.churn.ChurnRisk.scores` when the caller has fitted the churn-risk model
        (the churn report has): the win-back plan's incentives, and so ``next_action_text``,
        then match the report's for every target. Without it the plan counts every target as
        certain to stay away (:func:`custkit.churn.winback_targets`): on the demo (2026-10) the
        action, channel, contact and reason of all 6,014 targets still match the churn report's,
        the action text (with or without an incentive) of 5,470.
    value : custkit.ltv.CustomerValue, optional
        The LTV report's own :func:`custkit.ltv.customer_value` of this as-of date and the
        options' horizon (its longest): used as is instead of fitting the models again (the LTV
        report builds the table this way).

    Returns
    -------
    pandas.DataFrame
        One row per customer with a purchase up to *as_of*, by ``customer_id``: ``status``
        (:data:`STATUSES`, module docstring), ``first_order_date``, ``last_order_date``,
        ``orders``, ``revenue`` (to date), ``churn_window_days``, ``churned_at``,
        ``churned_in_period`` (a churn event of the rule dated in the period, whether or not the
        customer came back since: the churn report's "churned this month"), ``p_alive``,
        ``p_alive_model``, ``p_alive_source``, ``expected_orders_12m``, ``value``,
        ``value_basis``, ``tier``, ``value_at_risk``, ``churn_reason`` and ``reason_evidence``
        (churned and lapsed customers only), ``next_action``, ``next_action_text``,
        ``contact_channel``, ``contact`` and ``skip_reason`` (win-back targets only),
        ``acquisition_channel``, ``messages_in_cap_window`` and ``frequency_cap_ok``. No
        contact data. ``attrs``: ``as_of``, ``period``, ``model``, ``value_basis``,
        ``horizon_months``, ``options`` and ``notes`` (what the data could not give).
    """
    from custkit.churn.definition import ChurnRule, assess_churn

    options = options or StateOptions()
    if not isinstance(options, StateOptions):
        raise ParamsError(
            f"options must be a StateOptions, e.g. StateOptions(model='BG/NBD'). "
            f"Got {type(options).__name__} instead."
        )
    as_of = pd.Timestamp(as_of).normalize()
    period = _period(period, as_of)
    notes: list[str] = []
    if isinstance(store_or_reductions, OrderReductions):
        red, orders, customers, feedback, messages = store_or_reductions, None, None, None, None
        if red.as_of.normalize() != as_of:
            raise ParamsError(
                f"as_of must be the reductions' as-of date {red.as_of:%Y-%m-%d}. "
                f"Got {as_of:%Y-%m-%d} instead."
            )
        notes.append("Reductions only: no churn reasons, actions, channels or frequency cap.")
    else:
        store = store_or_reductions
        orders, customers = store.orders, store.customers
        feedback, messages = store.feedback, store.messages
        red = reduce_orders(orders, as_of, customer_days=True)

    rule = ChurnRule(
        churn_quantile=options.churn_quantile,
        at_risk_quantile=options.at_risk_quantile,
        one_time_window_days=options.one_time_window_days,
    )
    assessment = assess_churn(red, rule=rule)
    base = red.customers
    table = pd.DataFrame(
        {
            "customer_id": base["customer_id"].to_numpy(),
            "first_order_date": base["first_order_date"].to_numpy(),
            "last_order_date": base["last_order_date"].to_numpy(),
            "orders": base["orders"].to_numpy(),
            "revenue": base["revenue"].to_numpy(),
        }
    )
    statuses = _statuses(red, assessment, period)
    table.insert(1, "status", statuses["status"].array)
    table["churn_window_days"] = statuses["churn_window_days"].to_numpy()
    table["churned_at"] = statuses["churned_at"].to_numpy()
    table["churned_in_period"] = statuses["churned_in_period"].to_numpy()
    churned = table["status"].isin(["churned", "lapsed"]).to_numpy()

    value, model = _value(orders, red, as_of, options, notes, given=value)
    ids = pd.Index(table["customer_id"])
    if value is not None:
        clv = value.clv.reindex(ids)
        p_model = clv["p_alive"].to_numpy(dtype=np.float64)
        table["p_alive"] = np.where(churned, 0.0, p_model)
        table["p_alive_model"] = p_model
        table["expected_orders_12m"] = clv["expected_purchases"].to_numpy(dtype=np.float64)
        table["value"] = clv["clv"].to_numpy(dtype=np.float64)
        table["tier"] = clv["tier"].to_numpy()
        basis = value.value_basis
    else:
        nan = np.full(len(table), np.nan)
        table["p_alive"] = np.where(churned, 0.0, nan)
        table["p_alive_model"] = nan
        table["expected_orders_12m"] = nan
        table["value"] = nan
        table["tier"] = pd.Categorical([None] * len(table))
        basis = None
    table["p_alive_source"] = pd.Categorical(
        np.where(churned, "churn_rule", "model"), categories=["model", "churn_rule"]
    )
    table["value_basis"] = pd.Categorical([basis] * len(table))
    table["value_at_risk"] = table["value"].to_numpy() * (1.0 - table["p_alive"].to_numpy())

    _add_reasons_and_plan(
        table,
        red,
        assessment,
        period,
        options,
        notes,
        orders,
        customers,
        feedback,
        messages,
        risk_scores,
    )
    channel, source = _acquisition(red, customers)
    table["acquisition_channel"] = channel
    if not source:
        notes.append(
            "No acquisition channel: the store has no customers.acquisition_channel "
            "and no orders.channel."
        )
    _add_frequency_cap(table, messages, as_of, options, notes)
    if customers is not None:
        never = int((~customers["customer_id"].drop_duplicates().isin(ids)).sum())
        if never:
            notes.append(
                f"{never:,} customers of the customers table have no purchase up to "
                f"{as_of:%Y-%m-%d} and are not in the table."
            )
    table.attrs.update(
        {
            "as_of": f"{as_of:%Y-%m-%d}",
            "period": period.period,
            "model": model,
            "value_basis": basis,
            "horizon_months": options.horizon_months,
            "acquisition_channel_source": source,
            "options": options.as_dict(),
            "notes": notes,
        }
    )
    return table


def _add_reasons_and_plan(
    table,
    red,
    assessment,
    period,
    options,
    notes,
    orders,
    customers,
    feedback,
    messages,
    risk_scores=None,
) -> None:
    """Churn reason with evidence (churned only), next action and channel (win-back targets)."""
    from custkit.audit.rfm import rfm_scores
    from custkit.churn.reasons import assign_reasons, stayer_signals
    from custkit.churn.report import value_if_kept, winback_targets
    from custkit.churn.winback import WinbackPolicy, winback_plan

    empty = pd.array([pd.NA] * len(table), dtype="string")
    for column in ("churn_reason", "reason_evidence", "next_action", "next_action_text"):
        table[column] = empty
    table["contact_channel"] = empty
    table["contact"] = pd.array([pd.NA] * len(table), dtype="boolean")
    table["skip_reason"] = empty
    if orders is None:
        return
    as_of = red.as_of.normalize()
    signals = reduce_order_signals(orders, as_of, recent_orders=options.recent_orders)
    stayed = stayer_signals(orders, as_of, recent_orders=options.recent_orders)
    texts = None
    if feedback is not None and "text" in feedback:
        from custkit.churn.text import classify_feedback

        texts = classify_feedback(feedback, reason_map=dict(options.reason_map or {}))
    else:
        notes.append("No feedback texts: churn reasons come from the orders and messages only.")
    reasons = assign_reasons(
        assessment.status,
        signals,
        as_of,
        texts,
        feedback,
        messages,
        list(options.served_regions) or None,
        customers,
        stayed=stayed,
    )
    ids = pd.Index(table["customer_id"])
    found = reasons.reasons.reindex(ids)
    churned = table["status"].isin(["churned", "lapsed"]).to_numpy()
    reason = found["reason"].astype("string")
    table["churn_reason"] = reason.where(churned, pd.NA).to_numpy()
    evidence = found["evidence"].astype("string")
    table["reason_evidence"] = evidence.where(churned & reason.notna().to_numpy(), pd.NA).to_numpy()

    policy = WinbackPolicy(
        max_messages=options.max_messages,
        cap_days=options.cap_days,
        served_regions=list(options.served_regions) or None,
        assumed_return_rate=options.assumed_return_rate,
    )
    kept = value_if_kept(red, options.winback_margin_rate)
    targets = winback_targets(
        assessment.status, reasons.reasons, risk_scores, kept, as_of, options.winback_lookback_days
    )
    segments = rfm_scores(red, period).set_index("customer_id")["segment"]
    plan = winback_plan(
        targets, customers, messages, policy, as_of + pd.Timedelta(days=1), segments=segments
    )
    _set_plan_columns(table, plan.plan)
    if customers is None:
        notes.append("No customers table: no one can be contacted (no consents or contacts).")


def _set_plan_columns(table: pd.DataFrame, plan: pd.DataFrame) -> None:
    """The win-back plan's action, text, channel, contact and skip reason, by customer."""
    found = plan.set_index("customer_id").reindex(pd.Index(table["customer_id"]))
    table["next_action"] = found["action"].astype("string").to_numpy()
    table["next_action_text"] = found["action_text"].astype("string").to_numpy()
    table["contact_channel"] = found["channel"].astype("string").to_numpy()
    table["contact"] = found["contact"].astype("boolean").array
    table["skip_reason"] = found["skip_reason"].astype("string").to_numpy()


def with_plan(table: pd.DataFrame, plan: Any) -> pd.DataFrame:
    """*table* with its next actions taken from the churn report's own win-back plan.

    The churn report plans with its fitted churn-risk scores and its past campaigns' measured
    return rate; the table built without them plans as :func:`customer_state` says. Statuses,
    P(alive), value and every shared figure are unchanged: only ``next_action``,
    ``next_action_text``, ``contact_channel``, ``contact`` and ``skip_reason`` are replaced.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`customer_state`.
    plan : custkit.churn.WinbackPlan
        The churn report's :func:`custkit.churn.winback_plan`.

    Returns
    -------
    pandas.DataFrame
        A copy; ``attrs["plan"]`` is ``"churn report"``.
    """
    planned = table.copy()
    _set_plan_columns(planned, plan.plan)
    planned.attrs = {**table.attrs, "plan": "churn report"}
    return planned


def _add_frequency_cap(table, messages, as_of, options: StateOptions, notes: list[str]) -> None:
    from custkit.churn.winback import WinbackPolicy, frequency_cap_ok

    if messages is None:
        table["messages_in_cap_window"] = pd.array([pd.NA] * len(table), dtype="Int64")
        table["frequency_cap_ok"] = pd.array([pd.NA] * len(table), dtype="boolean")
        notes.append("No messages table: the frequency cap cannot be checked.")
        return
    policy = WinbackPolicy(max_messages=options.max_messages, cap_days=options.cap_days)
    cap = frequency_cap_ok(messages, table["customer_id"], as_of + pd.Timedelta(days=1), policy)
    table["messages_in_cap_window"] = cap["messages_in_window"].to_numpy()
    table["frequency_cap_ok"] = cap["cap_ok"].to_numpy()
