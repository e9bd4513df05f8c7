"""RF(M) segmentation with fixed, configurable thresholds.

Quantile cut points collapse on e-commerce data, where more than half the customers buy once, so
recency and frequency scores use fixed thresholds:

- **R** (recency, days since the last purchase at as-of): with the default
  ``recency_days=(30, 90, 180, 365)``, ≤ 30 days → 5, ≤ 90 → 4, ≤ 180 → 3, ≤ 365 → 2, older → 1.
- **F** (frequency, purchases up to as-of): with the default ``frequency_orders=(1, 2, 3, 5)``,
  1 order → 1, 2 → 2, 3 → 3, 4–5 → 4, 6 or more → 5.
- **M** (monetary) is reported per segment (mean revenue per customer), not scored.

Each R×F cell maps to exactly one of ten segments (:data:`SEGMENT_GRID`), the widely used
RFM segment map.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType

import numpy as np
import pandas as pd

from custkit.audit._common import check_increasing, customers_at, num, pct
from custkit.data.periods import ReportPeriod
from custkit.data.reduce import OrderReductions
from custkit.errors import ParamsError
from custkit.findings import Finding
from custkit.i18n import _, n_

#: The ten segments, best first.
SEGMENTS: tuple[str, ...] = (
    "champions",
    "loyal",
    "potential_loyalists",
    "new",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cant_lose",
    "hibernating",
)

#: Segment of each R×F cell: rows are R = 5, 4, 3, 2, 1; columns F = 1 .. 5.
SEGMENT_GRID: tuple[tuple[str, ...], ...] = (
    ("new", "potential_loyalists", "potential_loyalists", "champions", "champions"),
    ("promising", "potential_loyalists", "potential_loyalists", "loyal", "loyal"),
    ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"),
    ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"),
)

#: ``(r_score, f_score) -> segment``, read from :data:`SEGMENT_GRID`.
RFM_SEGMENT_MAP = MappingProxyType(
    {(5 - i, f + 1): seg for i, row in enumerate(SEGMENT_GRID) for f, seg in enumerate(row)}
)

#: Plain-words name and recommended action per segment, in English; they are translated into the
#: report language where they are shown (:func:`segment_summary`, :func:`segment_label`).
SEGMENT_ACTIONS: MappingProxyType = MappingProxyType(
    {
        "champions": (
            "Best customers",
            "No discounts needed: give early access to new products and ask for reviews.",
        ),
        "loyal": ("Loyal customers", "Offer a loyalty programme and related products."),
        "potential_loyalists": (
            "Could become loyal",
            "Recommend products that fit their past purchases; invite them to the loyalty "
            "programme.",
        ),
        "new": (
            "New customers",
            "Onboarding: a welcome series explaining delivery, returns and the range.",
        ),
        "promising": (
            "Recent one-time buyers",
            "A small time-limited incentive for the second order.",
        ),
        "need_attention": (
            "Slipping regulars",
            "A personal recommendation or a limited offer before they drift away.",
        ),
        "about_to_sleep": (
            "About to lapse",
            "A reminder with popular products; ask why they have not returned.",
        ),
        "at_risk": (
            "Good customers drifting away",
            "Reactivation mailing with a personal offer.",
        ),
        "cant_lose": (
            "Best past customers, now gone quiet",
            "Reactivation mailing with a personal offer, or a call from the team.",
        ),
        "hibernating": (
            "Inactive one-time buyers",
            "Only low-cost reminders (e-mail); no expensive discounts.",
        ),
    }
)

DEFAULT_RECENCY_DAYS = (30, 90, 180, 365)
DEFAULT_FREQUENCY_ORDERS = (1, 2, 3, 5)
NOT_YET_CUSTOMER = "not_yet_customer"


def segment_label(segment: str) -> str:
    """The plain-words name of a segment in the report language (``champions`` → ``Best
    customers``); ``not_yet_customer`` → ``Not yet a customer``."""
    if segment == NOT_YET_CUSTOMER:
        return _("Not yet a customer")
    return _(SEGMENT_ACTIONS[segment][0]) if segment in SEGMENT_ACTIONS else segment


def _check_thresholds(recency_days: Sequence[int], frequency_orders: Sequence[int]) -> tuple:
    r = check_increasing("rfm recency_days", recency_days, "[30, 90, 180, 365]")
    f = check_increasing("rfm frequency_orders", frequency_orders, "[1, 2, 3, 5]")
    for name, values, example in (
        ("rfm recency_days", r, "[30, 90, 180, 365]"),
        ("rfm frequency_orders", f, "[1, 2, 3, 5]"),
    ):
        if len(values) != 4:
            raise ParamsError(
                f"{name} must have exactly 4 thresholds (for 5 scores), e.g. {example}. "
                f"Got {list(values)!r} instead."
            )
    return r, f


def rfm_scores(
    red: OrderReductions,
    period: ReportPeriod,
    recency_days: Sequence[int] = DEFAULT_RECENCY_DAYS,
    frequency_orders: Sequence[int] = DEFAULT_FREQUENCY_ORDERS,
) -> pd.DataFrame:
    """Score and segment every customer with a purchase up to ``period.as_of``.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``recency_days``, ``orders``, ``revenue``, ``r_score``, ``f_score``
        (1..5) and ``segment`` (categorical over :data:`SEGMENTS`).
    """
    r_edges, f_edges = _check_thresholds(recency_days, frequency_orders)
    state = customers_at(red, period)
    # whole days between the last purchase's day and the as-of day (0 = bought on as-of day)
    last_day = state["last_order_date"].to_numpy().astype("datetime64[D]")
    recency_days_ = (np.datetime64(period.as_of.date(), "D") - last_day).astype(np.int64)
    r_score = 5 - np.searchsorted(np.array(r_edges), recency_days_, side="left")
    orders = state["orders"].to_numpy()
    f_score = 1 + np.searchsorted(np.array(f_edges), orders, side="left")
    grid = np.array([[RFM_SEGMENT_MAP[(r, f)] for f in range(1, 6)] for r in range(1, 6)])
    seg_codes = {s: i for i, s in enumerate(SEGMENTS)}
    code_grid = np.vectorize(seg_codes.get)(grid)
    segment = pd.Categorical.from_codes(
        code_grid[r_score - 1, f_score - 1], categories=list(SEGMENTS)
    )
    return pd.DataFrame(
        {
            "customer_id": state["customer_id"].to_numpy(),
            "recency_days": recency_days_,
            "orders": orders,
            "revenue": state["revenue"].to_numpy(),
            "r_score": r_score.astype(np.int8),
            "f_score": f_score.astype(np.int8),
            "segment": segment,
        }
    )


def segment_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Size, revenue share and mean revenue per segment, with the recommended action.

    Returns
    -------
    pandas.DataFrame
        One row per segment in :data:`SEGMENTS` order: ``segment``, ``label``, ``customers``,
        ``customer_share``, ``revenue``, ``revenue_share``, ``revenue_per_customer``,
        ``action`` (label and action in the report language).
    """
    codes = scores["segment"].cat.codes.to_numpy()
    n = len(SEGMENTS)
    customers = np.bincount(codes, minlength=n)
    revenue = np.bincount(codes, weights=scores["revenue"].to_numpy(), minlength=n)
    total_c, total_r = customers.sum(), revenue.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame(
            {
                "segment": list(SEGMENTS),
                "label": [segment_label(s) for s in SEGMENTS],
                "customers": customers.astype(np.int64),
                "customer_share": customers / total_c if total_c else np.nan,
                "revenue": revenue,
                "revenue_share": revenue / total_r if total_r else np.nan,
                "revenue_per_customer": np.where(customers > 0, revenue / customers, np.nan),
                "action": [_(SEGMENT_ACTIONS[s][1]) for s in SEGMENTS],
            }
        )
    return out


