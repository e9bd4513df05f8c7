"""Running what is due: catch-up, reruns, retries, logs, the lock, and killed runs.

Most tests replace the report runner with a fast fake that records its calls; the last two start
real kernels: a killed run (a slow stand-in notebook) and the audit report on a small demo store.
"""

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import nbformat
import pytest
import yaml

from custkit.cli import main
from custkit.errors import ParamsError
from custkit.reports.lock import LOCK_FILE, folder_lock
from custkit.reports.run import RunResult
from custkit.schedule import runner
from custkit.schedule.state import STATE_FILE, ScheduleState

MOSCOW = ZoneInfo("Europe/Moscow")
ROOT = Path(__file__).resolve().parents[2]


def at(*fields):
    return dt.datetime(*fields, tzinfo=MOSCOW)


class FakeReports:
    """Stands in for run_reports: records calls, fails the (report, period) pairs in ``failing``."""

    def __init__(self):
        self.calls = []
        self.failing = set()

    def __call__(
        self, reports, params_file, period=None, out_dir="reports", overrides=None, progress=None
    ):
        if Path(params_file).name == "broken.yaml":
            raise ParamsError(f"params file '{params_file}' does not exist.")
        results = []
        for report in reports:
            self.calls.append((Path(params_file).stem, report, period))
            folder = Path(out_dir) / period
            folder.mkdir(parents=True, exist_ok=True)
            if (report, period) in self.failing:
                page = folder / f"{report}.failed.html"
                page.write_text("failed", encoding="utf-8")
                results.append(RunResult(report, period, "failed", page, None, "boom"))
            else:
                page = folder / f"{report}.html"
                page.write_text("report", encoding="utf-8")
                results.append(RunResult(report, period, "ok", page, None, None, 0.1))
        return results

    def periods(self):
        return [period for _, _, period in self.calls]


@pytest.fixture
def fake(monkeypatch):
    reports = FakeReports()
    monkeypatch.setattr(runner, "run_reports", reports)
    return reports


def write_schedule(folder, *jobs):
    entries = []
    for spec in jobs or ({},):
        entry = {
            "name": "acme",
            "params": "acme.yaml",
            "reports": ["audit", "ltv"],
            "cron": "0 6 2 * *",
            "timezone": "Europe/Moscow",
            "out": "out",
        }
        entries.append({**entry, **spec})
    path = folder / "schedule.yaml"
    path.write_text(yaml.safe_dump({"jobs": entries}), encoding="utf-8")
    return path


@pytest.fixture
def schedule(tmp_path):
    return write_schedule(tmp_path)


def state(out):
    return json.loads((out / STATE_FILE).read_text(encoding="utf-8"))["jobs"]


def test_first_run_reports_the_latest_period_and_a_rerun_never_repeats_it(fake, schedule, tmp_path):
    report = runner.run_schedule(schedule, at(2026, 12, 2, 6))
    assert fake.calls == [("acme", "audit", "2026-11"), ("acme", "ltv", "2026-11")]
    assert report.exit_code == 0 and report.problems() == []
    assert report.lines()[0].startswith("acme 2026-11 (due): audit ok in 0.1 s →")
    for later in (at(2026, 12, 2, 6), at(2026, 12, 2, 7), at(2026, 12, 31, 23)):
        assert runner.run_schedule(schedule, later).outcomes == []
    assert len(fake.calls) == 2
    recorded = state(tmp_path / "out")["acme"]
    assert recorded["last_fire"] == "2026-12-02T06:00:00+03:00"
    assert recorded["periods"]["2026-11"]["status"] == "ok"
    assert recorded["periods"]["2026-11"]["reports"] == {"audit": "ok", "ltv": "ok"}


def test_periods_missed_while_the_machine_was_off_are_caught_up_oldest_first_once(fake, schedule):
    runner.run_schedule(schedule, at(2026, 9, 2, 7))
    # off from September to January: four fires missed, across the year end
    report = runner.run_schedule(schedule, at(2027, 1, 5, 10))
    assert [(o.run.period, o.run.reason) for o in report.outcomes] == [
        ("2026-09", "due"), ("2026-10", "due"), ("2026-11", "due"), ("2026-12", "due")
    ]  # fmt: skip
    assert fake.periods()[::2] == ["2026-08", "2026-09", "2026-10", "2026-11", "2026-12"]
    assert runner.run_schedule(schedule, at(2027, 1, 5, 11)).outcomes == []


