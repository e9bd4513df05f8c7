"""Test-session setup for the tests and the notebooks (nbval): nothing lands in the checkout.

Report notebooks run by nbval have no output folder, so they write where a notebook run from
JupyterLab would: under ``$CUSTKIT_OUTPUT_DIR`` when set, else beside their params file
(:func:`custkit.reports.context.notebook_output_root`). The session points that variable at a
temporary folder before any kernel starts (kernels inherit the environment), and fails when the
checkout's ``reports/`` or ``params/`` changed during the run anyway: tests never overwrite
published reports.

This file sits at the repository root so that it applies to ``pytest notebooks/x.ipynb`` too.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from custkit.reports.context import OUTPUT_DIR_ENV

CHECKOUT = Path(__file__).resolve().parent
#: The folders a test must never change: published reports and the clients' params.
GUARDED = ("reports", "params")


def snapshot(root: Path = CHECKOUT, folders=GUARDED) -> dict[str, tuple[int, int]]:
    """Every file under *folders* of *root*: relative path → (size, modification time in ns)."""
    files = {}
    for folder in folders:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() or path.is_symlink():
                stat = path.lstat()
                files[path.relative_to(root).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return files


def changes(before: dict, after: dict) -> list[str]:
    """``added: x``, ``changed: y``, ``removed: z`` between two snapshots, sorted."""
    return sorted(
        [f"added: {p}" for p in after.keys() - before.keys()]
        + [f"removed: {p}" for p in before.keys() - after.keys()]
        + [f"changed: {p}" for p in before.keys() & after.keys() if before[p] != after[p]]
    )


def pytest_configure(config):
    folder = tempfile.mkdtemp(prefix="custkit-test-output-")
    config._custkit_output = (folder, os.environ.get(OUTPUT_DIR_ENV))
    os.environ[OUTPUT_DIR_ENV] = folder
    config._custkit_snapshot = snapshot()


def pytest_sessionfinish(session, exitstatus):
    before = getattr(session.config, "_custkit_snapshot", None)
    if before is None:
        return
    changed = changes(before, snapshot())
    if changed:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        text = (
            "The test session changed the checkout (tests must write only to temporary "
            "folders):\n  " + "\n  ".join(changed[:20])
        )
        if reporter is not None:
            reporter.write_sep("=", "checkout changed", red=True)
            reporter.write_line(text)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config):
    saved = getattr(config, "_custkit_output", None)
    if saved is None:
        return
    folder, previous = saved
    if previous is None:
        os.environ.pop(OUTPUT_DIR_ENV, None)
    else:
        os.environ[OUTPUT_DIR_ENV] = previous
    shutil.rmtree(folder, ignore_errors=True)
