import pytest

from custkit.audit.funnel import conversion_funnel, funnel_finding


def test_funnel_without_customer_table_starts_at_first_order(red, period):
    f = conversion_funnel(red, period).set_index("step")
    assert f.index.tolist() == ["first_order", "second_order", "third_order"]
    assert f["customers"].tolist() == [5, 3, 1]  # c1 c3 c5 bought twice; c1 three times
    assert f.loc["second_order", "rate_from_previous"] == pytest.approx(3 / 5)
    assert f.loc["third_order", "rate_from_start"] == pytest.approx(1 / 5)
    # first -> second: c1 481 days, c3 370 days, c5 15 hours
    assert f.loc["second_order", "median_days_from_previous"] == pytest.approx(370)
    # second -> third: c1 2024-05-05 -> 2024-06-10
    assert f.loc["third_order", "median_days_from_previous"] == pytest.approx(36)


def test_funnel_with_customer_table_starts_at_registration(red, period, customers):
    f = conversion_funnel(red, period, customers).set_index("step")
    assert f["customers"].tolist() == [6, 5, 3, 1]  # c6 registered and never bought
    assert f.loc["first_order", "rate_from_previous"] == pytest.approx(5 / 6)
    # registered -> first: 9, 12, 14, 28 days and 8 hours for c5 -> median 12
    assert f.loc["first_order", "median_days_from_previous"] == pytest.approx(12)


def test_funnel_of_an_earlier_month_ignores_later_orders(red, period):
    f = conversion_funnel(red, period.shift(-2)).set_index("step")  # as of 2024-04-30
    assert f["customers"].tolist() == [3, 1, 0]  # c1 c3 c4; only c3 twice


def test_funnel_finding_names_the_weakest_step(red, period, customers):
    finding = funnel_finding(conversion_funnel(red, period, customers))
    assert "33% of second-time buyers who placed a third order" in finding.conclusion
    assert "third order" in finding.action
