"""Why customers left, read from feedback text: seed keywords without labels, a model with them.

Every review, support ticket or survey answer of the canonical ``feedback`` table gets one of the
:data:`REASON_CODES`. :func:`classify_feedback` keeps the rows' own labels (``reason``), trains
:class:`ReasonClassifier` on them when there are enough, and otherwise falls back to
:func:`keyword_reasons`, which searches the seed lists :data:`KEYWORDS` / :data:`WEAK_KEYWORDS`
(Russian and English stems, extendable from params) and weighs them against
:data:`PRAISE_KEYWORDS`. :func:`evaluate_classifier` measures the model by cross-validation
before anyone trusts it.

How texts are read
------------------
Before matching or counting, a text is normalized (:func:`normalize_texts`): e-mail addresses
and phone numbers become the tokens ``emailaddr`` / ``phonenumber``, letters are lower-cased, ``ё``
is read as ``е``, every run of digits becomes ``0`` and every run of punctuation a single space.
Keyword patterns are written against that form. Evidence shown to people is cut from the original
text after :func:`strip_pii`, so no address or phone number reaches a report.

The model
---------
TF-IDF of word 1–2-grams and ``char_wb`` 2–5-grams, plus the seed keyword scores of each reason,
into a multinomial logistic regression with balanced class weights, assembled from
scikit-learn's ``Pipeline``, ``FeatureUnion``, ``TfidfTransformer`` and ``LogisticRegression``.
The keyword scores are what lets it read a sentence no labelled text said: on the demo store,
cross-validated with every sentence kept out of the folds that train on it, it recovers 99% of
the reasons with them and 70% without. A store's own labels then teach it the store's words.

Why our own n-gram counting
---------------------------
scikit-learn's ``TfidfVectorizer`` cuts n-grams in a Python loop per text: 22 s of CPU for the
character n-grams of 100,000 texts of 65 characters, and as long again to transform them. Here
pyarrow splits the texts into words; word pairs are joined by pyarrow and looked up in a hash
index (:class:`_WordNgramCounts`); character n-grams are cut once per *distinct* word with
numpy, each n-gram an exact integer of its 12-bit character codes, and summed per text by a
sparse matrix product (:class:`_CharNgramCounts`). Both give exactly the counts of
scikit-learn's ``CountVectorizer`` (its default word tokenizer: words of two or more letters),
with ``min_df`` and ``max_features`` as it defines them. On those 100,000 texts (2 shared cores)
fitting takes about 8 s of CPU: the features, then nine solver iterations that each read all
18 million non-zero features. Predicting takes about 3 s, half of it the keyword scan, a Python
loop over the distinct texts.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline

from custkit.churn.codes import REASON_CODES, REASON_LABELS
from custkit.churn.labels import feedback_labels
from custkit.errors import DataError, NotFittedError, ParamsError, did_you_mean
from custkit.i18n import tr

__all__ = [
    "KEYWORDS",
    "NEGATED_PRAISE_KEYWORDS",
    "PRAISE_KEYWORDS",
    "REASON_CODES",
    "REASON_LABELS",
    "WEAK_KEYWORDS",
    "ClassifierEvaluation",
    "ReasonClassifier",
    "classify_feedback",
    "evaluate_classifier",
    "keyword_reasons",
    "normalize_texts",
    "strip_pii",
]


# --- seed keywords ------------------------------------------------------------------------------
# Patterns are Python regular expressions searched in the normalized text (lower case, ё as е,
# punctuation as single spaces, digits as 0; see the module docstring). Start a stem with \b to
# anchor it to the start of a word: r"\bдоставк" finds "доставка", "доставкой", "доставку".
# At each place in a text the first pattern that matches wins, and longer patterns are tried
# first, so a phrase ("доставка такая дорогая" -> delivery_cost) claims its words before a
# single word of it ("доставк" -> delivery) can. To extend a list for one store, pass
# ``extra_keywords={"competitor_price": [r"\bмегамаркет"]}`` (capitals are lowered, escapes such
# as \S kept); to extend it for everyone, add the pattern here and a sentence it must read to
# ``test_keywords_read_russian_and_english_word_forms`` in tests/churn/test_text.py.

#: Strong evidence for a reason: each distinct match scores 1.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "forgot": (
        r"\bзабыл", r"\bзабыва", r"\bзабуд", r"\bзабыт", r"\bвылетел\w* из головы",
        r"\bне было (нужды|необходимости|повода)", r"\bне до (того|покупок)", r"\bнекогда",
        r"\bforg[eo]t", r"\bslipped my mind", r"\bno need\b", r"\bdid ?n t need",
        r"\bjust busy\b",
    ),
    "delivery_cost": (
        r"\bдоставк\w* (\w+ ){0,2}дорог", r"\bдорог\w* (\w+ )?доставк",
        r"\bстоимост\w* доставк", r"\bдоставк\w* (\w+ )?(стоит|обходит)",
        r"\bцен\w* (на |за )?доставк", r"\bплатн\w* доставк", r"\bплатить за доставку",
        r"\bбесплатн\w* доставк", r"\bза доставку",
        r"\b(shipping|delivery) (cost|fee|price|charge)", r"\bfree (shipping|delivery)",
        r"\b(expensive|costly|pricey) (shipping|delivery)",
        r"\b(shipping|delivery) (\w+ ){0,3}(expensive|costly|pricey|costs? too much)",
        r"\bpay(ing)? for (shipping|delivery)",
    ),
    "competitor_price": (
        r"\bдешевл", r"\bконкурент", r"\bв другом магазин", r"\bдруг\w* магазин",
        r"\bу других", r"\bвыгодне", r"\bozon", r"\bозон", r"\bwildberries", r"\bвайлдберриз",
        r"\bмаркетплейс", r"\bяндекс маркет", r"\bcheaper", r"\bcompetitor", r"\belsewhere",
        r"\bbetter (price|deal)", r"\blower price", r"\bother (store|shop)", r"\bamazon",
    ),
    "moved_out_of_delivery_area": (
        r"\bпереехал", r"\bпереезд", r"\bсменил\w* (город|адрес|место)", r"\bне доставля",
        r"\bне возит", r"\bнет доставки (в|к|до)", r"\bк нам не", r"\bв наш (город|регион)",
        r"\bв друг\w* (город|регион|стран)", r"\bуехал", r"\bmoved\b", r"\bmoving\b",
        r"\brelocat", r"\bno delivery (here|to)", r"\bdo ?n t deliver", r"\bdo not deliver",
        r"\bdoes ?n t deliver", r"\bout of (the )?delivery (area|zone)", r"\bnew (city|town)",
    ),
    "quality": (
        r"\bкачеств", r"\bбрак", r"\bсломан", r"\bсломал", r"\bразбит", r"\bпорва",
        r"\bиспорч", r"\bповрежд", r"\bдефект", r"\bне работает", r"\bне соответству",
        r"\bподделк", r"\bплох\w* товар", r"\bquality", r"\bdamaged", r"\bbroken",
        r"\bdefect", r"\bfaulty", r"\bfake\b", r"\bcounterfeit", r"\bnot as described",
        r"\bdoes ?n t work", r"\bstopped working", r"\b(poorly|cheaply) made",
    ),
    "delivery": (
        r"\bоп[оа]зд", r"\bзадерж", r"\bкурьер", r"\bгде (мой )?заказ", r"\bне вовремя",
        r"\bне (приехал|привез|доставил|пришел|пришла|пришло)", r"\bобещали",
        r"\bдолго (вез|ждал|ждат|доставл|ехал|шел)", r"\bсорвал\w* срок", r"\bсрок\w* доставк",
        r"\bпотерял", r"\blate\b", r"\bdelay", r"\bcourier", r"\bwhere is my (order|parcel)",
        r"\bnever (arrived|came)", r"\bnot (arrived|delivered)", r"\bhas ?n t arrived",
        r"\blost (my )?(order|parcel|package)", r"\btook (too )?(long|forever)",
    ),
    "support": (
        r"\bподдержк", r"\bоператор", r"\bне (ответ|отвеча)", r"\b(нет|без) ответа",
        r"\bдозвон", r"\bне перезвон", r"\bхамств", r"\bхамил", r"\bнагруб", r"\bменеджер",
        r"\bигнорир", r"\bне (решили|решен|решают)", r"\bsupport\b", r"\bcustomer service",
        r"\bno (answer|reply|response)",
        r"\bnobody (answers|replies|responds|helped)", r"\bnot (answer|reply|respond)",
        r"\b(does|do|did) ?n t (answer|reply|respond)", r"\brude\b", r"\bignor",
        r"\boperator", r"\bmanager", r"\bcall (me )?back", r"\bon hold",
    ),
}  # fmt: skip

#: Words that name a topic but not yet a complaint: each distinct match scores 0.5, so they decide
#: only when nothing stronger matched ("проблемы с доставкой" -> delivery, "дорого" -> price).
WEAK_KEYWORDS: dict[str, tuple[str, ...]] = {
    "competitor_price": (r"\bдорог", r"\bцен[аыуе]?\b", r"\bexpensive", r"\boverpriced",
                         r"\bprices?\b"),
    "quality": (r"\bвернуть", r"\bверните", r"\bвозврат", r"\breturn", r"\brefund"),
    "delivery": (r"\bдоставк", r"\bдоставил", r"\bdeliver", r"\bshipping\b", r"\bдолго"),
}  # fmt: skip

#: Praise: each distinct match scores 1 against every reason. A text with more praise than
#: complaint ("Good, fast delivery") is ``unknown``, not ``delivery``.
PRAISE_KEYWORDS: tuple[str, ...] = (
    r"\bдовол(ен|ьн)", r"\bотличн", r"\bспасибо", r"\bблагодар", r"\bпонравил",
    r"\bлучш\w* магазин", r"\bхорош", r"\bсупер\b", r"\bрекоменд", r"\bбыстр",
    r"\bexcellent", r"\bgreat\b", r"\bgood\b", r"\bthank", r"\bfast\b", r"\bquick",
    r"\blove\b", r"\bperfect", r"\bsuper\b", r"\bawesome", r"\bhappy\b", r"\brecommend",
)  # fmt: skip

#: Negated praise ("не понравилось", "not good"): scores nothing, but being longer than the
#: praise word it claims the words first, so they do not count as praise either.
NEGATED_PRAISE_KEYWORDS: tuple[str, ...] = (
    r"\bне (довол|понрав|хорош|быстр|отличн|супер|рекоменд)",
    r"\bnot (very |so |that )?(good|great|happy|fast|quick|perfect|recommend)",
    r"\b(do|did|would|could) ?n t recommend", r"\bno thank",
)  # fmt: skip

_WEAK_WEIGHT = 0.5
_EVIDENCE_CHARS = 120
_TERMS_CHARS = 60  # at most this much of the evidence lists keywords or model terms
_EMAIL = r"\S*@\S*"  # anything around an "@": broken addresses too ("ivan@@mail", "@mail.ru")
_PHONE = r"\+?\d(?:[\s().-]{0,2}\d){9,14}"  # 10 to 15 digits with the usual separators
_METHODS = ["label", "model", "keywords", "none"]


# ==================================================================================================
# Text preparation
# ==================================================================================================


def _as_texts(texts: Any, what: str = "texts") -> tuple[np.ndarray, pd.Index, int]:
    """*texts* as an object array of str ("" for missing), their index (a Series' own, else
    0..n-1) and how many were missing."""
    if isinstance(texts, str):
        raise ParamsError(f"{what} must be a sequence of texts, not one string: {texts[:40]!r}")
    if isinstance(texts, pd.DataFrame):
        raise ParamsError(
            f"{what} must be one column of texts, got a DataFrame with columns "
            f"{list(texts.columns)}; pass e.g. feedback['text']"
        )
    if isinstance(texts, pd.Series):
        values, index = texts.to_numpy(dtype=object), texts.index
    else:
        values = np.asarray(list(texts) if not isinstance(texts, np.ndarray) else texts, object)
        index = pd.RangeIndex(len(values))
    if values.ndim != 1:
        raise ParamsError(f"{what} must be one-dimensional, got shape {values.shape}")
    missing = pd.isna(values)
    values = np.where(missing, "", values)
    if pd.api.types.infer_dtype(values, skipna=False) not in ("string", "empty"):
        values = np.array([str(v) for v in values], dtype=object)  # numbers, bytes …
    return values, index, int(missing.sum())


def _arrow(values: np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.string())


def _strip_pii_arrow(texts: pa.Array) -> pa.Array:
    texts = pc.replace_substring_regex(texts, _EMAIL, "[e-mail]")
    return pc.replace_substring_regex(texts, _PHONE, "[phone]")


def _normalize_arrow(texts: pa.Array) -> pa.Array:
    texts = pc.replace_substring_regex(texts, _EMAIL, " emailaddr ")
    texts = pc.replace_substring_regex(texts, _PHONE, " phonenumber ")
    texts = pc.replace_substring(pc.utf8_lower(texts), "ё", "е")
    texts = pc.replace_substring_regex(texts, r"\d+", "0")
    return pc.utf8_trim_whitespace(pc.replace_substring_regex(texts, r"[^\p{L}\p{N}]+", " "))


def strip_pii(texts: Iterable[Any]) -> pd.Series:
    """Replace everything that looks like an e-mail address or a phone number.

    Anything containing ``@`` becomes ``[e-mail]``; 10 to 15 digits, optionally with ``+``,
    spaces, dashes, dots or brackets between them ("+7 (912) 345-67-89", "89123456789") become
    ``[phone]``. Shorter numbers (order numbers, dates) stay. Missing texts become "".
    """
    values, index, _ = _as_texts(texts)
    stripped = _strip_pii_arrow(_arrow(values)).to_numpy(zero_copy_only=False)
    return pd.Series(stripped, index=index, dtype="str")


def normalize_texts(texts: Iterable[Any]) -> pd.Series:
    """The form keyword patterns and the model read (see the module docstring).

    ``"Курьер НЕ приехал!! Пишите: ivan@mail.ru"`` becomes
    ``"курьер не приехал пишите emailaddr"``. Runs in pyarrow (RE2): 0.2 s per 100,000 texts;
    missing texts become "".
    """
    values, index, _ = _as_texts(texts)
    normalized = _normalize_arrow(_arrow(values)).to_numpy(zero_copy_only=False)
    return pd.Series(normalized, index=index, dtype="str")


def _evidence(texts: np.ndarray, notes: Sequence[str]) -> list[str]:
    """``snippet [note]`` per row, at most 120 characters, with e-mails and phones stripped."""
    snippets = pc.utf8_trim_whitespace(
        pc.replace_substring_regex(_strip_pii_arrow(_arrow(texts)), r"\s+", " ")
    ).to_pylist()
    out = []
    for snippet, note in zip(snippets, notes, strict=True):
        note = note if len(note) <= _TERMS_CHARS else note[: _TERMS_CHARS - 1] + "…"
        tail = f" [{note}]" if note else ""
        room = _EVIDENCE_CHARS - len(tail)
        if len(snippet) > room:
            snippet = snippet[: max(room - 1, 0)].rstrip() + "…"
        out.append((snippet + tail).strip())
    return out


# ==================================================================================================
# Keywords
# ==================================================================================================


@dataclass(frozen=True)
class _KeywordMatcher:
    """All keyword lists compiled into one alternation; empty group ``k<i>`` ends pattern *i*."""

    pattern: re.Pattern
    reasons: tuple[str | None, ...]  # None: praise; "": negated praise
    weights: tuple[float, ...]


def _check_extra_keywords(extra: Mapping[str, Sequence[str]] | None) -> dict[str, list[str]]:
    if extra is None:
        return {}
    if not isinstance(extra, Mapping):
        raise ParamsError(
            "extra_keywords must map a reason code to a list of patterns, got "
            f"{type(extra).__name__}"
        )
    valid = [code for code in REASON_CODES if code != "unknown"]
    checked: dict[str, list[str]] = {}
    for reason, patterns in extra.items():
        if reason not in valid:
            raise ParamsError(
                f"extra_keywords: unknown reason {reason!r}; reasons: {valid}."
                + did_you_mean(str(reason), valid)
            )
        if isinstance(patterns, str):
            patterns = [patterns]
        for pattern in patterns:
            try:
                re.compile(pattern)
            except (re.error, TypeError) as exc:
                raise ParamsError(
                    f"extra_keywords[{reason!r}]: {pattern!r} is not a regular expression ({exc})"
                ) from None
            if not pattern:
                raise ParamsError(f"extra_keywords[{reason!r}]: empty pattern")
        checked[reason] = [_lower_pattern(p) for p in patterns]
    return checked


def _lower_pattern(pattern: str) -> str:
    """*pattern* in the normalized texts' case, escapes (``\\S``, ``\\W``) left alone."""
    out, escaped = [], False
    for char in pattern:
        out.append(char if escaped else char.lower().replace("ё", "е"))
        escaped = not escaped and char == "\\"
    return "".join(out)


