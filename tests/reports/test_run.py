import json
import os
import time
from pathlib import Path

import pytest

from custkit.errors import ParamsError
from custkit.reports import run as run_module
from custkit.reports.run import run_reports

# A stand-in for a report notebook: it writes what start_report/save_kpis/export would write
# (without loading a store) and fails in its "Base health" step when asked to.
BODY = [
    ("md", "# {title}"),
    (
        "code",
        "# Save the figures\n"
        "import json, pathlib\n"
        "out = pathlib.Path(output_dir)\n"
        "(out / 'exports').mkdir(parents=True, exist_ok=True)\n"
        "(out / 'exports' / 'list.csv').write_text('customer_id\\n1\\n')\n"
        "kpis = {{'report': '{name}', 'period': period or '2026-10', 'store': 'Test store',\n"
        "        'kpis': {{'customers': 120, 'repeat_customer_rate': 0.25}}}}\n"
        "(out / '{name}.kpis.json').write_text(json.dumps(kpis))",
    ),
    ("md", "## Base health"),
    ("code", "if fail:\n    raise ValueError('lapse threshold is negative')\nprint('all good')"),
]


@pytest.fixture
def two_reports(notebooks, write_notebook, reserved_cell, fake_params, tmp_path, monkeypatch):
    for name, title in (("good", "Good report"), ("bad", "Bad report")):
        cells = [(kind, source.format(name=name, title=title)) for kind, source in BODY]
        write_notebook(notebooks / f"{name}.ipynb", reserved_cell + "fail = False\n", cells)
    params = fake_params(path=tmp_path / "shop.yaml")
    monkeypatch.setattr(run_module, "_load_params", lambda path: params)
    return params


def test_run_publishes_good_reports_and_keeps_previous_page_when_a_report_fails(
    two_reports, tmp_path
):
    """Two kernel starts: 'bad' fails (its old report stays), 'good' still runs and is published."""
    out = tmp_path / "reports"
    period_dir = out / "2026-10"
    (period_dir / "bad").mkdir(parents=True)
    (period_dir / "bad" / "bad.html").write_text("previous good report")
    stale, fresh = out / ".staging" / "audit-killed", out / ".staging" / "audit-killed-just-now"
    (stale / "exports").mkdir(parents=True)
    (fresh / "exports").mkdir(parents=True)
    (fresh / "exports" / "contacts.csv").write_text("ann@example.org")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))

    bad, good = run_reports(
        ["bad", "good"], two_reports.path, period="2026-10", out_dir=out,
        overrides={"bad.fail": "true"},
    )  # fmt: skip

    assert (bad.status, good.status) == ("failed", "ok")
    assert (period_dir / "bad" / "bad.html").read_text() == "previous good report"
    failure = (period_dir / "bad.failed.html").read_text(encoding="utf-8")
    assert bad.html == period_dir / "bad.failed.html"
    assert "Failing step: <b>Base health</b>" in failure
    assert "ValueError: lapse threshold is negative" in failure
    assert "Traceback" not in failure
    assert "Base health" in bad.error and (period_dir / "bad.failed.ipynb").exists()

    folder = period_dir / "good"
    assert good.html == folder / "good.html" and good.period == "2026-10"
    assert good.kpis == folder / "good.kpis.json"
    assert json.loads(good.kpis.read_text())["kpis"]["customers"] == 120
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == [
        "exports", "exports/list.csv", "good.html", "good.ipynb", "good.kpis.json",
    ]  # fmt: skip
    page = good.html.read_text(encoding="utf-8")
    assert "<title>Test store — Good report — 2026-10</title>" in page
    assert "all good" in page and "raise ValueError" not in page and "output_dir" not in page

    # killed runs' staging goes, whatever its age; the failed run removed its own
    assert not (out / ".staging").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="2026-10/good/good.html"' in index and 'href="2026-10/bad.failed.html"' in index
    assert 'href="2026-10/bad/bad.html"' in index  # the last good report of a failed month


def test_parameter_errors_stop_the_run_before_any_kernel_starts(two_reports, tmp_path):
    out = tmp_path / "reports"
    with pytest.raises(ParamsError) as err:
        run_reports(["good"], two_reports.path, "2026-10", out, {"fial": "true"})
    assert "good parameter 'fial' does not exist" in str(err.value)
    assert "Did you mean 'fail'?" in str(err.value)
    assert not out.exists()  # nothing staged, nothing left behind


