"""`make bench` (bench-splittest): the split-test review of 20 experiments over 1M customers /
~10M orders, side by side with a plain pandas implementation of the same metrics.

The store is the one bench_audit.py generates once (bench/out/store-1000000-10, Parquet). Its
customers get 20 synthetic experiments, generated here: each assigns a random quarter of all
customers (buyers or not) over a 60-day period, the periods staggered over the last 14 months, so
that some tests are complete and some still running at the as-of date; 50/50 splits, except three
A/B/C tests and one with a planned 20/80 holdout. About 0.1% of the rows are bad on purpose
(repeats, customers in two variants, assignments after the as-of date) to exercise the checks.
That is 5 million assignment rows.

Timed steps, each with its peak resident memory: loading the orders (status, cost), the
per-customer-day reduction shared with the other reports, the review (assignments checked, every
customer's 30/60/90-day windows, month-since-exposure and pre-exposure sums), and every number of
the report (KPIs with the verdicts, each experiment's tables, planning). Target (issue 6): the
review of 20 experiments ≤ 15 s. Side by side, from the same per-customer-day table and the same
checked assignments, the per-variant window sums (30/60/90 days, pre-exposure covariate):
custkit's ``exposure_sums`` (which also keeps the completion months and the months since
exposure) and a plain pandas implementation written the usual way (per experiment: merge, filter
the days, group by customer, then by variant); the pandas sums are checked against custkit's and
the ratio of the two times is printed. Finally the
whole report runs as `custkit run splittest` does (papermill kernel + HTML; 40 figures), unless
``--skip-report``.

Usage: python bench/bench_splittest.py [--customers N] [--experiments K] [--skip-report]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import warnings
from pathlib import Path

# as report kernels run (see custkit.reports.execute): set before numpy is imported
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_audit import OUT, ensure_store
from measure import Steps, print_report_run

import custkit as ck
from custkit import splittest

WINDOWS = (30, 60, 90)
PRE_DAYS = 90
SUM_COLUMNS = (
    "customers",
    "sum_conversion",
    "sum_repeat_purchase",
    "sum_orders",
    "sumsq_orders",
    "sum_revenue",
    "sumsq_revenue",
    "sum_revenue_x_orders",
    "sum_margin",
    "sumsq_margin",
    "sum_pre_revenue",
    "sum_pre_revenue_x_revenue",
)


def synthetic_assignments(
    customer_ids: np.ndarray, as_of: pd.Timestamp, experiments: int = 20, seed: int = 0
) -> tuple[pd.DataFrame, dict]:
    """*experiments* tests over a quarter of the customers each, with 0.1% bad rows."""
    rng = np.random.default_rng(seed)
    frames, plans = [], {}
    first_start = as_of - pd.Timedelta(days=14 * 30)
    for k in range(experiments):
        name = f"exp_{k + 1:02d}"
        chosen = rng.choice(customer_ids, size=len(customer_ids) // 4, replace=False)
        start = first_start + pd.Timedelta(days=int(k * 380 / experiments))
        seconds = rng.uniform(0, 60 * 86400, chosen.size)
        if k % 7 == 3:
            variants, shares = np.array(["A", "B", "C"]), [1 / 3, 1 / 3, 1 / 3]
        elif k == experiments - 1:
            variants, shares = np.array(["holdout", "contact"]), [0.2, 0.8]
            plans[name] = {"holdout": 0.2, "contact": 0.8}
        else:
            variants, shares = np.array(["A", "B"]), [0.5, 0.5]
        frame = pd.DataFrame(
            {
                "experiment_id": name,
                "customer_id": chosen,
                "variant": variants[rng.choice(len(variants), chosen.size, p=shares)],
                "assigned_at": start + pd.to_timedelta(seconds, unit="s"),
            }
        )
        bad = rng.choice(chosen.size, 3 * max(chosen.size // 3000, 1), replace=False)
        repeats, switched, late = np.array_split(bad, 3)
        other = frame.iloc[switched].copy()
        other["variant"] = np.where(other["variant"] == variants[0], variants[1], variants[0])
        future = frame.iloc[late].copy()
        future["assigned_at"] = as_of + pd.Timedelta(days=3)
        frame = frame.drop(index=late)
        frames += [frame, frame.iloc[repeats[repeats < len(frame)]], other, future]
    table = pd.concat(frames, ignore_index=True)
    table["experiment_id"] = table["experiment_id"].astype("category")
    table["variant"] = table["variant"].astype("category")
    return table, plans


def pandas_window_sums(
    assignments: pd.DataFrame, days: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """The per-variant window sums, written the usual pandas way (one experiment at a time)."""
    results = []
    for experiment_id, group in assignments.groupby("experiment_id", observed=True):
        merged = group[["customer_id", "variant", "assigned_at"]].merge(
            days, on="customer_id", how="left"
        )
        exposure = merged["assigned_at"].dt.normalize()
        offset = (merged["order_day"] - exposure).dt.days
        before = (offset >= -PRE_DAYS) & (offset <= -1)
        pre = merged["revenue"].where(before, 0.0).groupby(merged["customer_id"]).sum()
        for window in WINDOWS:
            inside = (offset >= 1) & (offset <= window)
            per = (
                merged.assign(
                    purchase_days=inside.astype(int),
                    orders=merged["orders"].where(inside, 0),
                    revenue=merged["revenue"].where(inside, 0.0),
                    margin=merged["margin"].where(inside, 0.0),
                )
                .groupby("customer_id")
                .agg(
                    variant=("variant", "first"),
                    assigned_at=("assigned_at", "first"),
                    purchase_days=("purchase_days", "sum"),
                    orders=("orders", "sum"),
                    revenue=("revenue", "sum"),
                    margin=("margin", "sum"),
                )
            )
            per = per.loc[per["assigned_at"].dt.normalize() + pd.Timedelta(days=window) <= as_of]
            pre_revenue = pre.reindex(per.index)
            sums = (
                pd.DataFrame(
                    {
                        "variant": per["variant"],
                        "customers": 1,
                        "sum_conversion": (per["purchase_days"] > 0).astype(int),
                        "sum_repeat_purchase": (per["purchase_days"] >= 2).astype(int),
                        "sum_orders": per["orders"],
                        "sumsq_orders": per["orders"] ** 2,
                        "sum_revenue": per["revenue"],
                        "sumsq_revenue": per["revenue"] ** 2,
                        "sum_revenue_x_orders": per["revenue"] * per["orders"],
                        "sum_margin": per["margin"],
                        "sumsq_margin": per["margin"] ** 2,
                        "sum_pre_revenue": pre_revenue,
                        "sum_pre_revenue_x_revenue": pre_revenue * per["revenue"],
                    }
                )
                .groupby("variant", observed=True)
                .sum()
            )
            results.append(sums.assign(experiment_id=experiment_id, window_days=window))
    return pd.concat(results).reset_index()


def review_steps(params_file: Path, n_experiments: int, steps: Steps) -> dict:
    with steps.step("load orders (status, cost) + customer ids"):
        store = ck.load_store(params_file, tables={"orders": ("status", "cost"), "customers": ()})
    orders = store.orders
    period = ck.data.resolve_period(None, orders["order_date"].max())
    print(f"    {len(orders):,} orders, {len(store.customers):,} customers", flush=True)
    experiments, plans = synthetic_assignments(
        store.customers["customer_id"].to_numpy(), period.as_of, n_experiments
    )
    del store
    print(f"    {len(experiments):,} assignment rows in {n_experiments} experiments", flush=True)
    gc.collect()

    with steps.step("per-customer-day reduction (shared)"):
        red = ck.reduce_orders(orders, period.as_of, customer_days=True)
    del orders
    gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", splittest.SplitTestWarning)
        with steps.step("review: assignments + windows + sums"):
            review = splittest.review_experiments(experiments, red, planned_splits=plans)
        with steps.step("every number of the report"):
            kpis = splittest.splittest_kpis(review)
            splittest.summary_shown(review, "RUB")
            splittest.assignments_shown(review)
            for experiment_id in splittest.report_order(review):
                splittest.experiment_section(review, experiment_id, "RUB")
            splittest.planning_shown(splittest.planning_results(review))
    rejected = int(review.assignments.accounting["rejected"].sum())
    verdicts = pd.Series([e["verdict_code"] for e in kpis["experiments"].values()])
    print(
        f"    {rejected:,} assignment rows set aside; verdicts {verdicts.value_counts().to_dict()}"
    )

    checked = review.assignments.table
    # the like-for-like comparison: the same window sums from the same checked assignments
    with steps.step("window sums, custkit (exposure_sums)"):
        splittest.exposure_sums(review.assignments, red, WINDOWS, pre_exposure_days=PRE_DAYS)
    with steps.step("same window sums, plain pandas"):
        theirs = pandas_window_sums(checked, red.customer_days, period.as_of)
    ours = review.sums.totals()
    keys = ["experiment_id", "variant", "window_days"]
    both = ours.astype({"experiment_id": str, "variant": str}).merge(
        theirs.astype({"experiment_id": str, "variant": str}), on=keys, suffixes=("", "_pandas")
    )
    assert len(both) == len(ours) == len(theirs), (len(both), len(ours), len(theirs))
    for column in SUM_COLUMNS:
        np.testing.assert_allclose(both[column], both[f"{column}_pandas"], rtol=1e-9, atol=1e-6)
    print("    pandas sums agree with custkit's", flush=True)
    return {"experiments": experiments, "plans": plans, "as_of": period.as_of}


def report_params(params_file: Path, experiments: pd.DataFrame, plans: dict) -> Path:
    """A params file for the bench store with the synthetic experiments as its source."""
    folder = OUT / "splittest"
    folder.mkdir(parents=True, exist_ok=True)
    experiments.to_parquet(folder / "experiments.parquet", index=False)
    params = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    store_folder = params_file.parent.resolve()
    params["sources"] = {
        "orders": {"path": str(store_folder / "orders.parquet")},
        "customers": {"path": str(store_folder / "customers.parquet")},
        "experiments": {"path": str(folder / "experiments.parquet")},
    }
    params["splittest"] = {"planned_splits": plans}
    target = folder / "params.yaml"
    target.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders-per-customer", type=float, default=10.0)
    parser.add_argument("--experiments", type=int, default=20)
    parser.add_argument("--skip-report", action="store_true", help="skip the papermill run")
    args = parser.parse_args()

    params_file = ensure_store(args.customers, args.orders_per_customer)
    print(f"\nsplit-test review steps in one process (pandas {pd.__version__}):")
    steps = Steps()
    made = review_steps(params_file, args.experiments, steps)
    seconds = {name: s for name, s, _ in steps.rows}
    review_names = ["review: assignments + windows + sums", "every number of the report"]
    review_seconds = steps.total_seconds(review_names)
    with_reduction = review_seconds + seconds["per-customer-day reduction (shared)"]
    pandas_seconds = seconds["same window sums, plain pandas"]
    print(
        f"\n  review of {args.experiments} experiments: {review_seconds:.1f} s "
        f"({with_reduction:.1f} s with the shared reduction; target <= 15 s), "
        f"peak {steps.peak_gib(review_names):.2f} GiB"
    )
    ours = seconds["window sums, custkit (exposure_sums)"]
    print(
        f"  window sums of {len(made['experiments']):,} assignment rows: custkit {ours:.2f} s vs "
        f"plain pandas {pandas_seconds:.2f} s (pandas / custkit = {pandas_seconds / ours:.1f}x)"
    )
    if not args.skip_report:
        report_file = report_params(params_file, made["experiments"], made["plans"])
        del made
        gc.collect()
        if not print_report_run("splittest", report_file, OUT / "reports", ""):
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
