"""CLV, tiers, value at risk and next order dates, checked with fake models whose numbers are
worked out by hand (a customer buys at a constant rate while alive)."""

import numpy as np
import pandas as pd
import pytest

from custkit.data.reduce import reduce_orders
from custkit.errors import DataError, ParamsError
from custkit.i18n import has_translation, use_language
from custkit.ltv.clv import (
    DAYS_PER_MONTH,
    REASONS,
    ClippedValueWarning,
    clv_by_group,
    customer_lifetime_value,
    importance_tiers,
    margin_rates,
    months_to_time_units,
    next_expected_order_date,
    tier_label,
    tier_summary,
    value_at_risk,
)

WEEKS_PER_MONTH = 365.25 / 12 / 7


class FakePurchases:
    """Alive with probability ``0.5 + 0.1 * frequency`` (at most 1); while alive, buys
    ``weekly_rate`` purchases a week. Works in any time unit (rate converted)."""

    def __init__(self, weekly_rate=0.5, time_unit="W", bias=0.0):
        self.weekly_rate, self.time_unit_, self.bias = weekly_rate, time_unit, bias
        self.params_ = {"rate": weekly_rate}
        self.calls = 0

    def _rate(self):
        return self.weekly_rate * {"D": 1 / 7, "W": 1.0, "M": WEEKS_PER_MONTH}[self.time_unit_]

    def p_alive(self, frequency, recency, T):
        return np.minimum(0.5 + 0.1 * np.asarray(frequency, float), 1.0)

    def predict_purchases(self, t, frequency, recency, T):
        self.calls += 1
        alive = self.p_alive(frequency, recency, T)
        return self._rate() * np.asarray(t, float) * alive + self.bias * np.asarray(t, float)

    def expected_purchases(self, t):
        return self._rate() * 0.5 * np.asarray(t, float)


class FakeSpend:
    """Repeat buyers spend their mean; one-time buyers the population mean 20."""

    def expected_spend(self, frequency, monetary_value):
        f = np.asarray(frequency, float)
        return np.where(f > 0, np.asarray(monetary_value, float), 20.0)


def make_summary(rows, time_unit="W"):
    frame = pd.DataFrame(
        rows, columns=["customer_id", "frequency", "recency", "T", "monetary_value"]
    ).set_index("customer_id")
    frame.attrs["time_unit"] = time_unit
    return frame


@pytest.fixture
def summary():
    return make_summary(
        [
            (1, 0, 0.0, 10.0, 0.0),  # one-time buyer: p_alive .5, spend 20
            (2, 2, 8.0, 20.0, 50.0),  # p_alive .7, spend 50
            (3, 5, 30.0, 31.0, 10.0),  # p_alive 1.0, spend 10
            (4, 0, 0.0, 12.0, 0.0),  # same history as 1 except T
        ]
    )


def hand_clv(p_alive, spend, margin, weekly_rate, months, d):
    """Closed form: the same expected purchases every month, geometric discounting."""
    per_month = weekly_rate * WEEKS_PER_MONTH * p_alive
    annuity = sum((1 + d) ** -m for m in range(1, months + 1))
    return per_month * spend * margin * annuity


def test_months_convert_to_each_time_unit():
    assert months_to_time_units(1, "D") == pytest.approx(30.4375)
    assert months_to_time_units(12, "W") == pytest.approx(365.25 / 7)
    assert months_to_time_units(3, "M") == 3
    assert DAYS_PER_MONTH == pytest.approx(30.4375)
    with pytest.raises(ParamsError, match=r"time_unit must be one of .* Got 'Y'"):
        months_to_time_units(1, "Y")