def test_unknown_report_or_bad_period_is_refused_before_anything_runs(two_reports, tmp_path):
    with pytest.raises(ParamsError, match="Did you mean 'good'"):
        run_reports(["goo"], two_reports.path, out_dir=tmp_path / "out")
    with pytest.raises(ParamsError, match="YYYY-MM"):
        run_reports("all", two_reports.path, period="2026-13", out_dir=tmp_path / "out")
    with pytest.raises(ParamsError, match="No report being run has a parameter 'lapse'"):
        run_reports("all", two_reports.path, out_dir=tmp_path / "out", overrides={"lapse": "1"})
    assert not (tmp_path / "out").exists()


def test_outputs_showing_email_addresses_are_refused_naming_the_step():
    import nbformat

    from custkit.errors import ReportError

    nb = nbformat.v4.new_notebook()
    leak = nbformat.v4.new_output("stream", name="stdout", text="top buyer: ann@example.org")
    nb.cells = [nbformat.v4.new_code_cell("# Top customers\nprint(top)", outputs=[leak])]
    with pytest.raises(ReportError, match="Step 'Top customers' shows e-mail addresses"):
        run_module._refuse_personal_data(nb)


# --- publishing as one unit, the lock, periods and unwritable folders (no kernel: a fake one) ---


class FakeKernel:
    """Stands in for execute_notebook: writes a report into the staging folder like a notebook
    would (kpis.json, exports/, quarantine/), or raises the NotebookStepError it is given."""

    def __init__(self, tree=None, error=None):
        self.tree = tree or {
            "exports/list.csv": "customer_id\n1\n",
            "quarantine/orders.csv": "row,rejection_reason\n7,unparseable_date\n",
        }
        self.error = error
        self.calls = []

    def __call__(self, notebook, output, parameters, *, language="en", **kwargs):
        import nbformat

        self.calls.append(dict(parameters))
        staging, name = Path(output).parent, Path(notebook).stem
        if self.error:
            raise self.error
        for path, text in self.tree.items():
            (staging / path).parent.mkdir(parents=True, exist_ok=True)
            (staging / path).write_text(text)
        kpis = {"report": name, "period": parameters["period"] or "2026-10", "store": "Test store"}
        (staging / f"{name}.kpis.json").write_text(json.dumps({**kpis, "kpis": {"n": 1}}))
        nb = nbformat.v4.new_notebook()
        nb.cells = [
            nbformat.v4.new_code_cell(
                "print('new')", outputs=[nbformat.v4.new_output("stream", text="new report\n")]
            )
        ]
        nbformat.write(nb, str(output))
        return nb


@pytest.fixture
def fake_kernel(two_reports, monkeypatch):
    kernel = FakeKernel()
    monkeypatch.setattr(run_module, "execute_notebook", kernel)
    return kernel


def tree(folder):
    """Path → content of every file under *folder*; a page or notebook of a new run (their
    cell ids differ from run to run) as ``"new"``."""
    if not folder.exists():
        return None
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        content = path.read_text()
        if path.suffix in (".html", ".ipynb") and "new report" in content:
            content = "new"
        files[path.relative_to(folder).as_posix()] = content
    return files


def old_report(out):
    """A published 'good' report of 2026-10 with a quarantine file the new run will not write,
    files of the layout before report folders, and a failure page of a later failed run."""
    folder = out / "2026-10" / "good"
    for path, text in {
        "good.html": "old page",
        "good.kpis.json": json.dumps({"report": "good", "store": "Test store", "kpis": {"n": 0}}),
        "exports/list.csv": "old list",
        "quarantine/orders.csv": "old",
        "quarantine/customers.csv": "old rejected customers",
    }.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    for legacy in ("good.ipynb", "exports/list.csv"):
        (out / "2026-10" / legacy).parent.mkdir(parents=True, exist_ok=True)
        (out / "2026-10" / legacy).write_text("before report folders")
    failed = out / "2026-10" / "good.failed.html"
    failed.write_text("failed")
    hour_ago = time.time() - 3600
    for path in folder.rglob("*"):
        os.utime(path, (hour_ago, hour_ago))
    return tree(folder)


class Crash(BaseException):
    """A simulated kill: no handler of the code under test catches it."""


def crash_at(monkeypatch, step):
    """Make the *step*-th file-system change of the run (rename, exchange, delete, mkdir) and
    every later one raise Crash: like a killed process, the run gets no chance to clean up."""
    from custkit.reports import files

    count = [0]

    def crash_from(function):
        def changed(*args, **kwargs):
            count[0] += 1
            if count[0] >= step:
                raise Crash(step)
            return function(*args, **kwargs)

        return changed

    for name in ("rename", "replace", "unlink", "rmdir", "mkdir"):
        monkeypatch.setattr(os, name, crash_from(getattr(os, name)))
    monkeypatch.setattr(files, "exchange", crash_from(files.exchange))


