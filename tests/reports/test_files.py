import os
import time

from custkit.reports.files import publish, remove_stale


def test_publish_moves_every_file_and_the_page_last_leaving_hidden_files(tmp_path):
    staging, target = tmp_path / "staging", tmp_path / "2026-10"
    for name in ("audit.html", "audit.kpis.json", "exports/list.csv", ".run-info.json"):
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        (staging / name).write_text(name)
    target.mkdir()
    (target / "audit.html").write_text("old")
    moved = publish(staging, target, last="audit.html")
    assert moved[-1] == target / "audit.html"
    assert (target / "audit.html").read_text() == "audit.html"
    assert (target / "exports" / "list.csv").exists()
    assert not (target / ".run-info.json").exists()


def test_remove_stale_deletes_only_folders_older_than_a_day(tmp_path):
    old, fresh = tmp_path / "audit-old", tmp_path / "audit-fresh"
    old.mkdir()
    fresh.mkdir()
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    assert remove_stale(tmp_path) == [old]
    assert fresh.exists() and not old.exists()
