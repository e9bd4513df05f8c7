"""`make bench`: the customer audit on 1M customers / ~10M orders read from Parquet.

Prints wall time and peak resident memory per step (each audit step as the notebook calls it),
the per-customer summary side by side with a plain pandas group-by (ratio), and the whole report
run end to end through papermill, as `custkit run audit` does it. Targets (issue 3): the whole
audit ≤ 20 s and ≤ 2 GiB; the per-customer summary of 10M orders ≤ 3 s.

The store is generated once into bench/out/ (about a minute) and reused. It is written with typed
columns (``dirty=False``), as a store's Parquet export would be; dirty rows are the CSV demo's job.

Usage: python bench/bench_audit.py [--customers N] [--orders-per-customer K] [--skip-report]
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import time
from pathlib import Path

# as report kernels run (see custkit.reports.execute): set before numpy is imported
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import Steps, print_report_run

import custkit as ck
from custkit import audit, plots

OUT = Path(__file__).resolve().parent / "out"


def ensure_store(customers: int, per_customer: float) -> Path:
    folder = OUT / f"store-{customers}-{per_customer:g}"
    if not (folder / "params.yaml").exists():
        print(f"generating {customers:,} customers into {folder} (once) …", flush=True)
        started = time.perf_counter()
        # in a child process, so the generator's memory does not count against the audit's peak
        code = (
            "from custkit.data.demo import write_demo_store; "
            f"write_demo_store({str(folder)!r}, {customers}, fmt='parquet', dirty=False, "
            f"orders_per_customer={per_customer})"
        )
        subprocess.run([sys.executable, "-c", code], check=True)
        print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)
    return folder / "params.yaml"


def audit_steps(params_file: Path, steps: Steps) -> None:
    """Every computation and figure of custkit/notebooks/audit.ipynb, timed one by one."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with steps.step("load orders + customers (Parquet)"):
        store = ck.load_store(params_file, tables=audit.READS)
    orders, customers = store.orders, store.customers
    print(f"    {len(orders):,} orders, {len(customers):,} customers", flush=True)
    period = ck.data.resolve_period(None, orders["order_date"].max())
    with steps.step("per-customer summary (reduce_orders)"):
        red = ck.reduce_orders(orders, period.as_of)
    with steps.step("headline KPIs + comparison + trend"):
        kpis = audit.kpi_comparison(red, period)
        headline = audit.headline_kpis(red, period)
        trend = audit.kpi_trend(red, period)
    with steps.step("base health"):
        turnover = audit.base_turnover(red, period)
        lapsed = audit.lapsed_bands(red, period)
        audit.health_finding(headline["annual_churn_rate"], turnover)
    with steps.step("acquisition"):
        by_channel = audit.acquisition_by(red, period, customers)
        audit.acquisition_by(red, period, customers, by="region")
        referral = audit.referral_performance(red, period, customers)
        audit.acquisition_finding(by_channel, referral)
    with steps.step("conversion funnel"):
        funnel = audit.conversion_funnel(red, period, customers)
    with steps.step("cohort retention"):
        retention = audit.cohort_retention(red, period)
        audit.time_to_second_order(red, period)
    with steps.step("RF segments + migration"):
        scores = audit.rfm_scores(red, period)
        previous = audit.rfm_scores(red, period.previous_month)
        segments = audit.segment_summary(scores)
        migration = audit.segment_migration(scores, previous)
    with steps.step("categories"):
        categories = audit.customer_categories(red, period, customers)
        crosstabs = [
            audit.category_crosstab(categories, rows, columns)
            for rows, columns in [
                ("region", "activity"),
                ("region", "loyalty"),
                ("channel", "loyalty"),
            ]
        ]
    with steps.step("data cleanliness"):
        quality = audit.contact_quality(customers)
        duplicates = audit.duplicate_groups(customers)
        audit.cleanliness_finding(quality, duplicates, audit.rejected_rows(store.accounting))
    with steps.step("exports (computed and written)"):
        from custkit.reports.context import ReportContext

        ctx = ReportContext("audit", store, store.params, period, OUT / "exports-step")
        action_lists = {
            "reactivation_list": audit.reactivation_list(red, period, customers),
            "birthdays_next_month": audit.birthdays_next_month(period, customers, red),
            "duplicates_to_merge": audit.duplicates_to_merge(customers, red, groups=duplicates),
        }
        for name, frame in action_lists.items():
            ctx.export(frame, name)
    with steps.step("figures"):
        figures = [
            plots.plot_kpi_trend(trend),
            plots.plot_base_turnover(turnover),
            plots.plot_lapsed_bands(lapsed),
            plots.plot_acquisition(by_channel),
            plots.plot_funnel(funnel),
            plots.plot_cohort_retention(retention),
            plots.plot_segments(segments),
            plots.plot_migration(migration),
            plots.plot_cleanliness(quality),
            *(plots.plot_categories(crosstab) for crosstab in crosstabs),
        ]
        plt.close("all")
    del kpis, figures

    with steps.step("same summary, plain pandas group-by"):
        bought = ck.purchases(orders, period.as_of)
        bought.groupby("customer_id").agg(
            first_order_date=("order_date", "min"),
            last_order_date=("order_date", "max"),
            orders=("order_date", "size"),
            revenue=("revenue", "sum"),
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders-per-customer", type=float, default=10.0)
    parser.add_argument("--skip-report", action="store_true", help="skip the papermill run")
    args = parser.parse_args()

    params_file = ensure_store(args.customers, args.orders_per_customer)
    print(f"\naudit steps in one process ({pd.__name__} {pd.__version__}):")
    steps = Steps()
    audit_steps(params_file, steps)
    computed = [name for name, _, _ in steps.rows if "plain pandas" not in name]
    audit_seconds = steps.total_seconds(computed)
    ours = next(s for n, s, _ in steps.rows if n.startswith("per-customer summary"))
    pandas_s = next(s for n, s, _ in steps.rows if "plain pandas" in n)
    print(f"\n  audit steps total: {audit_seconds:.1f} s, peak {steps.peak_gib(computed):.2f} GiB")
    print(
        f"  per-customer summary: custkit {ours:.2f} s vs pandas group-by {pandas_s:.2f} s "
        f"({pandas_s / ours:.1f}x)"
    )
    gc.collect()

    if not args.skip_report:
        if not print_report_run("audit", params_file, OUT / "reports", "<= 20 s, <= 2 GiB"):
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
