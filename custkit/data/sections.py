"""Which report sections a store's data can fill, and why the others are skipped.

A store may have only orders, or customers without birthdays or consents. A report declares,
per section, the tables and columns it needs (:class:`Section`, next to the report's ``READS``);
:func:`skipped_sections` compares them with the loaded store once, at the start of the report.
The header then names every skipped section in one plain line ("Birthday list: skipped — the
customers table has no birth_date column"), and the notebook asks ``ctx.section("birthdays")``
before it runs one. An optional column never stops a report; it only skips what needs it.

A column counts as there when the table has it with at least one value: a column exported
empty says as little as a missing one. The report layer shows the lines
(:func:`custkit.reports.display.skipped_html`); this module only reads the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from custkit.contract import TABLES
from custkit.i18n import _

if TYPE_CHECKING:
    from custkit.data.store import Store


@dataclass(frozen=True)
class Section:
    """What one report section needs from the store.

    Attributes
    ----------
    title : str
        The section's name for managers, in English (shown translated; mark it with
        :func:`custkit.i18n.N_` where it is declared).
    needs : tuple of str
        Every one of these must be there: ``"customers"`` (the table) or
        ``"customers.birth_date"`` (a column with values).
    any_of : tuple of str
        At least one of these must be there (e.g. the customers' acquisition channel or the
        orders' sales channel, either of which a breakdown can use).
    """

    title: str
    needs: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for item in (*self.needs, *self.any_of):
            table, dot, column = item.partition(".")
            if table not in TABLES or (dot and column not in TABLES[table].names):
                raise ValueError(
                    f"Section needs must be 'table' or 'table.column' of the data contract. "
                    f"Got {item!r} instead."
                )


def section(title: str, *needs: str, any_of: Sequence[str] = ()) -> Section:
    """``section(N_("Birthday list"), "customers.birth_date")``: a :class:`Section`."""
    return Section(title, tuple(needs), tuple(any_of))


def missing(store: Store, item: str) -> str | None:
    """Why *item* (``"table"`` or ``"table.column"``) is not in *store*, in plain words, or None."""
    table, _dot, column = item.partition(".")
    frame = getattr(store, table, None)
    if frame is None:
        return _("the data has no {table} table", table=_(table))
    if not column:
        return None
    if column not in frame.columns:
        return _("the {table} table has no {column} column", table=_(table), column=column)
    if len(frame) and not frame[column].notna().any():
        return _(
            "the {column} column of the {table} table is empty",
            table=_(table),
            column=column,
        )
    return None


def skip_reason(store: Store, spec: Section) -> str | None:
    """Why the section cannot run on *store* (every missing piece, joined by "; "), or None."""
    reasons = [r for r in (missing(store, item) for item in spec.needs) if r]
    if spec.any_of:
        alternatives = [missing(store, item) for item in spec.any_of]
        if all(alternatives):
            reasons += [r for r in alternatives if r not in reasons]
    return "; ".join(dict.fromkeys(reasons)) or None


def skipped_sections(store: Store, sections: Mapping[str, Section]) -> dict[str, str]:
    """Section key → the line a manager reads about it, for every section *store* cannot fill.

    The lines are in the current report language:
    ``"Birthday list: skipped — the customers table has no birth_date column"``.
    """
    lines = {}
    for key, spec in sections.items():
        reason = skip_reason(store, spec)
        if reason:
            lines[key] = _("{section}: skipped — {reason}", section=_(spec.title), reason=reason)
    return lines