def _top_level_alternation(pattern: str) -> bool:
    """Whether *pattern* has a ``|`` outside brackets and parentheses."""
    depth, in_class, escaped = 0, False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "|" and depth == 0:
            return True
    return False


_SPECIAL = set("\\()[]{}.*+?|^$")


def _matcher(extra: Mapping[str, Sequence[str]] | None) -> _KeywordMatcher:
    """One regex for every list, shaped for Python's matcher.

    Patterns that start with ``\\b`` share one ``\\b`` and are grouped by their first letter
    (``\\b(?:д(?:оставк…|орог…)|к(?:урьер|…)|…)``): at the start of a word the matcher compares
    one letter per group instead of trying ~200 patterns, and at any other place it stops at
    ``\\b``. The empty group naming a pattern sits at its end, where it hides no letter.
    100,000 texts take about two seconds; the patterns one by one took two minutes. Patterns
    that start with a bracket are tried before the others at the same place.
    """
    entries: list[tuple[str, str | None, float]] = []
    for reason, patterns in KEYWORDS.items():
        entries += [(p, reason, 1.0) for p in patterns]
    for reason, patterns in _check_extra_keywords(extra).items():
        entries += [(p, reason, 1.0) for p in patterns]
    for reason, patterns in WEAK_KEYWORDS.items():
        entries += [(p, reason, _WEAK_WEIGHT) for p in patterns]
    entries += [(p, None, 1.0) for p in PRAISE_KEYWORDS]
    entries += [(p, "", 0.0) for p in NEGATED_PRAISE_KEYWORDS]
    # longer (more specific) first, then strong before weak
    entries.sort(key=lambda e: (-len(e[0]), -e[2]))
    by_letter: dict[str, list[str]] = {}
    starting_with_group, free = [], []
    for i, (pattern, _, _) in enumerate(entries):
        if not pattern.startswith(r"\b") or _top_level_alternation(pattern):
            free.append(f"(?:{pattern})(?P<k{i}>)")
            continue
        rest = pattern[2:]
        if rest and rest[0] not in _SPECIAL and rest[1:2] not in ("*", "+", "?", "{"):
            by_letter.setdefault(rest[0], []).append(f"(?:{rest[1:]})(?P<k{i}>)")
        else:
            starting_with_group.append(f"(?:{rest})(?P<k{i}>)")
    anchored = starting_with_group + [
        f"{re.escape(letter)}(?:{'|'.join(alternatives)})"
        for letter, alternatives in by_letter.items()
    ]
    branches = ([r"\b(?:" + "|".join(anchored) + ")"] if anchored else []) + free
    return _KeywordMatcher(
        re.compile("|".join(branches)),
        tuple(e[1] for e in entries),
        tuple(e[2] for e in entries),
    )


