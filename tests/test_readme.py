"""The README is the user's manual: keep its contract table and commands true."""

import re
from pathlib import Path

from custkit.contract import TABLES
from custkit.data.validate import REASONS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_contract_table_lists_every_canonical_column_and_marks_required_ones():
    for table in TABLES.values():
        row = next(line for line in README.splitlines() if line.startswith(f"| {table.name} |"))
        listed = re.findall(r"\*\*(.+?)\*\*", row)
        required = [c.strip() for part in listed for c in part.split(",")]
        assert required == table.required
        for name in table.names:
            assert re.search(rf"\b{name}\b", row), f"{table.name}.{name} missing from README"


def test_readme_explains_every_rejection_reason():
    for code in REASONS:
        assert f"`{code}`" in README


def test_readme_commands_exist_in_the_makefile():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("report", "test", "bench"):
        assert f"make {target}" in README
        assert re.search(rf"^{target}:", makefile, flags=re.MULTILINE)
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
