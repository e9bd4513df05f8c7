"""The per-customer summary: published CDNOW totals, lifetimes' semantics, hand-checked cases."""

import warnings

import numpy as np
import pandas as pd
import pytest

from custkit.data.reduce import reduce_customer_days, reduce_orders
from custkit.datasets import load_cdnow
from custkit.errors import DataError, ParamsError
from custkit.ltv import summarize

COLS = ["frequency", "recency", "T", "monetary_value"]


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow("sample")


def _orders(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "revenue", "status"])
    frame["order_date"] = pd.to_datetime(frame["order_date"], format="ISO8601")
    return frame


def test_cdnow_calibration_summary_has_2457_repeat_transactions_of_946_repeat_buyers(cdnow):
    s = summarize(cdnow, as_of="1998-06-30", calibration_end="1997-09-30")
    assert len(s) == 2357
    assert s["frequency"].sum() == 2457
    assert (s["frequency"] > 0).sum() == 946
    assert s.attrs["time_unit"] == "W"
    assert s.attrs["customers_after_calibration"] == 0
    one = s.loc[1]
    assert one["frequency"] == 2
    assert one["recency"] == pytest.approx(30.43, abs=0.005)
    assert one["T"] == pytest.approx(38.86, abs=0.005)
    assert s["duration_holdout"].iloc[0] == pytest.approx(273 / 7)


def test_summary_matches_lifetimes_on_cdnow_sample(cdnow):
    utils = pytest.importorskip("lifetimes.utils")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = utils.summary_data_from_transaction_data(
            cdnow,
            "customer_id",
            "order_date",
            "revenue",
            observation_period_end="1997-09-30",
            freq="D",
            freq_multiplier=7,
        )
    ours = summarize(cdnow, as_of="1997-09-30", time_unit="W")
    assert ours.index.tolist() == ref.index.tolist()
    np.testing.assert_allclose(ours[COLS].to_numpy(), ref[COLS].to_numpy(), rtol=1e-12, atol=1e-9)


def test_holdout_columns_match_a_pandas_groupby_reference(cdnow):
    s = summarize(cdnow, as_of="1998-06-30", calibration_end="1997-09-30", time_unit="D")
    days = cdnow.assign(day=cdnow["order_date"].dt.normalize())
    per_day = days.groupby(["customer_id", "day"])["revenue"].sum().reset_index()
    hold = per_day[per_day["day"] > "1997-09-30"].groupby("customer_id")["revenue"]
    expected_freq = hold.size().reindex(s.index, fill_value=0)
    expected_mon = hold.mean().reindex(s.index, fill_value=0.0)
    np.testing.assert_array_equal(s["frequency_holdout"].to_numpy(), expected_freq.to_numpy())
    np.testing.assert_allclose(s["monetary_holdout"].to_numpy(), expected_mon.to_numpy())
    assert (s["duration_holdout"] == 273).all()


def test_same_day_orders_merge_and_cancelled_orders_are_left_out():
    orders = _orders(
        [
            (7, "2024-01-01 09:00", 10.0, "completed"),
            (7, "2024-01-01 18:00", 5.0, "completed"),
            (7, "2024-01-15", 30.0, "completed"),
            (7, "2024-01-15 12:00", 6.0, "cancelled"),
            (7, "2024-01-29 23:59", 12.0, None),
            (8, "2024-01-20", 99.0, "completed"),
        ]
    )
    s = summarize(orders, as_of="2024-02-12", time_unit="D")
    assert s.loc[7, "frequency"] == 2
    assert s.loc[7, "recency"] == 28
    assert s.loc[7, "T"] == 42
    assert s.loc[7, "monetary_value"] == pytest.approx((30.0 + 12.0) / 2)
    assert s.loc[8].tolist() == [0, 0, 23, 0.0]
    assert s.attrs["excluded_orders"]["not_a_purchase"] == 1
    weeks = summarize(orders, as_of="2024-02-12", time_unit="W")
    months = summarize(orders, as_of="2024-02-12", time_unit="M")
    assert weeks.loc[7, "T"] == pytest.approx(6.0)
    assert months.loc[7, "T"] == pytest.approx(42 / 30.4375)


