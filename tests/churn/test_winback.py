"""Tests of the win-back plan: frequency cap, channel choice, incentive rule, actions, campaign
evaluation and the contact list, on small hand-built frames whose answers are worked out here."""

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from custkit.churn.campaigns import evaluate_campaigns
from custkit.churn.text import REASON_CODES
from custkit.churn.winback import (
    ACTIONS,
    CHURN_REASONS_COLUMNS,
    PLAN_COLUMNS,
    SKIP_REASONS,
    WinbackPlan,
    WinbackPolicy,
    WinbackWarning,
    choose_channels,
    contact_list,
    frequency_cap_ok,
    incentives,
    winback_plan,
)
from custkit.errors import DataError, ParamsError

SEND = pd.Timestamp("2026-05-10")


def customers_frame(rows):
    """rows: (customer_id, email, phone, consent_email, consent_sms[, region])."""
    frame = pd.DataFrame(
        [r if len(r) == 6 else (*r, "Moscow") for r in rows],
        columns=["customer_id", "email", "phone", "consent_email", "consent_sms", "region"],
    )
    frame["name"] = "Name " + frame["customer_id"].astype(str)
    frame["consent_email"] = frame["consent_email"].astype("boolean")
    frame["consent_sms"] = frame["consent_sms"].astype("boolean")
    return frame


def message_rows(spec, sent_at="2026-01-15", campaign="newsletter"):
    """spec: (customer_id, channel, messages, conversions) → one row per message."""
    rows = []
    for customer, channel, n, conversions in spec:
        for i in range(n):
            rows.append(
                (customer, pd.Timestamp(sent_at), channel, campaign, True, True, i < conversions)
            )
    return pd.DataFrame(
        rows,
        columns=["customer_id", "sent_at", "channel", "campaign", "opened", "clicked", "converted"],
    )


def targets_frame(rows):
    """rows: (customer_id, status, reason, churn_probability, value)."""
    frame = pd.DataFrame(
        rows, columns=["customer_id", "status", "reason", "churn_probability", "value"]
    )
    frame["evidence"] = "said so in a survey"
    return frame


def shrunk(responses, messages, prior, strength):
    return (responses + strength * prior) / (messages + strength)


# --- frequency cap ------------------------------------------------------------------------------


def test_frequency_cap_counts_the_cap_days_calendar_days_ending_with_the_send_day():
    messages = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 2, 4],
            "sent_at": pd.to_datetime(
                [
                    "2026-05-03 23:59",  # 8th day back: outside a 7-day window
                    "2026-05-04 00:00",  # 7th day back: inside
                    "2026-05-07 12:00",
                    "2026-05-10 23:59",  # the send day itself counts, whatever the time
                    "2026-05-04 08:00",
                    "2026-05-10 08:00",
                    "2026-05-11 08:00",  # after the send day: not counted
                ]
            ),
        }
    )
    cap = frequency_cap_ok(messages, [1, 2, 3, 4], SEND, WinbackPolicy(max_messages=3, cap_days=7))
    assert cap["customer_id"].tolist() == [1, 2, 3, 4]
    assert cap["messages_in_window"].tolist() == [3, 2, 0, 0]
    # three already sent: a fourth would break "at most 3 in 7 days"; two leave room for one
    assert cap["cap_ok"].tolist() == [False, True, True, True]


def test_frequency_cap_of_one_day_counts_only_the_send_day():
    messages = pd.DataFrame(
        {"customer_id": [1, 1], "sent_at": pd.to_datetime(["2026-05-09 23:59", "2026-05-10 00:00"])}
    )
    cap = frequency_cap_ok(messages, [1], SEND, WinbackPolicy(max_messages=1, cap_days=1))
    assert cap["messages_in_window"].tolist() == [1]
    assert cap["cap_ok"].tolist() == [False]


def test_frequency_cap_passes_customers_without_history_and_without_a_messages_table():
    cap = frequency_cap_ok(None, ["a", "b"], SEND)
    assert cap["messages_in_window"].tolist() == [0, 0]
    assert cap["cap_ok"].all()
    empty = pd.DataFrame({"customer_id": pd.Series([], dtype=int), "sent_at": pd.to_datetime([])})
    assert frequency_cap_ok(empty, [7], SEND)["cap_ok"].tolist() == [True]


def test_frequency_cap_holds_customers_back_in_the_plan_and_says_so():
    customers = customers_frame(
        [(1, "a@x.ru", None, True, False), (2, "b@x.ru", None, True, False)]
    )
    messages = message_rows([(1, "email", 3, 0)], sent_at="2026-05-08")
    targets = targets_frame(
        [(1, "churned", "forgot", 0.9, 5000), (2, "churned", "forgot", 0.9, 5000)]
    )
    plan = winback_plan(targets, customers, messages, WinbackPolicy(), SEND).plan
    assert plan["contact"].tolist() == [False, True]
    assert plan["skip_reason"].tolist()[0] == "frequency cap"
    assert plan["messages_in_window"].tolist() == [3, 0]
    assert plan["incentive"].tolist()[0] == 0  # nothing is offered to someone not contacted


