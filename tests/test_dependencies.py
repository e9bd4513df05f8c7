"""pyproject.toml declares what custkit imports, and custkit uses what it declares.

The package and its report notebooks are read with :mod:`ast` (top-level and late imports
alike); import names are mapped to distributions with
:func:`importlib.metadata.packages_distributions`. A dependency that is declared and never used
(seaborn was) or used and never declared (a direct import of something another dependency
happens to bring) fails here.
"""

import ast
import json
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

#: Runtime dependencies custkit uses without importing them, and how.
USED_BY_NAME = {
    "ipykernel": "the Jupyter kernel every report runs in (custkit.reports.execute)",
    "openpyxl": "pandas' engine for reading XLSX sources (custkit.data)",
}


def _name(requirement: str) -> str:
    """A requirement's distribution name, normalised (PEP 503): ``PyYAML>=6`` → ``pyyaml``."""
    name = re.match(r"[A-Za-z0-9._-]+", requirement).group(0)
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_modules(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules.add(node.module.split(".")[0])
    return modules


def imported_distributions() -> dict[str, set[str]]:
    """Distribution name → the files of the package and notebooks that import it."""
    sources = {p: p.read_text(encoding="utf-8") for p in (ROOT / "custkit").rglob("*.py")}
    for notebook in (ROOT / "custkit" / "notebooks").glob("*.ipynb"):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        code = [c["source"] for c in cells if c["cell_type"] == "code"]
        sources[notebook] = "\n".join("".join(lines) for lines in code)
    by_module = packages_distributions()
    found: dict[str, set[str]] = {}
    for path, source in sources.items():
        for module in _imported_modules(source):
            if module == "custkit" or module in sys.stdlib_module_names:
                continue
            for dist in by_module.get(module, [module]):
                found.setdefault(_name(dist), set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_every_runtime_dependency_is_imported_or_used_by_name():
    declared = {_name(r) for r in PROJECT["dependencies"]}
    unused = sorted(declared - imported_distributions().keys() - USED_BY_NAME.keys())
    assert not unused, (
        f"declared in pyproject.toml and never imported: {unused}. Remove them (and from "
        "environment.yml if it lists them), or say in USED_BY_NAME how custkit uses them."
    )


def test_every_third_party_import_is_a_declared_dependency():
    extras = PROJECT["optional-dependencies"]
    declared = {_name(r) for r in PROJECT["dependencies"]} | {_name(r) for r in extras["postgres"]}
    undeclared = {d: sorted(f) for d, f in imported_distributions().items() if d not in declared}
    assert not undeclared, (
        "imported by custkit but not a runtime dependency in pyproject.toml (declare them, even "
        f"when another dependency brings them): {undeclared}"
    )


def test_the_used_by_name_list_names_declared_dependencies_only():
    declared = {_name(r) for r in PROJECT["dependencies"]}
    assert USED_BY_NAME.keys() <= declared


def test_the_oracles_are_test_references_never_imported_by_the_package_or_its_notebooks():
    """statsmodels and lifetimes check custkit in the tests (custkit/stats.py says why)."""
    oracles = {_name(r) for r in PROJECT["optional-dependencies"]["oracle"]}
    assert {"statsmodels", "lifetimes"} <= oracles
    assert not oracles & {_name(r) for r in PROJECT["dependencies"]}
    found = {d: sorted(f) for d, f in imported_distributions().items() if d in oracles}
    assert not found, f"the package imports test references (the [oracle] extra): {found}"