def test_clv_matches_hand_computed_discounted_margin(summary):
    clv = customer_lifetime_value(
        FakePurchases(), FakeSpend(), summary, 12, monthly_discount_rate=0.01, margin_rate=0.3
    )
    expected = [
        hand_clv(0.5, 20, 0.3, 0.5, 12, 0.01),
        hand_clv(0.7, 50, 0.3, 0.5, 12, 0.01),
        hand_clv(1.0, 10, 0.3, 0.5, 12, 0.01),
        hand_clv(0.5, 20, 0.3, 0.5, 12, 0.01),
    ]
    np.testing.assert_allclose(clv["clv"], expected, rtol=1e-12)
    # customer 2: 0.5/week * 52.18 weeks * 0.7 alive = 18.26 purchases in 12 months
    assert clv.loc[2, "expected_purchases"] == pytest.approx(0.5 * 365.25 / 7 * 0.7)
    np.testing.assert_allclose(clv["expected_spend"], [20, 50, 10, 20])
    np.testing.assert_allclose(clv["p_alive"], [0.5, 0.7, 1.0, 0.5])
    np.testing.assert_allclose(clv["clv"], clv["expected_revenue"] * 0.3)
    assert (clv["status"] == "scored").all() and (clv["reason"] == "").all()
    assert clv.attrs["time_unit"] == "W"
    assert clv.attrs["value_basis"] == "margin"
    assert clv.attrs["time_units_per_month"] == pytest.approx(WEEKS_PER_MONTH)


def test_clv_without_discount_is_margin_of_expected_purchases(summary):
    clv = customer_lifetime_value(FakePurchases(), FakeSpend(), summary, 6, 0.0, margin_rate=0.5)
    np.testing.assert_allclose(
        clv["clv"], clv["expected_purchases"] * clv["expected_spend"] * 0.5, rtol=1e-12
    )


@pytest.mark.parametrize("unit", ["D", "M"])
def test_clv_is_the_same_whatever_time_unit_the_model_uses(summary, unit):
    weekly = customer_lifetime_value(FakePurchases(time_unit="W"), FakeSpend(), summary, 12)
    scale = {"D": 7.0, "M": 1 / WEEKS_PER_MONTH}[unit]
    other_summary = summary.copy()
    other_summary[["recency", "T"]] *= scale
    other_summary.attrs["time_unit"] = unit
    other = customer_lifetime_value(FakePurchases(time_unit=unit), FakeSpend(), other_summary, 12)
    np.testing.assert_allclose(other["clv"], weekly["clv"], rtol=1e-12)
    assert other.attrs["time_unit"] == unit


def test_revenue_basis_when_no_margin_is_given(summary):
    clv = customer_lifetime_value(FakePurchases(), FakeSpend(), summary)
    assert clv.attrs["value_basis"] == "revenue"
    np.testing.assert_allclose(clv["clv"], clv["expected_revenue"])
    assert (clv["margin_rate"] == 1.0).all()


def test_model_is_evaluated_once_per_distinct_history_and_month(summary):
    model = FakePurchases()
    many = pd.concat([summary] * 50, ignore_index=True)
    many.attrs["time_unit"] = "W"
    customer_lifetime_value(model, FakeSpend(), many, horizon_months=12)
    assert model.calls == 12  # vectorized over customers, one call per month


def test_customers_that_cannot_be_scored_are_listed_with_a_reason():
    summary = make_summary(
        [
            (1, 1, 5.0, 10.0, 30.0),
            (2, 1, 12.0, 10.0, 30.0),  # last purchase after as-of
            (3, 0, 0.0, -3.0, 0.0),  # first purchase after as-of
            (4, np.nan, 0.0, 5.0, 0.0),
            (5, 2, 4.0, 9.0, np.nan),  # spend model cannot score
        ]
    )
    with pytest.warns(ClippedValueWarning, match="1 customer"):
        clv = customer_lifetime_value(FakePurchases(), FakeSpend(), summary, margin_rate=0.4)
    assert not clv.isna().any().any()
    assert list(clv["status"]) == ["scored"] + ["not_scored"] * 4
    assert "recency > T" in clv.loc[2, "reason"]
    assert "T < 0" in clv.loc[3, "reason"]
    assert "missing" in clv.loc[4, "reason"]
    assert "spend" in clv.loc[5, "reason"]
    assert (clv.loc[[2, 3, 4, 5], ["clv", "p_alive", "expected_purchases"]] == 0).all().all()
    assert clv.loc[1, "clv"] > 0


