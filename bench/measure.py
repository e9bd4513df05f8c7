"""Timing and peak-memory measurement for the benchmarks (Linux: reads /proc)."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

_PAGE = resource.getpagesize()


def rss_bytes() -> int:
    """Resident memory of this process now."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * _PAGE


@dataclass
class Steps:
    """Records wall time and peak resident memory of named steps and prints a table."""

    rows: list[tuple[str, float, float]] = field(default_factory=list)

    @contextmanager
    def step(self, name: str, interval: float = 0.01):
        peak = [rss_bytes()]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(interval):
                peak[0] = max(peak[0], rss_bytes())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - start
            done.set()
            sampler.join()
            peak[0] = max(peak[0], rss_bytes())
            self.rows.append((name, seconds, peak[0] / 2**30))
            print(f"  {name:<40}{seconds:>8.2f} s{peak[0] / 2**30:>8.2f} GiB", flush=True)

    def total_seconds(self, names: list[str] | None = None) -> float:
        return sum(s for n, s, _ in self.rows if names is None or n in names)

    def peak_gib(self, names: list[str] | None = None) -> float:
        return max((m for n, _, m in self.rows if names is None or n in names), default=0.0)


def children_peak_gib() -> float:
    """Largest peak resident memory of any finished child process (e.g. a notebook kernel)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20


def run_report_measured(report: str, params_file: Path, out_dir: Path) -> dict:
    """Run one report as ``custkit run`` does, in a fresh process; wall time and kernel peak.

    A fresh process, so the peak is the report kernel's alone (not, say, that of a store
    generated earlier by this benchmark).
    """
    code = (
        "import json, time, resource\n"
        "from custkit.reports import run_report\n"
        "t = time.perf_counter()\n"
        f"r = run_report({report!r}, {str(params_file)!r}, out_dir={str(out_dir)!r})\n"
        "print(json.dumps({'seconds': time.perf_counter() - t, 'ok': r.ok, 'status': r.status,"
        " 'html': str(r.html), 'error': None if r.error is None else str(r.error),"
        " 'kernel_peak_gib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20,"
        " 'kernel_cpu_seconds': resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime"
        " + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_report_run(report: str, params_file: Path, out_dir: Path, targets: str = "") -> bool:
    """Run one whole report (:func:`run_report_measured`), print its time, kernel peak and
    CPU seconds (with *targets*, e.g. ``"<= 25 s, <= 2 GiB"``), and return whether it worked."""
    print(f"\nwhole report, as `custkit run {report}` (papermill kernel + HTML):", flush=True)
    result = run_report_measured(report, params_file, out_dir)
    wanted = f" (targets: {targets})" if targets else ""
    print(
        f"  {result['status']}: {result['seconds']:.1f} s wall, kernel peak "
        f"{result['kernel_peak_gib']:.2f} GiB, kernel CPU {result['kernel_cpu_seconds']:.1f} s"
        f"{wanted} -> {result['html']}"
    )
    if not result["ok"]:
        print(f"  error: {result['error']}")
    return bool(result["ok"])
