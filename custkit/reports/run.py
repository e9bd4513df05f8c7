"""``custkit run``: execute report notebooks into ``<out>/<period>/<report>/``, atomically.

Flow of a run: check the reports, parameters and period → take the output folder's lock (the
one ``custkit schedule run`` takes: a second run exits 75, or waits with ``wait=True``) →
clear what killed runs left (``.staging/``, a report set aside) → per report: execute into a
private staging folder ``<out>/.staging/<report>-<id>/`` (the notebook writes kpis.json,
exports/ and quarantine/ there) → write ``<report>.ipynb`` and ``<report>.html`` there → swap
the staging folder in as ``<out>/<period>/<report>/`` in one step
(:func:`~custkit.reports.files.publish_folder`) → rebuild each month's ``summary.html``
(:mod:`custkit.reports.summary`) and ``index.html``.

A failed or killed run leaves the previous report of that period in place, whole; a failure
writes ``<period>/<report>.failed.html`` naming the failing step and removes its staging. A
period the data cannot report (before the data, after it, or a month not over without
``partial``) stops the run with :class:`~custkit.errors.PeriodError`, like a wrong option.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from custkit.data.periods import ReportPeriod
from custkit.errors import (
    CustkitError,
    OutputFolderError,
    ParamsError,
    PeriodError,
    ReportError,
    did_you_mean,
)
from custkit.i18n import _, use_language
from custkit.reports.actions import ACTIONS_SUFFIX
from custkit.reports.context import (
    RUN_INFO_FILE,
    STATE_PARAMETERS_ENV,
    STATE_REPORTS,
    to_json_value,
)
from custkit.reports.execute import NotebookStepError, check_kernel, execute_notebook, step_name
from custkit.reports.files import (
    STAGING,
    clear_folder,
    is_unwritable,
    output_folder_errors,
    publish_folder,
    recover_published,
    unwritable_folder_error,
    write_text_atomic,
)
from custkit.reports.html import failure_page, notebook_to_html
from custkit.reports.index import build_index
from custkit.reports.inspection import RESERVED
from custkit.reports.lock import folder_lock
from custkit.reports.parameters import resolve_parameters
from custkit.reports.privacy import (
    ContactDigests,
    contacts_in_notebook,
    describe_kinds,
    scrub_notebook,
    scrub_text,
    visible_text,
)
from custkit.reports.progress import RunProgress
from custkit.reports.registry import ReportInfo, get_report, notebooks_dir, report_names
from custkit.reports.summary import build_summary

if TYPE_CHECKING:
    import nbformat

    from custkit.params import Params

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """The outcome of running one report.

    Attributes
    ----------
    report : str
    period : str or None
        The report month, once known.
    status : {"ok", "failed"}
    html : Path or None
        The report page (``<out>/<period>/<report>/<report>.html``), or the failure page
        (``<out>/<period>/<report>.failed.html``) when the run failed.
    kpis : Path or None
        ``<report>.kpis.json`` of a successful run, beside its page.
    error : str or None
        What failed (step, exception name and message), without a traceback.
    seconds : float
        Wall-clock time of the run.
    """

    report: str
    period: str | None
    status: Literal["ok", "failed"]
    html: Path | None
    kpis: Path | None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def run_report(
    report: str,
    params_file: str | os.PathLike[str],
    period: str | None = None,
    out_dir: str | os.PathLike[str] = "reports",
    overrides: Mapping[str, Any] | None = None,
    *,
    partial: bool = False,
    wait: bool = False,
    progress: RunProgress | None = None,
) -> RunResult:
    """Run one report; see :func:`run_reports`."""
    return run_reports(
        [report],
        params_file,
        period,
        out_dir,
        overrides,
        partial=partial,
        wait=wait,
        progress=progress,
    )[0]


def run_reports(
    reports: Sequence[str] | Literal["all"],
    params_file: str | os.PathLike[str],
    period: str | None = None,
    out_dir: str | os.PathLike[str] = "reports",
    overrides: Mapping[str, Any] | None = None,
    *,
    partial: bool = False,
    wait: bool = False,
    progress: RunProgress | None = None,
) -> list[RunResult]:
    """Run several reports (``"all"``: every notebook), each even if another fails.

    Parameters
    ----------
    reports : list of str or "all"
    params_file : path-like
        The params YAML.
    period : str, optional
        ``"YYYY-MM"``; default: the last complete month in the data.
    out_dir : path-like
        Output folder; a report goes to ``<out_dir>/<period>/<report>/``.
    overrides : mapping, optional
        ``--set`` values, ``{"lapse_days": "200"}``. A plain name applies to every report that
        declares it; ``"audit.lapse_days"`` to one report.
    partial : bool
        Report a month that is not over (the data ends inside it, or the calendar month has
        not ended); every page then says "data through <date>". Without it such a month is
        refused.
    wait : bool
        Wait for another run working in *out_dir* instead of raising :class:`FolderBusy`.
    progress : RunProgress, optional
        Told of each report's start, each code cell the kernel starts and each report's end
        (see :mod:`custkit.reports.progress`); default: nothing shown.

    Returns
    -------
    list of RunResult
        In the order run. Failures are results, not exceptions.

    Raises
    ------
    ParamsError
        Before anything runs: an unknown report, a malformed period, an unusable params file, an
        unknown or mistyped parameter (in the params file or in *overrides*), *partial* for a
        notebook that does not declare ``partial``.
    PeriodError
        The data cannot report the period (checked by the first report's kernel): no report
        of that run is published, no failure page is written.
    FolderBusy
        Another run holds *out_dir* (exit status 75) and *wait* is False.
    OutputFolderError
        *out_dir* cannot take the files (read-only, no permission, disk full).
    """
    names = _in_run_order(_report_names(reports))
    if period:
        ReportPeriod.from_string(period)
    params = _load_params(params_file)
    params_path = Path(params.path or params_file).expanduser().resolve()
    infos: dict[str, ReportInfo | Exception] = {}
    for name in names:
        try:
            infos[name] = get_report(name)
        except CustkitError as exc:  # a broken notebook fails its own report only
            infos[name] = exc
    per_report = _split_overrides(infos, overrides or {})
    # a wrong parameter is the user's to fix: stop before any report runs
    values = {
        name: resolve_parameters(info, params, per_report[name])
        for name, info in infos.items()
        if not isinstance(info, Exception)
    }
    check_kernel()  # a missing or foreign kernel stops the run before any report starts
    if partial:
        for name, info in infos.items():
            if isinstance(info, ReportInfo) and not info.partial:
                raise ParamsError(
                    f"The {name} report cannot report a month that is not over: its notebook "
                    f"{info.notebook} declares no 'partial' parameter. Add `partial = False` to "
                    "its parameters cell and pass it to start_report(..., partial=partial), or "
                    "run it without --partial."
                )
            if name in values:
                values[name]["partial"] = True
    out = Path(out_dir).expanduser().resolve()
    progress = progress or RunProgress()
    results = []
    started = time.perf_counter()
    with (
        output_folder_errors(out),
        folder_lock(out, wait=wait, command="custkit run " + " ".join(names)),
        use_language(params.language),  # failure pages and the index too
    ):
        recover_published(out)
        clear_folder(out / STAGING)  # killed runs' leftovers: under the lock, none is running
        progress.run_started(names, period)
        state_env = os.environ.get(STATE_PARAMETERS_ENV)
        os.environ[STATE_PARAMETERS_ENV] = json.dumps(_state_overrides(per_report))
        try:
            for name in names:
                progress.report_started(name)
                result = _run_one(
                    name,
                    infos[name],
                    params,
                    params_path,
                    period,
                    out,
                    values.get(name),
                    progress=progress,
                )
                log.info("%s %s: %s in %.1f s", name, result.period, result.status, result.seconds)
                progress.report_finished(result)
                results.append(result)
        finally:
            if state_env is None:
                os.environ.pop(STATE_PARAMETERS_ENV, None)
            else:
                os.environ[STATE_PARAMETERS_ENV] = state_env
            try:
                (out / STAGING).rmdir()
            except OSError:
                pass
        for month in dict.fromkeys(r.period for r in results if r.period):
            build_summary(out, month, client=params.store_name)
        build_index(out)
    progress.run_finished(results, time.perf_counter() - started)
    return results


def _state_overrides(per_report: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The run's ``--set`` values of the reports whose parameters the customer-state table is
    built with (churn, LTV), as JSON values, for :data:`STATE_PARAMETERS_ENV`."""
    return {
        report: to_json_value(dict(per_report.get(report, {})))
        for report in STATE_REPORTS
        if per_report.get(report)
    }


#: Reports run first, in this order, when a run has them: the LTV report saves the purchase
#: model its holdout check chose, which the customer-state table's build reuses (the table is
#: built by the first report that reads it and read back by the others).
RUN_FIRST = ("ltv", "churn")


def _in_run_order(names: Sequence[str]) -> list[str]:
    """*names* with :data:`RUN_FIRST` first, the others in their order."""
    first = [name for name in RUN_FIRST if name in names]
    return first + [name for name in names if name not in first]


def _run_one(
    name: str,
    info: ReportInfo | Exception,
    params: Params,
    params_path: Path,
    period: str | None,
    out: Path,
    parameters: Mapping[str, Any] | None,
    progress: RunProgress,
) -> RunResult:
    started = time.perf_counter()
    staging = out / STAGING / f"{name}-{uuid.uuid4().hex[:12]}"
    resolved, store_name = period, getattr(params, "store_name", "")
    digests = None  # the store's contact digests, once the notebook recorded them
    try:
        if isinstance(info, Exception):
            raise info
        values = dict(parameters or {})
        values.update(params_file=str(params_path), period=period or "", output_dir=str(staging))
        staging.mkdir(parents=True)
        try:
            nb = execute_notebook(
                info.notebook,
                staging / f"{name}.ipynb",
                values,
                language=params.language,
                on_step=lambda number, total, step: progress.step(name, number, total, step),
            )
        except NotebookStepError as exc:
            _raise_run_error(exc, out)
            raise
        finally:
            digests = ContactDigests.load(staging)
            run_info = _run_info(staging, name)
            resolved = run_info.get("period") or period
            store_name = run_info.get("store") or store_name
        if not resolved:
            raise ReportError(
                f"The {name} notebook did not say which month it reports on: it must call "
                "ck.reports.start_report(...) first."
            )
        progress.writing_page(name)
        _refuse_personal_data(nb, staging, digests)
        title = _(info.title)
        page = notebook_to_html(nb, f"{store_name} — {title} — {resolved}")
        _refuse_personal_data_on_page(page, digests)
        write_text_atomic(staging / f"{name}.html", page)
        target = publish_folder(staging, out / resolved / name)
        # after the swap: a kill before these leaves an older failure page, which the index
        # ignores beside a newer report, and files of the layout before report folders
        for stale in (".failed.html", ".failed.ipynb", ".html", ".ipynb", ".kpis.json"):
            (target.parent / f"{name}{stale}").unlink(missing_ok=True)
        kpis = target / f"{name}.kpis.json"
        return RunResult(
            name,
            resolved,
            "ok",
            target / f"{name}.html",
            kpis if kpis.exists() else None,
            None,
            time.perf_counter() - started,
        )
    except (PeriodError, OutputFolderError):  # the run's, not the report's: stop the run
        raise
    except Exception as exc:  # every failure becomes a failure page and a failed result
        if is_unwritable(exc):
            raise unwritable_folder_error(out, exc) from None
        page = _write_failure(name, resolved, out, staging, exc, digests)
        return RunResult(
            name,
            resolved,
            "failed",
            page,
            None,
            _describe(exc, digests),
            time.perf_counter() - started,
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)


_ERRNO_RE = re.compile(r"\[Errno (\d+)\] ([^:]+): '([^']*)'")


def _raise_run_error(exc: NotebookStepError, out: Path) -> None:
    """Raise the run's own error for a kernel failure that is not the report's: a period the
    data cannot report, or an output folder that cannot take the files."""
    if exc.error_name == PeriodError.__name__:
        raise PeriodError(exc.error_message) from None
    found = _ERRNO_RE.search(exc.error_message)
    if found and exc.error_name in ("OSError", "PermissionError") and found[3].startswith(str(out)):
        error = OSError(int(found[1]), found[2], found[3])
        if is_unwritable(error):
            raise unwritable_folder_error(out, error) from None


def _report_names(reports: Sequence[str] | str) -> list[str]:
    existing = report_names()
    if reports == "all":
        if not existing:
            raise ParamsError(f"There are no report notebooks in {notebooks_dir()}.")
        return existing
    if isinstance(reports, str):
        reports = [reports]
    for name in reports:
        if name not in existing:
            raise ParamsError(
                f"There is no report called '{name}'.{did_you_mean(name, existing)} "
                f"Reports: {', '.join(existing) or '(none)'}, or 'all'."
            )
    return list(dict.fromkeys(reports))


def _split_overrides(
    infos: Mapping[str, ReportInfo | Exception], overrides: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """Which report gets which ``--set`` value."""
    per_report: dict[str, dict[str, Any]] = {name: {} for name in infos}
    loaded = {n: i for n, i in infos.items() if isinstance(i, ReportInfo)}
    for key, value in overrides.items():
        report, dot, parameter = key.partition(".")
        if dot and report in infos:
            per_report[report][parameter] = value
            continue
        targets = [n for n, info in loaded.items() if key in info.parameters]
        if key in RESERVED or len(infos) == 1:
            targets = list(infos)  # resolve_parameters explains the problem in detail
        if not targets:
            known = sorted({p for info in loaded.values() for p in info.parameters})
            raise ParamsError(
                f"No report being run has a parameter '{key}'.{did_you_mean(key, known)} "
                f"Parameters: {', '.join(known) or '(none)'}."
            )
        for name in targets:
            per_report[name][key] = value
    return per_report


def _run_info(staging: Path, name: str) -> dict:
    """Period and store the notebook resolved: from its kpis.json, else from start_report's note."""
    for path in (staging / f"{name}.kpis.json", staging / RUN_INFO_FILE):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(document, dict) and document.get("period"):
            return document
    return {}


_ADVICE = (
    "report pages must not show personal data. Send customer lists to ctx.export(frame, name) "
    "instead."
)


def _refuse_personal_data(
    nb: nbformat.NotebookNode, staging: Path | None = None, digests: ContactDigests | None = None
) -> None:
    """Fail when the executed notebook's outputs, or the KPIs it saved in *staging*, show the
    store's contact values (see :mod:`custkit.reports.privacy`), naming the step and the kind
    of value.

    *digests* are those ``start_report`` recorded in *staging* (read from there when not
    given); without any (or when the customers could not be read), any e-mail-like text is
    refused.
    """
    digests = _guard_digests(digests if digests is not None else ContactDigests.load(staging))
    for index, found in contacts_in_notebook(nb, digests):
        raise ReportError(
            f"Step '{step_name(nb.cells, index)}' shows {_whose(found, digests)}; {_ADVICE}"
        )
    saved = []  # published beside the page, read by the index and the monthly summary
    if staging:
        saved = sorted(staging.glob("*.kpis.json")) + sorted(staging.glob(f"*{ACTIONS_SUFFIX}"))
    for file in saved:
        found = digests.find(file.read_text(encoding="utf-8"))
        if found:
            what = "KPIs" if file.name.endswith(".kpis.json") else "actions"
            raise ReportError(
                f"The saved {what} ({file.name}) show {_whose(found, digests)}; {what} are "
                "published with the report and must not hold personal data."
            )


def _refuse_personal_data_on_page(page: str, digests: ContactDigests | None) -> None:
    """Fail when the report page shows the store's contact values (see
    :func:`_refuse_personal_data`)."""
    digests = _guard_digests(digests)
    found = digests.find(visible_text(page))
    if found:
        raise ReportError(
            f"The report page shows {_whose(found, digests)}; it was not published: {_ADVICE}"
        )


def _guard_digests(digests: ContactDigests | None) -> ContactDigests:
    """*digests*, or none at all (every e-mail-like text refused) when the run recorded none."""
    return digests if digests is not None else ContactDigests.empty(complete=False)


def _whose(found, digests: ContactDigests) -> str:
    """``e-mail addresses of the store's customers``, or only ``e-mail addresses`` when any
    e-mail-like text was refused."""
    kinds = describe_kinds(found)
    return kinds if not digests.complete else f"{kinds} of the store's customers"


def _describe(exc: BaseException, digests: ContactDigests | None = None) -> str:
    """What failed, for the run's result, the terminal, logs and the schedule state: without
    personal data (see :func:`custkit.reports.privacy.scrub_text`)."""
    text = str(exc) if isinstance(exc, CustkitError) else f"{type(exc).__name__}: {exc}"
    return scrub_text(text, digests)


def _write_failure(
    name: str,
    period: str | None,
    out: Path,
    staging: Path,
    exc: BaseException,
    digests: ContactDigests | None = None,
) -> Path:
    target = out / (period or "unknown")
    if digests is None:
        digests = ContactDigests.load(staging)
    # the page is the manager's: the step and the notes in the report language, the error as raised
    # without personal data, whatever its message quotes (a parser quoting a customer's row)
    if isinstance(exc, NotebookStepError):
        step = _(exc.step)
        message = scrub_text(f"{exc.error_name}: {exc.error_message}", digests)
    elif isinstance(exc, ParamsError):
        step, message = _("checking the parameters"), scrub_text(str(exc), digests)
    else:
        step, message = _("preparing the report"), _describe(exc, digests)
    details = ""
    executed = staging / f"{name}.ipynb"
    if executed.exists():
        import nbformat

        target.mkdir(parents=True, exist_ok=True)
        nb = scrub_notebook(nbformat.read(str(executed), as_version=4), digests)
        write_text_atomic(target / f"{name}.failed.ipynb", nbformat.writes(nb))
        executed.unlink()
        details = _(
            "The executed notebook with the full error is {file} in this folder.",
            file=f"{name}.failed.ipynb",
        )
    page = failure_page(name, period or _("unknown period"), step, message, details)
    return write_text_atomic(target / f"{name}.failed.html", page)


def _load_params(params_file: str | os.PathLike[str] | Params) -> Params:
    from custkit.params import load_params

    return load_params(params_file)
