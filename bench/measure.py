"""Timing and peak-memory measurement for the benchmarks (Linux: reads /proc)."""

from __future__ import annotations

import resource
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

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
