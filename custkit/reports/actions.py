"""What a report says to do, machine-readable: ``<report>.actions.json`` beside its ``kpis.json``.

A report declares its actions when it runs (``ctx.save_actions([...])``, at the end of the cell
that writes the lists): each action has a title and one plain line in the report language, the
money at stake (in the store's currency), the export list it points to
(``exports/<name>.csv`` / ``.xlsx`` in the report's folder) and the report it comes from. The
monthly summary page (:mod:`custkit.reports.summary`) reads every report's file of a month and
shows the most valuable actions first; it never reruns a report.

The file holds only figures and sentences the report's page shows too: no customer is named in
it, and the runner refuses to publish a report whose actions show the store's contact data, as
it does for ``kpis.json``.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from custkit.reports.files import write_text_atomic
from custkit.units import UNITS

ACTIONS_SUFFIX = ".actions.json"
#: Version of the file's layout, for readers of older files.
ACTIONS_FORMAT = 1
_EXPORT_RE = re.compile(r"[\w][\w.-]*")


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


class UnreadableActions(ValueError):
    """An ``actions.json`` that cannot be used; the message says why."""


def actions_path(folder: str | os.PathLike[str], report: str) -> Path:
    """``<folder>/<report>.actions.json``."""
    return Path(folder) / f"{report}{ACTIONS_SUFFIX}"


def write_actions(
    folder: str | os.PathLike[str],
    report: str,
    actions: Iterable[Action],
    *,
    period: str = "",
    store: str = "",
    currency: str = "",
    language: str = "",
) -> Path:
    """Write *actions* of *report* to ``<folder>/<report>.actions.json`` atomically.

    Each action's ``report`` is set to *report*. The file replaces any earlier one: a report
    declares all its actions of a run in one call. An empty list is written too (the report
    ran and has nothing to propose).
    """
    entries = []
    for action in actions:
        if not isinstance(action, Action):
            raise TypeError(
                f"Actions must be custkit.reports.actions.Action objects. Got {action!r} instead."
            )
        entries.append({**action.to_dict(), "report": report})
    document = {
        "format": ACTIONS_FORMAT,
        "report": report,
        "period": period,
        "store": store,
        "currency": currency,
        "language": language,
        "actions": entries,
    }
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)
    return write_text_atomic(actions_path(folder, report), text + "\n")


def read_actions(path: str | os.PathLike[str]) -> list[Action]:
    """The actions of one ``actions.json``.

    Raises
    ------
    UnreadableActions
        The file cannot be read, is not JSON, or an entry is not an action.
    """
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableActions(f"it cannot be read ({exc})") from None
    except ValueError as exc:
        raise UnreadableActions(f"it is not valid JSON ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("actions"), list):
        raise UnreadableActions("it has no 'actions' list: not an actions file of a custkit report")
    report = str(document.get("report") or Path(path).name.removesuffix(ACTIONS_SUFFIX))
    actions = []
    for number, entry in enumerate(document["actions"], start=1):
        if not isinstance(entry, Mapping):
            raise UnreadableActions(f"action {number} is not a mapping")
        try:
            action = Action.from_dict({"report": report, **entry})
        except (TypeError, ValueError) as exc:
            raise UnreadableActions(f"action {number}: {exc}") from None
        actions.append(action)
    return actions


def rank_actions(actions: Sequence[Action], n: int = 3) -> list[Action]:
    """The *n* most valuable of *actions*: money first, by value, largest first; then the others
    (no figure, or not money) in the order given. Ties keep the order given."""
    order = sorted(
        range(len(actions)),
        key=lambda i: (
            not (actions[i].unit == "money" and actions[i].value is not None),
            -(actions[i].value or 0.0) if actions[i].unit == "money" else 0.0,
            i,
        ),
    )
    return [actions[i] for i in order[:n]]


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )
