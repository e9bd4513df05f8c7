"""One customer truth: the customer-state table of a period and the customer card read from it.

- :mod:`custkit.customers.state`: :func:`customer_state`, one row per customer (status, P(alive),
  expected orders, value, importance tier, value at risk, churn reason, next action, channel,
  frequency cap), computed once from the shared order reductions through the functions the
  churn and LTV reports use.
- :mod:`custkit.customers.card`: :func:`customer_card`, what ``custkit customer ID`` prints.
- :mod:`custkit.customers.exports`: :func:`write_customer_cards`, the whole table as
  ``exports/customer_cards.csv`` and ``.parquet`` for a CRM import.

The package sits above the analyses (``custkit.churn``, ``custkit.ltv``, ``custkit.audit``) and
below ``custkit.reports`` and the CLI, which call it.
"""

from custkit.customers.card import customer_card, find_customer
from custkit.customers.exports import CARDS_EXPORT, write_customer_cards
from custkit.customers.state import (
    READS,
    STATUS_LABELS,
    STATUSES,
    StateOptions,
    customer_state,
    with_plan,
)

__all__ = [
    "CARDS_EXPORT",
    "READS",
    "STATUSES",
    "STATUS_LABELS",
    "StateOptions",
    "customer_card",
    "customer_state",
    "find_customer",
    "with_plan",
    "write_customer_cards",
]
