"""What a run shows while it works: steps with elapsed time, plain lines off a terminal."""

import datetime as dt
import io
import re

import pytest

from custkit.cli import main
from custkit.reports import run as run_module
from custkit.reports.progress import LineProgress, LiveProgress, RunProgress, progress_display
from custkit.reports.run import RunResult, run_reports

# A stand-in report: two sections, the second fails when asked to; it prints a customer's e-mail
# address into its own output, which progress must never show.
BODY = [
    ("md", "# {title}"),
    ("md", "## Load the store"),
    ("code", "import time\ncustomers = 3"),
    ("code", "contact = 'ann.lee@shop.ru'\nlen(contact)"),
    ("md", "## Base health"),
    ("code", "# Count repeat buyers\nrepeat = 1"),
    ("code", "if fail:\n    raise ValueError('lapse threshold is negative')"),
]
LINE_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \S.*$")


@pytest.fixture
def two_reports(notebooks, write_notebook, reserved_cell, fake_params, tmp_path, monkeypatch):
    for name, title in (("alpha", "Alpha report"), ("beta", "Beta report")):
        cells = [(kind, source.format(title=title)) for kind, source in BODY]
        write_notebook(notebooks / f"{name}.ipynb", reserved_cell + "fail = False\n", cells)
    params = fake_params(path=tmp_path / "shop.yaml")
    monkeypatch.setattr(run_module, "_load_params", lambda path: params)
    return params


class Recorder(RunProgress):
    def __init__(self):
        self.events = []

    def run_started(self, reports, period):
        self.events.append(("run", tuple(reports), period))

    def report_started(self, report):
        self.events.append(("start", report))

    def step(self, report, number, total, name):
        self.events.append(("step", report, number, total, name))

    def writing_page(self, report):
        self.events.append(("page", report))

    def report_finished(self, result):
        self.events.append(("end", result.report, result.status))

    def run_finished(self, results, seconds):
        self.events.append(("done", len(results), seconds > 0))


def test_run_reports_tells_progress_each_code_cell_with_its_step_in_order(two_reports, tmp_path):
    recorder = Recorder()
    run_reports(
        ["alpha"], two_reports.path, "2026-10", tmp_path / "out",
        progress=recorder,
    )  # fmt: skip
    steps = [event[2:] for event in recorder.events if event[0] == "step"]
    # the parameters cell, the cell papermill injects, four cells of the body: six in all
    assert steps == [
        (1, 6, "parameters"),
        (2, 6, "parameters"),
        (3, 6, "Load the store"),
        (4, 6, "Load the store"),
        (5, 6, "Count repeat buyers"),
        (6, 6, "Base health"),
    ]
    assert recorder.events[0] == ("run", ("alpha",), "2026-10")
    assert recorder.events[1] == ("start", "alpha")
    assert recorder.events[-3:] == [("page", "alpha"), ("end", "alpha", "ok"), ("done", 1, True)]


def test_cli_run_all_off_a_terminal_prints_timestamped_section_lines_and_the_total(
    two_reports, tmp_path, capsys
):
    args = ["run", "all", "--params", str(two_reports.path), "--period", "2026-10"]
    status = main([*args, "--out", str(tmp_path / "out"), "--set", "beta.fail=true"])

    assert status == 1
    captured = capsys.readouterr()
    *progress, result_line, summary_line = captured.out.splitlines()  # results, as before
    assert result_line.startswith("alpha 2026-10: ") and result_line.endswith(" s)")
    assert summary_line == f"summary 2026-10: {tmp_path / 'out' / '2026-10' / 'summary.html'}"
    assert progress and all(LINE_RE.match(line) for line in progress), progress
    text = "\n".join(line[20:] for line in progress)  # without the timestamps
    assert "\x1b" not in captured.out and "\r" not in captured.out  # no bars, no colours
    assert "run: 2 reports (alpha, beta)" in text
    for report in ("alpha", "beta"):
        assert f"{report}: starting" in text
        assert re.search(rf"^{report}: step 3/6 Load the store \(\d+\.\d s\)$", text, re.M)
        assert re.search(rf"^{report}: step 5/6 Count repeat buyers \(\d+\.\d s\)$", text, re.M)
        # one line per section, not per cell
        assert text.count(f"{report}: step 4/6") == 0
    assert re.search(r"^alpha: writing the page \(\d+\.\d s\)$", text, re.M)
    assert "beta: writing the page" not in text  # it failed in its kernel
    assert re.search(r"^alpha 2026-10: done in \d+\.\d s$", text, re.M)
    assert re.search(r"^beta 2026-10: FAILED after \d+\.\d s$", text, re.M)
    assert re.search(r"^run: 2 reports, 1 failed in \d+\.\d s$", text, re.M)
    # standard error holds the failure alone; nothing shows the store's data
    (error,) = captured.err.splitlines()
    assert error.startswith("beta 2026-10: FAILED: Step 'Base health' failed: ValueError")
    assert "ann.lee" not in captured.err + captured.out


def clock():
    return dt.datetime(2026, 11, 2, 6, 0, 5)


