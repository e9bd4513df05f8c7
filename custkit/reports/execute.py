"""Running a report notebook in this process with papermill's Python API.

A failing cell becomes a :class:`NotebookStepError` that names the step (the cell's first comment
line, or the markdown heading above it) with the exception's name and message; the full traceback
stays in the executed notebook for the analyst, never on the manager's page.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from custkit.errors import ReportError
from custkit.i18n import LANGUAGES, _, use_language

if TYPE_CHECKING:
    import nbformat

_ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


class NotebookStepError(ReportError):
    """A report notebook failed in a cell.

    Attributes
    ----------
    step : str
        What the failing cell does, e.g. ``"Base health"``.
    error_name, error_message : str
        The exception raised in the notebook.
    """

    def __init__(self, step: str, error_name: str, error_message: str) -> None:
        self.step, self.error_name, self.error_message = step, error_name, error_message
        super().__init__(f"Step '{step}' failed: {error_name}: {error_message}")


def kernel_name() -> str:
    """``$CUSTKIT_KERNEL`` if set, else ``python3``: ipykernel's built-in kernel, which
    jupyter_client starts with this very interpreter.

    Either way :func:`check_kernel` refuses a kernel that would run another environment's
    Python (a ``python3`` or ``custkit`` kernel registered per user by another checkout).
    """
    return os.environ.get("CUSTKIT_KERNEL") or "python3"


def check_kernel(name: str | None = None, manager=None):
    """The spec of kernel *name* (default :func:`kernel_name`), checked to run this interpreter.

    A kernel whose command is ``python`` (ipykernel's own spec) runs ``sys.executable``:
    jupyter_client substitutes it. Any other command must be a Python of this environment (in
    the folder of ``sys.executable``): a kernel registered with ``--user`` by another checkout
    would otherwise run that checkout's code and packages.

    Parameters
    ----------
    name : str, optional
    manager : jupyter_client.kernelspec.KernelSpecManager, optional
        Where kernels are looked up; default: Jupyter's search path, as papermill uses it.

    Returns
    -------
    jupyter_client.kernelspec.KernelSpec

    Raises
    ------
    ReportError
        The kernel is not installed, or it runs another environment's Python; the message says
        how to register it for this environment.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    name = name or kernel_name()
    register = f"{sys.executable} -m ipykernel install --sys-prefix --name {name}"
    try:
        spec = (manager or KernelSpecManager()).get_kernel_spec(name)
    except NoSuchKernel:
        raise ReportError(
            f"The Jupyter kernel '{name}' that runs the reports is not installed. Register it "
            f"in this environment ({sys.prefix}): {register}; or set CUSTKIT_KERNEL to an "
            "installed kernel, or unset it to use python3."
        ) from None
    command = spec.argv[0] if spec.argv else ""
    if not _runs_this_interpreter(command):
        raise ReportError(
            f"The Jupyter kernel '{name}' ({spec.resource_dir}) runs {command or 'nothing'}, "
            f"not this environment's Python ({sys.executable}): the report would run another "
            f"installation's code. Register it in this environment: {register}; or remove the "
            f"other one: jupyter kernelspec remove {name}."
        )
    return spec


def _runs_this_interpreter(command: str) -> bool:
    major, minor = sys.version_info[:2]
    if command in {"python", f"python{major}", f"python{major}.{minor}"}:
        return True  # jupyter_client starts sys.executable for these
    if not command or not os.path.isabs(command):
        return False
    # the environment's folder, not the resolved file: every venv's python links to one binary
    here = Path(os.path.abspath(sys.executable)).parent
    return Path(os.path.abspath(command)).parent == here


def execute_notebook(
    notebook: str | os.PathLike[str],
    output: str | os.PathLike[str],
    parameters: Mapping[str, Any],
    *,
    cwd: str | os.PathLike[str] | None = None,
    kernel: str | None = None,
    language: str = "en",
    on_step: Callable[[int, int, str], None] | None = None,
) -> nbformat.NotebookNode:
    """Execute *notebook* with *parameters* and write the executed copy to *output*.

    Parameters
    ----------
    notebook, output : path-like
    parameters : mapping
        Injected after the ``parameters`` cell.
    cwd : path-like, optional
        Working folder of the kernel; default: the notebook's folder.
    kernel : str, optional
        Kernel name; default :func:`kernel_name`.
    language : str
        Report language: markdown cells are translated before the run (the kernel translates
        what the code displays, from the params file's ``language``).
    on_step : callable, optional
        Called as ``on_step(number, total, step)`` when the kernel starts each code cell:
        *number* of *total* code cells (the parameters papermill injects included), *step*
        the cell's step named from the notebook as written (see :func:`code_cell_steps`).

    Returns
    -------
    nbformat.NotebookNode
        The executed notebook.

    Raises
    ------
    NotebookStepError
        A cell raised; the executed notebook (with the error) is still written to *output*.
    ReportError
        The kernel is missing or runs another environment's Python (:func:`check_kernel`),
        died (killed, out of memory) or could not start.
    """
    import nbformat
    import papermill
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    notebook, output = Path(notebook), Path(output)
    kernel = kernel or kernel_name()
    check_kernel(kernel)
    output.parent.mkdir(parents=True, exist_ok=True)
    source: Path | nbformat.NotebookNode = notebook
    engine_kwargs: dict[str, Any] = {}
    if on_step is not None:
        source = nbformat.read(str(notebook), as_version=4)
        # named before translation: progress is English, like the rest of the CLI
        engine_kwargs["on_step"] = _StepCounter(code_cell_steps(source), on_step)
    if language != LANGUAGES[0]:
        if not isinstance(source, nbformat.NotebookNode):
            source = nbformat.read(str(notebook), as_version=4)
        with use_language(language):
            translate_markdown(source)
    try:
        # Report kernels allocate gigabytes at once. numpy asks Linux for transparent huge pages
        # on large arrays; where the kernel compacts memory for them on demand (THP defrag
        # "madvise", as on these machines), first touching 400 MB takes 1.5 s instead of 0.3 s.
        # Kernels inherit this environment; a user's own setting wins.
        os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
        return papermill.execute_notebook(
            source if isinstance(source, nbformat.NotebookNode) else str(source),
            str(output),
            parameters=dict(parameters),
            kernel_name=kernel,
            cwd=str(cwd or notebook.parent),
            engine_name=_register_engine(),
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
            # the kernel's own log (TCP warning, shutdown notice) is noise on a user's terminal
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            **engine_kwargs,
        )
    except PapermillExecutionError as exc:
        executed = nbformat.read(str(output), as_version=4) if output.exists() else None
        step = failing_step(executed, exc.cell_index) if executed else f"cell {exc.exec_count}"
        raise NotebookStepError(step, exc.ename, _clean(exc.evalue)) from exc
    except DeadKernelError as exc:
        raise ReportError(
            f"The notebook '{notebook.name}' stopped: its kernel died (killed or out of memory)."
        ) from exc


ENGINE = "custkit"


def _register_engine() -> str:
    """Register papermill's nbclient engine with a step callback under :data:`ENGINE`.

    papermill calls ``cell_start`` of its execution manager for each cell it runs (its own
    tqdm bar hangs there); this engine adds our callback beside it, so progress follows the
    kernel cell by cell without a second notebook client.
    """
    from papermill.engines import NBClientEngine, papermill_engines

    class StepEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, on_step=None, **kwargs):
            if on_step is not None:
                cell_start = nb_man.cell_start

                def started(cell, cell_index=None, **kw):
                    cell_start(cell, cell_index, **kw)
                    on_step(cell)

                nb_man.cell_start = started
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    if ENGINE not in papermill_engines._engines:
        papermill_engines.register(ENGINE, StepEngine)
    return ENGINE