def test_tiny_negative_increments_are_clipped_silently_and_big_ones_with_a_warning(summary):
    noisy = FakePurchases(weekly_rate=0.0, bias=-1e-12)  # rounding noise below zero
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clv = customer_lifetime_value(noisy, FakeSpend(), summary)
    assert (clv["clv"] == 0).all()
    broken = FakePurchases(weekly_rate=0.0, bias=-0.5)
    with pytest.warns(ClippedValueWarning, match=r"negative expected purchases.*penalizer"):
        clv = customer_lifetime_value(broken, FakeSpend(), summary)
    assert (clv["clv"] >= 0).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon_months": 0}, r"horizon_months must be an integer in the range \[1, 1200\]"),
        ({"horizon_months": 6.5}, r"Got 6.5 instead"),
        ({"monthly_discount_rate": 1.0}, r"monthly_discount_rate .* \[0.0, 1.0\)\. Got 1.0"),
        ({"monthly_discount_rate": -0.1}, r"Got -0.1 instead"),
        ({"margin_rate": 1.5}, r"margin_rate must be a float in the range \[0.0, 1.0\]"),
        ({"margin_rate": "30%"}, r"Got '30%' instead"),
        ({"margin_rate": 0.3, "margins": pd.Series([0.3])}, "not both"),
    ],
)
def test_bad_parameters_are_rejected_sklearn_style(summary, kwargs, message):
    with pytest.raises(ParamsError, match=message):
        customer_lifetime_value(FakePurchases(), FakeSpend(), summary, **kwargs)


def test_unfitted_model_and_mismatched_time_unit_are_rejected(summary):
    unfitted = FakePurchases()
    del unfitted.params_
    with pytest.raises(ParamsError, match="not fitted"):
        customer_lifetime_value(unfitted, FakeSpend(), summary)
    with pytest.raises(DataError, match=r"fitted in time unit 'D' but the summary is in 'W'"):
        customer_lifetime_value(FakePurchases(time_unit="D"), FakeSpend(), summary)
    with pytest.raises(DataError, match="monetary_value"):
        customer_lifetime_value(
            FakePurchases(),
            FakeSpend(),
            summary.drop(columns="T").drop(columns="monetary_value").assign(T=1.0),
        )


def test_per_customer_margins_are_used_and_missing_ones_not_scored(summary):
    margins = pd.Series({1: 0.1, 2: 0.2, 3: 0.5})
    clv = customer_lifetime_value(FakePurchases(), FakeSpend(), summary, margins=margins)
    np.testing.assert_allclose(clv["margin_rate"], [0.1, 0.2, 0.5, 0.0])
    np.testing.assert_allclose(
        clv.loc[[1, 2, 3], "clv"], clv.loc[[1, 2, 3], "expected_revenue"] * [0.1, 0.2, 0.5]
    )
    assert clv.loc[4, "status"] == "not_scored" and "margin" in clv.loc[4, "reason"]
    with pytest.raises(ParamsError, match=r"\[0, 1\]; 3 are not, e.g. 12.0"):
        customer_lifetime_value(FakePurchases(), FakeSpend(), summary, margins=margins * 0 + 12)


def test_cumulative_totals_equal_the_sums_of_shorter_horizons(summary):
    margins = pd.Series({1: 0.1, 2: 0.2, 3: 0.5})  # customer 4 is not scored
    long = customer_lifetime_value(FakePurchases(), FakeSpend(), summary, 12, margins=margins)
    totals = pd.DataFrame(long.attrs["cumulative_totals"])
    assert len(totals) == 12
    for months in (1, 3, 12):
        short = customer_lifetime_value(
            FakePurchases(), FakeSpend(), summary, months, margins=margins
        )
        expected = short[["expected_purchases", "expected_revenue", "clv"]].sum()
        np.testing.assert_allclose(totals.iloc[months - 1], expected, rtol=1e-12)


def test_margin_rates_shrink_few_order_customers_to_the_store_average():
    orders = pd.DataFrame(
        {
            "customer_id": [1, 2, 2, 2, 2, 2, 2, 3],
            "order_date": pd.to_datetime(["2024-01-01"] + ["2024-02-01"] * 6 + ["2024-03-01"]),
            "revenue": [100.0, 50, 50, 50, 50, 50, 50, 100.0],
            "cost": [20.0, 40, 40, 40, 40, 40, 40, 150.0],
        }
    )
    red = reduce_orders(orders, "2024-12-31")
    rates = margin_rates(red, prior_orders=3)
    # store: margin (80 + 60 - 50) / revenue 500 = 0.18
    # c1: own 0.8 with 1 order -> (0.8 + 3 * 0.18) / 4 = 0.335
    # c2: own 0.2 with 6 orders -> (6 * 0.2 + 3 * 0.18) / 9 = 0.19333
    # c3: own -0.5 -> (-0.5 + 0.54) / 4 = 0.01
    np.testing.assert_allclose(rates.loc[[1, 2, 3]], [0.335, 1.74 / 9, 0.01])
    assert rates.index.name == "customer_id" and rates.name == "margin_rate"
    np.testing.assert_allclose(margin_rates(red, prior_orders=0).loc[[1, 2, 3]], [0.8, 0.2, 0.0])
    with pytest.raises(DataError, match="cost"):
        margin_rates(reduce_orders(orders.drop(columns="cost"), "2024-12-31"))
    with pytest.raises(ParamsError, match=r"prior_orders .* Got -1"):
        margin_rates(red, prior_orders=-1)


