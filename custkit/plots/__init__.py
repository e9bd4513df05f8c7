"""Figures for custkit reports: functions that take computed frames and return a Figure.

Matplotlib only; seaborn is not a dependency. The figures seaborn would be the natural tool for
are few and plain: the audit's heatmaps (cohort retention, category crosstabs, segment
migration) are one masked ``imshow`` in ``custkit.plots.audit._heatmap`` whose cells are written
with the report's own number format (Russian separators), which seaborn's ``annot``/``fmt``
cannot do; the distributions (:mod:`custkit.plots.ltv`) are one ``hist`` each. Through seaborn
they would still need the mathtext-off rule of :mod:`custkit.plots.style`, and every report
kernel would import it (0.24 s on top of matplotlib, pandas and scipy, measured).
"""

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
from custkit.plots.churn import (
    plot_calibration,
    plot_churn_trend,
    plot_reason_shares,
    plot_reason_trend,
    plot_reasons_by_group,
    plot_risk_drivers,
    plot_winback_plan,
)
from custkit.plots.ltv import (
    plot_clv_by_group,
    plot_clv_distribution,
    plot_cohort_profit,
    plot_tracking,
    plot_value_at_risk,
    plot_value_ratio,
)
from custkit.plots.splittest import plot_effect_by_month, plot_effect_intervals, plot_sequential

__all__ = [
    "plot_acquisition",
    "plot_base_turnover",
    "plot_calibration",
    "plot_categories",
    "plot_churn_trend",
    "plot_cleanliness",
    "plot_clv_by_group",
    "plot_clv_distribution",
    "plot_cohort_profit",
    "plot_cohort_retention",
    "plot_effect_by_month",
    "plot_effect_intervals",
    "plot_funnel",
    "plot_kpi_trend",
    "plot_lapsed_bands",
    "plot_migration",
    "plot_reason_shares",
    "plot_reason_trend",
    "plot_reasons_by_group",
    "plot_risk_drivers",
    "plot_segments",
    "plot_sequential",
    "plot_tracking",
    "plot_value_at_risk",
    "plot_value_ratio",
    "plot_winback_plan",
]
