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
    "NotFittedError": "custkit.ltv.base",
    "BGNBD": "custkit.ltv.bgnbd",
    "MBGNBD": "custkit.ltv.mbgnbd",
    "ParetoNBD": "custkit.ltv.paretonbd",
    "GammaGamma": "custkit.ltv.gammagamma",
    "summarize": "custkit.ltv.summary",
    "TIME_UNIT_DAYS": "custkit.ltv.summary",
}

__all__ = [
    "BGNBD",
    "MBGNBD",
    "TIME_UNIT_DAYS",
    "BaseFitter",
    "ConvergenceWarning",
    "GammaGamma",
    "NotFittedError",
    "ParetoNBD",
    "summarize",
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'custkit.ltv' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