# --- channel choice -----------------------------------------------------------------------------


def test_channel_choice_uses_only_consented_channels_with_an_address():
    customers = customers_frame(
        [
            ("a", "a@x.ru", "+79120000001", True, True),
            ("b", None, "+79120000002", True, True),  # e-mail consent but no e-mail
            ("c", "c@x.ru", "+79120000003", False, False),  # no consent at all
            ("d", "   ", None, True, True),  # blank e-mail, no phone
            ("f", "f@x.ru", "+79120000006", True, pd.NA),  # SMS consent unknown: not given
        ]
    )
    # SMS converts far better everywhere, and messenger best of all
    messages = message_rows(
        [("z", "email", 100, 1), ("z", "sms", 100, 30), ("z", "messenger", 100, 90)]
    )
    policy = WinbackPolicy(channels=("email", "sms", "messenger"))
    chosen = choose_channels(customers, messages, ["a", "b", "c", "d", "e", "f"], policy=policy)
    # messenger has no consent column in the contract: never used unless assumed
    assert chosen["channel"].astype(object).where(chosen["channel"].notna(), None).tolist() == [
        "sms",
        "sms",
        None,
        None,
        None,  # "e" is not in the customers table
        "email",
    ]
    assert chosen["consented_channels"].tolist() == [2, 1, 0, 0, 0, 1]
    assert chosen["channel_why"].tolist()[1] == "only consented channel"
    assert chosen["channel_why"].tolist()[2] == "no consented channel with a contact"

    assumed = WinbackPolicy(channels=("email", "sms", "messenger"), assume_consent=("messenger",))
    chosen = choose_channels(customers, messages, ["a", "c", "d"], policy=assumed)
    # messenger needs a phone: "d" has none
    assert chosen["channel"].astype(object).tolist()[:2] == ["messenger", "messenger"]
    assert pd.isna(chosen["channel"].iloc[2])


def test_one_lucky_conversion_does_not_beat_a_segment_with_a_strong_rate():
    # Segment "loyal": a long record, SMS converts at 20%, e-mail at 2%. Segment "other": e-mail
    # 10%, SMS 0%. Customer "c1" (loyal) got one e-mail and converted: 100% on its own record;
    # "c2" (loyal) converted on 30 of 60 e-mails, a record long enough to count.
    customers = customers_frame(
        [(c, f"{c}@x.ru", "+79120000000", True, True) for c in ("s1", "o1", "c1", "c2")]
    )
    messages = message_rows(
        [
            ("s1", "email", 1000, 20),
            ("s1", "sms", 1000, 200),
            ("o1", "email", 1000, 100),
            ("o1", "sms", 1000, 0),
            ("c1", "email", 1, 1),
            ("c2", "email", 60, 30),
        ]
    )
    segment = pd.Series(["loyal", "other", "loyal", "loyal"], index=["s1", "o1", "c1", "c2"])
    chosen = choose_channels(customers, messages, ["c1", "c2"], segment, WinbackPolicy())

    # by hand, with K = 20 (customer) and S = 200 (segment) pseudo-messages
    store_email, store_sms = (20 + 100 + 1 + 30) / 2061, 200 / 2000
    loyal_email = shrunk(20 + 1 + 30, 1061, store_email, 200)
    loyal_sms = shrunk(200, 1000, store_sms, 200)
    c1_email, c1_sms = shrunk(1, 1, loyal_email, 20), shrunk(0, 0, loyal_sms, 20)
    c2_email = shrunk(30, 60, loyal_email, 20)
    assert c1_email == pytest.approx(0.097, abs=1e-3)  # far from its own 100%
    assert c1_sms == pytest.approx(0.183, abs=1e-3)  # the segment's SMS rate wins
    assert c2_email == pytest.approx(0.388, abs=1e-3)  # a long own record wins
    assert chosen["channel"].astype(str).tolist() == ["sms", "email"]
    assert chosen["channel_rate"].tolist() == pytest.approx([c1_sms, c2_email])
    assert chosen["segment_rate"].tolist() == pytest.approx([loyal_sms, loyal_email])
    assert chosen["store_rate"].tolist() == pytest.approx([store_sms, store_email])
    assert chosen["own_messages"].tolist() == [0, 60]
    assert chosen["own_responses"].tolist() == [0, 30]
    assert chosen["channel_why"].tolist()[0].startswith("highest estimated conversion rate")

    # without segments the customer is shrunk toward the store's rates directly: the store's SMS
    # rate (10%) is no longer strong enough, and the lucky e-mail tips it, at a modest 11.7%
    alone = choose_channels(customers, messages, ["c1"], policy=WinbackPolicy())
    assert alone["channel"].astype(str).tolist() == ["email"]
    assert alone["channel_rate"].tolist() == pytest.approx([shrunk(1, 1, store_email, 20)])


