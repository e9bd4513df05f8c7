"""Publishing a report as one unit: a crash at any step leaves the old or the new report whole.

The crash tests make the n-th file-system change of a publish raise, for every n until the
publish completes, so every step (each rename, each file deleted) is a crash point; the kill test
sends SIGKILL to a process publishing in a loop.
"""

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from custkit.errors import OutputFolderError
from custkit.reports import files
from custkit.reports.files import (
    clear_folder,
    output_folder_errors,
    publish_folder,
    recover_published,
    write_text_atomic,
)

OLD = {
    "audit.html": "old page",
    "audit.ipynb": "old notebook",
    "audit.kpis.json": '{"kpis": {"customers": 1}}',
    "exports/reactivation_list.csv": "old list",
    "quarantine/orders.csv": "old rejected orders",
    "quarantine/customers.csv": "old rejected customers",  # the new run has none: must go
}
NEW = {
    "audit.html": "new page",
    "audit.ipynb": "new notebook",
    "audit.kpis.json": '{"kpis": {"customers": 2}}',
    "exports/reactivation_list.csv": "new list",
    "exports/winback.csv": "new list 2",
    "quarantine/orders.csv": "new rejected orders",
}


def write_tree(folder: Path, tree: dict[str, str]) -> Path:
    for name, text in tree.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def read_tree(folder: Path) -> dict[str, str] | None:
    if not folder.exists():
        return None
    return {
        p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*") if p.is_file()
    }


class Crash(BaseException):
    """A simulated kill: not an Exception, so no handler of the code under test catches it."""


def crashing_at(monkeypatch, step: int) -> list[int]:
    """Make the *step*-th file-system change (rename, exchange, delete, mkdir) and every later
    one raise Crash: like a killed process, the code under test gets no chance to clean up."""
    count = [0]

    def wrap(function):
        def changed(*args, **kwargs):
            count[0] += 1
            if count[0] >= step:
                raise Crash(f"killed at step {step}: {function.__name__}{args[:2]}")
            return function(*args, **kwargs)

        return changed

    for name in ("rename", "replace", "unlink", "rmdir", "mkdir"):
        monkeypatch.setattr(os, name, wrap(getattr(os, name)))
    monkeypatch.setattr(files, "exchange", wrap(files.exchange))
    return count


def staged(root: Path, tree: dict[str, str]) -> Path:
    staging = write_tree(root / ".staging" / "audit-1234", tree)
    (staging / ".run-info.json").write_text("{}")  # hidden: never published
    return staging


@pytest.mark.parametrize("exchange_works", [True, False], ids=["exchange", "fallback"])
def test_a_crash_at_any_step_of_publishing_leaves_the_old_or_the_new_report_whole(
    tmp_path, monkeypatch, exchange_works
):
    if not exchange_works:
        monkeypatch.setattr(files, "exchange", lambda a, b: False)
    outcomes = set()
    for step in range(1, 200):
        out = tmp_path / f"crash-{step}"
        target = write_tree(out / "2026-10" / "audit", OLD)
        staging = staged(out, NEW)
        with monkeypatch.context() as patch:
            crashing_at(patch, step)
            try:
                publish_folder(staging, target)
                finished = True
            except Crash:
                finished = False
        seen = read_tree(target)
        if seen is None:  # only the fallback, between its two renames; the next run puts it back
            assert not exchange_works
            outcomes.add("absent")
        else:
            assert seen in (OLD, NEW), f"a mix after a crash at step {step}: {sorted(seen)}"
            outcomes.add("new" if seen == NEW else "old")
        # the next run, under the lock: leftovers go, the report stays whole
        recover_published(out)
        clear_folder(out / ".staging")
        assert read_tree(target) in (OLD, NEW)
        assert read_tree(target) == NEW or not finished
        assert [p.name for p in (out / "2026-10").iterdir()] == ["audit"]
        assert list((out / ".staging").iterdir()) == []
        if finished:
            break
    assert step > 5 and "old" in outcomes and "new" in outcomes
    assert ("absent" in outcomes) is not exchange_works


def test_the_first_publish_of_a_report_renames_its_staging_into_place(tmp_path):
    staging = staged(tmp_path, NEW)
    target = publish_folder(staging, tmp_path / "2026-10" / "audit")
    assert read_tree(target) == NEW and not staging.exists()


