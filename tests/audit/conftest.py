"""A small hand-checked store shared by the audit tests (numbers worked out in the comments).

Report period 2024-06 (as of 2024-06-30):
- c1: 2023-01-10 (100), 2024-05-05 (200), 2024-06-10 (50), a cancelled order in June
- c2: 2024-06-01 (300) — new in June
- c3: 2022-06-15 (80), 2023-06-20 (40) — lapsed
- c4: 2023-03-01 (60), and 2024-07-02 (70) after the as-of date
- c5: two orders on 2024-06-30 (20 then 10) — new in June
"""

import pandas as pd
import pytest

from custkit.data.periods import ReportPeriod
from custkit.data.reduce import reduce_orders


@pytest.fixture
def orders():
    rows = [
        (1, 1, "2023-01-10", 100.0, "completed", "web", "North"),
        (2, 1, "2024-05-05", 200.0, "completed", "web", "North"),
        (3, 1, "2024-06-10", 50.0, "completed", "app", "North"),
        (4, 1, "2024-06-20", 999.0, "cancelled", "app", "North"),
        (5, 2, "2024-06-01", 300.0, "completed", "app", "South"),
        (6, 3, "2022-06-15", 80.0, "completed", "web", "South"),
        (7, 3, "2023-06-20", 40.0, "completed", "web", "South"),
        (8, 4, "2023-03-01", 60.0, "completed", "web", "North"),
        (9, 4, "2024-07-02", 70.0, "completed", "web", "North"),
        (10, 5, "2024-06-30 08:00", 20.0, "completed", "app", "South"),
        (11, 5, "2024-06-30 23:00", 10.0, "completed", "app", "South"),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "order_id",
            "customer_id",
            "order_date",
            "revenue",
            "status",
            "channel",
            "delivery_region",
        ],
    )
    frame["order_date"] = pd.to_datetime(frame["order_date"], format="ISO8601")
    for column in ("status", "channel", "delivery_region"):
        frame[column] = frame[column].astype("category")
    return frame


@pytest.fixture
def customers():
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6],
            "registered_at": pd.to_datetime(
                ["2023-01-01", "2024-05-20", "2022-06-01", "2023-02-01", "2024-06-30", "2024-01-01"]
            ),
            "email": ["A@x.ru ", "b@x.ru", None, "not-an-email", "a@x.ru", None],
            "phone": ["8 (912) 345-67-89", None, "9123456780", "123", None, "+7 912 345 67 80"],
            "name": ["Ann", "Bob", "Cid", "Dan", "Eve", "Fay"],
            "birth_date": pd.to_datetime(
                ["1990-07-15", None, "1985-07-01", "1970-02-28", None, "2000-07-31"]
            ),
            "region": pd.Categorical(["North", "South", None, "North", "South", "North"]),
            "acquisition_channel": pd.Categorical(
                ["referral", "social", "social", "coupons", "referral", "social"]
            ),
            "referrer_id": pd.array([None, 1, None, None, 1, 2], dtype="Int64"),
            "consent_email": pd.array([True, False, True, True, None, False], dtype="boolean"),
            "consent_sms": pd.array([False, False, True, False, None, True], dtype="boolean"),
        }
    )


@pytest.fixture
def period():
    return ReportPeriod.from_string("2024-06")


@pytest.fixture
def red(orders, period):
    return reduce_orders(orders, period.as_of)