#: The reasons keywords can name (``unknown`` is what a text gets when none is named).
_NAMED = tuple(code for code in REASON_CODES if code != "unknown")
_PRAISE_COLUMN = len(_NAMED)  # the scan's last column counts praise


def _scan(unique_texts: Sequence[str], matcher: _KeywordMatcher) -> tuple[np.ndarray, list]:
    """Per (normalized, distinct) text: the keyword score of each named reason and of praise
    (columns :data:`_NAMED`, then praise), and the matched words per column."""
    column_of = {reason: i for i, reason in enumerate(_NAMED)}
    column_of[None] = _PRAISE_COLUMN
    columns = [column_of.get(reason, -1) for reason in matcher.reasons]  # -1: negated praise
    scores = np.zeros((len(unique_texts), _PRAISE_COLUMN + 1))
    all_words: list[dict[int, list[str]]] = []
    finditer, weights = matcher.pattern.finditer, matcher.weights
    for row, text in enumerate(unique_texts):
        words: dict[int, list[str]] = {}
        seen: set[str] = set()
        for match in finditer(text):
            start, end = match.span()
            # widen to whole words, so evidence reads "доставкой", not "доставк"
            start = text.rfind(" ", 0, start) + 1
            end = end - 1 if text[end - 1 : end] == " " else end
            end = len(text) if text.find(" ", end) < 0 else text.find(" ", end)
            word = text[start:end]
            if word in seen:  # a repeated word is one piece of evidence
                continue
            seen.add(word)
            index = int(match.lastgroup[1:])
            column = columns[index]
            if column < 0:  # negated praise: claims its words, scores nothing
                continue
            scores[row, column] += weights[index]
            words.setdefault(column, []).append(word)
        all_words.append(words)
    return scores, all_words


def _keyword_table(scores: np.ndarray, words: list) -> pd.DataFrame:
    """Reason, matched words, score and confidence of each text scanned by :func:`_scan`."""
    reasons, praise = scores[:, :_PRAISE_COLUMN], scores[:, _PRAISE_COLUMN]
    best = reasons.argmax(axis=1)  # ties go to the reason listed first (the more specific one)
    top = reasons[np.arange(len(best)), best]
    named = (top > 0) & (praise <= top)
    total = reasons.sum(axis=1) + praise
    # a rough certainty, not a probability: the winner's share of all evidence, shrunk when the
    # evidence is thin (one strong word: 0.67, two: 0.8, one weak word: 0.5)
    confidence = np.where(named, top / np.where(named, total, 1.0) * top / (top + 0.5), 0.0)
    shown = np.where(named, best, _PRAISE_COLUMN)
    return pd.DataFrame(
        {
            "reason": np.where(named, np.array(_NAMED, dtype=object)[best], "unknown"),
            "keywords": [", ".join(w.get(c, [])) for w, c in zip(words, shown, strict=True)],
            "score": np.where(named, top, 0.0),
            "confidence": confidence,
        }
    )


def _keyword_reasons(normalized: pa.Array, matcher: _KeywordMatcher) -> pd.DataFrame:
    encoded = pc.dictionary_encode(normalized)
    scored = _keyword_table(*_scan(encoded.dictionary.to_pylist(), matcher))
    return scored.iloc[encoded.indices.to_numpy()].reset_index(drop=True)