def result(report, status="ok", seconds=12.34):
    return RunResult(report, "2026-10", status, None, None, None, seconds)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0.04, "0.0 s"),
        (12.34, "12.3 s"),
        (59.94, "59.9 s"),
        (105.2, "1 min 45 s"),
        (3600, "60 min 0 s"),
    ],
)
def test_line_progress_shows_elapsed_time_in_seconds_then_minutes(seconds, shown):
    stream = io.StringIO()
    progress = LineProgress(stream, clock=clock)
    progress.run_started(["audit", "ltv"], None)
    progress.report_finished(result("audit", seconds=seconds))
    progress.run_finished([result("audit"), result("ltv", "failed")], seconds)
    assert stream.getvalue().splitlines() == [
        "2026-11-02 06:00:05 run: 2 reports (audit, ltv)",
        f"2026-11-02 06:00:05 audit 2026-10: done in {shown}",
        f"2026-11-02 06:00:05 run: 2 reports, 1 failed in {shown}",
    ]


def test_line_progress_prints_a_section_once_and_again_when_a_later_report_reaches_it():
    stream = io.StringIO()
    progress = LineProgress(stream, clock=clock)
    progress.run_started(["audit"], "2026-10")  # one report: no run lines
    for report in ("audit", "audit"):
        progress.report_started(report)
        for number, step in enumerate(["parameters", "parameters", "Base", "Base", "Cohorts"], 1):
            progress.step(report, number, 5, step)
        progress.report_finished(result(report))
    progress.run_finished([result("audit")], 1.0)
    steps = [line[20:] for line in stream.getvalue().splitlines() if " step " in line]
    expected = ["audit: step 1/5 parameters", "audit: step 3/5 Base", "audit: step 5/5 Cohorts"]
    assert [line.rsplit(" (", 1)[0] for line in steps] == expected * 2


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize(
    ("stream", "kind"), [(Terminal(), LiveProgress), (io.StringIO(), LineProgress)]
)
def test_progress_display_draws_bars_only_on_a_terminal(stream, kind):
    assert type(progress_display(stream)) is kind


def test_live_progress_on_a_terminal_shows_report_step_and_outcome():
    stream = Terminal()
    with progress_display(stream) as progress:
        progress.run_started(["audit", "ltv"], None)
        progress.report_started("audit")
        progress.step("audit", 3, 8, "Base health")
        progress.progress.refresh()
        drawn = stream.getvalue()
        progress.writing_page("audit")
        progress.progress.refresh()
        assert "writing the page" in stream.getvalue()
        progress.report_finished(result("audit"))
        progress.report_started("ltv")
        progress.report_finished(result("ltv", "failed"))
        progress.run_finished([result("audit"), result("ltv", "failed")], 30.0)
    final = stream.getvalue()
    assert "audit" in drawn and "Base health" in drawn and "2/8" in drawn
    assert "done in 12.3 s" in final and "FAILED after 12.3 s" in final
    assert "2 reports, 1 failed" in final


class ClosedPipe(io.StringIO):
    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")


def test_a_reader_gone_away_does_not_stop_the_run_only_its_lines(two_reports, tmp_path):
    """``custkit run all | head -1``: progress stops printing; the reports still run."""
    progress = LineProgress(ClosedPipe())
    (alpha,) = run_reports(
        ["alpha"], two_reports.path, "2026-10", tmp_path / "out", progress=progress
    )
    assert alpha.ok and alpha.html.exists()


def test_steps_of_a_russian_report_are_named_from_the_notebook_as_written(
    notebooks, write_notebook, reserved_cell, fake_params, tmp_path, monkeypatch
):
    """Markdown is translated before the run; the CLI's progress stays in English."""
    from custkit.reports import execute

    cells = [("md", "# Alpha report"), ("md", "## Base health"), ("code", "repeat = 1")]
    write_notebook(notebooks / "alpha.ipynb", reserved_cell, cells)
    params = fake_params(path=tmp_path / "shop.yaml", language="ru")
    monkeypatch.setattr(run_module, "_load_params", lambda path: params)
    monkeypatch.setattr(execute, "_", lambda message: "Перевод: " + message)
    recorder = Recorder()
    (result,) = run_reports(["alpha"], params.path, "2026-10", tmp_path / "out", progress=recorder)
    assert result.ok and "Перевод: ## Base health" in result.html.read_text(encoding="utf-8")
    steps = [event[4] for event in recorder.events if event[0] == "step"]
    assert steps == ["parameters", "parameters", "Base health"]


def test_a_scheduled_run_passes_the_cli_progress_to_every_report_run(tmp_path, monkeypatch):
    from custkit.schedule import runner

    seen = []

    def fake_run_reports(
        reports, params_file, period=None, out_dir="r", overrides=None, progress=None
    ):
        seen.append(progress)
        return [RunResult(r, period, "ok", None, None, None, 1.0) for r in reports]

    monkeypatch.setattr(runner, "run_reports", fake_run_reports)
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(
        "jobs:\n  - {name: acme, params: acme.yaml, reports: [audit], cron: '0 6 2 * *', "
        "timezone: Europe/Moscow, out: out}\n"
    )
    assert (
        main(["schedule", "run", "--file", str(schedule), "--now", "2026-12-02T06:00+03:00"]) == 0
    )
    (progress,) = seen
    assert type(progress) is LineProgress  # pytest's captured output is not a terminal
