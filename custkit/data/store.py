"""A loaded store: the canonical tables, validated, with the accounting of every input row."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from custkit.params import Params


@dataclass(frozen=True)
class TableAccounting:
    """What happened to the rows of one input table: ``read == accepted + rejected``.

    Attributes
    ----------
    table : str
        Canonical table name.
    source : str
        Where the rows came from (file path(s) or a database URL with the password masked).
    read, accepted, rejected : int
        Row counts.
    reasons : Mapping[str, int]
        Rejected rows per reason code (e.g. ``"unparseable_date"``).
    quarantine : str or None
        File the rejected rows were written to, once written.
    notes : tuple of str
        Things worth knowing that reject nothing (missing optional columns, orders whose customer
        is not in the customers table, …).
    """

    table: str
    source: str
    read: int
    accepted: int
    rejected: int
    reasons: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    quarantine: str | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """JSON-ready form used by ``custkit validate --json`` and ``kpis.json``."""
        return {
            "source": self.source,
            "read": self.read,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "reasons": dict(self.reasons),
            "quarantine": self.quarantine,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Store:
    """A store's validated data in the canonical model (:mod:`custkit.contract`).

    Attributes
    ----------
    name : str
        Store name from params (shown in report headers).
    orders : pandas.DataFrame
        Accepted orders, canonical columns only; ids as read (int64 or string), dates as
        ``datetime64``, amounts as ``float64``, small vocabularies as ``category``.
    customers, feedback, messages, experiments : pandas.DataFrame or None
        The other tables, when the params name a source for them.
    accounting : Mapping[str, TableAccounting]
        Per table, what was read, accepted and rejected.
    rejected : Mapping[str, pandas.DataFrame]
        Per table, the rejected rows as read plus ``row`` (1-based row number in the source) and
        ``reason`` columns.
    params : Params
        The params the store was loaded with.

    The tables are fixed once loaded; :meth:`release` lets go of ones a report has finished with.
    """

    name: str
    orders: pd.DataFrame
    customers: pd.DataFrame | None
    feedback: pd.DataFrame | None
    messages: pd.DataFrame | None
    experiments: pd.DataFrame | None
    accounting: MappingProxyType
    rejected: MappingProxyType
    params: Params

    def release(self, *tables: str) -> None:
        """Let go of loaded tables that the rest of a report no longer reads.

        The table's attribute becomes None and its memory is freed once nothing else refers to
        it: on a store with 10M orders the orders table alone holds about 0.7 GB, which a report
        that has already reduced them (:func:`custkit.data.reduce.reduce_orders`) need not keep
        until its last figure. The accounting of the table stays.

        Raises
        ------
        ParamsError
            For a name that is not a table of the canonical model.
        """
        from custkit.contract import TABLES
        from custkit.errors import ParamsError, did_you_mean

        for table in tables:
            if table not in TABLES:
                raise ParamsError(
                    f"release() takes canonical table names {list(TABLES)}. Got {table!r} "
                    f"instead.{did_you_mean(str(table), TABLES)}"
                )
        for table in tables:
            object.__setattr__(self, table, None)  # frozen against mistakes, not against this