def test_channel_choice_without_history_takes_the_policy_order_and_ignores_later_messages():
    customers = customers_frame([("a", "a@x.ru", "+79120000001", True, True)])
    chosen = choose_channels(
        customers, None, ["a"], policy=WinbackPolicy(channels=("sms", "email"))
    )
    assert chosen["channel"].astype(str).tolist() == ["sms"]
    assert np.isnan(chosen["channel_rate"].iloc[0])
    assert chosen["channel_why"].iloc[0].startswith("no message history")
    # e-mail history exists only after the send day: it has no outcome yet and is ignored
    later = message_rows([("a", "email", 10, 10)], sent_at="2026-06-01")
    policy = WinbackPolicy(channels=("sms", "email"))
    chosen = choose_channels(customers, later, ["a"], policy=policy, before=SEND)
    assert chosen["channel"].astype(str).tolist() == ["sms"]
    chosen = choose_channels(customers, later, ["a"], policy=policy)
    assert chosen["channel"].astype(str).tolist() == ["email"]  # measured beats unmeasured


def test_channel_choice_refuses_segments_not_indexed_by_customer_id():
    customers = customers_frame([(1, "a@x.ru", None, True, False)])
    with pytest.raises(DataError, match="indexed by customer_id"):
        choose_channels(customers, None, [1], pd.Series(["loyal"]).set_axis([0]))


# --- incentive ----------------------------------------------------------------------------------


def test_incentive_is_zero_for_a_valuable_customer_at_low_risk():
    policy = WinbackPolicy(incentive_rate=0.1, max_incentive=500, incentive_step=50)
    assert incentives([100_000.0], [0.2], policy).tolist() == [0.0]
    assert incentives([100_000.0], [0.49], policy).tolist() == [0.0]
    assert incentives([100_000.0], [0.5], policy).tolist() == [500.0]  # capped


def test_incentive_is_rate_times_value_at_risk_rounded_down_to_the_step_and_capped():
    policy = WinbackPolicy(incentive_rate=0.1, max_incentive=500, incentive_step=50)
    # 0.1 × 3000 × 0.8 = 240 → 200; 0.1 × 4500 × 1 = 450 (not 449.99… → 400); 0.1 × 9000 × 0.9
    # = 810 → capped at 500
    assert incentives([3000, 4500, 9000, 300], [0.8, 1.0, 0.9, 0.9], policy).tolist() == [
        200.0,
        450.0,
        500.0,
        0.0,  # 27 rounds down to no coupon
    ]
    cents = WinbackPolicy(incentive_rate=0.1, max_incentive=500, incentive_step=0)
    assert incentives([3017.3], [0.8], cents).tolist() == [241.38]
    assert incentives([-100.0], [0.9], policy).tolist() == [0.0]


def test_incentive_is_monotone_in_value_times_probability():
    rng = np.random.default_rng(3)
    value = rng.gamma(2.0, 2000.0, 2000)
    prob = rng.uniform(0.5, 1.0, 2000)  # above the threshold: a function of value × probability
    policy = WinbackPolicy()
    order = np.argsort(value * prob)
    paid = incentives(value, prob, policy)[order]
    assert (np.diff(paid) >= 0).all()
    assert paid.max() <= policy.max_incentive
    # and across the threshold: never decreasing in probability, nor in value
    grid_p = np.linspace(0, 1, 101)
    assert (np.diff(incentives(np.full(101, 6000.0), grid_p, policy)) >= 0).all()
    grid_v = np.linspace(0, 20_000, 101)
    assert (np.diff(incentives(grid_v, np.full(101, 0.7), policy)) >= 0).all()


def test_plan_text_says_no_coupon_when_the_incentive_is_zero():
    customers = customers_frame(
        [(1, "a@x.ru", None, True, False), (2, "b@x.ru", None, True, False)]
    )
    targets = targets_frame(
        [(1, "at_risk", "delivery_cost", 0.2, 50_000), (2, "churned", "delivery_cost", 0.9, 5000)]
    )
    plan = winback_plan(targets, customers, None, WinbackPolicy(), SEND).plan
    assert plan["incentive"].tolist() == [0.0, 450.0]
    action = ACTIONS["delivery_cost"]
    assert plan["action_text"].tolist() == [action.text_without_incentive, action.text]


# --- actions ------------------------------------------------------------------------------------


def test_we_now_deliver_to_your_region_is_sent_only_where_true():
    customers = customers_frame(
        [
            (1, "a@x.ru", None, True, False, "Kazan"),
            (2, "b@x.ru", None, True, False, "Omsk"),
            (3, "c@x.ru", None, True, False, None),
            (4, "d@x.ru", None, True, False, "Omsk"),
        ]
    )
    reason = "moved_out_of_delivery_area"
    targets = targets_frame([(c, "churned", reason, 0.9, 5000) for c in (1, 2, 3, 4)])
    targets["region"] = [" kazan ", "Omsk", None, "Kazan"]  # 4 moved to Kazan: the new region wins
    plan = winback_plan(targets, customers, None, WinbackPolicy(served_regions=["Kazan"]), SEND)
    frame = plan.plan
    assert frame["action"].tolist() == [
        "now_deliver_to_region",
        "no_action",
        "no_action",
        "now_deliver_to_region",
    ]
    assert frame["contact"].tolist() == [True, False, False, True]
    assert frame["skip_reason"].tolist()[1:3] == ["cannot deliver to region"] * 2
    assert frame["action_text"].tolist()[1] == "No action: we cannot deliver there."
    # the customers table's region is used when targets have none; unknown served regions: never
    no_region = targets.drop(columns="region")
    frame = winback_plan(no_region, customers, None, WinbackPolicy(served_regions=["Kazan"]), SEND)
    assert frame.plan["action"].tolist()[:2] == ["now_deliver_to_region", "no_action"]
    frame = winback_plan(targets, customers, None, WinbackPolicy(), SEND).plan
    assert (frame["action"] == "no_action").all()


