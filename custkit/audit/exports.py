"""Customer lists for action. These carry contact data: they go to export files (CSV / XLSX),
never into an HTML report or a kept notebook."""

from __future__ import annotations

import numpy as np
import pandas as pd

from custkit.audit._common import check_int, check_period, require_columns
from custkit.audit.cleanliness import duplicate_groups, normalize_email, normalize_phone
from custkit.data.periods import ReportPeriod
from custkit.data.reduce import OrderReductions

_CONTACT_COLUMNS = ("name", "email", "phone", "consent_email", "consent_sms")


def _contacts(customers: pd.DataFrame) -> pd.DataFrame:
    cols = ["customer_id", *[c for c in _CONTACT_COLUMNS if c in customers.columns]]
    return customers.drop_duplicates("customer_id")[cols]


def _consent(frame: pd.DataFrame, kind: str, contact: str) -> pd.Series:
    if kind not in frame or contact not in frame:
        return pd.Series(False, index=frame.index)
    return frame[kind].fillna(False).astype(bool) & frame[contact].notna()


def check_reactivation_days(min_days: int, max_days: int) -> tuple[int, int]:
    """*min_days* and *max_days* as :func:`reactivation_list` takes them, or ParamsError."""
    min_days = check_int("exports min_days", min_days, 1, 3650)
    return min_days, check_int("exports max_days", max_days, min_days, 36500)


def reactivation_list(
    red: OrderReductions,
    period: ReportPeriod,
    customers: pd.DataFrame,
    min_days: int = 180,
    max_days: int = 730,
) -> pd.DataFrame:
    """Lapsed customers worth winning back, most valuable first, who may be contacted.

    Parameters
    ----------
    red : OrderReductions
        Reductions at the report's as-of date.
    period : ReportPeriod
        Report month.
    customers : pandas.DataFrame
        Canonical customers table with contacts and consents.
    min_days, max_days : int, default 180 and 730
        Customers whose last purchase was between these many days before as-of.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, contacts (``name``, ``email``, ``phone`` when given), ``consent_email``,
        ``consent_sms``, ``last_order_date``, ``days_since_last_order``, ``orders``,
        ``revenue``; only customers with e-mail + e-mail consent or phone + SMS consent; sorted
        by ``revenue`` descending.
    """
    check_period(red, period)
    require_columns(customers, "customers", ["customer_id"])
    min_days, max_days = check_reactivation_days(min_days, max_days)
    buyers = red.customers.loc[red.customers["first_order_date"] < period.end]
    last_day = buyers["last_order_date"].to_numpy().astype("datetime64[D]")
    days = (np.datetime64(period.as_of.date(), "D") - last_day).astype(np.int64)
    lapsed = buyers.loc[(days >= min_days) & (days <= max_days)].assign(
        days_since_last_order=days[(days >= min_days) & (days <= max_days)]
    )
    out = lapsed[
        ["customer_id", "last_order_date", "days_since_last_order", "orders", "revenue"]
    ].merge(_contacts(customers), on="customer_id", how="inner")
    reachable = _consent(out, "consent_email", "email") | _consent(out, "consent_sms", "phone")
    out = out.loc[reachable.to_numpy()]
    first = ["customer_id", *[c for c in _CONTACT_COLUMNS if c in out.columns]]
    rest = [c for c in out.columns if c not in first]
    return out[first + rest].sort_values("revenue", ascending=False, ignore_index=True)


def birthdays_next_month(
    period: ReportPeriod, customers: pd.DataFrame, red: OrderReductions | None = None
) -> pd.DataFrame:
    """Customers whose birthday falls in the month after the report month.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, contacts, ``birth_date``, ``birthday`` (the date in the coming month;
        29 February becomes 28 February in other years), and ``orders`` / ``revenue`` up to
        as-of when *red* is given; sorted by ``birthday``.
    """
    require_columns(customers, "customers", ["customer_id", "birth_date"])
    nxt = period.shift(1)
    base = customers.drop_duplicates("customer_id")
    born = base["birth_date"]
    month = pd.Period(nxt.period, freq="M")
    chosen = base.loc[(born.dt.month == month.month).fillna(False).to_numpy()]
    day = chosen["birth_date"].dt.day.clip(upper=month.days_in_month)
    out = _contacts(chosen).assign(
        birth_date=chosen["birth_date"].to_numpy(),
        birthday=pd.to_datetime(
            {"year": month.year, "month": month.month, "day": day.to_numpy()}
        ).to_numpy()
        if len(chosen)
        else pd.Series(dtype="datetime64[ns]"),
    )
    if red is not None:
        out = out.merge(
            red.customers[["customer_id", "orders", "revenue"]], on="customer_id", how="left"
        )
        out["orders"] = out["orders"].fillna(0).astype(np.int64)
        out["revenue"] = out["revenue"].fillna(0.0)
    return out.sort_values(["birthday", "customer_id"], ignore_index=True)


def duplicates_to_merge(
    customers: pd.DataFrame,
    red: OrderReductions | None = None,
    groups: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Probable duplicate customers with their contacts, group by group, to merge by hand.

    Parameters
    ----------
    customers : pandas.DataFrame
        Canonical customers table.
    red : OrderReductions, optional
        Adds each customer's ``orders`` and ``revenue``.
    groups : pandas.DataFrame, optional
        :func:`~custkit.audit.cleanliness.duplicate_groups` of *customers*, when the caller has
        it already (the report does): grouping a million customers takes seconds.

    Returns
    -------
    pandas.DataFrame
        :func:`~custkit.audit.cleanliness.duplicate_groups` joined with ``name``, ``email``,
        ``phone``, the normalized e-mail and phone (``email_normalized``,
        ``phone_normalized``) and, when *red* is given, ``orders`` and ``revenue`` — keep the
        record with most orders.
    """
    require_columns(customers, "customers", ["customer_id"])
    if groups is None:
        groups = duplicate_groups(customers)
    base = customers.drop_duplicates("customer_id")
    # One positional lookup per group member instead of merges: on a large base most of the
    # time went into moving text columns around. Only group members are normalized.
    at = pd.Index(base["customer_id"]).get_indexer(groups["customer_id"])
    out = groups.reset_index(drop=True)
    for column in ("name", "email", "phone"):
        if column in base.columns:
            out[column] = base[column].array.take(at, allow_fill=True)
    if "email" in out:
        out["email_normalized"] = normalize_email(out["email"])
    if "phone" in out:
        out["phone_normalized"] = normalize_phone(out["phone"])
    if red is not None:
        buyers = red.customers
        row = pd.Index(buyers["customer_id"]).get_indexer(out["customer_id"])
        found = row >= 0
        out["orders"] = np.where(found, buyers["orders"].to_numpy()[row], 0).astype(np.int64)
        out["revenue"] = np.where(found, buyers["revenue"].to_numpy()[row], 0.0)
    return out
