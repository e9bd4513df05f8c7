"""Atomic file writes and moves for report outputs.

A reader (a manager opening ``index.html``, a scheduler copying the folder) must never see a
half-written file: everything is written to a temporary name in the target folder first and then
renamed with :func:`os.replace`, which is atomic on one file system.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path


def temporary_path(path: Path) -> Path:
    """A unique hidden name beside *path* that keeps its suffix (pandas picks writers by it)."""
    return path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")


def write_atomic(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary path beside *path*, then rename it to *path*."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 *text* to *path* atomically."""
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def publish(staging: Path, target: Path, last: str | None = None) -> list[Path]:
    """Move every file under *staging* into the same place under *target*, one ``os.replace`` each.

    Hidden files (names starting with ``.``) stay behind. The file named *last* is moved after all
    the others, so a report page never appears before the files it describes.
    """
    files = [
        p
        for p in sorted(staging.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(staging).parts)
    ]
    files.sort(key=lambda p: p.name == last)
    moved = []
    for source in files:
        destination = target / source.relative_to(staging)
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, destination)
        moved.append(destination)
    return moved


def remove_stale(folder: Path, max_age_seconds: float = 24 * 3600) -> list[Path]:
    """Delete the entries of *folder* not modified for *max_age_seconds* (left by killed runs)."""
    if not folder.is_dir():
        return []
    cutoff = time.time() - max_age_seconds
    removed = []
    for entry in folder.iterdir():
        try:
            if entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
                removed.append(entry)
        except FileNotFoundError:  # another run removed it first
            continue
    return removed
