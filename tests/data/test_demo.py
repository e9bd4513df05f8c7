"""Tests of the demo store generator: shape, realism, dirty rows, planted truth, and files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from custkit.contract import TABLES
from custkit.data.demo import SERVED_REGIONS, TRUTH_CHURN, generate_demo_store, write_demo_store
from custkit.errors import ParamsError
from custkit.params import load_params

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
    assert set(dirty_store) == {*TABLES, TRUTH_CHURN}
    for name in TABLES:
        assert list(dirty_store[name].columns) == TABLES[name].names, name
        assert len(dirty_store[name]) > 0, name


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


def test_status_shares_are_about_91_5_4_percent(clean_store):
    # 92 / 5 / 3 drawn; leavers' last orders then become completed, returned (quality) or
    # cancelled (moved away)
    shares = clean_store["orders"]["status"].value_counts(normalize=True)
    assert shares["completed"] == pytest.approx(0.915, abs=0.02)
    assert shares["cancelled"] == pytest.approx(0.047, abs=0.015)
    assert shares["returned"] == pytest.approx(0.038, abs=0.015)


def test_cancelled_orders_are_never_delivered(clean_store):
    orders = clean_store["orders"]
    assert orders.loc[orders["status"] == "cancelled", "delivered_at"].isna().all()


def test_shipping_is_free_from_3000_rubles_of_goods(clean_store):
    orders = clean_store["orders"]
    goods = orders["revenue"] + orders["discount"]
    assert (orders.loc[goods >= 3_000, "shipping_cost"] == 0).all()
    served = orders["delivery_region"].isin(SERVED_REGIONS)
    paid = orders.loc[(goods < 3_000) & served, "shipping_cost"]
    assert paid.between(199, 899).all()
    # regional price plus 0–100; a 150–300 surcharge on a few (planted delivery-cost rises)
    assert 0.01 < (paid > 599).mean() < 0.10
    # the store cannot deliver to unserved regions: those orders were cancelled, unshipped
    unserved = orders[~served]
    assert (unserved["status"] == "cancelled").all()
    assert (unserved["shipping_cost"] == 0).all()


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
    ids = set(experiments["experiment_id"])
    assert {"exp_month2", "exp_aa", "exp_srm"} <= ids
    assert all(i.startswith("winback_") for i in ids - {"exp_month2", "exp_aa", "exp_srm"})
    assert not experiments.duplicated(["experiment_id", "customer_id"]).any()
    share_a = (experiments["variant"] == "A").groupby(experiments["experiment_id"]).mean()
    assert share_a["exp_srm"] == pytest.approx(0.53, abs=0.02)
    assert share_a["exp_aa"] == pytest.approx(0.50, abs=0.03)


# --- planted churn reasons -----------------------------------------------------------------------

REASONS = (
    "forgot",
    "delivery_cost",
    "competitor_price",
    "moved_out_of_delivery_area",
    "quality",
    "delivery",
    "support",
)


@pytest.fixture(scope="module")
def big_store() -> dict[str, pd.DataFrame]:
    return generate_demo_store(50_000, seed=5, dirty=False)


@pytest.fixture(scope="module")
def last_orders(big_store) -> pd.DataFrame:
    """Per buyer, what their last two orders and the month after the last one show.

    For leavers the last order is the one at ``dropout_at`` (a win-back comeback comes later);
    ``reason`` is empty for customers who did not leave.
    """
    orders = big_store["orders"]
    truth = big_store["truth_churn"].set_index("customer_id")
    dropout = truth["dropout_at"].reindex(orders["customer_id"]).to_numpy()
    orders = orders[~(orders["order_date"].to_numpy() > dropout)]  # NaT compares False
    orders = orders.sort_values(["customer_id", "order_date"], kind="stable")
    back = orders.groupby("customer_id").cumcount(ascending=False)
    late = orders["delivered_at"].dt.normalize() > orders["promised_delivery_date"].dt.normalize()
    paid = orders[orders["shipping_cost"] > 0]
    # regional price + 0/50/100: the price itself is the most common value in each region
    usual = paid.groupby("delivery_region", observed=True)["shipping_cost"].agg(
        lambda x: x.mode().iloc[0]
    )
    regular_max = orders["delivery_region"].map(usual + 100).astype(float)
    last_two = orders.assign(
        late=late,
        coupon=orders["coupon"].notna(),
        surcharged=orders["shipping_cost"] > regular_max,
    )[back < 2].groupby("customer_id")
    last = orders[back == 0].set_index("customer_id")
    frame = pd.DataFrame(
        {
            "last_at": last["order_date"],
            "late": last_two["late"].any(),
            "coupon": last_two["coupon"].any(),
            "surcharged": last_two["surcharged"].any(),
            "returned": last["status"] == "returned",
            "last_region": last["delivery_region"].astype(str),
            "reason": truth["reason"].astype(str).reindex(last.index).fillna(""),
            "won_back": truth["won_back_at"].notna().reindex(last.index, fill_value=False),
        }
    )
    home = big_store["customers"].set_index("customer_id")["region"].reindex(frame.index)
    frame["home_region"] = home.astype(str).where(home.notna(), "")

    feedback = big_store["feedback"].join(frame["last_at"], on="customer_id", how="inner")
    after = feedback["created_at"].between(
        feedback["last_at"], feedback["last_at"] + pd.Timedelta(days=30)
    )
    texts = feedback[after & (feedback["kind"] != "survey")]
    for reason in ("delivery", "delivery_cost", "competitor_price", "quality", "support"):
        named = texts.loc[texts["reason"] == reason, "customer_id"]
        frame[f"text_{reason}"] = frame.index.isin(named)

    messages = big_store["messages"]
    regular = messages[~messages["campaign"].astype(str).str.startswith("winback_")]
    regular = regular.join(frame["last_at"], on="customer_id", how="inner")
    heard = regular.loc[
        regular["sent_at"] >= regular["last_at"] - pd.Timedelta(days=120), "customer_id"
    ]
    frame["heard_from_store"] = frame.index.isin(heard)
    return frame


def _rates(last_orders: pd.DataFrame, reason: str, evidence: pd.Series) -> tuple[float, ...]:
    """Share showing *evidence*: leavers for *reason*, other leavers, customers who stayed."""
    reasons = last_orders["reason"]
    return (
        evidence[reasons == reason].mean(),
        evidence[(reasons != reason) & (reasons != "")].mean(),
        evidence[reasons == ""].mean(),
    )


def test_truth_churn_lists_each_leaver_once_at_their_last_order(big_store):
    truth = big_store["truth_churn"]
    orders = big_store["orders"]
    assert list(truth.columns) == ["customer_id", "dropout_at", "reason", "won_back_at"]
    assert truth["customer_id"].is_unique
    assert set(truth["reason"]) == set(REASONS)
    placed = orders.merge(truth, on="customer_id")
    assert (
        placed.groupby("customer_id")["order_date"]
        .min()
        .le(truth.set_index("customer_id")["dropout_at"])
        .all()
    )
    at_dropout = placed[placed["order_date"] == placed["dropout_at"]]
    assert set(at_dropout["customer_id"]) == set(truth["customer_id"])
    # after dropping out, the only order is a win-back comeback
    later = placed[placed["order_date"] > placed["dropout_at"]]
    assert later["customer_id"].is_unique
    assert (later["order_date"] == later["won_back_at"]).all()
    assert len(later) == truth["won_back_at"].notna().sum()


def test_about_half_of_buyers_drop_out_for_the_documented_reasons(big_store):
    truth = big_store["truth_churn"]
    buyers = big_store["orders"]["customer_id"].nunique()
    assert 0.4 < len(truth) / buyers < 0.6
    shares = truth["reason"].value_counts(normalize=True)
    expected = {
        "forgot": 0.35,
        "delivery_cost": 0.12,
        "competitor_price": 0.12,
        "quality": 0.12,
        "delivery": 0.12,
        "support": 0.09,
        "moved_out_of_delivery_area": 0.08,
    }
    for reason, share in expected.items():
        assert shares[reason] == pytest.approx(share, abs=0.02), reason


def test_delivery_leavers_had_a_late_delivery_in_their_last_two_orders(last_orders):
    leavers, others, stayed = _rates(last_orders, "delivery", last_orders["late"])
    assert leavers >= 0.9
    assert others < 0.1  # a leaver's last order carries no other reason's trouble
    assert 0.1 < stayed < 0.35  # 15% of all orders arrive late


def test_delivery_cost_leavers_paid_a_surcharge_on_a_small_basket_at_the_end(last_orders):
    leavers, others, stayed = _rates(last_orders, "delivery_cost", last_orders["surcharged"])
    assert leavers >= 0.85
    assert others < 0.02
    assert stayed < 0.05


def test_competitor_price_leavers_used_coupons_or_complained_about_prices(last_orders):
    evidence = last_orders["coupon"] | last_orders["text_competitor_price"]
    leavers, _, stayed = _rates(last_orders, "competitor_price", evidence)
    assert leavers >= 0.9
    assert stayed < 0.35
    text_only = _rates(last_orders, "competitor_price", last_orders["text_competitor_price"])
    assert text_only[0] >= 0.5
    assert text_only[1] < 0.02


def test_quality_leavers_returned_their_last_order_or_complained_about_quality(last_orders):
    evidence = last_orders["returned"] | last_orders["text_quality"]
    leavers, others, stayed = _rates(last_orders, "quality", evidence)
    assert leavers >= 0.85
    assert others < 0.02
    assert stayed < 0.08


def test_support_leavers_wrote_an_angry_ticket_or_review(last_orders):
    leavers, others, stayed = _rates(last_orders, "support", last_orders["text_support"])
    assert leavers >= 0.85
    assert others < 0.02
    assert stayed < 0.02


def test_moved_leavers_live_or_last_ordered_in_a_region_the_store_does_not_serve(last_orders):
    known = last_orders["home_region"].isin({*SERVED_REGIONS, ""})
    unserved = ~known | ~last_orders["last_region"].isin(SERVED_REGIONS)
    leavers, others, stayed = _rates(last_orders, "moved_out_of_delivery_area", unserved)
    assert leavers >= 0.85
    assert others == 0
    assert stayed < 0.002  # the other record of a leaver who had two
    assert {"Vladivostok", "Khabarovsk", "Irkutsk"} & set(last_orders["home_region"])
    assert not {"Vladivostok", "Khabarovsk", "Irkutsk"} & set(SERVED_REGIONS)


def test_forgetful_leavers_heard_nothing_from_the_store_and_show_no_trouble(last_orders):
    silent = ~last_orders["heard_from_store"]
    leavers, others, _ = _rates(last_orders, "forgot", silent)
    assert leavers == 1.0
    assert others < 0.6
    trouble = last_orders[["returned", "surcharged"]].any(axis=1) | last_orders.filter(
        like="text_"
    ).any(axis=1)
    assert trouble[last_orders["reason"] == "forgot"].mean() < 0.02


def test_surveys_of_leavers_mostly_name_the_planted_reason(big_store):
    feedback = big_store["feedback"]
    surveys = feedback[feedback["kind"] == "survey"].merge(
        big_store["truth_churn"], on="customer_id", how="left", suffixes=("", "_planted")
    )
    leavers = surveys["reason_planted"].notna()
    agree = surveys["reason"].astype(str) == surveys["reason_planted"].astype(str)
    assert 0.75 < agree[leavers].mean() < 0.95  # 80% name it, a few more by chance
    # only those who really moved away say so
    said_moved = surveys["reason"] == "moved_out_of_delivery_area"
    assert (surveys.loc[said_moved, "reason_planted"] == "moved_out_of_delivery_area").mean() > 0.9


def test_a_simple_rule_recovers_every_planted_reason_with_recall_of_at_least_80_percent(
    last_orders,
):
    # the latest matching rule wins; no sign of anything (and no newsletter) means "forgot"
    lo = last_orders
    rules = {
        "competitor_price": lo["text_competitor_price"] | (lo["coupon"] & lo["heard_from_store"]),
        "delivery_cost": lo["surcharged"] | lo["text_delivery_cost"],
        "delivery": lo["late"] | lo["text_delivery"],
        "quality": lo["returned"] | lo["text_quality"],
        "support": lo["text_support"],
        "moved_out_of_delivery_area": ~lo["home_region"].isin({*SERVED_REGIONS, ""})
        | ~lo["last_region"].isin(SERVED_REGIONS),
    }
    predicted = pd.Series("forgot", index=lo.index)
    for reason, hit in rules.items():
        predicted[hit] = reason
    # as a churn report sees them: gone for 120 days or more, not won back
    lapsed = lo["last_at"] < END - pd.Timedelta(days=120)
    leavers = (lo["reason"] != "") & lapsed & ~lo["won_back"]
    recall = (predicted == lo["reason"])[leavers].groupby(lo["reason"][leavers]).mean()
    assert (recall >= 0.8).all(), recall.round(3).to_dict()


# --- win-back campaigns and the month-2 effect --------------------------------------------------


def _winback(store: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per campaign and targeted customer: variant, and whether they ordered within
    60 days of the send."""
    experiments = store["experiments"]
    targeted = experiments[experiments["experiment_id"].astype(str).str.startswith("winback_")]
    orders = store["orders"][["customer_id", "order_date"]]
    joined = targeted.merge(orders, on="customer_id", how="left")
    joined["returned"] = (joined["order_date"] > joined["assigned_at"]) & (
        joined["order_date"] <= joined["assigned_at"] + pd.Timedelta(days=60)
    )
    keys = ["experiment_id", "customer_id", "variant", "assigned_at"]
    return joined.groupby(keys, observed=True)["returned"].any().reset_index()