def keyword_reasons(
    texts: Iterable[Any], extra_keywords: Mapping[str, Sequence[str]] | None = None
) -> pd.DataFrame:
    """Reason of each text from the seed keyword lists, for stores without labelled feedback.

    Parameters
    ----------
    texts : sequence of str
        Feedback texts; missing values count as empty.
    extra_keywords : mapping of reason code to list of str, optional
        More patterns per reason (same syntax and weight as :data:`KEYWORDS`), e.g. from params.

    Returns
    -------
    pandas.DataFrame
        One row per text (a Series' index is kept): ``reason`` (one of :data:`REASON_CODES`;
        ``unknown`` when nothing matched or praise outweighed complaint), ``keywords`` (the
        matched words, comma-separated; the praise words for a praised ``unknown``), ``score``
        (1 per strong, 0.5 per weak keyword of the winning reason) and ``confidence`` (0–1, a
        rough certainty from how much of the evidence points to the winner).
    """
    matcher = _matcher(extra_keywords)
    values, index, _ = _as_texts(texts)
    scored = _keyword_reasons(_normalize_arrow(_arrow(values)), matcher)
    scored.index = index
    scored["reason"] = pd.Categorical(scored["reason"], categories=REASON_CODES)
    return scored


# ==================================================================================================
# N-gram counting (see "Why our own n-gram counting" in the module docstring)
# ==================================================================================================


@dataclass(frozen=True)
class _Tokens:
    """A batch of normalized texts and their words: each word and the number of its text.

    ``keyword_scan``, when set, holds the keyword scores of each text (:func:`_scan`), already
    computed by the caller with the lists the model's keyword features use.
    """

    n_texts: int
    rows: np.ndarray
    words: pa.Array
    texts: pa.Array
    keyword_scan: np.ndarray | None = None

    def __len__(self) -> int:
        return self.n_texts


class _Tokenizer(TransformerMixin, BaseEstimator):
    """Normalized texts (array of str) -> :class:`_Tokens`, split on spaces by pyarrow."""

    def fit(self, texts, y=None):
        return self

    def transform(self, texts) -> _Tokens:
        texts = texts if isinstance(texts, pa.Array) else _arrow(np.asarray(texts, dtype=object))
        lists = pc.split_pattern(texts, " ")
        words = pc.list_flatten(lists)
        nonempty = pc.greater(pc.utf8_length(words), 0)
        rows = pc.list_parent_indices(lists).to_numpy()[nonempty.to_numpy(zero_copy_only=False)]
        return _Tokens(len(texts), rows.astype(np.int64), words.filter(nonempty), texts)


class _KeywordScores(TransformerMixin, BaseEstimator):
    """The seed keyword scores of each named reason and of praise, as features: the model knows
    that "курьер" points to ``delivery`` before it has seen the word in a labelled text."""

    def __init__(self, extra_keywords=None):
        self.extra_keywords = extra_keywords

    def fit(self, tokens: _Tokens, y=None):
        self.matcher_ = _matcher(self.extra_keywords)
        return self

    def transform(self, tokens: _Tokens):
        if tokens.keyword_scan is not None:
            return sparse.csr_matrix(tokens.keyword_scan.astype(np.float32))
        encoded = pc.dictionary_encode(tokens.texts)
        scores, _ = _scan(encoded.dictionary.to_pylist(), self.matcher_)
        return sparse.csr_matrix(scores[encoded.indices.to_numpy()].astype(np.float32))


def _count_matrix(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    # float32 halves the memory the solver streams through on every iteration
    data = np.ones(rows.size, dtype=np.float32)
    matrix = sparse.csr_matrix((data, (rows, cols)), shape=shape)
    matrix.sum_duplicates()
    return matrix


def _select_vocabulary(
    matrix: sparse.csr_matrix, min_df: int, max_features: int | None
) -> np.ndarray:
    """Columns kept: in at least *min_df* texts, the *max_features* most frequent ones.

    When no column is in *min_df* texts (a handful of training texts), all are kept.
    """
    df = np.bincount(matrix.indices, minlength=matrix.shape[1])
    keep = np.flatnonzero(df >= min_df)
    if keep.size == 0:
        keep = np.flatnonzero(df >= 1)
    if max_features is not None and keep.size > max_features:
        total = np.asarray(matrix.sum(axis=0)).ravel()[keep]
        keep = np.sort(keep[np.argsort(-total, kind="stable")[:max_features]])
    return keep


class _WordNgramCounts(TransformerMixin, BaseEstimator):
    """Counts of word n-grams (words of 2+ letters, like scikit-learn's default tokenizer)."""

    def __init__(self, ngram_range=(1, 2), min_df=2, max_features=None):
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features

    def _terms(self, tokens: _Tokens) -> tuple[np.ndarray, pa.Array]:
        long = pc.greater_equal(pc.utf8_length(tokens.words), 2)
        words = tokens.words.filter(long)
        rows = tokens.rows[long.to_numpy(zero_copy_only=False)]
        all_rows, all_terms = [], []
        low, high = self.ngram_range
        for n in range(low, high + 1):
            size = rows.size - n + 1
            if size <= 0:
                break
            same = np.ones(size, dtype=bool)
            term = words.slice(0, size)
            for k in range(1, n):
                same &= rows[:size] == rows[k : k + size]
                term = pc.binary_join_element_wise(term, words.slice(k, size), " ")
            all_rows.append(rows[:size][same])
            all_terms.append(term.filter(pa.array(same)))
        if not all_rows:
            return np.empty(0, dtype=np.int64), pa.array([], type=pa.string())
        return np.concatenate(all_rows), pa.concat_arrays(all_terms)

    def fit_transform(self, tokens: _Tokens, y=None):
        rows, terms = self._terms(tokens)
        encoded = pc.dictionary_encode(terms)
        uniques = encoded.dictionary.to_numpy(zero_copy_only=False).astype(object)
        codes = encoded.indices.to_numpy()
        matrix = _count_matrix(rows, codes, (tokens.n_texts, len(uniques)))
        keep = _select_vocabulary(matrix, self.min_df, self.max_features)
        if keep.size == 0:  # no word of two letters at all: one empty term that never occurs
            self.vocabulary_ = np.array([""], dtype=object)
            return sparse.csr_matrix((tokens.n_texts, 1), dtype=np.float32)
        order = np.argsort(uniques[keep])
        self.vocabulary_ = uniques[keep][order]
        return matrix[:, keep[order]].tocsr()

    def fit(self, tokens: _Tokens, y=None):
        self.fit_transform(tokens)
        return self

    def transform(self, tokens: _Tokens):
        rows, terms = self._terms(tokens)
        cols = pc.index_in(terms, value_set=_arrow(self.vocabulary_))
        known = cols.is_valid().to_numpy(zero_copy_only=False)
        cols = cols.drop_null().to_numpy()
        return _count_matrix(rows[known], cols, (tokens.n_texts, len(self.vocabulary_)))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return self.vocabulary_.copy()


_CHAR_BITS = 12  # one n-gram of up to 5 characters and its length fit in 63 bits
_MAX_ALPHABET = 2**_CHAR_BITS - 1  # code 0: separator or a character outside the alphabet


class _CharNgramCounts(TransformerMixin, BaseEstimator):
    """Counts of character n-grams inside words padded with spaces (like ``char_wb``).

    The n-grams are cut from each distinct word once (100,000 texts hold some ten thousand
    distinct words) and summed per text by a product of sparse matrices.
    """

    def __init__(self, ngram_range=(2, 5), min_df=2, max_features=None):
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features

    @staticmethod
    def _by_word(tokens: _Tokens) -> tuple[sparse.csr_matrix, list[str]]:
        """Texts by distinct words (counts), and the distinct words."""
        encoded = pc.dictionary_encode(tokens.words)
        words = encoded.dictionary.to_pylist()
        shape = (tokens.n_texts, len(words))
        return _count_matrix(tokens.rows, encoded.indices.to_numpy(), shape), words

    def _keys(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Word number and integer key of every n-gram of the padded words; a key is the
        n-gram's character codes, 12 bits each, then 3 bits of its length."""
        padded = "\x00".join(f" {w} " for w in words)
        points = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32)
        slot = np.minimum(np.searchsorted(self.alphabet_, points), self.alphabet_.size - 1)
        known = (self.alphabet_[slot] == points) & (points != 0)
        codes = np.where(known, slot + 1, 0).astype(np.uint64)
        word_of = np.cumsum(points == 0)
        bad = np.concatenate([[0], np.cumsum(~known)])
        space = np.concatenate([[0], np.cumsum(points == ord(" "))])
        all_rows, all_keys = [], []
        low, high = self.ngram_range
        key = np.zeros(points.size, dtype=np.uint64)  # key[i]: the n-gram starting at i
        for n in range(1, high + 1):
            size = points.size - n + 1
            if size <= 0:
                break
            key = (key[:size] << np.uint64(_CHAR_BITS)) | codes[n - 1 :]
            if n < low:
                continue
            # no separator or unknown character inside, no space except at either end
            inside = (bad[n : n + size] == bad[:size]) & (
                space[n - 1 : n - 1 + size] == space[1 : 1 + size]
            )
            starts = np.flatnonzero(inside)
            all_keys.append((key[starts] << np.uint64(3)) | np.uint64(n))
            all_rows.append(word_of[starts])
        if not all_keys:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint64)
        return np.concatenate(all_rows), np.concatenate(all_keys)

    def fit_transform(self, tokens: _Tokens, y=None):
        by_word, words = self._by_word(tokens)
        points = np.frombuffer("".join(words).encode("utf-32-le"), dtype=np.uint32)
        chars, counts = np.unique(points, return_counts=True)
        if chars.size > _MAX_ALPHABET - 1:  # keep the most frequent characters
            chars = chars[np.argsort(-counts, kind="stable")[: _MAX_ALPHABET - 1]]
        self.alphabet_ = np.union1d(chars, [ord(" ")]).astype(np.uint32)
        rows, keys = self._keys(words)
        codes, uniques = pd.factorize(keys)
        ngrams = _count_matrix(rows, codes, (len(words), len(uniques)))
        matrix = (by_word @ ngrams).tocsr()
        keep = _select_vocabulary(matrix, self.min_df, self.max_features)
        if keep.size == 0:  # no n-gram at all: key 0, which no n-gram has (length 0)
            self.vocabulary_ = pd.Index(np.zeros(1, dtype=np.uint64))
            return sparse.csr_matrix((tokens.n_texts, 1), dtype=np.float32)
        order = np.argsort(uniques[keep])
        self.vocabulary_ = pd.Index(uniques[keep][order])
        return matrix[:, keep[order]].tocsr()

    def fit(self, tokens: _Tokens, y=None):
        self.fit_transform(tokens)
        return self

    def transform(self, tokens: _Tokens):
        by_word, words = self._by_word(tokens)
        rows, keys = self._keys(words)
        cols = self.vocabulary_.get_indexer(keys)
        known = cols >= 0
        ngrams = _count_matrix(rows[known], cols[known], (len(words), len(self.vocabulary_)))
        return (by_word @ ngrams).tocsr()

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        keys = self.vocabulary_.to_numpy(dtype=np.uint64)
        names = []
        for key in keys.tolist():
            n, key = key & 7, key >> 3
            codes = [(key >> (_CHAR_BITS * (n - 1 - k))) & _MAX_ALPHABET for k in range(n)]
            names.append("".join(chr(self.alphabet_[c - 1]) for c in codes))
        return np.array(names, dtype=object)