class _StepCounter:
    """Turns papermill's cell starts into ``on_step(number, total, step)`` calls."""

    def __init__(self, steps: list[str], on_step: Callable[[int, int, str], None]) -> None:
        self.steps, self.on_step = steps, on_step
        self.total = len(steps) + 1  # and the cell papermill injects
        self.number = self.written = 0

    def __call__(self, cell) -> None:
        if cell.cell_type != "code":
            return
        self.number += 1
        if "injected-parameters" in cell.metadata.get("tags", []):
            step = "parameters"
        else:
            written = self.written
            self.written += 1
            step = self.steps[written] if written < len(self.steps) else f"cell {self.number}"
        self.on_step(self.number, self.total, step)


def code_cell_steps(nb: nbformat.NotebookNode) -> list[str]:
    """The step of each code cell of *nb*, in order (see :func:`step_name`); the parameters
    cell is ``parameters``."""
    steps = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        steps.append("parameters" if "parameters" in tags else step_name(nb.cells, index))
    return steps


def translate_markdown(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Replace each markdown cell of *nb* by its translation in the current language (in place).

    A cell's whole text is its message id, so a notebook's narrative is translated as written;
    ``tests/test_i18n.py`` checks every cell has a translation.
    """
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _(markdown_message(cell.source))
    return nb


def markdown_message(source: str | list[str]) -> str:
    """The message id of a markdown cell: its text without surrounding blank space."""
    return ("".join(source) if isinstance(source, list) else source).strip()


def failing_step(nb: nbformat.NotebookNode, cell_index: int) -> str:
    """Name the step of the failing cell: its first comment line, else the heading above it.

    The failing cell is the first one with an error output (papermill adds banner cells to the
    notebook it writes, which shifts indices); *cell_index* is the fallback.
    """
    cells = [c for c in nb.cells if "papermill-error-cell-tag" not in c.metadata.get("tags", [])]
    errored = [
        i
        for i, c in enumerate(cells)
        if any(o.get("output_type") == "error" for o in c.get("outputs", []))
    ]
    return step_name(cells, errored[0] if errored else cell_index)


def step_name(cells: list, cell_index: int) -> str:
    """Cell *cell_index*'s first comment line, else the nearest markdown heading above it."""
    if 0 <= cell_index < len(cells):
        for line in cells[cell_index].source.splitlines():
            stripped = line.strip()
            if stripped.startswith("#") and stripped.lstrip("#").strip():
                return stripped.lstrip("#").strip()
        for cell in reversed(cells[:cell_index]):
            if cell.cell_type == "markdown":
                headings = [ln for ln in cell.source.splitlines() if ln.lstrip().startswith("#")]
                if headings:
                    return headings[-1].strip().lstrip("#").strip()
    return f"cell {cell_index + 1}"


def _clean(text: str) -> str:
    return _ANSI_RE.sub("", text or "").strip()
