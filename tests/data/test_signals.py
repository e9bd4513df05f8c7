"""Per-customer order signals against a plain pandas reference and hand-checked cases."""

import numpy as np
import pandas as pd
import pytest

from custkit.data.signals import reduce_order_signals
from custkit.errors import ParamsError

AS_OF = "2024-06-30"


def random_orders(n=4000, customers=300, seed=0):
    rng = np.random.default_rng(seed)
    placed = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 200 * 86400, n), "s")
    promised = placed.normalize() + pd.to_timedelta(rng.integers(1, 5, n), "D")
    delivered = promised + pd.to_timedelta(rng.choice([-1, 0, 0, 0, 2, 6], n), "D")
    delivered = delivered.where(rng.random(n) > 0.1)  # some never delivered
    return pd.DataFrame(
        {
            "order_id": np.arange(n),
            "customer_id": rng.integers(0, customers, n),
            "order_date": placed,
            "revenue": rng.uniform(100, 5000, n).round(2),
            "status": pd.Categorical(
                rng.choice(
                    ["completed", "Cancelled ", "returned", None], n, p=[0.8, 0.08, 0.07, 0.05]
                )
            ),
            "shipping_cost": rng.choice([0.0, 199.0, 499.0], n),
            "discount": rng.choice([0.0, 0.0, 150.0], n),
            "coupon": pd.Categorical(rng.choice(["", "SALE10", None], n, p=[0.1, 0.2, 0.7])),
            "promised_delivery_date": promised,
            "delivered_at": delivered,
            "delivery_region": pd.Categorical(rng.choice(["Moscow", "Kazan", None], n)),
        }
    )


def pandas_reference(orders, as_of, recent):
    """The same signals written the slow, obvious way."""
    o = orders.loc[orders["order_date"] < pd.Timestamp(as_of) + pd.Timedelta(days=1)].copy()
    o = o.sort_values(["customer_id", "order_date"], kind="stable")
    status = o["status"].astype(str).str.strip().str.lower()
    o["cancelled"] = status.eq("cancelled")
    o["returned"] = status.eq("returned")
    o["bought"] = ~(o["cancelled"] | o["returned"])
    o["recent"] = o.groupby("customer_id").cumcount(ascending=False) < recent
    known = o["bought"] & o["promised_delivery_date"].notna() & o["delivered_at"].notna()
    delay = (o["delivered_at"].dt.normalize() - o["promised_delivery_date"].dt.normalize()).dt.days
    o["known"] = known
    o["late"] = known & (delay > 0)
    o["delay_recent"] = np.where(known & o["recent"], delay.clip(lower=0).fillna(0), 0)
    o["rev"] = np.where(o["bought"], o["revenue"], 0.0)
    o["ship"] = np.where(o["bought"], o["shipping_cost"], 0.0)
    o["coupon_used"] = o["bought"] & o["coupon"].notna() & o["coupon"].astype(str).ne("")
    g = o.groupby("customer_id")

    def share(part, whole):
        return (part / whole).where(whole > 0)

    rec = o.loc[o["recent"]].groupby("customer_id")
    early = o.loc[~o["recent"]].groupby("customer_id")
    ref = pd.DataFrame(
        {
            "placed_orders": g.size(),
            "purchases": g["bought"].sum(),
            "cancelled_recent": g.apply(lambda d: (d["cancelled"] & d["recent"]).sum()),
            "late_deliveries": g["late"].sum(),
            "late_recent": g.apply(lambda d: (d["late"] & d["recent"]).sum()),
            "max_delay_days_recent": g["delay_recent"].max(),
            "shipping_share": share(g["ship"].sum(), g["ship"].sum() + g["rev"].sum()),
            "shipping_share_recent": share(rec["ship"].sum(), rec["ship"].sum() + rec["rev"].sum()),
            "shipping_share_before": share(
                early["ship"].sum(), early["ship"].sum() + early["rev"].sum()
            ),
            "coupon_share": share(g["coupon_used"].sum(), g["bought"].sum()),
            "coupon_share_before": share(early["coupon_used"].sum(), early["bought"].sum()),
            "last_region": g["delivery_region"].last(skipna=False).astype(object),
        }
    )
    return ref


