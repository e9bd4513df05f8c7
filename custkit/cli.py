"""The ``custkit`` command: validate a store's data, make the demo store, run and schedule reports.

While reports run, their steps show on standard output (:mod:`custkit.reports.progress`): live
bars on a terminal, plain timestamped lines otherwise (cron, a pipe, a CI log); errors stay
alone on standard error.
User errors (:class:`~custkit.errors.CustkitError`) are caught here, once, and printed without a
traceback; the exit status is 2. A report that fails exits 1 after the other reports have run.
``custkit run`` and ``custkit schedule run`` exit 75 when another run holds the output folder
(try again later, or add ``--wait``).
When the reader of the output goes away (``custkit validate ... | head -1``), the command stops
quietly with status 141, as a shell reports for a command stopped by SIGPIPE.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from custkit.errors import CustkitError, ParamsError

SCHEDULE_FILE = "params/schedule.yaml"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``custkit`` command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        status = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the try, not at exit
        return status
    except BrokenPipeError:
        # the reader stopped reading (`custkit validate ... | head -1`): stop quietly, as the
        # Python docs' SIGPIPE note says; remaining output goes nowhere instead of failing again
        # at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a command stopped the same way
    except CustkitError as exc:
        if getattr(args, "json", False):
            document = {"tables": {}, "reports": {}, "errors": [str(exc)]}
            print(json.dumps(document, ensure_ascii=False, indent=2))
        else:
            print(f"custkit: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("custkit: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    from custkit import __version__

    parser = argparse.ArgumentParser(
        prog="custkit",
        description="Customer-base reports for online stores.",
        epilog="Example: custkit run audit --params params/demo.yaml --period 2026-10",
    )
    parser.add_argument("--version", action="version", version=f"custkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check a store's data and print what was accepted")
    p.add_argument("--params", required=True, help="params YAML file")
    p.add_argument("--json", action="store_true", help="print the accounting as JSON")
    p.add_argument(
        "--quarantine", metavar="DIR", help="also write rejected rows to DIR/<table>.csv"
    )
    p.set_defaults(handler=_validate)

    p = sub.add_parser("demo", help="generate the demo store (data files and params.yaml)")
    p.add_argument("--out", default="data/demo", help="output folder (default: data/demo)")
    p.add_argument("--customers", type=int, default=20_000, help="number of customers")
    p.add_argument("--seed", type=int, default=7, help="random seed")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv", help="file format")
    p.add_argument(
        "--purchases",
        choices=("realistic", "bgnbd"),
        default="realistic",
        help="purchase process: realistic (default; no BTYD model assumes it) or bgnbd (the "
        "BG/NBD process with fixed parameters, a steady channel mix)",
    )
    p.set_defaults(handler=_demo)

    p = sub.add_parser("list", help="list the reports and their parameters")
    p.set_defaults(handler=_list)

    p = sub.add_parser("run", help="run a report (or all) into dated HTML")
    p.add_argument("report", help="report name (see `custkit list`) or 'all'")
    p.add_argument("--params", required=True, help="params YAML file")
    p.add_argument("--period", help="report month YYYY-MM (default: last complete month)")
    p.add_argument(
        "--partial",
        action="store_true",
        help="report a month that is not over yet; every page says 'data through <date>'",
    )
    p.add_argument("--out", default="reports", help="output folder (default: reports)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one report parameter for this run (repeatable)",
    )
    p.add_argument(
        "--wait", action="store_true", help="wait for a run already working in the output folder"
    )
    p.set_defaults(handler=_run)

    p = sub.add_parser(
        "customer", help="print one customer's card: importance, status, reason, next action"
    )
    p.add_argument("customer_id", help="the customer's id, as the orders file writes it")
    p.add_argument("--params", required=True, help="params YAML file")
    p.add_argument("--period", help="month YYYY-MM (default: last complete month)")
    p.add_argument(
        "--export", metavar="DIR", help="also write DIR/customer_cards.csv and .parquet (everyone)"
    )
    p.add_argument(
        "--model",
        choices=("BG/NBD", "MBG/NBD", "Pareto/NBD"),
        help="purchase model (default: the LTV report's choice, else chosen on a holdout; slower)",
    )
    p.add_argument(
        "--reports",
        default="reports",
        metavar="DIR",
        help="`custkit run` output folder whose table of the same data is read (default: reports)",
    )
    p.set_defaults(handler=_customer)

    p = sub.add_parser("cache", help="the Parquet cache of CSV sources")
    cache = p.add_subparsers(dest="cache_command", required=True, metavar="ACTION")
    p = cache.add_parser("clear", help="delete every cached file and print what was freed")
    p.set_defaults(handler=_cache_clear)

    p = sub.add_parser(
        "schedule", help="scheduled runs of params/schedule.yaml (cron, systemd, Airflow)"
    )
    schedule = p.add_subparsers(dest="schedule_command", required=True, metavar="ACTION")
    p = schedule.add_parser(
        "run",
        help="run the reports that are due now, catching up missed periods",
        epilog="Exit status: 0 done (or nothing due), 1 a report or a job failed, 2 a wrong "
        "schedule file or option, 75 another run is working in an output folder.",
    )
    p.add_argument(
        "--file", default=SCHEDULE_FILE, help=f"schedule file (default: {SCHEDULE_FILE})"
    )
    p.add_argument("--dry-run", action="store_true", help="list what would run; change nothing")
    p.add_argument("--job", help="run only this job")
    p.add_argument("--period", help="with --job: rerun this month YYYY-MM now, even if done")
    p.add_argument("--wait", action="store_true", help="wait for a run already in progress")
    p.add_argument(
        "--now",
        help="for testing: pretend it is this time (ISO 8601, e.g. 2026-12-02T06:00+03:00); "
        "a time later than now only with --dry-run",
    )
    p.set_defaults(handler=_schedule_run)
    p = schedule.add_parser("install", help="print (or --write) the line a scheduler needs")
    p.add_argument(
        "--file", default=SCHEDULE_FILE, help=f"schedule file (default: {SCHEDULE_FILE})"
    )
    p.add_argument(
        "--format",
        choices=("cron", "systemd", "airflow"),
        default="cron",
        help="what to print: a crontab line, systemd units or an Airflow DAG (default: cron)",
    )
    p.add_argument("--write", action="store_true", help="add the line to your crontab (cron only)")
    p.set_defaults(handler=_schedule_install)
    return parser


def _validate(args: argparse.Namespace) -> int:
    from custkit.data.load import load_store, write_quarantine
    from custkit.params import load_params
    from custkit.reports.checks import check_reports

    params = load_params(args.params)
    store = load_store(params)
    written = write_quarantine(store, args.quarantine) if args.quarantine else {}
    tables = {}
    for name, acc in store.accounting.items():
        entry = acc.to_dict()
        entry["quarantine"] = str(written[name]) if name in written else None
        entry.update(_date_range(store, name))
        tables[name] = entry
    errors = []
    if store.accounting["orders"].accepted == 0:
        errors.append("no order was accepted: see the reasons above and fix the orders source.")
    reports = {}
    for check in check_reports(params, store):
        reports[check.report] = {"ok": check.ok, "error": check.error}
        if check.error:
            errors.append(f"the {check.report} report would stop: {check.error}")
    if args.json:
        document = {"tables": tables, "reports": reports, "errors": errors}
        print(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        print(_accounting_table(tables))
        checked = ", ".join(name for name, r in reports.items() if r["ok"]) or "-"
        print(f"{'reports':<12}parameters and inputs fit: {checked}")
        for error in errors:
            print(f"custkit: error: {error}", file=sys.stderr)
    return 2 if errors else 0


def _date_range(store, table: str) -> dict:
    """First and last date of *table*'s date column among the accepted rows (ISO dates)."""
    from custkit.contract import TABLES

    frame, column = getattr(store, table, None), TABLES[table].date_column
    if frame is None or column not in frame.columns or frame[column].isna().all():
        return {"first_date": None, "last_date": None}
    dates = frame[column]
    return {"first_date": f"{dates.min():%Y-%m-%d}", "last_date": f"{dates.max():%Y-%m-%d}"}


