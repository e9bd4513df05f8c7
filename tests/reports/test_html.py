import re

import nbformat
import pandas as pd

from custkit.reports.execute import failing_step
from custkit.reports.html import external_resources, failure_page, notebook_to_html


def test_executed_notebook_becomes_an_offline_page_without_code_or_parameters(
    tmp_path, write_notebook, reserved_cell
):
    """One kernel start: execute a tiny plotting notebook with papermill, then convert it."""
    from custkit.reports.execute import execute_notebook

    notebook = write_notebook(
        tmp_path / "tiny.ipynb",
        reserved_cell + "threshold = 3  # a tuning knob\n",
        [
            ("md", "# Tiny report\nMath stays text offline: $x^2$."),
            (
                "code",
                "# Draw the chart\n"
                "import matplotlib.pyplot as plt\n"
                "from custkit.reports import show_figure\n"
                "SOURCE_ONLY_MARKER = 1\n"
                "fig, ax = plt.subplots()\n"
                "ax.plot([1, 2, 3])\n"
                "show_figure(fig)\n"
                "print('threshold is', threshold)",
            ),
        ],
    )
    output = tmp_path / "out" / "tiny.ipynb"
    nb = execute_notebook(notebook, output, {"threshold": 7, "period": "2026-10"})
    assert output.exists()
    page = notebook_to_html(nb, "Shop — Tiny report — 2026-10")

    assert "<title>Shop — Tiny report — 2026-10</title>" in page
    assert 'class="jp-InputArea-editor' not in page and "SOURCE_ONLY_MARKER" not in page
    assert "threshold = 7" not in page and "threshold = 3" not in page  # no parameters cells
    assert "threshold is 7" in page  # ... but the injected value was used
    assert not re.search(r"(In|Out)(&nbsp;|\s)\[\d+\]", page)  # no prompts
    assert external_resources(page) == []
    assert not re.search(r"""<(script|link)\b[^>]*(src|href)=["']?https?:""", page)
    assert page.count('src="data:image/png;base64,') == 1  # drawn once, embedded


def test_failing_step_is_the_cells_first_comment_or_the_heading_above():
    nb = nbformat.v4.new_notebook()
    error = nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[])
    nb.cells = [
        nbformat.v4.new_markdown_cell("## Base health\nText."),
        nbformat.v4.new_code_cell("x = 1", outputs=[error]),
        nbformat.v4.new_code_cell("# Retention cohorts\ny = 2"),
    ]
    assert failing_step(nb, 99) == "Base health"
    nb.cells[1].outputs = []
    nb.cells[2].outputs = [error]
    assert failing_step(nb, 99) == "Retention cohorts"


def test_failure_page_names_the_step_and_escapes_the_message():
    page = failure_page("audit", "2026-10", "Base health", "DataError: column <orders>")
    assert "Failing step: <b>Base health</b>" in page
    assert "DataError: column &lt;orders&gt;" in page
    assert external_resources(page) == []


def test_title_heading_above_parameters_is_left_to_the_report_header():
    nb = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('period = ""')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Customer audit\nFor managers."),
        parameters,
        nbformat.v4.new_markdown_cell("# Base health"),
    ]
    page = notebook_to_html(nb, "Shop — Customer audit — 2026-10")
    assert ">Customer audit<" not in page and "For managers." in page
    assert ">Base health<" in page


def test_a_stores_html_in_a_channel_name_stays_text_on_the_page():
    from custkit.findings import Finding
    from custkit.reports.display import finding_html, table_html

    channel = "<script>alert('x')</script><b>Promo</b> $5 & \"more\""
    table = table_html(pd.DataFrame({"acquisition_channel": [channel], "customers": [12]}))
    finding = finding_html(Finding(channel, f"Most new customers came from {channel}", channel))
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "show(table)",
            outputs=[
                nbformat.v4.new_output("display_data", data={"text/html": html})
                for html in (table, finding)
            ],
        )
    ]
    page = notebook_to_html(nb, f"Shop — {channel} — 2026-10")
    assert "<script>alert" not in page and "<b>Promo</b>" not in page
    # nbconvert writes the page anew: quotes as they are, markup as text
    shown = "&lt;script&gt;alert('x')&lt;/script&gt;&lt;b&gt;Promo&lt;/b&gt; $5 &amp;"
    assert page.count(shown) == 5  # title, table cell, finding title, conclusion, action