def test_the_exchange_swaps_two_folders_in_one_step(tmp_path):
    a, b = write_tree(tmp_path / "a", {"x": "a"}), write_tree(tmp_path / "b", {"x": "b"})
    if not files.exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not available here: the fallback is used")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


KILLED_PUBLISHER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from custkit.reports.files import publish_folder

    out, n_files = Path(sys.argv[1]), int(sys.argv[2])
    target = out / "2026-10" / "audit"
    for i in range(10**6):
        version = f"v{i}"
        staging = out / ".staging" / f"audit-{i}"
        for k in range(n_files):
            (staging / "exports").mkdir(parents=True, exist_ok=True)
            (staging / "exports" / f"list{k}.csv").write_text(version)
        (staging / "audit.kpis.json").write_text(version)
        publish_folder(staging, target)
        print(version, flush=True)
    """
)


def test_a_report_killed_with_sigkill_while_publishing_is_never_a_mix(tmp_path):
    """SIGKILL a process publishing a 300-file report in a loop, at random instants."""
    import random

    rng = random.Random(13)
    env = {**os.environ, "PYTHONPATH": str(Path(files.__file__).parents[2])}
    published = 0
    for attempt in range(8):
        out = tmp_path / f"kill-{attempt}"
        process = subprocess.Popen(
            [sys.executable, "-c", KILLED_PUBLISHER, str(out), "300"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert process.stdout.readline().startswith("v0")  # one report published
        time.sleep(rng.uniform(0.0, 0.3))
        process.send_signal(signal.SIGKILL)
        process.wait()
        target = out / "2026-10" / "audit"
        seen = read_tree(target)
        versions = set(seen.values())
        assert len(versions) == 1, f"a mix of {sorted(versions)[:3]}... after a kill"
        assert len(seen) == 301
        published += int(next(iter(versions))[1:])
        recover_published(out)
        clear_folder(out / ".staging")
        assert read_tree(target) == seen
    assert published > 0  # the kills did land while publishing, not only after the first


def test_clear_folder_removes_leftovers_of_killed_runs_whatever_their_age(tmp_path):
    fresh, old = tmp_path / "audit-fresh", tmp_path / "audit-old"
    write_tree(fresh, {"exports/contacts.csv": "ann@example.org"})
    write_tree(old, {"x": "y"})
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    assert sorted(clear_folder(tmp_path)) == [fresh, old]
    assert list(tmp_path.iterdir()) == []
    assert clear_folder(tmp_path / "absent") == []


def test_a_report_set_aside_by_a_killed_fallback_is_put_back_or_removed(tmp_path):
    period = tmp_path / "2026-10"
    write_tree(period / ".audit.old-abc", OLD)  # killed between the two renames: put back
    write_tree(period / "ltv", NEW)
    write_tree(period / ".ltv.old-def", OLD)  # killed before deleting it: removed
    recover_published(tmp_path)
    assert read_tree(period / "audit") == OLD and read_tree(period / "ltv") == NEW
    assert sorted(p.name for p in period.iterdir()) == ["audit", "ltv"]


@pytest.mark.parametrize(
    ("code", "fix"),
    [
        (errno.EACCES, "give this user write permission"),
        (errno.EPERM, "give this user write permission"),
        (errno.EROFS, "mounted read-only"),
        (errno.ENOSPC, "free some space"),
        (errno.EDQUOT, "free some space"),
    ],
)
def test_an_unwritable_output_folder_is_a_clear_error_naming_the_folder_and_the_fix(
    tmp_path, monkeypatch, code, fix
):
    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code), str(tmp_path / "2026-10" / "x.html"))

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OutputFolderError) as err, output_folder_errors(tmp_path):
        write_text_atomic(tmp_path / "2026-10" / "x.html", "page")
    message = str(err.value)
    assert f"Cannot write to the output folder {tmp_path}: {os.strerror(code)}" in message
    assert "x.html" in message and fix in message


def test_other_os_errors_are_not_blamed_on_the_output_folder(tmp_path):
    with pytest.raises(FileNotFoundError), output_folder_errors(tmp_path):
        (tmp_path / "absent" / "x").read_text()
