"""A second store generator for the tests, written apart from ``custkit.data.demo``.

The reports were tuned on the demo store; a store the project did not tune to shows what only
holds there. This one differs on purpose: text customer ids (``C-00042``), the store's own
column names mapped in the params file (some in Russian), statuses in Russian and English,
euros with cents, other regions and channels, a free-shipping threshold that changes half way,
newsletters sent to everyone, feedback in Russian and English, and experiments with a known
truth (a real effect, an A/A test, staggered assignment). It does not import
``custkit.data.demo``.

The world (defaults: 1,500 customers over ``start`` .. ``end``, about 15 months)
    Customers register at a rate that grows over the history; 12% never buy. A buyer's first
    order comes 0–20 days after registering; repeat orders follow a Poisson process with a
    yearly rate λ ~ Gamma(shape 2, mean ``orders_per_year``), and after every order the customer
    stops buying for good with probability p ~ Beta(2, 6) (as in MBG/NBD).
Churn reasons (ground truth)
    A customer who stops buying before ``end`` leaves for one reason drawn from
    ``churn_reasons``; the evidence is planted on the last order: ``delivery`` late by 4–9 days,
    ``quality`` returned (with a low review), ``delivery_cost`` a shipping charge above the
    threshold, ``competitor_price`` a price-match coupon (10–20% off), ``support`` nothing on
    the order but an unanswered ticket, ``forgot`` nothing. The planted last order is never
    cancelled or returned by chance. Most leavers with a reason (70%, ``support`` 90%) write a
    ticket naming it a week later. ``GeneratedStore.truth_churn`` lists them; one more entry in
    :data:`PLANTERS` plants one more reason.
Complaints from customers who stay
    ``complaint_rate`` of the customers who never leave write a ticket about any reason but
    ``forgot`` (rating 1–2) a few days after one of their orders: a complaint is not by itself
    a sign of leaving.
Orders
    Amounts lognormal around 45 EUR with cents; shipping 4.90 below the free-shipping threshold
    (``free_shipping_from``, raised by 20 EUR half way), 0 above; 5% of orders cancelled, 3%
    returned (statuses ``Выполнен`` / ``completed``, ``Отменён`` / ``cancelled``, ``Возврат`` /
    ``returned``); ``late_rate`` (5–15%) of deliveries 1–3 days late (the base rate every
    store has); a ``WELCOME10`` coupon (10% off) on 15% of orders.
Experiments (``truth_experiments``)
    ``checkout_v2``: customers assigned A/B 50/50 at their first order in a two-month window
    (staggered); B buys at ``1 + effect`` times their rate for the 90 days after. ``banner_aa``:
    an A/A test (``control`` / ``variant``), no effect.
Messages
    A monthly e-mail newsletter to every registered customer, an SMS promotion to a third.

Shapes (:data:`SHAPES`) say which tables and optional columns a written store keeps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

#: The store's own column names: canonical name → name in the exported file (the rest keep theirs).
OWN_NAMES = {
    "orders": {
        "order_id": "Номер заказа",
        "customer_id": "client",
        "order_date": "created",
        "revenue": "total_eur",
        "status": "Статус",
        "delivery_region": "ship_to",
    },
    "customers": {
        "customer_id": "client",
        "registered_at": "signup",
        "email": "E-mail",
        "phone": "Телефон",
        "name": "ФИО",
        "birth_date": "birthday",
        "acquisition_channel": "source",
    },
    "feedback": {"customer_id": "client", "created_at": "date"},
    "messages": {"customer_id": "client", "sent_at": "sent"},
    "experiments": {"experiment_id": "test", "customer_id": "client", "assigned_at": "exposed"},
}

TABLES = ("orders", "customers", "feedback", "messages", "experiments")
REQUIRED = {
    "orders": ("order_id", "customer_id", "order_date", "revenue"),
    "customers": ("customer_id",),
    "feedback": ("customer_id", "created_at"),
    "messages": ("customer_id", "sent_at"),
    "experiments": ("experiment_id", "customer_id", "variant", "assigned_at"),
}


@dataclass(frozen=True)
class StoreShape:
    """Which tables a written store has, and which optional columns they lose.

    ``keep_orders`` lists the optional order columns kept (``None``: all); ``drop`` names, per
    table, the optional columns left out.
    """

    name: str
    tables: tuple[str, ...]
    keep_orders: tuple[str, ...] | None = None
    drop: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


_NO_PERSONAL_EXTRAS = {"customers": ("birth_date", "consent_email", "consent_sms")}

#: The store-shape matrix of issue 13: from orders alone to every table.
SHAPES = {
    "orders_only": StoreShape("orders_only", ("orders",), keep_orders=()),
    "customers_no_birthdays_consents_cost": StoreShape(
        "customers_no_birthdays_consents_cost",
        ("orders", "customers"),
        drop={**_NO_PERSONAL_EXTRAS, "orders": ("cost",)},
    ),
    "with_feedback": StoreShape(
        "with_feedback",
        ("orders", "customers", "feedback"),
        drop={**_NO_PERSONAL_EXTRAS, "orders": ("cost",)},
    ),
    "with_messages": StoreShape(
        "with_messages",
        ("orders", "customers", "feedback", "messages"),
        drop={**_NO_PERSONAL_EXTRAS, "orders": ("cost",)},
    ),
    "full": StoreShape("full", TABLES),
}


@dataclass(frozen=True)
class StoreSpec:
    """The parameters of a generated store."""

    customers: int = 1500
    start: str = "2025-01-01"
    end: str = "2026-03-20"
    seed: int = 0
    orders_per_year: float = 3.0
    free_shipping_from: float = 40.0
    late_rate: float = 0.07
    complaint_rate: float = 0.1
    effect: float = 0.6
    churn_reasons: Mapping[str, float] = field(
        default_factory=lambda: {
            "forgot": 0.4,
            "delivery": 0.2,
            "quality": 0.2,
            "delivery_cost": 0.2,
        }
    )

    def __post_init__(self):
        if not 0.05 <= self.late_rate <= 0.15:
            raise ValueError(f"late_rate must be in [0.05, 0.15]. Got {self.late_rate!r} instead.")
        unknown = set(self.churn_reasons) - set(PLANTERS)
        if unknown:
            raise ValueError(
                f"churn_reasons must be among {sorted(PLANTERS)}. Got {sorted(unknown)} instead."
            )


#: Every reason the generator can plant, in equal shares but ``forgot`` (issue 14's test store).
ALL_REASONS = {
    "forgot": 0.25,
    "delivery": 0.125,
    "quality": 0.125,
    "delivery_cost": 0.125,
    "competitor_price": 0.125,
    "support": 0.125,
}


@dataclass
class GeneratedStore:
    """The canonical tables (canonical column names) and what was planted in them."""

    spec: StoreSpec
    tables: dict[str, pd.DataFrame]
    truth_churn: pd.DataFrame
    truth_experiments: pd.DataFrame

    def personal_values(self) -> list[str]:
        """Every e-mail, phone and name of the store: none may appear in a report page."""
        c = self.tables["customers"]
        values = pd.concat([c["email"], c["phone"], c["name"]]).dropna().astype(str)
        return sorted(set(values[values.str.len() >= 6]))


_FIRST = ["Анна", "Иван", "Ольга", "Пётр", "Maria", "Lukas", "Sofia", "Jonas", "Елена", "Emma"]
_LAST = ["Кузнецова", "Орлов", "Weber", "Schmidt", "Волкова", "Fischer", "Lebedev", "Novak"]
_REGIONS = {"Bavaria": ["Munich", "Nuremberg"], "Berlin": ["Berlin"], "Saxony": ["Leipzig"],
            "Hesse": ["Frankfurt", "Kassel"], "Hamburg": ["Hamburg"]}  # fmt: skip
_CHANNELS = ["search", "newsletter_signup", "influencer", "friends", "marketplace"]
_STATUS = {  # (Russian, English) spelling of each status
    "done": ("Выполнен", "completed"),
    "cancelled": ("Отменён", "cancelled"),
    "returned": ("Возврат", "returned"),
}
_TEXTS = {  # reason → (Russian, English) feedback texts
    "delivery": ("Курьер опоздал на неделю", "The parcel arrived a week late"),
    "quality": ("Товар сломался через два дня", "The product broke after two days, poor quality"),
    "delivery_cost": ("Доставка стоит слишком дорого", "Shipping is far too expensive"),
    "competitor_price": ("В другом магазине дешевле", "Found it cheaper in another shop"),
    "support": ("Поддержка так и не ответила", "Support never answered my emails"),
    "forgot": ("Просто забыл про магазин", "I simply forgot about you"),
}


def generate_store(spec: StoreSpec | None = None) -> GeneratedStore:
    """Generate every table of a store (canonical column names, canonical types)."""
    spec = spec or StoreSpec()
    rng = np.random.default_rng(spec.seed)
    start, end = pd.Timestamp(spec.start), pd.Timestamp(spec.end)
    days = (end - start).days
    people = _customers(rng, spec, start, days)
    orders, last_order = _orders(rng, spec, people, start, end)
    experiments, truth_experiments, extra = _experiments(rng, spec, people, orders, end)
    orders = pd.concat([orders, extra], ignore_index=True)
    orders, truth_churn = _plant_churn(rng, spec, orders, last_order)
    orders = _finish_orders(rng, spec, orders, start, days)
    tables = {
        "orders": orders,
        "customers": people.loc[:, ~people.columns.str.startswith("_")],
        "feedback": _feedback(rng, spec, orders, truth_churn),
        "messages": _messages(rng, people, start, end),
        "experiments": experiments,
    }
    return GeneratedStore(spec, tables, truth_churn, truth_experiments)


def write_store(
    store: GeneratedStore,
    folder: str | Path,
    shape: StoreShape | str = "full",
    language: str = "en",
) -> Path:
    """Write the tables of *shape* as CSV with the store's own column names, and a params YAML.

    Returns the path of the params file.
    """
    shape = SHAPES[shape] if isinstance(shape, str) else shape
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sources = {}
    for table in shape.tables:
        frame = store.tables[table]
        keep = list(frame.columns)
        if table == "orders" and shape.keep_orders is not None:
            keep = [c for c in keep if c in REQUIRED["orders"] or c in shape.keep_orders]
        keep = [c for c in keep if c not in shape.drop.get(table, ())]
        own = {c: n for c, n in OWN_NAMES[table].items() if c in keep}
        frame[keep].rename(columns=own).to_csv(folder / f"{table}.csv", index=False)
        sources[table] = {"path": f"{table}.csv", "columns": own}
    params = {
        "language": language,
        "store": {"name": "Kiez & Co", "currency": "EUR", "opened": store.spec.start},
        "sources": sources,
    }
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# --- the tables ----------------------------------------------------------------------------------


def _customers(rng, spec: StoreSpec, start: pd.Timestamp, days: int) -> pd.DataFrame:
    n = spec.customers
    registered = np.sort(days * np.sqrt(rng.random(n)))  # arrivals grow over the history
    first = rng.integers(0, len(_FIRST), n)
    last = rng.integers(0, len(_LAST), n)
    names = pd.Series(np.array(_FIRST)[first]) + " " + pd.Series(np.array(_LAST)[last])
    ids = pd.Series([f"C-{i:05d}" for i in range(1, n + 1)])
    region_names = list(_REGIONS)
    region = np.array(region_names)[rng.integers(0, len(region_names), n)]
    city = [
        _REGIONS[r][k % len(_REGIONS[r])]
        for r, k in zip(region, rng.integers(0, 2, n), strict=True)
    ]
    phone_digits = rng.integers(10**9, 10**10, n)
    birth = pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 365 * 55, n), unit="D")
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "registered_at": start + pd.to_timedelta(registered * 86400, unit="s").round("s"),
            "email": ids.str.lower().str.replace("-", ".") + "@kiez-mail.example",
            "phone": ["+49" + str(d) for d in phone_digits],
            "name": names,
            "birth_date": pd.Series(birth).where(rng.random(n) > 0.25),
            "gender": np.where(rng.random(n) < 0.55, "f", "m"),
            "region": region,
            "city": city,
            "acquisition_channel": np.array(_CHANNELS)[rng.integers(0, len(_CHANNELS), n)],
            "referrer_id": None,
            "consent_email": rng.random(n) < 0.65,
            "consent_sms": rng.random(n) < 0.35,
        }
    )
    friends = (frame["acquisition_channel"] == "friends").to_numpy() & (np.arange(n) > 10)
    frame.loc[friends, "referrer_id"] = ids[
        (rng.random(friends.sum()) * np.arange(n)[friends]).astype(int)
    ].to_numpy()
    frame["_buys"] = rng.random(n) >= 0.12
    frame["_rate"] = rng.gamma(2.0, spec.orders_per_year / 2.0, n) / 365.0  # per day
    frame["_dropout"] = rng.beta(2.0, 6.0, n)
    frame["_days"] = registered
    return frame


def _orders(rng, spec: StoreSpec, people: pd.DataFrame, start, end):
    """Order times by the MBG/NBD process, vectorized over a customers × orders grid."""
    buyers = people.loc[people["_buys"]]
    n, k = len(buyers), 60
    first = buyers["_days"].to_numpy() + rng.uniform(0, 20, n)
    gaps = rng.exponential(1.0, (n, k)) / buyers["_rate"].to_numpy()[:, None]
    gaps[:, 0] = 0.0
    times = first[:, None] + np.cumsum(gaps, axis=1)
    # the order after which the customer stops: geometric in the dropout probability
    stops = rng.geometric(buyers["_dropout"].to_numpy())
    horizon = (end - start).days
    valid = (np.arange(k)[None, :] < stops[:, None]) & (times < horizon)
    rows, cols = np.nonzero(valid)
    order_days = times[rows, cols]
    who = buyers["customer_id"].to_numpy()[rows]
    orders = pd.DataFrame(
        {"customer_id": who, "order_date": start + pd.to_timedelta(order_days * 86400, unit="s")}
    )
    # who left inside the history, and when: their last order, when they stopped before the end
    left = stops < k
    n_orders = valid.sum(axis=1)
    last_day = np.where(n_orders > 0, times[np.arange(n), np.maximum(n_orders - 1, 0)], np.nan)
    stopped = left & (n_orders == stops) & (n_orders > 0)
    last_order = pd.DataFrame(
        {"customer_id": buyers["customer_id"].to_numpy()[stopped], "last_day": last_day[stopped]}
    )
    return orders, last_order


def _experiments(rng, spec: StoreSpec, people, orders, end):
    """Two tests over customers whose first order falls in a two-month window (staggered)."""
    window_from = end - pd.Timedelta(days=300)
    window_to = window_from + pd.Timedelta(days=60)
    firsts = orders.groupby("customer_id")["order_date"].min()
    exposed = firsts[(firsts >= window_from) & (firsts < window_to)]
    n = len(exposed)
    frames, truth, extra = [], [], []
    for test, variants, effect in (
        ("checkout_v2", ("A", "B"), spec.effect),
        ("banner_aa", ("control", "variant"), 0.0),
    ):
        arm = rng.integers(0, 2, n)
        frames.append(
            pd.DataFrame(
                {
                    "experiment_id": test,
                    "customer_id": exposed.index.to_numpy(),
                    "variant": np.array(variants)[arm],
                    "assigned_at": exposed.to_numpy(),
                }
            )
        )
        truth.append(
            {
                "experiment_id": test,
                "control": variants[0],
                "treatment": variants[1],
                "effect": effect,
            }
        )
        if effect > 0:  # B buys at (1 + effect) x their rate for 90 days: extra Poisson orders
            treated = exposed[arm == 1]
            rate = people.set_index("customer_id").loc[treated.index, "_rate"].to_numpy()
            counts = rng.poisson(effect * rate * 90)
            who = np.repeat(treated.index.to_numpy(), counts)
            when = np.repeat(treated.to_numpy(), counts) + pd.to_timedelta(
                rng.uniform(1, 90, counts.sum()) * 86400, unit="s"
            )
            extra.append(pd.DataFrame({"customer_id": who, "order_date": when}))
    extra_orders = pd.concat(extra, ignore_index=True) if extra else orders.iloc[:0]
    extra_orders = extra_orders.loc[extra_orders["order_date"] < end]
    return pd.concat(frames, ignore_index=True), pd.DataFrame(truth), extra_orders


def _plant_reason_delivery(rng, orders, rows):
    orders.loc[rows, "_late_days"] = rng.integers(4, 10, len(rows))


def _plant_reason_quality(rng, orders, rows):
    orders.loc[rows, "_status"] = "returned"


def _plant_reason_delivery_cost(rng, orders, rows):
    orders.loc[rows, "_surcharge"] = rng.uniform(6.0, 12.0, len(rows)).round(2)


def _plant_reason_competitor_price(rng, orders, rows):
    orders.loc[rows, "_coupon"] = rng.uniform(0.1, 0.2, len(rows)).round(2)


#: How each churn reason leaves its evidence on the leaver's last order (``forgot`` and
#: ``support``: none; ``support`` leavers write a ticket, see :func:`_feedback`).
PLANTERS = {
    "delivery": _plant_reason_delivery,
    "quality": _plant_reason_quality,
    "delivery_cost": _plant_reason_delivery_cost,
    "competitor_price": _plant_reason_competitor_price,
    "support": lambda rng, orders, rows: None,
    "forgot": lambda rng, orders, rows: None,
}
#: Share of the leavers with each reason who write a ticket naming it (the rest: 70%).
_TICKET_RATE = {"support": 0.95, "competitor_price": 0.95, "forgot": 0.0}


def _plant_churn(rng, spec: StoreSpec, orders, last_order):
    orders = orders.sort_values(["order_date", "customer_id"], kind="stable").reset_index(drop=True)
    orders["_status"], orders["_late_days"], orders["_surcharge"] = "done", 0, 0.0
    orders["_coupon"], orders["_planted"] = 0.0, False
    last_row = orders.reset_index().groupby("customer_id")["index"].max()
    leavers = last_order["customer_id"].to_numpy()
    codes = list(spec.churn_reasons)
    shares = np.array(list(spec.churn_reasons.values()), dtype=float)
    reason = np.array(codes)[rng.choice(len(codes), len(leavers), p=shares / shares.sum())]
    rows = last_row.loc[leavers].to_numpy()
    orders.loc[rows, "_planted"] = True
    for code in codes:
        PLANTERS[code](rng, orders, rows[reason == code])
    truth = pd.DataFrame(
        {
            "customer_id": leavers,
            "dropout_at": orders.loc[rows, "order_date"].to_numpy(),
            "reason": reason,
        }
    )
    return orders, truth


def _finish_orders(rng, spec: StoreSpec, orders, start, days) -> pd.DataFrame:
    n = len(orders)
    orders = orders.copy()
    goods = np.round(rng.lognormal(np.log(45.0), 0.55, n), 2)
    half_way = start + pd.Timedelta(days=days // 2)
    threshold = np.where(
        orders["order_date"] < half_way, spec.free_shipping_from, spec.free_shipping_from + 20
    )
    shipping = np.where(goods >= threshold, 0.0, 4.90) + orders["_surcharge"].to_numpy()
    status = orders["_status"].to_numpy().copy()
    draw = rng.random(n)
    base = (status == "done") & ~orders["_planted"].to_numpy()  # a leaver's last order keeps
    # its planted evidence: a chance cancellation would hide a late delivery
    status[base & (draw < 0.05)] = "cancelled"
    status[base & (draw >= 0.05) & (draw < 0.08)] = "returned"
    russian = rng.random(n) < 0.5
    spelled = np.where(
        russian,
        pd.Series(status).map({k: v[0] for k, v in _STATUS.items()}),
        pd.Series(status).map({k: v[1] for k, v in _STATUS.items()}),
    )
    welcome = rng.random(n) < 0.15
    planted_coupon = orders["_coupon"].to_numpy()
    discount = np.round(goods * np.where(planted_coupon > 0, planted_coupon, 0.1 * welcome), 2)
    promised = orders["order_date"].dt.normalize() + pd.to_timedelta(
        rng.integers(2, 5, n), unit="D"
    )
    late = np.where(rng.random(n) < spec.late_rate, rng.integers(1, 4, n), 0)
    late = np.maximum(late, orders["_late_days"].to_numpy())
    delivered = (
        promised
        + pd.to_timedelta(late, unit="D")
        + pd.to_timedelta(rng.integers(8, 20, n), unit="h")
    )
    delivered = delivered.where(status != "cancelled")
    region = np.array(list(_REGIONS))[rng.integers(0, len(_REGIONS), n)]
    finished = pd.DataFrame(
        {
            "order_id": np.arange(1001, 1001 + n),
            "customer_id": orders["customer_id"].to_numpy(),
            "order_date": orders["order_date"].dt.floor("s"),
            "revenue": np.round(goods - discount + shipping, 2),
            "status": spelled,
            "items": rng.integers(1, 6, n),
            "discount": discount,
            "coupon": np.where(
                planted_coupon > 0, "PRICEMATCH", np.where(discount > 0, "WELCOME10", None)
            ),
            "shipping_cost": np.round(shipping, 2),
            "cost": np.round(goods * rng.uniform(0.5, 0.7, n), 2),
            "channel": np.where(rng.random(n) < 0.6, "web", "app"),
            "delivery_region": region,
            "promised_delivery_date": promised,
            "delivered_at": delivered.dt.floor("s"),
        }
    )
    return finished


def _feedback(rng, spec: StoreSpec, orders: pd.DataFrame, truth_churn: pd.DataFrame):
    """Reviews on 5% of orders, tickets from most leavers with a reason and complaints from some
    customers who stay; Russian or English."""
    reviews = orders.sample(frac=0.05, random_state=int(rng.integers(1 << 31)))
    reasons = np.array(list(_TEXTS))[rng.integers(0, len(_TEXTS), len(reviews))]
    good = rng.random(len(reviews)) < 0.6
    rate = truth_churn["reason"].map(_TICKET_RATE).fillna(0.7).to_numpy()
    leavers = truth_churn.loc[rng.random(len(truth_churn)) < rate]
    stay = ~orders["customer_id"].isin(truth_churn["customer_id"]).to_numpy()
    stayers = pd.unique(orders["customer_id"].to_numpy()[stay])
    complainers = stayers[rng.random(len(stayers)) < spec.complaint_rate]
    about = orders.loc[orders["customer_id"].isin(complainers)].sample(
        frac=1.0, random_state=int(rng.integers(1 << 31))
    )
    about = about.drop_duplicates("customer_id")  # one random order of each complainer
    troubles = [r for r in _TEXTS if r != "forgot"]
    texts = pd.concat(
        [
            pd.DataFrame(
                {
                    "customer_id": reviews["customer_id"].to_numpy(),
                    "created_at": reviews["order_date"].to_numpy() + pd.Timedelta(days=5),
                    "kind": "review",
                    "rating": np.where(
                        good, rng.integers(4, 6, len(reviews)), rng.integers(1, 3, len(reviews))
                    ).astype(float),
                    "reason": np.where(good, None, reasons),
                }
            ),
            pd.DataFrame(
                {
                    "customer_id": leavers["customer_id"].to_numpy(),
                    "created_at": leavers["dropout_at"].to_numpy() + pd.Timedelta(days=7),
                    "kind": "ticket",
                    "rating": np.nan,
                    "reason": leavers["reason"].to_numpy(),
                }
            ),
            pd.DataFrame(
                {
                    "customer_id": about["customer_id"].to_numpy(),
                    "created_at": about["order_date"].to_numpy()
                    + pd.to_timedelta(rng.integers(1, 10, len(about)), unit="D"),
                    "kind": "ticket",
                    "rating": rng.integers(1, 3, len(about)).astype(float),
                    "reason": np.array(troubles)[rng.integers(0, len(troubles), len(about))],
                }
            ),
        ],
        ignore_index=True,
    )
    russian = rng.random(len(texts)) < 0.5
    said = texts["reason"].map(
        lambda r: _TEXTS[r] if isinstance(r, str) else ("Всё отлично", "All good, thanks")
    )
    texts["text"] = [pair[0] if ru else pair[1] for pair, ru in zip(said, russian, strict=True)]
    texts["created_at"] = pd.to_datetime(texts["created_at"]).dt.floor("s")
    return texts[["customer_id", "created_at", "kind", "rating", "text", "reason"]]


_CAMPAIGN = {"email": "newsletter", "sms": "sms-promo"}


def _messages(rng, people: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """A newsletter to everyone registered, each month; an SMS promotion to a third of them."""
    sends = pd.date_range(start + pd.Timedelta(days=9), end, freq="MS") + pd.Timedelta(hours=10)
    registered = people["registered_at"].to_numpy()
    frames = []
    for sent in sends:
        ids = people["customer_id"].to_numpy()[registered < sent.to_datetime64()]
        sms = ids[rng.random(len(ids)) < 0.33]
        for channel, who in (("email", ids), ("sms", sms)):
            opened = rng.random(len(who)) < (0.3 if channel == "email" else 0.9)
            clicked = opened & (rng.random(len(who)) < 0.15)
            frames.append(
                pd.DataFrame(
                    {
                        "customer_id": who,
                        "sent_at": sent
                        + pd.to_timedelta(rng.integers(0, 3600, len(who)), unit="s"),
                        "channel": channel,
                        "campaign": f"{_CAMPAIGN[channel]}-{sent:%Y-%m}",
                        "opened": opened,
                        "clicked": clicked,
                        "converted": clicked & (rng.random(len(who)) < 0.2),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)
