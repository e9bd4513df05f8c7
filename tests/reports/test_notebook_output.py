"""Where a report notebook writes when it is run without an output folder (JupyterLab, nbval).

Never into the checkout's ``reports/<period>/``: a re-run there replaced the kpis.json and the
exports under an older published HTML page.
"""

import json
import os
from pathlib import Path

import pytest

from custkit.params import load_params
from custkit.reports.context import (
    NOTEBOOK_OUTPUT,
    OUTPUT_DIR_ENV,
    notebook_output_root,
    start_report,
)
from custkit.reports.registry import notebooks_dir, report_names

CHECKOUT = Path(__file__).resolve().parents[2]
ORDERS = "order_id,customer_id,order_date,revenue\n1,1,2025-01-03,100\n2,2,2025-02-10,250\n"


def _params(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "orders.csv").write_text(ORDERS, encoding="utf-8")
    path = folder / "params.yaml"
    path.write_text("sources:\n  orders: orders.csv\n", encoding="utf-8")
    return path


def _published(period: str) -> Path:
    return CHECKOUT / "reports" / period


@pytest.mark.parametrize("where", ["client", "clients/acme/2025", "params with spaces"])
def test_a_notebook_run_without_output_dir_writes_beside_its_params_file(
    tmp_path, monkeypatch, where
):
    monkeypatch.delenv(OUTPUT_DIR_ENV, raising=False)
    params_file = _params(tmp_path / where)
    published = _published("2025-01")
    before = sorted(published.rglob("*")) if published.exists() else None
    ctx = start_report("audit", str(params_file))
    assert ctx.period.period == "2025-01"
    assert ctx.output_dir == (params_file.parent / NOTEBOOK_OUTPUT / "2025-01").resolve()
    assert ctx.output_dir.is_dir()
    ctx.save_kpis({"customers": 2})
    assert (ctx.output_dir / "audit.kpis.json").is_file()
    after = sorted(published.rglob("*")) if published.exists() else None
    assert after == before  # nothing published was touched


def test_the_output_dir_variable_moves_notebook_runs_elsewhere(tmp_path, monkeypatch):
    monkeypatch.setenv(OUTPUT_DIR_ENV, str(tmp_path / "elsewhere"))
    ctx = start_report("audit", str(_params(tmp_path / "client")))
    assert ctx.output_dir == (tmp_path / "elsewhere" / "2025-01").resolve()
    assert not (tmp_path / "client" / NOTEBOOK_OUTPUT).exists()


def test_an_explicit_output_dir_wins_over_both(tmp_path, monkeypatch):
    monkeypatch.setenv(OUTPUT_DIR_ENV, str(tmp_path / "elsewhere"))
    out = tmp_path / "staging"
    ctx = start_report("audit", str(_params(tmp_path / "client")), "", str(out))
    assert ctx.output_dir == out.resolve()
    assert not (tmp_path / "elsewhere").exists()


def test_tests_and_nbval_kernels_write_to_a_temporary_folder_outside_the_checkout():
    """The root conftest sets the variable before any kernel starts; kernels inherit it."""
    folder = Path(os.environ[OUTPUT_DIR_ENV])
    assert folder.is_dir()
    assert not folder.resolve().is_relative_to(CHECKOUT)
    demo = load_params(CHECKOUT / "params" / "demo.yaml")
    assert notebook_output_root(demo) == folder.resolve()


def test_the_session_guard_sees_files_added_changed_or_removed(pytestconfig, tmp_path):
    guard = next(
        plugin
        for plugin in pytestconfig.pluginmanager.get_plugins()
        if getattr(plugin, "__file__", "") == str(CHECKOUT / "conftest.py")
    )
    assert "reports/README.md" in pytestconfig._custkit_snapshot  # armed for this session
    for name in ("reports", "params"):
        (tmp_path / name).mkdir()
    (tmp_path / "reports" / "a.json").write_text("1")
    (tmp_path / "params" / "b.yaml").write_text("x")
    before = guard.snapshot(tmp_path)
    (tmp_path / "reports" / "a.json").write_text("22")
    (tmp_path / "params" / "b.yaml").unlink()
    (tmp_path / "reports" / "2026-10").mkdir()
    (tmp_path / "reports" / "2026-10" / "audit.kpis.json").write_text("{}")
    assert guard.changes(before, guard.snapshot(tmp_path)) == [
        "added: reports/2026-10/audit.kpis.json",
        "changed: reports/a.json",
        "removed: params/b.yaml",
    ]
    assert guard.changes(before, before) == []


@pytest.mark.parametrize("report", report_names())
def test_each_notebook_says_where_it_writes_without_an_output_folder(report):
    notebook = json.loads((notebooks_dir() / f"{report}.ipynb").read_text(encoding="utf-8"))
    cell = next(c for c in notebook["cells"] if "parameters" in c["metadata"].get("tags", []))
    line = next(s for s in cell["source"] if s.startswith("output_dir ="))
    assert f"{NOTEBOOK_OUTPUT}/<period> beside params_file" in line
    assert "reports/" not in line


@pytest.mark.parametrize("report", report_names())
def test_each_notebook_opened_in_a_checkout_reads_the_demo_params_by_default(report):
    """JupyterLab and nbval start the kernel in the notebook's folder (``custkit/notebooks/``);
    an installed custkit has no such file, and ``custkit run`` always sets ``params_file``."""
    from custkit.reports.inspection import notebook_parameters

    folder = notebooks_dir()
    assert folder == CHECKOUT / "custkit" / "notebooks"
    default = notebook_parameters(folder / f"{report}.ipynb")["params_file"].default
    assert (folder / default).resolve() == CHECKOUT / "params" / "demo.yaml"
