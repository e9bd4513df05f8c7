"""The unit of each KPI a report saves: what the number counts, so pages format it right.

A report's kpi function (``audit.headline_kpis``, ``ltv.ltv_kpis``, ``churn.churn_kpis``,
``splittest.splittest_kpis``) returns a :class:`Kpis`: the plain KPI mapping, plus ``units``
naming the unit of each numeric KPI. ``ctx.save_kpis`` writes that mapping to ``kpis.json``
beside the KPIs, and the index page and the month-to-month comparisons format each figure by
it: an AUC of 0.72 is a score, never money; expected purchases are a count.

Units:

- ``count``: customers, orders, purchases (``1,234``); changes in per cent;
- ``money``: in the store's currency (``1,234 RUB``, ``1 234 ₽``); changes in per cent;
- ``share``: a fraction of a whole, 0..1 (``23.4%``); changes in percentage points;
- ``percent``: a share already in per cent (``total_error_pct`` = 15.5 is 15.5%); changes in
  percentage points;
- ``ratio``: one amount over another that is not a share (``1.25×``); changes in per cent;
- ``days``: a length of time (``30 days``); changes in per cent;
- ``score``: a model's quality measure such as ROC-AUC (``0.72``); changes as a difference.

A unit may be declared for a mapping KPI as a whole (``"reason_shares": "share"``) or per
member (``"holdout_mae.bg_nbd"``). This module imports nothing else of custkit, so every layer
can use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Unit = Literal["count", "money", "share", "percent", "ratio", "days", "score"]
#: Every unit a KPI may declare.
UNITS: tuple[str, ...] = ("count", "money", "share", "percent", "ratio", "days", "score")


class Kpis(dict):
    """A report's KPIs (a plain ``dict``) with the unit of each numeric one in ``units``.

    Parameters
    ----------
    kpis : mapping
        KPI name → value (a number, text, or a mapping one level deep).
    units : mapping of str to str
        KPI name (or ``"parent.member"``) → one of :data:`UNITS`.

    Raises
    ------
    ValueError
        A unit outside :data:`UNITS`.
    """

    def __init__(self, kpis: Mapping[str, Any] = (), units: Mapping[str, str] = ()) -> None:
        super().__init__(kpis)
        self.units: dict[str, str] = check_units(units)

    def with_units(self, units: Mapping[str, str]) -> Kpis:
        """A copy whose units are these plus *units* (which win)."""
        return Kpis(self, {**self.units, **check_units(units)})

    def update(self, *args: Any, **kwargs: Any) -> None:
        """``dict.update``; units of a :class:`Kpis` given are taken over too."""
        for other in args:
            if isinstance(other, Kpis):
                self.units.update(other.units)
        super().update(*args, **kwargs)


def check_units(units: Mapping[str, str]) -> dict[str, str]:
    """*units* as a dict, each checked to be one of :data:`UNITS`."""
    checked = dict(units)
    for name, unit in checked.items():
        if unit not in UNITS:
            raise ValueError(
                f"Unit of KPI {name!r} must be one of {list(UNITS)}. Got {unit!r} instead."
            )
    return checked


def declared_unit(name: str, units: Mapping[str, str]) -> str | None:
    """The unit *units* declares for KPI *name* (``"reason_shares.forgot"`` falls back to the
    unit of ``"reason_shares"``), or None."""
    if name in units:
        return units[name]
    parent, dot, _member = name.partition(".")
    return units.get(parent) if dot else None
