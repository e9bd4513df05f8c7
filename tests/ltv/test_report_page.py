"""The LTV page's answer in plain words (issue 15, item 5): the headline, the model line, what
thin data cannot tell and the holdout table without codes; English and Russian."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from custkit.i18n import use_language
from custkit.ltv.clv import TotalValueInterval
from custkit.ltv.report import (
    MIN_REPEAT_BUYERS,
    CustomerValue,
    data_limits,
    holdout_table,
    model_line,
    worth_finding,
)
from custkit.ltv.validation import GRADIENT_BOOSTING, MAX_TOTAL_ERROR_PCT, NAIVE

AS_OF = pd.Timestamp("2026-10-31")


def _comparison(error_pct: float = 20.0, checked: bool = True, model: str = "Pareto/NBD"):
    """A holdout comparison as :func:`compare_purchase_models` returns it (the fields read)."""
    names = [model, NAIVE, GRADIENT_BOOSTING] if checked else [NAIVE]
    actual = 8_468.0 if checked else 0.0
    errors = [error_pct, 7.6, 23.9] if checked else [0.0]
    metrics = pd.DataFrame(
        {
            "kind": ["purchase model", "baseline", "baseline"][: len(names)],
            "mae": [0.958, 1.04, 1.01][: len(names)],
            "rmse": [1.2, 1.72, 1.26][: len(names)],
            "predicted_purchases": [actual * (1 + e / 100) for e in errors],
            "actual_purchases": actual,
            "total_error_pct": errors,
            "usable": True,
            "eligible": [abs(e) <= MAX_TOTAL_ERROR_PCT for e in errors],
            "not_eligible_reason": ["" if abs(e) <= 50 else "total off" for e in errors],
        },
        index=pd.Index(names, name="model"),
    )
    return SimpleNamespace(
        metrics=metrics, as_of=AS_OF, calibration_end=AS_OF - pd.DateOffset(months=6)
    )


def _value(
    weeks: float = 100.0, repeat: int = 500, model: str = "Pareto/NBD", basis: str = "margin"
) -> CustomerValue:
    n = max(repeat, 1) * 2
    summary = pd.DataFrame(
        {"frequency": np.r_[np.ones(repeat), np.zeros(n - repeat)], "T": np.linspace(1, weeks, n)}
    )
    outlook = pd.DataFrame(
        {
            "horizon_months": [3, 6, 12],
            "expected_purchases": [10.0, 20.0, 29_724.0],
            "expected_revenue": [1.0, 2.0, 3.0],
            "clv": [1.0, 2.0, 32_502_257.0],
        }
    )
    interval = TotalValueInterval(32_502_257.0, 32_137_451.0, 33_457_982.0, 0.9, 200, 1000)
    fitted = SimpleNamespace(time_unit_="W")
    return CustomerValue(model, fitted, None, summary, pd.DataFrame(), outlook, basis, interval)


TIERS = pd.DataFrame(
    {
        "tier": ["top_1%", "top_5%", "top_20%", "rest", "not_scored"],
        "customers": [159, 634, 2377, 12678, 0],
        "clv_total": [1.6e6, 3.6e6, 7.7e6, 19.6e6, 0.0],
        "clv_share": [0.05, 0.11, 0.24, 0.60, 0.0],
        "value_at_risk": [1e4, 3e4, 1.5e5, 8e5, 0.0],
    }
)


@pytest.mark.parametrize(
    ("case", "value", "comparison", "says"),
    [
        ("enough data", _value(), _comparison(), None),
        ("short history", _value(weeks=20), _comparison(), "the orders cover only 4 months"),
        (
            "few repeat buyers",
            _value(repeat=MIN_REPEAT_BUYERS - 1),
            _comparison(),
            f"only {MIN_REPEAT_BUYERS - 1} customers have bought more than once",
        ),
        ("no check", _value(), _comparison(checked=False), "could not be checked"),
        ("off", _value(), _comparison(error_pct=-80.0), "off by 80%, more than the 50% we"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_the_headline_says_what_thin_data_cannot_tell(case, value, comparison, says):
    limits = data_limits(comparison, value)
    finding = worth_finding(comparison, value, TIERS, "RUB")
    if says is None:
        assert limits == [] and finding.title == "What the base is worth"
        return
    assert len(limits) == 1 and says in limits[0]
    assert finding.title.startswith("What the base is worth: the data are too thin")
    assert (
        says in finding.conclusion and "A rough estimate: today's customers" in finding.conclusion
    )
    assert finding.level == "warning"


def test_the_headline_gives_the_value_its_interval_who_holds_it_and_what_is_at_risk():
    finding = worth_finding(_comparison(), _value(), TIERS, "RUB")
    assert finding.conclusion.startswith(
        "Today's customers are expected to bring 32,502,257\u00a0RUB of margin over the next "
        "12 months (likely between 32,137,451 and 33,457,982\u00a0RUB)."
    )
    # the top 20% are the top 1%, 5% and 20% tiers: 3,170 of 15,848 customers
    assert "The most valuable 20% of customers (3,170 people) hold 40% of it" in finding.conclusion
    assert "990,000\u00a0RUB (3%) belongs to customers who may already have stopped buying" in (
        finding.conclusion
    )
    revenue = worth_finding(_comparison(), _value(basis="revenue"), TIERS, "")
    assert "32,502,257 of revenue over the next 12 months" in revenue.conclusion
    with use_language("ru"):
        russian = worth_finding(_comparison(), _value(), TIERS, "RUB")
    assert russian.title == "Сколько стоит клиентская база"
    assert "32\u00a0502\u00a0257\u00a0₽ маржи за следующие 12 месяцев" in russian.conclusion
    assert (
        "(вероятно, от 32\u00a0137\u00a0451 до 33\u00a0457\u00a0982\u00a0₽)" in russian.conclusion
    )


@pytest.mark.parametrize(
    ("comparison", "english", "russian"),
    [
        (
            _comparison(20.0),
            "The forecast uses the Pareto/NBD model; checked on the last 6 months, it was off by "
            "20% (10,162 purchases expected, 8,468 made) — within the 50% we trust.",
            "при проверке на последних 6 месяцах он ошибся на 20%",
        ),
        (
            _comparison(-80.0),
            "checked on the last 6 months, it was off by 80% (1,694 purchases expected, 8,468 "
            "made) — more than the 50% we trust, so read it as rough.",
            "больше допустимых 50%, так что это грубая оценка",
        ),
        (
            _comparison(checked=False),
            "The forecast uses the Pareto/NBD model; it could not be checked against past months",
            "проверить его на прошлых месяцах не удалось",
        ),
    ],
    ids=["within", "outside", "unchecked"],
)
def test_the_model_line_says_how_far_the_forecast_was_off_in_plain_words(
    comparison, english, russian
):
    line = model_line(comparison, _value())
    assert english in line
    assert not any(term in line for term in ("MAE", "RMSE", "P(alive)", "eligible"))
    with use_language("ru"):
        assert russian in model_line(comparison, _value())


def test_the_holdout_table_names_every_model_by_a_label_and_says_whether_it_is_trusted():
    table = holdout_table(_comparison(-80.0))
    assert list(table["Model"]) == [
        "Pareto/NBD",
        "Simple rule: past purchase rate",
        "Gradient boosting on purchase history",
    ]
    assert list(table["Trusted"]) == ["total off", "yes", "yes"]
    assert list(table["Total off by"]) == ["-80%", "+8%", "+24%"]
    with use_language("ru"):
        russian = holdout_table(_comparison())
    assert "Градиентный бустинг по истории покупок" in set(russian.iloc[:, 0])
    assert NAIVE not in russian.to_string() and GRADIENT_BOOSTING not in russian.to_string()
