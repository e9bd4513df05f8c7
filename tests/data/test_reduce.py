"""Tests of the order reductions against hand-checked numbers and a pandas reference."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custkit.data.reduce import purchases, reduce_customer_days, reduce_orders
from custkit.errors import DataError


def _orders(rows):
    frame = pd.DataFrame(
        rows, columns=["order_id", "customer_id", "order_date", "revenue", "status"]
    )
    frame["order_date"] = pd.to_datetime(frame["order_date"], format="ISO8601")
    frame["status"] = frame["status"].astype("category")
    return frame


@pytest.fixture
def orders():
    return _orders(
        [
            (1, 10, "2024-01-05 10:00", 100.0, "completed"),
            (2, 10, "2024-01-20", 50.0, "completed"),
            (3, 10, "2024-03-01", 30.0, " Cancelled"),
            (4, 10, "2024-03-02", 20.0, "completed"),
            (5, 20, "2024-02-10", 70.0, None),
            (6, 20, "2024-04-01", 999.0, "completed"),  # after as-of
            (7, 30, "2024-03-31 23:59", 5.0, "RETURNED"),
        ]
    )


def test_purchases_drop_cancelled_returned_case_insensitively_and_later_orders(orders):
    kept = purchases(orders, as_of="2024-03-31")
    assert kept["order_id"].tolist() == [1, 2, 4, 5]


def test_purchases_keep_every_date_without_as_of(orders):
    assert purchases(orders)["order_id"].tolist() == [1, 2, 4, 5, 6]


def test_reduce_orders_counts_what_it_excluded(orders):
    red = reduce_orders(orders, "2024-03-31")
    assert dict(red.excluded) == {"not_a_purchase": 2, "after_as_of": 1}


def test_customer_summary_matches_hand_computed_values(orders):
    red = reduce_orders(orders, "2024-03-31")
    c = red.customers.set_index("customer_id")
    assert c.index.tolist() == [10, 20]  # customer 30 only returned
    assert c.loc[10, "orders"] == 3
    assert c.loc[10, "revenue"] == 170.0
    assert c.loc[10, "first_order_value"] == 100.0
    assert c.loc[10, "first_order_date"] == pd.Timestamp("2024-01-05 10:00")
    assert c.loc[10, "second_order_date"] == pd.Timestamp("2024-01-20")
    assert c.loc[10, "third_order_date"] == pd.Timestamp("2024-03-02")
    assert c.loc[10, "last_order_date"] == pd.Timestamp("2024-03-02")
    assert pd.isna(c.loc[20, "second_order_date"]) and pd.isna(c.loc[20, "third_order_date"])
    assert c["first_order_date"].dtype == "datetime64[ns]"


def test_customer_months_sum_orders_and_revenue_per_calendar_month(orders):
    cm = reduce_orders(orders, "2024-03-31").customer_months
    assert cm["month"].dtype == pd.PeriodDtype("M")
    assert [(r.customer_id, str(r.month), r.orders, r.revenue) for r in cm.itertuples()] == [
        (10, "2024-01", 2, 150.0),
        (10, "2024-03", 1, 20.0),
        (20, "2024-02", 1, 70.0),
    ]
    assert cm["last_order_date"].iloc[0] == pd.Timestamp("2024-01-20")


def test_margin_and_first_order_channel_are_added_when_orders_have_them(orders):
    orders = orders.assign(
        cost=orders["revenue"] * 0.5, channel=pd.Categorical(["web", "app"] * 3 + ["web"])
    )
    c = reduce_orders(orders, "2024-03-31").customers.set_index("customer_id")
    assert c.loc[10, "margin"] == 85.0
    assert c.loc[10, "first_order_channel"] == "web"
    assert c.loc[20, "first_order_channel"] == "web"


def test_string_customer_ids_are_kept_as_strings_and_sorted(orders):
    orders = orders.assign(customer_id=orders["customer_id"].map({10: "b", 20: "a", 30: "c"}))
    red = reduce_orders(orders, "2024-03-31")
    assert red.customers["customer_id"].tolist() == ["a", "b"]
    assert red.customer_months["customer_id"].tolist() == ["a", "b", "b"]


def test_orders_without_status_column_all_count(orders):
    red = reduce_orders(orders.drop(columns="status"), "2024-03-31")
    assert red.customers["orders"].sum() == 6
    assert red.excluded["not_a_purchase"] == 0


def test_no_purchases_gives_empty_tables(orders):
    red = reduce_orders(orders, "2023-01-31")
    assert len(red.customers) == 0 and len(red.customer_months) == 0
    assert red.first_month is None


def test_missing_required_column_names_it():
    with pytest.raises(DataError, match="revenue"):
        reduce_orders(
            pd.DataFrame({"customer_id": [1], "order_date": [pd.Timestamp(0)]}), "2024-01-01"
        )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 6),
            st.integers(0, 400),
            st.floats(0, 1000, allow_nan=False).map(lambda v: round(v, 2)),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_reduction_agrees_with_a_pandas_groupby(rows):
    base = pd.Timestamp("2023-01-01")
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "revenue"])
    # distinct times per customer so that ranks are unambiguous
    frame["order_date"] = (
        base
        + pd.to_timedelta(frame["day"], unit="D")
        + pd.to_timedelta(np.arange(len(frame)), unit="s")
    )
    red = reduce_orders(frame, "2024-12-31")
    ref = frame.sort_values("order_date").groupby("customer_id")
    c = red.customers.set_index("customer_id")
    assert c["orders"].tolist() == ref.size().tolist()
    np.testing.assert_allclose(c["revenue"], ref["revenue"].sum())
    assert (c["first_order_date"] == ref["order_date"].min()).all()
    assert (c["last_order_date"] == ref["order_date"].max()).all()
    second = ref["order_date"].nth(1).groupby(frame["customer_id"]).first()
    got = c["second_order_date"].dropna()
    assert got.index.tolist() == second.index.tolist()
    assert (got == second).all()
    assert red.customer_months["orders"].sum() == len(frame)
    np.testing.assert_allclose(red.customer_months["revenue"].sum(), frame["revenue"].sum())


def test_rows_left_out_do_not_affect_the_reduction(orders):
    # Excluded rows carry ids and dates far outside the purchases' range; the packed sort key
    # must not let them disturb the customers kept.
    wild = _orders(
        [
            (8, -(10**12), "1900-01-01", 1.0, "cancelled"),
            (9, 10**15, "2250-01-01", 1.0, "completed"),
        ]
    )
    both = pd.concat([wild.iloc[:1], orders, wild.iloc[1:]], ignore_index=True)
    both["status"] = both["status"].astype("category")
    got = reduce_orders(both, "2024-03-31")
    expected = reduce_orders(purchases(orders, "2024-03-31"), "2024-03-31")
    pd.testing.assert_frame_equal(got.customers, expected.customers)
    pd.testing.assert_frame_equal(got.customer_months, expected.customer_months)
    assert dict(got.excluded) == {"not_a_purchase": 3, "after_as_of": 2}


def test_customer_days_come_from_the_same_sort_and_equal_the_day_reduction(orders):
    orders = orders.assign(cost=orders["revenue"] * 0.6)
    red = reduce_orders(orders, "2024-03-31", customer_days=True)
    expected = reduce_customer_days(orders, "2024-03-31")
    pd.testing.assert_frame_equal(red.customer_days, expected)
    np.testing.assert_allclose(expected["margin"], expected["revenue"] * 0.4)
    assert reduce_orders(orders, "2024-03-31").customer_days is None


def test_customer_days_stay_exact_when_the_sort_key_coarsens_times_around_midnight(monkeypatch):
    # A narrow key forces coarse time buckets: orders minutes apart around midnight then rank in
    # file order, and the day table must fall back to a sort by day.
    rng = np.random.default_rng(3)
    n = 3000
    midnight = pd.Timestamp("2024-05-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D")
    frame = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 50, n),
            "order_date": midnight + pd.to_timedelta(rng.integers(-300, 300, n), unit="s"),
            "revenue": rng.uniform(1, 100, n).round(2),
        }
    )
    monkeypatch.setattr("custkit.data.reduce._KEY_BITS", 32)  # ~9-minute buckets
    from custkit.data import reduce as module

    from_sort = []
    original = module._days_from_sorted
    monkeypatch.setattr(
        module, "_days_from_sorted", lambda *a: from_sort.append(original(*a)) or from_sort[-1]
    )
    red = reduce_orders(frame, "2024-12-31", customer_days=True)
    assert from_sort == [None]  # the out-of-order days were detected
    pd.testing.assert_frame_equal(red.customer_days, reduce_customer_days(frame, "2024-12-31"))