def test_every_reason_has_an_action_and_unknown_gets_a_generic_reminder():
    assert set(ACTIONS) == set(REASON_CODES)
    assert ACTIONS["unknown"].code == "generic_reminder"
    assert ACTIONS["forgot"].code == "reminder"


# --- the plan -----------------------------------------------------------------------------------


def plan_inputs():
    customers = customers_frame(
        [
            (1, "a@x.ru", "+79120000001", True, True),
            (2, "b@x.ru", "+79120000002", False, True),
            (3, None, None, True, True),  # no address at all
            (4, "d@x.ru", None, True, False),
            (5, "e@x.ru", None, True, False, "Omsk"),
            (6, "f@x.ru", None, True, False),
        ]
    )
    targets = targets_frame(
        [
            (1, "churned", "competitor_price", 0.9, 8000),
            (2, "at_risk", "quality", 0.6, 3000),
            (3, "churned", "forgot", 0.95, 4000),
            (4, "at_risk", None, 0.3, 50),  # below min_value
            (5, "churned", "moved_out_of_delivery_area", 0.99, 9000),
            (6, "churned", "support", 0.8, 2000),
        ]
    )
    messages = message_rows([(6, "email", 3, 0)], sent_at="2026-05-09")
    return customers, targets, messages


def test_plan_keeps_every_target_with_contact_or_a_skip_reason():
    customers, targets, messages = plan_inputs()
    result = winback_plan(targets, customers, messages, WinbackPolicy(min_value=100), SEND)
    plan = result.plan
    assert isinstance(result, WinbackPlan)
    assert list(plan.columns[: len(PLAN_COLUMNS)]) == list(PLAN_COLUMNS)
    assert plan["customer_id"].tolist() == [1, 2, 3, 4, 5, 6]
    assert (plan["contact"] ^ plan["skip_reason"].notna()).all()
    assert plan["skip_reason"].astype(object).where(plan["skip_reason"].notna(), None).tolist() == [
        None,
        None,
        "no consented channel",
        "not worth contacting",
        "cannot deliver to region",
        "frequency cap",
    ]
    assert plan["reason"].tolist()[3] == "unknown"  # a missing reason is the unknown reason
    assert plan["channel"].astype(str).tolist()[:2] == ["email", "sms"]
    assert result.skipped.set_index("skip_reason")["customers"].to_dict() == {
        reason: 1 for reason in SKIP_REASONS
    }
    assert result.targets == 6 and result.contacted == 2
    assert list(result.churn_reasons.columns) == list(CHURN_REASONS_COLUMNS)
    assert len(result.churn_reasons) == 6


def test_plan_expects_churn_probability_times_the_assumed_return_rate_and_says_so():
    customers, targets, messages = plan_inputs()
    policy = WinbackPolicy(min_value=100, message_cost={"sms": 4.0, "email": 0.5})
    result = winback_plan(targets, customers, messages, policy, SEND)
    contacted = result.plan.loc[result.plan["contact"]]
    assert contacted["expected_return_probability"].tolist() == pytest.approx(
        [0.9 * 0.6, 0.6 * 0.6]
    )
    assert result.expected_customers_won == pytest.approx(0.9 * 0.6 + 0.6 * 0.6)
    assert result.expected_revenue_won == pytest.approx(8000 * 0.54 + 3000 * 0.36)
    # 0.1 × 8000 × 0.9 = 720 → 500 (cap); 0.1 × 3000 × 0.6 = 180 → 150
    assert result.total_incentive == 650.0
    assert result.message_cost == 4.5
    assert result.return_rate_source == "assumed"
    assert "60%" in result.assumption and "source articles" in result.assumption
    assert result.assumption in result.finding().conclusion
    by = result.by_action_channel.set_index(["action", "channel"])
    assert by.loc[("price_match_offer", "email"), "incentive"] == 500.0
    assert by["customers"].sum() == 2
    assert result.kpis()["winback_contacted"] == 2


