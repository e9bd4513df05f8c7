import json
import os
import time

from custkit.reports.index import build_index, report_runs, sparkline_svg


def put_report(
    out, period, report, kpis=None, failed=False, html=True, store="Shop", currency=None
):
    """A report folder ``<period>/<report>/`` (page, kpis.json) and, with *failed*, a failure
    page of a later run beside it."""
    folder = out / period / report
    folder.mkdir(parents=True, exist_ok=True)
    if html:
        (folder / f"{report}.html").write_text("<html></html>")
    if kpis is not None:
        document = {"report": report, "period": period, "store": store, "kpis": kpis}
        if currency is not None:
            document["currency"] = currency
        (folder / f"{report}.kpis.json").write_text(json.dumps(document))
    if failed:
        (out / period / f"{report}.failed.html").write_text("<html>failed</html>")


def test_index_lists_periods_newest_first_with_links_kpis_and_status(tmp_path):
    put_report(tmp_path, "2025-12", "audit", {"customers": 900})
    put_report(tmp_path, "2026-10", "audit", {"customers": 1200, "repeat_customer_rate": 0.314})
    put_report(tmp_path, "2026-09", "audit", {"customers": 1100}, failed=True)
    put_report(tmp_path, "2026-10", "ltv", None, failed=True, html=False)
    (tmp_path / ".staging").mkdir()
    page = build_index(tmp_path).read_text(encoding="utf-8")
    assert page.index("2026-10") < page.index("2026-09") < page.index("2025-12")
    assert 'href="2026-10/audit/audit.html"' in page
    assert "1,200" in page and "31.4%" in page and "Repeat customer rate" in page
    assert 'href="2026-09/audit.failed.html"' in page
    assert 'href="2026-10/ltv.failed.html"' in page and "2026-10/ltv/ltv.html" not in page
    assert page.count('class="failed"') == 2 and page.count('class="ok"') == 2
    assert ".staging" not in page
    assert "http" not in page and "<script" not in page


def test_index_escapes_store_names(tmp_path):
    put_report(tmp_path, "2026-10", "audit", {"orders": 3}, store="<Shop & Co>")
    page = build_index(tmp_path).read_text(encoding="utf-8")
    assert "&lt;Shop &amp; Co&gt;" in page and "<Shop" not in page


def test_index_groups_runs_by_client_with_failed_and_missing_months(tmp_path):
    put_report(tmp_path, "2026-07", "audit", {"customers": 90}, store="Acme")
    put_report(tmp_path, "2026-09", "audit", {"customers": 100}, store="Acme")
    put_report(tmp_path, "2026-10", "audit", None, failed=True, html=False)  # no kpis: whose?
    put_report(tmp_path, "2026-10", "ltv", {"clv_12m_total": 5.5}, store="Bolt")
    put_report(tmp_path, "2026-09", "ltv", {"clv_12m_total": 5.0}, failed=True, store="Bolt")
    runs = {(r.client, r.report, r.period): r for r in report_runs(tmp_path)}
    assert runs[("Acme", "audit", "2026-10")].status == "failed"  # the audit is Acme's
    assert runs[("Acme", "audit", "2026-08")].status == "missing"
    assert runs[("Bolt", "ltv", "2026-09")].html == "2026-09/ltv/ltv.html"
    assert not any(r.client == "Acme" and r.report == "ltv" for r in runs.values())
    page = build_index(tmp_path).read_text(encoding="utf-8")
    acme, bolt = page.index("<h2>Acme</h2>"), page.index("<h2>Bolt</h2>")
    months = [page.index(f"{m} 2026", acme) for m in ("October", "September", "August", "July")]
    assert months == sorted(months) and months[-1] < bolt  # newest first
    assert 'href="2026-10/audit.failed.html"' in page and "2026-10/audit/audit.html" not in page
    assert 'href="2026-09/ltv.failed.html"' in page and "last good report" in page
    assert page.count("&mdash; missing") == 1
    assert "October 2026: 1 failed" in page and "October 2026: 1 ok" in page


def test_index_lists_reports_of_the_layout_before_report_folders(tmp_path):
    legacy = tmp_path / "2026-09"
    legacy.mkdir()
    (legacy / "audit.html").write_text("<html></html>")
    (legacy / "audit.kpis.json").write_text(json.dumps({"store": "Shop", "kpis": {"n": 1}}))
    put_report(tmp_path, "2026-10", "audit", {"n": 2})
    runs = {r.period: r for r in report_runs(tmp_path)}
    assert runs["2026-09"].html == "2026-09/audit.html" and runs["2026-09"].status == "ok"
    assert runs["2026-10"].html == "2026-10/audit/audit.html"


