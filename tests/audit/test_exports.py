import pandas as pd

from custkit.audit.cleanliness import duplicate_groups
from custkit.audit.exports import birthdays_next_month, duplicates_to_merge, reactivation_list


def test_reactivation_list_keeps_lapsed_customers_who_may_be_contacted(red, period, customers):
    r = reactivation_list(red, period, customers)
    # lapsed 180-730 days: c3 (376 days, e-mail missing but SMS consent + phone) and c4
    # (487 days, e-mail consent); ranked by past revenue
    assert r["customer_id"].tolist() == [3, 4]
    assert {"email", "phone", "consent_email", "consent_sms"} <= set(r.columns)


def test_reactivation_list_drops_customers_without_consent(red, period, customers):
    customers = customers.assign(consent_email=False, consent_sms=False)
    assert reactivation_list(red, period, customers).empty


def test_birthdays_next_month_lists_july_birthdays_with_contacts(red, period, customers):
    b = birthdays_next_month(period, customers, red)
    assert b["customer_id"].tolist() == [3, 1, 6]  # 1 Jul, 15 Jul, 31 Jul
    assert b["birthday"].dt.year.unique().tolist() == [2024]
    assert b.set_index("customer_id").loc[6, "orders"] == 0


def test_duplicates_to_merge_carry_contacts_and_order_counts(red, customers):
    d = duplicates_to_merge(customers, red)
    assert set(d["customer_id"]) == {1, 3, 5, 6}
    assert d.set_index("customer_id").loc[1, "orders"] == 3
    assert "email_normalized" in d.columns


def test_duplicates_to_merge_reuses_groups_given_by_the_caller(red, customers):
    given_groups = duplicates_to_merge(customers, red, groups=duplicate_groups(customers))
    pd.testing.assert_frame_equal(given_groups, duplicates_to_merge(customers, red))