def test_plan_reads_segments_from_targets_and_refuses_bad_targets():
    customers, targets, messages = plan_inputs()
    targets["segment"] = ["vip", "vip", "new", "new", "new", "new"]
    plan = winback_plan(targets, customers, messages, WinbackPolicy(), SEND).plan
    assert plan["segment"].tolist() == ["vip", "vip", "new", "new", "new", "new"]

    with pytest.raises(DataError, match="Did you mean 'churned'"):
        winback_plan(targets.assign(status="churn"), customers, None, WinbackPolicy(), SEND)
    with pytest.raises(DataError, match="Did you mean 'quality'"):
        winback_plan(targets.assign(reason="qualty"), customers, None, WinbackPolicy(), SEND)
    with pytest.raises(DataError, match=r"churn_probability must be a number in \[0, 1\]"):
        bad = targets.assign(churn_probability=[0.5, 1.2, 0.5, 0.5, 0.5, 0.5])
        winback_plan(bad, customers, None, WinbackPolicy(), SEND)
    with pytest.raises(DataError, match="value must be a finite number"):
        winback_plan(targets.assign(value=np.nan), customers, None, WinbackPolicy(), SEND)
    with pytest.raises(DataError, match="customer_id must be unique"):
        winback_plan(targets.assign(customer_id=1), customers, None, WinbackPolicy(), SEND)
    with pytest.raises(DataError, match="column 'value' is missing"):
        winback_plan(targets.drop(columns="value"), customers, None, WinbackPolicy(), SEND)
    with pytest.raises(DataError, match="customer_id is text in targets but numbers"):
        as_text = targets.assign(customer_id=targets["customer_id"].astype(str))
        winback_plan(as_text, customers, None, WinbackPolicy(), SEND)
    with pytest.raises(ParamsError, match="policy must be a WinbackPolicy"):
        winback_plan(targets, customers, None, {"max_messages": 3}, SEND)


# --- campaign evaluation ------------------------------------------------------------------------


def campaign_data():
    day = pd.Timestamp("2026-01-10")
    sends = [(c, day, "email") for c in range(1, 7)] + [(c, day, "sms") for c in range(7, 11)]
    sends.append((1, pd.Timestamp("2026-01-12"), "sms"))  # a second message: the first one counts
    rows = [(c, t, ch, "winback_2026_01") for c, t, ch in sends]
    rows += [
        (c, pd.Timestamp("2026-03-05 10:00"), "email", "WinBack_2026_03") for c in range(21, 25)
    ]
    rows += [(c, day, "email", "newsletter-2026-01") for c in range(1, 6)]  # not a win-back
    messages = pd.DataFrame(rows, columns=["customer_id", "sent_at", "channel", "campaign"])
    messages["campaign"] = messages["campaign"].astype("category")
    experiments = pd.DataFrame(
        {
            "experiment_id": ["winback_2026_01"] * 15 + ["exp_aa"],
            "customer_id": [*range(1, 16), 1],
            "variant": ["contact"] * 10 + ["holdout"] * 5 + ["A"],
            "assigned_at": pd.Timestamp("2026-01-10 09:00"),
        }
    )
    purchase_days = {
        1: "2026-01-10",  # the assignment day is day 0: not counted, as in the split-test report
        2: "2026-03-10",  # day 59 after the assignment: inside a 60-day window
        3: "2026-03-11",  # day 60: inside (days 1…60, as the split-test report counts)
        5: "2026-03-12",  # day 61: outside
        4: "2026-01-09",  # before the send: not a return
        7: "2026-02-01",
        8: "2026-01-20",
        11: "2026-01-15",
        12: "2026-03-11",
        21: "2026-03-06",
    }
    purchases = pd.DataFrame(
        {
            "order_id": range(len(purchase_days)),
            "customer_id": list(purchase_days),
            "order_date": pd.to_datetime(list(purchase_days.values())) + pd.Timedelta(hours=12),
            "revenue": 1000.0,
        }
    )
    reasons = pd.DataFrame(
        {
            "customer_id": [*range(1, 16)],
            "reason": ["forgot"] * 5
            + ["delivery_cost"] * 5
            + ["forgot"] * 3
            + ["delivery_cost"] * 2,
        }
    )
    return messages, experiments, purchases, reasons


SIXTY_DAYS = {"windows_days": [60], "horizon_days": 60}


def reductions_of(purchases, as_of="2026-06-30"):
    import custkit as ck

    return ck.reduce_orders(purchases, as_of, customer_days=True)


def wald_difference(x_a, n_a, x_b, n_b, alpha=0.05):
    """statsmodels' Wald interval of p_b - p_a (the split-test report's, with t ≈ normal)."""
    return confint_proportions_2indep(
        x_b, n_b, x_a, n_a, method="wald", compare="diff", alpha=alpha
    )