def test_start_catches_up_every_period_since_that_day_on_the_first_run(fake, tmp_path):
    path = write_schedule(tmp_path, {"start": "2026-09-01", "reports": ["audit"]})
    runner.run_schedule(path, at(2026, 12, 3))
    assert fake.periods() == ["2026-08", "2026-09", "2026-10", "2026-11"]


def test_a_failed_report_fails_the_run_and_only_it_is_retried_next_time(fake, schedule, tmp_path):
    fake.failing = {("ltv", "2026-11")}
    args = ["schedule", "run", "--file", str(schedule), "--now", "2026-12-02T06:00+03:00"]
    assert main(args) == 1
    assert fake.calls == [("acme", "audit", "2026-11"), ("acme", "ltv", "2026-11")]
    record = state(tmp_path / "out")["acme"]["periods"]["2026-11"]
    assert (record["status"], record["attempts"]) == ("failed", 1)
    assert record["reports"] == {"audit": "ok", "ltv": "failed"}

    plan = runner.run_schedule(schedule, at(2026, 12, 2, 7), dry_run=True).lines()
    assert plan[0].startswith(
        "acme: would run 2026-11 (retry, due since 2026-12-02 06:00 MSK): ltv"
    )

    fake.failing = set()
    report = runner.run_schedule(schedule, at(2026, 12, 2, 7))
    assert [(o.run.period, o.run.reason, o.run.reports) for o in report.outcomes] == [
        ("2026-11", "retry", ("ltv",))
    ]
    assert report.exit_code == 0
    record = state(tmp_path / "out")["acme"]["periods"]["2026-11"]
    assert (record["status"], record["attempts"], record["error"]) == ("ok", 2, None)


def test_the_failure_is_printed_with_its_page_and_log(fake, schedule, capsys):
    fake.failing = {("ltv", "2026-11")}
    main(["schedule", "run", "--file", str(schedule), "--now", "2026-12-02T06:00+03:00"])
    out, err = capsys.readouterr()
    assert "acme 2026-11 (due): audit ok" in out
    assert "acme 2026-11 (due): ltv FAILED: boom (page: " in err
    assert "ltv.failed.html; log: " in err and "-acme.log)" in err


def test_a_period_failing_three_times_waits_for_an_on_demand_rerun(fake, schedule, capsys):
    fake.failing = {("audit", "2026-11")}
    for hour in (6, 7, 8, 9, 10):
        runner.run_schedule(schedule, at(2026, 12, 2, hour))
    assert fake.calls.count(("acme", "audit", "2026-11")) == runner.MAX_ATTEMPTS

    main(["schedule", "run", "--file", str(schedule), "--dry-run", "--now", "2026-12-02T11:00"])
    assert (
        "acme: 2026-11 failed 3 times and is no longer retried; rerun it with: "
        "custkit schedule run --job acme --period 2026-11"
    ) in capsys.readouterr().out

    fake.failing = set()
    report = runner.run_schedule(schedule, at(2026, 12, 2, 12), job="acme", period="2026-11")
    assert report.exit_code == 0 and report.outcomes[0].run.reason == "on demand"
    assert fake.calls[-2:] == [("acme", "audit", "2026-11"), ("acme", "ltv", "2026-11")]
    assert ScheduleState.load(schedule.parent / "out").periods("acme")["2026-11"].status == "ok"


def test_an_on_demand_rerun_runs_a_finished_period_again_and_leaves_the_calendar_alone(
    fake, schedule, tmp_path
):
    runner.run_schedule(schedule, at(2026, 12, 2, 6))
    exit_code = main(
        ["schedule", "run", "--file", str(schedule), "--job", "acme", "--period", "2026-06",
         "--now", "2027-01-02T07:00+03:00"]
    )  # fmt: skip
    assert exit_code == 0
    assert fake.periods() == ["2026-11", "2026-11", "2026-06", "2026-06"]
    recorded = state(tmp_path / "out")["acme"]
    assert recorded["last_fire"] == "2026-12-02T06:00:00+03:00"  # January's fire is still due
    assert recorded["periods"]["2026-06"]["fire"] is None
    runner.run_schedule(schedule, at(2027, 1, 2, 7))
    assert fake.periods()[-1] == "2026-12"


