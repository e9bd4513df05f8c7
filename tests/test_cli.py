"""The custkit command as a shell runs it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def store(tmp_path):
    (tmp_path / "o.csv").write_text(
        "order_id,customer_id,order_date,revenue\n"
        + "".join(f"{i},7,2025-01-01,5\n" for i in range(1, 50))
    )
    (tmp_path / "p.yaml").write_text("sources:\n  orders: o.csv\n")
    (tmp_path / "schedule.yaml").write_text(
        "jobs:\n  - {name: m, params: p.yaml, reports: all, cron: '0 6 2 * *', "
        "timezone: Europe/Moscow, out: out}\n"
    )
    return tmp_path


@pytest.mark.parametrize(
    "command",
    [
        ["validate", "--params", "{store}/p.yaml"],
        ["validate", "--params", "{store}/p.yaml", "--json"],
        ["list"],
        ["cache", "clear"],
        ["schedule", "install", "--file", "{store}/schedule.yaml"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_a_reader_that_stops_reading_ends_the_command_quietly(store, command):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CUSTKIT_CACHE": str(store / "cache")}
    args = [part.format(store=store) for part in command]
    proc = subprocess.Popen(
        [sys.executable, "-m", "custkit.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=store,
    )
    proc.stdout.close()  # like `| head -0`: nobody reads what the command prints
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err
