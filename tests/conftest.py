"""Shared test setup: every test gets its own CSV cache and the non-interactive plot backend;
the second store generator (``tests/storegen.py``) is handed out as the ``storegen`` fixture."""

import importlib.util
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CUSTKIT_CACHE", str(tmp_path_factory.mktemp("cache")))


def _load_storegen():
    """``tests/storegen.py`` as a module, in any pytest import mode (tests is not a package)."""
    name = "custkit_tests_storegen"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("storegen.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is made
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def storegen():
    """The second store generator: ``storegen.generate_store(StoreSpec(...))``, ``write_store``."""
    return _load_storegen()


#: Customers in the small demo store whose four reports the browser check and the consistency
#: test read (about 1 min for the four on an idle machine).
SMALL_DEMO_CUSTOMERS = 2_000


@pytest.fixture(scope="session")
def small_demo_reports(tmp_path_factory):
    """The output folder of ``run_reports("all")`` on a small demo store (one run a session)."""
    from custkit.data.demo import write_demo_store
    from custkit.reports import run_reports

    folder = tmp_path_factory.mktemp("small-demo")
    store = write_demo_store(folder / "store", SMALL_DEMO_CUSTOMERS, seed=7)
    out = folder / "reports"
    results = run_reports("all", store / "params.yaml", out_dir=out)
    failed = [f"{r.report}: {r.error}" for r in results if r.status != "ok"]
    assert not failed, "reports of the small demo store failed:\n" + "\n".join(failed)
    return out


def _page_text(page: str) -> str:
    """A page's visible text: no styles or scripts, tags as spaces, entities decoded; runs of
    ASCII white space as one space (no-break spaces are kept: numbers are written with them)."""
    import html
    import re

    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


#: The figures each report shows that another report shows too, by KPI name, with their units
#: (issue 15 item 1): written out here, not imported, so the check stands on its own.
SHARED_FIGURES_BY_REPORT = {
    "audit": {"active_base": "count", "churned_customers": "count", "lost_customers": "count"},
    "churn": {
        "active_base": "count",
        "churned_customers": "count",
        "lost_customers": "count",
        "at_risk_customers": "count",
        "p_alive_mean": "share",
        "value_at_risk": "money",
    },
    "ltv": {
        "active_base": "count",
        "churned_customers": "count",
        "at_risk_customers": "count",
        "p_alive_mean": "share",
        "value_at_risk": "money",
        "expected_purchases_12m": "count",
        "clv_12m_total": "money",
    },
}


def _check_shared_figures(out, period: str | None = None) -> dict[str, dict]:
    """Check a run's shared figures agree in every ``kpis.json`` and on every page.

    Returns the figures by report. Fails naming the figure, the reports and the two values.
    """
    import json

    from custkit.i18n import use_language
    from custkit.reports.display import format_kpi

    out = Path(out)
    months = sorted(p.name for p in out.iterdir() if p.is_dir() and p.name[:2] == "20")
    month = out / (period or months[-1])
    documents = {
        report: json.loads((month / report / f"{report}.kpis.json").read_text(encoding="utf-8"))
        for report in ("audit", "churn", "ltv", "splittest")
    }
    seen: dict[str, tuple[str, object]] = {}
    figures: dict[str, dict] = {}
    for report, document in documents.items():
        expected = SHARED_FIGURES_BY_REPORT.get(report, {})
        kpis, units = document["kpis"], document.get("units", {})
        missing = sorted(set(expected) - set(kpis))
        assert not missing, f"{report}.kpis.json lacks the shared figures {missing}"
        figures[report] = {}
        for name, unit in expected.items():
            value = kpis[name]
            assert units.get(name) == unit, (report, name, units.get(name), unit)
            figures[report][name] = value
            if name in seen:
                first, first_value = seen[name]
                assert value == first_value, (
                    f"{name} is {first_value!r} in {first}.kpis.json but {value!r} in "
                    f"{report}.kpis.json"
                )
            else:
                seen[name] = (report, value)
        # a report without shared figures (split tests) must not hold one of another value
        for name in set(kpis) & set(seen) - set(expected):
            assert kpis[name] == seen[name][1], (report, name, kpis[name], seen[name])
    for report, values in figures.items():
        document = documents[report]
        page = _page_text((month / report / f"{report}.html").read_text(encoding="utf-8"))
        cyrillic = sum("а" <= c.lower() <= "я" for c in page)
        language = "ru" if cyrillic > 0.3 * sum(c.isalpha() for c in page) else "en"
        with use_language(language):
            for name, value in values.items():
                unit = SHARED_FIGURES_BY_REPORT[report][name]
                shown = format_kpi(value, unit, document.get("currency", ""))
                assert shown in page, (
                    f"the {report} page does not show {name} as {shown!r} (kpis.json: {value!r})"
                )
    return figures


@pytest.fixture(scope="session")
def check_shared_figures():
    """``check_shared_figures(out, period=None)``: the shared figures of a run agree in every
    ``kpis.json`` and as :func:`custkit.reports.display.format_kpi` writes them on every page."""
    return _check_shared_figures
