"""A seeded demo online store, in the canonical tables of :mod:`custkit.contract`.

``generate_demo_store`` builds orders, customers, feedback, messages and split-test assignments
for a made-up Russian online store, so that every report section has something to show without
real data; ``write_demo_store`` writes them as CSV or Parquet beside a ready ``params.yaml``.
Everything is vectorized with numpy (no Python loop over customers or orders): one million
customers and about ten million orders take about a minute and under 4 GiB. We wrote our own
rather than use a faker library because the numbers must follow a known purchase model that the
LTV, churn and split-test reports can be checked against.

The store, with the numbers (defaults: 20,000 customers, two years of history up to ``end``)
------------------------------------------------------------------------------------------------
Acquisition
    The store opens on the first day of the history (``end`` minus ``years``). New customers
    arrive at a rate that triples every year, times a month factor peaking in November (x1.5)
    and December (x1.6). About 10% register and never buy.
Channels
    Early customers come from ``organic`` (45%), ``referral`` (25%), ``partners`` (14%),
    ``social`` (8%), ``context_ads`` (5%), ``coupons`` (2%), ``cold_calls`` (1%). Half way through
    the history the store launches paid acquisition and the mix moves to ``coupons`` (35%),
    ``context_ads`` (24%), ``social`` (15%), ``organic`` (10%), ``referral`` (7%),
    ``partners`` (5%), ``cold_calls`` (4%). Paid-channel customers mostly buy once (mean dropout
    after a purchase: coupons 75%, cold calls 70%, context ads 50%, social 30%) while organic,
    referral and partner customers stay (2–5%). First orders differ by channel (coupons x0.85,
    cold calls x1.2, partners x1.1 …). Referral customers have a ``referrer_id`` pointing at an
    earlier customer.
Purchases (BG/NBD)
    A buyer's first order is at acquisition. Repeat orders arrive as a Poisson process with a
    yearly rate λ ~ Gamma(shape 6, mean 3) times a channel factor; after every order, the
    first included (as in MBG/NBD; plain BG/NBD spares the first), the customer drops out for
    good with probability p ~ Beta(mean by channel, concentration 20). That first chance to
    leave is what makes most paid-channel customers one-time buyers. With the defaults ~53% of
    buyers buy once and the base loses ~23% of its buyers a year (buyers of the year before
    last who did not buy last year); ~2.4 orders per buyer, ~2.2 per customer (win-back
    comebacks and the ``exp_month2`` effect below included).
    ``orders_per_customer`` scales every λ so that the expected number of orders per customer
    (never-buyers included) matches it: ``orders_per_customer=10`` gives the benchmark shape of
    ~10 million orders for a million customers (max ~250 orders, 99th percentile ~92), with
    fewer one-time buyers (~37%) and a higher yearly loss (~37%, more orders mean more chances
    to drop out): a dropout model cannot keep both many one-timers and ten orders a head.
What no BTYD model assumes (``purchases="realistic"``, the default)
    The realistic store is *not* a BG/NBD, MBG/NBD or Pareto/NBD population, on purpose: the
    channel mix switches half way, and dropout depends on the channel, so the chance of
    leaving is tied to the acquisition date (customers of the second year leave far more),
    while every BTYD model assumes one population whose λ and p do not depend on when a
    customer arrived. Win-back comebacks and the ``exp_month2`` extra orders are purchases
    outside any of these models too. Fitted on the first 18 months, the models over-predict
    the last six by about 20% on 20,000 customers even without a penalty (measured 2026-12:
    BG/NBD +20%, MBG/NBD +20%, Pareto/NBD +20%): the customers they learn the rates from
    (early, loyal) are not those who make up most of the base at the end.
Model-consistent mode (``purchases="bgnbd"``)
    The BG/NBD process itself: λ ~ Gamma(r 1.5, rate 0.6 per year), p ~ Beta(1, 4)
    (:data:`BGNBD_PARAMS`) for every customer, a chance to leave after each repeat purchase
    only, the early channel mix throughout (channels have no effect on purchases), no
    comebacks and no ``exp_month2`` effect; everything else (orders, feedback, messages, the
    churn reasons of those who leave) as above. On it the LTV report's models track the
    six-month holdout within ±5% (20,000 customers, seeds 1–3: BG/NBD +0.6%, -3.3%, +1.5%);
    the tests use it to check the LTV report end to end. Cancelled and returned orders (8%)
    thin the purchases the models see, and duplicate people split theirs over two records, so
    a BG/NBD fit recovers the parameters only roughly (lifetimes on 20,000 customers: r 1.28,
    alpha 0.59, a 1.05, b 4.39).
Churn reasons (ground truth)
    Every buyer who drops out for good inside the history (~49% of buyers with the defaults,
    two thirds of them after their only order; ~73% with ``orders_per_customer=10``) leaves for
    one reason, drawn once: ``forgot`` 35%, ``delivery_cost`` 12%, ``competitor_price`` 12%,
    ``quality`` 12%, ``delivery`` 12%, ``support`` 9%, ``moved_out_of_delivery_area`` 8%. The
    dropout moment is their last order; its evidence is planted on that order (and for some
    reasons the order before it) and in feedback written 1–12 days after it. The last order
    shows its own reason's trouble only: it is never late, returned, cancelled or surcharged
    for another reason (base-rate trouble stays on all other orders, everyone's):

    ``delivery``
        last order late 95%, the one before 50%, by 3–10 days (base-rate lateness: 1–5 days);
        a late-delivery ticket 45%, a review rated 1–2 about it 40%.
    ``delivery_cost``
        last order 90%, the one before 50%: a small basket (goods 600–2,700 RUB, below free
        delivery) with a 150–300 RUB surcharge on the regional price — shipping rises clearly
        against earlier orders; a ticket about the price of delivery 25%, a review rated 2–3
        15%. (3% of all other paid deliveries carry the same surcharge.)
    ``competitor_price``
        a coupon on the last order 80% and on the one before 60%; a price ticket ("Нашёл
        дешевле…", "Found it cheaper elsewhere…") 45%, a review rated 2–3 about prices 40%.
    ``quality``
        last order returned 70%; a quality ticket 35%, a review rated 1–2 about quality 55%.
    ``support``
        an angry or unresolved support ticket 85%, a review rated 1–2 about support 45%.
    ``moved_out_of_delivery_area``
        moves to a region the store does not serve (Vladivostok 40%, Khabarovsk 30%, Irkutsk
        30%; :data:`SERVED_REGIONS` are the eight others): 85% updated the profile, so
        ``customers.region`` / ``city`` are the new ones; 40% placed their last order to the
        new region and the store cancelled it (no delivery there, no shipping charged).
    ``forgot``
        no sign at all; the customer got no newsletter or SMS promotion from 120 days before
        the last order on (only win-back messages reach them).

    With these rates, among leavers gone for at least 180 days at ``end`` (50,000 customers):
    a late delivery among the last two orders 95% of ``delivery`` leavers vs 4% of other
    leavers and 21% of customers who did not leave; a surcharge on the last two orders 90% vs
    0% and 2%; a coupon on the last two orders or a price text 97% vs 45% and 21% (coupons are
    common: the text matters); a returned last order or a quality text 91% vs 0% and 3%; a
    support text 90% vs 0% and 0%; an unserved home or last delivery region 91% vs 0% and 0%;
    no regular message from 90 days before to 180 days after the last order 100% of
    ``forgot`` leavers vs 31% of other leavers and 43% of other customers. The result's
    ``truth_churn`` frame lists each leaver: ``customer_id`` (the record of the last order),
    ``dropout_at`` (that order's time), ``reason`` and ``won_back_at`` (see win-backs; NaT if
    not). It is for tests only; ``write_demo_store`` writes it beside the tables as
    ``truth_churn.csv`` / ``.parquet``, and no params entry points at it.
Orders
    Value: customer-level lognormal spend (median 2,800 RUB, σ 0.5) with order-level noise
    (σ 0.35). ``discount``: coupon codes (coupon-acquired customers use them far more) and a 5%
    loyalty discount on 8% of other orders; ``revenue`` is paid after discount. ``cost`` is
    55–75% of revenue. ``shipping_cost`` is 0 from 3,000 RUB of goods, else 199–499 by region
    plus 0–100, and a 150–300 surcharge on 3% of them (and on planted ``delivery_cost`` orders).
    ``status``: completed 92%, cancelled 5%, returned 3% before planting (after: ~91%, ~5%,
    ~4%). ``channel``: web / app / phone, each customer mostly sticks to one.
    ``delivery_region`` is the customer's region, except that 3% of customers move once
    between served regions (and keep buying) and later orders go to the new region. Delivery
    is promised 1–5 days out by region; 15% arrive 1–5 days late; cancelled and
    still-travelling orders have no ``delivered_at``.
Customers
    Ids from 100001 in order of registration; ``registered_at`` is at or before the first order.
    Regions (Moscow 34%, Saint Petersburg 17%, Krasnodar 10%, Yekaterinburg 9%, Novosibirsk 8%,
    Kazan 8%, Nizhny Novgorod 7%, Samara 7%), each with a main and a smaller city; 5% miss
    region and city. ``region`` is the home region at ``end``: movers out of the delivery area
    who updated their profile show the unserved region (~3% of customers). Names are Russian
    (75%) or English; e-mails and phones are well-formed
    ("+7 (912) 345-67-89", "89123456789", "+79123456789"), 4% miss the e-mail, 6% the phone, 1%
    have an invalid e-mail ("ivan@@mail", "no-email"). 30% miss ``birth_date``. E-mail consent
    70%, SMS consent 40%. About 1.5% of people have a second customer record (e-mail differing
    only by case or spaces, or the same phone written another way); some of them ordered under
    the second record.
Feedback
    Reviews on ~3% of orders (ratings lower after late deliveries and returns), tickets on 8%
    of late, returned and cancelled orders, the leavers' tickets and reviews above, and
    surveys: 12% of customers silent for over 120 days answer 90–150 days after their last
    order. Leavers name their own reason (80%) or a random one; customers who have not left
    answer forgot 35%, delivery_cost 20%, competitor_price 20%, quality 10%, delivery 10%,
    support 5%. Texts are short, in Russian or English, several wordings per reason; some
    forgot answers are empty. ``reason`` labels every ticket and survey and the reviews rated
    1–2 whose cause is known.
Messages
    Monthly e-mail newsletters (to ~30% of consenting customers each month) and SMS promotions
    (~12%), and win-back messages: about 2.2 messages per customer. E-mails are opened 25% (a
    win-back 30%), SMS 90%; 20% / 5% of those opened are clicked (win-back: 15% / 5%; a leaver
    who comes back opened it 85% and clicked 70%). ``converted`` means the customer ordered
    within seven days of a click.
Win-back campaigns
    On the 15th at 10:00, five months after opening and then every 2 and 3 months in turn
    (``winback_2025_04``, ``winback_2025_06``, ``winback_2025_09`` … with the defaults; the last
    one at least 60 days before ``end``), customers whose last order is 90–179 days old and
    who consented are targeted: 20% at random are held out, the others get an e-mail (SMS
    when only SMS is allowed). Each campaign is an experiment (``experiment_id`` = campaign,
    variants ``contact`` / ``holdout``, ``assigned_at`` = send time). A leaver already gone at
    the send comes back with one order within 60 days (a calendar-day window from the send day)
    at their reason's rate when contacted — forgot 35%, delivery_cost 25%, competitor_price
    25%, delivery 15%, support 15%, quality 12%, moved 0% — and at 6% in the holdout (movers
    0%); each leaver comes back at most once, after that they are gone again (~9% of leavers
    come back). Customers who have not left buy on their own in both groups. Measured on
    50,000 customers: leavers already gone return within 60 days at ~21% contacted vs ~5%
    held out; all targeted customers at ~31% vs ~24%.
Experiments
    ``exp_month2`` (A/B, customers first seen 8–5 months before ``end``), ``exp_aa`` (A/A, 6–3
    months before), ``exp_srm`` (planned 50/50 but assigned 53/47: a sample-ratio mismatch, 4–1
    months before), and one experiment per win-back campaign. Experiments are assigned from the
    purchase history before the orders table is built, so an effect can be planted by adding
    purchase times to the history for one variant. ``exp_month2`` has one: 20% of B customers
    who have not dropped out by then get one extra order 31–90 days after assignment, none
    earlier. The share of customers ordering in days 31–90 rises from ~30% (A) to ~37% (B,
    +23%) and orders per customer by ~30%; by 30 days the variants look the same (orders per
    customer +2%, noise), by 60 days B leads by ~+17% and by 90 days by ~+21% (50,000
    customers). ``exp_aa`` and ``exp_srm`` have no effect.
Dirty rows (``dirty=True``)
    About 0.3% of order rows, at least three of each kind, are ones a loader must reject:
    unparseable ``order_date`` ("31.02.2025", "yesterday"), unparseable ``revenue`` ("abc", ""),
    empty ``customer_id``, exact duplicate rows, a second row with the same ``order_id`` and
    another amount, a date in 2031 and a date before the store opened (1999-05-01); customers get
    a few exact duplicate rows. ``order_date`` and ``revenue`` are then text columns.
    ``dirty=False`` gives typed columns and none of these rows (messy but valid data — missing
    regions, invalid e-mails, duplicate people — is there either way).

Each table draws from its own random stream, and so do the churn reasons, the ``exp_month2``
effect and the win-back campaigns (streams spawned after the first seven, which therefore keep
their values), so changing one table's code leaves the others identical for the same seed.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import yaml

from custkit.contract import TABLES
from custkit.errors import ParamsError

__all__ = [
    "BGNBD_PARAMS",
    "PURCHASE_PROCESSES",
    "SERVED_REGIONS",
    "TRUTH_CHURN",
    "generate_demo_store",
    "write_demo_store",
]

#: key of the planted churn reasons in :func:`generate_demo_store`'s result (tests only)
TRUTH_CHURN = "truth_churn"

_DAYS_PER_YEAR = 365.25
_SECONDS_PER_DAY = 86_400
_FIRST_CUSTOMER_ID = 100_001
_FIRST_ORDER_ID = 5_000_001
_NEVER_BOUGHT_SHARE = 0.10

# --- acquisition --------------------------------------------------------------------------------
_GROWTH_PER_YEAR = 3.0
#: acquisition-rate factor by calendar month (January first)
_MONTH_FACTOR = np.array([0.9, 0.85, 0.95, 0.95, 0.9, 0.85, 0.85, 0.9, 1.0, 1.05, 1.5, 1.6])
#: width of the switch from the early to the late channel mix, as a share of the history
_MIX_SWITCH_WIDTH = 0.05


@dataclass(frozen=True)
class _Channel:
    name: str
    early_share: float
    late_share: float
    dropout_mean: float  # mean of p, the chance of leaving after each order
    rate_factor: float  # multiplies the yearly purchase rate λ
    first_order_factor: float  # multiplies the value of the first order


_CHANNELS = (
    _Channel("organic", 0.45, 0.10, 0.03, 1.2, 1.00),
    _Channel("referral", 0.25, 0.07, 0.02, 1.3, 1.00),
    _Channel("partners", 0.14, 0.05, 0.05, 1.0, 1.10),
    _Channel("social", 0.08, 0.15, 0.30, 0.9, 0.90),
    _Channel("context_ads", 0.05, 0.24, 0.50, 0.9, 0.95),
    _Channel("coupons", 0.02, 0.35, 0.75, 0.8, 0.85),
    _Channel("cold_calls", 0.01, 0.04, 0.70, 0.7, 1.20),
)
_CHANNEL_NAMES = [c.name for c in _CHANNELS]
_REFERRAL = _CHANNEL_NAMES.index("referral")
_COUPONS = _CHANNEL_NAMES.index("coupons")

# --- purchase process (BG/NBD) -------------------------------------------------------------------
_RATE_SHAPE = 6.0
_RATE_MEAN_PER_YEAR = 3.0
_DROPOUT_CONCENTRATION = 20.0
_MIN_DROPOUT = 1e-6  # keeps 1/p finite
#: ``purchases="bgnbd"``: the BG/NBD parameters (Fader, Hardie & Lee 2005), time in years:
#: λ ~ Gamma(r, rate alpha), p ~ Beta(a, b), the same for every customer and channel
BGNBD_PARAMS = {"r": 1.5, "alpha": 0.6, "a": 1.0, "b": 4.0}
#: the values ``purchases`` takes (see :func:`generate_demo_store`)
PURCHASE_PROCESSES = ("realistic", "bgnbd")

# --- regions --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Region:
    name: str
    share: float
    cities: tuple[str, str]  # main city (85%), smaller city (15%)
    shipping_rub: int
    delivery_days: tuple[int, int]


_REGIONS = (
    _Region("Moscow", 0.34, ("Moscow", "Khimki"), 199, (1, 2)),
    _Region("Saint Petersburg", 0.17, ("Saint Petersburg", "Kolpino"), 249, (1, 2)),
    _Region("Krasnodar", 0.10, ("Krasnodar", "Sochi"), 349, (2, 4)),
    _Region("Yekaterinburg", 0.09, ("Yekaterinburg", "Nizhny Tagil"), 399, (3, 4)),
    _Region("Novosibirsk", 0.08, ("Novosibirsk", "Berdsk"), 499, (3, 5)),
    _Region("Kazan", 0.08, ("Kazan", "Naberezhnye Chelny"), 349, (2, 4)),
    _Region("Nizhny Novgorod", 0.07, ("Nizhny Novgorod", "Dzerzhinsk"), 299, (2, 3)),
    _Region("Samara", 0.07, ("Samara", "Tolyatti"), 349, (2, 4)),
)
#: regions the store does not deliver to: where customers who leave because they moved go
_UNSERVED_REGIONS = (
    _Region("Vladivostok", 0.40, ("Vladivostok", "Nakhodka"), 0, (8, 12)),
    _Region("Khabarovsk", 0.30, ("Khabarovsk", "Komsomolsk-on-Amur"), 0, (8, 12)),
    _Region("Irkutsk", 0.30, ("Irkutsk", "Angarsk"), 0, (8, 12)),
)
_ALL_REGIONS = _REGIONS + _UNSERVED_REGIONS
_REGION_NAMES = [r.name for r in _ALL_REGIONS]
#: regions the demo store delivers to (the churn report's ``served_regions``)
SERVED_REGIONS = tuple(r.name for r in _REGIONS)
_MOVER_SHARE = 0.03  # move between served regions and keep buying

# --- orders ---------------------------------------------------------------------------------------
_SPEND_MEDIAN_RUB = 2_800.0
_SPEND_SIGMA = 0.5
_ORDER_NOISE_SIGMA = 0.35
_FREE_DELIVERY_FROM_RUB = 3_000.0
_STATUSES = ["completed", "cancelled", "returned"]
_STATUS_SHARES = [0.92, 0.05, 0.03]
_SALES_CHANNELS = ["web", "app", "phone"]
_SALES_CHANNEL_SHARES = [0.55, 0.35, 0.10]
_LATE_SHARE = 0.15
#: paid deliveries that carry a surcharge (heavy goods, remote address) of 150–300 RUB
_SURCHARGE_SHARE = 0.03
_SURCHARGES_RUB = np.array([150.0, 200.0, 250.0, 300.0])
#: coupon code -> (percent off, rubles off)
_COUPON_CODES = {
    "WELCOME10": (0.10, 0.0),
    "FRIEND500": (0.0, 500.0),
    "SPRING10": (0.10, 0.0),
    "AUTUMN15": (0.15, 0.0),
    "BLACKFRIDAY20": (0.20, 0.0),
}

# --- people ---------------------------------------------------------------------------------------
# (display name, Latin spelling for e-mails, gender)
_FIRST_NAMES_RU = (
    ("Иван", "ivan", "M"), ("Алексей", "aleksey", "M"), ("Дмитрий", "dmitry", "M"),
    ("Сергей", "sergey", "M"), ("Андрей", "andrey", "M"), ("Михаил", "mikhail", "M"),
    ("Никита", "nikita", "M"), ("Артём", "artem", "M"), ("Павел", "pavel", "M"),
    ("Анна", "anna", "F"), ("Мария", "maria", "F"), ("Елена", "elena", "F"),
    ("Ольга", "olga", "F"), ("Наталья", "natalya", "F"), ("Екатерина", "ekaterina", "F"),
    ("Татьяна", "tatyana", "F"), ("Юлия", "yulia", "F"), ("Дарья", "darya", "F"),
)  # fmt: skip
# (masculine form, feminine form, Latin spelling)
_SURNAMES_RU = (
    ("Иванов", "Иванова", "ivanov"), ("Смирнов", "Смирнова", "smirnov"),
    ("Кузнецов", "Кузнецова", "kuznetsov"), ("Попов", "Попова", "popov"),
    ("Васильев", "Васильева", "vasilev"), ("Петров", "Петрова", "petrov"),
    ("Соколов", "Соколова", "sokolov"), ("Морозов", "Морозова", "morozov"),
    ("Волков", "Волкова", "volkov"), ("Лебедев", "Лебедева", "lebedev"),
    ("Козлов", "Козлова", "kozlov"), ("Новиков", "Новикова", "novikov"),
)  # fmt: skip
_FIRST_NAMES_EN = (
    ("John", "john", "M"), ("Michael", "michael", "M"), ("David", "david", "M"),
    ("James", "james", "M"), ("Daniel", "daniel", "M"), ("Emma", "emma", "F"),
    ("Olivia", "olivia", "F"), ("Sophia", "sophia", "F"), ("Emily", "emily", "F"),
    ("Kate", "kate", "F"),
)  # fmt: skip
_SURNAMES_EN = ("Smith", "Johnson", "Brown", "Taylor", "Miller", "Wilson", "Davis", "Clark")
_RUSSIAN_NAME_SHARE = 0.75
_EMAIL_DOMAINS = ["mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru", "list.ru"]
_EMAIL_DOMAIN_SHARES = [0.32, 0.30, 0.22, 0.06, 0.05, 0.05]
_INVALID_EMAILS = np.array(["ivan@@mail", "no-email", "test@", "@mail.ru", "anna.mail.ru", "-"])
_DUPLICATE_PERSON_SHARE = 0.015


# --- churn reasons ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Reason:
    """Why a leaver left, how often, the evidence it leaves and how it answers a win-back."""

    name: str
    share: float  # of customers who drop out
    last: float  # chance the last order shows it (see the module docstring for what it is)
    previous: float  # chance the order before the last one shows it too
    ticket: float  # chance of a support ticket about it after the last order
    review: float  # chance of a low review of the last order naming it
    winback: float  # chance to order within 60 days of a win-back message (holdout: 6%)


_CHURN_REASONS = (
    _Reason("forgot", 0.35, 0.00, 0.00, 0.00, 0.00, 0.35),
    _Reason("delivery_cost", 0.12, 0.90, 0.50, 0.25, 0.15, 0.25),
    _Reason("competitor_price", 0.12, 0.80, 0.60, 0.45, 0.40, 0.25),
    _Reason("moved_out_of_delivery_area", 0.08, 0.40, 0.00, 0.00, 0.00, 0.00),
    _Reason("quality", 0.12, 0.70, 0.00, 0.35, 0.55, 0.12),
    _Reason("delivery", 0.12, 0.95, 0.50, 0.45, 0.40, 0.15),
    _Reason("support", 0.09, 0.00, 0.00, 0.85, 0.45, 0.15),
)
_REASONS = tuple(r.name for r in _CHURN_REASONS)
_REASON_CODE = {name: code for code, name in enumerate(_REASONS)}
#: movers who also changed the home region in their profile
_MOVED_PROFILE_UPDATED = 0.85
#: forgetful leavers get no newsletter from this many days before their last order on
_FORGOT_QUIET_DAYS = 120.0
#: planted late deliveries are this many days late (base-rate ones: 1–5)
_PLANTED_DELAY_DAYS = (3, 10)
#: planted small baskets of delivery-cost leavers (goods, RUB): always below free delivery
_PLANTED_BASKET_RUB = (600.0, 2_700.0)

# --- feedback -------------------------------------------------------------------------------------
_REVIEW_SHARE = 0.03
_REVIEW_TEXTS = {  # by rating
    1: ("Ужасно, больше не закажу", "Terrible, never again", "Товар пришёл сломанным"),
    2: ("Долго везли, качество так себе", "Late and poor quality", "Не понравилось"),
    3: ("Нормально, но могло быть лучше", "It's okay", "Средне"),
    4: ("Хороший магазин", "Good, fast delivery", "В целом доволен"),
    5: ("Отлично, всё понравилось!", "Excellent, thank you!", "Лучший магазин", "Super"),
}
_TICKET_TEXTS = {  # by reason
    "delivery": (
        "Где мой заказ? Обещали вчера", "My order is late", "Курьер не приехал",
        "Заказ опаздывает уже на неделю", "Курьер третий раз переносит доставку",
        "The order still hasn't arrived, it was promised last week",
        "The courier never showed up",
    ),
    "quality": (
        "Пришёл брак, хочу вернуть", "Item was damaged", "Не соответствует описанию",
        "Вещь порвалась после первой стирки, верните деньги",
        "Товар не работает, прошу оформить возврат",
        "The product stopped working after two days", "Received a faulty item, I want a refund",
    ),
    "support": (
        "Не могу дозвониться в поддержку", "Nobody answers my e-mails",
        "Третий раз пишу в поддержку, ответа нет", "Оператор нагрубил и бросил трубку",
        "Вопрос так и не решили, это безобразие", "Third e-mail and still no reply from support",
        "Your operator was rude and hung up on me", "My complaint has been ignored for two weeks",
    ),
    "delivery_cost": (
        "Почему доставка такая дорогая?", "Shipping is too expensive",
        "Доставка стоит почти как сам товар", "Почему стоимость доставки выросла?",
        "The delivery fee is almost as much as the order",
        "Why did the shipping cost go up so much?",
    ),
    "competitor_price": (
        "Нашёл дешевле на маркетплейсе, сделаете скидку?",
        "У конкурентов этот товар на 20% дешевле",
        "Found it cheaper elsewhere, can you match the price?",
        "Other shops sell the same thing for less",
    ),
}  # fmt: skip
#: low reviews of a leaver's last order, by reason: (ratings, texts)
_LEAVER_REVIEWS = {
    "delivery": ((1, 2), (
        "Заказ опоздал на неделю, больше не закажу", "Курьер опоздал на пять дней",
        "Delivery was a week late", "Waited ten days, the courier kept delaying",
    )),
    "quality": ((1, 2), (
        "Качество ужасное, вещь сломалась через неделю", "Пришёл брак, пришлось возвращать",
        "Poor quality, it broke after a week", "The item arrived damaged, I sent it back",
    )),
    "support": ((1, 2), (
        "Поддержка не отвечает, вопрос так и не решён", "Оператор хамил, больше не приду",
        "Support never answered my questions", "Customer service ignored me",
    )),
    "delivery_cost": ((2, 3), (
        "Доставка слишком дорогая для таких покупок", "Плачу за доставку больше, чем раньше",
        "The shipping cost is too high for small orders",
        "The delivery fee went up, not worth it any more",
    )),
    "competitor_price": ((2, 3), (
        "В другом магазине то же самое дешевле", "Цены выше, чем у конкурентов",
        "Found the same thing cheaper elsewhere", "Prices are higher than in other shops",
    )),
}  # fmt: skip
_SURVEY_SHARE = 0.12  # of customers silent for over 120 days
_SURVEY_TRUTHFUL = 0.80  # leavers who name their own reason (others name a random one)
_SURVEY_TEXTS = {  # by reason
    "forgot": (
        "Просто забыл про вас", "Forgot about the store", "",
        "Честно, просто вылетело из головы", "It slipped my mind, to be honest",
    ),
    "delivery_cost": (
        "Доставка слишком дорогая", "Delivery costs too much",
        "Платить за доставку каждый раз слишком дорого", "Shipping fees are too high",
    ),
    "competitor_price": (
        "У конкурентов дешевле", "Found it cheaper elsewhere",
        "Нашёл дешевле на маркетплейсе", "Other stores have better prices",
    ),
    "moved_out_of_delivery_area": (
        "Переехал, к нам не доставляете", "Moved, no delivery here",
        "Переехал во Владивосток, туда доставки нет",
        "I moved to Khabarovsk and you don't deliver there",
    ),
    "quality": (
        "Качество разочаровало", "Quality went down",
        "Последний заказ был бракованный", "The last order was faulty",
    ),
    "delivery": (
        "Постоянно опаздывают", "Deliveries are always late",
        "Курьер опоздал на неделю", "The courier was late again",
    ),
    "support": (
        "Поддержка не помогла", "Support did not help",
        "В поддержке так и не ответили", "Nobody from support ever replied",
    ),
}  # fmt: skip

# --- messages -------------------------------------------------------------------------------------
_EMAIL_MONTHLY_SHARE = 0.30
_SMS_MONTHLY_SHARE = 0.12
_CONVERSION_WINDOW_DAYS = 7.0

# --- win-back campaigns --------------------------------------------------------------------------
_WINBACK_FIRST_MONTH = 5  # months after opening
_WINBACK_STEPS = (2, 3)  # months between campaigns, in turn
_WINBACK_LAPSE_DAYS = (90.0, 180.0)  # last order at least / less than this many days before
_WINBACK_WINDOW_DAYS = 60.0  # a comeback counts within this many days; the last campaign fits
_WINBACK_HOLDOUT_SHARE = 0.20
_WINBACK_HOLDOUT_RETURN = 0.06  # leavers (not movers) who come back on their own
_WINBACK_RESPONSE_MEAN_DAYS = 12.0

# --- experiments: (id, first month, last month before end, share of variant B) ------------------
_EXPERIMENTS = (
    ("exp_month2", 8, 5, 0.50),
    ("exp_aa", 6, 3, 0.50),
    ("exp_srm", 4, 1, 0.47),
)
#: exp_month2: chance that a B customer still active gets an extra order in days 31–90
_MONTH2_EXTRA_SHARE = 0.20
_MONTH2_DAYS = (31.0, 90.0)

# --- dirty rows -----------------------------------------------------------------------------------
_DIRTY_ORDER_SHARE = 0.003
_DIRTY_KINDS = 7
_MIN_DIRTY_PER_KIND = 3
_BAD_DATES = np.array(["31.02.2025", "yesterday", "2025-13-45", "32/01/2025", "n/a"])
_BAD_REVENUES = np.array(["abc", "", "1.2.3", "—"])


# ==================================================================================================
# Public API
# ==================================================================================================


def generate_demo_store(
    n_customers: int = 20_000,
    *,
    seed: int = 7,
    end: str = "2026-11-15",
    years: float = 2.0,
    dirty: bool = True,
    orders_per_customer: float | None = None,
    purchases: Literal["realistic", "bgnbd"] = "realistic",
) -> dict[str, pd.DataFrame]:
    """Generate a demo online store in the canonical tables.

    Parameters
    ----------
    n_customers : int, default 20_000
        Customer records before duplicates are added (about 10% never buy).
    seed : int, default 7
        Random seed; the same seed and arguments give identical tables.
    end : str, default "2026-11-15"
        Last day of the history (``YYYY-MM-DD``); nothing is dated after it except dirty rows.
    years : float, default 2.0
        Length of the history, rounded to whole months; the store opens on its first day.
    dirty : bool, default True
        Add order and customer rows a loader must reject (see the module docstring).
    orders_per_customer : float, optional
        Target mean number of orders per customer (never-buyers included); scales every
        customer's purchase rate. ``None`` keeps the realistic default (~2.2); ``10`` gives the
        benchmark shape (about 10 million orders for a million customers).
    purchases : {"realistic", "bgnbd"}, default "realistic"
        The purchase process. ``"realistic"`` is the store described in the module docstring
        (channel switch half way, dropout tied to the channel and so to the acquisition date,
        a first chance to leave right after the first order, win-back comebacks and the
        ``exp_month2`` effect): no BTYD model assumes it. ``"bgnbd"`` is the BG/NBD process
        itself, with the fixed :data:`BGNBD_PARAMS` for every customer, a steady channel mix
        (the early one) and no extra orders (no comebacks, no ``exp_month2`` effect): the
        store on which the LTV models must track the holdout.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``"orders"``, ``"customers"``, ``"feedback"``, ``"messages"``, ``"experiments"``, each
        with the canonical columns of :data:`custkit.contract.TABLES`, and
        ``"truth_churn"`` (:data:`TRUTH_CHURN`; not a store table, for tests only): one row per
        customer who dropped out, ``customer_id``, ``dropout_at``, ``reason``, ``won_back_at``
        (see the module docstring).

    Raises
    ------
    custkit.errors.ParamsError
        If an argument is out of range.
    """
    opened, end_ts = _check_arguments(n_customers, seed, end, years, orders_per_customer)
    if purchases not in PURCHASE_PROCESSES:
        raise ParamsError(
            f"purchases must be one of {list(PURCHASE_PROCESSES)}. Got {purchases!r} instead."
        )
    bgnbd = purchases == "bgnbd"
    history_days = (end_ts - opened) / pd.Timedelta(days=1) + 1.0  # ``end`` is a whole day
    names = ("people", "purchases", "orders", "feedback", "messages", "experiments", "dirty")
    names += ("churn", "month2", "winback")  # spawned after the first seven: those stay the same
    streams = dict(zip(names, np.random.SeedSequence(seed).spawn(len(names)), strict=True))
    rng = {name: np.random.default_rng(s) for name, s in streams.items()}

    people = _people(rng["people"], n_customers, opened, history_days, steady_mix=bgnbd)
    history = _purchase_history(
        rng["purchases"], people, history_days, orders_per_customer, bgnbd=bgnbd
    )
    _split_duplicate_orders(people, history)
    experiments, month2 = _experiments(
        rng["experiments"], people, history, opened, end_ts, history_days
    )
    churn = _churn_plan(rng["churn"], people, history)
    extra = _month2_purchases(rng["month2"], month2, churn, history_days)
    if bgnbd:  # no purchase outside the model: no exp_month2 effect, no comebacks
        extra = (extra[0][:0], extra[1][:0])
    winback = _winback_campaigns(
        rng["winback"], people, history, churn, extra, opened, comebacks=not bgnbd
    )
    _add_purchases(people, history, [extra, winback.purchases])
    orders = _orders(rng["orders"], people, history, churn, opened, end_ts)
    customers = _customers(people, churn, opened)
    feedback = _feedback(
        rng["feedback"], people, history, churn, orders, opened, end_ts, history_days
    )
    messages = _messages(rng["messages"], people, history, churn, winback, opened, history_days)
    experiments = pd.concat([experiments, winback.experiments], ignore_index=True)
    experiments["experiment_id"] = experiments["experiment_id"].astype("category")
    experiments["variant"] = experiments["variant"].astype("category")
    truth_churn = _truth_churn(people, churn, opened)
    if dirty:
        orders = _dirty_orders(rng["dirty"], orders)
        customers = _dirty_customers(rng["dirty"], customers)
    tables = {
        "orders": orders,
        "customers": customers,
        "feedback": feedback,
        "messages": messages,
        "experiments": experiments,
    }
    store = {name: df[TABLES[name].names].reset_index(drop=True) for name, df in tables.items()}
    store[TRUTH_CHURN] = truth_churn
    return store


def write_demo_store(
    out_dir: str | Path,
    n_customers: int = 20_000,
    *,
    seed: int = 7,
    fmt: Literal["csv", "parquet"] = "csv",
    **kwargs,
) -> Path:
    """Generate a demo store and write it, with a ``params.yaml``, into *out_dir*.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write into; created if missing. Existing demo files are replaced.
    n_customers, seed
        As in :func:`generate_demo_store`.
    fmt : {"csv", "parquet"}, default "csv"
        File format of the tables.
    **kwargs
        Passed to :func:`generate_demo_store` (``end``, ``years``, ``dirty``,
        ``orders_per_customer``).

    Returns
    -------
    Path
        *out_dir*, holding ``orders``, ``customers``, ``feedback``, ``messages`` and
        ``experiments`` files and ``params.yaml`` (paths relative to the folder; its ``churn``
        section names the regions the store delivers to). Beside them, ``truth_churn`` holds the
        planted churn reasons: it is for tests only, and no params entry points at it. Each file
        is written to a temporary name first and renamed, so a reader never sees half a file.
    """
    if fmt not in ("csv", "parquet"):
        raise ParamsError(f"fmt must be 'csv' or 'parquet'. Got {fmt!r} instead.")
    tables = generate_demo_store(n_customers, seed=seed, **kwargs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        arrow = pa.Table.from_pandas(df, preserve_index=False)
        if fmt == "csv":
            _atomic_write(out / f"{name}.csv", lambda f, t=arrow: pa_csv.write_csv(_plain(t), f))
        else:
            _atomic_write(out / f"{name}.parquet", lambda f, t=arrow: pq.write_table(t, f))
    opened, _ = _history_bounds(kwargs.get("end", "2026-11-15"), kwargs.get("years", 2.0))
    params = {
        "store": {
            "name": "Demo store",
            "currency": "RUB",
            "opened": opened.strftime("%Y-%m-%d"),
            "timezone": "Europe/Moscow",
        },
        "sources": {name: {"path": f"{name}.{fmt}"} for name in tables if name in TABLES},
        "churn": {"served_regions": list(SERVED_REGIONS)},
    }
    text = yaml.safe_dump(params, sort_keys=False, allow_unicode=True)
    _atomic_write(out / "params.yaml", lambda f: f.write(text.encode("utf-8")))
    return out


# ==================================================================================================
# Arguments and helpers
# ==================================================================================================


def _history_bounds(end: str, years: float) -> tuple[pd.Timestamp, pd.Timestamp]:
    try:
        end_ts = pd.Timestamp(end).normalize()
    except (ValueError, TypeError):
        raise ParamsError(
            f"end must be a date written as 'YYYY-MM-DD', e.g. '2026-11-15'. Got {end!r} instead."
        ) from None
    return end_ts - pd.DateOffset(months=round(years * 12)), end_ts


def _check_arguments(
    n_customers: int, seed: int, end: str, years: float, orders_per_customer: float | None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    if isinstance(n_customers, bool) or not isinstance(n_customers, (int, np.integer)):
        raise ParamsError(f"n_customers must be a whole number. Got {n_customers!r} instead.")
    if n_customers < 50:
        raise ParamsError(f"n_customers must be at least 50. Got {n_customers} instead.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParamsError(f"seed must be a whole number >= 0. Got {seed!r} instead.")
    if not isinstance(years, (int, float)) or not 1.0 <= years <= 20.0:
        raise ParamsError(f"years must be between 1 and 20. Got {years!r} instead.")
    if orders_per_customer is not None and not 1.0 < orders_per_customer <= 100.0:
        raise ParamsError(
            "orders_per_customer must be above 1 and at most 100 (or None for the realistic "
            f"default). Got {orders_per_customer!r} instead."
        )
    return _history_bounds(end, years)


def _pick(rng: np.random.Generator, shares, size: int) -> np.ndarray:
    """Indices drawn with the given shares (normalized)."""
    cumulative = np.cumsum(shares, dtype=float)
    return np.searchsorted(cumulative / cumulative[-1], rng.random(size), side="right")


def _to_datetime(opened: pd.Timestamp, days: np.ndarray) -> np.ndarray:
    """Days since opening (float, NaN allowed) as ``datetime64[s]``."""
    seconds = np.round(np.asarray(days, dtype=float) * _SECONDS_PER_DAY)
    out = np.full(seconds.shape, np.datetime64("NaT"), dtype="datetime64[s]")
    ok = np.isfinite(seconds)
    out[ok] = np.datetime64(opened.to_datetime64(), "s") + seconds[ok].astype("int64")
    return out


def _group_starts(counts: np.ndarray) -> np.ndarray:
    return np.cumsum(counts) - counts


def _rank_in_group(counts: np.ndarray) -> np.ndarray:
    """0, 1, … within each consecutive group of the given sizes."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(_group_starts(counts), counts)


