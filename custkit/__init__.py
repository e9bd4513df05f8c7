"""custkit: customer-base research kit for online stores.

Analysts use it from JupyterLab; the monthly reports (``custkit/notebooks/``) are thin layers over
the functions here::

    import custkit as ck

    store = ck.load_store("params/demo.yaml")
    period = ck.ReportPeriod.from_string("2026-10")
    red = ck.reduce_orders(store.orders, period.as_of)
    ck.audit.kpi_comparison(red, period)

Subpackages (``audit``, ``plots``, ``reports``) are imported on first use, so ``import custkit``
stays quick.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("custkit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

_LAZY = {
    "load_store": "custkit.data.load",
    "write_quarantine": "custkit.data.load",
    "load_params": "custkit.params",
    "ReportPeriod": "custkit.data.periods",
    "reduce_orders": "custkit.data.reduce",
    "purchases": "custkit.data.reduce",
    "Finding": "custkit.findings",
    "set_language": "custkit.i18n",
    "tr": "custkit.i18n",
}
_SUBPACKAGES = (
    "audit",
    "churn",
    "customers",
    "data",
    "datasets",
    "ltv",
    "plots",
    "reports",
    "schedule",
    "splittest",
    "errors",
    "i18n",
)

__all__ = ["__version__", *_LAZY, *_SUBPACKAGES]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    if name in _SUBPACKAGES:
        return import_module(f"custkit.{name}")
    raise AttributeError(f"module 'custkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