# ==================================================================================================
# The model
# ==================================================================================================


def _check_range(name: str, value: Any) -> tuple[int, int]:
    ok = (
        isinstance(value, tuple | list)
        and len(value) == 2
        and all(isinstance(v, int | np.integer) for v in value)
        and 1 <= value[0] <= value[1]
    )
    if not ok:
        raise ParamsError(f"{name} must be a pair (low, high) with 1 <= low <= high, got {value!r}")
    return int(value[0]), int(value[1])


def _check_labels(reasons: Any, n_texts: int, table: str | None = None) -> np.ndarray:
    """Reason codes as an object array of str (case and spaces ignored); DataError otherwise."""
    if isinstance(reasons, str):
        raise ParamsError(f"reasons must be a sequence, one per text, not one string {reasons!r}")
    if isinstance(reasons, pd.Series):
        values = reasons.to_numpy(dtype=object)
    else:
        values = np.asarray(list(reasons), dtype=object)
    if len(values) != n_texts:
        raise DataError(f"got {n_texts} texts but {len(values)} reasons; pass one reason per text")
    codes, uniques = pd.factorize(values)  # missing values get code -1
    clean = np.array([str(u).strip().lower() for u in uniques] + [""], dtype=object)
    labels = clean[codes]  # code -1 picks the "" appended last
    missing = labels == ""
    if missing.any():
        raise DataError(
            f"{int(missing.sum())} of {n_texts} reasons are missing",
            table=table,
            column="reason",
            hint="fit only on labelled rows, or use classify_feedback, which sorts them out",
        )
    unknown = sorted(set(clean[:-1]) - set(REASON_CODES) - {""})
    if unknown:
        count = int(np.isin(labels, unknown).sum())
        raise DataError(
            f"{count} rows carry reasons that are not reason codes: {unknown[:5]}."
            + did_you_mean(unknown[0], REASON_CODES),
            table=table,
            column="reason",
            hint=f"map them to one of {list(REASON_CODES)}",
        )
    return labels


