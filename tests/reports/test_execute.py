import json
import os
import sys
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager

from custkit.cli import main
from custkit.errors import ReportError
from custkit.reports import kernel_name
from custkit.reports.execute import check_kernel

CHECKOUT = Path(__file__).resolve().parents[2]


def test_reports_run_on_this_interpreter_unless_a_kernel_is_named(monkeypatch):
    monkeypatch.delenv("CUSTKIT_KERNEL", raising=False)
    spec = KernelSpecManager().get_kernel_spec(kernel_name())
    assert spec.argv[0] in {sys.executable, "python", "python3"}
    monkeypatch.setenv("CUSTKIT_KERNEL", "other")
    assert kernel_name() == "other"


# --- the kernel runs this environment ------------------------------------------------------------

HERE = os.path.dirname(os.path.abspath(sys.executable))


def _kernels(folder: Path, **commands: str) -> KernelSpecManager:
    """A kernel search path holding one kernel per name, each starting *command*."""
    for name, command in commands.items():
        (folder / name).mkdir(parents=True)
        spec = {
            "argv": [command, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": name,
            "language": "python",
        }
        (folder / name / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return KernelSpecManager(kernel_dirs=[str(folder)], ensure_native_kernel=False)


def test_the_kernel_the_runner_uses_runs_the_running_interpreter(monkeypatch):
    monkeypatch.delenv("CUSTKIT_KERNEL", raising=False)
    spec = check_kernel()
    command = spec.argv[0]
    assert command in {"python", "python3"} or os.path.dirname(os.path.abspath(command)) == HERE


@pytest.mark.parametrize(
    "command",
    [sys.executable, "python", "python3", f"python{sys.version_info[0]}.{sys.version_info[1]}"],
)
def test_a_kernel_of_this_environment_is_accepted(tmp_path, command):
    assert check_kernel("custkit", _kernels(tmp_path, custkit=command)).argv[0] == command


@pytest.mark.parametrize(
    "command",
    [
        "/srv/other-checkout/.venv/bin/python",
        os.path.realpath(sys.executable),  # the base interpreter a venv links to
        "python2",
        "bin/python",
        "",
    ],
)
def test_a_kernel_of_another_environment_is_refused_with_the_fix(tmp_path, command):
    if command and os.path.dirname(os.path.abspath(command)) == HERE:
        pytest.skip("this interpreter is not a link into another folder")
    with pytest.raises(ReportError) as caught:
        check_kernel("custkit", _kernels(tmp_path, custkit=command))
    message = str(caught.value)
    assert f"not this environment's Python ({sys.executable})" in message
    assert "ipykernel install --sys-prefix --name custkit" in message
    assert "jupyter kernelspec remove custkit" in message


def test_a_missing_kernel_is_refused_with_the_command_that_registers_it(tmp_path):
    with pytest.raises(ReportError, match="'custkit' that runs the reports is not installed") as e:
        check_kernel("custkit", _kernels(tmp_path))
    assert f"{sys.executable} -m ipykernel install --sys-prefix --name custkit" in str(e.value)


def test_registering_with_sys_prefix_as_the_makefile_does_gives_a_kernel_of_this_interpreter(
    tmp_path,
):
    from ipykernel.kernelspec import install

    install(kernel_name="custkit", display_name="Python (custkit)", prefix=str(tmp_path))
    kernels = tmp_path / "share" / "jupyter" / "kernels"
    manager = KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)
    assert check_kernel("custkit", manager).argv[0] == sys.executable
    makefile = (CHECKOUT / "Makefile").read_text(encoding="utf-8")
    register = next(line for line in makefile.splitlines() if "ipykernel install" in line)
    assert "--sys-prefix" in register and "--user" not in register
    assert "--name custkit" in register


@pytest.mark.parametrize(
    ("kernels", "expected"),
    [
        ({}, "is not installed"),
        ({"custkit": "/srv/other-checkout/.venv/bin/python"}, "runs /srv/other-checkout"),
    ],
)
def test_custkit_run_fails_clearly_when_the_kernel_is_missing_or_foreign(
    tmp_path, monkeypatch, capsys, kernels, expected
):
    folder = tmp_path / "kernels"
    folder.mkdir()
    _kernels(folder, **kernels)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))  # <JUPYTER_PATH>/kernels comes first
    monkeypatch.setenv("CUSTKIT_KERNEL", "custkit" if kernels else "custkit-nowhere")
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,order_date,revenue\n1,1,2025-01-03,100\n2,2,2025-02-10,250\n"
    )
    (tmp_path / "params.yaml").write_text("sources:\n  orders: orders.csv\n")
    out = tmp_path / "out"
    status = main(["run", "audit", "--params", str(tmp_path / "params.yaml"), "--out", str(out)])
    err = capsys.readouterr().err
    # checked once before any report starts: exit 2, no failure page, nothing published
    assert status == 2 and expected in err
    assert "Traceback" not in err
    assert not list(out.rglob("*.html"))