def test_a_crash_at_any_step_of_a_run_leaves_the_old_or_the_new_report_never_a_mix(
    fake_kernel, two_reports, tmp_path, monkeypatch
):
    from custkit.reports.index import report_runs

    reference = tmp_path / "reference"
    (result,) = run_reports(["good"], two_reports.path, "2026-10", reference)
    new = tree(result.html.parent)
    assert "quarantine/customers.csv" not in new
    seen = set()
    for step in range(1, 500):
        out = tmp_path / f"crash-{step}"
        old = old_report(out)
        with monkeypatch.context() as patch:
            crash_at(patch, step)
            try:
                run_reports(["good"], two_reports.path, "2026-10", out)
                finished = True
            except Crash:
                finished = False
        now = tree(out / "2026-10" / "good")
        assert now in (old, new), f"a crash at step {step} left a mix: {sorted(now)}"
        seen.add("new" if now == new else "old")
        if now == new:  # a failure page older than the report it precedes is not shown
            (run,) = [r for r in report_runs(out) if r.report == "good"]
            assert run.status == "ok" and run.html == "2026-10/good/good.html"

        (result,) = run_reports(["good"], two_reports.path, "2026-10", out)  # the next run
        assert tree(out / "2026-10" / "good") == new
        assert sorted(p.name for p in (out / "2026-10").iterdir()) == [
            "exports",
            "good",
            "summary.html",  # rebuilt by every run that publishes
        ]
        assert not (out / ".staging").exists()
        if finished:
            break
    assert seen == {"old", "new"} and step > 10


def test_a_failed_run_removes_its_staging_and_a_success_removes_the_earlier_failure_page(
    fake_kernel, two_reports, tmp_path
):
    from custkit.reports.execute import NotebookStepError

    out = tmp_path / "out"
    fake_kernel.error = NotebookStepError("Base health", "ValueError", "negative")
    (failed,) = run_reports(["good"], two_reports.path, "2026-10", out)
    assert failed.status == "failed" and not (out / ".staging").exists()
    assert sorted(p.name for p in (out / "2026-10").iterdir()) == [
        "good.failed.html",
        "summary.html",  # saying the report failed
    ]
    fake_kernel.error = None
    (ok,) = run_reports(["good"], two_reports.path, "2026-10", out)
    assert ok.ok
    assert sorted(p.name for p in (out / "2026-10").iterdir()) == ["good", "summary.html"]


