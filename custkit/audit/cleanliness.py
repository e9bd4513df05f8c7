"""Data cleanliness: missing and invalid customer data, probable duplicates, rejected rows.

Contacts are normalized before they are checked or compared:

- e-mail: spaces stripped, lower-cased; valid when it looks like ``name@domain.tld``;
- phone: digits only; an 11-digit number starting with 8 becomes 7… (Russian trunk prefix), a
  10-digit number starting with 9 gets the country code 7; valid when 11 to 15 digits remain.

Duplicate groups join customers sharing a normalized e-mail or phone, transitively (A shares an
e-mail with B, B a phone with C: one group), using connected components of a sparse graph.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from custkit.audit._common import num, pct
from custkit.data.store import TableAccounting
from custkit.findings import Finding

_EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"


def normalize_email(email: pd.Series) -> pd.Series:
    """Strip and lower-case e-mails; empty strings become missing."""
    out = email.astype("string").str.strip().str.lower()
    return out.mask(out == "")


def normalize_phone(phone: pd.Series) -> pd.Series:
    """Digits only; 8XXXXXXXXXX → 7XXXXXXXXXX, 9XXXXXXXXX → 79XXXXXXXXX; empty → missing."""
    digits = phone.astype("string").str.replace(r"\D", "", regex=True)
    digits = digits.mask(digits == "")
    eleven_8 = (digits.str.len() == 11) & digits.str.startswith("8")
    digits = digits.mask(eleven_8, "7" + digits.str.slice(1))
    ten_9 = (digits.str.len() == 10) & digits.str.startswith("9")
    return digits.mask(ten_9, "7" + digits)


def _valid_email(email: pd.Series) -> pd.Series:
    return email.str.match(_EMAIL_RE).fillna(False).astype(bool)


def _valid_phone(phone: pd.Series) -> pd.Series:
    length = phone.str.len()
    return ((length >= 11) & (length <= 15)).fillna(False).astype(bool)


def contact_quality(customers: pd.DataFrame | None) -> pd.DataFrame:
    """Share of customers missing each piece of data, and of invalid contacts.

    Returns
    -------
    pandas.DataFrame
        ``check``, ``label``, ``customers`` (count), ``share`` (of all customers). Checks whose
        column is absent are left out; empty when no customers table is given.
    """
    columns = ["check", "label", "customers", "share"]
    if customers is None or len(customers) == 0:
        return pd.DataFrame(columns=columns)
    n = len(customers)
    rows: list[tuple[str, str, int]] = []
    email = normalize_email(customers["email"]) if "email" in customers else None
    phone = normalize_phone(customers["phone"]) if "phone" in customers else None
    if "birth_date" in customers:
        rows.append(("missing_birthday", "No birthday", int(customers["birth_date"].isna().sum())))
    if email is not None:
        rows.append(("missing_email", "No e-mail", int(email.isna().sum())))
        rows.append(
            (
                "invalid_email",
                "E-mail looks wrong",
                int((email.notna() & ~_valid_email(email)).sum()),
            )
        )
    if phone is not None:
        rows.append(("missing_phone", "No phone", int(phone.isna().sum())))
        rows.append(
            (
                "invalid_phone",
                "Phone looks wrong",
                int((phone.notna() & ~_valid_phone(phone)).sum()),
            )
        )
    if email is not None or phone is not None:
        usable = np.zeros(n, dtype=bool)
        if email is not None:
            usable |= _valid_email(email).to_numpy()
        if phone is not None:
            usable |= _valid_phone(phone).to_numpy()
        rows.append(("no_contact", "No usable e-mail or phone", int((~usable).sum())))
    consent_cols = [c for c in ("consent_email", "consent_sms") if c in customers]
    if consent_cols:
        consent = np.zeros(n, dtype=bool)
        for c in consent_cols:
            consent |= customers[c].fillna(False).to_numpy(dtype=bool)
        rows.append(("no_consent", "No marketing consent", int((~consent).sum())))
    if "region" in customers:
        rows.append(("missing_region", "No region", int(customers["region"].isna().sum())))
    out = pd.DataFrame(rows, columns=columns[:3])
    out["share"] = out["customers"] / n
    return out


def duplicate_groups(customers: pd.DataFrame | None) -> pd.DataFrame:
    """Groups of customers that are probably the same person.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``duplicate_group`` (int), ``group_size``, ``matched_on``
        (``"email"``, ``"phone"`` or ``"email+phone"`` — the contact(s) this customer shares
        with another group member) for customers in groups of two or more; sorted by group.
    """
    columns = ["customer_id", "duplicate_group", "group_size", "matched_on"]
    if customers is None or not ({"email", "phone"} & set(customers.columns)):
        return pd.DataFrame(columns=columns)
    base = customers.drop_duplicates("customer_id").reset_index(drop=True)
    n = len(base)
    src, dst, shared = [], [], []
    offset = n
    for column, normalize in (("email", normalize_email), ("phone", normalize_phone)):
        if column not in base:
            shared.append(np.zeros(n, dtype=bool))
            continue
        key = normalize(base[column])
        codes, uniques = pd.factorize(key)  # missing -> -1
        has = codes >= 0
        counts = np.bincount(codes[has], minlength=len(uniques))
        shared.append(has & (counts[np.where(has, codes, 0)] > 1))
        src.append(np.flatnonzero(has))
        dst.append(codes[has] + offset)
        offset += len(uniques)
    rows = np.concatenate(src) if src else np.zeros(0, np.int64)
    cols = np.concatenate(dst) if dst else np.zeros(0, np.int64)
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(offset, offset))
    _, label = connected_components(graph, directed=False)
    label = label[:n]
    size = np.bincount(label)[label]
    dup = size > 1
    matched = np.where(shared[0] & shared[1], "email+phone", np.where(shared[0], "email", "phone"))
    out = pd.DataFrame(
        {
            "customer_id": base["customer_id"].to_numpy()[dup],
            "duplicate_group": pd.factorize(label[dup])[0],
            "group_size": size[dup],
            "matched_on": matched[dup],
        }
    )
    return out.sort_values(["duplicate_group", "customer_id"], ignore_index=True)


def rejected_rows(accounting: Mapping[str, TableAccounting] | None) -> pd.DataFrame:
    """Rows read, accepted and rejected per table, with the most common reason.

    Returns
    -------
    pandas.DataFrame
        ``table``, ``read``, ``accepted``, ``rejected``, ``rejected_share``, ``top_reason``.
    """
    columns = ["table", "read", "accepted", "rejected", "rejected_share", "top_reason"]
    if not accounting:
        return pd.DataFrame(columns=columns)
    rows = []
    for name, acc in accounting.items():
        reasons = dict(acc.reasons)
        top = max(reasons, key=reasons.get) if reasons else ""
        rows.append(
            (
                name,
                acc.read,
                acc.accepted,
                acc.rejected,
                acc.rejected / acc.read if acc.read else 0.0,
                top,
            )
        )
    return pd.DataFrame(rows, columns=columns)


def cleanliness_finding(
    quality: pd.DataFrame,
    duplicates: pd.DataFrame,
    rejected: pd.DataFrame | None = None,
    customers_given: bool = True,
) -> Finding:
    """Summarize missing contacts, duplicates and rejected rows in one sentence."""
    title = "Data quality"
    if not customers_given:
        return Finding(
            title,
            "No customer table was given, so contacts, birthdays and consents cannot be checked.",
            "Add the customer export to the params file (sources.customers) to see this section.",
            "warning",
        )
    share = quality.set_index("check")["share"] if len(quality) else pd.Series(dtype=float)
    parts = []
    if "no_contact" in share:
        parts.append(f"{pct(share['no_contact'])} of customers have no usable e-mail or phone")
    if "no_consent" in share:
        parts.append(f"{pct(share['no_consent'])} have not agreed to marketing messages")
    if "missing_birthday" in share:
        parts.append(f"{pct(share['missing_birthday'])} have no birthday on file")
    n_groups = duplicates["duplicate_group"].nunique() if len(duplicates) else 0
    parts.append(f"{num(n_groups)} groups of customers look like duplicates")
    if rejected is not None and len(rejected):
        parts.append(f"{num(rejected['rejected'].sum())} input rows were rejected")
    worst = share.max() if len(share) else 0.0
    text = "; ".join(parts)
    return Finding(
        title,
        text[:1].upper() + text[1:] + ".",
        "Ask for an e-mail or phone and marketing consent at checkout, and merge the duplicate "
        "customers listed in the export file.",
        "warning" if worst > 0.3 or n_groups > 0 else "good",
    )
