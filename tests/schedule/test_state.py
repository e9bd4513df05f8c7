"""The schedule's state file and lock: a damaged file, a future --now and an unwritable folder
are clear errors (exit status 2), never a traceback or a state that skips real months."""

import errno
import json
import os
from pathlib import Path

import pytest
import yaml

from custkit.cli import main
from custkit.reports.lock import folder_lock
from custkit.reports.run import RunResult
from custkit.schedule import runner
from custkit.schedule.state import STATE_FILE, ScheduleState

GOOD_RECORD = {"status": "ok", "attempts": 1, "reports": {"audit": "ok"}, "fire": None}


@pytest.fixture
def fake(monkeypatch):
    calls = []

    def run_reports(
        reports, params_file, period=None, out_dir="reports", overrides=None, progress=None
    ):
        calls.append(period)
        folder = Path(out_dir) / period / reports[0]
        folder.mkdir(parents=True, exist_ok=True)
        page = folder / f"{reports[0]}.html"
        page.write_text("report")
        return [RunResult(reports[0], period, "ok", page, None)]

    monkeypatch.setattr(runner, "run_reports", run_reports)
    return calls


@pytest.fixture
def schedule(tmp_path):
    path = tmp_path / "schedule.yaml"
    job = {
        "name": "acme",
        "params": "acme.yaml",
        "reports": ["audit"],
        "cron": "0 6 2 * *",
        "timezone": "Europe/Moscow",
        "out": "out",
    }
    path.write_text(yaml.safe_dump({"jobs": [job]}), encoding="utf-8")
    (tmp_path / "out").mkdir()
    return path


def jobs(entry):
    return json.dumps({"version": 1, "jobs": {"acme": entry}})


DAMAGED = {
    "truncated": (jobs({"periods": {"2026-10": GOOD_RECORD}})[:40], "it is not valid JSON"),
    "empty": ("", "it is not valid JSON"),
    "not JSON": ("<html>502 Bad Gateway</html>", "it is not valid JSON"),
    "not UTF-8": ("\udcff\udcfe".encode("utf-8", "surrogateescape"), "it is not UTF-8 text"),
    "a list": ("[]", "it has no 'jobs' mapping"),
    "jobs a list": ('{"jobs": []}', "it has no 'jobs' mapping"),
    "job not a mapping": (jobs(5), "job 'acme' is not a mapping"),
    "last_fire not a time": (jobs({"last_fire": "yesterday"}), "'last_fire' must be a time"),
    "last_fire without zone": (jobs({"last_fire": "2026-12-02T06:00"}), "'last_fire' must be"),
    "periods a list": (jobs({"periods": []}), "'periods' is not a mapping"),
    "period not a month": (jobs({"periods": {"Nov": GOOD_RECORD}}), "'Nov' is not a month"),
    "record not a mapping": (jobs({"periods": {"2026-10": "ok"}}), "is not a mapping"),
    "record missing attempts": (
        jobs({"periods": {"2026-10": {"status": "ok"}}}),
        "missing fields attempts",
    ),
    "record unknown field": (
        jobs({"periods": {"2026-10": {**GOOD_RECORD, "colour": 1}}}),
        "unknown fields colour",
    ),
    "attempts not a number": (
        jobs({"periods": {"2026-10": {**GOOD_RECORD, "attempts": "2"}}}),
        "attempts must be a positive whole number. Got '2' instead",
    ),
    "status unknown": (
        jobs({"periods": {"2026-10": {**GOOD_RECORD, "status": "done"}}}),
        "status must be 'ok' or 'failed'. Got 'done' instead",
    ),
    "reports not statuses": (
        jobs({"periods": {"2026-10": {**GOOD_RECORD, "reports": ["audit"]}}}),
        "reports must map report names to 'ok' or 'failed'",
    ),
    "fire not a time": (
        jobs({"periods": {"2026-10": {**GOOD_RECORD, "fire": 5}}}),
        "'fire' must be a time",
    ),
}


@pytest.mark.parametrize(("content", "problem"), DAMAGED.values(), ids=DAMAGED.keys())
@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry run"])
def test_a_damaged_state_file_is_a_clear_error_naming_the_file_and_the_fix(
    fake, schedule, tmp_path, capsys, content, problem, dry_run
):
    path = tmp_path / "out" / STATE_FILE
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    args = ["schedule", "run", "--file", str(schedule), "--now", "2026-12-02T06:00+03:00"]
    assert main(args + ["--dry-run"] * dry_run) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"custkit: error: The schedule state file {path} is damaged: ")
    assert problem in err and "delete it to start afresh" in err
    assert "Traceback" not in err and fake == []
    assert path.read_bytes() == (content if isinstance(content, bytes) else content.encode())


def test_a_state_file_written_by_a_run_reads_back(fake, schedule, tmp_path):
    assert (
        main(["schedule", "run", "--file", str(schedule), "--now", "2026-12-02T06:00+03:00"]) == 0
    )
    state = ScheduleState.load(tmp_path / "out")
    assert state.periods("acme")["2026-11"].status == "ok" and state.last_fire("acme")


def test_an_unreadable_state_file_is_a_clear_error(fake, schedule, tmp_path, capsys):
    (tmp_path / "out" / STATE_FILE).mkdir()  # a folder where the file should be
    assert main(["schedule", "run", "--file", str(schedule), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert f"Cannot read the schedule state file {tmp_path / 'out' / STATE_FILE}: " in err


@pytest.mark.parametrize("when", ["2099-01-02T06:00+03:00", "2027-01-02T06:00"])
def test_now_later_than_the_clock_is_refused_unless_a_dry_run(
    fake, schedule, tmp_path, capsys, when
):
    args = ["schedule", "run", "--file", str(schedule), "--now", when]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--now must not be later than the current time" in err and "--dry-run" in err
    assert fake == [] and not (tmp_path / "out" / STATE_FILE).exists()
    assert main([*args, "--dry-run"]) == 0
    assert "would run" in capsys.readouterr().out
    assert fake == [] and not (tmp_path / "out" / STATE_FILE).exists()


def test_now_in_the_past_still_catches_up_as_a_testing_aid(fake, schedule):
    assert (
        main(["schedule", "run", "--file", str(schedule), "--now", "2026-12-02T06:00+03:00"]) == 0
    )
    assert fake == ["2026-11"]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_an_output_folder_that_cannot_take_the_state_is_a_clear_error_with_exit_2(
    fake, schedule, tmp_path, capsys, monkeypatch, code
):
    def refuse(self):
        raise OSError(code, os.strerror(code), str(self.path))

    monkeypatch.setattr(ScheduleState, "save", refuse)
    args = ["schedule", "run", "--file", str(schedule), "--now", "2026-12-02T06:00+03:00"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"custkit: error: Cannot write to the output folder {tmp_path / 'out'}: " in err
    assert os.strerror(code) in err and STATE_FILE in err and "Traceback" not in err


def test_the_lock_is_reentrant_in_its_thread_only(tmp_path):
    import threading

    from custkit.reports.lock import FolderBusy

    outcome = []

    def other_thread():
        try:
            with folder_lock(tmp_path):
                outcome.append("locked")
        except FolderBusy:
            outcome.append("busy")

    with folder_lock(tmp_path), folder_lock(tmp_path):  # the runner, then run_reports
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert outcome == ["busy"]
    with folder_lock(tmp_path):  # released when the outer block ended
        pass
