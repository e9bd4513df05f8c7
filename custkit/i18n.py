"""Report language: every heading, conclusion and label in English (the source) or Russian.

Messages are written in English where they are made: ``_("Over the next {months} months…",
months=12)`` in the code, ``tr("…")`` in notebook code cells, and the notebooks' markdown cells.
Their translations live in gettext catalogues, ``custkit/locale/<language>/*.po`` (one file per
report area, so translators and reviewers work on one area at a time with any PO editor). The
catalogues are read with Babel and served by the standard library's :mod:`gettext`, so plural
forms follow the catalogue's ``Plural-Forms`` rule (1 клиент, 2 клиента, 5 клиентов) — no
hand-written plural logic.

Numbers and dates inside a message are written the way the language writes them: ``1,234.5`` and
``November 2026`` in English, ``1 234,5`` and ``ноябрь 2026`` in Russian (a comma would read as a
decimal point to a Russian reader). Format specs stay Python's (``{share:.0%}``, ``{when:%B %Y}``).
A day (``{date:%Y-%m-%d}``) is ``2026-10-14`` in English and ``14 окт. 2026`` in Russian, its
parts joined by no-break spaces so it never wraps mid-date (:func:`format_day`); a currency is
its code in English (``RUB``) and its sign in Russian (``₽``, :func:`currency_symbol`).

The language is one setting per process (a report kernel runs one report): ``start_report`` sets it
from the params file's top-level ``language`` key; analysts call :func:`set_language` or use
:func:`use_language` in a ``with`` block. A message missing from the catalogue is shown in English;
``tests/test_i18n.py`` keeps every message of the code and the notebooks translated.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import io
import numbers
import re
import string
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from custkit.errors import ParamsError, did_you_mean

#: Report languages; the first is the default and the language the messages are written in.
LANGUAGES = ("en", "ru")
LOCALE_DIR = Path(__file__).with_name("locale")

_language = LANGUAGES[0]


def set_language(language: str) -> None:
    """Make *language* (``"en"`` or ``"ru"``) the language of everything displayed from now on.

    Raises
    ------
    ParamsError
        For a language custkit has no catalogue for.
    """
    global _language
    _language = check_language(language)


def get_language() -> str:
    """The current report language."""
    return _language


def check_language(language: Any, where: str = "language") -> str:
    """*language* if custkit can write reports in it, else a :class:`ParamsError` naming it."""
    if language not in LANGUAGES:
        raise ParamsError(
            f"{where} must be one of {list(LANGUAGES)}. Got {language!r} instead."
            + did_you_mean(str(language), LANGUAGES)
        )
    return language


@contextmanager
def use_language(language: str) -> Iterator[None]:
    """Temporarily switch the report language (``with use_language("ru"): ...``)."""
    previous = _language
    set_language(language)
    try:
        yield
    finally:
        set_language(previous)


def _(message: str, /, **fields: Any) -> str:
    """*message* in the current language, with *fields* filled in.

    Without *fields* the text is returned as translated (braces untouched), so labels that come
    from data pass through unchanged when the catalogue does not know them.
    """
    # gettext maps the empty message to the catalogue's header: an empty label stays empty
    text = catalogue(_language).gettext(message) if message else message
    return format_message(text, **fields) if fields else text


#: The same as :func:`_`, under a name IPython leaves alone: in a notebook, ``_`` is rebound to
#: the last output after every cell that shows a value, so notebooks write ``tr("…")``.
tr = _


def N_(message: str, /) -> str:
    """Mark *message* for translation where it is declared and translated later, where shown
    (gettext's ``gettext_noop``): section titles declared at import, before the language is set."""
    return message


def n_(singular: str, plural: str, n: int, /, **fields: Any) -> str:
    """The form of a message for the count *n* (``{n}`` is filled in too)."""
    text = catalogue(_language).ngettext(singular, plural, n)
    return format_message(text, n=n, **fields)


def has_translation(message: str, language: str | None = None) -> bool:
    """True when *message* is in the catalogue of *language* (default: the current one)."""
    language = language or _language
    return language == LANGUAGES[0] or message in messages(language)


# --- catalogues ----------------------------------------------------------------------------------


@functools.cache
def catalogue(language: str) -> gettext.NullTranslations:
    """The :mod:`gettext` translations of *language*: every ``locale/<language>/*.po`` merged."""
    if language == LANGUAGES[0]:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, merged_catalog(language))
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def merged_catalog(language: str):
    """The Babel :class:`~babel.messages.catalog.Catalog` of every PO file of *language*.

    Raises
    ------
    ValueError
        Two files translate the same message differently (say which, so one can be fixed).
    """
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    merged = Catalog(locale=language)
    seen: dict[Any, str] = {}
    for file in sorted((LOCALE_DIR / language).glob("*.po")):
        with open(file, "rb") as fh:
            part = read_po(fh, locale=language)
        for message in part:
            if not message.id or not _translated(message.string):
                continue
            key = message.id
            if key in merged and merged[key].string != message.string:
                raise ValueError(
                    f"{file.name} and {seen[key]} translate {_first(key)!r} differently; "
                    "keep one translation."
                )
            seen[key] = file.name
            merged.add(message.id, message.string)
    return merged