def test_winback_campaigns_hold_out_20_percent_and_message_only_the_rest(big_store):
    winback = _winback(big_store)
    campaigns = set(winback["experiment_id"].astype(str))
    assert len(campaigns) >= 6
    assert all(len(name) == len("winback_2026_05") for name in campaigns)
    assert (winback["variant"] == "holdout").mean() == pytest.approx(0.2, abs=0.02)
    messages = big_store["messages"]
    sent = messages[messages["campaign"].astype(str).str.startswith("winback_")]
    sent_keys = set(zip(sent["campaign"].astype(str), sent["customer_id"], strict=True))
    target_keys = list(
        zip(winback["experiment_id"].astype(str), winback["customer_id"], strict=True)
    )
    messaged = pd.Series([key in sent_keys for key in target_keys], index=winback.index)
    assert messaged[winback["variant"] == "contact"].all()
    assert not messaged[winback["variant"] == "holdout"].any()
    # e-mail where the customer allowed it, else SMS
    consent = big_store["customers"].drop_duplicates("customer_id").set_index("customer_id")
    by_email = sent["channel"] == "email"
    assert consent.loc[sent.loc[by_email, "customer_id"], "consent_email"].all()
    assert consent.loc[sent.loc[~by_email, "customer_id"], "consent_sms"].all()
    assert not consent.loc[sent.loc[~by_email, "customer_id"], "consent_email"].any()


