"""The audit in Russian: every label it shows has a translation, and the findings read right.

``tests/test_i18n.py`` checks the messages written as ``_("…")``; this file checks the English
labels the audit keeps in constants and data (KPI and segment labels, segment codes, funnel steps,
the column headers of its tables), which are translated where they are shown.
"""

import re

import pytest

from custkit.audit import (
    KPI_DEFINITIONS,
    SEGMENT_ACTIONS,
    SEGMENTS,
    acquisition_by,
    acquisition_finding,
    categories_finding,
    category_label,
    cleanliness_finding,
    cohort_retention,
    contact_quality,
    conversion_funnel,
    customer_categories,
    duplicate_groups,
    funnel_finding,
    headline_kpis,
    health_finding,
    kpi_comparison,
    kpi_finding,
    lapsed_bands,
    referral_performance,
    rejected_rows,
    retention_finding,
    rfm_finding,
    rfm_scores,
    segment_migration,
    segment_summary,
    step_label,
    time_to_second_order,
)
from custkit.audit.health import base_turnover
from custkit.audit.rfm import NOT_YET_CUSTOMER
from custkit.i18n import has_translation, use_language
from custkit.reports.display import humanize

LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def _columns(*frames):
    return {str(c) for frame in frames for c in frame.columns}


@pytest.fixture
def tables(red, period, customers):
    """Every table the audit notebook shows (``show_table``), computed on the shared store."""
    return {
        "by_channel": acquisition_by(red, period, customers),
        "by_region": acquisition_by(red, period, customers, by="region"),
        "referral": referral_performance(red, period, customers),
        "funnel": conversion_funnel(red, period, customers),
        "to_second": time_to_second_order(red, period),
        "segments": segment_summary(rfm_scores(red, period)),
        "rejected": rejected_rows({}),
    }


def test_every_label_kept_in_english_constants_has_a_russian_translation():
    labels = [label for label, _unit in KPI_DEFINITIONS.values()]
    labels += [text for pair in SEGMENT_ACTIONS.values() for text in pair]
    # codes shown as table cells (show_table looks each up) and by other reports' plots
    labels += [*SEGMENTS, NOT_YET_CUSTOMER]
    labels += ["registered", "first_order", "second_order", "third_order"]
    labels += ["referred", "not_referred"]
    missing = [label for label in labels if not has_translation(label, "ru")]
    assert not missing


def test_every_column_header_of_the_audit_tables_has_a_russian_translation(tables):
    headers = {humanize(c) for c in _columns(*tables.values())}
    headers |= {humanize(c) for c in ("table", "rows_read", "accepted", "rejected")}
    missing = sorted(h for h in headers if not has_translation(h, "ru"))
    assert not missing


def test_labels_are_shown_in_the_report_language(red, period):
    with use_language("ru"):
        assert step_label("first_order") == "Первый заказ"
        assert category_label("one_time") == "Разовые"
        assert category_label("Moscow") == "Moscow"  # the store's own names stay as written
        comparison = kpi_comparison(red, period)
        summary = segment_summary(rfm_scores(red, period))
        bands = lapsed_bands(red, period)
    assert not any(LATIN_WORD.search(label) for label in comparison["label"])
    assert not any(LATIN_WORD.search(text) for text in summary[["label", "action"]].stack())
    assert bands["band"].astype(str).tolist() == [
        "0–3 месяца",
        "3–6 месяцев",
        "6–12 месяцев",
        "12–24 месяца",
        "от 24 месяцев",
    ]


def test_findings_read_in_russian_with_russian_numbers(red, period, customers):
    with use_language("ru"):
        scores = rfm_scores(red, period)
        previous = rfm_scores(red, period.previous_month)
        retention = cohort_retention(red, period)
        findings = [
            kpi_finding(kpi_comparison(red, period)),
            health_finding(
                headline_kpis(red, period)["annual_churn_rate"], base_turnover(red, period)
            ),
            acquisition_finding(
                acquisition_by(red, period, customers),
                referral_performance(red, period, customers),
            ),
            funnel_finding(conversion_funnel(red, period, customers)),
            retention_finding(retention, time_to_second_order(red, period)),
            rfm_finding(segment_summary(scores), segment_migration(scores, previous)),
            categories_finding(customer_categories(red, period, customers)),
            cleanliness_finding(contact_quality(customers), duplicate_groups(customers)),
        ]
    for finding in findings:
        for text in (finding.title, finding.conclusion, finding.action):
            assert re.search("[а-яё]", text), text
            # the demo store's channels read in words too
            assert not LATIN_WORD.findall(text), text
    assert "3 клиента купили на общую сумму 380" in findings[0].conclusion
    assert "За июнь\u00a02024:" in findings[1].conclusion


def test_counted_nouns_follow_the_russian_plural_rule(customers):
    rejected = rejected_rows({})
    with use_language("ru"):
        finding = cleanliness_finding(contact_quality(customers), duplicate_groups(customers))
        texts = {
            n: cleanliness_finding(
                contact_quality(customers),
                duplicate_groups(customers),
                rejected.reindex([0]).assign(rejected=n),
            ).conclusion
            for n in (1, 3, 5, 21)
        }
    assert "2 группы клиентов похожи на дубли" in finding.conclusion  # c1 + c5, c3 + c6
    assert "1 входная строка отклонена" in texts[1]
    assert "3 входные строки отклонены" in texts[3]
    assert "5 входных строк отклонено" in texts[5]
    assert "21 входная строка отклонена" in texts[21]