def segment_migration(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Customers moving between segments from a previous as-of to the current one.

    Parameters
    ----------
    current, previous : pandas.DataFrame
        :func:`rfm_scores` at the two dates (same thresholds).

    Returns
    -------
    pandas.DataFrame
        Counts; rows = previous segment (plus ``not_yet_customer`` for customers whose first
        purchase came after the previous date), columns = current segment.
    """
    prev_codes = previous.set_index("customer_id")["segment"].cat.codes
    mapped = current["customer_id"].map(prev_codes)
    n = len(SEGMENTS)
    rows = mapped.fillna(n).to_numpy().astype(np.int64)
    cols = current["segment"].cat.codes.to_numpy()
    counts = np.bincount(rows * n + cols, minlength=(n + 1) * n).reshape(n + 1, n)
    return pd.DataFrame(
        counts,
        index=pd.Index([*SEGMENTS, NOT_YET_CUSTOMER], name="previous_segment"),
        columns=pd.Index(list(SEGMENTS), name="segment"),
    )


def rfm_finding(summary: pd.DataFrame, migration: pd.DataFrame | None = None) -> Finding:
    """Where the revenue sits and how many valuable customers are slipping away."""
    title = _("Customer segments")
    seg = summary.set_index("segment")
    total = seg["customers"].sum()
    if total == 0:
        return Finding(
            title, _("There are no customers to segment."), _("Check the order data."), "bad"
        )
    best = seg.loc[["champions", "loyal"]]
    risky = seg.loc[["at_risk", "cant_lose"]]
    fields = {
        "best_share": pct(best["customers"].sum() / total),
        "best_revenue": pct(best["revenue_share"].sum()),
        "risky": num(risky["customers"].sum()),
        "risky_revenue": pct(risky["revenue_share"].sum()),
    }
    if migration is not None:
        good = ["champions", "loyal", "potential_loyalists"]
        slipping = migration.loc[good, ["at_risk", "cant_lose", "about_to_sleep"]].to_numpy().sum()
        conclusion = n_(
            "Best and loyal customers are {best_share} of the base and bring {best_revenue} of "
            "revenue; {risky} good customers are drifting away ({risky_revenue} of revenue); "
            "{n:,} customer moved from a good segment to a risky one since last time.",
            "Best and loyal customers are {best_share} of the base and bring {best_revenue} of "
            "revenue; {risky} good customers are drifting away ({risky_revenue} of revenue); "
            "{n:,} customers moved from a good segment to a risky one since last time.",
            int(slipping),
            **fields,
        )
    else:
        conclusion = _(
            "Best and loyal customers are {best_share} of the base and bring {best_revenue} of "
            "revenue; {risky} good customers are drifting away ({risky_revenue} of revenue).",
            **fields,
        )
    level = "warning" if risky["revenue_share"].sum() > best["revenue_share"].sum() else "info"
    return Finding(
        title,
        conclusion,
        _(
            "Send the drifting-away customers a reactivation mailing with a personal offer; do "
            "not give discounts to the best customers — offer them early access instead."
        ),
        level,
    )
