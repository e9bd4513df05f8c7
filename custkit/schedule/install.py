"""``custkit schedule install``: how a scheduler calls ``custkit schedule run``.

custkit keeps the calendar itself (each job's cron expression in its own time zone, catch-up of
missed periods, state, lock), so a scheduler only has to call one command regularly; running it
when nothing is due costs a second or two and prints nothing. This module prints that call for
cron (a crontab line, installed with ``--write``), for a systemd timer (a service and a timer
unit) and for Airflow (a DAG with a BashOperator). All of them call the command hourly: a job
runs at the first tick at or after its cron time. Exit status 75 (another run holds the output
folder) is marked as harmless where the scheduler allows it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from custkit.errors import CustkitError, ParamsError
from custkit.reports.lock import BUSY_EXIT_CODE
from custkit.schedule.jobs import load_schedule

FORMATS = ("cron", "systemd", "airflow")
#: How often the scheduler calls ``custkit schedule run`` (cron syntax, the machine's clock).
TICK = "0 * * * *"
UNIT_NAME = "custkit-schedule"


def run_command(schedule_file: str | os.PathLike[str]) -> list[str]:
    """The command a scheduler runs: this installation's ``custkit schedule run --file FILE``."""
    script = Path(os.path.abspath(sys.executable)).parent / "custkit"
    program = [str(script)] if script.is_file() else [sys.executable, "-m", "custkit.cli"]
    return [*program, "schedule", "run", "--file", str(Path(schedule_file).expanduser().resolve())]


def crontab_line(schedule_file: str | os.PathLike[str]) -> str:
    """The crontab line that runs the schedule hourly (``%`` escaped, as cron requires)."""
    return f"{TICK} {shlex.join(run_command(schedule_file))}".replace("%", r"\%")


def systemd_units(schedule_file: str | os.PathLike[str]) -> str:
    """A user service and timer, with where to put them and how to enable them."""
    command = " ".join(_systemd_quote(arg) for arg in run_command(schedule_file))
    return f"""\
# ~/.config/systemd/user/{UNIT_NAME}.service
[Unit]
Description=custkit scheduled reports ({Path(schedule_file).name})

[Service]
Type=oneshot
ExecStart={command}
# {BUSY_EXIT_CODE}: another run is still working in the output folder; not a failure
SuccessExitStatus={BUSY_EXIT_CODE}

# ~/.config/systemd/user/{UNIT_NAME}.timer
[Unit]
Description=Run custkit scheduled reports hourly

[Timer]
OnCalendar=hourly
Persistent=true

[Install]
WantedBy=timers.target

# then:
#   systemctl --user daemon-reload
#   systemctl --user enable --now {UNIT_NAME}.timer
#   loginctl enable-linger "$USER"     # keep running while you are logged out
"""


def airflow_dag(schedule_file: str | os.PathLike[str]) -> str:
    """A DAG file calling the schedule hourly; custkit does the catch-up, so Airflow does not."""
    command = shlex.join(run_command(schedule_file))
    return f"""\
# dags/custkit_schedule.py
import datetime

from airflow import DAG
# Airflow 3: from airflow.providers.standard.operators.bash import BashOperator
from airflow.operators.bash import BashOperator

with DAG(
    dag_id="custkit_schedule",
    schedule="@hourly",
    start_date=datetime.datetime(2026, 1, 1),
    catchup=False,  # custkit catches up missed periods itself
    max_active_runs=1,
) as dag:
    BashOperator(
        task_id="custkit_schedule_run",
        bash_command={command!r},
        skip_on_exit_code={BUSY_EXIT_CODE},  # another run holds the output folder: skip, not fail
    )
"""


def render(schedule_file: str | os.PathLike[str], fmt: str = "cron") -> str:
    """The text ``custkit schedule install --format FMT`` prints, after checking the schedule.

    Raises
    ------
    ParamsError
        An unknown format, or a schedule file with an error (found now rather than at 06:00).
    """
    if fmt not in FORMATS:
        raise ParamsError(f"--format must be one of {', '.join(FORMATS)}. Got {fmt!r} instead.")
    load_schedule(schedule_file)
    if fmt == "cron":
        return crontab_line(schedule_file) + "\n"
    return systemd_units(schedule_file) if fmt == "systemd" else airflow_dag(schedule_file)


def install_crontab(schedule_file: str | os.PathLike[str]) -> bool:
    """Append the crontab line to the user's crontab (``crontab -l`` / ``crontab -``).

    Returns
    -------
    bool
        False when the line was already there (nothing changed).

    Raises
    ------
    CustkitError
        No ``crontab`` program, or it failed.
    ParamsError
        The schedule file has an error.
    """
    load_schedule(schedule_file)
    crontab = shutil.which("crontab")
    if crontab is None:
        raise CustkitError(
            "there is no 'crontab' program on this machine, so nothing was installed. Install "
            "cron (e.g. apt-get install cron), or use a systemd timer: "
            "custkit schedule install --format systemd."
        )
    line = crontab_line(schedule_file)
    listed = subprocess.run([crontab, "-l"], capture_output=True, text=True, check=False)
    if listed.returncode != 0 and "no crontab" not in listed.stderr.lower():
        raise CustkitError(f"'crontab -l' failed: {listed.stderr.strip()}")
    current = listed.stdout if listed.returncode == 0 else ""
    if line in current.splitlines():
        return False
    if current and not current.endswith("\n"):
        current += "\n"
    comment = "# custkit scheduled reports (custkit schedule install)"
    written = subprocess.run(
        [crontab, "-"], input=f"{current}{comment}\n{line}\n", capture_output=True, text=True
    )
    if written.returncode != 0:
        raise CustkitError(f"'crontab -' refused the new crontab: {written.stderr.strip()}")
    return True


def _systemd_quote(arg: str) -> str:
    if arg and not any(c.isspace() or c in "\"'\\;$%" for c in arg):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("$", "$$").replace("%", "%%")
    return f'"{escaped}"'
