import io
import re

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest
from matplotlib.figure import Figure

import custkit.audit as audit
import custkit.plots as plots
from custkit.data.periods import ReportPeriod
from custkit.data.reduce import reduce_orders
from custkit.i18n import use_language
from custkit.reports.display import figure_texts


def _compute():
    rows = [(c, f"2024-{m:02d}-{(c % 27) + 1:02d}", 10.0 * c) for c in range(1, 30)
            for m in range(1, 13) if (c + m) % 3]  # fmt: skip
    orders = pd.DataFrame(rows, columns=["customer_id", "order_date", "revenue"])
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    customers = pd.DataFrame(
        {
            "customer_id": range(1, 30),
            "email": [f"u{i % 20}@x.ru" for i in range(1, 30)],
            "region": pd.Categorical(["North", "South", None] * 9 + ["North", "South"]),
        }
    )
    period = ReportPeriod.from_string("2024-12")
    red = reduce_orders(orders, period.as_of)
    scores = audit.rfm_scores(red, period)
    cats = audit.customer_categories(red, period, customers)
    return {
        "trend": audit.kpi_trend(red, period),
        "turnover": audit.base_turnover(red, period, lapse_days=60),
        "bands": audit.lapsed_bands(red, period),
        "acquisition": audit.acquisition_by(red, period, customers, by="region"),
        "funnel": audit.conversion_funnel(red, period, customers),
        "cohorts": audit.cohort_retention(red, period),
        "segments": audit.segment_summary(scores),
        "migration": audit.segment_migration(scores, audit.rfm_scores(red, period.previous_month)),
        "crosstab": audit.category_crosstab(cats, "region", "activity"),
        "quality": audit.contact_quality(customers),
    }


@pytest.fixture(scope="module")
def computed():
    return _compute()


@pytest.fixture(scope="module")
def computed_ru():
    """The frames as a Russian report computes them (band and segment labels in Russian)."""
    with use_language("ru"):
        return _compute()


CASES = [
    (plots.plot_kpi_trend, "trend"),
    (plots.plot_base_turnover, "turnover"),
    (plots.plot_lapsed_bands, "bands"),
    (plots.plot_acquisition, "acquisition"),
    (plots.plot_funnel, "funnel"),
    (plots.plot_cohort_retention, "cohorts"),
    (plots.plot_segments, "segments"),
    (plots.plot_migration, "migration"),
    (plots.plot_categories, "crosstab"),
    (plots.plot_cleanliness, "quality"),
]


@pytest.mark.parametrize(("plot", "key"), CASES, ids=[c[1] for c in CASES])
def test_every_audit_plot_has_a_title_and_labelled_axes(computed, plot, key):
    fig = plot(computed[key])
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title()
    assert ax.get_xlabel() and ax.get_ylabel()


def test_month_ticks_are_month_names(computed):
    ax = plots.plot_kpi_trend(computed["trend"]).axes[0]
    assert ax.get_xticklabels()[-1].get_text() == "Dec 2024"


def test_cohort_heatmap_can_show_revenue_per_customer(computed):
    fig = plots.plot_cohort_retention(computed["cohorts"], value="revenue")
    assert "Revenue per new customer" in fig.axes[0].get_title()


def test_plots_show_no_personal_data(computed):
    fig = plots.plot_cleanliness(computed["quality"])
    texts = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert not any("@" in t for t in texts)


@pytest.mark.parametrize(("plot", "key"), CASES, ids=[c[1] for c in CASES])
def test_every_audit_plot_is_drawn_in_russian(computed_ru, plot, key):
    with use_language("ru"):
        fig = plot(computed_ru[key])
        fig.savefig(io.BytesIO(), format="png")  # draws the tick labels
        texts = figure_texts(fig)
    latin = {w for t in texts for w in re.findall(r"[A-Za-z]{2,}", t)} - {"North", "South"}
    assert not latin, texts


def test_month_ticks_are_russian_month_names_in_a_russian_report(computed):
    with use_language("ru"):
        ax = plots.plot_kpi_trend(computed["trend"]).axes[0]
    assert ax.get_xticklabels()[-1].get_text() == "дек.\u00a02024"