class ReasonClassifier(ClassifierMixin, BaseEstimator):
    """Churn reason of a feedback text: TF-IDF of words and characters, logistic regression.

    Features are word 1–2-grams and character 2–5-grams inside words (like scikit-learn's
    ``char_wb``), each TF-IDF weighted with sublinear term frequency, of the normalized text
    (:func:`normalize_texts`: Russian and English alike, ``ё`` as ``е``, no e-mails or phones).
    Character n-grams carry Russian word endings: "доставкой" and "доставку" share "доставк".
    With ``keywords=True`` the seed keyword scores of each reason (:func:`keyword_reasons`) are
    features too: on the demo store, a model that never saw a sentence in training recovers
    its reason 99% of the time with them and 70% without (stratified 3-fold CV grouped by
    sentence), because a store's labels rarely cover every way of saying "the courier was
    late". The classifier is a multinomial logistic regression with balanced class weights,
    so a rare reason (a move out of the delivery area) is not drowned by a common one.

    Parameters
    ----------
    C : float, default 1.0
        Inverse regularization strength, > 0.
    word_ngram_range, char_ngram_range : (int, int), default (1, 2) and (2, 5)
        Lengths of the word and character n-grams; characters at most 5.
    min_df : int, default 2
        Ignore n-grams found in fewer texts (typos, names, order numbers).
    max_features : int or None, default 100_000
        Keep at most this many of the most frequent word n-grams, and as many character n-grams.
    tol : float, default 3e-3
        The solver (L-BFGS) stops when no gradient component exceeds it. Each iteration reads
        every feature of every text; scikit-learn's 1e-4 took 5–7 times the iterations on
        30,000 texts with 10% wrong labels (17 vs 76–114), and fitted the wrong labels closer.
    max_iter : int, default 300
        Iterations of the solver at most.
    keywords : bool, default True
        Add the seed keyword scores of each reason (and of praise) as features.
    extra_keywords : mapping of reason code to list of str, optional
        Patterns added to :data:`KEYWORDS` for those features.

    Attributes
    ----------
    classes_ : numpy.ndarray
        Reason codes seen in fit, in :data:`REASON_CODES` order.
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted tokenizer, features and model; it reads :func:`normalize_texts` output.
    class_counts_ : pandas.Series
        Training texts per reason.
    n_texts_, n_empty_texts_ : int
        Training texts, and how many of them were missing or empty.
    n_word_features_, n_char_features_ : int
        Size of the two vocabularies.
    """

    def __init__(
        self,
        C: float = 1.0,
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] = (2, 5),
        min_df: int = 2,
        max_features: int | None = 100_000,
        tol: float = 3e-3,
        max_iter: int = 300,
        keywords: bool = True,
        extra_keywords: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.C = C
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.tol = tol
        self.max_iter = max_iter
        self.keywords = keywords
        self.extra_keywords = extra_keywords

    def _check_params(self) -> None:
        for name, value in (("C", self.C), ("tol", self.tol)):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not 0 < value < np.inf
            ):
                raise ParamsError(f"{name} must be a positive number, got {value!r}")
        if not isinstance(self.keywords, bool | np.bool_):
            raise ParamsError(f"keywords must be True or False, got {self.keywords!r}")
        _check_extra_keywords(self.extra_keywords)
        _check_range("word_ngram_range", self.word_ngram_range)
        _, high = _check_range("char_ngram_range", self.char_ngram_range)
        if high > 5:
            raise ParamsError(f"char_ngram_range allows at most 5 characters, got {high}")
        for name, value in (("min_df", self.min_df), ("max_iter", self.max_iter)):
            if not isinstance(value, int | np.integer) or value < 1:
                raise ParamsError(f"{name} must be an integer >= 1, got {value!r}")
        if self.max_features is not None and (
            not isinstance(self.max_features, int | np.integer) or self.max_features < 1
        ):
            raise ParamsError(
                f"max_features must be an integer >= 1 or None, got {self.max_features!r}"
            )

    def _build(self) -> Pipeline:
        def tfidf(counter):
            return Pipeline([("counts", counter), ("tfidf", TfidfTransformer(sublinear_tf=True))])

        words = _WordNgramCounts(tuple(self.word_ngram_range), self.min_df, self.max_features)
        chars = _CharNgramCounts(tuple(self.char_ngram_range), self.min_df, self.max_features)
        features = [("words", tfidf(words)), ("chars", tfidf(chars))]
        if self.keywords:
            features.append(("keywords", _KeywordScores(self.extra_keywords)))
        model = LogisticRegression(
            C=self.C, class_weight="balanced", tol=self.tol, max_iter=self.max_iter
        )
        return Pipeline(
            [("tokens", _Tokenizer()), ("features", FeatureUnion(features)), ("model", model)]
        )

    def fit(self, texts: Iterable[Any], reasons: Iterable[Any]) -> ReasonClassifier:
        """Learn the reasons of *texts* from their labels *reasons* (codes of
        :data:`REASON_CODES`, case ignored). Missing texts are read as empty and counted."""
        self._check_params()
        values, _, n_missing = _as_texts(texts)
        if len(values) == 0:
            raise DataError("no texts to learn from", hint="pass labelled feedback texts")
        labels = _check_labels(reasons, len(values))
        counts = pd.Series(labels).value_counts()
        if len(counts) < 2:
            raise DataError(
                f"every text carries the same reason {counts.index[0]!r}; a classifier needs at "
                "least two reasons",
                column="reason",
                hint="label texts of other reasons too, or use keyword_reasons",
            )
        normalized = _normalize_arrow(_arrow(values))
        empty = int(pc.sum(pc.equal(normalized, "")).as_py() or 0)
        if empty == len(values):
            raise DataError("every text is empty; there is nothing to learn from", column="text")
        if empty:
            warnings.warn(
                f"{empty} of {len(values)} training texts are empty or missing "
                f"({n_missing} missing); they teach the model only how common their reasons "
                "are. Drop them before fit to learn from words alone.",
                UserWarning,
                stacklevel=2,
            )
        pipeline = self._build()
        pipeline.fit(normalized, labels)
        union = pipeline.named_steps["features"]
        self.pipeline_ = pipeline
        self.classes_ = np.array([c for c in REASON_CODES if c in counts.index], dtype=object)
        self.class_counts_ = counts.reindex(self.classes_).rename("texts")
        self.n_texts_ = len(values)
        self.n_empty_texts_ = empty
        self.n_word_features_ = len(union.transformer_list[0][1][0].vocabulary_)
        self.n_char_features_ = len(union.transformer_list[1][1][0].vocabulary_)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "pipeline_"):
            raise NotFittedError(
                "this ReasonClassifier is not fitted yet; call fit(texts, reasons) first"
            )

    def _keyword_matcher(self) -> _KeywordMatcher | None:
        """The keyword lists of the fitted keyword features, if the model has them."""
        union = self.pipeline_.named_steps["features"]
        return union.named_transformers["keywords"].matcher_ if self.keywords else None

    def _distinct_scores(self, values: np.ndarray, matcher: _KeywordMatcher | None = None):
        """Per input row, the position of its distinct normalized text; per distinct text, the
        class probabilities (columns in :attr:`classes_` order), the features, the text and,
        when *matcher* is given, its keyword scan (:func:`_scan`; the keyword features reuse
        it when *matcher* is theirs)."""
        self._check_fitted()
        encoded = pc.dictionary_encode(_normalize_arrow(_arrow(values)))
        distinct = encoded.dictionary
        scan = _scan(distinct.to_pylist(), matcher) if matcher is not None else None
        if len(distinct) == 0:  # no texts: scikit-learn refuses empty input
            proba = np.empty((0, len(self.classes_)))
            return encoded.indices.to_numpy(), proba, sparse.csr_matrix((0, 1)), distinct, scan
        tokens = self.pipeline_.named_steps["tokens"].transform(distinct)
        if scan is not None and matcher is self._keyword_matcher():
            tokens = replace(tokens, keyword_scan=scan[0])
        features = self.pipeline_.named_steps["features"].transform(tokens)
        model = self.pipeline_.named_steps["model"]
        order = [list(model.classes_).index(c) for c in self.classes_]
        proba = model.predict_proba(features)[:, order].astype(np.float64)
        proba /= proba.sum(axis=1, keepdims=True)  # the float32 features leave rounding noise
        return encoded.indices.to_numpy(), proba, features, distinct, scan

    def predict_proba(self, texts: Iterable[Any]) -> pd.DataFrame:
        """Probability of each reason per text: one column per reason of :attr:`classes_`, rows
        summing to 1, index of *texts* when it is a Series."""
        values, index, _ = _as_texts(texts)
        codes, proba, *_ = self._distinct_scores(values)
        frame = pd.DataFrame(proba[codes], index=index, columns=list(self.classes_))
        frame.columns.name = "reason"
        return frame

    def predict(self, texts: Iterable[Any]) -> np.ndarray:
        """Most probable reason code per text."""
        values, _, _ = _as_texts(texts)
        codes, proba, *_ = self._distinct_scores(values)
        return self.classes_[proba.argmax(axis=1)][codes]

    def top_terms(self, texts: Iterable[Any], n_terms: int = 3) -> pd.Series:
        """Per text, its words and word pairs that pushed most toward the predicted reason,
        comma-separated (character n-grams are left out: they do not read well)."""
        values, index, _ = _as_texts(texts)
        codes, proba, features, *_ = self._distinct_scores(values)
        terms = np.asarray(self._top_terms(proba.argmax(axis=1), features, n_terms), object)
        return pd.Series(terms[codes], index=index, dtype="str")

    def _top_terms(
        self, predicted: np.ndarray, features: Any, n_terms: int, leading: list | None = None
    ) -> list[str]:
        """Top word terms per row of *features*, after the row's *leading* terms (matched
        keywords); a term whose words are already all shown is skipped."""
        features = sparse.csr_matrix(features)
        model = self.pipeline_.named_steps["model"]
        coef_rows = np.array([list(model.classes_).index(c) for c in self.classes_])[predicted]
        rows = np.repeat(np.arange(features.shape[0]), np.diff(features.indptr))
        is_word = features.indices < self.n_word_features_
        rows, cols = rows[is_word], features.indices[is_word]
        contribution = features.data[is_word] * model.coef_[coef_rows[rows], cols]
        positive = contribution > 0
        rows, cols, contribution = rows[positive], cols[positive], contribution[positive]
        order = np.lexsort((-contribution, rows))
        rows, cols = rows[order], cols[order]
        first = np.searchsorted(rows, rows, side="left")
        keep = np.arange(rows.size) - first < 2 * n_terms  # candidates, before skipping
        vocabulary = self.pipeline_.named_steps["features"].transformer_list[0][1][0].vocabulary_
        chosen = [list(terms[:n_terms]) for terms in leading or [[]] * features.shape[0]]
        for row, term in zip(rows[keep].tolist(), vocabulary[cols[keep]].tolist(), strict=True):
            picked = chosen[row]
            shown = {word for other in picked for word in other.split()}
            if len(picked) < n_terms and not set(term.split()) <= shown:
                picked.append(term)
        return [", ".join(picked) for picked in chosen]


