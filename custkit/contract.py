"""The canonical data model every custkit report reads.

A store's exports are mapped onto these tables once, at load time, by the ``columns`` mapping in
the params file; nothing downstream knows a store's own column names. Required columns must be
present; optional columns are used when present and skipped (with a note) when not.

Column kinds decide how raw values are parsed and which rows are rejected:

``id``        identifier, kept as text; empty values reject the row
``date``      date or timestamp; unparseable values reject the row
``money``     amount; accepts ``1 234,50`` / ``1,234.50`` per the source's decimal option
``int``       whole number (counts)
``float``     real number (ratings)
``text``      free text
``category``  a small set of repeated values (status, channel, region…), stored as categorical
``bool``      yes/no flags (``1/0``, ``true/false``, ``yes/no``, ``да/нет``)

A declaration in the core layer (issue 16), not in :mod:`custkit.data`: the params file's checks
(:mod:`custkit.params`) name its tables and columns, and the data layer loads by it; it imports
nothing else of custkit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

ColumnKind = Literal["id", "date", "money", "int", "float", "text", "category", "bool"]


@dataclass(frozen=True)
class Column:
    """One canonical column.

    Attributes
    ----------
    name : str
        Canonical name.
    kind : ColumnKind
        How values are parsed (see module docstring).
    required : bool
        The table cannot be used without it.
    pii : bool
        Personal data: never shown in HTML reports, only in export files.
    description : str
        One line for the README and error messages.
    """

    name: str
    kind: ColumnKind
    required: bool = False
    pii: bool = False
    description: str = ""


@dataclass(frozen=True)
class Table:
    """One canonical table: its columns and the column that identifies a row (if any)."""

    name: str
    columns: tuple[Column, ...]
    key: str | None = None
    description: str = ""
    date_column: str | None = None
    _by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})

    @property
    def required(self) -> list[str]:
        """Names of the required columns."""
        return [c.name for c in self.columns if c.required]

    @property
    def names(self) -> list[str]:
        """Names of all canonical columns, in contract order."""
        return [c.name for c in self.columns]

    @property
    def pii(self) -> list[str]:
        """Names of the columns holding personal data."""
        return [c.name for c in self.columns if c.pii]

    def column(self, name: str) -> Column:
        """Return the column called *name* (``KeyError`` if it is not in the contract)."""
        return self._by_name[name]

    def select(self, optional: Iterable[str] | None) -> Table:
        """This table with its required columns and only the *optional* ones named.

        ``None`` keeps every column. Reports read only the columns they use: on 10M orders,
        each column left out saves 80 MB and a share of the reading time.
        """
        if optional is None:
            return self
        keep = set(optional)
        unknown = sorted(keep - set(self.names))
        if unknown:
            raise ValueError(f"{self.name} has no column(s) {unknown}; columns: {self.names}")
        columns = tuple(c for c in self.columns if c.required or c.name in keep)
        return replace(self, columns=columns)


#: Order statuses that do not count as a purchase (compared case-insensitively).
NON_PURCHASE_STATUSES = frozenset(
    {"cancelled", "canceled", "returned", "refunded", "failed", "отменен", "отменён", "возврат"}
)

ORDERS = Table(
    "orders",
    (
        Column("order_id", "id", True, description="unique order number"),
        Column("customer_id", "id", True, description="who placed the order"),
        Column("order_date", "date", True, description="when the order was placed"),
        Column("revenue", "money", True, description="order amount paid, after discounts"),
        Column("status", "category", description="completed / cancelled / returned …"),
        Column("items", "int", description="number of items"),
        Column("discount", "money", description="discount amount given"),
        Column("coupon", "category", description="coupon code used, empty if none"),
        Column("shipping_cost", "money", description="delivery cost paid by the customer"),
        Column("cost", "money", description="cost of goods, for margin"),
        Column("channel", "category", description="sales channel (web, app, phone …)"),
        Column("delivery_region", "category", description="region the order was delivered to"),
        Column("promised_delivery_date", "date", description="delivery date promised"),
        Column("delivered_at", "date", description="actual delivery date"),
    ),
    key="order_id",
    date_column="order_date",
    description="one row per order",
)

CUSTOMERS = Table(
    "customers",
    (
        Column("customer_id", "id", True, description="customer identifier used in orders"),
        Column("registered_at", "date", description="registration date"),
        Column("email", "text", pii=True, description="e-mail address"),
        Column("phone", "text", pii=True, description="phone number"),
        Column("name", "text", pii=True, description="customer name"),
        Column("birth_date", "date", pii=True, description="date of birth"),
        Column("gender", "category", description="gender"),
        Column("region", "category", description="home region"),
        Column("city", "category", description="home city"),
        Column("acquisition_channel", "category", description="how the customer was acquired"),
        Column("referrer_id", "id", description="customer who referred this one"),
        Column("consent_email", "bool", description="agreed to e-mail marketing"),
        Column("consent_sms", "bool", description="agreed to SMS marketing"),
    ),
    key="customer_id",
    date_column="registered_at",
    description="one row per customer",
)

FEEDBACK = Table(
    "feedback",
    (
        Column("customer_id", "id", True),
        Column("created_at", "date", True),
        Column("kind", "category", description="review / ticket / survey"),
        Column("rating", "float", description="rating, e.g. 1–5"),
        Column("text", "text", description="free text of the review or ticket"),
        Column("reason", "category", description="labelled reason, when known"),
    ),
    date_column="created_at",
    description="reviews, support tickets and survey answers",
)

MESSAGES = Table(
    "messages",
    (
        Column("customer_id", "id", True),
        Column("sent_at", "date", True),
        Column("channel", "category", description="email / sms / messenger / push / post / phone"),
        Column("campaign", "category", description="campaign name"),
        Column("opened", "bool"),
        Column("clicked", "bool"),
        Column("converted", "bool"),
    ),
    date_column="sent_at",
    description="marketing messages sent to customers",
)

EXPERIMENTS = Table(
    "experiments",
    (
        Column("experiment_id", "id", True),
        Column("customer_id", "id", True),
        Column("variant", "category", True),
        Column("assigned_at", "date", True),
    ),
    date_column="assigned_at",
    description="split-test assignments",
)

TABLES: dict[str, Table] = {t.name: t for t in (ORDERS, CUSTOMERS, FEEDBACK, MESSAGES, EXPERIMENTS)}
