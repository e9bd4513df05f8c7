import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custkit.audit.categories import (
    _pandas_crosstab,
    categories_finding,
    category_crosstab,
    customer_categories,
)
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


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["North", "South", "unknown"]),
            st.sampled_from(["web", "app"]),
            st.integers(0, 2),
            st.integers(0, 1),  # "loyal" never occurs: an unused category stays in the table
            st.floats(0, 1000, allow_nan=False),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_crosstab_agrees_with_pandas_crosstab(rows):
    region, channel, activity, loyalty, revenue = zip(*rows, strict=True)
    categories = pd.DataFrame(
        {
            "customer_id": range(len(rows)),
            "region": pd.array(region, dtype="str"),
            "channel": pd.array(channel, dtype="str"),
            "activity": pd.Categorical.from_codes(activity, categories=["a", "b", "c"]),
            "loyalty": pd.Categorical.from_codes(loyalty, categories=["x", "y", "z"]),
            "revenue": revenue,
        }
    )
    for rows_, columns in (("region", "activity"), ("channel", "loyalty"), ("activity", "region")):
        got = category_crosstab(categories, rows_, columns)
        expected = _pandas_crosstab(categories, rows_, columns)
        pd.testing.assert_frame_equal(got.customers, expected.customers)
        pd.testing.assert_frame_equal(got.revenue_share, expected.revenue_share, rtol=1e-9)


def test_crosstab_with_missing_values_is_pandas_crosstab():
    categories = pd.DataFrame(
        {"region": ["North", None, "South"], "activity": ["a", "a", "b"], "revenue": [1, 2, 3.0]}
    )
    got = category_crosstab(categories, "region", "activity")
    expected = _pandas_crosstab(categories, "region", "activity")
    pd.testing.assert_frame_equal(got.customers, expected.customers)
    assert got.customers.to_numpy().sum() == 3  # the missing region is a row of its own