def test_signals_match_a_pandas_reference():
    orders = random_orders()
    got = reduce_order_signals(orders, AS_OF, recent_orders=2).set_index("customer_id")
    ref = pandas_reference(orders, AS_OF, recent=2)
    assert got.index.tolist() == ref.index.tolist()
    for column in ref.columns.drop("last_region"):
        np.testing.assert_allclose(
            got[column].to_numpy(float),
            ref[column].reindex(got.index).to_numpy(float),
            err_msg=column,
        )
    regions = got["last_region"].astype(object).fillna("?").tolist()
    assert regions == ref["last_region"].fillna("?").tolist()


def test_last_orders_reveal_a_late_delivery_a_shipping_rise_and_a_region_move():
    day = pd.Timestamp("2024-03-01")
    orders = pd.DataFrame(
        {
            "customer_id": [7, 7, 7, 7],
            "order_date": [
                day,
                day + pd.Timedelta(days=30),
                day + pd.Timedelta(days=60),
                day + pd.Timedelta(days=90),
            ],
            "revenue": [4000.0, 4000.0, 1000.0, 1000.0],
            "status": pd.Categorical(["completed", "completed", "completed", "returned"]),
            "shipping_cost": [0.0, 0.0, 499.0, 499.0],
            "promised_delivery_date": [day + pd.Timedelta(days=d) for d in (2, 32, 62, 92)],
            "delivered_at": [day + pd.Timedelta(days=d) for d in (2, 32, 67, 92)],
            "delivery_region": pd.Categorical(["Moscow", "Moscow", "Moscow", "Vladivostok"]),
        }
    )
    s = reduce_order_signals(orders, AS_OF, recent_orders=2).iloc[0]
    assert (s["placed_orders"], s["purchases"], s["returned_orders"]) == (4, 3, 1)
    assert (s["late_recent"], s["max_delay_days_recent"]) == (1, 5)
    assert s["shipping_share_before"] == 0.0
    assert s["shipping_share_recent"] == pytest.approx(499 / 1499)  # the returned order is out
    assert (s["last_region"], s["previous_region"], s["region_changed"]) == (
        "Vladivostok",
        "Moscow",
        True,
    )
    assert s["last_placed_date"] == day + pd.Timedelta(days=90)


def test_signals_only_for_the_columns_present_and_later_orders_ignored():
    orders = random_orders()[["customer_id", "order_date", "revenue"]]
    got = reduce_order_signals(orders, "2024-02-01")
    assert list(got.columns) == ["customer_id", "placed_orders", "purchases", "last_placed_date"]
    assert got["last_placed_date"].max() < pd.Timestamp("2024-02-02")


@pytest.mark.parametrize("value", [0, 101, 2.5, True])
def test_recent_orders_is_validated(value):
    with pytest.raises(ParamsError, match=r"'recent_orders' parameter must be an int"):
        reduce_order_signals(random_orders(50), AS_OF, recent_orders=value)


def test_a_delivery_surcharge_shows_against_the_regions_usual_price():
    day = pd.Timestamp("2024-03-01")
    orders = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, 3],
            "order_date": [day + pd.Timedelta(days=d) for d in (0, 10, 0, 10, 5)],
            "revenue": [1000.0] * 5,
            "shipping_cost": [200.0, 200.0, 200.0, 450.0, 0.0],
            "delivery_region": pd.Categorical(["Kazan"] * 5),
        }
    )
    s = reduce_order_signals(orders, AS_OF).set_index("customer_id")
    # Kazan's median paid delivery is 200: customer 2's last order paid 2.25 times that
    assert s["shipping_vs_usual_recent"].tolist() == [1.0, 2.25, 0.0]
