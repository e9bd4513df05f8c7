"""The package's public names: every name a subpackage lists resolves (they are imported lazily,
so a moved function would otherwise fail only when an analyst first touches it)."""

import importlib

import pytest

import custkit as ck


@pytest.mark.parametrize("module", ["custkit", *(f"custkit.{name}" for name in ck._SUBPACKAGES)])
def test_every_public_name_resolves(module):
    package = importlib.import_module(module)
    missing = [name for name in getattr(package, "__all__", []) if not hasattr(package, name)]
    assert not missing, f"{module} lists names it cannot give: {missing}"
    assert sorted(getattr(package, "__all__", [])) == sorted(set(getattr(package, "__all__", [])))
