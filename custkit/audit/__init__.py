"""The customer audit: one module per report section, each computing frames and a Finding.

Every section reads the order reductions (:func:`custkit.data.reduce.reduce_orders`) and, where it
needs them, the canonical customers table; none re-scans the raw orders.
"""

from custkit.audit.acquisition import (
    acquisition_by,
    acquisition_finding,
    referral_group_label,
    referral_performance,
)
from custkit.audit.actions import list_actions, yearly_spend
from custkit.audit.categories import (
    CrossTab,
    categories_finding,
    category_crosstab,
    category_label,
    customer_categories,
)
from custkit.audit.cleanliness import (
    cleanliness_finding,
    contact_quality,
    duplicate_groups,
    normalize_email,
    normalize_phone,
    rejected_rows,
)
from custkit.audit.cohorts import (
    CohortRetention,
    cohort_retention,
    retention_finding,
    time_to_second_order,
)
from custkit.audit.exports import birthdays_next_month, duplicates_to_merge, reactivation_list
from custkit.audit.funnel import conversion_funnel, funnel_finding, step_label
from custkit.audit.health import (
    ANNUAL_CHURN_NORM,
    base_turnover,
    health_finding,
    lapsed_bands,
)
from custkit.audit.kpis import (
    KPI_DEFINITIONS,
    headline_kpis,
    kpi_comparison,
    kpi_finding,
    kpi_trend,
)
from custkit.audit.report import check_inputs
from custkit.audit.rfm import (
    RFM_SEGMENT_MAP,
    SEGMENT_ACTIONS,
    SEGMENT_GRID,
    SEGMENTS,
    rfm_finding,
    rfm_scores,
    segment_label,
    segment_migration,
    segment_summary,
)
from custkit.data.sections import section
from custkit.i18n import N_

#: What the audit reads: the optional order columns it uses (see
#: :func:`custkit.data.reduce.reduce_orders`) and the whole customers table.
#: Pass to ``load_store(..., tables=READS)``; on 10M orders, skipping the rest saves seconds.
READS = {"orders": ("status", "cost", "channel", "delivery_region"), "customers": None}

_CHANNEL = ("customers.acquisition_channel", "orders.channel")
_REGION = ("customers.region", "orders.delivery_region")
#: The audit's sections that need more than the orders' required columns, and what they need
#: (see :mod:`custkit.data.sections`): ``start_report(..., sections=SECTIONS)``.
SECTIONS = {
    "acquisition_channel": section(N_("New customers by acquisition channel"), any_of=_CHANNEL),
    "acquisition_region": section(N_("New customers by region"), any_of=_REGION),
    "referrals": section(N_("Bring-a-friend referrals"), "customers.referrer_id"),
    "registration": section(
        N_("Registration step of the conversion funnel"), "customers.registered_at"
    ),
    "categories_by_region": section(N_("Customer categories by region"), any_of=_REGION),
    "categories_by_channel": section(N_("Customer categories by channel"), any_of=_CHANNEL),
    "reactivation_list": section(
        N_("Reactivation list"),
        "customers",
        any_of=("customers.consent_email", "customers.consent_sms"),
    ),
    "birthdays_next_month": section(N_("Birthday list for next month"), "customers.birth_date"),
    "duplicates_to_merge": section(
        N_("Duplicate customers to merge"), any_of=("customers.email", "customers.phone")
    ),
}

__all__ = [
    "ANNUAL_CHURN_NORM",
    "KPI_DEFINITIONS",
    "READS",
    "RFM_SEGMENT_MAP",
    "SECTIONS",
    "SEGMENTS",
    "SEGMENT_ACTIONS",
    "SEGMENT_GRID",
    "CohortRetention",
    "CrossTab",
    "acquisition_by",
    "acquisition_finding",
    "base_turnover",
    "birthdays_next_month",
    "categories_finding",
    "category_crosstab",
    "category_label",
    "check_inputs",
    "cleanliness_finding",
    "cohort_retention",
    "contact_quality",
    "conversion_funnel",
    "customer_categories",
    "duplicate_groups",
    "duplicates_to_merge",
    "funnel_finding",
    "headline_kpis",
    "health_finding",
    "kpi_comparison",
    "kpi_finding",
    "kpi_trend",
    "lapsed_bands",
    "list_actions",
    "normalize_email",
    "normalize_phone",
    "reactivation_list",
    "referral_group_label",
    "referral_performance",
    "rejected_rows",
    "retention_finding",
    "rfm_finding",
    "rfm_scores",
    "segment_label",
    "segment_migration",
    "segment_summary",
    "step_label",
    "time_to_second_order",
    "yearly_spend",
]
