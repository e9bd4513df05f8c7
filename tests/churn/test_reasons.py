"""Primary churn reasons from hand-made evidence, one rule at a time."""

import numpy as np
import pandas as pd
import pytest

from custkit.churn.reasons import assign_reasons
from custkit.errors import ParamsError

AS_OF = pd.Timestamp("2024-12-31")
LAST = pd.Timestamp("2024-06-01")


def status(ids):
    return pd.DataFrame(
        {"last_order_date": [LAST] * len(ids), "status": ["churned"] * len(ids)},
        index=pd.Index(ids, name="customer_id"),
    )


def signals(rows):
    """One row per customer; unspecified signals are neutral."""
    neutral = {
        "late_recent": 0,
        "max_delay_days_recent": 0,
        "shipping_share_recent": 0.0,
        "shipping_share_before": 0.0,
        "coupon_share": 0.0,
        "coupon_share_recent": 0.0,
        "coupon_share_before": 0.0,
        "returned_recent": 0,
        "last_region": "Moscow",
    }
    frame = pd.DataFrame([{**neutral, **row} for row in rows])
    frame["last_region"] = frame["last_region"].astype("category")
    return frame


def feedback_rows(rows):
    """(customer_id, created_at, kind, rating, reason, confidence, text) rows as the raw table and
    the classifier's output."""
    raw = pd.DataFrame(
        rows,
        columns=["customer_id", "created_at", "kind", "rating", "reason", "confidence", "text"],
    )
    texts = raw[["customer_id", "created_at", "kind", "reason", "confidence"]].assign(
        evidence=raw["text"], method="model"
    )
    return texts, raw[["customer_id", "created_at", "kind", "rating", "text"]]


def test_each_order_signal_names_its_reason_with_the_evidence():
    ids = [1, 2, 3, 4, 5]
    s = signals(
        [
            {"customer_id": 1, "late_recent": 2, "max_delay_days_recent": 6},
            {"customer_id": 2, "shipping_share_recent": 0.15, "shipping_share_before": 0.02},
            {"customer_id": 3, "coupon_share_recent": 1.0, "coupon_share_before": 0.1},
            {"customer_id": 4, "returned_recent": 1},
            {"customer_id": 5, "last_region": "Vladivostok"},
        ]
    )
    out = assign_reasons(status(ids), s, AS_OF, served_regions=["Moscow"]).reasons
    assert out["reason"].tolist() == [
        "delivery",
        "delivery_cost",
        "competitor_price",
        "quality",
        "moved_out_of_delivery_area",
    ]
    assert "2 of the last orders arrived late (up to 6 days)" in out.loc[1, "evidence"]
    assert "rose to 15%" in out.loc[2, "evidence"] and "(was 2%)" in out.loc[2, "evidence"]
    assert "Vladivostok" in out.loc[5, "evidence"]
    assert out.loc[1, "strength"] == pytest.approx(0.85)


def test_a_survey_answer_outweighs_an_order_signal_and_is_quoted():
    s = signals([{"customer_id": 1, "returned_recent": 1}])
    texts, raw = feedback_rows(
        [(1, LAST + pd.Timedelta(days=40), "survey", np.nan, "competitor_price", 0.9, "cheaper")]
    )
    out = assign_reasons(status([1]), s, AS_OF, texts, raw).reasons
    assert out.loc[1, "reason"] == "competitor_price"
    assert out.loc[1, "evidence"].startswith('survey 2024-07-11: "cheaper"')
    assert out.loc[1, "strength"] == pytest.approx(0.9 * 0.9)  # survey weight × confidence


def test_feedback_outside_the_window_or_after_as_of_is_ignored():
    s = signals([{"customer_id": 1}])
    texts, raw = feedback_rows(
        [
            (1, LAST - pd.Timedelta(days=400), "ticket", 1.0, "support", 1.0, "old"),
            (1, AS_OF + pd.Timedelta(days=3), "survey", np.nan, "quality", 1.0, "future"),
        ]
    )
    out = assign_reasons(status([1]), s, AS_OF, texts, raw).reasons
    assert out.loc[1, "reason"] == "forgot"


def test_low_ratings_without_a_named_reason_point_to_quality_or_support():
    s = signals([{"customer_id": 1}, {"customer_id": 2}])
    texts, raw = feedback_rows(
        [
            (1, LAST, "review", 1.0, "unknown", 0.0, "meh"),
            (2, LAST, "ticket", 2.0, "unknown", 0.0, "meh"),
        ]
    )
    out = assign_reasons(status([1, 2]), s, AS_OF, texts, raw).reasons
    assert out["reason"].tolist() == ["quality", "support"]
    assert out.loc[1, "evidence"] == "rated 1/5 on 2024-06-01"


