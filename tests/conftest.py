"""Shared test setup: every test gets its own CSV cache and the non-interactive plot backend."""

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CUSTKIT_CACHE", str(tmp_path_factory.mktemp("cache")))
