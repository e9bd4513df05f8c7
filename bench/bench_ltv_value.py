"""`make bench` (bench-ltv-value): the LTV report's "What the base is worth" step, side by side.

The step (``custkit.ltv.customer_value``: fit the purchase and spend models on everyone, value
each customer over 3, 6 and 12 months, the 200-draw interval of the total) for Pareto/NBD and
BG/NBD on a store's orders, run twice: as it runs now, and with Pareto/NBD's ``_pair_index``
put back to main's ``numpy.unique(axis=0)`` and its predictions computing P(alive) once per
horizon (as before issue 15: the interval asks for 12 horizons × 1,000 customers at once, and
each call sorted all of them). Prints the times, their ratio (before / now) and the largest
difference between the two runs' numbers (0 expected: the same terms, found faster).

Measured on the demo (15,848 buyers, 2 cores): quiet, Pareto/NBD 4.0 s → 0.8 s (×4.8), BG/NBD
0.39 s → 0.39 s; shared with other jobs, Pareto/NBD 8.5 s → 3.3 s (×2.6), BG/NBD 2.3 s → 1.8 s.
On a 100k-customer demo (`custkit demo --customers 100000`, 79,209 buyers, load ~5): Pareto/NBD
20.0 s → 7.3 s (×2.7; the fit is now 5.8 s of it), BG/NBD 1.7 s → 1.7 s. The numbers are
bit-identical.

Usage: python bench/bench_ltv_value.py [--params params/demo.yaml] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

# as report kernels run (see custkit.reports.execute): set before numpy is imported
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")

import numpy as np

import custkit as ck
from custkit import ltv
from custkit.data.periods import resolve_period
from custkit.ltv import paretonbd

ROOT = Path(__file__).resolve().parent.parent


def _pair_index_by_sorting(x, t_x, T):
    """main's pair index before issue 15: the rows sorted as bytes by ``numpy.unique``."""
    n = x.shape[0]
    pairs = np.stack([np.concatenate([x, x]), np.concatenate([t_x, T])], axis=1)
    distinct, inverse = np.unique(pairs, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    return distinct[:, 0].copy(), distinct[:, 1].copy(), inverse[:n], inverse[n:]


def _conditional_one_horizon_at_a_time(params, t, x, t_x, T):
    """main's conditional expectation before issue 15: P(alive) on the broadcast rows."""
    r, alpha, s, beta = paretonbd._unpack(params)
    t, x, t_x, T = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (t, x, t_x, T)))
    p_alive = paretonbd._p_alive((r, alpha, s, beta), x, t_x, T)
    return p_alive * (r + x) / (alpha + T) * paretonbd._expected_time_alive(s, beta + T, t)


@contextmanager
def as_before():
    saved = paretonbd._pair_index, paretonbd._conditional_expected_purchases
    paretonbd._pair_index = _pair_index_by_sorting
    paretonbd._conditional_expected_purchases = _conditional_one_horizon_at_a_time
    try:
        yield
    finally:
        paretonbd._pair_index, paretonbd._conditional_expected_purchases = saved


def _numbers(value) -> np.ndarray:
    columns = value.clv[["clv", "p_alive", "expected_purchases", "value_at_risk"]]
    interval = value.interval
    extra = [interval.lower, interval.upper] if interval is not None else []
    return np.r_[columns.to_numpy(np.float64).ravel(), value.outlook["clv"].to_numpy(), extra]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default=str(ROOT / "params" / "demo.yaml"))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best is kept")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # fit fallbacks warn; the numbers are compared below
    store = ck.load_store(args.params, tables=ltv.READS)
    period = resolve_period("", store.orders["order_date"].max())  # the last complete month
    orders, as_of = store.orders, period.as_of
    reductions = ck.reduce_orders(orders, as_of, customer_days=True)
    customers = reductions.customers["customer_id"].nunique()
    print(f"customer_value on {customers:,} customers ({args.params}), best of {args.repeat}")
    print(f"  {'model':<12}{'before':>10}{'now':>10}{'ratio':>8}  largest difference")
    for model in ("Pareto/NBD", "BG/NBD"):
        times, results = {}, {}
        for label in ("before", "now"):
            best = np.inf
            for _ in range(args.repeat):
                start = time.perf_counter()
                if label == "before":
                    with as_before():
                        value = ltv.customer_value(orders, as_of, model, reductions)
                else:
                    value = ltv.customer_value(orders, as_of, model, reductions)
                best = min(best, time.perf_counter() - start)
            times[label], results[label] = best, _numbers(value)
        diff = float(np.nanmax(np.abs(results["before"] - results["now"])))
        ratio = times["before"] / times["now"]
        print(
            f"  {model:<12}{times['before']:>9.2f}s{times['now']:>9.2f}s{ratio:>7.1f}×  {diff:.3g}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