def test_silence_is_forgot_without_messages_and_unknown_with_them():
    s = signals([{"customer_id": 1}, {"customer_id": 2}])
    messages = pd.DataFrame(
        {
            "customer_id": [2, 2, 1],
            "sent_at": [LAST - pd.Timedelta(days=10), LAST, LAST - pd.Timedelta(days=300)],
        }
    )
    out = assign_reasons(status([1, 2]), s, AS_OF, messages=messages).reasons
    assert out["reason"].tolist() == ["forgot", "unknown"]
    assert "received 2 messages" in out.loc[2, "evidence"]
    assert (out["strength"] == 0).all()


def test_a_weak_sign_names_the_reason_only_for_customers_who_kept_hearing_from_the_store():
    # one order, with a coupon: nothing earlier to compare the coupon habit with
    weak = {"coupon_share_recent": 1.0, "coupon_share_before": np.nan}
    s = signals([{"customer_id": 1, **weak}, {"customer_id": 2, **weak}, {"customer_id": 3}])
    messages = pd.DataFrame({"customer_id": [2, 3], "sent_at": [LAST, LAST]})
    out = assign_reasons(status([1, 2, 3]), s, AS_OF, messages=messages).reasons
    # 1 heard nothing from the store: forgot; 2 did, and the coupon is the best guess; 3 did and
    # shows no sign at all
    assert out["reason"].tolist() == ["forgot", "competitor_price", "unknown"]
    assert out.loc[2, "evidence"] == "weak sign: used a coupon on 100% of their orders"
    assert out.loc[2, "strength"] == pytest.approx(0.2)


def test_signs_for_one_reason_add_up_against_a_single_survey_answer():
    s = signals([{"customer_id": 1, "returned_recent": 1}])
    texts, raw = feedback_rows(
        [
            (1, LAST + pd.Timedelta(days=2), "ticket", np.nan, "quality", 1.0, "broken"),
            (1, LAST + pd.Timedelta(days=60), "survey", np.nan, "forgot", 1.0, "forgot you"),
        ]
    )
    out = assign_reasons(status([1]), s, AS_OF, texts, raw).reasons
    assert out.loc[1, "reason"] == "quality"  # 1 - 0.15 * 0.45 = 0.93 beats 0.9
    assert out.loc[1, "strength"] == pytest.approx(1 - 0.15 * 0.45)
    assert out.loc[1, "evidence_items"] == 2


def test_missing_sources_are_reported_and_every_customer_gets_a_reason():
    s = pd.DataFrame({"customer_id": [1, 2], "placed_orders": [1, 3]})
    result = assign_reasons(status([1, 2, 3]), s, AS_OF)
    assert len(result.reasons) == 3 and result.reasons["reason"].notna().all()
    assert any("delivery dates" in m for m in result.sources_missing)
    assert any("feedback" in m for m in result.sources_missing)
    assert any("served regions" in m for m in result.sources_missing)


def test_parameters_are_validated():
    with pytest.raises(ParamsError, match=r"'lookback_days' parameter must be an int"):
        assign_reasons(status([1]), signals([{"customer_id": 1}]), AS_OF, lookback_days=0)
    with pytest.raises(ParamsError, match=r"'min_strength' parameter must be a float"):
        assign_reasons(status([1]), signals([{"customer_id": 1}]), AS_OF, min_strength=2)


def test_evidence_is_written_in_the_report_language_with_russian_plurals():
    from custkit.i18n import use_language

    s = signals(
        [
            {"customer_id": 1, "late_recent": 2, "max_delay_days_recent": 6},
            {"customer_id": 2, "late_recent": 1, "max_delay_days_recent": 1},
            {"customer_id": 3, "late_recent": 1, "max_delay_days_recent": 3},
            {"customer_id": 4},
        ]
    )
    texts, raw = feedback_rows(
        [(4, LAST + pd.Timedelta(days=40), "survey", np.nan, "competitor_price", 0.9, "дорого")]
    )
    with use_language("ru"):
        result = assign_reasons(status([1, 2, 3, 4]), s, AS_OF, texts, raw)
    out = result.reasons
    assert out.loc[1, "evidence"] == "2 из последних заказов пришли с опозданием (до 6 дней)"
    assert out.loc[2, "evidence"] == "недавний заказ опоздал на 1 день"
    assert out.loc[3, "evidence"] == "недавний заказ опоздал на 3 дня"
    assert out.loc[4, "evidence"] == "опрос 2024-07-11: «дорого»"
    assert any("список регионов доставки" in m for m in result.sources_missing)
