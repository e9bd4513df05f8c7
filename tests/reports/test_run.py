import json
import os
import time

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
    """Two kernel starts: 'bad' fails (its old page stays), 'good' still runs and is published."""
    out = tmp_path / "reports"
    period_dir = out / "2026-10"
    period_dir.mkdir(parents=True)
    (period_dir / "bad.html").write_text("previous good report")
    stale, fresh = out / ".staging" / "audit-killed", out / ".staging" / "audit-running"
    stale.mkdir(parents=True)
    fresh.mkdir()
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))

    bad, good = run_reports(
        ["bad", "good"], two_reports.path, period="2026-10", out_dir=out,
        overrides={"bad.fail": "true"},
    )  # fmt: skip

    assert (bad.status, good.status) == ("failed", "ok")
    assert (period_dir / "bad.html").read_text() == "previous good report"
    failure = (period_dir / "bad.failed.html").read_text(encoding="utf-8")
    assert bad.html == period_dir / "bad.failed.html"
    assert "Failing step: <b>Base health</b>" in failure
    assert "ValueError: lapse threshold is negative" in failure
    assert "Traceback" not in failure
    assert "Base health" in bad.error and (period_dir / "bad.failed.ipynb").exists()

    assert good.html == period_dir / "good.html" and good.period == "2026-10"
    assert good.kpis == period_dir / "good.kpis.json"
    assert json.loads(good.kpis.read_text())["kpis"]["customers"] == 120
    assert (period_dir / "good.ipynb").exists()
    assert (period_dir / "exports" / "list.csv").exists()
    page = good.html.read_text(encoding="utf-8")
    assert "<title>Test store — Good report — 2026-10</title>" in page
    assert "all good" in page and "raise ValueError" not in page and "output_dir" not in page

    assert not stale.exists() and fresh.exists()  # only day-old staging folders are removed
    assert sorted(p.name for p in (out / ".staging").iterdir()) == ["audit-running"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="2026-10/good.html"' in index and 'href="2026-10/bad.failed.html"' in index


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
