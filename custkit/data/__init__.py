"""The data layer: canonical contract, loading and validation, periods, shared reductions."""

from custkit.contract import TABLES, Column, Table
from custkit.data.load import load_store, write_quarantine
from custkit.data.periods import ReportPeriod, resolve_period
from custkit.data.signals import reduce_order_signals
from custkit.data.store import Store, TableAccounting

__all__ = [
    "TABLES",
    "Column",
    "ReportPeriod",
    "Store",
    "Table",
    "TableAccounting",
    "load_store",
    "reduce_order_signals",
    "resolve_period",
    "write_quarantine",
]