def clv_frame(values, p_alive=None, status=None):
    n = len(values)
    return pd.DataFrame(
        {
            "clv": np.asarray(values, float),
            "p_alive": np.full(n, 0.5) if p_alive is None else np.asarray(p_alive, float),
            "status": ["scored"] * n if status is None else status,
        },
        index=pd.Index(range(1, n + 1), name="customer_id"),
    )


def test_importance_tiers_split_by_rank():
    # 100 scored customers with clv 100, 99, ..., 1 -> top 1% = 1, top 5% = 4 more, top 20% = 15
    frame = clv_frame(np.arange(100, 0, -1))
    tiers = importance_tiers(frame)
    counts = tiers.value_counts(sort=False)
    assert list(counts.index) == ["top_1%", "top_5%", "top_20%", "rest", "not_scored"]
    assert list(counts) == [1, 4, 15, 80, 0]
    assert tiers.loc[1] == "top_1%" and tiers.loc[5] == "top_5%" and tiers.loc[6] == "top_20%"
    assert tiers.loc[21] == "rest"


def test_importance_tiers_keep_unscored_apart_and_validate_tiers():
    frame = clv_frame([5.0, 0.0, 3.0], status=["scored", "not_scored", "scored"])
    tiers = importance_tiers(frame, tiers=(0.5,))
    assert list(tiers) == ["top_50%", "not_scored", "rest"]
    with pytest.raises(ParamsError, match=r"increasing .* \(0, 1\).*Got \(0.2, 0.05\)"):
        importance_tiers(frame, tiers=(0.2, 0.05))


def test_tier_labels_and_reasons_are_shown_in_the_report_language():
    assert [tier_label(t) for t in ("top_1%", "top_5%", "rest", "not_scored", "vip")] == [
        "Top 1%",
        "Top 5%",
        "Everyone else",
        "Not scored",
        "vip",
    ]
    with use_language("ru"):
        assert tier_label("top_0.5%") == "Топ-0,5%" and tier_label("rest") == "Все остальные"
    # the reasons a customer is not scored reach the customer_value export translated
    assert all(has_translation(reason, "ru") for reason in REASONS if reason)


def test_value_at_risk_and_tier_summary():
    frame = clv_frame([100.0, 10.0, 1.0, 0.0], p_alive=[0.2, 0.9, 1.0, 0.5])
    risk = value_at_risk(frame)
    np.testing.assert_allclose(risk, [80.0, 1.0, 0.0, 0.0])
    summary = tier_summary(frame, tiers=(0.25, 0.5))
    row = summary.set_index("tier")
    assert row.loc["top_25%", "customers"] == 1
    assert row.loc["top_25%", "value_at_risk"] == pytest.approx(80.0)
    assert row.loc["top_25%", "value_at_risk_share"] == pytest.approx(0.8)
    assert row.loc["rest", "clv_total"] == pytest.approx(1.0)
    assert row.loc["rest", "p_alive_mean"] == pytest.approx(0.75)
    assert summary["clv_share"].sum() == pytest.approx(1.0)
    assert not summary.isna().any().any()


def test_clv_by_group_counts_unknown_and_skips_unscored():
    frame = clv_frame([10.0, 20.0, 30.0, 99.0], status=["scored"] * 3 + ["not_scored"])
    groups = pd.Series({1: "ads", 2: "ads", 4: "ads"}, name="channel")
    out = clv_by_group(frame, groups).set_index("channel")
    assert out.loc["ads", "customers"] == 2 and out.loc["ads", "clv_mean"] == 15
    assert out.loc["unknown", "clv_total"] == 30
    assert out["clv_share"].sum() == pytest.approx(1.0)