def test_campaign_evaluation_matches_hand_counts_and_the_split_test_interval():
    messages, experiments, purchases, reasons = campaign_data()
    result = evaluate_campaigns(
        messages, experiments, reductions_of(purchases), reasons=reasons, settings=SIXTY_DAYS
    )

    overall = result.overall.iloc[0]
    # contacted: 1..10 (returned 2, 3, 7, 8) and 21..24 (returned 21); holdout 11..15 (returned
    # 11, 12)
    assert (overall["contacted"], overall["returned"]) == (14, 5)
    assert (overall["tested_contacted"], overall["tested_returned"]) == (10, 4)
    assert (overall["holdout"], overall["holdout_returned"]) == (5, 2)
    assert overall["return_rate"] == pytest.approx(5 / 14)
    assert overall["uplift"] == pytest.approx(0.4 - 0.4)
    # one standard error, unpooled, as the split-test report: Wald with the t quantile
    low, high = wald_difference(2, 5, 4, 10)
    assert overall["uplift_low"] < low and overall["uplift_high"] > high  # t is wider than z
    assert (overall["uplift_low"], overall["uplift_high"]) == pytest.approx((low, high), rel=0.3)

    by_campaign = result.by_campaign.set_index("campaign")
    assert by_campaign.loc["winback_2026_01", "return_rate"] == pytest.approx(0.4)
    assert by_campaign.loc["WinBack_2026_03", "return_rate"] == pytest.approx(0.25)
    assert np.isnan(by_campaign.loc["WinBack_2026_03", "uplift"])  # no holdout group
    assert "newsletter-2026-01" not in by_campaign.index

    by_channel = result.by_channel.set_index("channel")
    # e-mail: 1..6 and 21..24, returned 2, 3, 21; customer 1's first message was an e-mail
    assert by_channel.loc["email", ["contacted", "returned"]].tolist() == [10, 3]
    assert by_channel.loc["email", ["tested_contacted", "tested_returned"]].tolist() == [6, 2]
    assert by_channel.loc["sms", ["contacted", "returned", "holdout"]].tolist() == [4, 2, 5]
    from custkit.splittest import compare_proportions

    sms = compare_proportions(2, 5, 2, 4, relative=False)
    assert by_channel.loc["sms", ["uplift_low", "uplift_high"]].tolist() == pytest.approx(
        [sms.ci_low, sms.ci_high]
    )

    by_reason = result.by_reason.set_index("reason")
    # forgot: 1..5 returned 2, 3 vs holdout 11..13 returned 11, 12; delivery_cost: 6..10
    # returned 7, 8 vs 14, 15 none; 21..24 have no reason given
    assert by_reason.loc["forgot", "uplift"] == pytest.approx(2 / 5 - 2 / 3)
    assert by_reason.loc["delivery_cost", "uplift"] == pytest.approx(2 / 5 - 0)
    assert by_reason.loc["unknown", ["contacted", "returned", "tested_contacted"]].tolist() == [
        4,
        1,
        0,
    ]
    cell = result.by_reason_channel.set_index(["reason", "channel"])
    assert cell.loc[("delivery_cost", "sms"), ["contacted", "returned"]].tolist() == [4, 2]
    assert cell.loc[("delivery_cost", "email"), ["contacted", "returned"]].tolist() == [1, 0]

    assert result.measured_return_rate(min_customers=5)[:2] == (
        pytest.approx(0.0),
        "measured_uplift",
    )
    assert result.measured_return_rate(min_customers=100) is None
    verdicts = result.verdicts.set_index("campaign")
    assert list(verdicts.index) == ["winback_2026_01"]  # the March campaign has no holdout
    assert verdicts.loc["winback_2026_01", ["contacted", "holdout"]].tolist() == [10, 5]
    assert verdicts.loc["winback_2026_01", "return_change"] == pytest.approx(0.4 / 0.4 - 1)
    no_holdout = evaluate_campaigns(messages, None, reductions_of(purchases), settings=SIXTY_DAYS)
    assert no_holdout.verdicts.empty and no_holdout.review is None
    rate, source, text = no_holdout.measured_return_rate(min_customers=5)
    assert (rate, source) == (pytest.approx(5 / 14), "measured_return_rate")
    assert "overstates" in text


def test_campaign_evaluation_keeps_holdout_customers_in_the_holdout_and_waits_for_windows():
    messages, experiments, purchases, _ = campaign_data()
    stray = pd.DataFrame(
        {
            "customer_id": [11],
            "sent_at": [pd.Timestamp("2026-01-10")],
            "channel": ["email"],
            "campaign": ["winback_2026_01"],
        }
    )
    messages = pd.concat([messages.astype({"campaign": str}), stray], ignore_index=True)
    with pytest.warns(WinbackWarning, match="1 customers of a holdout group were messaged"):
        result = evaluate_campaigns(
            messages, experiments, reductions_of(purchases), settings=SIXTY_DAYS
        )
    assert result.overall.iloc[0][["tested_contacted", "holdout"]].tolist() == [10, 5]

    # the reductions' as-of date closes the windows: on 2026-03-31 the March campaign's
    # customers cannot be judged yet
    messages, experiments, purchases, _ = campaign_data()
    with pytest.warns(WinbackWarning, match=r"WinBack_2026_03.*window ending after 2026-03-31"):
        result = evaluate_campaigns(
            messages, experiments, reductions_of(purchases, "2026-03-31"), settings=SIXTY_DAYS
        )
    assert result.overall.iloc[0]["contacted"] == 10
    with pytest.warns(WinbackWarning, match=r"winback_2026_01.*window ending after 2026-02-01"):
        result = evaluate_campaigns(
            messages, experiments, reductions_of(purchases, "2026-02-01"), settings=SIXTY_DAYS
        )
    assert result.overall.empty


