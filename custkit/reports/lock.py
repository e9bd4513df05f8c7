"""One run at a time per output folder: ``custkit run`` and ``custkit schedule run`` alike.

``.schedule.lock`` is held with :func:`fcntl.flock` for as long as a run works in the folder.
The operating system releases a flock when its process dies, however it dies, so a crashed or
killed run never leaves the folder locked; no stale-lock cleanup or pid check is needed. The
descriptor is not inherited by report kernels (Python opens files non-inheritable), so a kernel
orphaned by a killed run does not keep the lock either. The file itself is never deleted
(deleting a lock file lets two runs lock two different files); it holds the current holder's
pid for the "busy" message. flock needs a POSIX system (Linux, macOS) and a local file system.

``custkit run`` takes the same lock as ``custkit schedule run``, so a hand run and a scheduled
run never publish into one folder at once. The schedule runner calls the report runner while it
holds the lock; a flock conflicts with every other open file description, even in the same
process, so the lock is re-entrant per thread: a nested :func:`folder_lock` of a folder this
thread already holds does not lock again.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from custkit.errors import CustkitError

LOCK_FILE = ".schedule.lock"
#: Exit status of a run that found its output folder locked (``EX_TEMPFAIL``: try again later).
BUSY_EXIT_CODE = 75


class FolderBusy(CustkitError):
    """Another ``custkit run`` or ``custkit schedule run`` is working in the same output
    folder."""

    exit_code = BUSY_EXIT_CODE


_HELD = threading.local()


@contextmanager
def folder_lock(
    out: str | os.PathLike[str], wait: bool = False, command: str = "custkit schedule run"
) -> Iterator[Path]:
    """Hold the run lock of an output folder for the ``with`` block.

    Re-entrant per thread: inside a ``with folder_lock(out)`` block the same thread may enter
    ``folder_lock(out)`` again (the schedule runner calls ``run_reports``, which locks too).

    Parameters
    ----------
    out : path-like
        The output folder (created if missing).
    wait : bool
        Wait for another run to finish instead of raising :class:`FolderBusy`.
    command : str
        What holds the lock, for the "busy" message of another run.

    Yields
    ------
    Path
        The lock file.

    Raises
    ------
    FolderBusy
        Another process (or thread) holds the lock and *wait* is False.
    """
    import fcntl

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    key = str(folder.resolve())
    held: dict[str, int] = _HELD.__dict__.setdefault("folders", {})
    if held.get(key):
        held[key] += 1
        try:
            yield path
        finally:
            held[key] -= 1
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = _holder(path)
            raise FolderBusy(
                f"another custkit run{holder} is working in {folder}; this run left that "
                f"folder alone (exit status {BUSY_EXIT_CODE}). Run again when it has finished "
                "(a scheduled run picks up whatever is still due next time), or add --wait to "
                "wait for it."
            ) from None
        started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {started}: {command}\n".encode(), 0)
        held[key] = 1
        try:
            yield path
        finally:
            held.pop(key, None)
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""
    return f" ({text})" if text else ""
