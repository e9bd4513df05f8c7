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
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

# the Action type is in the core layer, where the analyses declaring actions can reach it
from custkit.findings import Action as Action
from custkit.reports.files import write_text_atomic

ACTIONS_SUFFIX = ".actions.json"
#: Version of the file's layout, for readers of older files.
ACTIONS_FORMAT = 1


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