HOLD = """
import sys, time
from custkit.reports.lock import folder_lock
with folder_lock(sys.argv[1], command="custkit schedule run"):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_custkit_run_takes_the_schedules_folder_lock_and_exits_75_when_it_is_held(
    fake_kernel, two_reports, tmp_path, capsys
):
    import subprocess
    import sys

    from custkit.cli import main

    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        args = ["run", "good", "--params", str(two_reports.path), "--out", str(out)]
        assert main([*args, "--period", "2026-10"]) == 75
        err = capsys.readouterr().err
        assert f"another custkit run (pid {holder.pid} since " in err
        assert ": custkit schedule run) is working in " in err and "--wait" in err
        assert "Traceback" not in err and fake_kernel.calls == []
    finally:
        holder.kill()
        holder.wait()
    assert main([*args, "--period", "2026-10"]) == 0  # the OS freed the killed holder's lock


def test_wait_waits_for_the_run_holding_the_folder(fake_kernel, two_reports, tmp_path):
    import threading

    from custkit.reports.lock import folder_lock

    out, locked, release = tmp_path / "out", threading.Event(), threading.Event()

    def hold():
        with folder_lock(out):
            locked.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    locked.wait(10)
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    (result,) = run_reports(["good"], two_reports.path, "2026-10", out, wait=True)
    thread.join()
    assert time.monotonic() - started >= 0.4 and result.ok


def test_a_run_inside_the_schedules_lock_of_its_folder_does_not_lock_itself_out(
    fake_kernel, two_reports, tmp_path
):
    from custkit.reports.lock import folder_lock

    out = tmp_path / "out"
    with folder_lock(out):
        (result,) = run_reports(["good"], two_reports.path, "2026-10", out)
        (again,) = run_reports(["good"], two_reports.path, "2026-10", out)
    assert result.ok and again.ok


PERIOD_MESSAGE = "period 2028-01 is after the data: the orders run from 2024-01-03 to 2026-11-15"


def test_a_period_the_data_cannot_report_stops_the_run_with_exit_2_and_no_failure_page(
    fake_kernel, two_reports, tmp_path, capsys
):
    from custkit.cli import main
    from custkit.errors import PeriodError
    from custkit.reports.execute import NotebookStepError

    out = tmp_path / "out"
    fake_kernel.error = NotebookStepError("Load the store", "PeriodError", PERIOD_MESSAGE)
    with pytest.raises(PeriodError, match=PERIOD_MESSAGE):
        run_reports(["good", "bad"], two_reports.path, "2028-01", out)
    assert len(fake_kernel.calls) == 1  # the other report would be refused the same way
    assert sorted(p.name for p in out.iterdir()) == [".schedule.lock"]
    args = ["run", "all", "--params", str(two_reports.path), "--out", str(out)]
    assert main([*args, "--period", "2028-01"]) == 2
    err = capsys.readouterr().err
    assert err == f"custkit: error: {PERIOD_MESSAGE}\n"


def test_partial_is_passed_to_notebooks_that_declare_it_and_refused_for_others(
    fake_kernel, two_reports, notebooks, write_notebook, reserved_cell, tmp_path
):
    out = tmp_path / "out"
    with pytest.raises(ParamsError, match="The good report cannot report a month that is not over"):
        run_reports(["good"], two_reports.path, "2026-11", out, partial=True)
    assert fake_kernel.calls == [] and not out.exists()
    write_notebook(
        notebooks / "good.ipynb", reserved_cell + "partial = False\n", [("md", "# Good")]
    )
    run_reports(["good"], two_reports.path, "2026-11", out, partial=True)
    run_reports(["good"], two_reports.path, "2026-10", out)
    assert [call.get("partial") for call in fake_kernel.calls] == [True, None]
    with pytest.raises(ParamsError, match="Use the --partial option"):
        run_reports(["good"], two_reports.path, "2026-10", out, {"partial": "true"})


@pytest.mark.parametrize(
    ("code", "where"),
    [(28, "publish"), (30, "publish"), (13, "publish"), (28, "kernel"), (13, "lock")],
)
def test_an_output_folder_that_cannot_take_files_is_a_clear_error_with_exit_2(
    fake_kernel, two_reports, tmp_path, monkeypatch, capsys, code, where
):
    import errno

    from custkit.cli import main
    from custkit.reports.execute import NotebookStepError

    out = tmp_path / "out"
    old = old_report(out)
    path = str(out / "2026-10" / "good")
    if where == "publish":

        def refuse(staging, target):
            raise OSError(code, os.strerror(code), path)

        monkeypatch.setattr(run_module, "publish_folder", refuse)
    elif where == "kernel":
        message = f"[Errno {code}] {os.strerror(code)}: '{out}/.staging/good-1/good.kpis.json'"
        fake_kernel.error = NotebookStepError("Save the figures", "OSError", message)
    else:
        real_open = os.open

        def refuse_lock(file, *args, **kwargs):
            if str(file).endswith(".schedule.lock"):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(os, "open", refuse_lock)
    args = ["run", "good", "--params", str(two_reports.path), "--out", str(out), "--period"]
    assert main([*args, "2026-10"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"custkit: error: Cannot write to the output folder {out}: ")
    assert os.strerror(code) in err and "How to fix: " in err and "Traceback" not in err
    assert tree(out / "2026-10" / "good") == old


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_is_a_clear_error_with_exit_2(two_reports, tmp_path, capsys):
    from custkit.cli import main

    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        args = ["run", "good", "--params", str(two_reports.path), "--out", str(out)]
        assert main(args) == 2
    finally:
        out.chmod(0o755)
    assert f"Cannot write to the output folder {out}: Permission denied" in capsys.readouterr().err


# --- periods the data cannot report, end to end (real kernels, a small demo store) ----------------


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    from custkit.data.demo import write_demo_store

    folder = tmp_path_factory.mktemp("periods")
    return write_demo_store(folder / "data", 600, seed=11) / "params.yaml"  # ends 2026-11-15


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("2028-01", "period 2028-01 is after the data: the orders run from "),
        ("2019-01", "period 2019-01 is before the data: the orders run from "),
        ("2026-11", "period 2026-11 is not over: the orders end on 2026-11-15, before the month "
         "does. Choose a month from "),
    ],
)  # fmt: skip
def test_a_month_without_data_or_not_over_exits_2_without_a_report_or_traceback(
    small_store, tmp_path, capsys, period, message
):
    from custkit.cli import main

    out = tmp_path / "out"
    assert main(["run", "audit", "--params", str(small_store), "--out", str(out),
                 "--period", period]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert err.startswith(f"custkit: error: {message}") and err.count("\n") == 1
    assert "Traceback" not in err and "Cannot cast" not in err
    assert sorted(p.name for p in out.iterdir()) == [".schedule.lock"]  # nothing published


def test_partial_reports_the_month_so_far_and_every_page_says_data_through(
    small_store, tmp_path, capsys
):
    from custkit.cli import main

    out = tmp_path / "out"
    args = ["run", "audit", "--params", str(small_store), "--out", str(out), "--period", "2026-11"]
    assert main([*args, "--partial"]) == 0, capsys.readouterr().err
    folder = out / "2026-11" / "audit"
    page = (folder / "audit.html").read_text(encoding="utf-8")
    assert "month not over: data through 15 November 2026" in page
    kpis = json.loads((folder / "audit.kpis.json").read_text(encoding="utf-8"))
    assert kpis["period"] == "2026-11" and kpis["as_of"] == "2026-11-15"


def test_every_run_rebuilds_the_months_summary_which_the_scheduled_mail_attaches(
    fake_kernel, two_reports, tmp_path
):
    """A run of one report refreshes ``<period>/summary.html`` from what is in the folder, and
    the mail of a scheduled run attaches that very page."""
    from custkit.reports.execute import NotebookStepError
    from custkit.schedule.mail import period_page

    out = tmp_path / "out"
    summary = out / "2026-10" / "summary.html"
    fake_kernel.tree = {
        "exports/list.csv": "customer_id\n1\n",
        "good.actions.json": json.dumps(
            {"actions": [{"title": "Call them", "line": "Two.", "value": 5.0, "export": "list"}]}
        ),
    }
    run_reports(["good"], two_reports.path, "2026-10", out)
    page = summary.read_text(encoding="utf-8")
    assert 'href="good/good.html">Good report</a>' in page
    assert "Bad report: <span" in page and "did not run this month" in page
    assert "<b>Call them</b>" in page and 'href="good/exports/list.csv"' in page
    assert period_page(out, "2026-10") == summary

    fake_kernel.error = NotebookStepError("Base health", "ValueError", "negative")
    run_reports(["bad"], two_reports.path, "2026-10", out)  # only 'bad' runs, and fails
    page = summary.read_text(encoding="utf-8")
    assert "failed this month" in page and 'href="bad.failed.html"' in page
    assert 'href="good/good.html">Good report</a>' in page and "<b>Call them</b>" in page
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.index('href="2026-10/summary.html"') < index.index('href="2026-10/good/good.html"')


def test_a_runs_set_values_for_churn_and_ltv_reach_every_kernel_so_the_shared_table_uses_them(
    notebooks, write_notebook, reserved_cell, fake_params, tmp_path, monkeypatch
):
    # the customer-state table is built by the first report that reads it, whichever that is: it
    # must see `--set churn_quantile=0.8` even when the audit's kernel builds it
    from custkit.reports.context import STATE_PARAMETERS_ENV, report_parameter_values

    write_notebook(notebooks / "churn.ipynb", reserved_cell + "churn_quantile = 0.9\n", [])
    write_notebook(notebooks / "audit.ipynb", reserved_cell + "lapse_days = 365\n", [])
    params = fake_params(path=tmp_path / "shop.yaml")
    monkeypatch.setattr(run_module, "_load_params", lambda path: params)
    monkeypatch.delenv(STATE_PARAMETERS_ENV, raising=False)
    seen, kernel = [], FakeKernel()

    def watching(notebook, output, parameters, **kwargs):
        seen.append((Path(notebook).stem, os.environ.get(STATE_PARAMETERS_ENV)))
        return kernel(notebook, output, parameters, **kwargs)

    monkeypatch.setattr(run_module, "execute_notebook", watching)
    overrides = {"churn_quantile": 0.8, "lapse_days": 200}
    run_module.run_reports(
        ["audit", "churn"], params.path, out_dir=tmp_path / "out", overrides=overrides
    )
    assert [name for name, _ in seen] == ["churn", "audit"]  # churn before the rest
    assert [json.loads(env) for _, env in seen] == [{"churn": {"churn_quantile": 0.8}}] * 2
    assert STATE_PARAMETERS_ENV not in os.environ  # restored after the run

    assert report_parameter_values("churn", params)["churn_quantile"] == 0.9  # outside a run
    monkeypatch.setenv(STATE_PARAMETERS_ENV, seen[0][1])
    assert report_parameter_values("churn", params)["churn_quantile"] == 0.8  # in its kernels
    assert "churn_quantile" not in report_parameter_values("audit", params)
