"""Russian as a Russian manager reads it: the words of the catalogue and the files for people.

Issue 15: Russian pages said «CLV» where the market says LTV, «возврат» (a product return) for a
win-back, left MAE, RMSE, ROC-AUC and «Оценка Брайера» unexplained, put variant codes bare
inside sentences («внедрять contact») and kept the quarantine explanations in English.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from custkit.data.load import write_quarantine
from custkit.data.store import Store, TableAccounting
from custkit.data.validate import REASONS
from custkit.exports import CsvDialect
from custkit.i18n import _, merged_catalog, use_language
from custkit.params import parse_params
from custkit.reports.display import humanize

CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


def _translations() -> list[tuple[str, str]]:
    """(message, translation) of every Russian catalogue entry, plural forms each."""
    pairs = []
    for message in merged_catalog("ru"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        pairs += [(ids[0], text) for text in strings]
    return pairs


def test_russian_texts_say_ltv_never_clv():
    clv = [text for _id, text in _translations() if "CLV" in text]
    assert not clv, clv[:3]


#: Translations where «возврат» names a product return on purpose (the order status, a reason).
PRODUCT_RETURN = re.compile(
    r"возврат\w* (заказа|товара)|статус\w* заказа \(возвраты\)|"
    r"доставке, возврате|купонов, возвратам",
    re.IGNORECASE,
)


def test_russian_texts_call_a_win_back_reactivation_not_a_return():
    win_back = [
        (message, text)
        for message, text in _translations()
        if re.search(r"win-?back|come back|won back|return rate", message, re.IGNORECASE)
        and re.search(r"возврат", PRODUCT_RETURN.sub("", text), re.IGNORECASE)
    ]
    assert not win_back, win_back[:3]


@pytest.mark.parametrize(
    ("label", "plain"),
    [
        ("MAE", "Средняя ошибка"),
        ("RMSE", "Среднеквадратичная ошибка"),
        ("roc_auc", "Точность ранжирования"),
        ("pr_auc", "Точность поиска уходящих"),
        ("Brier score", "Ошибка вероятностей"),
        ("Model AUC", "Точность ранжирования"),
        ("clv", "LTV"),
        ("Holdout MAE", "Средняя ошибка"),
    ],
)
def test_statistical_terms_come_with_plain_words_in_russian(label, plain):
    with use_language("ru"):
        assert humanize(label).startswith(plain)


def test_variant_names_inside_russian_sentences_are_quoted():
    bare = [
        text
        for _id, text in _translations()
        if re.search(r"(?<!«)\{(variant|control)\}(?!»)", text) and CYRILLIC.search(text)
    ]
    assert not bare, bare[:3]


@pytest.mark.parametrize("reason", sorted(REASONS))
def test_quarantine_explanations_are_written_in_the_report_language(reason, tmp_path):
    bad = pd.DataFrame({"source_row": [2], "rejection_reason": [reason], "order_id": ["x"]})
    params = parse_params({"sources": {"orders": "o.csv"}, "language": "ru"})
    orders = pd.DataFrame(
        {"order_id": ["1"], "customer_id": ["1"], "order_date": [pd.Timestamp("2025-01-01")]}
    )
    store = Store(
        name="Shop",
        orders=orders.assign(revenue=1.0),
        customers=None,
        feedback=None,
        messages=None,
        experiments=None,
        accounting={"orders": TableAccounting("orders", "o.csv", read=2, accepted=1, rejected=1)},
        rejected={"orders": bad},
        params=params,
    )
    path = write_quarantine(store, tmp_path / "q", CsvDialect(";", ","))["orders"]
    written = pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=str)
    explanation = written["rejection_explanation"].iloc[0]
    assert CYRILLIC.search(explanation), explanation
    with use_language("ru"):
        assert explanation == _(REASONS[reason])
    assert written["rejection_reason"].iloc[0] == reason  # the code stays as it is
