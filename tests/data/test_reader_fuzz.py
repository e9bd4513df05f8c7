"""Fuzzing the CSV reader: random exports in random dialects, whole or damaged.

Whatever the file, loading either stops with a clear DataError that quotes none of the data, or
accounts for every record: read == accepted + rejected, no record is counted twice or lost, and
every accepted amount is the amount the file holds for that order.
"""

import csv
import io
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custkit.data import load_store
from custkit.errors import DataError
from custkit.params import parse_params

TODAY = "2026-11-23"
HEADER = ["order_id", "customer_id", "order_date", "revenue", "status"]
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def exports(draw):
    """A valid CSV export: its bytes, the params of its source, and the orders it holds."""
    sep = draw(st.sampled_from([",", ";", "\t"]))
    decimal = draw(st.sampled_from([".", ","]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1251"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    # status texts: quotes, separators and Cyrillic; line breaks only without separators (a
    # multi-line value that holds a record's worth of separators is read as damage on purpose)
    one_line = st.text(alphabet=f'ab Яё"{sep}', max_size=8)
    multi_line = st.text(alphabet='ab Яё"\n', max_size=8)
    n = draw(st.integers(1, 40))
    orders = {}
    for order_id in range(1, n + 1):
        cents = draw(st.integers(0, 10**8))
        status = draw(st.one_of(one_line, multi_line, st.sampled_from(["", "completed"])))
        day = draw(st.integers(1, 28))
        orders[order_id] = (Decimal(cents) / 100, status, f"2025-03-{day:02d}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, quoting=quoting, lineterminator=newline)
    writer.writerow(HEADER)
    for order_id, (revenue, status, day) in orders.items():
        amount = f"{revenue:.2f}".replace(".", decimal)
        writer.writerow([order_id, order_id % 7, day, amount, status])
    source = {"path": "o.csv", "sep": sep, "decimal": decimal, "encoding": encoding}
    return buffer.getvalue().encode(encoding), source, orders


def _load(folder, data, source):
    (folder / "o.csv").write_bytes(data)
    params = parse_params({"sources": {"orders": source}}, path=folder / "params.yaml")
    return load_store(params, today=TODAY, cache_dir=folder / "cache")


def _check_amounts(store, orders, untouched):
    # ids compared as text: junk in one id makes them all text ids
    accepted = store.orders.set_index(store.orders["order_id"].astype(str))["revenue"]
    for order_id in untouched:
        if str(order_id) in accepted.index:
            assert accepted[str(order_id)] == pytest.approx(float(orders[order_id][0]), abs=1e-9)


@FUZZ
@given(export=exports())
def test_a_valid_export_is_read_whole_with_its_amounts(tmp_path_factory, export):
    data, source, orders = export
    store = _load(tmp_path_factory.mktemp("valid"), data, source)
    acc = store.accounting["orders"]
    assert acc.read == len(orders) == acc.accepted + acc.rejected
    assert acc.rejected == 0, dict(acc.reasons)
    _check_amounts(store, orders, orders)
    assert store.orders["revenue"].sum() == pytest.approx(
        float(sum(revenue for revenue, _, _ in orders.values())), abs=1e-6
    )
    statuses = store.orders.set_index("order_id")["status"]
    for order_id, (_, status, _) in orders.items():
        expected = status.strip() or None  # text values are read stripped
        got = statuses[order_id]
        assert (None if got is None or got != got else got) == expected


CORRUPTIONS = ["stray_quote", "extra_field", "missing_field", "truncated", "junk"]


@FUZZ
@given(
    export=exports(),
    corruption=st.sampled_from(CORRUPTIONS),
    where=st.floats(0, 1, exclude_max=True),
    junk=st.binary(min_size=1, max_size=6),
)
def test_a_damaged_export_is_refused_clearly_or_accounted_for(
    tmp_path_factory, export, corruption, where, junk
):
    data, source, orders = export
    encoding = source["encoding"]
    sep = source["sep"].encode()
    lines = data.split(b"\n")
    body = [i for i in range(1, len(lines)) if lines[i].strip()]
    target = body[int(where * len(body))]
    line = lines[target]
    if corruption == "stray_quote":
        fields = line.split(sep)
        fields[int(where * 7) % len(fields)] = b'"' + fields[int(where * 7) % len(fields)]
        line = sep.join(fields)
    elif corruption == "extra_field":
        line = line.rstrip(b"\r") + sep + b"extra"
    elif corruption == "missing_field":
        line = sep.join(line.split(sep)[:-1])
    elif corruption == "junk":
        cut = int(where * len(line))
        line = line[:cut] + junk + line[cut:]
    lines[target] = line
    if corruption == "truncated":
        lines = lines[: target + 1]
        lines[target] = line[: max(1, int(where * len(line)))]
    damaged = b"\n".join(lines)
    # the records the damage may have touched: from the damaged line to the next clean one
    text = damaged.decode(encoding, errors="replace")
    touched = {
        order_id
        for order_id in orders
        if f"\n{order_id}{source['sep']}" not in text and f'\n"{order_id}"' not in text
    }
    touched |= _ids_near(orders, target, data)

    try:
        store = _load(tmp_path_factory.mktemp("damaged"), damaged, source)
    except DataError as exc:
        message = str(exc)
        for _, status, _ in orders.values():
            assert len(status) < 5 or status not in message  # never the data itself
        return
    acc = store.accounting["orders"]
    assert (
        acc.read == acc.accepted + acc.rejected == len(store.orders) + len(store.rejected["orders"])
    )
    # pyarrow skips empty lines only; a line of spaces is a (malformed) record
    data_lines = [ln for ln in damaged.replace(b"\r\n", b"\n").split(b"\n")[1:] if ln]
    assert acc.read <= len(data_lines)
    untouched = set(orders) - touched
    _check_amounts(store, orders, untouched)
    missing = {str(i) for i in untouched} - set(store.orders["order_id"].astype(str))
    # an untouched record not accepted was set aside as malformed (its line was read alone)
    assert len(missing) <= acc.reasons.get("malformed_row", 0)


def _ids_near(orders, target, data):
    """Order ids of the records around the damaged line (a line may hold part of a record)."""
    before = data.split(b"\n")[:target]
    record = sum(1 for _ in csv.reader(io.StringIO(b"\n".join(before).decode("latin-1")))) - 1
    return {i for i in orders if abs(i - record) <= 2 or abs(i - target) <= 2}
