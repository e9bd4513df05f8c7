"""A store's text is drawn as written in every figure: channels, regions, reasons, experiment ids
and currencies with ``$``, TeX commands, braces, HTML, Cyrillic or great length neither stop a
report (matplotlib's mathtext) nor turn into formulas."""

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

import custkit.plots as plots
from custkit.audit.categories import CrossTab
from custkit.audit.cohorts import CohortRetention
from custkit.ltv.validation import TrackingData
from custkit.plots.style import ReportFigure
from custkit.splittest.results import MetricResults, MonthResults, SequentialLooks

HOSTILE = [
    "Promo $\\frac$",
    "$5 off, $10 back",
    "snake_case x^2 {curly} }{ {0} %s \\alpha C:\\new <script>alert('x')</script>",
    "Очень длинное название канала привлечения «ВКонтакте» — скидка 5% " * 4,
]
MONTHS = pd.period_range("2026-01", periods=4, freq="M")


def _share(n: int) -> np.ndarray:
    return np.linspace(0.1, 0.4, n)


# Each builder takes a hostile label and returns (args, kwargs, text expected on the figure);
# the label goes wherever the function draws text from the store (or from params: currency).
BUILDERS = {
    "plot_kpi_trend": lambda s: (
        [
            pd.DataFrame(
                {"month": MONTHS, "customers": [5, 6, 7, 8], "revenue": [1e3, 2e3, 3e3, 4e3]}
            )
        ],
        {"currency": s},
        s,
    ),
    "plot_base_turnover": lambda s: (
        [pd.DataFrame({"month": MONTHS, "gained": 4, "returned": 1, "lost": 2, "net_change": 3})],
        {},
        None,  # months and counts only
    ),
    "plot_lapsed_bands": lambda s: (
        [
            pd.DataFrame(
                {"band": [s, "1-2 years"], "customers": [5, 3], "customer_share": [0.6, 0.4]}
            )
        ],
        {},
        s,
    ),
    "plot_acquisition": lambda s: (
        [
            pd.DataFrame(
                {
                    "acquisition_channel": [s, "organic"],
                    "new_customers": [5, 3],
                    "repeat_rate": [0.2, 0.5],
                }
            )
        ],
        {},
        s,
    ),
    "plot_funnel": lambda s: (
        [
            pd.DataFrame(
                {
                    "step": ["registered", s],
                    "customers": [10, 4],
                    "rate_from_previous": [np.nan, 0.4],
                }
            )
        ],
        {},
        s,
    ),
    "plot_cohort_retention": lambda s: (
        [
            CohortRetention(
                size=pd.Series([10, 8], index=MONTHS[:2]),
                share=pd.DataFrame({0: [1.0, 1.0], 1: [0.3, np.nan]}, index=MONTHS[:2]),
                revenue_per_customer=pd.DataFrame(
                    {0: [50.0, 40.0], 1: [9.0, np.nan]}, index=MONTHS[:2]
                ),
            )
        ],
        {"value": "revenue", "currency": s},
        s,
    ),
    "plot_segments": lambda s: (
        [
            pd.DataFrame(
                {
                    "label": [s, "champions"],
                    "customer_share": [0.3, 0.7],
                    "revenue_share": [0.2, 0.8],
                }
            )
        ],
        {},
        s,
    ),
    "plot_migration": lambda s: (
        [pd.DataFrame([[3, 1], [2, 4]], index=[s, "champions"], columns=[s, "champions"])],
        {},
        s,
    ),
    "plot_categories": lambda s: (
        [
            CrossTab(
                customers=pd.DataFrame(
                    [[3, 1], [2, 4]],
                    index=pd.Index([s, "North"], name="region"),
                    columns=pd.Index(["active", "lapsed"], name="activity"),
                ),
                revenue_share=pd.DataFrame(
                    [[0.3, 0.1], [0.2, 0.4]],
                    index=pd.Index([s, "North"], name="region"),
                    columns=pd.Index(["active", "lapsed"], name="activity"),
                ),
            )
        ],
        {},
        s,
    ),
    "plot_cleanliness": lambda s: (
        [pd.DataFrame({"label": [s, "missing_email"], "share": [0.1, 0.2]})],
        {},
        s,
    ),
    "plot_churn_trend": lambda s: (
        [
            pd.DataFrame(
                {
                    "month": MONTHS,
                    "churn_rate": _share(4),
                    "churn_rate_low": _share(4) - 0.05,
                    "churn_rate_high": _share(4) + 0.05,
                    "returned_share": _share(4),
                }
            )
        ],
        {},
        None,  # months and rates only
    ),
    "plot_reason_shares": lambda s: (
        [
            pd.DataFrame(
                {
                    "label": [s, "Price"],
                    "share": [0.6, 0.4],
                    "share_low": [0.5, 0.3],
                    "share_high": [0.7, 0.5],
                    "revenue_lost_per_year": [1e5, 5e4],
                }
            )
        ],
        {"currency": s},
        s,
    ),
    "plot_reason_trend": lambda s: (
        [
            pd.DataFrame(
                {
                    "reason": [s, "price"],
                    "growing": [True, False],
                    "2026-01": [3, 2],
                    "2026-02": [4, 1],
                }
            )
        ],
        {},
        s,
    ),
    "plot_reasons_by_group": lambda s: (
        [
            pd.DataFrame(
                {
                    "region": [s, s, "North"],
                    "reason": [s, "price", "price"],
                    "rate": [0.1, 0.2, 0.3],
                }
            )
        ],
        {},
        s,
    ),
    "plot_calibration": lambda s: (
        [pd.DataFrame({"mean_predicted": _share(4), "observed_rate": _share(4)})],
        {},
        None,  # shares only
    ),
    "plot_risk_drivers": lambda s: (
        [pd.DataFrame({"label": [s, "recency"], "importance": [0.05, 0.02]})],
        {},
        s,
    ),
    "plot_winback_plan": lambda s: (
        [
            pd.DataFrame(
                {
                    "action": ["price", "price", s],
                    "channel": [s, "email", s],
                    "customers": [5, 3, 2],
                    "expected_revenue_won": [1e3, 5e2, 2e2],
                }
            )
        ],
        {"currency": s},
        s,
    ),
    "plot_tracking": lambda s: (
        [
            TrackingData(
                pd.DataFrame(
                    {
                        "week": [1, 2, 3],
                        "week_end": pd.date_range("2026-01-07", periods=3, freq="7D"),
                        "actual": [1.0, 3.0, 6.0],
                        s: [1.0, 2.5, 5.0],
                    }
                ),
                "W",
            )
        ],
        {},
        s,
    ),
    "plot_clv_distribution": lambda s: (
        [pd.DataFrame({"clv": [0.0, 10.0, 100.0, 1000.0], "status": "scored"})],
        {"currency": s},
        s,
    ),
    "plot_clv_by_group": lambda s: (
        [
            pd.DataFrame(
                {
                    "acquisition_channel": [s, "organic"],
                    "clv_mean": [10.0, 20.0],
                    "clv_total": [1e3, 2e3],
                    "clv_share": [1 / 3, 2 / 3],
                }
            )
        ],
        {"currency": s},
        s,
    ),
    "plot_value_ratio": lambda s: (
        [pd.DataFrame({"value_to_annual_revenue": [1.0, 2.0, 3.5, 5.0]})],
        {},
        None,  # ratios only
    ),
    "plot_value_at_risk": lambda s: (
        [
            pd.DataFrame(
                {
                    "tier": ["top_1%", "rest"],
                    "clv_total": [1e4, 2e4],
                    "value_at_risk": [1e3, 5e3],
                    "p_alive_mean": [0.9, 0.5],
                }
            )
        ],
        {"currency": s},
        s,
    ),
    "plot_cohort_profit": lambda s: (
        [
            pd.DataFrame(
                {
                    "cohort": MONTHS,
                    "revenue_mean": [10.0, 20.0, 30.0, 40.0],
                    "revenue_median": [8.0, 15.0, 25.0, 35.0],
                    "revenue_share": _share(4),
                }
            )
        ],
        {"currency": s},
        s,
    ),
    "plot_effect_intervals": lambda s: (
        [MetricResults(_metric_rows(s), s, 0.05, False, "holm", "Holm-adjusted", 2)],
        {},
        s,
    ),
    "plot_effect_by_month": lambda s: ([MonthResults(_month_rows(s), s, 0.05, False)], {}, s),
    "plot_sequential": lambda s: (
        [_sequential_looks(_looks(), experiment_id=s, metric=s)],
        {},
        s[:1].lower() + s[1:],  # "Monthly looks at {metric}" lower-cases its first letter
    ),
}


