"""The store's own feedback reasons as custkit's reason codes (params ``churn: {reason_map: …}``).

A store labels feedback in its own words ("Дорогая доставка", "Courier late"). The churn report
reads those labels as training data and as the reason of the labelled rows, so each value must
be a reason code of :data:`~custkit.churn.codes.REASON_CODES` or be mapped onto one::

    churn:
      reason_map:
        "Дорогая доставка": delivery_cost
        "Курьер опоздал": delivery

Values are matched with surrounding spaces and case ignored. A value that is neither a code nor
mapped stops the report (and ``custkit validate``) with an error listing every such value, how
many rows carry it and the ``reason_map`` lines to add, with a guess from the keyword lists: a
label silently counted as "no reason" would move customers between reasons unseen. Map a value
to ``unknown`` to keep its rows without a reason.

Mapping runs once per distinct value (``pandas.factorize``), so a million feedback rows cost a
factorization, not a million lookups.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import yaml

from custkit.churn.codes import REASON_CODES
from custkit.errors import DataError, ParamsError, did_you_mean

__all__ = ["check_reason_map", "feedback_labels"]

#: Distinct unmapped values quoted in the error (the count says how many more there are).
_SHOWN = 10


def _key(value: Any) -> str:
    return " ".join(str(value).split()).casefold()


def check_reason_map(reason_map: Mapping[str, str] | None) -> dict[str, str]:
    """Check the ``churn.reason_map`` parameter and return it keyed by matching text.

    Parameters
    ----------
    reason_map : mapping of str to str, or None
        The store's reason (as written in its feedback table) → custkit reason code.

    Returns
    -------
    dict
        Keys with case and repeated spaces folded (how feedback values are matched), values the
        reason codes.

    Raises
    ------
    ParamsError
        Not a mapping, an empty key, a value that is not a reason code (with "did you mean"), or
        two keys that differ only in case or spaces but map to different codes.
    """
    if reason_map is None:
        return {}
    if not isinstance(reason_map, Mapping):
        raise ParamsError(
            "The 'reason_map' parameter of the churn report must map the store's feedback "
            "reasons to reason codes, e.g. {'Дорогая доставка': 'delivery_cost'}. "
            f"Got {reason_map!r} instead."
        )
    folded: dict[str, str] = {}
    for store_value, code in reason_map.items():
        key = _key(store_value) if store_value is not None else ""
        if not key:
            raise ParamsError(
                "The 'reason_map' parameter of the churn report must not have an empty key. "
                f"Got {store_value!r} instead."
            )
        if not isinstance(code, str) or code.strip().lower() not in REASON_CODES:
            raise ParamsError(
                f"reason_map[{store_value!r}] must be one of the reason codes "
                f"{', '.join(REASON_CODES)}. Got {code!r} instead."
                + did_you_mean(str(code), REASON_CODES)
            )
        code = code.strip().lower()
        if folded.get(key, code) != code:
            raise ParamsError(
                f"reason_map maps {store_value!r} to {code!r}, but a key differing only in case "
                f"or spaces to {folded[key]!r}. Keep one of them."
            )
        folded[key] = code
    return folded


def feedback_labels(
    feedback: pd.DataFrame | None, reason_map: Mapping[str, str] | None = None
) -> np.ndarray:
    """The ``reason`` column of *feedback* as reason codes, ``""`` where a row has none.

    Parameters
    ----------
    feedback : pandas.DataFrame or None
        The canonical feedback table; without a ``reason`` column every row is unlabelled.
    reason_map : mapping of str to str, optional
        The store's reasons → reason codes (see :func:`check_reason_map`). Values that already
        are reason codes need no entry.

    Returns
    -------
    numpy.ndarray of str (object)
        One per row, in order.

    Raises
    ------
    ParamsError
        *reason_map* is malformed.
    DataError
        Some values are neither reason codes nor mapped: the message lists them with their row
        counts and the ``reason_map`` entries to add.
    """
    mapping = check_reason_map(reason_map)
    if feedback is None:
        return np.empty(0, dtype=object)
    labels = np.full(len(feedback), "", dtype=object)
    if "reason" not in feedback.columns or len(feedback) == 0:
        return labels
    codes, uniques = pd.factorize(feedback["reason"], sort=False)  # missing values: -1
    keys = [_key(u) for u in uniques]
    lookup = {c: c for c in REASON_CODES} | {"": ""} | mapping
    mapped = np.array([lookup.get(k) for k in keys] + [""], dtype=object)
    unmapped = np.flatnonzero(pd.isna(mapped[:-1]))
    if len(unmapped):
        _raise_unmapped(
            [str(uniques[u]) for u in unmapped], np.bincount(codes[codes >= 0])[unmapped]
        )
    return mapped[codes]


def _raise_unmapped(values: list[str], counts: np.ndarray) -> None:
    from custkit.churn.text import keyword_reasons

    order = np.argsort(-counts, kind="stable")
    values = [values[i] for i in order]
    counts = counts[order]
    guesses = keyword_reasons(values[:_SHOWN])["reason"].astype(str).tolist()
    listed = ", ".join(
        f"{v!r} ({n:,} row{'' if n == 1 else 's'})"
        for v, n in zip(values[:_SHOWN], counts, strict=False)
    )
    more = f" and {len(values) - _SHOWN:,} more" if len(values) > _SHOWN else ""
    suggestion = {"churn": {"reason_map": dict(zip(values[:_SHOWN], guesses, strict=True))}}
    snippet = yaml.safe_dump(suggestion, allow_unicode=True, sort_keys=False, width=10_000)
    lines = "".join(f"\n  {line}" for line in snippet.splitlines())
    raise DataError(
        f"{int(counts.sum()):,} rows carry reasons that are not custkit reason codes: "
        f"{listed}{more}.",
        table="feedback",
        column="reason",
        hint=(
            "map each of the store's reasons to a reason code in the params file (codes guessed "
            f"from the keyword lists; check them):{lines}\n"
            f"  Reason codes: {', '.join(REASON_CODES)} (unknown: no reason)."
        ),
    )