def _cat(codes: np.ndarray, categories) -> pd.Categorical:
    """Categorical from integer codes (-1 for missing)."""
    return pd.Categorical.from_codes(np.asarray(codes, dtype="int64"), categories=list(categories))


def _plain(table: pa.Table) -> pa.Table:
    """Dictionary columns as plain text: the CSV writer does not take dictionaries."""
    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.string()))
    return table


def _atomic_write(path: Path, write) -> None:
    """Write to a temporary file beside *path*, then rename it over *path*."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes owner-only files; use the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ==================================================================================================
# People: acquisition, channels, regions, contacts
# ==================================================================================================


class _People:
    """Per-person arrays (index = position in registration order), shared by the table builders.

    Duplicate records are appended after the ``n`` main people; ``original`` maps every record
    to the person it belongs to (itself for main records).
    """

    def __init__(self, **arrays: np.ndarray) -> None:
        self.__dict__.update(arrays)


def _people(
    rng: np.random.Generator,
    n: int,
    opened: pd.Timestamp,
    history_days: float,
    steady_mix: bool = False,
) -> _People:
    # Acquisition day: exponential growth times a month factor, drawn on a daily grid.
    day = np.arange(int(np.ceil(history_days)))
    months = (opened + pd.to_timedelta(day, unit="D")).month.to_numpy() - 1
    weight = _GROWTH_PER_YEAR ** (day / _DAYS_PER_YEAR) * _MONTH_FACTOR[months]
    acquired = np.sort(_pick(rng, weight, n) + rng.random(n))
    acquired = np.minimum(acquired, history_days - 1e-6)

    # Channel mix switches from early to late half way through the history.
    late = 1.0 / (1.0 + np.exp(-(acquired / history_days - 0.5) / _MIX_SWITCH_WIDTH))
    if steady_mix:  # the early mix throughout (drawn the same way, so the stream is unchanged)
        late = np.zeros_like(late)
    early_shares = np.array([c.early_share for c in _CHANNELS])
    late_shares = np.array([c.late_share for c in _CHANNELS])
    shares = (1 - late)[:, None] * early_shares + late[:, None] * late_shares
    channel = (rng.random(n)[:, None] > np.cumsum(shares, axis=1)).sum(axis=1)
    channel = np.minimum(channel, len(_CHANNELS) - 1)

    buyer = rng.random(n) >= _NEVER_BOUGHT_SHARE
    # Registration precedes the first order: mostly minutes before, sometimes days.
    lead_days = np.where(rng.random(n) < 0.6, rng.uniform(0.001, 0.02, n), rng.exponential(5, n))
    registered = np.where(buyer, np.maximum(acquired - lead_days, 0.0), acquired)

    # Referrers: a uniformly chosen earlier customer (people are in registration order).
    order = np.argsort(registered, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    referrer = np.full(n, -1, dtype=np.int64)
    is_ref = (channel == _REFERRAL) & (rank > 0)
    referrer[is_ref] = order[(rng.random(is_ref.sum()) * rank[is_ref]).astype(np.int64)]
    channel[(channel == _REFERRAL) & (rank == 0)] = _CHANNEL_NAMES.index("organic")

    region = _pick(rng, [r.share for r in _REGIONS], n)
    city_second = rng.random(n) < 0.15
    mover = rng.random(n) < _MOVER_SHARE
    new_region = (region + rng.integers(1, len(_REGIONS), n)) % len(_REGIONS)
    move_day = np.where(mover, rng.uniform(acquired, history_days), np.inf)

    russian = rng.random(n) < _RUSSIAN_NAME_SHARE
    first_ru = rng.integers(0, len(_FIRST_NAMES_RU), n)
    first_en = rng.integers(0, len(_FIRST_NAMES_EN), n)
    surname_ru = rng.integers(0, len(_SURNAMES_RU), n)
    surname_en = rng.integers(0, len(_SURNAMES_EN), n)
    phone = 9_000_000_000 + rng.integers(0, 1_000_000_000, n, dtype=np.int64)
    age_years = np.clip(rng.normal(36, 11, n), 18, 80)

    people = _People(
        n=n,
        acquired=acquired,
        registered=registered,
        channel=channel,
        buyer=buyer,
        referrer=referrer,
        region=region,
        city_second=city_second,
        new_region=new_region,
        move_day=move_day,
        russian=russian,
        first_ru=first_ru,
        first_en=first_en,
        surname_ru=surname_ru,
        surname_en=surname_en,
        # distinct per person: at 1M customers, names plus a small number collide by the
        # thousand and every collision would look like a duplicate customer
        email_number=rng.choice(max(10**6, 10 * n), n, replace=False),
        email_domain=_pick(rng, _EMAIL_DOMAIN_SHARES, n),
        email_style=rng.integers(0, 3, n),
        phone=phone,
        phone_format=rng.integers(0, 3, n),
        birth_days_before_open=np.round(age_years * _DAYS_PER_YEAR),
        has_birth_date=rng.random(n) >= 0.30,
        has_region=rng.random(n) >= 0.05,
        has_email=rng.random(n) >= 0.04,
        has_phone=rng.random(n) >= 0.06,
        invalid_email=rng.integers(0, len(_INVALID_EMAILS), n),
        is_invalid_email=rng.random(n) < 0.01,
        consent_email=rng.random(n) < 0.70,
        consent_sms=rng.random(n) < 0.40,
        sales_channel=_pick(rng, _SALES_CHANNEL_SHARES, n),
        spend_rub=_SPEND_MEDIAN_RUB * np.exp(rng.normal(0, _SPEND_SIGMA, n)),
    )
    _add_duplicate_records(rng, people, history_days)
    return people


def _add_duplicate_records(rng: np.random.Generator, people: _People, history_days: float) -> None:
    """Append second records of ~1.5% of people (same person, contact written differently).

    Half differ in e-mail (case or spaces), half in phone format. Their registration time is
    set later, when the purchase history is known (:func:`_split_duplicate_orders`).
    """
    n = people.n
    n_dup = max(3, round(_DUPLICATE_PERSON_SHARE * n))
    source = np.sort(rng.choice(n, n_dup, replace=False))
    people.original = np.concatenate([np.arange(n), source])
    people.dup_by_email = np.concatenate([np.zeros(n, bool), np.arange(n_dup) % 2 == 0])
    people.dup_variant = np.concatenate([np.zeros(n, np.int64), rng.integers(0, 3, n_dup)])
    people.dup_split_u = rng.random(n_dup)
    people.dup_registered_u = rng.random(n_dup)
    people.history_days = history_days


# ==================================================================================================
# Purchase history (BG/NBD)
# ==================================================================================================


class _History:
    """Purchases as parallel arrays, grouped by person and sorted in time within a person."""

    def __init__(self, person: np.ndarray, day: np.ndarray, rank: np.ndarray) -> None:
        self.person = person  # index into the main people (0..n-1)
        self.day = day  # days since the store opened
        self.rank = rank  # 0 = first order
        self.record = person.copy()  # customer record the order is placed under
        self.dropped = np.zeros(0, dtype=bool)  # per main person: dropped out for good
        # 1: a leaver's last order before dropping out, 2: the order before it (see _add_purchases)
        self.tag = np.zeros(person.size, dtype=np.int8)


def _purchase_history(
    rng: np.random.Generator,
    people: _People,
    history_days: float,
    orders_per_customer: float | None,
    bgnbd: bool = False,
) -> _History:
    """Draw every buyer's orders: a first order at acquisition, then BG/NBD repeats.

    With *bgnbd* the process is BG/NBD exactly (:data:`BGNBD_PARAMS`, no channel effect, no
    chance to leave before the first repeat purchase); otherwise the first order is also a
    chance to leave (as in MBG/NBD) and λ and p depend on the channel.

    Given the number K of Poisson events in the remaining time T, event times are uniform order
    statistics; only the first min(K, N-1) are kept, N ~ Geometric(p) being the orders made
    before dropping out. The j-th of K order statistics is drawn from the (j-1)-th with
    ``1 - U_(j)/T = prod_{i<=j} V_i ** (1/(K-i+1))``, a cumulative sum of logs per buyer.
    """
    buyers = np.flatnonzero(people.buyer)
    channel = people.channel[buyers]
    rate = rng.gamma(_RATE_SHAPE, _RATE_MEAN_PER_YEAR / _RATE_SHAPE, buyers.size)
    rate *= np.array([c.rate_factor for c in _CHANNELS])[channel]
    dropout_mean = np.array([c.dropout_mean for c in _CHANNELS])[channel]
    dropout = rng.beta(
        dropout_mean * _DROPOUT_CONCENTRATION, (1 - dropout_mean) * _DROPOUT_CONCENTRATION
    )
    dropout = np.clip(dropout, _MIN_DROPOUT, 1.0)
    years_left = (history_days - people.acquired[buyers]) / _DAYS_PER_YEAR
    if orders_per_customer is not None:
        rate *= _rate_scale(rate, dropout, years_left, orders_per_customer / people.buyer.mean())

    if bgnbd:
        params = BGNBD_PARAMS
        rate = rng.gamma(params["r"], 1.0 / params["alpha"], buyers.size)
        dropout = np.clip(rng.beta(params["a"], params["b"], buyers.size), _MIN_DROPOUT, 1.0)
        if orders_per_customer is not None:
            rate *= _rate_scale(
                rate, dropout, years_left, orders_per_customer / people.buyer.mean(), bgnbd
            )

    orders_alive = rng.geometric(dropout)
    if bgnbd:  # BG/NBD: alive after the first order, a chance to leave after each repeat
        orders_alive = orders_alive + 1
    events = rng.poisson(rate * years_left)
    repeats = np.minimum(events, orders_alive - 1)

    rank_in_repeats = _rank_in_group(repeats)
    remaining_events = np.repeat(events, repeats) - rank_in_repeats
    log_step = np.log(rng.random(rank_in_repeats.size)) / remaining_events
    cumulative = np.cumsum(log_step)
    start_of_buyer = np.repeat(_group_starts(repeats), repeats)
    before_buyer = np.concatenate([[0.0], cumulative])[start_of_buyer]
    fraction = -np.expm1(cumulative - before_buyer)

    counts = repeats + 1
    rank = _rank_in_group(counts)
    person = np.repeat(buyers, counts)
    day = np.repeat(people.acquired[buyers], counts)
    later = rank > 0
    day[later] += np.repeat(years_left, repeats) * _DAYS_PER_YEAR * fraction
    day = np.minimum(day, history_days - 1e-6)
    history = _History(person, day, rank)
    # Left for good after the last order: the dropout came before the next purchase would have.
    history.dropped = np.zeros(people.n, dtype=bool)
    history.dropped[buyers] = orders_alive <= events + 1
    return history


def _rate_scale(
    rate: np.ndarray,
    dropout: np.ndarray,
    years_left: np.ndarray,
    target_per_buyer: float,
    bgnbd: bool = False,
) -> float:
    """Factor on all rates giving *target_per_buyer* expected orders per buyer.

    Uses the expectation 1 + (1 - p) (1 - exp(-λ p T)) / p (first order plus repeats when one
    can drop out right after the first order; 1 + (1 - exp(-λ p T)) / p in BG/NBD, where one
    cannot), increasing in the factor, by bisection on its logarithm.
    """
    stay_share = (1.0 if bgnbd else 1.0 - dropout) / dropout

    def mean_orders(scale: float) -> float:
        return float(np.mean(1.0 - stay_share * np.expm1(-scale * rate * dropout * years_left)))

    low, high = -8.0, 8.0
    for _ in range(30):  # the factor to within 1e-7 of its value
        mid = (low + high) / 2
        low, high = (mid, high) if mean_orders(np.exp(mid)) < target_per_buyer else (low, mid)
    return float(np.exp((low + high) / 2))


def _split_duplicate_orders(people: _People, history: _History) -> None:
    """Give each duplicate record a registration time and, for repeat buyers, later orders.

    A person with a second record and at least two orders placed some of their later orders
    under it: from a random repeat order on. Other duplicates registered at a random time
    after the original and never ordered under the new record.
    """
    n = people.n
    source = people.original[n:]
    counts = np.bincount(history.person, minlength=n)
    first_index = _group_starts(counts)
    n_src = counts[source]
    splits = n_src >= 2
    split_rank = np.where(splits, 1 + (people.dup_split_u * (n_src - 1)).astype(np.int64), 0)
    split_day = history.day[np.minimum(first_index[source] + split_rank, history.day.size - 1)]
    free_day = people.registered[source] + people.dup_registered_u * (
        people.history_days - people.registered[source]
    )
    dup_registered = np.where(splits, split_day - 0.01, free_day)
    people.registered = np.concatenate([people.registered, dup_registered])
    # Customer ids follow registration order, duplicates included.
    by_registration = np.argsort(people.registered, kind="stable")
    people.customer_id = np.empty(by_registration.size, dtype=np.int64)
    people.customer_id[by_registration] = _FIRST_CUSTOMER_ID + np.arange(by_registration.size)

    # Reassign orders from the split on (only the first duplicate of a person takes orders).
    split_of_person = np.full(n, np.iinfo(np.int64).max)
    record_of_person = np.arange(n)
    dup_ids = n + np.arange(source.size)
    split_of_person[source[splits][::-1]] = split_rank[splits][::-1]
    record_of_person[source[splits][::-1]] = dup_ids[splits][::-1]
    moved = history.rank >= split_of_person[history.person]
    history.record[moved] = record_of_person[history.person[moved]]
    # Purchases added later (win-backs, experiment effects) follow the same split, by time.
    people.split_day = np.full(n, np.inf)
    people.split_day[source[splits][::-1]] = split_day[splits][::-1]
    people.split_record = record_of_person


def _record_at(people: _People, person: np.ndarray, day: np.ndarray) -> np.ndarray:
    """The customer record a person orders under at *day* (a duplicate from its split on)."""
    return np.where(day >= people.split_day[person], people.split_record[person], person)


# ==================================================================================================
# Churn reasons, experiment effects and win-back campaigns
# ==================================================================================================


class _Churn:
    """Per main person: why they left (``reason`` -1: did not leave), when, and their evidence.

    Drawn from the purchase history before the orders table is built; the table builders plant
    the evidence (orders, customers, feedback, messages) from it.
    """

    def __init__(self, **arrays: np.ndarray) -> None:
        self.__dict__.update(arrays)


def _churn_plan(rng: np.random.Generator, people: _People, history: _History) -> _Churn:
    """Give every customer who dropped out a reason and decide which evidence they leave."""
    n = people.n
    last = np.flatnonzero(np.r_[history.person[1:] != history.person[:-1], True])
    leaving = last[history.dropped[history.person[last]]]
    history.tag[leaving] = 1
    person = history.person[leaving]
    k = person.size
    code = _pick(rng, [r.share for r in _CHURN_REASONS], k)

    def chance(attribute: str) -> np.ndarray:
        return np.array([getattr(r, attribute) for r in _CHURN_REASONS])[code] > rng.random(k)

    show_last, show_previous = chance("last"), chance("previous")
    ticket, review = chance("ticket"), chance("review")
    moved = code == _REASON_CODE["moved_out_of_delivery_area"]
    profile_moved = moved & (rng.random(k) < _MOVED_PROFILE_UPDATED)
    new_region = len(_REGIONS) + _pick(rng, [r.share for r in _UNSERVED_REGIONS], k)

    def per_person(values: np.ndarray, fill) -> np.ndarray:
        out = np.full(n, fill, dtype=np.asarray(values).dtype)
        out[person] = values
        return out

    return _Churn(
        reason=per_person(code.astype(np.int8), -1),
        dropout_day=per_person(history.day[leaving], np.nan),
        dropout_record=per_person(history.record[leaving], -1),
        show_last=per_person(show_last, False),
        show_previous=per_person(show_previous, False),
        ticket=per_person(ticket, False),
        review=per_person(review, False),
        profile_moved=per_person(profile_moved, False),
        new_region=per_person(np.where(moved, new_region, -1), -1),
        won_back_day=np.full(n, np.nan),
    )


def _month2_purchases(
    rng: np.random.Generator,
    month2: tuple[np.ndarray, np.ndarray, np.ndarray],
    churn: _Churn,
    history_days: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Extra orders of ``exp_month2`` variant B in days 31–90 after assignment, none before.

    Only customers still active then get one: a customer who has dropped out stays gone.
    """
    person, assigned, variant = month2
    take = (variant == 1) & (rng.random(person.size) < _MONTH2_EXTRA_SHARE)
    day = assigned + rng.uniform(*_MONTH2_DAYS, person.size)
    keep = take & (day < history_days) & ~(day >= churn.dropout_day[person])
    return person[keep], day[keep]