def test_winback_contact_brings_more_leavers_back_than_the_holdout(big_store):
    winback = _winback(big_store)
    truth = big_store["truth_churn"]
    rate = winback.groupby("variant", observed=True)["returned"].mean()
    assert rate["contact"] - rate["holdout"] > 0.04
    gone = winback.merge(truth, on="customer_id")
    gone = gone[gone["dropout_at"] <= gone["assigned_at"]]
    by_reason = gone.groupby(["reason", "variant"], observed=True)["returned"].mean().unstack()
    assert by_reason.loc["forgot", "contact"] > 0.25
    assert by_reason.loc["forgot", "holdout"] < 0.1
    assert by_reason["contact"].idxmax() == "forgot"  # a reminder works best on the forgetful
    assert by_reason.loc["moved_out_of_delivery_area"].max() == 0


def _orders_after_assignment(store: dict[str, pd.DataFrame], experiment: str) -> pd.DataFrame:
    """Orders per customer in the first 30, 60 and 90 days after assignment, by variant."""
    experiments = store["experiments"]
    assigned = experiments[experiments["experiment_id"] == experiment]
    joined = assigned.merge(store["orders"][["customer_id", "order_date"]], on="customer_id")
    days = (joined["order_date"] - joined["assigned_at"]) / pd.Timedelta(days=1)
    counts = pd.DataFrame(
        {
            f"d{d}": ((days > 0) & (days <= d)).groupby(joined["customer_id"]).sum()
            for d in (30, 60, 90)
        }
    )
    return counts.join(assigned.set_index("customer_id")["variant"])


