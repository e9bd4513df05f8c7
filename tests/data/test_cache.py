"""The CSV cache: private to its owner, bounded in size, and cleared on request."""

import os
import stat

import pytest

from custkit.cli import main
from custkit.data import cache, load_store
from custkit.errors import ParamsError
from custkit.params import parse_params

ORDERS = "order_id,customer_id,order_date,revenue,email\n1,7,2025-01-01,5,a@b.ru\n"


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def _load(folder, cache_dir, name="o.csv", text=ORDERS):
    if not (folder / name).exists():  # rewriting it would change its cache key
        (folder / name).write_text(text)
    params = parse_params({"sources": {"orders": name}}, path=folder / "params.yaml")
    return load_store(params, today="2026-11-23", cache_dir=cache_dir)


@pytest.mark.parametrize("existing_mode", [None, 0o755, 0o777])
def test_cache_files_are_0600_in_a_0700_folder(tmp_path, existing_mode):
    folder = tmp_path / "cache"
    if existing_mode is not None:
        folder.mkdir()
        folder.chmod(existing_mode)
    old = os.umask(0o022)  # a usual umask would give 0644 files
    try:
        _load(tmp_path, folder)
    finally:
        os.umask(old)
    entries = list(folder.glob("*.parquet"))
    assert len(entries) == 1
    assert _mode(folder) == 0o700 and _mode(entries[0]) == 0o600


def test_the_cache_keeps_under_its_cap_evicting_the_least_recently_used(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    entry = {}
    for index in range(3):
        before = set(folder.glob("*.parquet"))
        _load(tmp_path, folder, f"o{index}.csv")
        (entry[index],) = set(folder.glob("*.parquet")) - before
        os.utime(entry[index], ns=(index, index))  # o0 used first, o2 last
    _load(tmp_path, folder, "o0.csv")  # o0 is read again: now the most recently used
    size = max(p.stat().st_size for p in entry.values())
    monkeypatch.setenv("CUSTKIT_CACHE_MAX_BYTES", str(3 * size))
    _load(tmp_path, folder, "o3.csv")  # a fourth entry: the least recently used one goes
    left = set(folder.glob("*.parquet"))
    assert len(left) == 3 and sum(p.stat().st_size for p in left) <= 3 * size
    assert entry[1] not in left and {entry[0], entry[2]} <= left


def test_a_cap_of_zero_turns_the_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv("CUSTKIT_CACHE_MAX_BYTES", "0")
    store = _load(tmp_path, tmp_path / "cache")
    assert len(store.orders) == 1 and not list((tmp_path / "cache").glob("*.parquet"))


@pytest.mark.parametrize("value", ["2GB", "-1", "lots"])
def test_a_cap_that_is_not_a_number_of_bytes_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("CUSTKIT_CACHE_MAX_BYTES", value)
    with pytest.raises(ParamsError, match=r"CUSTKIT_CACHE_MAX_BYTES must be a whole number"):
        cache.max_bytes()


def test_cache_clear_deletes_every_entry_and_says_what_it_freed(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "cache"
    monkeypatch.setenv("CUSTKIT_CACHE", str(folder))
    _load(tmp_path, folder)
    (folder / "x.parquet.tmp123").write_bytes(b"half written by a killed run")
    total = sum(p.stat().st_size for p in folder.iterdir())
    assert main(["cache", "clear"]) == 0
    out = capsys.readouterr().out
    assert "2 files deleted" in out and f"{total / 2**20:,.1f} MiB freed" in out
    assert not list(folder.iterdir())
    assert main(["cache", "clear"]) == 0 and "0 files deleted" in capsys.readouterr().out