@dataclass(frozen=True)
class _Winback:
    """Win-back campaigns: the comeback orders, the holdout experiments and the messages sent."""

    purchases: tuple[np.ndarray, np.ndarray]  # person, day
    experiments: pd.DataFrame
    messages: dict[str, np.ndarray]  # person, record, sent, channel, campaign, opened, clicked


def _winback_schedule(opened: pd.Timestamp, history_days: float) -> list[tuple[str, float]]:
    """(campaign name, send day): the 15th, every 2–3 months, each with a full response window."""
    campaigns = []
    months, step = _WINBACK_FIRST_MONTH, 0
    while True:
        sent = (opened.to_period("M") + months).start_time + pd.Timedelta(days=14, hours=10)
        day = (sent - opened) / pd.Timedelta(days=1)
        if day + _WINBACK_WINDOW_DAYS > history_days:
            return campaigns
        campaigns.append((sent.strftime("winback_%Y_%m"), day))
        months += _WINBACK_STEPS[step % len(_WINBACK_STEPS)]
        step += 1


def _winback_campaigns(
    rng: np.random.Generator,
    people: _People,
    history: _History,
    churn: _Churn,
    extra: tuple[np.ndarray, np.ndarray],
    opened: pd.Timestamp,
    comebacks: bool = True,
) -> _Winback:
    """Message lapsed customers, keep a random holdout, and let leavers come back.

    A customer is lapsed when their last order is 90–179 days old at the send time. Each
    campaign is an experiment (variants ``contact`` / ``holdout``); contacted leavers come back
    within 60 days at their reason's rate, holdout leavers at 6%, movers never. A leaver comes
    back at most once. Customers who have not left follow their own purchase process either way.
    Without *comebacks* (``purchases="bgnbd"``) nobody who left comes back.
    """
    history_days = people.history_days
    candidates = np.flatnonzero((people.consent_email | people.consent_sms) & people.buyer)
    key = history.person.astype(np.int64) << 32 | np.floor(history.day * 1e5).astype(np.int64)
    contact_rate = np.array([r.winback for r in _CHURN_REASONS] + [0.0])  # code -1: stays
    holdout_rate = np.full(contact_rate.size, _WINBACK_HOLDOUT_RETURN)
    holdout_rate[[_REASON_CODE["moved_out_of_delivery_area"], -1]] = 0.0
    if not comebacks:
        contact_rate[:], holdout_rate[:] = 0.0, 0.0
    added_person, added_day = [extra[0]], [extra[1]]
    experiments, messages = [], []
    for campaign, send in _winback_schedule(opened, history_days):
        # last order before the send: from the history, or from orders added so far
        probe = candidates.astype(np.int64) << 32 | np.int64(np.floor(send * 1e5))
        before = np.searchsorted(key, probe, side="left") - 1
        safe = np.maximum(before, 0)
        last = np.where(
            (before >= 0) & (history.person[safe] == candidates), history.day[safe], -np.inf
        )
        added_last = np.full(people.n, -np.inf)
        a_person, a_day = np.concatenate(added_person), np.concatenate(added_day)
        np.maximum.at(added_last, a_person[a_day < send], a_day[a_day < send])
        last = np.maximum(last, added_last[candidates])
        lapsed = (send - last >= _WINBACK_LAPSE_DAYS[0]) & (send - last < _WINBACK_LAPSE_DAYS[1])
        target = candidates[lapsed]
        m = target.size

        holdout = rng.random(m) < _WINBACK_HOLDOUT_SHARE
        reason = churn.reason[target].astype(np.int64)
        # only those already gone: a customer lapsed but not yet dropped out buys on their own
        may_return = (churn.dropout_day[target] <= send) & np.isnan(churn.won_back_day[target])
        rate = np.where(holdout, holdout_rate[reason], contact_rate[reason])
        comes = may_return & (rng.random(m) < rate)
        # within the window counted in calendar days from the send day: at most 59 days later
        latest = _WINBACK_WINDOW_DAYS - 1.0
        wait = np.where(
            holdout,
            rng.uniform(0.1, latest, m),
            0.1 + rng.exponential(_WINBACK_RESPONSE_MEAN_DAYS, m) % (latest - 0.1),
        )
        churn.won_back_day[target[comes]] = send + wait[comes]
        added_person.append(target[comes])
        added_day.append(send + wait[comes])

        record = _record_at(people, target, np.full(m, send))
        experiments.append(
            pd.DataFrame(
                {
                    "experiment_id": campaign,
                    "customer_id": people.customer_id[record],
                    "variant": np.where(holdout, "holdout", "contact"),
                    "assigned_at": _to_datetime(opened, np.full(m, send)),
                }
            )
        )
        contacted = ~holdout
        sms = ~people.consent_email[target]  # e-mail when allowed, else SMS
        opened_msg = rng.random(m) < np.where(comes, 0.85, np.where(sms, 0.9, 0.3))
        clicked = opened_msg & (rng.random(m) < np.where(comes, 0.7, np.where(sms, 0.05, 0.15)))
        messages.append(
            {
                "person": target[contacted],
                "record": record[contacted],
                "sent": send + rng.uniform(0, 0.1, m)[contacted],
                "channel": sms[contacted].astype(np.int64),
                "campaign": np.full(contacted.sum(), campaign, dtype=object),
                "opened": opened_msg[contacted],
                "clicked": clicked[contacted],
            }
        )
    experiments_frame = (
        pd.concat(experiments, ignore_index=True)
        if experiments
        else pd.DataFrame(columns=["experiment_id", "customer_id", "variant", "assigned_at"])
    )
    message_arrays = {
        name: np.concatenate([m[name] for m in messages]) if messages else np.zeros(0)
        for name in ("person", "record", "sent", "channel", "campaign", "opened", "clicked")
    }
    return _Winback(
        purchases=(np.concatenate(added_person[1:]), np.concatenate(added_day[1:])),
        experiments=experiments_frame,
        messages=message_arrays,
    )


