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
from custkit.i18n import format_date, use_language
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


# --- exact axis ticks and months in order (issue 15: "no 0.5 customers, no 1e6") -------------

#: Each plot's axes that count people: (plot, key, axes getter).
PEOPLE_AXES = [
    (plots.plot_kpi_trend, "trend", lambda fig: [fig.axes[0].yaxis]),
    (plots.plot_base_turnover, "turnover", lambda fig: [fig.axes[0].yaxis]),
    (plots.plot_lapsed_bands, "bands", lambda fig: [fig.axes[0].yaxis]),
    (plots.plot_acquisition, "acquisition", lambda fig: [fig.axes[0].xaxis]),
    (plots.plot_funnel, "funnel", lambda fig: [fig.axes[0].yaxis]),
    (plots.plot_migration, "migration", lambda fig: [fig.axes[-1].yaxis]),  # its colour bar
]
WHOLE_NUMBER = re.compile(r"[−-]?\d{1,3}(?:[,\u00a0\u202f ]\d{3})*")


def _tiny(computed: dict) -> dict:
    """The same frames with a handful of people: where a default axis would tick 0.5."""
    tiny = dict(computed)
    for key in ("trend", "turnover", "bands", "acquisition", "funnel"):
        frame = computed[key].copy()
        for column in ("customers", "gained", "returned", "lost", "new_customers"):
            if column in frame:
                frame[column] = (frame[column] > 0).astype(int)
        if "net_change" in frame:
            frame["net_change"] = frame["gained"] + frame["returned"] - frame["lost"]
        tiny[key] = frame
    tiny["trend"]["revenue"] = tiny["trend"]["revenue"] * 1e5  # millions: never "1e6"
    tiny["migration"] = (computed["migration"] > 0).astype(int)
    return tiny


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize(
    ("plot", "key", "axes"), PEOPLE_AXES, ids=[case[1] for case in PEOPLE_AXES]
)
def test_people_are_counted_in_whole_numbers_on_every_axis(computed, plot, key, axes, language):
    for frames in (computed, _tiny(computed)):
        with use_language(language):
            fig = plot(frames[key])
            fig.savefig(io.BytesIO(), format="png")  # draws the tick labels
        for axis in axes(fig):
            labels = [t.get_text() for t in axis.get_ticklabels() if t.get_text()]
            assert labels, (key, "no tick labels")
            assert all(WHOLE_NUMBER.fullmatch(t) for t in labels), (key, labels)
            # a tick at 0.5 written as "0" would pass the labels: the ticks themselves are whole
            low, high = sorted(axis.get_view_interval())
            ticks = [v for v in axis.get_majorticklocs() if low - 1e-9 <= v <= high + 1e-9]
            assert all(float(v).is_integer() for v in ticks), (key, ticks)
            assert not axis.get_offset_text().get_text(), (key, "an offset such as 1e6")


def test_money_axis_of_the_trend_has_no_scientific_notation(computed):
    fig = plots.plot_kpi_trend(_tiny(computed)["trend"], "RUB")
    fig.savefig(io.BytesIO(), format="png")
    money = fig.axes[1].yaxis
    labels = [t.get_text() for t in money.get_ticklabels() if t.get_text()]
    assert labels and all(WHOLE_NUMBER.fullmatch(t) for t in labels), labels
    assert not money.get_offset_text().get_text()


MONTH_AXES = [
    (plots.plot_kpi_trend, "trend", lambda fig: fig.axes[0].get_xticklabels()),
    (plots.plot_base_turnover, "turnover", lambda fig: fig.axes[0].get_xticklabels()),
    (plots.plot_cohort_retention, "cohorts", lambda fig: fig.axes[0].get_yticklabels()),
]


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize(("plot", "key", "ticks"), MONTH_AXES, ids=[c[1] for c in MONTH_AXES])
def test_month_axes_read_in_month_order_whatever_order_the_frame_has(
    computed, plot, key, ticks, language
):
    frame = computed[key]
    if key == "cohorts":
        order = frame.share.index[::-1]
        shuffled = audit.CohortRetention(
            frame.size[order], frame.share.loc[order], frame.revenue_per_customer.loc[order]
        )
        months = list(frame.share.index)
    else:
        shuffled = frame.sample(frac=1.0, random_state=3)
        months = list(frame["month"])
    with use_language(language):
        fig = plot(shuffled)
        fig.savefig(io.BytesIO(), format="png")
        expected = [format_date(m.to_timestamp(), "%b %Y") for m in sorted(months)]
    assert [t.get_text() for t in ticks(fig)] == expected
