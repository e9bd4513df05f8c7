"""Plain-language findings: what a report section concludes and what to do about it.

A :class:`Finding` is a section's conclusion; an :class:`Action` is one thing a report says to
do, with the money at stake (the runner writes them to ``<report>.actions.json``,
:mod:`custkit.reports.actions`). Both are in the core layer so the analyses build them without
importing the report layer.

Compute functions return :class:`Finding` objects built from the numbers; the report layer only
displays them. Nothing a manager reads as a conclusion is typed into a notebook by hand.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from custkit.units import UNITS

Level = Literal["good", "info", "warning", "bad"]


@dataclass(frozen=True)
class Finding:
    """One section's conclusion and recommended action.

    Attributes
    ----------
    title : str
        Section name, e.g. ``"Base health"``.
    conclusion : str
        One sentence with the key number(s), e.g. ``"The base lost 18% of its buyers in a year."``.
    action : str
        One sentence saying what to do.
    level : {"good", "info", "warning", "bad"}
        How the conclusion compares with the norm; drives the colour in the HTML.
    """

    title: str
    conclusion: str
    action: str
    level: Level = "info"


_EXPORT_RE = re.compile(r"[\w][\w.-]*")


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


@dataclass(frozen=True)
class Action:
    """One thing a report says to do, with what it is worth.

    Attributes
    ----------
    title : str
        What to do, in a few words, in the report language ("Win back customers who stopped
        buying").
    line : str
        One plain sentence in the report language: who is on the list and where the money
        comes from.
    value : float or None
        The money at stake, in the store's currency (None when the report cannot put a figure on
        it: such actions rank after those that can).
    unit : str
        The unit of *value* (:data:`custkit.units.UNITS`); ``"money"`` for every action the
        reports declare today.
    export : str or None
        The export the action works from: ``exports/<export>.csv`` (and ``.xlsx``) in the
        report's folder.
    customers : int or None
        How many customers the list holds.
    report : str
        The report that declared it; :meth:`ReportContext.save_actions
        <custkit.reports.context.ReportContext.save_actions>` fills it in.
    """

    title: str
    line: str
    value: float | None
    unit: str = "money"
    export: str | None = None
    customers: int | None = None
    report: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.title, str) or not self.title.strip():
            raise ValueError(f"Action title must be a non-empty text. Got {self.title!r} instead.")
        if not isinstance(self.line, str):
            raise ValueError(f"Action line must be a text. Got {self.line!r} instead.")
        if self.unit not in UNITS:
            raise ValueError(
                f"Action unit must be one of {list(UNITS)}. Got {self.unit!r} instead."
            )
        if self.value is not None:
            if not _is_number(self.value):
                raise ValueError(
                    f"Action value must be a finite number or None. Got {self.value!r} instead."
                )
            object.__setattr__(self, "value", float(self.value))
        if self.export is not None and not _EXPORT_RE.fullmatch(str(self.export)):
            raise ValueError(
                "Action export must be the name of an export such as 'winback_contacts'. "
                f"Got {self.export!r} instead."
            )
        if self.customers is not None:
            if not _is_number(self.customers) or self.customers < 0:
                raise ValueError(
                    "Action customers must be a count of 0 or more. "
                    f"Got {self.customers!r} instead."
                )
            object.__setattr__(self, "customers", int(self.customers))

    @classmethod
    def from_dict(cls, entry: Mapping[str, Any]) -> Action:
        """An action from one entry of an ``actions.json`` (unknown keys are ignored)."""
        known = {k: entry[k] for k in cls.__dataclass_fields__ if k in entry}
        return cls(**known)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