def _add_purchases(
    people: _People, history: _History, extras: list[tuple[np.ndarray, np.ndarray]]
) -> None:
    """Insert extra purchases (person, day) into the history, keeping it grouped and sorted.

    Ranks are counted again, and the order before each leaver's last order is tagged 2 (the
    last one is tagged 1 by :func:`_churn_plan`). Win-back comebacks come after a leaver's last
    order; an ``exp_month2`` order comes before it and may become the one tagged 2.
    """
    person = np.concatenate([e[0] for e in extras])
    day = np.concatenate([e[1] for e in extras])
    order = np.lexsort((day, person))
    person, day = person[order], day[order]
    key = history.person.astype(np.int64) << 32 | np.floor(history.day * 1e5).astype(np.int64)
    at = np.searchsorted(
        key, person.astype(np.int64) << 32 | np.floor(day * 1e5).astype(np.int64), side="right"
    )
    del key
    history.record = np.insert(history.record, at, _record_at(people, person, day))
    history.tag = np.insert(history.tag, at, 0)
    history.person = np.insert(history.person, at, person)
    history.day = np.insert(history.day, at, day)
    counts = np.bincount(history.person, minlength=people.n)
    history.rank = _rank_in_group(counts[counts > 0])
    last = np.flatnonzero(history.tag == 1)
    before = np.maximum(last - 1, 0)
    history.tag[before[(last > 0) & (history.person[before] == history.person[last])]] = 2