def test_customers_first_buying_after_calibration_end_are_excluded_and_counted():
    orders = _orders(
        [
            (1, "2024-01-01", 10.0, None),
            (1, "2024-03-01", 20.0, None),
            (2, "2024-02-15", 30.0, None),
        ]
    )
    s = summarize(orders, as_of="2024-03-31", calibration_end="2024-01-31", time_unit="D")
    assert s.index.tolist() == [1]
    assert s.attrs["customers_after_calibration"] == 1
    assert s.loc[1, "frequency"] == 0 and s.loc[1, "T"] == 30
    assert s.loc[1, "frequency_holdout"] == 1 and s.loc[1, "monetary_holdout"] == 20.0


def test_summarize_rejects_unknown_unit_and_calibration_after_as_of(cdnow):
    with pytest.raises(ParamsError, match=r"one of \['D', 'W', 'M'\]. Got 'Y' instead"):
        summarize(cdnow, time_unit="Y")
    with pytest.raises(ParamsError, match="calibration_end"):
        summarize(cdnow, as_of="1997-06-30", calibration_end="1997-09-30")


def test_summarize_raises_data_error_when_nothing_was_bought():
    orders = _orders([(1, "2024-01-01", 10.0, "cancelled")])
    with pytest.raises(DataError, match="no purchases"):
        summarize(orders)


def test_customer_days_reduction_matches_a_pandas_groupby(cdnow):
    days = reduce_customer_days(cdnow)
    ref = (
        cdnow.groupby(["customer_id", cdnow["order_date"].dt.normalize()])
        .agg(orders=("order_id", "size"), revenue=("revenue", "sum"))
        .reset_index()
    )
    assert len(days) == 6696
    np.testing.assert_array_equal(days["customer_id"], ref["customer_id"])
    np.testing.assert_array_equal(days["order_day"], ref["order_date"])
    np.testing.assert_array_equal(days["orders"], ref["orders"])
    np.testing.assert_allclose(days["revenue"], ref["revenue"])


def test_customer_days_keep_string_ids_and_respect_as_of():
    orders = _orders(
        [
            ("b", "2024-01-02 10:00", 1.0, None),
            ("a", "2024-01-03", 2.0, None),
            ("b", "2024-01-02 11:00", 3.0, None),
            ("a", "2024-02-03", 4.0, None),
        ]
    )
    days = reduce_customer_days(orders, as_of="2024-01-31")
    assert days["customer_id"].tolist() == ["a", "b"]
    assert days["revenue"].tolist() == [2.0, 4.0]
    assert days.attrs["excluded"]["after_as_of"] == 1


@pytest.mark.parametrize(
    ("as_of", "calibration_end"),
    [(None, None), ("1998-06-30", "1997-09-30"), ("1998-01-31", None)],
)
def test_summary_from_shared_reductions_equals_summary_from_orders(cdnow, as_of, calibration_end):
    reductions = reduce_orders(cdnow, "1998-06-30", customer_days=True)
    got = summarize(reductions, as_of=as_of, calibration_end=calibration_end)
    expected = summarize(cdnow, as_of=as_of or "1998-06-30", calibration_end=calibration_end)
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs == expected.attrs


def test_summary_from_reductions_needs_their_day_table_and_an_as_of_within_them(cdnow):
    with pytest.raises(DataError, match="customer_days=True"):
        summarize(reduce_orders(cdnow, "1998-06-30"))
    reductions = reduce_orders(cdnow, "1998-01-31", customer_days=True)
    with pytest.raises(ParamsError, match="must not be after the reductions' as-of date"):
        summarize(reductions, as_of="1998-06-30")
    with pytest.raises(ParamsError, match="calibration_end' parameter must be before as_of"):
        summarize(reductions, calibration_end="1998-03-01")
