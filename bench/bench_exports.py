"""Export files at 10k / 100k / 1M rows x 10 columns: time and peak memory of each writer.

Prints, per size: preparing the frame (rounding, phones in E.164), the CSV (custkit's writer
against pandas' ``to_csv`` with the same separator and decimal comma), and the XLSX (xlsxwriter,
row by row in constant-memory mode). The numbers in ``custkit/exports.py`` come from here; the
XLSX cap (``XLSX_MAX_ROWS``) is chosen from them.

Usage: python bench/bench_exports.py [--rows 10000 100000 1000000] [--skip-xlsx-above N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import Steps

from custkit.exports import CsvDialect, prepare_export, write_csv, write_xlsx


def export_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """A contact list shaped like the reports' exports: ids, contacts, money, shares, dates."""
    rng = np.random.default_rng(seed)
    ids = np.arange(100_000, 100_000 + rows)
    national = rng.integers(900_000_0000, 999_999_9999, rows).astype(str)
    plus = rng.random(rows) < 0.5
    phones = np.where(plus, np.char.add("+7", national), np.char.add("8", national))
    return pd.DataFrame(
        {
            "customer_id": ids,
            "name": np.char.add("Анна Иванова ", ids.astype(str)),
            "email": np.char.add(ids.astype(str), "@example.ru"),
            "phone": phones,
            "revenue": rng.gamma(2.0, 5000.0, rows),
            "p_alive": rng.random(rows),
            "orders": rng.integers(1, 40, rows),
            "last_order_date": pd.Timestamp("2026-01-01")
            + pd.to_timedelta(rng.integers(0, 365 * 86400, rows), unit="s"),
            "birth_date": pd.Timestamp("1960-01-01")
            + pd.to_timedelta(rng.integers(0, 15_000, rows), unit="D"),
            "consent_email": rng.random(rows) < 0.6,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--skip-xlsx-above", type=int, default=1_048_575)
    args = parser.parse_args()
    dialect = CsvDialect(sep=";", decimal=",")
    with tempfile.TemporaryDirectory() as folder:
        for rows in args.rows:
            print(f"{rows:,} rows x 10 columns", flush=True)
            frame = export_frame(rows)
            steps = Steps()
            with steps.step("prepare (rounding, E.164 phones)"):
                prepared = prepare_export(frame, phone_region="RU")
            with steps.step("CSV, custkit"):
                write_csv(prepared.frame, Path(folder) / "x.csv", dialect)
            with steps.step("CSV, pandas to_csv (for comparison)"):
                prepared.frame.to_csv(
                    Path(folder) / "p.csv", sep=";", decimal=",", index=False, encoding="utf-8-sig"
                )
            if rows <= args.skip_xlsx_above:
                with steps.step("XLSX, xlsxwriter constant_memory"):
                    write_xlsx(prepared.frame, Path(folder) / "x.xlsx")
            del frame, prepared


if __name__ == "__main__":
    main()
