"""The Parquet cache of CSV sources: private to the user, bounded in size, and easy to clear.

A cached CSV holds the store's data as read, contact columns included, so the cache folder is
created (and, when it exists, corrected) with mode 0700 and every entry is written with mode 0600
from the start (``os.open`` with the mode, never a chmod after the data is on disk). The folder
holds at most :func:`max_bytes` (2 GiB unless ``$CUSTKIT_CACHE_MAX_BYTES`` says otherwise; 0 turns
the cache off); the entries used least recently are evicted first. A cache hit touches its entry's
modification time, which serves as its last use (access times are often not kept: ``noatime``).
``custkit cache clear`` empties the folder.

The cache is a handful of files in one folder, so this is a few lines of our own rather than a
dependency (``diskcache`` keeps SQLite metadata and pickles; we need neither).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from custkit.errors import ParamsError

#: Default size cap of the cache folder.
DEFAULT_MAX_BYTES = 2 * 1024**3
_SUFFIX = ".parquet"
_METADATA_KEY = b"custkit"


def default_cache_dir() -> Path:
    """Folder of the Parquet cache of CSV sources (``$CUSTKIT_CACHE`` or ``~/.cache/custkit``)."""
    env = os.environ.get("CUSTKIT_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "custkit"


def max_bytes() -> int:
    """Size cap of the cache folder in bytes (``$CUSTKIT_CACHE_MAX_BYTES``, default 2 GiB).

    Raises
    ------
    ParamsError
        When the variable is set to something other than a whole number of bytes.
    """
    value = os.environ.get("CUSTKIT_CACHE_MAX_BYTES", "").strip().replace("_", "")
    if not value:
        return DEFAULT_MAX_BYTES
    if not value.isdigit():
        raise ParamsError(
            "the environment variable CUSTKIT_CACHE_MAX_BYTES must be a whole number of bytes "
            f"(0 turns the cache off). Got {value!r} instead."
        )
    return int(value)


def private_folder(folder: Path) -> Path:
    """Create *folder* (and missing parents) and make it readable by its owner only (0700)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(folder.stat().st_mode) != 0o700:
        folder.chmod(0o700)
    return folder


def read(entry: Path) -> tuple[pa.Table, dict[str, Any]] | None:
    """The table and metadata of a cache entry, or ``None`` when it is absent or damaged."""
    try:
        table = pq.read_table(entry)
    except (OSError, pa.ArrowException):
        entry.unlink(missing_ok=True)  # absent, or damaged: rebuilt by the caller
        return None
    with contextlib.suppress(OSError):
        os.utime(entry)  # its last use, for eviction
    raw = (table.schema.metadata or {}).get(_METADATA_KEY)
    metadata = json.loads(raw) if raw else {}
    return table.replace_schema_metadata(None), metadata


def write(entry: Path, table: pa.Table, metadata: Mapping[str, Any]) -> None:
    """Store *table* with *metadata* as *entry* (mode 0600), then keep the folder under its cap.

    Nothing is written when the cap is 0 or the table alone exceeds it.
    """
    cap = max_bytes()
    if cap == 0:
        return
    folder = private_folder(entry.parent)
    table = table.replace_schema_metadata({_METADATA_KEY: json.dumps(dict(metadata))})
    tmp = entry.with_name(f"{entry.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            pq.write_table(table, fh)
        os.replace(tmp, entry)
    finally:
        tmp.unlink(missing_ok=True)
    _evict(folder, cap)


def clear(folder: Path | None = None) -> tuple[int, int]:
    """Delete every cache entry in *folder* (default :func:`default_cache_dir`).

    Returns
    -------
    (int, int)
        Number of files deleted and bytes freed.
    """
    folder = folder or default_cache_dir()
    files = freed = 0
    for entry in _entries(folder, partial=True):
        size = entry.stat().st_size
        entry.unlink(missing_ok=True)
        files, freed = files + 1, freed + size
    return files, freed


def _entries(folder: Path, partial: bool = False) -> list[Path]:
    """Cache entries in *folder*; with *partial*, also files a killed run left half written."""
    if not folder.is_dir():
        return []
    return [
        p
        for p in folder.iterdir()
        if p.is_file() and (p.name.endswith(_SUFFIX) or (partial and _SUFFIX + ".tmp" in p.name))
    ]


def _evict(folder: Path, cap: int) -> None:
    """Delete the least recently used entries until the folder holds at most *cap* bytes."""
    entries = []
    for entry in _entries(folder):
        with contextlib.suppress(FileNotFoundError):  # another run may have just removed it
            info = entry.stat()
            entries.append((info.st_mtime_ns, info.st_size, entry))
    total = sum(size for _, size, _ in entries)
    for _, size, entry in sorted(entries, key=lambda item: item[0]):
        if total <= cap:
            break
        entry.unlink(missing_ok=True)
        total -= size
