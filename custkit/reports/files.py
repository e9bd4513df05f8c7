"""Atomic file writes, and reports published as one unit.

A reader (a manager opening ``index.html``, a scheduler copying the folder, next month's run
reading this month's KPIs) must never see a half-written file or a report made of two runs:

- a single file is written to a temporary name beside it and renamed with :func:`os.replace`,
  which is atomic on one file system (:func:`write_atomic`);
- a whole report (page, notebook, kpis.json, ``exports/``, ``quarantine/``) is one folder,
  ``<out>/<period>/<report>/``, built in a staging folder and swapped in whole
  (:func:`publish_folder`). Linux swaps two directories in one step with ``renameat2(...,
  RENAME_EXCHANGE)``; the previous report then sits at the staging name and is deleted. A kill
  at any instant leaves either the old folder or the new one in place, never a mix, and nothing
  of an earlier run (an old ``quarantine/orders.csv``) survives beside the new one.

Why our own 15 lines of :mod:`ctypes` rather than a package: Python has no binding for
``renameat2`` (the stdlib's :func:`os.rename` has no flags), and the PyPI ``renameat2`` wrapper
(last release 2022) is the same ``ctypes`` call behind a dependency.

Fallback, where the exchange is not available (not Linux, a kernel before 3.15, glibc before
2.28, or a file system without it): the old folder is renamed aside to
``<period>/.<report>.old-<id>`` and the new one renamed into place: two renames, so between
them the report is briefly absent (still never a mix), and a kill exactly there leaves the old
report aside; :func:`recover_published` (called by the next run, under the folder lock) puts
it back.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from custkit.errors import OutputFolderError
from custkit.kpi_files import STAGING as STAGING

# single-file atomic writes are in the core layer (custkit.storage), where every layer can use them
from custkit.storage import temporary_path as temporary_path
from custkit.storage import write_atomic as write_atomic
from custkit.storage import write_text_atomic as write_text_atomic

#: ``renameat2`` flag: swap the two paths (both must exist).
RENAME_EXCHANGE = 2
_AT_FDCWD = -100
#: Errors that mean the output folder cannot take our files: read-only, not ours, or full.
_UNWRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}
_ASIDE = ".old-"


def publish_folder(staging: Path, target: Path) -> Path:
    """Make the folder *staging* visible as *target* in one step; delete the previous *target*.

    Hidden entries of *staging* (``.run-info.json``, temporary files) are removed first. The
    caller holds the output folder's lock, so no other run publishes *target* meanwhile.

    Returns
    -------
    Path
        *target*.
    """
    for hidden in sorted(staging.rglob(".*"), reverse=True):
        if hidden.is_dir() and not hidden.is_symlink():
            shutil.rmtree(hidden, ignore_errors=True)
        else:
            hidden.unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        os.rename(staging, target)  # atomic; fails rather than merging if target appears
        return target
    if exchange(staging, target):
        shutil.rmtree(staging)  # the previous report, now at the staging name
        return target
    aside = target.with_name(f".{target.name}{_ASIDE}{uuid.uuid4().hex[:12]}")
    os.rename(target, aside)
    os.rename(staging, target)
    shutil.rmtree(aside)
    return target


def exchange(a: Path, b: Path) -> bool:
    """Swap the paths *a* and *b* atomically (Linux ``renameat2`` with ``RENAME_EXCHANGE``).

    Returns False, changing nothing, where the system or the file system cannot do it.
    """
    function = _renameat2()
    if function is None:
        return False
    result = function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


_RENAMEAT2: list = []


def _renameat2() -> Callable[..., int] | None:
    if not _RENAMEAT2:
        function = None
        name = ctypes.util.find_library("c")
        try:
            libc = ctypes.CDLL(name, use_errno=True) if name else None
            function = libc.renameat2 if libc is not None else None
        except (OSError, AttributeError):  # not glibc >= 2.28, or not Linux
            function = None
        if function is not None:
            function.argtypes = [
                ctypes.c_int,
                ctypes.c_char_p,
                ctypes.c_int,
                ctypes.c_char_p,
                ctypes.c_uint,
            ]
            function.restype = ctypes.c_int
        _RENAMEAT2.append(function)
    return _RENAMEAT2[0]


def recover_published(out: Path) -> list[Path]:
    """Finish what a killed run left in *out*: put back a report set aside by the fallback of
    :func:`publish_folder` when its replacement never arrived, delete those that were replaced.

    Call it only while holding the output folder's lock. Returns the folders handled.
    """
    handled = []
    for aside in sorted(out.glob(f"*/.*{_ASIDE}*")):
        if not aside.is_dir():
            continue
        name = aside.name[1:].rsplit(_ASIDE, 1)[0]
        report = aside.with_name(name)
        if report.exists():
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.rename(aside, report)
        handled.append(aside)
    return handled


def clear_folder(folder: Path) -> list[Path]:
    """Delete every entry of *folder* (leftovers of killed runs, whatever their age).

    Call it only while holding the output folder's lock, so no running run's entry is deleted.
    """
    if not folder.is_dir():
        return []
    removed = []
    for entry in sorted(folder.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def is_unwritable(exc: BaseException) -> bool:
    """Whether *exc* says a folder cannot take files (permissions, read-only, full disk)."""
    return isinstance(exc, OSError) and exc.errno in _UNWRITABLE


def unwritable_folder_error(folder: Path, exc: OSError) -> OutputFolderError:
    """The user's error for an output folder that cannot take files: names the folder, the
    file and the fix."""
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = "free some space on that disk (or raise the quota), or choose another folder"
    elif exc.errno == errno.EROFS:
        fix = "the file system is mounted read-only: choose another folder with --out"
    else:
        fix = "give this user write permission on it, or choose another folder with --out"
    return OutputFolderError(
        f"Cannot write to the output folder {folder}: {exc.strerror or exc}{where}. "
        f"How to fix: {fix}. Reports already published there were left as they were."
    )


@contextmanager
def output_folder_errors(folder: Path) -> Iterator[None]:
    """Turn an unwritable-folder :class:`OSError` of the block into :class:`OutputFolderError`."""
    try:
        yield
    except OSError as exc:
        if is_unwritable(exc):
            raise unwritable_folder_error(folder, exc) from None
        raise
