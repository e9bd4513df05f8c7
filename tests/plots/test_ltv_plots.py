import dataclasses
import io
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from custkit.data.reduce import reduce_orders
from custkit.ltv.clv import clv_by_group, customer_lifetime_value, tier_summary
from custkit.ltv.profit import cohort_profit, value_to_annual_revenue
from custkit.ltv.validation import TrackingData
from custkit.plots.ltv import (
    plot_clv_by_group,
    plot_clv_distribution,
    plot_cohort_profit,
    plot_tracking,
    plot_value_at_risk,
    plot_value_ratio,
)


class FakeModel:
    """Buys 0.2 purchases a week while alive; P(alive) falls with time since the last purchase."""

    time_unit_, params_ = "W", {}

    def p_alive(self, frequency, recency, T):
        return np.exp(-(np.asarray(T, float) - np.asarray(recency, float)) / 20)

    def predict_purchases(self, t, frequency, recency, T):
        return 0.2 * np.asarray(t, float) * self.p_alive(frequency, recency, T)


class FakeSpend:
    def expected_spend(self, frequency, monetary_value):
        return np.where(np.asarray(frequency) > 0, monetary_value, 30.0)


@pytest.fixture(scope="module")
def computed():
    rng = np.random.default_rng(3)
    n = 300
    first = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 500, n), unit="D")
    rows = []
    for c in range(n):
        for k in range(1 + rng.poisson(1.5)):
            rows.append((c, first[c] + pd.Timedelta(days=int(40 * k)), 10.0 + c % 50, 6.0))
    orders = pd.DataFrame(rows, columns=["customer_id", "order_date", "revenue", "cost"])
    orders = orders.loc[orders["order_date"] <= "2024-06-30"]
    red = reduce_orders(orders, "2024-06-30")
    days = (pd.Timestamp("2024-06-30") - red.customers["first_order_date"]).dt.days / 7
    last = (red.customers["last_order_date"] - red.customers["first_order_date"]).dt.days / 7
    summary = pd.DataFrame(
        {
            "frequency": red.customers["orders"].to_numpy() - 1,
            "recency": last.to_numpy(),
            "T": days.to_numpy(),
            "monetary_value": red.customers["revenue"].to_numpy() / red.customers["orders"],
        },
        index=pd.Index(red.customers["customer_id"], name="customer_id"),
    )
    summary.attrs["time_unit"] = "W"
    clv = customer_lifetime_value(FakeModel(), FakeSpend(), summary, 36, margin_rate=0.4)
    groups = pd.Series(np.where(clv.index % 3 == 0, "ads", "referral"), clv.index, name="channel")
    tracking = pd.DataFrame(
        {
            "week": np.arange(1, 79),
            "week_end": pd.date_range("2023-01-07", periods=78, freq="7D"),
            "actual": np.cumsum(rng.poisson(20, 78)).astype(float),
            "BG/NBD": np.arange(1, 79) * 20.0,
        }
    )
    return {
        "clv": clv,
        "by_group": clv_by_group(clv, groups),
        "ratios": value_to_annual_revenue(clv, red),
        "tiers": tier_summary(clv),
        "cohorts": cohort_profit(red),
        "tracking": TrackingData(tracking, "W", calibration_weeks=39.0),
    }


CASES = [
    (plot_tracking, "tracking", False),
    (plot_clv_distribution, "clv", True),
    (plot_clv_by_group, "by_group", True),
    (plot_value_ratio, "ratios", False),
    (plot_value_at_risk, "tiers", True),
    (plot_cohort_profit, "cohorts", True),
]


@pytest.mark.parametrize(("plot", "key", "money"), CASES, ids=[c[1] for c in CASES])
def test_each_ltv_plot_draws_with_title_labels_and_currency(computed, plot, key, money):
    fig = plot(computed[key], currency="EUR") if money else plot(computed[key])
    assert isinstance(fig, Figure)
    fig.savefig(io.BytesIO(), format="png")
    axes = fig.axes
    title = fig._suptitle.get_text() if fig._suptitle else axes[0].get_title()
    assert title
    labels = [a.get_xlabel() + a.get_ylabel() for a in axes]
    assert all(labels)
    if money:
        assert any("EUR" in label for label in labels)


def test_clv_distribution_is_on_a_log_axis_and_counts_zero_customers(computed):
    clv = computed["clv"].copy()
    clv.iloc[:5, clv.columns.get_loc("clv")] = 0.0
    fig = plot_clv_distribution(clv, currency="EUR")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert "over 36 months" in ax.get_xlabel()
    assert any("5 customers" in t.get_text() for t in ax.texts)


def test_value_ratio_shows_the_reference_line(computed):
    ax = plot_value_ratio(computed["ratios"], reference=3.5).axes[0]
    assert any("3.5×" in t.get_text() for t in ax.get_legend().get_texts())


def test_plots_survive_empty_inputs(computed):
    clv = computed["clv"].assign(clv=0.0)
    plot_clv_distribution(clv).savefig(io.BytesIO(), format="png")
    plot_value_ratio(computed["ratios"].iloc[:0]).savefig(io.BytesIO(), format="png")