def test_plan_uses_the_measured_uplift_when_the_store_has_one():
    messages, experiments, purchases, _ = campaign_data()
    evaluation = evaluate_campaigns(
        messages, experiments, reductions_of(purchases), settings={"horizon_days": 90}
    )
    # 90 days: contacted 2, 3, 5, 7, 8 of 10 and held-out 11, 12 of 5 returned
    customers, targets, plan_messages = plan_inputs()
    policy = WinbackPolicy(min_value=100, min_measured_customers=5)
    result = winback_plan(targets, customers, plan_messages, policy, SEND, evaluation=evaluation)
    assert result.return_rate == pytest.approx(0.5 - 0.4)
    assert result.return_rate_source == "measured_uplift"
    assert "measured uplift" in result.assumption
    assert result.expected_customers_won == pytest.approx((0.9 + 0.6) * 0.1)
    # too few customers measured: the assumption stays, and the summary says why
    few = winback_plan(
        targets, customers, plan_messages, WinbackPolicy(min_value=100), SEND, evaluation=evaluation
    )
    assert few.return_rate_source == "assumed"
    assert "too few to measure" in few.assumption


# --- contact list -------------------------------------------------------------------------------


def test_contact_list_carries_only_the_chosen_channels_contact():
    customers, targets, messages = plan_inputs()
    result = winback_plan(targets, customers, messages, WinbackPolicy(min_value=100), SEND)
    contacts = contact_list(result, customers).set_index("customer_id")
    assert contacts.index.tolist() == [1, 2]  # most valuable first; skipped customers left out
    assert contacts.loc[1, "channel"] == "email"
    assert contacts.loc[1, "email"] == "a@x.ru"
    assert pd.isna(contacts.loc[1, "phone"])  # has a phone and SMS consent, but gets an e-mail
    assert contacts.loc[2, "channel"] == "sms"
    assert contacts.loc[2, "phone"] == "+79120000002"
    assert pd.isna(contacts.loc[2, "email"])
    assert contacts.loc[1, "incentive"] == 500.0
    assert contacts.loc[2, "name"] == "Name 2"


def test_contact_list_drops_customers_whose_consent_is_gone():
    customers, targets, messages = plan_inputs()
    result = winback_plan(targets, customers, messages, WinbackPolicy(min_value=100), SEND)
    customers.loc[customers["customer_id"] == 1, "consent_email"] = False
    with pytest.warns(WinbackWarning, match="1 planned customers no longer consent"):
        contacts = contact_list(result.plan, customers)
    assert contacts["customer_id"].tolist() == [2]


# --- parameters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"max_messages": 0},
            "The 'max_messages' parameter of WinbackPolicy must be an int in the range "
            "[1, 1000]. Got 0 instead.",
        ),
        (
            {"cap_days": 7.5},
            "The 'cap_days' parameter of WinbackPolicy must be an int in the range [1, 366]. "
            "Got 7.5 instead.",
        ),
        (
            {"incentive_rate": 1.5},
            "The 'incentive_rate' parameter of WinbackPolicy must be a float in the range "
            "[0, 1]. Got 1.5 instead.",
        ),
        (
            {"max_incentive": True},
            "The 'max_incentive' parameter of WinbackPolicy must be a float in the range "
            "[0, inf). Got True instead.",
        ),
        (
            {"customer_prior_messages": 0},
            "The 'customer_prior_messages' parameter of WinbackPolicy must be a float in the "
            "range (0, inf). Got 0 instead.",
        ),
        ({"channels": ("emial",)}, "Got 'emial' instead. Did you mean 'email'?"),
        ({"channels": "email"}, "must be a list of channels"),
        ({"channels": ()}, "at least one"),
        ({"assume_consent": ("push",)}, "may only name channels in 'channels'"),
        ({"served_regions": "Kazan"}, "must be a list of region names"),
        ({"channel_metric": "convert"}, "Did you mean 'converted'?"),
        ({"message_cost": {"sms": -1}}, "message_cost['sms']"),
    ],
)
def test_policy_rejects_bad_parameters_with_a_sklearn_style_message(kwargs, message):
    with pytest.raises(ParamsError) as error:
        WinbackPolicy(**kwargs)
    assert message in str(error.value)


