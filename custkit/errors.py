"""Errors shown to users.

Every problem a user can fix (a wrong parameter, a missing column, an unreadable file) is raised as
a :class:`CustkitError`. The command line catches it once and prints the message without a
traceback (exit status 2); in a notebook it reads the same. Messages say what is wrong, where
(file, table, column, rows) and how to fix it, in the style of scikit-learn's parameter errors.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class CustkitError(Exception):
    """Base class of every error meant for a user rather than a developer."""

    exit_code = 2


class ParamsError(CustkitError, ValueError):
    """A params file, a parameter name or a parameter value is wrong."""


class DataError(CustkitError, ValueError):
    """Input data cannot be used (missing column, unreadable or empty file, bad encoding).

    Parameters
    ----------
    message : str
        What is wrong, in one sentence.
    table, file, column : str, optional
        Where it is wrong; shown in front of the message.
    hint : str, optional
        How to fix it; shown on its own line.
    """

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        file: str | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.table, self.file, self.column, self.hint = table, file, column, hint
        where = ", ".join(
            part
            for part in (
                f"table '{table}'" if table else "",
                f"file '{file}'" if file else "",
                f"column '{column}'" if column else "",
            )
            if part
        )
        text = f"{where}: {message}" if where else message
        if hint:
            text += f"\n  How to fix: {hint}"
        super().__init__(text)


class ReportError(CustkitError, RuntimeError):
    """A report could not be produced; the message names the failing step."""


class PeriodError(ParamsError):
    """The report month cannot be reported from the data: before it, after it, or not over yet.

    Raised in the report's kernel (``start_report``); the runner recognises it by name and
    stops the run with this message, like a wrong option.
    """


class NotFittedError(CustkitError, AttributeError):
    """A model method that needs fitted parameters was called before ``fit`` (the purchase
    models of :mod:`custkit.ltv`, churn's risk and text models)."""


class OutputFolderError(CustkitError):
    """The output folder cannot take the report's files (read-only, no permission, disk full)."""


def did_you_mean(name: str, choices: Iterable[str], n: int = 3) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest matches of *name*, or ``""``.

    Case and surrounding spaces are ignored when matching, so ``"Order Date"`` finds
    ``"order_date"``.
    """
    choices = list(choices)
    norm = {c.strip().lower().replace(" ", "_"): c for c in choices}
    key = name.strip().lower().replace(" ", "_")
    matches = difflib.get_close_matches(key, list(norm), n=n, cutoff=0.6)
    if not matches:
        return ""
    quoted = " or ".join(f"'{norm[m]}'" for m in matches)
    return f" Did you mean {quoted}?"
