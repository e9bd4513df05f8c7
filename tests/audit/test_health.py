import pytest

from custkit.audit.health import base_turnover, health_finding, lapsed_bands
from custkit.errors import ParamsError


def test_turnover_counts_gained_returned_and_lost_in_the_right_months(red, period):
    t = base_turnover(red, period, months=13)
    assert len(t) == 13
    t.index = t["month"].astype(str)
    # c3 lapsed on 2023-06-15 and came back on 2023-06-20
    assert (t.loc["2023-06", "lost"], t.loc["2023-06", "returned"]) == (1, 1)
    assert t.loc["2024-01", "lost"] == 1  # c1: a year after 2023-01-10
    assert t.loc["2024-02", "lost"] == 1  # c4: a year after 2023-03-01 (leap year)
    assert t.loc["2024-05", "returned"] == 1  # c1 came back
    assert (t.loc["2024-06", "gained"], t.loc["2024-06", "lost"]) == (2, 1)  # c2, c5 / c3
    assert (t["net_change"] == t["gained"] + t["returned"] - t["lost"]).all()
    assert t["lost"].sum() == 4


def test_shorter_lapse_window_loses_customers_earlier(red, period):
    t = base_turnover(red, period, months=13, lapse_days=180)
    t.index = t["month"].astype(str)
    assert t.loc["2023-07", "lost"] == 1  # c1: 2023-01-10 + 180 days = 2023-07-09
    assert t.loc["2023-08", "lost"] == 1  # c4: 2023-03-01 + 180 days = 2023-08-28


def test_lapse_days_outside_range_is_a_params_error(red, period):
    with pytest.raises(ParamsError, match=r"lapse_days must be an integer in the range \[31"):
        base_turnover(red, period, lapse_days=7)


def test_lapsed_bands_use_calendar_months_before_as_of(red, period):
    bands = lapsed_bands(red, period)
    assert bands["band"].astype(str).tolist() == [
        "0–3 months",
        "3–6 months",
        "6–12 months",
        "12–24 months",
        "24+ months",
    ]
    assert bands["customers"].tolist() == [3, 0, 0, 2, 0]  # c1 c2 c5 recent; c3 c4 a year+
    assert bands["customer_share"].sum() == pytest.approx(1.0)
    assert bands["revenue"].sum() == 350 + 300 + 120 + 60 + 30


def test_lapsed_bands_reject_decreasing_edges(red, period):
    with pytest.raises(ParamsError, match=r"Got \[6, 3\] instead"):
        lapsed_bands(red, period, band_months=[6, 3])


@pytest.mark.parametrize(
    ("churn", "level"), [(0.15, "good"), (0.25, "warning"), (0.6, "bad"), (float("nan"), "info")]
)
def test_health_finding_level_follows_churn_vs_the_20_percent_norm(red, period, churn, level):
    finding = health_finding(churn, base_turnover(red, period))
    assert finding.level == level
    assert "June 2024" in finding.conclusion


def test_health_finding_says_history_is_too_short_when_churn_is_unknown(red, period):
    finding = health_finding(float("nan"), base_turnover(red, period))
    assert "less than two years" in finding.conclusion
    assert isinstance(finding.action, str) and finding.action
