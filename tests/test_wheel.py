"""A wheel built from the tree runs every report: custkit installed, not a checkout.

The wheel is built from a copy of the package (``pip wheel --no-deps``, so the checkout gets no
``build/`` folder) and installed into a fresh venv whose dependencies are this environment's:
a ``.pth`` line puts this interpreter's site-packages after the venv's own, which is what
``python -m venv --system-site-packages`` does for a system Python but also works when the tests
run in a venv (whose base Python has none of the dependencies). A path line in a ``.pth`` file
runs no other ``.pth`` file, so an editable install of custkit here cannot shadow the wheel's.
Jupyter's data files (nbconvert's templates, kernel specs) are found through ``JUPYTER_PATH``, as
they would be in the venv's own ``share/jupyter`` after a full install.
"""

import fnmatch
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ("audit", "churn", "ltv", "splittest")
#: Not package files: caches, Jupyter's checkpoints and a build's metadata.
NOT_SHIPPED = ("__pycache__", ".ipynb_checkpoints", "*.egg-info", "*.pyc")

pytestmark = pytest.mark.wheel


def _package_files() -> list[str]:
    """Every file under ``custkit/`` the package ships: code and data, no caches."""
    files = []
    for path in sorted((ROOT / "custkit").rglob("*")):
        parts = path.relative_to(ROOT).parts
        if path.is_file() and not any(fnmatch.fnmatch(p, n) for p in parts for n in NOT_SHIPPED):
            files.append("/".join(parts))
    return files


def _run(args, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout}{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel of a copy of the tree (the package, pyproject.toml and the README it names)."""
    folder = tmp_path_factory.mktemp("wheel")
    source = folder / "source"
    shutil.copytree(
        ROOT / "custkit", source / "custkit", ignore=shutil.ignore_patterns(*NOT_SHIPPED)
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    args = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(source), "-w"]
    _run([*args, str(folder / "dist")], cwd=folder)
    (built,) = (folder / "dist").glob("custkit-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv with custkit installed from *wheel* and this environment's dependencies."""
    folder = tmp_path_factory.mktemp("venv") / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(folder)])
    python = folder / "bin" / "python"
    own = _run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
    ours = dict.fromkeys(sysconfig.get_path(key) for key in ("purelib", "platlib"))
    (Path(own.stdout.strip()) / "custkit-test-dependencies.pth").write_text("\n".join(ours) + "\n")
    _run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)])
    return folder


def _environment(monkeypatch) -> dict[str, str]:
    """This process's environment without anything that points custkit at the checkout."""
    from jupyter_core.paths import jupyter_path

    for name in ("PYTHONPATH", "CUSTKIT_NOTEBOOKS", "CUSTKIT_KERNEL", "CUSTKIT_OUTPUT_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join(jupyter_path()))
    return dict(os.environ)


def test_the_wheel_ships_every_file_of_the_package(wheel):
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if name.startswith("custkit/")}
    missing = sorted(set(_package_files()) - shipped)
    assert not missing, (
        "files of custkit/ missing from the wheel (add them to [tool.setuptools.package-data] "
        f"in pyproject.toml): {missing}"
    )
    assert {f"custkit/notebooks/{report}.ipynb" for report in REPORTS} <= shipped


def test_package_data_patterns_are_declared_for_the_notebooks_and_catalogues():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "notebooks/*.ipynb" in data["package-data"]["custkit"]
    assert "locale/*/*.po" in data["package-data"]["custkit"]


def test_an_installed_wheel_runs_every_report_from_outside_the_checkout(
    venv, tmp_path, monkeypatch
):
    env = _environment(monkeypatch)
    python, custkit = venv / "bin" / "python", venv / "bin" / "custkit"
    where = _run(
        [
            python,
            "-c",
            "import custkit, custkit.reports as r; print(custkit.__file__); "
            "print(r.notebooks_dir())",
        ],
        cwd=tmp_path,
        env=env,
    ).stdout.split()
    assert all(Path(path).is_relative_to(venv) for path in where), where
    assert not any(Path(path).is_relative_to(ROOT) for path in where), where
    listed = _run([custkit, "list"], cwd=tmp_path, env=env).stdout
    assert all(report in listed for report in REPORTS), listed

    _run([custkit, "demo", "--customers", "2000", "--out", "store"], cwd=tmp_path, env=env)
    _run(
        [custkit, "run", "all", "--params", "store/params.yaml", "--out", "out"],
        cwd=tmp_path,
        env=env,
    )

    (month,) = [p for p in (tmp_path / "out").iterdir() if p.is_dir() and p.name[:2] == "20"]
    for report in REPORTS:
        assert (month / report / f"{report}.html").is_file(), report
        assert not (month / f"{report}.failed.html").exists(), report
    assert (month / "summary.html").is_file()
    assert (tmp_path / "out" / "index.html").is_file()