def _accounting_table(tables: dict) -> str:
    lines = [f"{'table':<12}{'read':>12}{'accepted':>12}{'rejected':>12}  {'dates':<24}  reasons"]
    for name, t in tables.items():
        reasons = ", ".join(f"{k}: {v:,}" for k, v in t["reasons"].items()) or "-"
        dates = f"{t['first_date']} to {t['last_date']}" if t["first_date"] else "-"
        lines.append(
            f"{name:<12}{t['read']:>12,}{t['accepted']:>12,}{t['rejected']:>12,}  "
            f"{dates:<24}  {reasons}"
        )
        lines.extend(f"{'':<12}note: {note}" for note in t["notes"])
        if t["quarantine"]:
            lines.append(f"{'':<12}rejected rows: {t['quarantine']}")
    return "\n".join(lines)


def _cache_clear(args: argparse.Namespace) -> int:
    from custkit.data import cache

    folder = cache.default_cache_dir()
    files, freed = cache.clear(folder)
    print(f"custkit cache {folder}: {files:,} files deleted, {freed / 2**20:,.1f} MiB freed")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from custkit.data.demo import write_demo_store

    if args.customers < 1:
        raise ParamsError(f"--customers must be a positive integer. Got {args.customers} instead.")
    out = write_demo_store(
        args.out, args.customers, seed=args.seed, fmt=args.format, purchases=args.purchases
    )
    print(f"demo store written to {out} (params: {out / 'params.yaml'})")
    return 0