def test_month2_effect_is_flat_at_30_days_and_shows_at_60_and_90(big_store):
    counts = _orders_after_assignment(big_store, "exp_month2")
    mean = counts.groupby("variant", observed=True)[["d30", "d60", "d90"]].mean()
    lift = mean.loc["B"] / mean.loc["A"] - 1
    assert abs(lift["d30"]) < 0.07
    assert lift["d60"] > 0.10
    assert lift["d90"] > 0.12


@pytest.mark.parametrize("experiment", ["exp_aa", "exp_srm"])
def test_aa_and_srm_experiments_have_no_effect(big_store, experiment):
    counts = _orders_after_assignment(big_store, experiment)
    mean = counts.groupby("variant", observed=True)["d90"].mean()
    assert mean["B"] / mean["A"] - 1 == pytest.approx(0, abs=0.06)


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
    assert params["store"] == {
        "name": "Demo store",
        "currency": "RUB",
        "opened": "2024-11-15",
        "timezone": "Europe/Moscow",
    }
    assert set(params["sources"]) == set(TABLES)
    for source in params["sources"].values():
        assert source["path"].endswith(f".{fmt}")
        assert (out / source["path"]).is_file()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    # the planted reasons lie beside the tables, for tests; the params do not name them
    assert (out / f"truth_churn.{fmt}").is_file()
    assert params["churn"] == {"served_regions": list(SERVED_REGIONS)}
    assert load_params(out / "params.yaml").report_params("churn")["served_regions"]


