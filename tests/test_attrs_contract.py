"""Results are typed objects, not ``DataFrame.attrs``: a lint contract.

pandas marks ``attrs`` experimental: many operations drop them or copy them unseen, so a result
kept there can vanish between the function that computed it and the page that shows it (issue
16). The split-test report returns typed, read-only results instead
(:mod:`custkit.splittest.results`). This test counts every write to ``attrs`` in ``custkit/``
(``x.attrs[...] = ...``, ``x.attrs = ...``, ``x.attrs.update(...)``) by module and function, and
fails when one appears outside :data:`ALLOWED` or when an allowed one goes away without the
list shrinking with it.
"""

import ast
import functools
from collections import Counter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "custkit"

_RESULT = "a result returned to the caller: to become a typed result object (issue 16)"
_SHARED = (
    "metadata of the customer-state table, which is saved to disk with its attrs as a JSON note "
    "beside the Parquet file and read back by the reports, the card and the CLI: kept until the "
    "table gets a typed wrapper"
)

#: (module, function) -> (writes, why it is still allowed). Shrink it; never grow it.
ALLOWED = {
    ("churn/definition.py", "_status"): (1, f"the churn rule in words; {_RESULT}"),
    ("churn/features.py", "churn_features"): (3, f"as-of and missing sources; {_RESULT}"),
    ("churn/report.py", "reasons_by_group"): (1, f"groups too small to show; {_RESULT}"),
    ("churn/report.py", "value_if_kept"): (1, f"revenue or margin basis; {_RESULT}"),
    ("churn/text.py", "classify_feedback"): (2, f"method and training size; {_RESULT}"),
    ("cli.py", "_customer"): (1, f"the as-of a card's lookup names; {_SHARED}"),
    ("customers/exports.py", "write_customer_cards"): (
        1,
        "clears attrs so the Parquet export carries no options in its metadata",
    ),
    ("customers/saved.py", "load_state"): (1, _SHARED),
    ("customers/saved.py", "shared_state"): (3, _SHARED),
    ("customers/state.py", "customer_state"): (1, _SHARED),
    ("customers/state.py", "with_plan"): (1, _SHARED),
    ("data/reduce.py", "reduce_customer_days"): (1, f"orders excluded, by reason; {_RESULT}"),
    ("ltv/base.py", "_set_uncertainty"): (
        3,
        f"the fitted summary's time unit and fit, as lifetimes' summaries carry; {_RESULT}",
    ),
    ("ltv/clv.py", "customer_lifetime_value"): (1, f"horizon, discount, totals; {_RESULT}"),
    ("ltv/profit.py", "value_to_annual_revenue"): (1, f"the horizon; {_RESULT}"),
    ("ltv/summary.py", "summarize"): (
        2,
        f"time unit and calibration end, as lifetimes' summaries carry; {_RESULT}",
    ),
}

#: Packages whose results are all typed: no ``attrs`` at all, read or written.
WITHOUT_ATTRS = ("splittest", "plots/splittest.py")


def _is_attrs(node: ast.AST) -> bool:
    if isinstance(node, ast.Subscript):
        node = node.value
    return isinstance(node, ast.Attribute) and node.attr == "attrs"


@functools.cache
def _writes(package: Path) -> Counter:
    writes: Counter = Counter()
    for path in sorted(package.rglob("*.py")):
        module = path.relative_to(package).as_posix()

        def visit(node: ast.AST, function: str, module: str = module) -> None:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                function = node.name
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            written = any(_is_attrs(t) for t in targets)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                method = node.func
                written |= method.attr in {"update", "setdefault", "pop", "clear"} and _is_attrs(
                    method.value
                )
            if written:
                writes[(module, function)] += 1
            for child in ast.iter_child_nodes(node):
                visit(child, function)

        visit(ast.parse(path.read_text(encoding="utf-8")), "<module>")
    return writes


def attrs_writes(package: Path = PACKAGE) -> Counter:
    """(module, enclosing function) -> writes to ``attrs`` in it (a copy: parsed once)."""
    return Counter(_writes(package))


def test_no_new_result_is_kept_in_dataframe_attrs():
    writes = attrs_writes()
    total, allowed = sum(writes.values()), sum(n for n, _ in ALLOWED.values())
    new = {key: n for key, n in writes.items() if n > ALLOWED.get(key, (0, ""))[0]}
    assert not new, (
        f"custkit/ writes DataFrame.attrs {total} times; {allowed} are allowed, each with its "
        f"reason in ALLOWED. New: {new}. Return a typed, read-only result instead (a frozen "
        "dataclass with the table and documented fields, as custkit.splittest.results)."
    )


def test_the_allow_list_shrinks_with_the_code():
    writes = attrs_writes()
    stale = {key: (n, writes.get(key, 0)) for key, (n, _) in ALLOWED.items() if writes[key] < n}
    assert not stale, (
        f"These allowed attrs writes are gone or fewer (allowed, now): {stale}. Lower their "
        "count in ALLOWED or remove the entry, so the list never allows more than the code has."
    )
    assert all(reason for _, reason in ALLOWED.values())


def test_todays_count_is_the_allowed_count():
    # 24 writes in 16 functions after the split-test report and the LTV tracking curves moved
    # to typed results (issue 16; 39 writes, 104 lines naming attrs in 25 files before)
    assert sum(attrs_writes().values()) == sum(n for n, _ in ALLOWED.values()) == 24


def _python_files(path: Path) -> list[Path]:
    return sorted(path.rglob("*.py")) if path.is_dir() else [path]


def test_packages_with_typed_results_use_no_attrs_at_all():
    used = [
        f"{path.relative_to(PACKAGE).as_posix()}:{number}"
        for name in WITHOUT_ATTRS
        for path in _python_files(PACKAGE / name)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if ".attrs" in line and "DataFrame.attrs" not in line
    ]
    assert not used, f"DataFrame.attrs in a package whose results are typed: {used}"


def test_the_contract_sees_every_form_of_write(tmp_path):
    module = tmp_path / "custkit" / "example.py"
    module.parent.mkdir()
    module.write_text(
        "def f(frame, other):\n"
        "    frame.attrs['a'] = 1\n"
        "    frame.attrs = {}\n"
        "    frame.attrs.update(b=2)\n"
        "    other.attrs.get('a')\n"  # a read: not counted
        "    frame.attrs['c'] += 1\n",
        encoding="utf-8",
    )
    assert attrs_writes(module.parent) == Counter({("example.py", "f"): 4})
