"""Fixtures for report tests: tiny notebooks built with nbformat, a stand-in for Params, a Store.

Helpers are handed out as fixtures (not imported) so the tests work in any pytest import mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import nbformat
import pandas as pd
import pytest

from custkit.data.store import Store, TableAccounting

RESERVED_CELL = 'params_file = ""  # params YAML\nperiod = ""  # YYYY-MM\noutput_dir = ""\n'


def _write_notebook(path: Path, parameters: str, cells: list[tuple[str, str]]) -> Path:
    """A notebook with a heading, a ``parameters`` cell and *cells* as (kind, source) pairs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params_cell = nbformat.v4.new_code_cell(parameters)
    params_cell.metadata["tags"] = ["parameters"]
    nb.cells = [params_cell]
    for kind, source in cells:
        make = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        nb.cells.append(make(source))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


@dataclass(frozen=True)
class FakeParams:
    """What the report layer uses of :class:`custkit.params.Params`."""

    path: Path | None = None
    store_name: str = "Test store"
    currency: str = "USD"
    language: str = "en"
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    country: str | None = None
    exports: dict[str, Any] = field(default_factory=dict)

    def report_params(self, report: str) -> dict[str, Any]:
        return dict(self.reports.get(report, {}))

    @property
    def where(self) -> str:
        return str(self.path)


@pytest.fixture(autouse=True)
def _no_digests_from_other_tests(monkeypatch):
    """start_report keeps the store's contact digests for pii_guard in this process: each test
    starts without them, as a fresh kernel does."""
    from custkit.reports import privacy

    monkeypatch.setattr(privacy, "_current", None)


@pytest.fixture
def write_notebook():
    """``write_notebook(path, parameters_source, [("md" | "code", source), ...]) -> path``."""
    return _write_notebook


@pytest.fixture
def reserved_cell() -> str:
    """Source declaring the three parameters every report notebook must have."""
    return RESERVED_CELL


@pytest.fixture
def fake_params():
    """``fake_params(**fields) -> FakeParams``."""
    return FakeParams


@pytest.fixture
def notebooks(tmp_path, monkeypatch) -> Path:
    """An empty notebooks folder that the registry reads instead of the repository's."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    monkeypatch.setenv("CUSTKIT_NOTEBOOKS", str(folder))
    return folder


@pytest.fixture
def store() -> Store:
    orders = pd.DataFrame(
        {
            "order_id": ["1", "2", "3"],
            "customer_id": ["a", "b", "a"],
            "order_date": pd.to_datetime(["2026-09-03", "2026-10-20", "2026-11-15"]),
            "revenue": [10.0, 25.5, 7.0],
        }
    )
    accounting = {
        "orders": TableAccounting(
            "orders", "orders.csv", 5, 3, 2, MappingProxyType({"unparseable_date": 2})
        ),
    }
    return Store(
        name="Test store",
        orders=orders,
        customers=None,
        feedback=None,
        messages=None,
        experiments=None,
        accounting=MappingProxyType(accounting),
        rejected=MappingProxyType({}),
        params=None,
    )