def test_csv_files_read_back_with_the_same_number_of_rows(tmp_path):
    out = write_demo_store(tmp_path, 300, seed=1)
    tables = generate_demo_store(300, seed=1)
    for name, frame in tables.items():
        read_back = pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False)
        assert len(read_back) == len(frame), name
        assert list(read_back.columns) == list(frame.columns)


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
        {"purchases": "pareto"},
    ],
)
def test_bad_arguments_raise_params_error(kwargs):
    args = {"n_customers": 500, **kwargs}
    with pytest.raises(ParamsError):
        generate_demo_store(args.pop("n_customers"), **args)


def test_unknown_file_format_raises_params_error(tmp_path):
    with pytest.raises(ParamsError, match="csv"):
        write_demo_store(tmp_path, 100, fmt="xlsx")


# --- the model-consistent mode (purchases="bgnbd") ---------------------------------------------


@pytest.fixture(scope="module")
def bgnbd_store() -> dict[str, pd.DataFrame]:
    return generate_demo_store(5_000, seed=11, dirty=False, purchases="bgnbd")


def _late_share_of(customers: pd.DataFrame, channel: str) -> tuple[float, float]:
    """Share of *channel* among customers registered in the first and in the second year."""
    late = pd.to_datetime(customers["registered_at"]) >= OPENED + pd.DateOffset(years=1)
    is_channel = customers["acquisition_channel"] == channel
    return float(is_channel[~late].mean()), float(is_channel[late].mean())


def test_realistic_demo_switches_channels_half_way_and_bgnbd_mode_keeps_one_mix(
    clean_store, bgnbd_store
):
    early, late = _late_share_of(clean_store["customers"], "coupons")
    assert early < 0.1 < 0.25 < late  # the paid-acquisition launch of the realistic store
    early, late = _late_share_of(bgnbd_store["customers"], "coupons")
    assert abs(early - late) < 0.02 and early < 0.05


def test_bgnbd_mode_has_no_purchase_outside_the_model(bgnbd_store):
    # no win-back comebacks (a leaver never buys again) and no exp_month2 extra orders
    assert bgnbd_store[TRUTH_CHURN]["won_back_at"].isna().all()
    orders = bgnbd_store["orders"]
    experiments = bgnbd_store["experiments"]
    month2 = experiments.loc[experiments["experiment_id"] == "exp_month2"]
    per_variant = (
        orders.groupby("customer_id").size().reindex(month2["customer_id"]).fillna(0).to_numpy()
    )
    means = pd.Series(per_variant).groupby(month2["variant"].to_numpy(), observed=True).mean()
    assert abs(means["B"] / means["A"] - 1) < 0.1


@pytest.mark.parametrize(
    ("purchases", "low", "high"), [("realistic", 0.5, 0.9), ("bgnbd", 0, 0.03)]
)
def test_only_the_realistic_mode_drops_customers_right_after_their_first_order(
    clean_store, bgnbd_store, purchases, low, high
):
    # BG/NBD: a chance to leave after each repeat purchase only; the few one-order leavers of
    # that mode are second records of duplicate people (1.5%) holding only the last order
    store = bgnbd_store if purchases == "bgnbd" else clean_store
    counts = store["orders"].groupby("customer_id").size()
    one_order = counts.reindex(store[TRUTH_CHURN]["customer_id"]).fillna(0) <= 1
    assert low <= one_order.mean() <= high


def test_bgnbd_mode_is_chosen_from_the_cli(tmp_path):
    from custkit.cli import main

    assert main(["demo", "--out", str(tmp_path), "--customers", "300", "--purchases", "bgnbd"]) == 0
    customers = pd.read_csv(tmp_path / "customers.csv")
    expected = generate_demo_store(300, seed=7, purchases="bgnbd")["customers"]
    assert len(customers) == len(expected)
    assert customers["acquisition_channel"].tolist() == expected["acquisition_channel"].tolist()