@functools.cache
def messages(language: str) -> frozenset[str]:
    """The message ids *language*'s catalogue translates (plural messages by their singular)."""
    return frozenset(_first(m.id) for m in merged_catalog(language) if m.id)


def _translated(value: Any) -> bool:
    values = value if isinstance(value, tuple) else (value,)
    return all(values)


def _first(key: Any) -> str:
    return key[0] if isinstance(key, tuple) else key


# --- numbers and dates ---------------------------------------------------------------------------

_NBSP = "\u00a0"
_STRFTIME_TO_CLDR = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%b": "LLL"}


class _Formatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        return format_value(value, format_spec)


_FORMATTER = _Formatter()


def format_message(template: str, /, *args: Any, **fields: Any) -> str:
    """``template.format(*args, **fields)`` with numbers and dates written for the current
    language; a field named ``currency`` (an ISO code such as ``"RUB"``) is written as the
    language writes that currency (:func:`currency_symbol`: ``₽`` in Russian)."""
    if isinstance(fields.get("currency"), str):
        fields = {**fields, "currency": currency_symbol(fields["currency"])}
    return _FORMATTER.vformat(template, args, fields)


def format_value(value: Any, spec: str = "") -> str:
    """One value as ``format(value, spec)`` would write it, in the current language's style."""
    if _language == "ru":
        if isinstance(value, numbers.Number) and not isinstance(value, bool):
            return format_number_ru(format(value, spec))
        if isinstance(value, dt.date) and spec == _ISO_DAY:
            return format_day(value)
        if isinstance(value, dt.date) and "%" in spec:
            return format_date_ru(value, spec)
    return format(value, spec)


_ISO_DAY = "%Y-%m-%d"


def format_day(value: dt.date, language: str | None = None) -> str:
    """A day as a reader of *language* (default: the current one) writes it: ``2026-10-14`` in
    English, ``14 окт. 2026`` in Russian (Babel's CLDR abbreviations: ``3 мая 2026``), with
    no-break spaces so a line never breaks inside it."""
    language = language or _language
    if language == "ru":
        from babel.dates import format_date as babel_format_date

        text = babel_format_date(value, "d MMM y", locale="ru")
        return text.replace(" ", _NBSP)
    return format(value, _ISO_DAY)


def currency_symbol(currency: str, language: str | None = None) -> str:
    """How *language* (default: the current one) writes the currency *currency* (an ISO 4217
    code) after an amount: the code in English (``RUB``, ``USD``), the sign in Russian (``₽``,
    ``$``, ``€``; the code for currencies CLDR has no Russian sign for)."""
    language = language or _language
    if language == "ru" and re.fullmatch(r"[A-Za-z]{3}", str(currency)):
        from babel.numbers import get_currency_symbol

        return get_currency_symbol(str(currency).upper(), locale="ru")
    return currency  # not an ISO code (a word such as «валюта»): as written


def format_number(text: str) -> str:
    """A number Python wrote (``1,234.5``) in the current language's style."""
    return format_number_ru(text) if _language == "ru" else text


def format_number_ru(text: str) -> str:
    """``1,234.5`` → ``1 234,5`` (no-break space between thousands, comma before decimals)."""
    return text.replace(",", _NBSP).replace(".", ",")


def format_date(value: dt.date, spec: str) -> str:
    """A date by a strftime *spec* (``"%B %Y"``), month names in the current language."""
    return format_value(value, spec)


def format_date_ru(value: dt.date, spec: str) -> str:
    """strftime *spec* with Russian month names: ``%B %Y`` → ``ноябрь 2026``, ``%d %B`` →
    ``23 ноября`` (Babel's CLDR data chooses the standalone or the genitive form), joined by
    no-break spaces."""
    from babel.dates import format_datetime

    has_day = "%d" in spec or "%-d" in spec
    month = "MMMM" if has_day else "LLLL"
    pattern = []
    for token in re.split(r"(%-?[A-Za-z])", spec):
        if token == "%B":
            pattern.append(month)
        elif token == "%-d" or (token == "%d" and "%B" in spec):
            pattern.append("d")  # "2 августа", but "2026-08-02"
        elif token in _STRFTIME_TO_CLDR:
            pattern.append(_STRFTIME_TO_CLDR[token])
        elif token.startswith("%"):
            pattern.append(f"'{value.strftime(token)}'")
        elif token:
            pattern.append("'" + token.replace("'", "''") + "'")
    when = value if isinstance(value, dt.datetime) else dt.datetime(*value.timetuple()[:3])
    # no-break spaces: a line never wraps inside a date ("3 ноября 2026", "ноябрь 2026")
    return format_datetime(when, "".join(pattern), locale="ru").replace(" ", _NBSP)