def _truth_churn(people: _People, churn: _Churn, opened: pd.Timestamp) -> pd.DataFrame:
    """Who dropped out, when, why, and when a win-back brought them back (for tests only)."""
    leavers = np.flatnonzero(churn.reason >= 0)
    frame = pd.DataFrame(
        {
            "customer_id": people.customer_id[churn.dropout_record[leavers]],
            "dropout_at": _to_datetime(opened, churn.dropout_day[leavers]),
            "reason": _cat(churn.reason[leavers], _REASONS),
            "won_back_at": _to_datetime(opened, churn.won_back_day[leavers]),
        }
    )
    return frame.sort_values("customer_id", kind="stable").reset_index(drop=True)


# ==================================================================================================
# Tables
# ==================================================================================================


def _orders(
    rng: np.random.Generator,
    people: _People,
    history: _History,
    churn: _Churn,
    opened: pd.Timestamp,
    end: pd.Timestamp,
) -> pd.DataFrame:
    """Orders in time order; each leaver's last order shows its reason's evidence and no other.

    Columns are collected one by one and temporaries dropped as soon as they are used: at ten
    million orders every array is 80 MB and the peak memory of the whole generator is here.
    """
    # Order numbers follow time: put the purchases in time order first.
    by_time = np.argsort(history.day, kind="stable")
    day, person = history.day[by_time], history.person[by_time]
    first = history.rank[by_time] == 0
    tag = history.tag[by_time]
    n_orders = day.size
    columns = {
        "order_id": _FIRST_ORDER_ID + np.arange(n_orders),
        "customer_id": people.customer_id[history.record[by_time]],
        "order_date": _to_datetime(opened, day),
    }
    del by_time

    # Planted evidence: a leaver's last order (tag 1) and the one before it (tag 2).
    last, previous = np.flatnonzero(tag == 1), np.flatnonzero(tag == 2)
    del tag
    reason_last, reason_previous = churn.reason[person[last]], churn.reason[person[previous]]
    shown_last = churn.show_last[person[last]]
    shown_previous = churn.show_previous[person[previous]]

    def planted(reason: str) -> np.ndarray:
        code = _REASON_CODE[reason]
        return np.concatenate(
            [
                last[(reason_last == code) & shown_last],
                previous[(reason_previous == code) & shown_previous],
            ]
        )

    small_basket, with_coupon = planted("delivery_cost"), planted("competitor_price")
    returned_last, moved_last = planted("quality"), planted("moved_out_of_delivery_area")
    late_planted = planted("delivery")

    channel = people.channel[person]
    gross = people.spend_rub[person] * np.exp(rng.normal(0, _ORDER_NOISE_SIGMA, n_orders))
    first_factor = np.array([c.first_order_factor for c in _CHANNELS])[channel]
    gross = np.round(np.where(first, gross * first_factor, gross)).clip(150, None)
    del first_factor
    gross[small_basket] = np.round(
        np.minimum(gross[small_basket], rng.uniform(*_PLANTED_BASKET_RUB, small_basket.size))
    )

    month = _to_datetime(opened, day).astype("datetime64[M]").astype(int) % 12 + 1
    coupon_chance = np.where(
        channel == _COUPONS, np.where(first, 0.9, 0.35), np.where(first, 0.10, 0.06)
    )
    coupon_chance = np.where(first & (channel == _REFERRAL), 0.6, coupon_chance)
    uses_coupon = rng.random(n_orders) < coupon_chance
    del coupon_chance
    uses_coupon[with_coupon] = True
    codes = list(_COUPON_CODES)
    code = np.where(month >= 9, codes.index("AUTUMN15"), codes.index("SPRING10"))
    code = np.where(month == 11, codes.index("BLACKFRIDAY20"), code)
    del month
    code = np.where(first & (channel == _COUPONS), codes.index("WELCOME10"), code)
    code = np.where(first & (channel == _REFERRAL), codes.index("FRIEND500"), code)
    code = np.where(uses_coupon, code, -1)
    del first, channel
    percent_off = np.array([v[0] for v in _COUPON_CODES.values()] + [0.0])[code]
    loyalty = ~uses_coupon & (rng.random(n_orders) < 0.08)
    del uses_coupon
    discount = gross * np.where(loyalty, 0.05, percent_off)
    del percent_off, loyalty
    discount += np.array([v[1] for v in _COUPON_CODES.values()] + [0.0])[code]
    discount = np.minimum(np.round(discount), gross - 100)
    columns["revenue"] = gross - discount

    status = _pick(rng, _STATUS_SHARES, n_orders)
    status[last] = _STATUSES.index("completed")
    status[returned_last] = _STATUSES.index("returned")
    status[moved_last] = _STATUSES.index("cancelled")  # the store cannot deliver there
    columns["status"] = _cat(status, _STATUSES)
    columns["items"] = 1 + rng.poisson(np.maximum(gross / 1_500.0 - 0.5, 0.1))
    columns["discount"] = discount
    columns["coupon"] = _cat(code, codes)
    del code, discount

    moved = day >= people.move_day[person]
    delivery_region = np.where(moved, people.new_region[person], people.region[person])
    del moved
    delivery_region[moved_last] = churn.new_region[person[moved_last]]
    shipping_rub = np.array([r.shipping_rub for r in _ALL_REGIONS], dtype=float)
    shipping = np.where(gross >= _FREE_DELIVERY_FROM_RUB, 0.0, shipping_rub[delivery_region])
    del gross
    shipping = np.where(shipping > 0, shipping + rng.choice([0, 0, 50, 100], n_orders), 0.0)
    surcharge = (shipping > 0) & (rng.random(n_orders) < _SURCHARGE_SHARE)
    surcharge[last] = False
    surcharge[small_basket] = True
    surcharged = np.flatnonzero(surcharge)
    del surcharge
    shipping[surcharged] += _SURCHARGES_RUB[rng.integers(0, _SURCHARGES_RUB.size, surcharged.size)]
    columns["shipping_cost"] = shipping
    columns["cost"] = np.round(columns["revenue"] * rng.uniform(0.55, 0.75, n_orders), 2)
    columns["channel"] = _cat(
        np.where(
            rng.random(n_orders) < 0.8,
            people.sales_channel[person],
            _pick(rng, _SALES_CHANNEL_SHARES, n_orders),
        ),
        _SALES_CHANNELS,
    )
    columns["delivery_region"] = _cat(delivery_region, _REGION_NAMES)
    del person

    days_min = np.array([r.delivery_days[0] for r in _ALL_REGIONS])[delivery_region]
    days_max = np.array([r.delivery_days[1] for r in _ALL_REGIONS])[delivery_region]
    del delivery_region
    promised_day = np.floor(day) + rng.integers(days_min, days_max + 1)
    del days_min, days_max
    late = rng.random(n_orders) < _LATE_SHARE
    late[last] = False
    late[late_planted] = True
    delay = rng.integers(1, 6, n_orders).astype(float)
    low, high = _PLANTED_DELAY_DAYS
    delay[late_planted] = rng.integers(low, high + 1, late_planted.size)
    delivered = np.where(late, promised_day + delay, promised_day - (rng.random(n_orders) < 0.2))
    del late, delay
    delivered += rng.uniform(0.35, 0.9, n_orders)
    delivered = np.maximum(delivered, day + 0.1)
    end_day = (end - opened) / pd.Timedelta(days=1) + 1.0
    not_delivered = (status == _STATUSES.index("cancelled")) | (delivered >= end_day)
    delivered[not_delivered] = np.nan
    del not_delivered, status
    columns["promised_delivery_date"] = _to_datetime(opened, promised_day)
    columns["delivered_at"] = _to_datetime(opened, delivered)
    # copy=False keeps one block per column: consolidating them would copy every column
    return pd.DataFrame(columns, copy=False)