@pytest.mark.parametrize(("plot", "key", "money"), CASES, ids=[c[1] for c in CASES])
def test_each_ltv_plot_is_drawn_in_russian(computed, plot, key, money):
    import re

    from custkit.i18n import use_language
    from custkit.reports.display import figure_texts

    with use_language("ru"):
        fig = plot(computed[key], currency="EUR") if money else plot(computed[key])
        fig.savefig(io.BytesIO(), format="png")  # tick labels are written when drawn
        texts = figure_texts(fig)
    # the data's own labels (channels, the model's name, a grouping custkit does not name
    # itself: "channel") and the abbreviations stay Latin
    kept = {"LTV", "BG", "NBD", "ads", "referral", "channel", "Channel"}  # € for EUR
    words = {
        w for t in texts for w in re.findall(r"[A-Za-z]{2,}", t.replace("P(alive)", ""))
    } - kept
    assert not words, texts
    assert any(re.search("[а-я]", t) for t in texts)
    if key == "cohorts":
        assert any(re.fullmatch(r"[а-я]+\.?\s\d{4}", t) for t in texts)  # "янв.\u00a02024"


def test_clv_by_segment_names_segments_as_the_audit_does(computed):
    from custkit.audit.rfm import segment_label

    by_segment = computed["by_group"].rename(columns={"channel": "segment"})
    by_segment["segment"] = ["champions", "unknown"][: len(by_segment)]
    ax = plot_clv_by_group(by_segment, currency="EUR").axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == [segment_label("champions"), "unknown"][: len(ticks)]
    assert ax.get_ylabel() == "Segment"


# --- issue 15: exact ticks, months in order, statistics in words -------------------------------
def _tick_value(label: str) -> float:
    """The number an English tick label states: ``2,400``, ``1.25M``, ``12.5k``, ``5%``, ``3×``."""
    text = label.replace(",", "").replace("\u2212", "-").strip()
    scale = 1.0
    for suffix, factor in (("M", 1e6), ("k", 1e3), ("%", 0.01), ("×", 1.0)):
        if text.endswith(suffix):
            text, scale = text[: -len(suffix)], factor
    return float(text) * scale


def _checked_ticks(fig) -> list[tuple[str, float, str]]:
    """(axis, location, label) of every numeric tick shown on *fig*'s linear axes."""
    from matplotlib.ticker import FixedFormatter

    fig.savefig(io.BytesIO(), format="png")  # lays the ticks out
    ticks = []
    for ax in fig.axes:
        for name, axis, scale, limits in (
            ("x", ax.xaxis, ax.get_xscale(), ax.get_xlim()),
            ("y", ax.yaxis, ax.get_yscale(), ax.get_ylim()),
        ):
            if scale != "linear" or isinstance(axis.get_major_formatter(), FixedFormatter):
                continue  # categories and months are named, not numbered
            low, high = min(limits), max(limits)
            for tick in axis.get_major_ticks():
                location, label = tick.get_loc(), tick.label1.get_text()
                numeric = re.fullmatch(r"[\u2212-]?[\d,]*\.?\d+[Mk%×]?", label.strip())
                if numeric and low - 1e-9 <= location <= high + 1e-9:
                    ticks.append((name, float(location), label))
    return ticks


def _few(computed: dict, customers: int = 6) -> dict:
    """The same frames for a handful of customers: axes of fractions of a person."""
    clv = computed["clv"].head(customers)
    curves = computed["tracking"]
    tracking = curves.table.assign(actual=lambda t: t["actual"] / 400)
    tracking["BG/NBD"] = tracking["BG/NBD"] / 400
    return {
        "clv": clv,
        "by_group": computed["by_group"],
        "ratios": computed["ratios"].head(customers),
        "tiers": computed["tiers"],
        "cohorts": computed["cohorts"].assign(revenue_share=lambda c: c["revenue_share"] / 50),
        "tracking": dataclasses.replace(curves, table=tracking),
    }


@pytest.mark.parametrize("size", ["computed", "few"])
@pytest.mark.parametrize(("plot", "key", "money"), CASES, ids=[c[1] for c in CASES])
def test_every_tick_label_of_each_ltv_plot_states_the_tick_it_marks(
    computed, plot, key, money, size
):
    frames = computed if size == "computed" else _few(computed)
    fig = plot(frames[key], currency="EUR") if money else plot(frames[key])
    ticks = _checked_ticks(fig)
    assert ticks or key in ("clv",), f"{key}: no numeric tick was checked"
    wrong = [
        (axis, location, label)
        for axis, location, label in ticks
        if not np.isclose(_tick_value(label), location, rtol=1e-9, atol=1e-12)
    ]
    assert not wrong, f"{key} ({size}): tick labels that say another number: {wrong[:6]}"


def test_first_order_months_are_shown_in_month_order_and_named_as_months(computed):
    months = pd.Series(
        computed["clv"].index.map(lambda c: ["2024-02", "2023-11", "2024-01", "2023-12"][c % 4]),
        index=computed["clv"].index,
        name="first_order_month",
    ).astype("category")
    by_month = clv_by_group(computed["clv"], months)
    assert list(by_month["first_order_month"]) != sorted(by_month["first_order_month"])
    fig = plot_clv_by_group(by_month, currency="EUR")
    fig.savefig(io.BytesIO(), format="png")  # lays the ticks out
    shown = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert shown == ["Nov 2023", "Dec 2023", "Jan 2024", "Feb 2024"]


def test_value_at_risk_plot_says_the_chance_of_still_buying_in_words(computed):
    from custkit.reports.display import figure_texts

    texts = " ".join(figure_texts(plot_value_at_risk(computed["tiers"], currency="EUR")))
    assert "P(alive)" not in texts and "CLV × (1" not in texts
    assert "still buying: " in texts and "chance they have stopped buying" in texts