def _metric_rows(variant: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "window_days": [30, 60],
            "metric": "revenue",
            "label": "Revenue per customer",
            "variant": variant,
            "control": "A",
            "estimate": [0.05, 0.1],
            "ci_low": [-0.05, 0.0],
            "ci_high": [0.15, 0.2],
            "significant": [False, True],
            "partial": [False, True],
        }
    )


def _month_rows(variant: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": [1, 2],
            "days": ["1–30", "31–60"],
            "metric": "revenue",
            "label": "Revenue per customer",
            "variant": variant,
            "control": "A",
            "estimate": [0.0, 0.2],
            "ci_low": [-0.1, 0.1],
            "ci_high": [0.1, 0.3],
        }
    )


def _looks() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "look_date": pd.date_range("2026-06-30", periods=3, freq="ME"),
            "information_fraction": [0.3, 0.6, 1.0],
            "z": [1.0, 2.0, 3.0],
            "boundary": [3.9, 2.8, 2.0],
            "crossed": [False, False, True],
        }
    )


def _sequential_looks(table: pd.DataFrame, **fields) -> SequentialLooks:
    defaults = dict(experiment_id="exp_1", metric="revenue", variant="B", control="A")
    defaults |= dict(crossed=False, crossing_date=None, crossing_z=None, judge_date=None)
    defaults |= dict(provisional=True, alpha=0.05, window_days=90, srm_alert=False)
    defaults |= dict(planned_customers=None, planned_from=None, planned_origin=None)
    defaults |= dict(planned_lift=0.05, history_period=None)
    return SequentialLooks(table=table, **(defaults | fields))