def test_policy_defaults_state_the_source_articles_return_rate():
    policy = WinbackPolicy(served_regions=["Kazan"])
    assert policy.assumed_return_rate == 0.6
    assert policy.served_regions == ("Kazan",)
    messages, experiments, purchases, _ = campaign_data()
    with pytest.raises(ParamsError, match="'reductions' parameter of evaluate_campaigns"):
        evaluate_campaigns(messages, experiments, purchases)
    with pytest.raises(ParamsError, match="'settings' parameter of evaluate_campaigns"):
        evaluate_campaigns(messages, experiments, reductions_of(purchases), settings=[90])
    with pytest.raises(ParamsError, match="horizon"):
        evaluate_campaigns(
            messages, experiments, reductions_of(purchases), settings={"horizon_days": 0}
        )
    customers = plan_inputs()[0]
    no_conversions = message_rows([(1, "email", 2, 1)]).drop(columns="converted")
    with pytest.raises(DataError, match=r"(?s)column 'converted' is missing.*channel_metric"):
        choose_channels(customers, no_conversions, [1])
    opened = choose_channels(
        customers, no_conversions, [1], policy=WinbackPolicy(channel_metric="opened")
    )
    assert opened["own_responses"].tolist() == [2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        WinbackPolicy(channels=["email", "sms", "push"], assume_consent=["push"])


def test_plan_in_russian_writes_actions_and_the_finding_in_russian_and_keeps_the_codes():
    from custkit.i18n import use_language

    customers, targets, messages = plan_inputs()
    policy = WinbackPolicy(min_value=100)
    with use_language("ru"):
        result = winback_plan(targets, customers, messages, policy, SEND)
        finding = result.finding()
    contacted = result.plan.loc[result.plan["contact"]]
    assert set(contacted["action"].astype(str)) <= {a.code for a in ACTIONS.values()}
    assert contacted["action_text"].astype(str).str.contains("[а-яА-Я]").all()
    assert set(result.plan["skip_reason"].dropna().astype(str)) <= set(SKIP_REASONS)
    assert finding.title == "План реактивации клиентов"
    assert "Допущение: 60%" in finding.conclusion
    assert finding.action.startswith("Отправьте сообщения по списку exports/winback_contacts.csv")


@pytest.mark.parametrize("messages", [None, "some"])
def test_a_store_without_a_customers_table_gets_a_plan_that_contacts_no_one(messages):
    targets = targets_frame(
        [(1, "at_risk", "delivery_cost", 0.2, 50_000), (2, "churned", "quality", 0.9, 5000)]
    )
    history = message_rows([(1, "email", 3, 1)]) if messages else None
    plan = winback_plan(targets, None, history, WinbackPolicy(), SEND)
    assert plan.plan["customer_id"].tolist() == [1, 2]
    assert not plan.plan["contact"].any() and plan.contacted == 0
    assert plan.plan["action"].notna().all()


# --- the plan's balance: value against incentives and messages ----------------------------------


@pytest.mark.parametrize(
    ("value", "incentive", "messages", "balance", "words"),
    [
        (319_053.0, 312_800.0, 0.0, "break_even", "about break-even"),  # the demo's October plan
        (300_000.0, 312_800.0, 0.0, "break_even", "about break-even"),  # a little short: still
        (310_000.0, 300_000.0, 10_000.0, "break_even", "about break-even"),  # messages count too
        (200_000.0, 312_800.0, 0.0, "loses_money", "loses money"),
        (100.0, 0.0, 500.0, "loses_money", "loses money"),  # messages alone can outweigh it
        (500_000.0, 312_800.0, 0.0, "pays_off", "exceeds"),
        (1_000.0, 0.0, 0.0, "pays_off", "exceeds"),
        (0.0, 0.0, 0.0, None, ""),
    ],
)
def test_plan_says_plainly_whether_it_pays_off_is_about_break_even_or_loses_money(
    value, incentive, messages, balance, words
):
    from dataclasses import replace

    customers, targets, plan_messages = plan_inputs()
    plan = winback_plan(targets, customers, plan_messages, WinbackPolicy(min_value=100), SEND)
    plan = replace(
        plan, expected_revenue_won=value, total_incentive=incentive, message_cost=messages
    )
    assert plan.balance == balance
    text = plan.balance_text()
    finding = plan.finding()
    if balance is None:
        assert text == ""
    else:
        assert words in text
        assert f"{incentive + messages:,.0f}" in text
        assert text in finding.conclusion
    assert finding.level == ("warning" if balance == "loses_money" else "info")


def test_plan_balance_turns_at_the_break_even_tolerance_on_either_side():
    from dataclasses import replace

    from custkit.churn.winback import BREAK_EVEN_TOLERANCE

    customers, targets, plan_messages = plan_inputs()
    plan = winback_plan(targets, customers, plan_messages, WinbackPolicy(min_value=100), SEND)
    cost = 100_000.0
    edge = BREAK_EVEN_TOLERANCE * cost
    cases = {
        cost + edge - 1: "break_even",
        cost + edge + 1: "pays_off",
        cost - edge + 1: "break_even",
        cost - edge - 1: "loses_money",
    }
    for value, expected in cases.items():
        shifted = replace(plan, expected_revenue_won=value, total_incentive=cost, message_cost=0.0)
        assert shifted.balance == expected, value


def test_plan_balance_is_said_in_russian():
    from dataclasses import replace

    from custkit.i18n import use_language

    customers, targets, plan_messages = plan_inputs()
    plan = winback_plan(targets, customers, plan_messages, WinbackPolicy(min_value=100), SEND)
    for value, word in ((319_053.0, "безубыточн"), (100_000.0, "убыток"), (900_000.0, "превышает")):
        shifted = replace(
            plan, expected_revenue_won=value, total_incentive=312_800.0, message_cost=0.0
        )
        with use_language("ru"):
            assert word in shifted.balance_text()
