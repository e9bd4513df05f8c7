import json

from custkit.reports.index import build_index


def put_report(out, period, report, kpis=None, failed=False, html=True, store="Shop"):
    folder = out / period
    folder.mkdir(parents=True, exist_ok=True)
    if html:
        (folder / f"{report}.html").write_text("<html></html>")
    if kpis is not None:
        document = {"report": report, "period": period, "store": store, "kpis": kpis}
        (folder / f"{report}.kpis.json").write_text(json.dumps(document))
    if failed:
        (folder / f"{report}.failed.html").write_text("<html>failed</html>")


def test_index_lists_periods_newest_first_with_links_kpis_and_status(tmp_path):
    put_report(tmp_path, "2025-12", "audit", {"customers": 900})
    put_report(tmp_path, "2026-10", "audit", {"customers": 1200, "repeat_customer_rate": 0.314})
    put_report(tmp_path, "2026-09", "audit", {"customers": 1100}, failed=True)
    put_report(tmp_path, "2026-10", "ltv", None, failed=True, html=False)
    (tmp_path / ".staging").mkdir()
    page = build_index(tmp_path).read_text(encoding="utf-8")
    assert page.index("2026-10") < page.index("2026-09") < page.index("2025-12")
    assert 'href="2026-10/audit.html"' in page
    assert "1,200" in page and "31.4%" in page and "Repeat customer rate" in page
    assert 'href="2026-09/audit.failed.html"' in page
    assert 'href="2026-10/ltv.failed.html"' in page and "2026-10/ltv.html" not in page
    assert page.count('class="failed"') == 2 and page.count('class="ok"') == 2
    assert ".staging" not in page
    assert "http" not in page and "<script" not in page


def test_index_escapes_store_names(tmp_path):
    put_report(tmp_path, "2026-10", "audit", {"orders": 3}, store="<Shop & Co>")
    page = build_index(tmp_path).read_text(encoding="utf-8")
    assert "&lt;Shop &amp; Co&gt;" in page and "<Shop" not in page