def test_period_needs_a_job_and_an_unknown_job_suggests_the_closest(fake, schedule, capsys):
    assert main(["schedule", "run", "--file", str(schedule), "--period", "2026-11"]) == 2
    assert "add --job NAME (jobs: acme)" in capsys.readouterr().err
    assert main(["schedule", "run", "--file", str(schedule), "--job", "acne"]) == 2
    assert "Did you mean 'acme'?" in capsys.readouterr().err
    args = ["schedule", "run", "--file", str(schedule), "--job", "acme", "--period", "2026-13"]
    assert main(args) == 2
    assert "YYYY-MM" in capsys.readouterr().err
    assert main(["schedule", "run", "--file", str(schedule), "--now", "yesterday"]) == 2
    assert "--now must be a time in ISO 8601" in capsys.readouterr().err
    assert fake.calls == []


def test_a_dry_run_lists_what_is_due_and_changes_nothing(fake, schedule, tmp_path, capsys):
    args = ["schedule", "run", "--file", str(schedule), "--dry-run"]
    assert main([*args, "--now", "2026-12-02T06:00+03:00"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("acme: would run 2026-11 (due since 2026-12-02 06:00 MSK): audit, ltv → ")
    assert fake.calls == [] and not (tmp_path / "out").exists()
    runner.run_schedule(schedule, at(2026, 12, 2, 6))
    main([*args, "--now", "2026-12-10T00:00+03:00"])
    assert capsys.readouterr().out == (
        "acme: nothing due; next run 2027-01-02 06:00 MSK reports 2026-12\n"
    )


def test_each_run_that_has_work_writes_its_own_log_and_idle_runs_write_none(
    fake, schedule, tmp_path
):
    logs = tmp_path / "out" / "logs"
    fake.failing = {("ltv", "2026-11")}
    runner.run_schedule(schedule, at(2026, 12, 2, 6))
    runner.run_schedule(schedule, at(2026, 12, 2, 6, 30))  # retry
    fake.failing = set()
    runner.run_schedule(schedule, at(2026, 12, 2, 7))  # retry succeeds
    runner.run_schedule(schedule, at(2026, 12, 2, 8))  # nothing to do
    assert sorted(p.name for p in logs.iterdir()) == [
        "20261202-060000-acme.log", "20261202-063000-acme.log", "20261202-070000-acme.log"
    ]  # fmt: skip
    first = (logs / "20261202-060000-acme.log").read_text(encoding="utf-8")
    assert "job acme: 2026-11 (due)" in first
    assert "acme 2026-11 (due): failed (attempt 1 of 3): ltv: boom" in first
    last = (logs / "20261202-070000-acme.log").read_text(encoding="utf-8")
    assert "acme 2026-11 (retry): running ltv" in last and "acme 2026-11 (retry): ok" in last


def test_a_job_whose_params_cannot_be_used_gets_failure_pages_and_the_others_still_run(
    fake, tmp_path, capsys
):
    path = write_schedule(
        tmp_path,
        {"name": "broken", "params": "broken.yaml", "out": "broken"},
        {"name": "fine", "params": "fine.yaml", "out": "fine"},
    )
    assert main(["schedule", "run", "--file", str(path), "--now", "2026-12-02T06:00+03:00"]) == 1
    assert fake.calls == [("fine", "audit", "2026-11"), ("fine", "ltv", "2026-11")]
    page = (tmp_path / "broken" / "2026-11" / "audit.failed.html").read_text(encoding="utf-8")
    assert "starting the scheduled run" in page and "broken.yaml" in page
    assert "Scheduled job &#x27;broken&#x27;" in page and "-broken.log" in page
    assert (tmp_path / "broken" / "2026-11" / "ltv.failed.html").exists()
    assert 'href="2026-11/audit.failed.html"' in (tmp_path / "broken" / "index.html").read_text()
    assert "broken 2026-11 (due): FAILED: params file" in capsys.readouterr().err
    assert state(tmp_path / "broken")["broken"]["periods"]["2026-11"]["status"] == "failed"


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError('bug on row 5: 1004,"ann.lee@shop.ru","+7 916 123-45-67",Ann, Lee,x'),
        ParamsError("params: contact 'ann.lee@shop.ru' (+79161234567) is not a column."),
    ],
    ids=["bug with traceback", "user error"],
)
def test_logs_state_pages_and_terminal_of_a_failed_job_hold_no_contact_values(
    monkeypatch, schedule, tmp_path, capsys, error
):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(runner, "run_reports", fail)
    args = ["schedule", "run", "--file", str(schedule), "--now", "2026-12-02T06:00+03:00"]
    assert main(args) == 1
    out = tmp_path / "out"
    written = [p for p in out.rglob("*") if p.is_file()]
    assert {p.suffix for p in written} >= {".log", ".json", ".html"}
    texts = [p.read_text(encoding="utf-8") for p in written] + [capsys.readouterr().err]
    if isinstance(error, RuntimeError):  # a bug: the log keeps its traceback, scrubbed
        assert any("Traceback" in text and "<row withheld>" in text for text in texts)
    for text in texts:
        assert "ann.lee" not in text and "Ann, Lee" not in text
        assert "9161234567" not in re.sub(r"\D", "", text)


