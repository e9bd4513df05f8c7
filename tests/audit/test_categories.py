import pytest

from custkit.audit.categories import categories_finding, category_crosstab, customer_categories
from custkit.errors import ParamsError


def test_categories_classify_activity_and_loyalty(red, period, customers):
    c = customer_categories(red, period, customers, loyal_orders=3).set_index("customer_id")
    assert c["activity"].tolist() == ["active", "active", "lapsed", "lapsed", "active"]
    assert c["loyalty"].tolist() == ["loyal", "one_time", "repeat", "one_time", "repeat"]
    assert c.loc[3, "region"] == "unknown"  # missing in the customer table
    assert c.loc[1, "channel"] == "referral"


def test_crosstab_counts_customers_and_revenue_share(red, period, customers):
    x = category_crosstab(customer_categories(red, period, customers), "region", "activity")
    assert x.customers.loc["South", "active"] == 2
    assert x.revenue_share.to_numpy().sum() == pytest.approx(1.0)
    assert x.revenue_share.loc["North", "active"] == pytest.approx(350 / 860)


def test_crosstab_of_an_unknown_dimension_is_a_params_error(red, period):
    with pytest.raises(ParamsError, match="region, channel, activity or loyalty"):
        category_crosstab(customer_categories(red, period), "city", "activity")


def test_lapsed_days_must_exceed_active_days(red, period):
    with pytest.raises(ParamsError, match="larger than active_days"):
        customer_categories(red, period, active_days=365, lapsed_days=180)


def test_categories_finding_gives_active_share(red, period):
    assert (
        "60% of customers are active"
        in categories_finding(customer_categories(red, period)).conclusion
    )
