import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custkit.audit.cleanliness import (
    _EMAIL_RE,
    _valid_email,
    cleanliness_finding,
    contact_quality,
    duplicate_groups,
    normalize_email,
    normalize_phone,
    rejected_rows,
)
from custkit.data.store import TableAccounting


def test_phone_normalization_turns_russian_8_and_10_digit_numbers_into_7():
    phones = pd.Series(["8 (912) 345-67-89", "+7 912 345 67 89", "9123456789", "", None])
    assert normalize_phone(phones).tolist()[:3] == ["79123456789"] * 3
    assert normalize_phone(phones).isna().tolist()[3:] == [True, True]


def test_email_normalization_strips_and_lowercases():
    assert normalize_email(pd.Series([" Ann@Mail.RU "])).item() == "ann@mail.ru"


def test_contact_quality_counts_missing_and_invalid(customers):
    q = contact_quality(customers).set_index("check")["customers"]
    assert q["missing_birthday"] == 2
    assert q["missing_email"] == 2
    assert q["invalid_email"] == 1  # "not-an-email"
    assert q["invalid_phone"] == 1  # "123"
    assert q["no_contact"] == 1  # c4: bad e-mail and bad phone
    assert q["no_consent"] == 2  # c2 no/no, c5 unknown
    assert q["missing_region"] == 1


def test_duplicates_join_customers_sharing_email_or_phone_transitively(customers):
    d = duplicate_groups(customers)
    # c1 ~ c5 by e-mail (a@x.ru), c1 ~ nobody by phone; c3 ~ c6 by phone 79123456780
    groups = d.groupby("duplicate_group")["customer_id"].apply(sorted).tolist()
    assert sorted(groups) == [[1, 5], [3, 6]]
    assert d.set_index("customer_id").loc[3, "matched_on"] == "phone"


def test_duplicate_groups_are_empty_without_contact_columns(customers):
    assert duplicate_groups(customers[["customer_id"]]).empty


def test_rejected_rows_come_from_table_accounting():
    acc = {"orders": TableAccounting("orders", "o.csv", 10, 8, 2, {"bad_date": 2})}
    r = rejected_rows(acc).iloc[0]
    assert (r["rejected"], r["rejected_share"], r["top_reason"]) == (
        2,
        pytest.approx(0.2),
        "bad_date",
    )


def test_cleanliness_finding_says_when_no_customer_table_was_given():
    finding = cleanliness_finding(contact_quality(None), duplicate_groups(None), None, False)
    assert "No customer table was given" in finding.conclusion


def test_cleanliness_finding_counts_duplicate_groups(customers):
    finding = cleanliness_finding(contact_quality(customers), duplicate_groups(customers))
    assert "2 groups of customers look like duplicates" in finding.conclusion


# The checks run in pyarrow's RE2 kernels; these compare them with what Python's re (the
# definition, and what pandas used before) says on awkward text: Unicode spaces, \v, a final
# newline, non-ASCII digits.
_AWKWARD = st.text(
    alphabet=st.sampled_from(list("ab.@ 7-()+\n\t\x0b\x1c\x85\xa0\u2003\u3000я٣３")), max_size=14
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), _AWKWARD, st.just("a@b.c\n"), st.just("a@b\u2003.c"))))
def test_email_check_agrees_with_python_re(values):
    emails = pd.Series(values, dtype="string")
    expected = [v is not None and re.match(_EMAIL_RE, v) is not None for v in values]
    assert _valid_email(emails).tolist() == expected


def _phone_the_python_way(value):
    if value is None:
        return None
    digits = re.sub(r"\D", "", value)
    if len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]
    if len(digits) == 10 and digits.startswith("9"):
        digits = "7" + digits
    return digits or None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            _AWKWARD,
            st.text(alphabet=st.sampled_from(list("0123456789 -()+")), max_size=18),
            st.from_regex(r"\A[89][0-9]{9,10}\Z"),
        )
    ),
    st.integers(0, 3),
)
def test_phone_normalization_agrees_with_python_re(values, start):
    # start > 0 gives a slice of a larger Arrow array (a non-zero buffer offset)
    phones = pd.Series(values, dtype="string").iloc[min(start, len(values)) :]
    got = normalize_phone(phones)
    expected = [_phone_the_python_way(v) for v in values[min(start, len(values)) :]]
    assert [None if pd.isna(v) else v for v in got] == expected
    assert got.index.equals(phones.index)


def test_placeholder_contacts_do_not_make_customers_duplicates():
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "email": ["no-email", "no-email", "a@b.ru", " A@B.ru "],
            "phone": ["-", "-", None, None],
        }
    )
    groups = duplicate_groups(customers)
    assert sorted(groups["customer_id"]) == [3, 4]
    assert set(groups["matched_on"]) == {"email"}
