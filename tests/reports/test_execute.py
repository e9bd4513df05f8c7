import sys

from jupyter_client.kernelspec import KernelSpecManager

from custkit.reports import kernel_name


def test_reports_run_on_this_interpreter_unless_a_kernel_is_named(monkeypatch):
    monkeypatch.delenv("CUSTKIT_KERNEL", raising=False)
    spec = KernelSpecManager().get_kernel_spec(kernel_name())
    assert spec.argv[0] in {sys.executable, "python", "python3"}
    monkeypatch.setenv("CUSTKIT_KERNEL", "other")
    assert kernel_name() == "other"
