"""``.ci/install-chromium``, the step ``make test`` runs before the browser check: it installs
Debian's ``chromium`` only when none is on the PATH, non-interactively, through sudo unless root.

The script runs with a PATH of stand-ins (``id``, ``sudo``, ``apt-get``, ``chromium``) that log
their calls, so the install path is checked without touching the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "install-chromium"


def _stand_in(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f'#!/bin/sh\necho "{name} $*" >> "$CALLS"\n{body}\n', encoding="utf-8")
    path.chmod(0o755)


def _run(tmp_path: Path, *, uid: int, chromium: bool, sudo: bool, apt_fails: bool = False):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "env").symlink_to(shutil.which("env"))
    _stand_in(bin_dir, "id", f"echo {uid}")
    # the stand-in apt-get "installs" chromium, as Debian's package puts it on the PATH
    installs = f'case "$1" in install) printf "#!/bin/sh\\n" > "{bin_dir}/chromium"; '
    installs += f'{shutil.which("chmod")} +x "{bin_dir}/chromium";; esac'
    _stand_in(bin_dir, "apt-get", "exit 100" if apt_fails else installs)
    if sudo:
        _stand_in(bin_dir, "sudo", 'exec "$@"')
    if chromium:
        _stand_in(bin_dir, "chromium", "")
    calls = tmp_path / "calls"
    calls.touch()
    env = {"PATH": str(bin_dir), "CALLS": str(calls), "HOME": str(tmp_path)}
    done = subprocess.run(
        [shutil.which("bash"), str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30
    )
    logged = [line for line in calls.read_text().splitlines() if not line.startswith("id ")]
    return done, logged


def test_the_script_is_executable_and_make_test_runs_it():
    assert os.access(SCRIPT, os.X_OK)
    makefile = (SCRIPT.parents[1] / "Makefile").read_text(encoding="utf-8")
    test_rule = next(line for line in makefile.splitlines() if line.startswith("test:"))
    assert "browser" in test_rule.split(":", 1)[1].split()
    assert ".ci/install-chromium" in makefile


@pytest.mark.parametrize("uid", [0, 1000])
def test_a_chromium_on_the_path_is_used_and_nothing_is_installed(tmp_path, uid):
    done, calls = _run(tmp_path, uid=uid, chromium=True, sudo=True)
    assert done.returncode == 0, done.stderr
    assert calls == []
    assert "chromium found" in done.stdout


@pytest.mark.parametrize(
    ("uid", "prefix"), [(0, ""), (1000, "sudo env DEBIAN_FRONTEND=noninteractive ")]
)
def test_a_missing_chromium_is_installed_with_apt_get_non_interactively(tmp_path, uid, prefix):
    done, calls = _run(tmp_path, uid=uid, chromium=False, sudo=True)
    assert done.returncode == 0, done.stderr
    apt = [line for line in calls if line.startswith("apt-get")]
    assert apt == ["apt-get update -q", "apt-get install -y -q --no-install-recommends chromium"]
    assert [line for line in calls if line.startswith("sudo")] == (
        [prefix + "apt-get update -q", prefix + apt[1]] if prefix else []
    )
    assert "chromium installed" in done.stdout


def test_a_user_without_root_or_sudo_is_told_how_to_install_it(tmp_path):
    done, calls = _run(tmp_path, uid=1000, chromium=False, sudo=False)
    assert done.returncode == 1
    assert calls == []
    assert "install Debian's 'chromium' package" in done.stderr


def test_a_failing_apt_get_fails_the_step(tmp_path):
    done, calls = _run(tmp_path, uid=0, chromium=False, sudo=False, apt_fails=True)
    assert done.returncode != 0
    assert calls == ["apt-get update -q"]