def _list(args: argparse.Namespace) -> int:
    from custkit.reports import list_reports

    for info in list_reports():
        print(f"{info.name}: {info.title}  ({info.notebook})")
        for p in info.parameters.values():
            help_text = f"  # {p.help}" if p.help else ""
            print(f"    {p.name}: {p.type_name} = {p.default_text}{help_text}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from custkit.reports import run_reports
    from custkit.reports.index import SUMMARY_FILE
    from custkit.reports.progress import progress_display

    overrides = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParamsError(f"--set takes KEY=VALUE, e.g. --set lapse_days=200. Got {item!r}.")
        overrides[key.strip()] = value
    reports = "all" if args.report == "all" else [args.report]
    with progress_display(sys.stdout) as progress:
        results = run_reports(
            reports,
            args.params,
            period=args.period,
            out_dir=args.out,
            overrides=overrides,
            partial=args.partial,
            wait=args.wait,
            progress=progress,
        )
    failed = 0
    for r in results:
        if r.status == "ok":
            print(f"{r.report} {r.period}: {r.html} ({r.seconds:.1f} s)")
        else:
            failed += 1
            print(f"{r.report} {r.period or ''}: FAILED: {r.error}", file=sys.stderr)
    out = Path(args.out).expanduser().resolve()
    for period in dict.fromkeys(r.period for r in results if r.period):
        summary = out / period / SUMMARY_FILE
        if summary.exists():
            print(f"summary {period}: {summary}")
    return 1 if failed else 0


def _customer(args: argparse.Namespace) -> int:
    from custkit.customers import customer_card, customer_state, write_customer_cards
    from custkit.customers.card import find_customer
    from custkit.customers.saved import (
        data_fingerprint,
        load_purchase_model,
        load_state,
        model_choice_key,
        state_folder,
        state_key,
    )
    from custkit.data.load import load_store
    from custkit.data.periods import ReportPeriod, check_period, default_period
    from custkit.i18n import set_language
    from custkit.params import load_params
    from custkit.reports.context import state_options

    params = load_params(args.params)
    set_language(params.language)
    store = load_store(params)
    dates = store.orders["order_date"]
    requested = ReportPeriod.from_string(args.period) if args.period else None
    period = check_period(requested or default_period(dates.max()), dates.min(), dates.max())
    if not args.export:  # an unknown id is told at once, before the table is computed
        from custkit.data.reduce import reduce_orders

        buyers = reduce_orders(store.orders, period.as_of).customers[["customer_id"]]
        buyers.attrs["as_of"] = f"{period.as_of:%Y-%m-%d}"
        find_customer(buyers, args.customer_id)
    options = state_options(params, model=args.model)
    # a report run's table of the same data and parameters, else its LTV model choice
    folder = state_folder(Path(args.reports).expanduser(), period.period)
    fingerprint = data_fingerprint(store)
    table = load_state(folder, state_key(fingerprint, period, options))
    if table is None:
        choice = model_choice_key(
            fingerprint, period.as_of, options.holdout_months, options.time_unit, options.penalizer
        )
        model = options.model or load_purchase_model(folder, choice)
        if model:
            options = dataclasses.replace(options, model=model)
        table = customer_state(store, period.as_of, period=period, options=options)
    if args.export:
        written = write_customer_cards(args.export, table, params)
        print(f"customer cards of {written.rows:,} customers: {', '.join(map(str, written.paths))}")
    print(customer_card(table, args.customer_id, store.orders, params.currency))
    return 0


def _schedule_run(args: argparse.Namespace) -> int:
    from custkit.reports.progress import progress_display
    from custkit.schedule.runner import check_now, parse_now, run_schedule

    now = parse_now(args.now)
    check_now(now, dry_run=args.dry_run, on_demand=args.period is not None)
    with progress_display(sys.stdout) as progress:
        report = run_schedule(
            args.file,
            now,
            job=args.job,
            period=args.period,
            dry_run=args.dry_run,
            wait=args.wait,
            progress=progress,
        )
    for line in report.lines():
        print(line)
    for problem in report.problems():
        print(problem, file=sys.stderr)
    return report.exit_code


def _schedule_install(args: argparse.Namespace) -> int:
    from custkit.schedule.install import crontab_line, install_crontab, render

    if not args.write:
        print(render(args.file, args.format), end="")
        return 0
    if args.format != "cron":
        raise ParamsError(
            f"--write installs the crontab line only. Save the {args.format} text printed "
            f"without --write yourself (custkit schedule install --format {args.format})."
        )
    added = install_crontab(args.file)
    line = crontab_line(args.file)
    print(f"{'added to' if added else 'already in'} your crontab: {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
