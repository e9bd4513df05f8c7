"""Figures for custkit reports: functions that take computed frames and return a Figure."""

from custkit.plots.audit import (
    plot_acquisition,
    plot_base_turnover,
    plot_categories,
    plot_cleanliness,
    plot_cohort_retention,
    plot_funnel,
    plot_kpi_trend,
    plot_lapsed_bands,
    plot_migration,
    plot_segments,
)
from custkit.plots.ltv import (
    plot_clv_by_group,
    plot_clv_distribution,
    plot_cohort_profit,
    plot_tracking,
    plot_value_at_risk,
    plot_value_ratio,
)

__all__ = [
    "plot_acquisition",
    "plot_base_turnover",
    "plot_categories",
    "plot_cleanliness",
    "plot_clv_by_group",
    "plot_clv_distribution",
    "plot_cohort_profit",
    "plot_cohort_retention",
    "plot_funnel",
    "plot_kpi_trend",
    "plot_lapsed_bands",
    "plot_migration",
    "plot_segments",
    "plot_tracking",
    "plot_value_at_risk",
    "plot_value_ratio",
]
