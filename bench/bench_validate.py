"""Parsing and validating 10M orders as a CSV source delivers them (every column text).

Runs ``validate_table`` of this checkout and of another git revision (default ``main``) on the
same generated frames, alternately, and prints the wall time of each and their ratio. Two
shapes: a plain export (ISO dates, ``1234.50``) and a Russian one (``dd.mm.yyyy hh:mm`` dates,
``1 234,50`` amounts with decimal ``,``).

Measured on 10M orders (2026-11-23, the shared 2-core machine, against main before issue 13's
parsing rules): plain 57.7 s → 12.6 s (ratio 0.22), Russian 69.8 s → 17.0 s (ratio 0.24). Main's
time is mostly ``pandas.to_numeric`` on text ids and amounts and ``to_datetime`` with a
``%d.%m.%Y`` format; this checkout casts with Arrow.

Usage: python bench/bench_validate.py [--orders N] [--against REV] [--repeat K]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from custkit.contract import TABLES
from custkit.data import validate as current
from custkit.params import SourceSpec

ROOT = Path(__file__).resolve().parents[1]


def revision_module(rev: str):
    """``custkit.data.validate`` as it is at git revision *rev*, imported under another name."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:custkit/data/validate.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    spec = importlib.util.spec_from_loader(f"custkit_validate_at_{rev}", loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    exec(compile(source, f"{rev}:custkit/data/validate.py", "exec"), module.__dict__)
    return module


def orders_frame(n: int, russian: bool, seed: int = 1) -> pd.DataFrame:
    """*n* orders as text columns, the way the CSV reader returns them."""
    rng = np.random.default_rng(seed)
    seconds = rng.integers(0, 700 * 86_400, n)
    when = pd.Timestamp("2024-12-01") + pd.to_timedelta(np.sort(seconds), unit="s")
    cents = rng.integers(100, 5_000_000, n)
    if russian:
        dates = when.strftime("%d.%m.%Y %H:%M")
        amounts = pd.Series(cents // 100).map("{:,}".format).str.replace(",", "\u00a0")
        amounts = amounts + "," + pd.Series(cents % 100).map("{:02d}".format)
    else:
        dates = when.strftime("%Y-%m-%d %H:%M:%S")
        amounts = pd.Series(cents / 100).map("{:.2f}".format)
    frame = pd.DataFrame(
        {
            "order_id": pd.Series(np.arange(1, n + 1)).astype("str"),
            "customer_id": pd.Series(rng.integers(1, n // 10 + 2, n)).astype("str"),
            "order_date": pd.Series(dates).astype("str"),
            "revenue": amounts.astype("str"),
            "status": pd.Series(rng.choice(["completed", "cancelled", "returned"], n)),
        }
    )
    return frame.astype("str")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--against", default="main", help="git revision to compare with")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    before = revision_module(args.against)
    orders = TABLES["orders"].select(["status"])
    today = pd.Timestamp("2026-11-23")
    for russian in (False, True):
        spec = SourceSpec(
            table="orders",
            decimal="," if russian else ".",
            date_format="%d.%m.%Y" if russian else None,
        )
        shape = "Russian (dd.mm.yyyy, 1 234,50)" if russian else "plain (ISO, 1234.50)"
        print(f"generating {args.orders:,} orders, {shape} …", flush=True)
        raw = orders_frame(args.orders, russian)
        times: dict[str, list[float]] = {args.against: [], "this checkout": []}
        for _ in range(args.repeat):
            for label, module in ((args.against, before), ("this checkout", current)):
                gc.collect()
                started = time.perf_counter()
                result = module.validate_table(raw, orders, spec, today=today)
                times[label].append(time.perf_counter() - started)
                assert len(result.accepted) == len(raw), (label, result.reason_counts)
                del result
        old, new = min(times[args.against]), min(times["this checkout"])
        print(
            f"{shape:<32} {args.against}: {old:6.2f} s   this checkout: {new:6.2f} s   "
            f"ratio {new / old:.2f}",
            flush=True,
        )
        del raw
    sys.exit(0)


if __name__ == "__main__":
    main()
