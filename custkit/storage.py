"""Writing files safely: atomic single-file writes, and values as JSON can hold them.

Core layer (issue 16): the report runner, the customer-state store, the scheduler's state and
the notebook API all write files that a reader (a manager opening a page, next month's run
reading this month's KPIs) must never see half-written. A file is written to a temporary name
beside it and renamed with :func:`os.replace`, atomic on one file system (:func:`write_atomic`).
Publishing a whole report folder at once stays with the runner
(:func:`custkit.reports.files.publish_folder`).

Our own few lines rather than a package (``atomicwrites`` is archived): :func:`os.replace` is
the whole mechanism.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


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


def to_json_value(value: Any) -> Any:
    """*value* with NaN/inf → None, numpy/pandas scalars → Python, timestamps → ISO text."""
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, np.ndarray, pd.Series)):
        return [to_json_value(v) for v in list(value)]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, dt.date)):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
