"""environment.yml must keep installing what pyproject.toml declares."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_environment_yml_parses_and_installs_the_package_with_dev_and_oracle_extras():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert env["name"] == project["name"]
    pip_lines = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e .[dev,oracle]" in pip_lines
    assert {"dev", "oracle"} <= project["optional-dependencies"].keys()
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python.removeprefix("python") == project["requires-python"]


def test_make_setup_installs_the_extras_the_tests_need():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -q -e '.[dev,oracle]'" in makefile


def test_pyproject_declares_the_tools_reports_run_on():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {d.split(">")[0].split("=")[0].split("<")[0].strip().lower() for d in deps}
    assert {"pandas", "papermill", "nbconvert", "ipykernel", "pyarrow", "pyyaml"} <= names
