"""`make bench` (bench-churn): the churn report on 1M customers / ~10M orders read from Parquet.

Prints wall time and peak resident memory per step (each step as the churn notebook calls it),
the per-customer order signals side by side with a plain pandas implementation (ratio), and the
whole report run end to end through papermill, as `custkit run churn` does it. Targets (issue 5):
the whole churn report <= 60 s and <= 3 GiB peak on this 2-core machine. The risk model trains on
a random sample of 50,000 active customers (the report says so) and scores everyone.

The store is the one bench_audit.py generates (bench/out/store-1000000-10, reused).

Usage: python bench/bench_churn.py [--customers N] [--skip-report] [--skip-pandas]
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_audit import OUT, ensure_store
from measure import Steps, print_report_run

import custkit as ck
from custkit import audit
from custkit.churn import campaigns, definition, reasons, report, risk, text, winback
from custkit.data.demo import SERVED_REGIONS


def pandas_signals(orders: pd.DataFrame, as_of: pd.Timestamp, recent: int) -> pd.DataFrame:
    """The core order signals written as a pandas user would: sort, window rank, group-by."""
    o = orders.loc[orders["order_date"] < as_of + pd.Timedelta(days=1)]
    o = o.sort_values(["customer_id", "order_date"], kind="stable")
    status = o["status"].astype(str).str.lower()
    bought = ~status.isin(["cancelled", "returned"])
    is_recent = o.groupby("customer_id").cumcount(ascending=False) < recent
    late = bought & (o["delivered_at"].dt.normalize() > o["promised_delivery_date"].dt.normalize())
    frame = pd.DataFrame(
        {
            "customer_id": o["customer_id"],
            "bought": bought,
            "late_recent": late & is_recent,
            "returned_recent": (status == "returned") & is_recent,
            "shipping": o["shipping_cost"].where(bought, 0.0),
            "paid": (o["revenue"] + o["shipping_cost"]).where(bought, 0.0),
        }
    )
    g = frame.groupby("customer_id")
    return g.agg(
        placed_orders=("bought", "size"),
        purchases=("bought", "sum"),
        late_recent=("late_recent", "sum"),
        returned_recent=("returned_recent", "sum"),
        shipping=("shipping", "sum"),
        paid=("paid", "sum"),
    )


def churn_steps(params_file: Path, steps: Steps, with_pandas: bool) -> None:
    """Every computation of custkit/notebooks/churn.ipynb, timed one by one."""
    with steps.step("load orders, customers, feedback, messages"):
        store = ck.load_store(params_file, tables=report.READS)
    orders = store.orders
    print(f"    {len(orders):,} orders, {len(store.customers):,} customers", flush=True)
    period = ck.data.resolve_period(None, orders["order_date"].max())
    as_of = period.as_of
    with steps.step("order signals (custkit)"):
        signals = ck.data.reduce_order_signals(orders, as_of, recent_orders=2)
    with steps.step("reduce orders (with customer days)"):
        red = ck.reduce_orders(orders, as_of, customer_days=True)
    with steps.step("signals of customers who came back (8 quarters)"):
        stayed = reasons.stayer_signals(orders, as_of, recent_orders=2)
    if with_pandas:
        with steps.step("order signals (plain pandas, core subset)"):
            pandas_signals(orders, as_of, 2)
        gc.collect()
    with steps.step("churn definition (rhythm rule: status + events)"):
        assessment = definition.assess_churn(red)
        monthly = definition.monthly_churn(assessment.events, red)
    with steps.step("churn rule backtest (six months back)"):
        definition.backtest_rule(red)
    with steps.step("classify feedback texts"):
        texts = text.classify_feedback(store.feedback)
    with steps.step("reasons + summaries"):
        leavers = assessment.status.loc[assessment.status["status"] != "active"]
        found = reasons.assign_reasons(
            assessment.status,
            signals,
            as_of,
            texts,
            store.feedback,
            store.messages,
            SERVED_REGIONS,
            store.customers,
            stayed=stayed,
        )
        summary = report.reason_summary(found.reasons, leavers, report.annual_revenue(red))
        report.reason_trend(found.reasons, leavers, period)
        segments = audit.rfm_scores(red, period).set_index("customer_id")["segment"]
        report.reasons_by_group(found.reasons, assessment.status, segments)
    with steps.step("text classifier check (cross-validation)"):
        report.feedback_classifier_check(store.feedback)
    with steps.step("risk model (train on 50k sample, score all)"):
        scored = risk.churn_risk(
            orders,
            as_of,
            red,
            signals,
            store.customers,
            store.feedback,
            store.messages,
            sample=50_000,
        )
    with steps.step("win-back plan + campaign evaluation"):
        value = report.value_if_kept(red)
        evaluation = campaigns.evaluate_campaigns(store.messages, store.experiments, red)
        targets = report.winback_targets(
            assessment.status, found.reasons, scored.scores, value, as_of
        )
        plan = winback.winback_plan(
            targets,
            store.customers,
            store.messages,
            winback.WinbackPolicy(served_regions=tuple(SERVED_REGIONS)),
            as_of + pd.Timedelta(days=1),
            segments=segments,
            evaluation=evaluation,
        )
        winback.contact_list(plan, store.customers)
    print(
        f"    churned in {period.period}: {report.churn_kpis(monthly, period, assessment, summary)}"
        f"\n    risk AUC {scored.evaluation.metrics['roc_auc'].round(3).to_dict()}"
        f"\n    win-back: {plan.contacted:,} of {plan.targets:,} contacted",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--skip-report", action="store_true", help="skip the papermill run")
    parser.add_argument("--skip-pandas", action="store_true", help="skip the pandas comparison")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    params_file = ensure_store(args.customers, 10.0)
    if "churn:" not in params_file.read_text(encoding="utf-8"):  # stores made before the report
        with params_file.open("a", encoding="utf-8") as fh:
            fh.write(f"churn:\n  served_regions: {list(SERVED_REGIONS)}\n")
    print(f"\nchurn steps in one process (numpy {np.__version__}, pandas {pd.__version__}):")
    steps = Steps()
    churn_steps(params_file, steps, not args.skip_pandas)
    computed = [name for name, _, _ in steps.rows if "plain pandas" not in name]
    print(
        f"\n  churn steps total: {steps.total_seconds(computed):.1f} s, "
        f"peak {steps.peak_gib(computed):.2f} GiB"
    )
    if not args.skip_pandas:
        ours = next(s for n, s, _ in steps.rows if n == "order signals (custkit)")
        theirs = next(s for n, s, _ in steps.rows if "plain pandas" in n)
        print(
            f"  order signals: custkit {ours:.2f} s (all signals) vs pandas {theirs:.2f} s "
            f"(a core subset) ({theirs / ours:.1f}x)"
        )
    gc.collect()
    if not args.skip_report:
        if not print_report_run("churn", params_file, OUT / "reports", "<= 60 s, <= 3 GiB"):
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
