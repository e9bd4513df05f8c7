"""Churn: why customers left, read from reviews, support tickets and survey answers.

:mod:`custkit.churn.text` gives every feedback row a reason code (:data:`REASON_CODES`), from a
model trained on the store's labelled feedback or, without labels, from seed keyword lists.
"""

from importlib import import_module

# Imported on first use: ``import custkit.churn`` stays quick (no scikit-learn) and one module's
# import never breaks another's.
_LAZY = {
    "REASON_CODES": "custkit.churn.text",
    "REASON_LABELS": "custkit.churn.text",
    "KEYWORDS": "custkit.churn.text",
    "WEAK_KEYWORDS": "custkit.churn.text",
    "PRAISE_KEYWORDS": "custkit.churn.text",
    "NEGATED_PRAISE_KEYWORDS": "custkit.churn.text",
    "ReasonClassifier": "custkit.churn.text",
    "ClassifierEvaluation": "custkit.churn.text",
    "evaluate_classifier": "custkit.churn.text",
    "keyword_reasons": "custkit.churn.text",
    "classify_feedback": "custkit.churn.text",
    "normalize_texts": "custkit.churn.text",
    "strip_pii": "custkit.churn.text",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'custkit.churn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