def test_a_failure_page_older_than_the_report_it_preceded_is_not_shown(tmp_path):
    """A run killed after publishing its report and before deleting the earlier failure page."""
    put_report(tmp_path, "2026-10", "audit", {"n": 2}, failed=True)
    failure = tmp_path / "2026-10" / "audit.failed.html"
    (run,) = report_runs(tmp_path)
    assert run.status == "failed" and run.failure == "2026-10/audit.failed.html"
    hour_ago = time.time() - 3600
    os.utime(failure, (hour_ago, hour_ago))
    (run,) = report_runs(tmp_path)
    assert (run.status, run.failure, run.html) == ("ok", None, "2026-10/audit/audit.html")


def test_index_draws_a_trend_with_latest_value_and_change_for_each_headline_kpi(tmp_path):
    for month, customers in (("2025-11", 80), ("2026-09", 100), ("2026-10", 120)):
        kpis = {
            "customers": customers,
            "repeat_customer_rate": 0.3,
            "model": "BG/NBD",
            "reason_shares": {"forgot": 0.2},
            "revenue": 10.5,
            "orders": 9,
            "extra": 1,
        }
        put_report(tmp_path, month, "audit", kpis)
    put_report(tmp_path, "2024-01", "audit", {"customers": 1})  # outside the 12 months
    page = build_index(tmp_path).read_text(encoding="utf-8")
    trends = page[page.index("Trends over the last 12 months") : page.index("Runs, newest")]
    assert "Nov 2025 – Oct 2026" in trends
    assert trends.count("<svg") == 4  # the first four numeric top-level KPIs
    assert "Extra" not in trends and "Reason shares" not in trends and "Model" not in trends
    assert "Repeat customer rate" in trends and "+0.0 pp" in trends
    assert "<b>120</b>" in trends and "+20.0%" in trends
    assert "Oct 2026: 120" in trends and "Nov 2025: 80" in trends and "Jan 2024" not in trends
    assert "http" not in page and "<script" not in page and "<img" not in page


def test_index_shows_money_in_the_currency_of_the_newest_kpi_file(tmp_path):
    put_report(tmp_path, "2026-08", "audit", {"revenue": 900.0})  # written before currency
    put_report(tmp_path, "2026-09", "audit", {"revenue": 1000.0}, currency="EUR")
    put_report(tmp_path, "2026-10", "audit", {"revenue": 1500.0}, currency="RUB")
    page = build_index(tmp_path).read_text(encoding="utf-8")
    assert "<b>1,500\u00a0RUB</b>" in page and "Sep 2026: 1,000\u00a0RUB" in page
    older = tmp_path / "older"
    put_report(older, "2026-10", "audit", {"revenue": 7.0})  # no file names a currency
    assert "<b>7.00</b>" in build_index(older).read_text(encoding="utf-8")


def test_index_lists_unreadable_kpi_files_and_still_shows_the_rest(tmp_path):
    put_report(tmp_path, "2026-10", "audit", {"customers": 3})
    (tmp_path / "2026-09").mkdir()
    (tmp_path / "2026-09" / "audit.html").write_text("<html></html>")
    (tmp_path / "2026-09" / "audit.kpis.json").write_text("{broken")
    page = build_index(tmp_path).read_text(encoding="utf-8")
    assert "1 KPI file could not be read" in page and "2026-09/audit.kpis.json" in page
    assert 'href="2026-09/audit.html"' in page and 'href="2026-10/audit/audit.html"' in page


def test_sparkline_breaks_at_gaps_and_marks_the_last_point():
    svg = sparkline_svg([1.0, 2.0, None, 3.0, float("nan"), 4.0, 5.0], "Orders", ["Oct: 5"])
    assert svg.startswith("<svg") and svg.count("<polyline") == 2
    assert svg.count("<circle") == 2  # the lone 3.0, and the last point
    assert "<title>Oct: 5</title>" in svg and 'aria-label="Orders"' in svg
    flat = sparkline_svg([2.0, 2.0], "Flat")
    assert "15.0" in flat  # a constant line sits in the middle
    assert sparkline_svg([], "Nothing").count("<polyline") == 0


def test_index_of_an_empty_folder_says_how_to_make_reports(tmp_path):
    page = build_index(tmp_path).read_text(encoding="utf-8")
    assert "No reports yet" in page
