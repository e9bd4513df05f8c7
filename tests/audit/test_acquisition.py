import pytest

from custkit.audit.acquisition import acquisition_by, acquisition_finding, referral_performance
from custkit.errors import ParamsError


def test_new_customers_per_channel_come_from_the_customer_table(red, period, customers):
    a = acquisition_by(red, period, customers).set_index("acquisition_channel")
    # first purchase in Jul 2023 - Jun 2024: c2 (social) and c5 (referral)
    assert a["new_customers"].to_dict() == {"referral": 1, "social": 1}
    assert a.loc["social", "median_first_order_value"] == 300.0
    # both are younger than 90 days: not observed, so no repeat rate instead of a biased 0%
    assert a["customers_observed"].sum() == 0
    assert a["repeat_rate"].isna().all()


def test_repeat_rate_counts_only_customers_observed_long_enough(red, period):
    a = acquisition_by(red, period, window_months=24, repeat_within_days=365)
    by = a.set_index("acquisition_channel")  # no customer table: first order's channel
    assert by.loc["web", "new_customers"] == 2  # c1 (2023-01-10), c4 (2023-03-01)
    assert by.loc["web", "customers_observed"] == 2
    assert by.loc["web", "repeat_rate"] == 0.0  # c1 came back after 481 days
    assert by.loc["app", "customers_observed"] == 0


def test_region_falls_back_to_the_first_delivery_region(red, period):
    a = acquisition_by(red, period, None, by="region")
    assert set(a["region"]) == {"South"}


def test_unknown_grouping_is_a_params_error(red, period):
    with pytest.raises(ParamsError, match="must be one of"):
        acquisition_by(red, period, by="city")


def test_referral_compares_referred_customers_with_the_others(red, period, customers):
    r = referral_performance(red, period, customers).set_index("group")
    assert r.loc["referred", "customers"] == 2  # c2, c5 (c6 never bought)
    assert r.loc["referred", "referrers"] == 1  # c1
    assert r.loc["referred", "revenue_per_customer"] == pytest.approx(165.0)
    assert r.loc["not_referred", "revenue_per_customer"] == pytest.approx((350 + 120 + 60) / 3)


def test_referral_is_empty_without_referrer_column(red, period, customers):
    assert referral_performance(red, period, customers.drop(columns="referrer_id")).empty


def test_acquisition_finding_names_the_largest_channel(red, period, customers):
    finding = acquisition_finding(acquisition_by(red, period, customers))
    assert "2 new customers" in finding.conclusion


@pytest.mark.parametrize(
    ("language", "referred", "others"),
    [("en", "165\u00a0RUB each", "177\u00a0RUB for others"), ("ru", "165\u00a0₽", "177\u00a0₽")],
)
def test_acquisition_finding_writes_the_referral_spend_with_its_currency(
    red, period, customers, language, referred, others
):
    from custkit.i18n import use_language

    with use_language(language):
        finding = acquisition_finding(
            acquisition_by(red, period, customers),
            referral_performance(red, period, customers),
            currency="RUB",
        )
    assert referred in finding.conclusion and others in finding.conclusion
