"""What `custkit schedule install` prints for cron, systemd and Airflow, and --write."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from custkit.cli import main
from custkit.errors import ParamsError
from custkit.schedule.install import crontab_line, render, run_command

FAKE_CRONTAB = """#!/bin/sh
# stands in for crontab(1): keeps the table in $CRONTAB_FILE
if [ "$1" = "-l" ]; then
    cat "$CRONTAB_FILE" 2>/dev/null || { echo "no crontab for tester" >&2; exit 1; }
elif [ "$1" = "-" ]; then
    cat > "$CRONTAB_FILE"
fi
"""


@pytest.fixture
def schedule(tmp_path):
    (tmp_path / "shop.yaml").write_text("sources:\n  orders: {path: orders.csv}\n")
    job = {
        "name": "shop",
        "params": "shop.yaml",
        "reports": ["audit"],
        "cron": "0 6 2 * *",
        "timezone": "Europe/Moscow",
        "out": "out",
    }
    path = tmp_path / "schedule.yaml"
    path.write_text(yaml.safe_dump({"jobs": [job]}), encoding="utf-8")
    return path


@pytest.fixture
def fake_crontab(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / "crontab"
    program.write_text(FAKE_CRONTAB)
    program.chmod(0o755)
    table = tmp_path / "crontab.txt"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("CRONTAB_FILE", str(table))
    return table


def test_the_crontab_line_calls_this_installation_hourly_with_the_absolute_schedule_path(
    schedule, tmp_path, capsys
):
    assert main(["schedule", "install", "--file", str(schedule)]) == 0
    line = capsys.readouterr().out.strip()
    assert line == crontab_line(schedule)
    fields = shlex.split(line)
    assert fields[:5] == ["0", "*", "*", "*", "*"]
    assert fields[5:] == run_command(schedule)
    assert Path(fields[5]).is_absolute() and fields[-2:] == ["--file", str(schedule.resolve())]


def test_the_installed_command_works_from_any_working_folder(schedule, tmp_path):
    command = shlex.split(crontab_line(schedule))[5:]
    done = subprocess.run(
        [*command, "--dry-run", "--now", "2026-12-02T06:00+03:00"],
        cwd="/",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("shop: would run 2026-11 (due since 2026-12-02 06:00 MSK)")


def test_paths_with_spaces_and_percent_signs_survive_cron():
    line = crontab_line("/srv/client reports/100%.yaml")
    assert "'/srv/client reports/100\\%.yaml'" in line  # cron reads a bare % as a newline


def test_write_appends_the_line_to_the_users_crontab_once(schedule, fake_crontab, capsys):
    fake_crontab.write_text("MAILTO=me@example.org\n15 3 * * * backup\n")
    assert main(["schedule", "install", "--file", str(schedule), "--write"]) == 0
    assert capsys.readouterr().out.startswith("added to your crontab: 0 * * * * ")
    assert main(["schedule", "install", "--file", str(schedule), "--write"]) == 0
    assert capsys.readouterr().out.startswith("already in your crontab: ")
    lines = fake_crontab.read_text().splitlines()
    assert lines[:2] == ["MAILTO=me@example.org", "15 3 * * * backup"]
    assert lines[2].startswith("# custkit") and lines[3] == crontab_line(schedule)
    assert len(lines) == 4


def test_write_starts_a_crontab_for_a_user_who_has_none(schedule, fake_crontab):
    assert main(["schedule", "install", "--file", str(schedule), "--write"]) == 0
    assert fake_crontab.read_text().splitlines()[1] == crontab_line(schedule)


def test_write_without_crontab_says_what_to_do_instead(schedule, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["schedule", "install", "--file", str(schedule), "--write"]) == 2
    err = capsys.readouterr().err
    assert "no 'crontab' program" in err and "--format systemd" in err


def test_write_is_for_cron_only(schedule, capsys):
    args = ["schedule", "install", "--file", str(schedule), "--format", "systemd", "--write"]
    assert main(args) == 2
    assert "--write installs the crontab line only" in capsys.readouterr().err


def test_systemd_units_run_the_same_command_hourly_catching_up_after_boot(schedule):
    text = render(schedule, "systemd")
    command = " ".join(run_command(schedule))
    assert f"ExecStart={command}\n" in text
    assert "SuccessExitStatus=75" in text and "Type=oneshot" in text
    assert "OnCalendar=hourly\nPersistent=true" in text
    assert "systemctl --user enable --now custkit-schedule.timer" in text


def test_the_airflow_dag_is_python_that_runs_the_same_command_and_skips_when_busy(schedule):
    text = render(schedule, "airflow")
    compile(text, "custkit_schedule.py", "exec")
    assert f"bash_command={shlex.join(run_command(schedule))!r}" in text
    assert "skip_on_exit_code=75" in text and "catchup=False" in text


def test_install_checks_the_schedule_first(tmp_path):
    broken = tmp_path / "schedule.yaml"
    broken.write_text("jobs:\n  - name: shop\n    cron: monthly\n")
    with pytest.raises(ParamsError, match="has no 'params'"):
        render(broken, "cron")
    with pytest.raises(ParamsError, match="--format must be one of cron, systemd, airflow"):
        render(broken, "launchd")


def test_the_command_is_this_interpreters_custkit():
    program = run_command("schedule.yaml")[0]
    assert Path(program).parent == Path(os.path.abspath(sys.executable)).parent
