"""Report language: the catalogues are complete and consistent, numbers and dates read right."""

from __future__ import annotations

import datetime as dt
import io
import json
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_python

from custkit.errors import ParamsError
from custkit.i18n import (
    _,
    format_message,
    merged_catalog,
    messages,
    n_,
    set_language,
    use_language,
)
from custkit.params import parse_params
from custkit.reports.execute import markdown_message
from custkit.reports.inspection import notebook_title

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "tr": None, "N_": None, "n_": (1, 2)}


def _extract(code: bytes, where: str) -> list[tuple[str, str]]:
    found = []
    for lineno, _function, message, _comments in extract_python(io.BytesIO(code), KEYWORDS, [], {}):
        singular = message[0] if isinstance(message, tuple) else message
        if singular:  # a call with a variable (``_(label)``) has no literal to translate
            found.append((singular, f"{where}:{lineno}"))
    return found


def source_messages() -> list[tuple[str, str]]:
    """(message, where) for every ``_("…")`` / ``n_("…", "…", n)`` in the package and every
    markdown cell, title and ``tr("…")`` of the notebooks."""
    found = []
    for file in sorted((ROOT / "custkit").rglob("*.py")):
        found += _extract(file.read_bytes(), str(file.relative_to(ROOT)))
    for file in sorted((ROOT / "custkit" / "notebooks").glob("*.ipynb")):
        nb = json.loads(file.read_text(encoding="utf-8"))
        where = str(file.relative_to(ROOT))
        found.append((notebook_title(nb, ""), f"{where} title"))
        for number, cell in enumerate(nb["cells"]):
            text = markdown_message(cell["source"])
            if cell["cell_type"] == "markdown" and text:
                found.append((text, f"{where} cell {number}"))
            elif cell["cell_type"] == "code":
                found += _extract(text.encode(), f"{where} cell {number}")
    return found


def test_every_message_of_the_code_and_notebooks_has_a_russian_translation():
    known = messages("ru")
    missing = sorted(
        {f"{where}: {message!r}" for message, where in source_messages() if message not in known}
    )
    assert not missing, (
        f"{len(missing)} messages have no Russian translation; add them to "
        "custkit/locale/ru/<area>.po:\n" + "\n".join(missing[:40])
    )


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_translations_fill_in_the_same_fields_as_their_messages():
    wrong = []
    for message in merged_catalog("ru"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set().union(*map(_fields, ids))
        for text in strings:
            # a plural form may leave out {n} ("один клиент"), never add or rename a field
            if not _fields(text) <= expected or not _fields(text) >= expected - {"n"}:
                wrong.append(f"{ids[0]!r} → {text!r}")
    assert not wrong, "translations with other fields than their message:\n" + "\n".join(wrong)


def test_plural_forms_follow_the_russian_rule():
    catalogue_plurals = [
        m.id
        for m in merged_catalog("ru")
        if isinstance(m.id, tuple) and _fields(m.id[0]) | _fields(m.id[1]) == {"n"}
    ]
    assert catalogue_plurals, "the Russian catalogue has no plural message with only {n}"
    singular, plural = catalogue_plurals[0]
    with use_language("ru"):
        forms = {n: n_(singular, plural, n) for n in (1, 2, 5, 11, 21, 22, 25, 111)}
    assert forms[1] != forms[2] != forms[5]
    assert forms[21].replace("21", "1") == forms[1]
    assert forms[22].replace("22", "2") == forms[2]
    assert forms[11].replace("11", "5") == forms[5] == forms[25].replace("25", "5")
    assert forms[111].replace("111", "5") == forms[5]


def test_numbers_and_dates_are_written_the_russian_way():
    fields = {"n": 1234567, "x": 0.2345, "m": 1234.5, "d": dt.date(2026, 11, 3)}
    template = "{n:,} · {x:.1%} · {m:,.2f} · {d:%B %Y} · {d:%d %B %Y} · {d:%Y-%m-%d}"
    assert format_message(template, **fields) == (
        "1,234,567 · 23.4% · 1,234.50 · November 2026 · 03 November 2026 · 2026-11-03"
    )
    with use_language("ru"):
        assert format_message(template, **fields) == (
            "1\u00a0234\u00a0567 · 23,4% · 1\u00a0234,50 · ноябрь\u00a02026 · "
            "3\u00a0ноября\u00a02026 · 3\u00a0нояб.\u00a02026"
        )


def test_a_message_outside_the_catalogue_stays_as_written():
    with use_language("ru"):
        assert _("Moscow") == "Moscow"
        assert _("{not_a_field}") == "{not_a_field}"


def test_language_comes_from_params_and_is_checked():
    sources = {"orders": {"path": "orders.csv"}}
    assert parse_params({"sources": sources}).language == "en"
    assert parse_params({"language": "ru", "sources": sources}).language == "ru"
    with pytest.raises(ParamsError, match=r"language must be one of \['en', 'ru'\]. Got 'de'"):
        parse_params({"language": "de", "sources": sources})
    with pytest.raises(ParamsError, match="Did you mean 'ru'"):
        set_language("RU")


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("translate", [lambda m: _(m), lambda m: _(m, n=1)])
def test_an_empty_label_stays_empty_in_every_language(language, translate):
    # gettext maps "" to the catalogue header (with EMAIL@ADDRESS in it): a table cell of an
    # empty reason once showed the whole header on a Russian page of a store with no rejects
    with use_language(language):
        assert translate("") == ""