def _customers(people: _People, churn: _Churn, opened: pd.Timestamp) -> pd.DataFrame:
    """One row per customer record (people, then duplicates), in registration order.

    ``region`` is the home region now: leavers who moved away and updated their profile show
    the unserved region they moved to (other movers keep the region they registered with).
    """
    p = people
    idx = p.original  # person of every record
    n_records = idx.size
    russian = p.russian[idx]
    female_ru = np.array([g == "F" for _, _, g in _FIRST_NAMES_RU])[p.first_ru[idx]]
    female_en = np.array([g == "F" for _, _, g in _FIRST_NAMES_EN])[p.first_en[idx]]
    female = np.where(russian, female_ru, female_en)

    first_ru = pd.Series(np.array([d for d, _, _ in _FIRST_NAMES_RU])[p.first_ru[idx]])
    first_en = pd.Series(np.array([d for d, _, _ in _FIRST_NAMES_EN])[p.first_en[idx]])
    surname_ru = np.where(
        female,
        np.array([f for _, f, _ in _SURNAMES_RU])[p.surname_ru[idx]],
        np.array([m for m, _, _ in _SURNAMES_RU])[p.surname_ru[idx]],
    )
    surname_en = np.array(_SURNAMES_EN)[p.surname_en[idx]]
    name = pd.Series(
        np.where(russian, (first_ru + " " + surname_ru).to_numpy(), (first_en + " " + surname_en))
    )

    latin_first = np.where(
        russian,
        np.array([s for _, s, _ in _FIRST_NAMES_RU])[p.first_ru[idx]],
        np.array([s for _, s, _ in _FIRST_NAMES_EN])[p.first_en[idx]],
    )
    latin_surname = np.where(
        russian,
        np.array([s for _, _, s in _SURNAMES_RU])[p.surname_ru[idx]],
        np.char.lower(surname_en),
    )
    number = pd.Series(p.email_number[idx]).astype(str)
    domain = np.array(_EMAIL_DOMAINS)[p.email_domain[idx]]
    style = p.email_style[idx]
    local = pd.Series(
        np.where(
            style == 0,
            (pd.Series(latin_first) + "." + latin_surname + "." + number).to_numpy(),
            np.where(
                style == 1,
                (pd.Series(latin_first) + number).to_numpy(),
                (pd.Series(latin_surname) + "_" + number).to_numpy(),
            ),
        )
    )
    email = local + "@" + domain
    email = email.where(~p.is_invalid_email[idx], _INVALID_EMAILS[p.invalid_email[idx]])

    digits = pd.Series(p.phone[idx]).astype(str)
    phone_styles = [
        "+7 ("
        + digits.str.slice(0, 3)
        + ") "
        + digits.str.slice(3, 6)
        + "-"
        + digits.str.slice(6, 8)
        + "-"
        + digits.str.slice(8, 10),
        "8" + digits,
        "+7" + digits,
    ]
    phone_format = p.phone_format[idx]

    # Duplicate records: same person, e-mail or phone written differently.
    dup = np.arange(n_records) >= p.n
    by_email = dup & p.dup_by_email
    variant = p.dup_variant
    email = email.where(~(by_email & (variant == 0)), email.str.upper())
    email = email.where(~(by_email & (variant == 1)), " " + email + " ")
    email = email.where(~(by_email & (variant == 2)), email.str.capitalize())
    phone_format = np.where(dup & ~by_email, (phone_format + 1 + variant % 2) % 3, phone_format)
    phone = phone_styles[0].where(phone_format == 0, phone_styles[1])
    phone = phone.where(phone_format != 2, phone_styles[2])
    # A duplicate made by its e-mail always keeps it; one made by its phone keeps the phone.
    has_email = p.has_email[idx] | by_email
    has_phone = p.has_phone[idx] | (dup & ~by_email)
    email = email.where(has_email & ~(by_email & p.is_invalid_email[idx]), None)
    if by_email.any():  # the duplicate's e-mail must stay valid to be recognizable
        email = email.where(~by_email | email.notna(), (local + "@" + domain).str.upper())
    phone = phone.where(has_phone, None)

    moved_away = churn.profile_moved[idx]
    region = np.where(moved_away, churn.new_region[idx], p.region[idx])
    region = np.where(p.has_region[idx] | moved_away, region, -1)
    city_code = np.where(region >= 0, 2 * region + p.city_second[idx], -1)
    cities = [c for r in _ALL_REGIONS for c in r.cities]
    birth = np.where(
        p.has_birth_date[idx],
        -p.birth_days_before_open[idx] - (np.arange(n_records) * 7919 % 365),
        np.nan,
    )
    referrer = p.referrer[idx]
    frame = pd.DataFrame(
        {
            "customer_id": p.customer_id,
            "registered_at": _to_datetime(opened, p.registered),
            "email": email.astype("str"),
            "phone": phone.astype("str"),
            "name": name,
            "birth_date": _to_datetime(opened, birth)
            .astype("datetime64[D]")
            .astype("datetime64[s]"),
            "gender": _cat(female.astype(np.int64), ["M", "F"]),
            "region": _cat(region, _REGION_NAMES),
            "city": _cat(city_code, cities),
            "acquisition_channel": _cat(p.channel[idx], _CHANNEL_NAMES),
            "referrer_id": pd.array(
                np.where(referrer >= 0, p.customer_id[referrer], 0), dtype="Int64"
            ),
            "consent_email": p.consent_email[idx],
            "consent_sms": p.consent_sms[idx],
        }
    )
    frame.loc[referrer < 0, "referrer_id"] = pd.NA
    return frame.sort_values("customer_id", kind="stable")


