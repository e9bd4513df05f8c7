"""Churn-risk features against hand-computed values and a plain pandas reference."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from custkit.churn.features import FEATURE_LABELS, churn_features
from custkit.data.reduce import reduce_orders
from custkit.data.signals import reduce_order_signals
from custkit.errors import ParamsError

AS_OF = "2024-06-30"


def tiny_orders():
    rows = [
        # customer 1: four purchases and a cancelled order
        (1, "2024-01-01 10:00", 100.0, "completed"),
        (1, "2024-01-11 12:00", 200.0, "completed"),
        (1, "2024-01-31 09:00", 300.0, "completed"),
        (1, "2024-06-20 18:00", 400.0, "completed"),
        (1, "2024-06-25 18:00", 999.0, "cancelled"),
        # customer 2: one purchase; the July order is after as_of
        (2, "2024-05-31 08:00", 50.0, "completed"),
        (2, "2024-07-05 08:00", 70.0, "completed"),
        # customer 3: two orders on one day, then one a month later
        (3, "2024-03-01 08:00", 10.0, "completed"),
        (3, "2024-03-01 20:00", 20.0, "completed"),
        (3, "2024-04-01 08:00", 30.0, "completed"),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "revenue", "status"])
    frame["order_id"] = np.arange(len(frame))
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame["status"] = frame["status"].astype("category")
    return frame


def tiny_customers():
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 1],  # customer 1 twice: the first row counts
            "region": pd.Categorical(["Moscow", None, "Kazan", "Tver"]),
            "acquisition_channel": pd.Categorical(["organic", "coupons", "organic", "social"]),
            "consent_email": pd.array([True, False, None, False], dtype="boolean"),
        }
    )


def tiny_feedback():
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 99],
            "created_at": pd.to_datetime(
                ["2024-02-01", "2024-06-01", "2024-06-10", "2024-07-10", "2024-06-01"]
            ),
            "kind": pd.Categorical(["review", "review", "ticket", "review", "ticket"]),
            "rating": [4.0, 2.0, np.nan, 1.0, np.nan],
        }
    )


def tiny_messages():
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2],
            "sent_at": pd.to_datetime(["2023-12-01", "2024-05-01", "2024-06-10", "2024-07-01"]),
            "opened": pd.array([True, False, True, True], dtype="boolean"),
            "clicked": pd.array([False, False, True, True], dtype="boolean"),
        }
    )


def build(orders=None, **tables):
    orders = tiny_orders() if orders is None else orders
    reductions = reduce_orders(orders, AS_OF, customer_days=True)
    signals = reduce_order_signals(orders, AS_OF)
    return churn_features(reductions, signals, AS_OF, **tables)


@pytest.fixture(scope="module")
def tiny():
    return build(customers=tiny_customers(), feedback=tiny_feedback(), messages=tiny_messages())


def test_purchase_features_match_hand_computed_values(tiny):
    c1 = tiny.loc[1]
    assert c1["days_since_last_order"] == 10  # June 20 -> June 30
    assert c1["orders"] == 4 and c1["revenue"] == 1000 and c1["avg_order_value"] == 250
    assert c1["tenure_days"] == 181  # 2024 is a leap year
    # purchase days Jan 1, Jan 11, Jan 31, Jun 20: gaps 10, 20, 141
    assert c1["median_gap_days"] == 20
    assert c1["mean_gap_days"] == pytest.approx(171 / 3)
    assert c1["last_gap_days"] == 141
    assert c1["last_gap_ratio"] == pytest.approx(141 / 20)
    assert c1["overdue_ratio"] == pytest.approx(10 / 20)
    # 10 days ago | 151 and 171 days ago | 181 days ago
    assert (c1["orders_last_90d"], c1["orders_prev_90d"], c1["order_trend_90d"]) == (1, 2, -1)
    assert (c1["orders_last_180d"], c1["orders_prev_180d"], c1["order_trend_180d"]) == (3, 1, 2)
    assert c1["cancelled_orders"] == 1 and c1["cancel_share"] == pytest.approx(1 / 5)


def test_one_time_buyer_has_no_gap_and_later_orders_are_ignored(tiny):
    c2 = tiny.loc[2]
    assert c2["orders"] == 1 and c2["revenue"] == 50 and c2["days_since_last_order"] == 30
    assert c2[["mean_gap_days", "median_gap_days", "last_gap_days", "overdue_ratio"]].isna().all()
    assert c2["purchase_days"] == 1


def test_same_day_orders_count_once_in_gaps(tiny):
    c3 = tiny.loc[3]
    assert c3["orders"] == 3 and c3["purchase_days"] == 2
    assert c3["median_gap_days"] == 31 and c3["last_gap_days"] == 31


def test_feedback_and_message_features_match_hand_computed_values(tiny):
    c1, c3 = tiny.loc[1], tiny.loc[3]
    assert c1["ratings"] == 2 and c1["mean_rating"] == 3.0
    assert c1["low_ratings_180d"] == 1 and c1["tickets_180d"] == 1
    assert c1["messages_90d"] == 2 and c1["opened_90d"] == 1 and c1["clicked_90d"] == 1
    assert c1["open_rate_365d"] == pytest.approx(2 / 3)
    assert c3["ratings"] == 0 and np.isnan(c3["mean_rating"]) and c3["messages_90d"] == 0


def test_feedback_and_messages_after_as_of_are_ignored(tiny):
    c2 = tiny.loc[2]
    # customer 2 rated 1 and opened a message only after as_of
    assert c2["ratings"] == 0 and np.isnan(c2["mean_rating"]) and c2["low_ratings_180d"] == 0
    assert c2["messages_90d"] == 0 and np.isnan(c2["open_rate_365d"])
    later_feedback = pd.DataFrame(
        {
            "customer_id": [1, 3],
            "created_at": pd.to_datetime(["2024-07-01", "2025-01-01"]),
            "kind": pd.Categorical(["ticket", "review"]),
            "rating": [np.nan, 1.0],
        }
    )
    later_messages = pd.DataFrame(
        {
            "customer_id": [1, 3],
            "sent_at": pd.to_datetime(["2024-07-01 00:00:01", "2024-08-01 00:00:00"]),
            "opened": pd.array([True, True], dtype="boolean"),
            "clicked": pd.array([True, True], dtype="boolean"),
        }
    )
    with_future = build(
        customers=tiny_customers(),
        feedback=pd.concat([tiny_feedback(), later_feedback], ignore_index=True),
        messages=pd.concat([tiny_messages(), later_messages], ignore_index=True),
    )
    pd.testing.assert_frame_equal(with_future, tiny)


def test_categories_come_from_the_first_customer_row(tiny):
    assert tiny["region"].tolist()[0] == "Moscow" and pd.isna(tiny.loc[2, "region"])
    assert tiny.loc[1, "email_consent"] == 1.0 and np.isnan(tiny.loc[3, "email_consent"])
    assert isinstance(tiny["acquisition_channel"].dtype, pd.CategoricalDtype)


def test_every_feature_is_documented_and_numeric_or_categorical(tiny):
    assert tiny.index.name == "customer_id" and list(tiny.index) == [1, 2, 3]
    assert set(tiny.columns) <= set(FEATURE_LABELS)
    for name, dtype in tiny.dtypes.items():
        assert dtype == np.float64 or isinstance(dtype, pd.CategoricalDtype), name
    assert tiny.attrs["as_of"] == pd.Timestamp(AS_OF)
    assert tiny.attrs["missing_sources"] == []


def test_missing_sources_leave_their_features_out_and_are_recorded():
    frame = build()
    assert frame.attrs["missing_sources"] == ["customers", "feedback", "messages"]
    for absent in ("region", "mean_rating", "tickets_180d", "messages_90d", "open_rate_365d"):
        assert absent not in frame.columns
    assert frame.loc[1, "days_since_last_order"] == 10
    # the tiny orders have only a status: the other order signals are absent too
    assert "orders.discount" in frame.attrs["missing_columns"]
    assert "late_share" not in frame.columns


def test_missing_optional_columns_are_recorded():
    feedback = tiny_feedback().drop(columns="rating")
    frame = build(feedback=feedback)
    assert "feedback.rating" in frame.attrs["missing_columns"]
    assert "mean_rating" not in frame.columns and frame.loc[1, "tickets_180d"] == 1


def test_rare_values_are_grouped_as_other():
    rng = np.random.default_rng(0)
    n = 400
    orders = pd.DataFrame(
        {
            "order_id": np.arange(n),
            "customer_id": np.arange(n),
            "order_date": pd.Timestamp("2024-06-01") + pd.to_timedelta(rng.integers(0, 20, n), "D"),
            "revenue": 100.0,
        }
    )
    customers = pd.DataFrame(
        {"customer_id": np.arange(n), "region": ["Moscow"] * (n - 1) + ["Tver"]}
    )
    frame = build(orders, customers=customers)
    assert list(frame["region"].cat.categories) == ["Moscow", "other"]
    assert frame.loc[n - 1, "region"] == "other"


def test_gaps_and_windows_match_a_pandas_reference():
    rng = np.random.default_rng(1)
    n = 3000
    orders = pd.DataFrame(
        {
            "order_id": np.arange(n),
            "customer_id": rng.integers(0, 300, n),
            "order_date": pd.Timestamp("2023-06-01")
            + pd.to_timedelta(rng.integers(0, 500 * 86400, n), "s"),
            "revenue": rng.uniform(10, 100, n),
        }
    )
    frame = build(orders)
    kept = orders.loc[orders["order_date"] < pd.Timestamp(AS_OF) + pd.Timedelta(days=1)].copy()
    kept["day"] = kept["order_date"].dt.normalize()
    days = kept.drop_duplicates(["customer_id", "day"]).sort_values(["customer_id", "day"])
    gaps = days.groupby("customer_id")["day"].diff().dt.days
    reference_median = gaps.groupby(days["customer_id"]).median()
    pd.testing.assert_series_equal(
        frame["median_gap_days"], reference_median.rename("median_gap_days"), check_dtype=False
    )
    days_ago = (pd.Timestamp(AS_OF) - kept["day"]).dt.days
    last_180 = (days_ago < 180).groupby(kept["customer_id"]).sum()
    pd.testing.assert_series_equal(
        frame["orders_last_180d"], last_180.rename("orders_last_180d"), check_dtype=False
    )


def test_narrowed_reductions_give_features_of_those_customers_only(tiny):
    orders = tiny_orders()
    reductions = reduce_orders(orders, AS_OF, customer_days=True)
    narrowed = dataclasses.replace(
        reductions, customers=reductions.customers.loc[reductions.customers["customer_id"] != 2]
    )
    frame = churn_features(narrowed, reduce_order_signals(orders, AS_OF), AS_OF)
    assert list(frame.index) == [1, 3]
    assert frame.loc[3, "median_gap_days"] == 31


def test_reductions_without_customer_days_are_refused():
    orders = tiny_orders()
    with pytest.raises(ParamsError, match="customer_days=True"):
        churn_features(reduce_orders(orders, AS_OF), reduce_order_signals(orders, AS_OF), AS_OF)


def test_reductions_of_another_day_are_refused():
    orders = tiny_orders()
    reductions = reduce_orders(orders, "2024-05-31", customer_days=True)
    with pytest.raises(ParamsError, match=r"built as of 2024-05-31 but as_of is 2024-06-30"):
        churn_features(reductions, reduce_order_signals(orders, AS_OF), AS_OF)


def test_customer_ids_of_another_type_warn():
    customers = tiny_customers().assign(customer_id=lambda t: t["customer_id"].astype(str))
    with pytest.warns(UserWarning, match="no customer_id of the customers table matches"):
        frame = build(customers=customers)
    assert frame["region"].isna().all()
