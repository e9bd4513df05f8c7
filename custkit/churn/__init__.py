"""Churn: who is leaving, why, and the win-back plan.

- :mod:`~custkit.churn.definition`: when a customer has churned or is at risk (their own purchase
  rhythm or the store's, whichever fires first; a window for one-time buyers), dated churn events,
  monthly churn, and the rule's precision and recall measured out of time;
- :mod:`~custkit.churn.text`: a reason code for every review, ticket and survey answer, from a
  model trained on the store's labelled feedback or from seed keyword lists (Russian, English);
- :mod:`~custkit.churn.labels`: the store's own feedback reasons as reason codes (``reason_map``);
- :mod:`~custkit.churn.reasons`: each leaver's primary reason and each at-risk customer's risk
  driver, weighed against customers who stayed, with the evidence shown;
- :mod:`~custkit.churn.features` and :mod:`~custkit.churn.risk`: the churn-risk model;
- :mod:`~custkit.churn.winback`: actions, channels, incentives, the frequency cap, and what past
  win-back campaigns brought back;
- :mod:`~custkit.churn.report`: the summaries and findings of ``custkit/notebooks/churn.ipynb``.
"""

from importlib import import_module

_MODULES = {
    "codes": ("NO_SIGN_LABEL", "REASON_CODES", "REASON_LABELS", "reason_label"),
    "definition": (
        "METHODS",
        "STATUSES",
        "ChurnAssessment",
        "ChurnRule",
        "RuleBacktest",
        "StoreRhythm",
        "assess_churn",
        "backtest_rule",
        "churn_events",
        "churn_status",
        "monthly_churn",
    ),
    "text": (
        "KEYWORDS",
        "NEGATED_PRAISE_KEYWORDS",
        "PRAISE_KEYWORDS",
        "WEAK_KEYWORDS",
        "ClassifierEvaluation",
        "ReasonClassifier",
        "classify_feedback",
        "evaluate_classifier",
        "keyword_reasons",
        "normalize_texts",
        "strip_pii",
    ),
    "labels": ("check_reason_map", "feedback_labels"),
    "reasons": ("ReasonAssignment", "assign_reasons", "sign_label", "stayer_signals"),
    "features": ("FEATURE_LABELS", "churn_features", "feature_label"),
    "risk": (
        "ACTIVE_DAYS",
        "HORIZON_DAYS",
        "MODEL_LABELS",
        "ChurnRisk",
        "ChurnRiskModel",
        "RiskEvaluation",
        "RiskTrainingData",
        "churn_risk",
        "evaluate_risk_model",
        "risk_training_data",
    ),
    "actions": ("winback_action",),
    "campaigns": ("REVIEW_SETTINGS", "CampaignEvaluation", "evaluate_campaigns"),
    "winback": (
        "ACTIONS",
        "WinbackPlan",
        "WinbackPolicy",
        "channel_label",
        "choose_channels",
        "contact_list",
        "frequency_cap_ok",
        "incentives",
        "winback_plan",
    ),
    "report": (
        "READS",
        "SECTIONS",
        "TABLE_FORMATS",
        "annual_revenue",
        "at_risk_finding",
        "at_risk_summary",
        "campaigns_shown",
        "check_inputs",
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
    ),
}
# Imported on first use: ``import custkit.churn`` stays quick (no scikit-learn) and one module's
# import never breaks another's.
_LAZY = {name: f"custkit.churn.{module}" for module, names in _MODULES.items() for name in names}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'custkit.churn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