# ==================================================================================================
# Evaluation
# ==================================================================================================


@dataclass(frozen=True)
class ClassifierEvaluation:
    """How well :class:`ReasonClassifier` recovers labelled reasons, by cross-validation.

    Attributes
    ----------
    per_reason : pandas.DataFrame
        Index ``reason`` (REASON_CODES order), columns ``precision``, ``recall``, ``f1``,
        ``support`` (labelled texts).
    macro_precision, macro_recall, macro_f1 : float
        Unweighted means over the labelled reasons: a rare reason counts as much as a common one.
    accuracy : float
        Share of texts whose reason was recovered.
    confusion : pandas.DataFrame
        Texts by true reason (rows) and predicted reason (columns).
    folds : int
        Folds used (fewer than asked when a reason has fewer texts).
    n_texts : int
        Texts evaluated.
    """

    per_reason: pd.DataFrame
    macro_precision: float
    macro_recall: float
    macro_f1: float
    accuracy: float
    confusion: pd.DataFrame
    folds: int
    n_texts: int


def evaluate_classifier(
    texts: Iterable[Any],
    reasons: Iterable[Any],
    folds: int = 5,
    random_state: int = 0,
    classifier: ReasonClassifier | None = None,
    groups: Iterable[Any] | None = None,
) -> ClassifierEvaluation:
    """Cross-validate *classifier* (default :class:`ReasonClassifier`) on labelled texts.

    Every text is predicted by a model that did not see it (stratified *folds*, shuffled with
    *random_state*). When a reason has fewer texts than *folds*, the folds are reduced to that
    count, with a warning; a reason with a single text cannot be cross-validated (DataError).

    *groups* (one value per text) keeps each group's texts in one fold. Pass the texts
    themselves to measure how well the model reads sentences it never saw: with a survey's
    fixed answer options, or the demo store's few dozen sentences, plain folds only test that
    the model remembers a sentence it saw in the other folds.
    """
    if isinstance(folds, bool) or not isinstance(folds, int | np.integer) or folds < 2:
        raise ParamsError(f"folds must be an integer >= 2, got {folds!r}")
    values, _, _ = _as_texts(texts)
    if len(values) == 0:
        raise DataError("no texts to evaluate", hint="pass labelled feedback texts")
    labels = _check_labels(reasons, len(values))
    if groups is not None:
        group_ids, _, _ = _as_texts(groups, "groups")
        if len(group_ids) != len(values):
            raise DataError(f"got {len(values)} texts but {len(group_ids)} groups")
        pairs = pd.DataFrame({"reason": labels, "group": group_ids}).drop_duplicates()
        counts, unit = pairs["reason"].value_counts(), "groups"
    else:
        counts, unit = pd.Series(labels).value_counts(), "labelled texts"
    if len(counts) < 2:
        raise DataError(
            f"every text carries the same reason {counts.index[0]!r}; nothing to tell apart",
            column="reason",
        )
    rarest, smallest = counts.index[-1], int(counts.iloc[-1])
    if smallest < 2:
        raise DataError(
            f"reason {rarest!r} has a single one of its {unit}; it cannot be cross-validated",
            column="reason",
            hint="label more texts of it, or drop it before evaluating",
        )
    if smallest < folds:
        warnings.warn(
            f"reason {rarest!r} has only {smallest} {unit}, fewer than folds={folds}; "
            f"using {smallest} folds. Label more texts of it for a steadier estimate.",
            UserWarning,
            stacklevel=2,
        )
        folds = smallest
    estimator = clone(classifier) if classifier is not None else ReasonClassifier()
    if groups is not None:
        cv = StratifiedGroupKFold(n_splits=int(folds), shuffle=True, random_state=random_state)
    else:
        cv = StratifiedKFold(n_splits=int(folds), shuffle=True, random_state=random_state)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r".*training texts are empty", UserWarning)
        predicted = cross_val_predict(
            estimator, values, labels, groups=None if groups is None else group_ids, cv=cv
        )
    present = [c for c in REASON_CODES if c in set(labels) | set(predicted)]
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=present, zero_division=0
    )
    per_reason = pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support},
        index=pd.Index(present, name="reason"),
    )
    labelled = per_reason[per_reason["support"] > 0]
    confusion = pd.DataFrame(
        confusion_matrix(labels, predicted, labels=present),
        index=pd.Index(present, name="true"),
        columns=pd.Index(present, name="predicted"),
    )
    return ClassifierEvaluation(
        per_reason=per_reason,
        macro_precision=float(labelled["precision"].mean()),
        macro_recall=float(labelled["recall"].mean()),
        macro_f1=float(labelled["f1"].mean()),
        accuracy=float((predicted == labels).mean()),
        confusion=confusion,
        folds=int(folds),
        n_texts=len(labels),
    )


# ==================================================================================================
# The feedback table
# ==================================================================================================


