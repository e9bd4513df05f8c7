"""Tests of the demo store generator: shape, realism, dirty rows and the files it writes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from custkit.data.contract import TABLES
from custkit.data.demo import generate_demo_store, write_demo_store
from custkit.errors import ParamsError

END = pd.Timestamp("2026-11-15")
OPENED = pd.Timestamp("2024-11-15")


@pytest.fixture(scope="module")
def dirty_store() -> dict[str, pd.DataFrame]:
    return generate_demo_store(1_000, seed=11)


@pytest.fixture(scope="module")
def clean_store() -> dict[str, pd.DataFrame]:
    return generate_demo_store(5_000, seed=11, dirty=False)


def _parsed_order_dates(orders: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(orders["order_date"], format="%Y-%m-%d %H:%M:%S", errors="coerce")


def _normalized_phone(phone: pd.Series) -> pd.Series:
    return phone.str.replace(r"\D", "", regex=True).str[-10:]


def _normalized_email(email: pd.Series) -> pd.Series:
    return email.str.strip().str.lower()


# --- determinism ----------------------------------------------------------------------------------


def test_same_seed_gives_identical_tables():
    first = generate_demo_store(500, seed=3)
    second = generate_demo_store(500, seed=3)
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name])


def test_different_seed_gives_different_orders():
    first = generate_demo_store(500, seed=3)["orders"]
    second = generate_demo_store(500, seed=4)["orders"]
    assert len(first) != len(second) or not first.equals(second)


# --- contract -------------------------------------------------------------------------------------


def test_every_table_has_exactly_the_canonical_columns(dirty_store):
    assert set(dirty_store) == set(TABLES)
    for name, frame in dirty_store.items():
        assert list(frame.columns) == TABLES[name].names, name
        assert len(frame) > 0, name


def test_order_ids_are_unique_without_dirty_rows(clean_store):
    assert clean_store["orders"]["order_id"].is_unique


def test_customer_ids_start_at_100001_and_are_unique_without_dirty_rows(clean_store):
    ids = clean_store["customers"]["customer_id"]
    assert ids.is_unique
    assert ids.min() == 100_001


# --- purchase behaviour ---------------------------------------------------------------------------


def test_more_than_half_of_buying_customers_buy_once(clean_store):
    orders_per_buyer = clean_store["orders"].groupby("customer_id").size()
    assert (orders_per_buyer == 1).mean() > 0.5


def test_about_ten_percent_of_customers_never_buy(clean_store):
    buyers = clean_store["orders"]["customer_id"].unique()
    never_bought = ~clean_store["customers"]["customer_id"].isin(buyers)
    assert 0.05 < never_bought.mean() < 0.15


def test_base_loses_10_to_35_percent_of_its_buyers_in_a_year(clean_store):
    orders = clean_store["orders"]
    year_ago = END - pd.DateOffset(months=12)
    earlier = orders["order_date"].between(year_ago - pd.DateOffset(months=12), year_ago)
    buyers_before = set(orders.loc[earlier & (orders["order_date"] < year_ago), "customer_id"])
    buyers_last_year = set(orders.loc[orders["order_date"] >= year_ago, "customer_id"])
    lost_share = len(buyers_before - buyers_last_year) / len(buyers_before)
    assert 0.10 <= lost_share <= 0.35


def test_orders_fall_inside_the_history_without_dirty_rows(clean_store):
    dates = clean_store["orders"]["order_date"]
    assert dates.min() >= OPENED
    assert dates.max() < END + pd.Timedelta(days=1)


def test_typical_order_is_1500_to_5000_rubles_and_cost_is_55_to_75_percent(clean_store):
    orders = clean_store["orders"]
    assert 1_500 <= orders["revenue"].median() <= 5_000
    cost_share = orders["cost"] / orders["revenue"]
    assert cost_share.between(0.549, 0.751).all()


def test_status_shares_are_about_92_5_3_percent(clean_store):
    shares = clean_store["orders"]["status"].value_counts(normalize=True)
    assert shares["completed"] == pytest.approx(0.92, abs=0.02)
    assert shares["cancelled"] == pytest.approx(0.05, abs=0.015)
    assert shares["returned"] == pytest.approx(0.03, abs=0.015)


def test_cancelled_orders_are_never_delivered(clean_store):
    orders = clean_store["orders"]
    assert orders.loc[orders["status"] == "cancelled", "delivered_at"].isna().all()


def test_shipping_is_free_from_3000_rubles_of_goods(clean_store):
    orders = clean_store["orders"]
    goods = orders["revenue"] + orders["discount"]
    assert (orders.loc[goods >= 3_000, "shipping_cost"] == 0).all()
    assert orders.loc[goods < 3_000, "shipping_cost"].between(199, 599).all()


def test_coupon_acquired_customers_use_coupons_more(clean_store):
    orders = clean_store["orders"].merge(
        clean_store["customers"][["customer_id", "acquisition_channel"]], on="customer_id"
    )
    used = orders["coupon"].notna().groupby(orders["acquisition_channel"] == "coupons").mean()
    assert used[True] > 2 * used[False]


def test_orders_per_customer_knob_reaches_the_target_mean():
    store = generate_demo_store(2_000, seed=5, dirty=False, orders_per_customer=6.0)
    mean_orders = len(store["orders"]) / len(store["customers"])
    assert mean_orders == pytest.approx(6.0, rel=0.15)


# --- customers ------------------------------------------------------------------------------------


def test_every_order_customer_exists_in_customers(dirty_store):
    orders = dirty_store["orders"]
    order_customers = orders["customer_id"].dropna()
    assert order_customers.isin(dirty_store["customers"]["customer_id"]).all()


def test_registration_is_not_after_the_first_order(clean_store):
    first_order = clean_store["orders"].groupby("customer_id")["order_date"].min()
    registered = clean_store["customers"].set_index("customer_id")["registered_at"]
    assert (registered.loc[first_order.index] <= first_order).all()


def test_referrers_are_customers_registered_earlier(clean_store):
    customers = clean_store["customers"]
    referred = customers[customers["referrer_id"].notna()]
    assert len(referred) > 0
    assert (referred["acquisition_channel"] == "referral").all()
    registered = customers.set_index("customer_id")["registered_at"]
    referrer_registered = registered.loc[referred["referrer_id"].astype("int64")].to_numpy()
    assert (referrer_registered <= referred["registered_at"].to_numpy()).all()


def test_duplicate_customers_share_a_normalized_phone_or_email(clean_store):
    customers = clean_store["customers"]
    email = _normalized_email(customers["email"])
    phone = _normalized_phone(customers["phone"])
    same_email = email.notna() & email.duplicated(keep=False)
    same_phone = phone.notna() & phone.duplicated(keep=False)
    raw_email_differs = same_email & ~customers["email"].duplicated(keep=False)
    raw_phone_differs = same_phone & ~customers["phone"].duplicated(keep=False)
    assert raw_email_differs.sum() >= 10
    assert raw_phone_differs.sum() >= 10


def test_some_duplicate_customers_have_orders(clean_store):
    customers = clean_store["customers"]
    email = _normalized_email(customers["email"])
    duplicates = customers.loc[
        email.notna() & email.duplicated(keep="first") & ~customers["email"].duplicated(),
        "customer_id",
    ]
    assert duplicates.isin(clean_store["orders"]["customer_id"]).any()


def test_phones_come_in_three_well_formed_formats(clean_store):
    phone = clean_store["customers"]["phone"].dropna()
    patterns = [r"^\+7 \(9\d\d\) \d{3}-\d{2}-\d{2}$", r"^89\d{9}$", r"^\+79\d{9}$"]
    matches = [phone.str.match(p) for p in patterns]
    assert all(m.any() for m in matches)
    assert np.logical_or.reduce(matches).all()


def test_customer_data_has_realistic_gaps_and_invalid_emails(clean_store):
    customers = clean_store["customers"]
    assert customers["region"].isna().mean() == pytest.approx(0.05, abs=0.02)
    assert customers["birth_date"].isna().mean() == pytest.approx(0.30, abs=0.03)
    email = customers["email"].dropna().str.strip()
    invalid = ~email.str.match(r"^[^@\s]+@[^@\s]+\.[a-z]+$", case=False)
    assert 0.003 < invalid.mean() < 0.03
    assert customers["consent_email"].mean() == pytest.approx(0.70, abs=0.03)
    assert customers["consent_sms"].mean() == pytest.approx(0.40, abs=0.03)


def test_at_least_eight_regions_with_moscow_largest(clean_store):
    regions = clean_store["customers"]["region"].value_counts()
    assert len(regions) >= 8
    assert regions.index[0] == "Moscow"


# --- feedback, messages, experiments --------------------------------------------------------------


def test_feedback_has_all_kinds_ratings_1_to_5_and_known_reasons(clean_store):
    feedback = clean_store["feedback"]
    assert set(feedback["kind"].dropna()) == {"review", "ticket", "survey"}
    assert feedback["rating"].dropna().between(1, 5).all()
    assert set(feedback["reason"].dropna()) <= {
        "forgot",
        "delivery_cost",
        "competitor_price",
        "moved_out_of_delivery_area",
        "quality",
        "delivery",
        "support",
    }
    assert feedback["created_at"].max() < END + pd.Timedelta(days=1)


def test_messages_go_only_to_consenting_customers_at_most_five_a_head(clean_store):
    messages = clean_store["messages"]
    customers = clean_store["customers"].set_index("customer_id")
    for channel, consent in (("email", "consent_email"), ("sms", "consent_sms")):
        ids = messages.loc[messages["channel"] == channel, "customer_id"].unique()
        assert customers.loc[ids, consent].all()
    assert len(messages) / len(customers) <= 5
    assert not (messages["converted"] & ~messages["clicked"]).any()
    assert not (messages["clicked"] & ~messages["opened"]).any()


def test_experiments_are_month2_aa_and_srm_with_a_53_47_split(clean_store):
    experiments = clean_store["experiments"]
    assert set(experiments["experiment_id"]) == {"exp_month2", "exp_aa", "exp_srm"}
    assert not experiments.duplicated(["experiment_id", "customer_id"]).any()
    share_a = (experiments["variant"] == "A").groupby(experiments["experiment_id"]).mean()
    assert share_a["exp_srm"] == pytest.approx(0.53, abs=0.02)
    assert share_a["exp_aa"] == pytest.approx(0.50, abs=0.03)


# --- dirty rows -----------------------------------------------------------------------------------


def _dirty_counts(store: dict[str, pd.DataFrame]) -> dict[str, int]:
    orders = store["orders"]
    text_dates = orders["order_date"].astype("str")
    parsed = _parsed_order_dates(orders)
    revenue = pd.to_numeric(orders["revenue"], errors="coerce")
    same_id = orders[orders["order_id"].duplicated(keep=False)]
    conflicting = same_id.groupby("order_id")["revenue"].nunique() > 1
    return {
        "unparseable_date": int((parsed.isna() & text_dates.notna()).sum()),
        "unparseable_revenue": int(revenue.isna().sum()),
        "empty_customer_id": int(orders["customer_id"].isna().sum()),
        "exact_duplicate": int(orders.duplicated().sum()),
        "conflicting_order_id": int(conflicting.sum()),
        "future_date": int((parsed.dt.year >= 2031).sum()),
        "before_opening": int((parsed < OPENED).sum()),
        "duplicate_customer_row": int(store["customers"].duplicated().sum()),
    }


def test_dirty_store_has_at_least_three_rows_of_each_dirty_kind():
    small = generate_demo_store(500, seed=2)
    counts = _dirty_counts(small)
    assert all(count >= 3 for count in counts.values()), counts


def test_dirty_rows_are_about_three_per_mille_of_orders(dirty_store):
    spoiled = sum(v for k, v in _dirty_counts(dirty_store).items() if k != "duplicate_customer_row")
    assert spoiled / len(dirty_store["orders"]) < 0.03


def test_clean_store_has_no_dirty_rows_and_typed_columns(clean_store):
    assert all(count == 0 for count in _dirty_counts(clean_store).values())
    orders = clean_store["orders"]
    assert pd.api.types.is_datetime64_any_dtype(orders["order_date"])
    assert pd.api.types.is_float_dtype(orders["revenue"])


# --- writing --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_demo_store_writes_every_table_and_a_params_file_pointing_at_them(tmp_path, fmt):
    out = write_demo_store(tmp_path / "demo", 300, seed=1, fmt=fmt)
    params = yaml.safe_load((out / "params.yaml").read_text(encoding="utf-8"))
    assert params["store"] == {"name": "Demo store", "currency": "RUB", "opened": "2024-11-15"}
    assert set(params["sources"]) == set(TABLES)
    for source in params["sources"].values():
        assert source["path"].endswith(f".{fmt}")
        assert (out / source["path"]).is_file()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_csv_files_read_back_with_the_same_number_of_rows(tmp_path):
    out = write_demo_store(tmp_path, 300, seed=1)
    tables = generate_demo_store(300, seed=1)
    for name, frame in tables.items():
        read_back = pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False)
        assert len(read_back) == len(frame), name
        assert list(read_back.columns) == TABLES[name].names


def test_csv_keeps_unparseable_values_as_text(tmp_path):
    out = write_demo_store(tmp_path, 500, seed=2)
    orders = pd.read_csv(out / "orders.csv", dtype=str)
    assert orders["order_date"].isin(["1999-05-01 10:00:00"]).sum() >= 3
    assert pd.to_numeric(orders["revenue"], errors="coerce").isna().sum() >= 3


# --- arguments ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_customers": 10},
        {"n_customers": 1_000.5},
        {"years": 0},
        {"end": "15.11.2026x"},
        {"orders_per_customer": 0.5},
        {"seed": -1},
    ],
)
def test_bad_arguments_raise_params_error(kwargs):
    args = {"n_customers": 500, **kwargs}
    with pytest.raises(ParamsError):
        generate_demo_store(args.pop("n_customers"), **args)


def test_unknown_file_format_raises_params_error(tmp_path):
    with pytest.raises(ParamsError, match="csv"):
        write_demo_store(tmp_path, 100, fmt="xlsx")