def test_every_plot_function_has_a_hostile_label_case():
    assert sorted(BUILDERS) == sorted(plots.__all__)


@pytest.mark.parametrize("label", HOSTILE, ids=range(len(HOSTILE)))
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_store_text_is_drawn_as_written(name, label):
    args, kwargs, expected = BUILDERS[name](label)
    fig = getattr(plots, name)(*args, **kwargs)
    assert isinstance(fig, ReportFigure)
    fig.savefig(io.BytesIO(), format="png", dpi=40)  # mathtext would raise here
    texts = [t for t in fig.findobj(Text) if t.get_text()]
    assert texts and not any(t.get_parse_math() for t in texts), "a text would be read as TeX"
    if expected is not None:
        assert any(expected in t.get_text() for t in texts), [t.get_text() for t in texts]


def test_deliberate_math_in_custkit_labels_still_works():
    fig = plots.plot_calibration(pd.DataFrame({"mean_predicted": [0.2], "observed_rate": [0.3]}))
    formula = fig.axes[0].text(0.5, 0.5, r"$\alpha^2$", parse_math=True)
    fig.savefig(io.BytesIO(), format="png", dpi=40)
    assert formula._preprocess_math(formula.get_text())[1] is True  # drawn as a formula


def test_figures_leave_the_analysts_own_matplotlib_settings_alone():
    before = matplotlib.rcParams["text.parse_math"]
    fig = plots.plot_segments(BUILDERS["plot_segments"]("$x$")[0][0])
    fig.savefig(io.BytesIO(), format="png", dpi=40)
    assert matplotlib.rcParams["text.parse_math"] is before
