"""The schedule file: parsing, relative paths, and messages that say what to fix."""

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from custkit.errors import ParamsError
from custkit.reports.registry import report_names
from custkit.schedule.jobs import load_schedule, parse_schedule

ROOT = Path(__file__).resolve().parents[2]

JOB = {
    "name": "acme",
    "params": "acme.yaml",
    "reports": ["audit"],
    "cron": "0 6 2 * *",
    "timezone": "Europe/Moscow",
    "out": "../reports/acme",
}


def write(tmp_path, jobs, **top):
    path = tmp_path / "params" / "schedule.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump({"jobs": jobs, **top}), encoding="utf-8")
    return path


def job(**changes):
    entry = {**JOB, **changes}
    return {k: v for k, v in entry.items() if v is not None}


def test_the_example_schedule_runs_every_report_of_the_demo_store_monthly_in_moscow():
    schedule = load_schedule(ROOT / "params" / "schedule.yaml")
    (demo,) = schedule.jobs
    assert demo.name == "demo-monthly"
    assert demo.params == ROOT / "params" / "demo.yaml"
    assert demo.out == ROOT / "reports"
    assert demo.reports == tuple(report_names())
    assert demo.cron == "0 6 2 * *" and demo.timezone == ZoneInfo("Europe/Moscow")
    assert demo.start is None and demo.overrides == {}


def test_relative_paths_are_relative_to_the_schedule_file_not_the_working_folder(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(ROOT)
    path = write(tmp_path, [job(start="2026-01-01", set={"lapse_days": 200})])
    (acme,) = load_schedule(path).jobs
    assert acme.params == tmp_path / "params" / "acme.yaml"
    assert acme.out == tmp_path / "reports" / "acme"
    assert acme.start == dt.date(2026, 1, 1)
    assert acme.overrides == {"lapse_days": 200}
    absolute = write(tmp_path, [job(out=str(tmp_path / "elsewhere"))])
    assert load_schedule(absolute).jobs[0].out == tmp_path / "elsewhere"


def test_reports_may_be_one_name_a_list_or_all():
    assert parse_schedule({"jobs": [job(reports="audit")]}).jobs[0].reports == ("audit",)
    assert parse_schedule({"jobs": [job(reports=None)]}).jobs[0].reports == tuple(report_names())
    assert parse_schedule({"jobs": [job(cron="@monthly")]}).jobs[0].cron == "@monthly"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (job(timezon="UTC"), ["job 'acme' has an unknown key 'timezon'", "mean 'timezone'"]),
        (job(reports=["audti"]), ["job 'acme'", "no report called 'audti'", "mean 'audit'"]),
        (job(timezone="Europe/Moskow"), ["unknown timezone", "Did you mean 'Europe/Moscow'"]),
        (job(cron="0 6 2 * * 0"), ["cron must be five fields", "'0 6 2 * * 0'"]),
        (job(cron="0 6 32 * *"), ["cron must be five fields"]),
        (job(cron="0 0 30 2 *"), ["never fires"]),
        (job(cron=None), ["job 'acme' has no 'cron'"]),
        (job(name="acme monthly"), ["name must be letters, digits"]),
        (job(start="January"), ["start must be a day like 2026-01-01", "'January'"]),
        (job(params=["a.yaml"]), ["params must be a path"]),
        (job(set=["lapse_days=200"]), ["set must be a mapping"]),
        ({**JOB, "name": 7}, ["job #1", "name must be letters"]),
        ("acme", ["job #1 must be a mapping"]),
    ],
)
def test_a_wrong_job_is_refused_naming_the_file_the_job_and_the_key(tmp_path, entry, expected):
    path = write(tmp_path, [entry])
    with pytest.raises(ParamsError) as err:
        load_schedule(path)
    message = str(err.value)
    assert message.startswith(str(path))
    for fragment in expected:
        assert fragment in message


def test_a_wrong_file_is_refused_with_an_example(tmp_path):
    with pytest.raises(ParamsError, match="does not exist"):
        load_schedule(tmp_path / "missing.yaml")
    with pytest.raises(ParamsError, match="Did you mean 'jobs'"):
        parse_schedule({"job": [JOB]})
    with pytest.raises(ParamsError, match=r"no jobs\. List at least one under 'jobs:'"):
        parse_schedule({})
    with pytest.raises(ParamsError, match="'jobs' must be a list"):
        parse_schedule({"jobs": {"acme": JOB}})
    broken = tmp_path / "broken.yaml"
    broken.write_text("jobs: [\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_schedule(broken)


def test_job_names_are_unique_and_two_jobs_may_not_overwrite_each_others_reports():
    with pytest.raises(ParamsError, match="two jobs are called 'acme'"):
        parse_schedule({"jobs": [job(), job(out="../other")]})
    with pytest.raises(ParamsError, match="both write audit into"):
        parse_schedule({"jobs": [job(), job(name="beta", params="beta.yaml", reports="all")]})
    # one folder is fine when the reports differ (e.g. audit monthly, ltv quarterly)
    schedule = parse_schedule({"jobs": [job(), job(name="ltv", reports=["ltv"])]})
    assert [j.name for j in schedule.jobs] == ["acme", "ltv"]


def test_an_unknown_job_name_suggests_the_closest_one():
    schedule = parse_schedule({"jobs": [job()]})
    assert schedule.job("acme").name == "acme"
    with pytest.raises(ParamsError, match=r"no job called 'acne'\. Did you mean 'acme'"):
        schedule.job("acne")
