"""Shared test setup: every test gets its own CSV cache and the non-interactive plot backend;
the second store generator (``tests/storegen.py``) is handed out as the ``storegen`` fixture."""

import importlib.util
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CUSTKIT_CACHE", str(tmp_path_factory.mktemp("cache")))


def _load_storegen():
    """``tests/storegen.py`` as a module, in any pytest import mode (tests is not a package)."""
    name = "custkit_tests_storegen"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("storegen.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is made
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def storegen():
    """The second store generator: ``storegen.generate_store(StoreSpec(...))``, ``write_store``."""
    return _load_storegen()
