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

__all__ = [
    "plot_acquisition",
    "plot_base_turnover",
    "plot_categories",
    "plot_cleanliness",
    "plot_cohort_retention",
    "plot_funnel",
    "plot_kpi_trend",
    "plot_lapsed_bands",
    "plot_migration",
    "plot_segments",
]
