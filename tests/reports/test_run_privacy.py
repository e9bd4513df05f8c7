"""Personal data in what runs leave behind, through real kernels on a small demo store.

A failure (a customers row the CSV parser quotes, an exception whose message names a customer)
leaves no contact value in any file of the output folder: failure page, failed notebook, log,
schedule state, index. The guard refuses outputs showing a customer's contact values, naming the
step and the kind of value, and lets e-mail-like labels such as ``checkout@v2.test`` through.
"""

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from custkit.cli import main
from custkit.data.load import load_store
from custkit.reports.privacy import CONTACT_DIGESTS_FILE
from custkit.reports.run import run_reports

START = (
    "# Load the store\n"
    "import custkit as ck\n"
    'ctx = ck.reports.start_report("leak", params_file, period, output_dir)\n'
    "customer = ctx.store.customers.iloc[0]\n"
    "name, email, phone = customer['name'], customer['email'], customer['phone']"
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from custkit.data.demo import write_demo_store

    data = write_demo_store(tmp_path_factory.mktemp("store") / "data", 300, seed=11)
    customers = pd.read_csv(data / "customers.csv", dtype=str)
    return data, customers.iloc[0]


@pytest.fixture
def leak_report(notebooks, write_notebook, reserved_cell):
    """``leak_report([(kind, source), ...])``: the 'leak' notebook, loading the demo store first."""

    def write(cells):
        write_notebook(notebooks / "leak.ipynb", reserved_cell, [("code", START), *cells])

    return write


def _values(customer) -> list[str]:
    digits = re.sub(r"\D", "", customer["phone"])
    return [customer["email"], customer["phone"], digits[-10:], customer["name"]]


def _files_holding(folder, values) -> dict[str, list[str]]:
    found = {}
    for path in folder.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace").lower()
            hits = [v for v in values if v.lower() in text]
            if hits:
                found[str(path.relative_to(folder))] = hits
    return found


def _schedule(tmp_path, params) -> list[str]:
    job = {"name": "shop", "params": str(params), "reports": ["leak"], "cron": "0 6 2 * *",
           "timezone": "Europe/Moscow", "out": "out"}  # fmt: skip
    path = tmp_path / "schedule.yaml"
    path.write_text(yaml.safe_dump({"jobs": [job]}), encoding="utf-8")
    return ["schedule", "run", "--file", str(path), "--job", "shop", "--period", "2026-10"]


def test_a_customer_named_in_an_exception_is_in_no_file_of_the_output_folder(
    demo, leak_report, tmp_path, capsys
):
    data, customer = demo
    fail = "print(name, email)\nraise ValueError(f'no segment: {name} <{email}> {phone}')"
    leak_report([("md", "## Base health"), ("code", fail)])
    assert main(_schedule(tmp_path, data / "params.yaml")) == 1
    out = tmp_path / "out"
    assert {p.name for p in (out / "2026-10").iterdir()} == {
        "leak.failed.html",
        "leak.failed.ipynb",
        "summary.html",  # rebuilt after every run, failures included (checked below with the rest)
    }
    assert (out / "schedule-state.json").exists() and list((out / "logs").glob("*.log"))
    assert _files_holding(out, _values(customer)) == {}
    assert not [v for v in _values(customer) if v.lower() in capsys.readouterr().err.lower()]
    page = (out / "2026-10" / "leak.failed.html").read_text(encoding="utf-8")
    assert "Failing step: <b>Base health</b>" in page
    assert "ValueError: no segment: &lt;name&gt; &lt;&lt;e-mail&gt;&gt; &lt;phone&gt;" in page


def test_a_customers_row_the_csv_parser_cannot_split_reaches_only_the_quarantine_file(
    demo, leak_report, tmp_path
):
    # the row used to stop the load with pyarrow's error quoting it; now it is set aside as
    # malformed_row, and its values appear in the quarantine file (contact data, like an
    # export) and nowhere else: not on the page, in the notebook, the logs or the state
    data, customer = demo
    broken = tmp_path / "data"
    broken.mkdir()
    for source in data.iterdir():
        (broken / source.name).write_bytes(source.read_bytes())
    lines = (data / "customers.csv").read_text(encoding="utf-8").splitlines()
    first, last = customer["name"].split(" ", 1)
    row = lines[1].replace(f'"{customer["name"]}"', f"{first}, {last}")  # an unquoted comma
    assert row != lines[1]
    (broken / "customers.csv").write_text("\n".join([lines[0], row, *lines[2:]]) + "\n")
    leak_report([])

    assert main(_schedule(tmp_path, broken / "params.yaml")) == 0
    out = tmp_path / "out"
    values = [*_values(customer), last]
    holding = _files_holding(out, values)
    assert all(Path(p).parent.name == "quarantine" for p in holding), holding
    store = load_store(broken / "params.yaml")
    assert store.accounting["customers"].reasons["malformed_row"] == 1


def test_email_like_labels_pass_and_the_digests_are_never_published(
    demo, leak_report, fake_params, tmp_path
):
    data, _customer = demo
    shown = (
        "pd.DataFrame({'Experiment': ['checkout@v2.test'], 'Variant': ['B'], 'Customers': [120]})"
    )
    leak_report(
        [
            ("code", "# Experiments\nprint('experiment checkout@v2.test: variant B')"),
            ("code", f"# Their table\nimport pandas as pd\nck.reports.show_table({shown})"),
        ]
    )
    out = tmp_path / "out"
    (result,) = run_reports(["leak"], data / "params.yaml", "2026-10", out)
    assert result.ok, result.error
    assert "checkout@v2.test" in result.html.read_text(encoding="utf-8")
    assert not list(out.rglob(CONTACT_DIGESTS_FILE)) and not (out / ".staging").exists()


@pytest.mark.parametrize(
    ("shown", "kind"),
    [
        ("phone", "phone numbers"),
        ("name.upper()", "names"),
        ("email", "e-mail addresses"),
    ],
)
def test_a_customers_contact_value_in_an_output_fails_the_run_naming_step_and_kind(
    demo, leak_report, tmp_path, shown, kind
):
    data, customer = demo
    leak_report([("code", f"# Top customers\nprint('best customer:', {shown})")])
    out = tmp_path / "out"
    (result,) = run_reports(["leak"], data / "params.yaml", "2026-10", out)
    assert not result.ok
    assert f"Step 'Top customers' shows {kind} of the store's customers" in result.error
    assert not (out / "2026-10" / "leak.html").exists()
    assert _files_holding(out, _values(customer)) == {}


def test_a_customers_contact_value_in_the_saved_actions_fails_the_run(demo, leak_report, tmp_path):
    """actions.json is published beside the page and read into the monthly summary: a customer's
    address in an action's line stops the report, and the summary shows no action of it."""
    data, customer = demo
    save = (
        "# Declare the actions\n"
        "from custkit.reports.actions import Action\n"
        "ctx.save_actions([Action('Call the best customer', f'Write to {email}.', 10.0)])"
    )
    leak_report([("code", save)])
    out = tmp_path / "out"
    (result,) = run_reports(["leak"], data / "params.yaml", "2026-10", out)
    assert not result.ok
    assert "The saved actions (leak.actions.json) show e-mail addresses" in result.error
    assert not list(out.rglob("*.actions.json"))
    assert _files_holding(out, _values(customer)) == {}


def test_a_customers_contact_value_in_the_saved_kpis_fails_the_run(demo, leak_report, tmp_path):
    data, customer = demo
    leak_report([("code", "# Save the figures\nctx.save_kpis({'top_customer': email})")])
    out = tmp_path / "out"
    (result,) = run_reports(["leak"], data / "params.yaml", "2026-10", out)
    assert not result.ok
    assert "The saved KPIs (leak.kpis.json) show e-mail addresses" in result.error
    assert _files_holding(out, _values(customer)) == {}