def _feedback(
    rng: np.random.Generator,
    people: _People,
    history: _History,
    churn: _Churn,
    orders: pd.DataFrame,
    opened: pd.Timestamp,
    end: pd.Timestamp,
    history_days: float,
) -> pd.DataFrame:
    """Reviews on a few orders, tickets on troubled ones, surveys of lapsed customers, and the
    tickets and low reviews leavers write about their reason after their last order."""
    n_orders = len(orders)
    order_day = (orders["order_date"].to_numpy() - np.datetime64(opened.to_datetime64(), "s")) / (
        np.timedelta64(1, "D")
    )
    status = orders["status"].cat.codes.to_numpy()
    late = orders["delivered_at"] > orders["promised_delivery_date"] + pd.Timedelta(days=1)
    late = late.to_numpy()
    returned = status == _STATUSES.index("returned")
    cancelled = status == _STATUSES.index("cancelled")
    customer_id = orders["customer_id"].to_numpy()

    # Reviews: ratings drop after late deliveries and returns.
    reviewed = np.flatnonzero((rng.random(n_orders) < _REVIEW_SHARE) & ~cancelled)
    base = _pick(rng, [0.04, 0.06, 0.12, 0.30, 0.48], reviewed.size) + 1
    penalty = late[reviewed] * rng.integers(1, 3, reviewed.size) + returned[reviewed] * 2
    rating = np.clip(base - penalty, 1, 5)
    review_reason = np.where(
        rating <= 2,
        np.where(late[reviewed], "delivery", np.where(returned[reviewed], "quality", "")),
        "",
    )

    # Tickets: 8% of late, returned and cancelled orders.
    troubled = late | returned | cancelled
    ticketed = np.flatnonzero(troubled & (rng.random(n_orders) < 0.08))
    ticket_reason = np.where(
        late[ticketed], "delivery", np.where(returned[ticketed], "quality", "support")
    )
    ticket_reason = np.where(
        (ticket_reason == "support") & (rng.random(ticketed.size) < 0.3),
        "delivery_cost",
        ticket_reason,
    )

    # Leavers: a ticket and/or a low review about their reason, days after the last order.
    reasons = np.array([*_REASONS, ""])  # code -1: not a leaver
    leaver_ticket = np.flatnonzero(churn.ticket & np.isin(churn.reason, _codes(_TICKET_TEXTS)))
    leaver_ticket_reason = reasons[churn.reason[leaver_ticket]]
    leaver_review = np.flatnonzero(churn.review & np.isin(churn.reason, _codes(_LEAVER_REVIEWS)))
    leaver_review_reason = reasons[churn.reason[leaver_review]]
    leaver_rating = np.zeros(leaver_review.size)
    for reason, (ratings, _) in _LEAVER_REVIEWS.items():
        hit = leaver_review_reason == reason
        leaver_rating[hit] = np.array(ratings)[rng.integers(0, len(ratings), hit.sum())]

    # Surveys: 12% of customers silent for over 120 days answer why they left. Leavers name
    # their reason (80%) or another one; customers who have not left answer loosely.
    last = np.flatnonzero(np.r_[history.person[1:] != history.person[:-1], True])
    lapsed = last[
        (history_days - history.day[last] > 120) & (rng.random(last.size) < _SURVEY_SHARE)
    ]
    # forgot, delivery cost, price, moved, quality, delivery, support
    survey_reason_code = _pick(rng, [0.35, 0.2, 0.2, 0.0, 0.1, 0.1, 0.05], lapsed.size)
    true_reason = churn.reason[history.person[lapsed]]
    truthful = (true_reason >= 0) & (rng.random(lapsed.size) < _SURVEY_TRUTHFUL)
    survey_reason_code = np.where(truthful, true_reason, survey_reason_code)
    survey_day = history.day[lapsed] + rng.uniform(90, 150, lapsed.size)
    answered = survey_day < history_days
    survey_reason = np.array(_REASONS)[survey_reason_code[answered]]

    def pool_text(pools: dict, keys: np.ndarray) -> np.ndarray:
        out = np.empty(keys.size, dtype=object)
        for key, texts in pools.items():
            hit = keys == key
            out[hit] = np.array(texts, dtype=object)[rng.integers(0, len(texts), hit.sum())]
        return out

    created = np.concatenate(
        [
            order_day[reviewed] + rng.uniform(2, 12, reviewed.size),
            order_day[ticketed] + rng.uniform(1, 8, ticketed.size),
            churn.dropout_day[leaver_review] + rng.uniform(2, 12, leaver_review.size),
            churn.dropout_day[leaver_ticket] + rng.uniform(1, 10, leaver_ticket.size),
            survey_day[answered],
        ]
    )
    sizes = [reviewed.size, ticketed.size, leaver_review.size, leaver_ticket.size, answered.sum()]
    frame = pd.DataFrame(
        {
            "customer_id": np.concatenate(
                [
                    customer_id[reviewed],
                    customer_id[ticketed],
                    people.customer_id[churn.dropout_record[leaver_review]],
                    people.customer_id[churn.dropout_record[leaver_ticket]],
                    people.customer_id[history.record[lapsed][answered]],
                ]
            ),
            "created_at": _to_datetime(opened, created),
            "kind": _cat(np.repeat([0, 1, 0, 1, 2], sizes), ["review", "ticket", "survey"]),
            "rating": np.concatenate(
                [
                    rating,
                    np.full(ticketed.size, np.nan),
                    leaver_rating,
                    np.full(leaver_ticket.size + answered.sum(), np.nan),
                ]
            ),
            "text": np.concatenate(
                [
                    pool_text(_REVIEW_TEXTS, rating),
                    pool_text(_TICKET_TEXTS, ticket_reason),
                    pool_text({k: v[1] for k, v in _LEAVER_REVIEWS.items()}, leaver_review_reason),
                    pool_text(_TICKET_TEXTS, leaver_ticket_reason),
                    pool_text(_SURVEY_TEXTS, survey_reason),
                ]
            ),
            "reason": pd.Categorical(
                np.concatenate(
                    [
                        review_reason,
                        ticket_reason,
                        leaver_review_reason,
                        leaver_ticket_reason,
                        survey_reason,
                    ]
                ),
                categories=[*_REASONS, ""],
            ).remove_categories([""]),
        }
    )
    frame["text"] = frame["text"].astype("str")
    end_day = (end - opened) / pd.Timedelta(days=1) + 1.0
    frame = frame[created < end_day]
    return frame.sort_values("created_at", kind="stable")


