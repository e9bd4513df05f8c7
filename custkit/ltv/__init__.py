"""Customer lifetime value: purchase-count models (BTYD), spend model and their summary table.

``summarize(orders)`` builds the per-customer frequency / recency / T / monetary-value table;
``BGNBD``, ``MBGNBD``, ``ParetoNBD`` (purchases and P(alive)) and ``GammaGamma`` (spend per
purchase) are fitted on it, scikit-learn style: ``BGNBD().fit(summary).predict_purchases(...)``.
Every model stores the summary's time unit. See :mod:`custkit.ltv.base` for the shared machinery
and why it is our own code rather than ``lifetimes``.
"""

from importlib import import_module

# Imported on first use: ``import custkit.ltv`` stays quick and one model's module never
# breaks another's import.
_LAZY = {
    "BaseFitter": "custkit.ltv.base",
    "ConvergenceWarning": "custkit.ltv.base",
    "NotFittedError": "custkit.errors",
    "fit_with_fallback": "custkit.ltv.base",
    "FALLBACK_PENALIZER": "custkit.ltv.base",
    "ISSUE_CODES": "custkit.ltv.base",
    "BLOCKING_ISSUES": "custkit.ltv.base",
    "BGNBD": "custkit.ltv.bgnbd",
    "MBGNBD": "custkit.ltv.mbgnbd",
    "ParetoNBD": "custkit.ltv.paretonbd",
    "GammaGamma": "custkit.ltv.gammagamma",
    "summarize": "custkit.ltv.summary",
    "TIME_UNIT_DAYS": "custkit.ltv.summary",
    "READS": "custkit.ltv.report",
    "SECTIONS": "custkit.ltv.report",
    "check_inputs": "custkit.ltv.report",
    "compare_purchase_models": "custkit.ltv.report",
    "customer_value": "custkit.ltv.report",
    "CustomerValue": "custkit.ltv.report",
    "customer_groups": "custkit.ltv.report",
    "outlook_finding": "custkit.ltv.report",
    "tiers_finding": "custkit.ltv.report",
    "worth_finding": "custkit.ltv.report",
    "model_line": "custkit.ltv.report",
    "data_limits": "custkit.ltv.report",
    "holdout_table": "custkit.ltv.report",
    "model_label": "custkit.ltv.report",
    "ltv_kpis": "custkit.ltv.report",
    "customer_value_table": "custkit.ltv.report",
    "with_churn_rule": "custkit.ltv.report",
    "value_at_risk_list": "custkit.ltv.report",
    "value_at_risk_action": "custkit.ltv.actions",
    "PURCHASE_MODELS": "custkit.ltv.report",
    "customer_lifetime_value": "custkit.ltv.clv",
    "margin_rates": "custkit.ltv.clv",
    "importance_tiers": "custkit.ltv.clv",
    "value_at_risk": "custkit.ltv.clv",
    "tier_summary": "custkit.ltv.clv",
    "clv_by_group": "custkit.ltv.clv",
    "next_expected_order_date": "custkit.ltv.clv",
    "months_to_time_units": "custkit.ltv.clv",
    "ClippedValueWarning": "custkit.ltv.clv",
    "historic_profit": "custkit.ltv.profit",
    "cohort_profit": "custkit.ltv.profit",
    "value_to_annual_revenue": "custkit.ltv.profit",
    "value_ratio_finding": "custkit.ltv.profit",
    "SEED_VALUE_RATIO": "custkit.ltv.profit",
    "calibration_holdout_comparison": "custkit.ltv.validation",
    "HoldoutComparison": "custkit.ltv.validation",
    "naive_prediction": "custkit.ltv.validation",
    "tracking_data": "custkit.ltv.validation",
    "TrackingData": "custkit.ltv.validation",
}

__all__ = [
    "BGNBD",
    "BLOCKING_ISSUES",
    "FALLBACK_PENALIZER",
    "ISSUE_CODES",
    "MBGNBD",
    "PURCHASE_MODELS",
    "READS",
    "SECTIONS",
    "SEED_VALUE_RATIO",
    "TIME_UNIT_DAYS",
    "BaseFitter",
    "ClippedValueWarning",
    "ConvergenceWarning",
    "CustomerValue",
    "GammaGamma",
    "HoldoutComparison",
    "NotFittedError",
    "ParetoNBD",
    "TrackingData",
    "calibration_holdout_comparison",
    "check_inputs",
    "clv_by_group",
    "cohort_profit",
    "compare_purchase_models",
    "customer_groups",
    "customer_lifetime_value",
    "customer_value",
    "customer_value_table",
    "data_limits",
    "fit_with_fallback",
    "historic_profit",
    "holdout_table",
    "importance_tiers",
    "ltv_kpis",
    "margin_rates",
    "model_label",
    "model_line",
    "months_to_time_units",
    "naive_prediction",
    "next_expected_order_date",
    "outlook_finding",
    "summarize",
    "tier_summary",
    "tiers_finding",
    "tracking_data",
    "value_at_risk",
    "value_at_risk_action",
    "value_at_risk_list",
    "value_ratio_finding",
    "value_to_annual_revenue",
    "with_churn_rule",
    "worth_finding",
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'custkit.ltv' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
