"""The data layer: canonical contract, loading and validation, periods, shared reductions."""

from custkit.data.contract import TABLES, Column, Table
from custkit.data.load import load_store, write_quarantine
from custkit.data.periods import ReportPeriod, resolve_period
from custkit.data.store import Store, TableAccounting

__all__ = [
    "TABLES",
    "Column",
    "ReportPeriod",
    "Store",
    "Table",
    "TableAccounting",
    "load_store",
    "resolve_period",
    "write_quarantine",
]