def _codes(pools: dict) -> list[int]:
    """Reason codes of the reasons a text pool has texts for."""
    return [_REASON_CODE[reason] for reason in pools]


def _messages(
    rng: np.random.Generator,
    people: _People,
    history: _History,
    churn: _Churn,
    winback: _Winback,
    opened: pd.Timestamp,
    history_days: float,
) -> pd.DataFrame:
    """Monthly e-mail newsletters and SMS promotions to a share of consenting customers, and the
    win-back messages. Forgetful leavers get no newsletter from 120 days before their last order
    on: that silence is what made them forget."""
    send_day_of_month = 9.5  # campaigns go out on the 10th, mid-morning
    first_month = opened.to_period("M")
    n_months = int(np.ceil(history_days / 30.44)) + 1
    month_start = (
        pd.period_range(first_month, periods=n_months, freq="M").start_time - opened
    ) / pd.Timedelta(days=1)
    send_day = month_start.to_numpy() + send_day_of_month
    valid = (send_day >= 0) & (send_day < history_days)
    send_day = send_day[valid]
    months = pd.period_range(first_month, periods=n_months, freq="M")[valid]
    quiet_from = np.where(
        churn.reason == _REASON_CODE["forgot"], churn.dropout_day - _FORGOT_QUIET_DAYS, np.inf
    )

    parts = []
    for channel, consent, share in (
        ("email", people.consent_email, _EMAIL_MONTHLY_SHARE),
        ("sms", people.consent_sms, _SMS_MONTHLY_SHARE),
    ):
        person = np.flatnonzero(consent)
        first = np.searchsorted(send_day, people.registered[person], side="right")
        eligible = send_day.size - first
        person = np.repeat(person, eligible)
        month = np.repeat(first, eligible) + _rank_in_group(eligible)
        chosen = rng.random(person.size) < share
        person, month = person[chosen], month[chosen]
        sent = send_day[month] + rng.uniform(0, 0.3, person.size)

        opened_msg = rng.random(person.size) < (0.25 if channel == "email" else 0.9)
        clicked = opened_msg & (rng.random(person.size) < (0.2 if channel == "email" else 0.05))
        month_names = months.strftime("%Y-%m").to_numpy()[month]
        prefix = "newsletter-" if channel == "email" else "sms-promo-"
        campaign = pd.Series(prefix + month_names.astype(object))
        november = months.month.to_numpy()[month] == 11
        campaign = campaign.where(
            ~november, "black-friday-" + months.year.to_numpy()[month].astype(str).astype(object)
        )
        keep = sent < quiet_from[person]
        parts.append(
            {
                "person": person[keep],
                "record": person[keep],
                "sent": sent[keep],
                "channel": np.full(keep.sum(), channel == "sms", dtype=np.int64),
                "campaign": campaign.to_numpy()[keep],
                "opened": opened_msg[keep],
                "clicked": clicked[keep],
            }
        )
    parts.append(winback.messages)
    rows = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}

    # converted: the customer ordered within seven days of the message (and clicked it)
    purchase_key = history.person.astype(np.int64) * 2**32 + np.floor(history.day * 1_000).astype(
        np.int64
    )  # grouped by person, time-sorted: a sorted key
    person, sent = rows["person"].astype(np.int64), rows["sent"]
    probe = person * 2**32 + np.floor(sent * 1_000).astype(np.int64)
    nxt = np.searchsorted(purchase_key, probe, side="left")
    nxt_safe = np.minimum(nxt, purchase_key.size - 1)
    bought_soon = (
        (nxt < purchase_key.size)
        & (history.person[nxt_safe] == person)
        & (history.day[nxt_safe] - sent <= _CONVERSION_WINDOW_DAYS)
    )
    frame = pd.DataFrame(
        {
            "customer_id": people.customer_id[rows["record"].astype(np.int64)],
            "sent_at": _to_datetime(opened, sent),
            "channel": _cat(rows["channel"], ["email", "sms"]),
            "campaign": pd.Categorical(rows["campaign"]),
            "opened": rows["opened"].astype(bool),
            "clicked": rows["clicked"].astype(bool),
            "converted": rows["clicked"].astype(bool) & bought_soon,
        }
    )
    return frame.sort_values("sent_at", kind="stable")


def _experiments(
    rng: np.random.Generator,
    people: _People,
    history: _History,
    opened: pd.Timestamp,
    end: pd.Timestamp,
    history_days: float,
) -> tuple[pd.DataFrame, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Assign customers who ordered during each experiment's window, at their first such order.

    Built from the purchase history before the orders table, so that an effect can be planted
    in between: also returns ``exp_month2``'s (person, assignment day, variant: 1 = B) for
    :func:`_month2_purchases`.
    """
    frames = []
    month2 = (np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64))
    for experiment_id, months_from, months_to, share_b in _EXPERIMENTS:
        start_day = max((end - pd.DateOffset(months=months_from) - opened).days, 0)
        stop_day = max((end - pd.DateOffset(months=months_to) - opened).days, 0)
        in_window = np.flatnonzero((history.day >= start_day) & (history.day < stop_day))
        # history is grouped by person and time-sorted: the first hit per person is the exposure
        first_hit = in_window[np.diff(history.person[in_window], prepend=-1) != 0]
        # Exact counts, so the planted sample-ratio mismatch does not depend on luck.
        variant = np.zeros(first_hit.size, dtype=np.int64)
        variant[rng.permutation(first_hit.size)[: round(share_b * first_hit.size)]] = 1
        if experiment_id == "exp_month2":
            month2 = (history.person[first_hit], history.day[first_hit], variant)
        frames.append(
            pd.DataFrame(
                {
                    "experiment_id": experiment_id,
                    "customer_id": people.customer_id[history.record[first_hit]],
                    "variant": _cat(variant, ["A", "B"]),
                    "assigned_at": _to_datetime(opened, history.day[first_hit]),
                }
            )
        )
    return pd.concat(frames, ignore_index=True), month2


# ==================================================================================================
# Dirty rows
# ==================================================================================================


def _dirty_orders(rng: np.random.Generator, orders: pd.DataFrame) -> pd.DataFrame:
    """Spoil a few rows of each kind a loader must reject; dates and amounts become text."""
    n_orders = len(orders)
    per_kind = max(_MIN_DIRTY_PER_KIND, round(_DIRTY_ORDER_SHARE * n_orders / _DIRTY_KINDS))
    rows = rng.choice(n_orders, 5 * per_kind, replace=False).reshape(5, per_kind)
    bad_date, bad_revenue, no_customer, future, ancient = rows

    frame = orders  # spoiled in place: a copy of ten million rows costs a gigabyte
    revenue_before = frame["revenue"].to_numpy()
    order_date = _as_text(frame["order_date"])
    revenue = _as_text(frame["revenue"])
    order_date.iloc[bad_date] = _BAD_DATES[rng.integers(0, _BAD_DATES.size, per_kind)]
    order_date.iloc[future] = (
        "2031-" + pd.Series(rng.integers(1, 13, per_kind)).map("{:02d}".format) + "-15 12:00:00"
    )
    order_date.iloc[ancient] = "1999-05-01 10:00:00"
    revenue.iloc[bad_revenue] = _BAD_REVENUES[rng.integers(0, _BAD_REVENUES.size, per_kind)]
    frame["order_date"] = order_date.array
    frame["revenue"] = revenue.array
    frame["customer_id"] = frame["customer_id"].astype("Int64")
    frame.loc[no_customer, "customer_id"] = pd.NA

    clean = np.ones(n_orders, dtype=bool)
    clean[rows.ravel()] = False
    copies = rng.choice(np.flatnonzero(clean), 2 * per_kind, replace=False)
    exact = frame.iloc[copies[:per_kind]]
    conflicting = frame.iloc[copies[per_kind:]].copy()
    conflicting["revenue"] = (
        (revenue_before[copies[per_kind:]] * rng.uniform(1.1, 2.0, per_kind)).round(2).astype(str)
    )
    # A re-exported batch appended at the end of the file.
    return pd.concat([frame, exact, conflicting], ignore_index=True)


def _as_text(column: pd.Series) -> pd.Series:
    """Values as text, the way a CSV export writes them (pyarrow: fast on millions of rows)."""
    return pd.Series(pd.array(pa.array(column.to_numpy()).cast(pa.string()), dtype="str"))


def _dirty_customers(rng: np.random.Generator, customers: pd.DataFrame) -> pd.DataFrame:
    """Repeat a few customer rows exactly, as exports joined twice do."""
    n_copies = max(_MIN_DIRTY_PER_KIND, round(0.002 * len(customers)))
    copies = customers.iloc[rng.choice(len(customers), n_copies, replace=False)]
    return pd.concat([customers, copies]).sort_values("customer_id", kind="stable")
