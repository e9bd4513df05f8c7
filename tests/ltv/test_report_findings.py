"""The LTV report's own findings (outlook, tiers) in English and in Russian: whole sentences,
Russian plural forms and number formats."""

import numpy as np
import pandas as pd
import pytest

from custkit.i18n import use_language
from custkit.ltv.report import CustomerValue, customer_value_table, outlook_finding, tiers_finding


def _value(basis: str, months: int) -> CustomerValue:
    clv = pd.DataFrame(
        {
            "clv": [300.0, 100.0],
            "tier": pd.Categorical(["top_1%", "rest"]),
            "p_alive": [0.9, 0.5],
            "expected_purchases": [3.0, 1.0],
            "value_at_risk": [30.0, 50.0],
            "next_expected_order_date": pd.to_datetime(["2026-12-01", None]),
            "status": pd.Categorical(["scored", "not_scored"]),
            "reason": pd.Categorical(["", "no margin rate for this customer"]),
        },
        index=pd.Index([1, 2], name="customer_id"),
    )
    outlook = pd.DataFrame(
        {
            "horizon_months": [months],
            "expected_purchases": [1234.0],
            "expected_revenue": [5_000_000.0],
            "clv": [1_234_567.0],
        }
    )
    return CustomerValue("BG/NBD", None, None, pd.DataFrame(), clv, outlook, basis)


@pytest.mark.parametrize(
    ("months", "ru_months"),
    [(1, "следующий 1 месяц"), (3, "следующие 3 месяца"), (12, "следующие 12 месяцев")],
)
def test_outlook_finding_names_margin_or_revenue_in_whole_sentences(months, ru_months):
    margin = outlook_finding(_value("margin", months), "RUB")
    revenue = outlook_finding(_value("revenue", months), "")
    assert "1,234,567\u00a0RUB in margin" in margin.conclusion
    assert "1,234,567 in revenue" in revenue.conclusion and "70% likely" in revenue.conclusion
    with use_language("ru"):
        margin = outlook_finding(_value("margin", months), "RUB")
        revenue = outlook_finding(_value("revenue", months), "RUB")
    assert margin.conclusion.startswith("За " + ru_months)
    assert "1\u00a0234\u00a0567\u00a0₽ маржи" in margin.conclusion
    assert "\u00a0₽ выручки" in revenue.conclusion and "1\u00a0234)" in revenue.conclusion
    assert margin.title == "Ценность клиентской базы"


def test_tiers_finding_in_russian():
    tiers = pd.DataFrame(
        {
            "tier": ["top_1%", "top_5%", "top_20%", "rest"],
            "clv_total": [100.0, 100.0, 100.0, 700.0],
            "clv_share": [0.1, 0.1, 0.1, 0.7],
            "value_at_risk": [1000.0, 0.0, 0.0, 0.0],
        }
    )
    with use_language("ru"):
        finding = tiers_finding(tiers, "RUB")
    assert finding.conclusion.startswith("На 20% самых ценных клиентов приходится 30%")
    assert "1\u00a0000\u00a0₽ из неё" in finding.conclusion
    assert finding.level == "warning"


def test_customer_value_export_writes_reasons_in_the_report_language_and_keeps_codes():
    value = _value("margin", 12)
    english = customer_value_table(value)
    assert list(english["reason"]) == ["", "no margin rate for this customer"]
    with use_language("ru"):
        russian = customer_value_table(value)
    assert list(russian["reason"]) == ["", "для клиента нет доли маржи"]
    assert list(russian["tier"]) == ["top_1%", "rest"] and russian["status"].iloc[1] == "not_scored"
    assert np.array_equal(russian["clv"], english["clv"])


@pytest.mark.parametrize("free_customers", [1, 5])
def test_customer_value_holds_when_repeat_buyers_paid_nothing(free_customers):
    # CDNOW master has a repeat buyer whose purchases were all free: Gamma-Gamma refuses
    # non-positive spend, which once failed the LTV report on that real data set
    import custkit as ck
    from custkit.datasets import load_cdnow
    from custkit.ltv.report import customer_value

    orders = load_cdnow("sample")
    repeaters = orders["customer_id"].value_counts()
    free = repeaters[repeaters > 2].index[:free_customers]
    orders.loc[orders["customer_id"].isin(free), "revenue"] = 0.0
    as_of = pd.Timestamp("1998-06-30")
    red = ck.reduce_orders(orders, as_of, customer_days=True)
    value = customer_value(orders, as_of, "BG/NBD", red, horizons_months=[12])
    clv = value.clv["clv"]
    assert np.isfinite(clv).all() and (clv.loc[free] >= 0).all()
    assert len(clv) == orders["customer_id"].nunique()
