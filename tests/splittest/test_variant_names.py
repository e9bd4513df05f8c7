"""Variant names inside sentences are quoted, in every verdict kind and report language.

Issue 15: a page said "ship contact" and «внедрять contact»: a store's own variant code, bare in
a sentence, reads as one of its words. Every text a verdict puts on the page (its label, the
verdict finding, the one line of a broken or too early test, the overview's actions) quotes the
variant's name: “contact” in English, «contact» in Russian.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pandas as pd
import pytest

from custkit.i18n import use_language
from custkit.splittest import findings
from custkit.splittest.findings import verdict_finding
from custkit.splittest.verdicts import Verdict

AS_OF = pd.Timestamp("2026-10-31")
#: A store's own variant codes that are also words ("contact", "holdout", "email").
VARIANT, CONTROL = "contact", "holdout"
BARE = re.compile(rf"(?<![“«\w])({VARIANT}|{CONTROL})(?![”»\w])")

#: One verdict of every kind the report gives (the too early kinds: with a judge date, nobody
#: assigned yet, a single variant so far).
KINDS = {
    "ship": dict(code="ship", crossing_date=AS_OF, provisional=False),
    "keep_control": dict(code="keep_control", crossing_date=AS_OF, provisional=False),
    "no_difference": dict(code="no_difference", provisional=False),
    "too_early": dict(code="too_early", judge_date=pd.Timestamp("2026-12-14")),
    "too_early_nobody_yet": dict(code="too_early", estimate=float("nan")),
    "too_early_single_variant": dict(code="too_early", variant=None, estimate=float("nan")),
    "srm": dict(code="srm", srm_p_value=1e-6),
}


def make_verdict(kind: str) -> Verdict:
    fields = dict(
        experiment_id="winback_2026_07",
        text="kept as it was",
        metric="revenue",
        variant=VARIANT,
        control=CONTROL,
        judge_date=None,
        provisional=True,
        estimate=0.356,
        ci_low=0.078,
        ci_high=0.635,
        p_value=0.01,
        srm_p_value=0.9,
        crossing_date=None,
    )
    fields.update(KINDS[kind])
    return Verdict(**fields)


#: What verdict_finding reads of a review.
REVIEW = SimpleNamespace(horizon_days=90, alpha=0.05)


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_verdict_label_and_finding_quote_the_variant_names(kind, language):
    result = make_verdict(kind)
    with use_language(language):
        finding = verdict_finding(REVIEW, result)
        texts = [result.label, finding.title, finding.conclusion, finding.action]
    bare = [text for text in texts if BARE.search(text)]
    assert not bare, f"{kind} ({language}): a variant's name bare in {bare}"


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_overview_names_the_variant_to_ship_or_stop_quoted(language):
    verdicts = [make_verdict(kind) for kind in KINDS]
    with use_language(language):
        actions = findings._overview_actions(verdicts)
        name = findings.quoted(VARIANT)
    assert not BARE.search(actions), actions
    assert actions.count(name) == 2  # the variant to ship, the variant to stop


@pytest.mark.parametrize(("language", "expected"), [("en", "“contact”"), ("ru", "«contact»")])
def test_a_variant_name_is_quoted_the_report_languages_way(language, expected):
    with use_language(language):
        assert findings.quoted(VARIANT) == expected


def test_the_kpis_keep_the_verdict_text_as_it_was():
    # splittest.kpis.json keeps "ship contact": only the page's label quotes
    result = make_verdict("ship")
    assert result.text == "kept as it was" and result.label == "ship “contact”"
