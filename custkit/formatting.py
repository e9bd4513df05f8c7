"""Numbers as a report page writes them: counts, money, shares, changes, days and KPIs.

The core layer's number formatting (issue 16): analyses write their findings with these, and the
notebook API's tables and KPI boxes (:mod:`custkit.reports.display`, which re-exports them) show
figures the same way. Grouping and decimal marks follow the report language
(:func:`custkit.i18n.format_value`); a missing value is ``—``; a negative sign is the
typographic minus.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from custkit.i18n import _, currency_symbol, format_value, n_

MINUS = "\u2212"


def is_missing(value: Any) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and math.isnan(value))
    )


def signed(text: str) -> str:
    """``text`` with its hyphens as the typographic minus sign (U+2212): ``−4.2%``."""
    return text.replace("-", MINUS)


def format_count(value: Any) -> str:
    """``1,234`` (``1 234`` in Russian); ``—`` for a missing value."""
    return "—" if is_missing(value) else signed(format_value(value, ",.0f"))


def format_money(value: Any, currency: str = "") -> str:
    """``1,234 RUB`` or ``12.50 RUB`` (below 100); in Russian ``1 234 ₽`` (the currency as the
    language writes it, :func:`custkit.i18n.currency_symbol`), joined by a no-break space so a
    line never ends between the number and its currency."""
    if is_missing(value):
        return "—"
    text = format_value(value, ",.2f" if abs(value) < 100 else ",.0f")
    return signed(text) + (f"\u00a0{currency_symbol(currency)}" if currency else "")


def format_share(value: Any) -> str:
    """``23.4%`` (``23,4%`` in Russian)."""
    return "—" if is_missing(value) else signed(format_value(value, ".1%"))


def format_change(change: Any, unit: str) -> str:
    """``+4.2%`` for a relative change of counts, money, ratios and days; ``−1.3 pp`` for a
    change of shares (``−1,3 п. п.`` in Russian; a ``percent`` change is already in points);
    ``+0.02`` for a change of a score (ROC-AUC)."""
    if is_missing(change) or (isinstance(change, float) and math.isinf(change)):
        return "—"
    if unit in ("share", "percent"):
        points = change * 100 if unit == "share" else change
        return signed(_("{change:+.1f} pp", change=points))
    if unit == "score":
        return signed(format_value(change, "+.2f"))
    return signed(format_value(change, "+.1%"))


def format_days(value: Any) -> str:
    """``30 days`` (``30 дней`` in Russian); ``—`` for a missing value."""
    if is_missing(value):
        return "—"
    days = round(float(value))
    return signed(n_("{n:,} day", "{n:,} days", days)).replace(" ", "\u00a0")


def format_kpi(value: Any, unit: str, currency: str = "") -> str:
    """A KPI written by its unit (:mod:`custkit.units`): ``1,234`` (count), ``1,234 RUB`` /
    ``1 234 ₽`` (money), ``23.4%`` (share; ``percent``: already in per cent), ``1.25×``
    (ratio), ``30 days``, ``0.72`` (score: never with a currency). A figure of unknown unit
    (``number``, from an old file) is a plain number."""
    if is_missing(value):
        return "—"
    if unit == "share":
        return format_share(value)
    if unit == "percent":
        return format_share(float(value) / 100)
    if unit == "money":
        return format_money(value, currency)
    if unit == "count":
        return format_count(value)
    if unit == "days":
        return format_days(value)
    if unit == "ratio":
        return signed(format_value(value, ",.2f")) + "×"
    if unit == "score":
        return signed(format_value(value, ".2f"))
    return format_money(value)


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def format_day_count(days: int) -> str:
    """``90 days`` (``90 дней`` in Russian): a window's length in a sentence or a heading."""
    return n_("{n} day", "{n} days", days)


def format_relative_change(value: float) -> str:
    """A relative change as ``+4.2%`` / ``−1.3%``; ``0.0%`` below half a tenth of a per cent
    (never ``−0.0%``); ``—`` for a missing or infinite value."""
    if not _finite(value):
        return "—"
    if abs(value) < 0.0005:
        return format_value(0.0, ".1%")
    return signed(format_value(value, "+.1%"))


def format_change_interval(low: float, high: float) -> str:
    """An interval of relative changes, ``−1.2% … +6.3%``; ``—`` when an end is missing."""
    if not (_finite(low) and _finite(high)):
        return "—"
    return f"{format_relative_change(low)} … {format_relative_change(high)}"


def format_percent(value: float) -> str:
    """A share as ``36.5%`` (``36,5%`` in Russian), its sign as written; ``—`` when missing."""
    return format_value(value, ".1%") if _finite(value) else "—"