def test_clv_by_group_names_missing_categories_unknown_not_nan():
    frame = clv_frame([10.0, 20.0, 30.0])
    groups = pd.Series(pd.Categorical(["web", None, "web"]), index=[1, 2, 3], name="channel")
    out = clv_by_group(frame, groups)
    assert out["channel"].tolist() == ["web", "unknown"]
    assert out["customers"].tolist() == [2, 1] and out["clv_total"].tolist() == [40.0, 20.0]


def test_next_expected_order_date_is_when_expected_purchases_reach_one():
    summary = make_summary(
        [
            (1, 5, 30.0, 31.0, 10.0),  # alive 1, 0.5/week -> 1 purchase after 2 weeks = day 14
            (2, 0, 0.0, 10.0, 0.0),  # alive .5 -> 1 purchase after 4 weeks = day 28
            (3, 0, 0.0, 12.0, 0.0),  # same as 2
            (4, 1, 3.0, 2.0, 5.0),  # recency > T: not scored
        ]
    )
    dates = next_expected_order_date(FakePurchases(), summary, "2024-06-30")
    assert dates.loc[1] == pd.Timestamp("2024-07-14")
    assert dates.loc[2] == dates.loc[3] == pd.Timestamp("2024-07-28")
    assert pd.isna(dates.loc[4])
    slow = FakePurchases(weekly_rate=0.005)  # 1 purchase in 200+ weeks: improbable in 2 years
    assert next_expected_order_date(slow, summary, "2024-06-30").isna().all()


def test_next_expected_order_date_in_days_matches_weeks():
    summary = make_summary([(1, 5, 30.0, 31.0, 10.0), (2, 1, 3.0, 5.0, 10.0)])
    daily = summary.copy()
    daily[["recency", "T"]] *= 7
    daily.attrs["time_unit"] = "D"
    weekly = next_expected_order_date(FakePurchases(weekly_rate=0.3), summary, "2024-01-01")
    by_day = next_expected_order_date(
        FakePurchases(weekly_rate=0.3, time_unit="D"), daily, "2024-01-01"
    )
    pd.testing.assert_series_equal(weekly, by_day)
    # c1: 1 / (0.3 / 7 per day) = 23.33 days -> day 24
    assert weekly.loc[1] == pd.Timestamp("2024-01-25")


def test_clv_with_the_real_bgnbd_and_gamma_gamma_on_a_demo_store():
    from custkit.data.demo import generate_demo_store
    from custkit.ltv.bgnbd import BGNBD
    from custkit.ltv.gammagamma import GammaGamma
    from custkit.ltv.summary import summarize

    orders = generate_demo_store(2000, dirty=False)["orders"]
    summary = summarize(orders, as_of="2026-11-15", time_unit="W")
    # the demo store hardly churns: unpenalized, a and b run to a bound
    model = BGNBD(penalizer=0.001).fit(summary)
    spend = GammaGamma().fit(summary)
    margins = margin_rates(reduce_orders(orders, "2026-11-15"))
    clv = customer_lifetime_value(model, spend, summary, 12, 0.01, margins=margins)
    assert (clv["status"] == "scored").all()
    assert not clv.isna().any().any() and (clv["clv"] >= 0).all()
    assert 0 < clv["clv"].sum() < clv["expected_revenue"].sum()
    # no discount: the monthly sum telescopes to one prediction over 12 months
    flat = customer_lifetime_value(model, spend, summary, 12, 0.0)
    direct = model.predict_purchases(
        365.25 / 7, summary["frequency"], summary["recency"], summary["T"]
    ) * spend.expected_spend(summary["frequency"], summary["monetary_value"])
    np.testing.assert_allclose(flat["expected_revenue"], direct, rtol=1e-9)
    np.testing.assert_allclose(flat["p_alive"], model.p_alive(
        summary["frequency"], summary["recency"], summary["T"]), rtol=1e-12)  # fmt: skip
    # the next order date is the first day expected purchases reach one
    dates = next_expected_order_date(model, summary, "2026-11-15")
    known = dates.dropna()
    assert len(known) > 0
    days = (known - pd.Timestamp("2026-11-15")).dt.days.to_numpy()
    rows = summary.loc[known.index]
    history = (rows["frequency"], rows["recency"], rows["T"])
    assert (np.asarray(model.predict_purchases(days / 7, *history)) >= 1).all()
    assert (np.asarray(model.predict_purchases((days - 1) / 7, *history)) < 1).all()