def test_failure_pages_and_index_of_a_job_are_in_its_params_language(fake, tmp_path):
    """A params file that cannot be used still names its language (``language: ru``)."""
    (tmp_path / "ru").mkdir()
    (tmp_path / "ru" / "broken.yaml").write_text("language: ru\nsources: 3\n", encoding="utf-8")
    path = write_schedule(tmp_path, {"name": "broken", "params": "ru/broken.yaml", "out": "out"})
    runner.run_schedule(path, at(2026, 12, 2, 6))
    page = (tmp_path / "out" / "2026-11" / "audit.failed.html").read_text(encoding="utf-8")
    assert '<html lang="ru">' in page and "за ноябрь\u00a02026" in page
    assert "<b>запуск по расписанию</b>" in page and "Задание расписания «broken»" in page
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "<h1>Отчёты</h1>" in index and "&#10007; ошибка" in index


def test_the_language_of_a_job_is_read_leniently(tmp_path):
    job = runner.Job("j", tmp_path / "p.yaml", ("audit",), "@monthly", MOSCOW, tmp_path)
    assert runner.job_language(job) == "en"  # no file
    for text, language in (("language: ru", "ru"), ("language: de", "en"), ("[", "en")):
        job.params.write_text(text, encoding="utf-8")
        assert runner.job_language(job) == language


HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from custkit.reports.lock import folder_lock
    with folder_lock(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(120)
    """
)


def test_a_second_concurrent_run_leaves_the_folder_alone_and_a_crashed_holder_frees_it(
    fake, schedule, tmp_path, capsys
):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(out)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        args = ["schedule", "run", "--file", str(schedule), "--now", "2026-12-02T06:00+03:00"]
        assert main(args) == 75
        err = capsys.readouterr().err
        assert f"another custkit run (pid {holder.pid} since " in err
        assert ": custkit schedule run) is working in " in err
        assert f"is working in {out}; this run left that folder alone" in err
        assert fake.calls == [] and not (out / STATE_FILE).exists()
    finally:
        holder.kill()  # SIGKILL: no chance to clean up, the OS drops its lock
        holder.wait()
    assert main(args) == 0
    assert fake.periods() == ["2026-11", "2026-11"]
    assert (out / LOCK_FILE).exists()  # the file stays; only the lock on it matters


def test_wait_waits_for_the_run_holding_the_folder(fake, schedule, tmp_path):
    locked, release = threading.Event(), threading.Event()

    def hold():
        with folder_lock(tmp_path / "out"):
            locked.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    locked.wait(10)
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    report = runner.run_schedule(schedule, at(2026, 12, 2, 6), wait=True)
    thread.join()
    assert time.monotonic() - started >= 0.4
    assert report.exit_code == 0 and fake.periods() == ["2026-11", "2026-11"]


SLOW_REPORT = [
    ("markdown", "# Slow report"),
    (
        "code",
        "# Write the figures, then take a long time\n"
        "import json, os, pathlib, time\n"
        "out = pathlib.Path(output_dir)\n"
        "kpis = {'report': 'slow', 'period': period, 'store': 'Test store', 'kpis': {}}\n"
        "(out / 'slow.kpis.json').write_text(json.dumps(kpis))\n"
        "pathlib.Path(os.environ['SLOW_MARKER']).touch()\n"
        "time.sleep(float(os.environ['SLOW_SECONDS']))\n"
        "print('new report')",
    ),
]


@pytest.fixture
def slow_report(tmp_path, monkeypatch):
    """A notebooks folder with one slow report, a params file and a schedule running it."""
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    cell = nbformat.v4.new_code_cell('params_file = ""\nperiod = ""\noutput_dir = ""\n')
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell] + [
        (nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell)(src)
        for kind, src in SLOW_REPORT
    ]
    nbformat.write(nb, str(notebooks / "slow.ipynb"))
    monkeypatch.setenv("CUSTKIT_NOTEBOOKS", str(notebooks))
    monkeypatch.setenv("SLOW_MARKER", str(tmp_path / "started"))
    (tmp_path / "shop.yaml").write_text("sources:\n  orders: {path: orders.csv}\n")
    return write_schedule(tmp_path, {"name": "shop", "params": "shop.yaml", "reports": ["slow"]})


def test_a_killed_run_leaves_the_previous_report_in_place_and_the_next_run_redoes_it(
    slow_report, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    previous = out / "2026-11" / "slow" / "slow.html"
    previous.parent.mkdir(parents=True)
    previous.write_text("previous good report", encoding="utf-8")
    now = ["--now", "2026-12-02T06:00+03:00"]
    command = [sys.executable, "-m", "custkit.cli", "schedule", "run", "--file", str(slow_report)]
    env = {**os.environ, "SLOW_SECONDS": "120"}
    # its own process group, so the kill takes the kernel too, like a power cut or an OOM kill
    run = subprocess.Popen([*command, *now], env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not (tmp_path / "started").exists():
            assert run.poll() is None, "the run ended before the report started"
            assert time.monotonic() < deadline, "the slow report never started"
            time.sleep(0.2)
        os.killpg(run.pid, signal.SIGKILL)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        run.wait()

    assert previous.read_text(encoding="utf-8") == "previous good report"
    assert sorted(p.name for p in (out / "2026-11").iterdir()) == ["slow"]
    assert sorted(p.name for p in (out / "2026-11" / "slow").iterdir()) == ["slow.html"]
    assert ScheduleState.load(out).periods("shop") == {}  # the period is not marked done
    assert list((out / ".staging").iterdir())  # the killed run's staging folder, cleaned later

    monkeypatch.setenv("SLOW_SECONDS", "0")
    assert main(["schedule", "run", "--file", str(slow_report), *now]) == 0
    assert "new report" in previous.read_text(encoding="utf-8")
    assert sorted(p.name for p in (out / "2026-11" / "slow").iterdir()) == [
        "slow.html", "slow.ipynb", "slow.kpis.json",
    ]  # fmt: skip
    assert not (out / ".staging").exists()  # the next run, holding the lock, cleared it
    assert ScheduleState.load(out).periods("shop")["2026-11"].status == "ok"


def test_the_audit_report_runs_end_to_end_on_demand_from_the_schedule(tmp_path, capsys):
    from custkit.data.demo import write_demo_store

    data = write_demo_store(tmp_path / "data", 1500, seed=3)
    path = write_schedule(
        tmp_path, {"name": "demo", "params": str(data / "params.yaml"), "reports": ["audit"]}
    )
    args = ["schedule", "run", "--file", str(path), "--job", "demo", "--period", "2026-10"]
    assert main(args) == 0, capsys.readouterr().err
    page = tmp_path / "out" / "2026-10" / "audit" / "audit.html"
    assert "demo 2026-10 (on demand): audit ok in " in capsys.readouterr().out
    assert page.exists() and (page.parent / "audit.kpis.json").exists()
    assert 'href="2026-10/audit/audit.html"' in (tmp_path / "out" / "index.html").read_text()
    assert ScheduleState.load(tmp_path / "out").periods("demo")["2026-10"].status == "ok"
    (log,) = (tmp_path / "out" / "logs").glob("*-demo.log")
    assert "audit 2026-10: ok in" in log.read_text(encoding="utf-8")