def _capped_per_reason(train: np.ndarray, labels: np.ndarray, cap: int) -> np.ndarray:
    """*train* thinned to at most *cap* rows: an equal share per reason, rarer reasons whole."""
    rows = np.flatnonzero(train)
    if len(rows) <= cap:
        return train
    codes = np.unique(labels[rows], return_inverse=True)[1]
    counts = np.bincount(codes)
    share = max(cap // len(counts), 1)
    rng = np.random.default_rng(0)
    keep = np.concatenate(
        [
            rng.choice(rows[codes == k], size=min(share, n), replace=False)
            for k, n in enumerate(counts)
        ]
    )
    thinned = np.zeros_like(train)
    thinned[keep] = True
    return thinned


def classify_feedback(
    feedback: pd.DataFrame,
    labelled_min: int = 50,
    *,
    extra_keywords: Mapping[str, Sequence[str]] | None = None,
    min_confidence: float = 0.5,
    classifier: ReasonClassifier | None = None,
    max_training_texts: int | None = 20_000,
    reason_map: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Give every row of the canonical feedback table a churn reason, with its evidence.

    Rows that carry a ``reason`` label keep it (method ``label``), read through *reason_map*.
    The others are classified by a :class:`ReasonClassifier` trained on the labelled rows with
    text, when there are at least *labelled_min* of them covering at least two reasons (method
    ``model``), else by the keyword lists (method ``keywords``). A row with neither label nor
    text gets ``unknown`` (method ``none``). Either way, a text whose praise outweighs its
    complaint words ("Отлично, всё понравилось!") is ``unknown``: the model learned only from
    texts that had a reason, and would otherwise give one to every compliment.

    Parameters
    ----------
    feedback : pandas.DataFrame
        Canonical feedback (:data:`custkit.contract.FEEDBACK`): ``customer_id``,
        ``created_at`` and, when present, ``kind``, ``text``, ``reason``.
    labelled_min : int, default 50
        Labelled texts needed to train the model.
    extra_keywords : mapping of reason code to list of str, optional
        Patterns added to :data:`KEYWORDS`, e.g. from params.
    min_confidence : float, default 0.5
        A model prediction less probable than this becomes ``unknown``: texts unlike any
        labelled one get no invented reason.
    classifier : ReasonClassifier, optional
        An unfitted classifier whose parameters to use; default ``ReasonClassifier()``.
    max_training_texts : int or None, default 20000
        Train on at most this many labelled texts: up to an equal share per reason (all texts of
        rarer reasons), drawn at random with a fixed seed. Fitting costs about 0.1 s per
        thousand texts, and a few thousand per reason already recover the reasons; ``None``
        trains on all.
    reason_map : mapping of str to str, optional
        The store's own reason labels → reason codes (params ``churn.reason_map``; see
        :mod:`custkit.churn.labels`). A label that is neither a code nor mapped raises a
        :class:`~custkit.errors.DataError` listing the entries to add.

    Returns
    -------
    pandas.DataFrame
        One row per input row, same index: ``customer_id``, ``created_at``, ``kind``,
        ``reason`` (categorical, :data:`REASON_CODES`), ``confidence`` (1 for labels; the
        model's probability of its best guess; the keyword certainty; 0 without evidence),
        ``evidence`` (at most 120 characters: a snippet of the text without e-mails or phones,
        then in brackets the matched keywords, the model's top terms or "label"), ``method``
        (``label`` / ``model`` / ``keywords`` / ``none``). ``attrs["method"]`` says which of
        model and keywords classified the unlabelled rows, ``attrs["n_training_texts"]`` on how
        many labelled texts the model learned.
    """
    if not isinstance(feedback, pd.DataFrame):
        raise ParamsError(f"feedback must be a DataFrame, got {type(feedback).__name__}")
    missing = [c for c in ("customer_id", "created_at") if c not in feedback.columns]
    if missing:
        raise DataError(
            f"missing column(s) {missing}; columns: {list(feedback.columns)}."
            + did_you_mean(missing[0], feedback.columns),
            table="feedback",
            hint="map the store's columns onto the canonical ones in the params file",
        )
    if (
        isinstance(labelled_min, bool)
        or not isinstance(labelled_min, int | np.integer)
        or labelled_min < 2
    ):
        raise ParamsError(f"labelled_min must be an integer >= 2, got {labelled_min!r}")
    if not isinstance(min_confidence, int | float) or not 0 <= min_confidence <= 1:
        raise ParamsError(f"min_confidence must be between 0 and 1, got {min_confidence!r}")
    matcher = _matcher(extra_keywords)

    n_rows = len(feedback)
    if "text" in feedback.columns:
        texts, _, _ = _as_texts(feedback["text"])
    else:
        texts = np.full(n_rows, "", dtype=object)
    labels = feedback_labels(feedback, reason_map)
    normalized = _normalize_arrow(_arrow(texts))
    has_text = pc.not_equal(normalized, "").to_numpy(zero_copy_only=False)
    labelled = labels != ""
    train = labelled & has_text
    todo = ~labelled & has_text
    if max_training_texts is not None:
        if (
            isinstance(max_training_texts, bool)
            or not isinstance(max_training_texts, int | np.integer)
            or max_training_texts < 2
        ):
            raise ParamsError(
                "The 'max_training_texts' parameter must be an int >= 2 or None. "
                f"Got {max_training_texts!r} instead."
            )
        train = _capped_per_reason(train, labels, int(max_training_texts))
    n_train = int(train.sum())
    n_classes = len(set(labels[train]))
    use_model = n_train >= labelled_min and n_classes >= 2
    if 0 < n_train and not use_model:
        warnings.warn(
            f"only {n_train} labelled texts of {n_classes} reason(s) (the model needs "
            f"labelled_min={labelled_min} and two reasons): the unlabelled rows are classified "
            "by the keyword lists. Label more feedback, or lower labelled_min.",
            UserWarning,
            stacklevel=2,
        )

    reason = np.full(n_rows, "unknown", dtype=object)
    confidence = np.zeros(n_rows)
    method = np.full(n_rows, "none", dtype=object)
    notes = np.full(n_rows, "", dtype=object)
    reason[labelled] = labels[labelled]
    confidence[labelled] = 1.0
    method[labelled] = "label"
    notes[labelled] = tr("label")  # shown in the evidence: the reason is the store's own label
    notes[~labelled & ~has_text] = "no text"

    if todo.any():
        # everything per distinct text, spread to the rows by `codes` at the end
        if use_model:
            model = clone(classifier) if classifier is not None else ReasonClassifier()
            if extra_keywords is not None:
                model.set_params(extra_keywords=extra_keywords)
            model.fit(texts[train], labels[train])
            matcher = model._keyword_matcher() or matcher  # one scan for features and praise
            codes, proba, features, _, (scores, words) = model._distinct_scores(
                texts[todo], matcher
            )
        else:
            encoded = pc.dictionary_encode(normalized.filter(pa.array(todo)))
            codes = encoded.indices.to_numpy()
            scores, words = _scan(encoded.dictionary.to_pylist(), matcher)
        found = _keyword_table(scores, words)
        keywords = found["keywords"].to_numpy(dtype=object)
        praised = ((found["reason"] == "unknown") & (found["keywords"] != "")).to_numpy()
        if use_model:
            best = proba.argmax(axis=1)
            guess, best_p = model.classes_[best], proba.max(axis=1)
            column = [_NAMED.index(g) if g in _NAMED else -1 for g in guess]
            leading = [w.get(c, []) for w, c in zip(words, column, strict=True)]
            terms = np.array(model._top_terms(best, features, 3, leading), dtype=object)
            sure = (best_p >= min_confidence) & ~praised
            unsure = [f"unsure: {g} {p:.2f}" for g, p in zip(guess, best_p, strict=True)]
            reason[todo] = np.where(sure, guess, "unknown")[codes]
            confidence[todo] = np.where(praised, 0.0, best_p)[codes]
            method[todo] = "model"
            note = np.where(sure, terms, np.array(unsure, dtype=object))
        else:
            reason[todo] = found["reason"].to_numpy(dtype=object)[codes]
            confidence[todo] = found["confidence"].to_numpy()[codes]
            method[todo] = "keywords"
            note = keywords.copy()
        note[praised] = "praise: " + keywords[praised]
        notes[todo] = note[codes]

    out = pd.DataFrame(
        {
            "customer_id": feedback["customer_id"].array,
            "created_at": feedback["created_at"].array,
            "kind": feedback["kind"].array if "kind" in feedback.columns else pd.NA,
            "reason": pd.Categorical(reason, categories=REASON_CODES),
            "confidence": confidence,
            "evidence": pd.array(_evidence(texts, notes.tolist()), dtype="str"),
            "method": pd.Categorical(method, categories=_METHODS),
        },
        index=feedback.index,
    )
    out.attrs["method"] = "model" if use_model else "keywords"
    out.attrs["n_training_texts"] = n_train if use_model else 0
    return out
