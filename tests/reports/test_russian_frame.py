"""The report frame in Russian: header, KPI cards and history, tables, findings, exports, the
failure page and the index. Numbers read ``1 234,5``, month names are Russian, and the English
frame is unchanged (the other tests of this folder)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from types import MappingProxyType

import nbformat
import numpy as np
import pandas as pd
import pytest

from custkit.data.periods import ReportPeriod
from custkit.data.store import TableAccounting
from custkit.data.validate import REASONS
from custkit.findings import Finding
from custkit.i18n import _, has_translation, use_language
from custkit.reports.context import ExportedFiles, ReportContext
from custkit.reports.display import (
    finding_html,
    format_change,
    format_count,
    format_money,
    format_share,
    header_html,
    kpi_history_html,
    kpis_html,
    rejection_reason_label,
    table_html,
    table_label,
)
from custkit.reports.html import failure_page, notebook_to_html
from custkit.reports.index import build_index, report_title

NBSP = "\u00a0"


@pytest.fixture
def russian():
    with use_language("ru"):
        yield


def test_numbers_of_the_frame_are_written_the_russian_way(russian):
    assert format_count(1234567) == f"1{NBSP}234{NBSP}567"
    assert format_count(-1234) == f"\u22121{NBSP}234"
    assert format_money(1234.5, "RUB") == f"1{NBSP}234{NBSP}₽" and format_money(12.5) == "12,50"
    assert format_share(0.2345) == "23,4%"
    assert format_change(0.042, "count") == "+4,2%"
    assert format_change(-0.013, "share") == f"\u22121,3{NBSP}п.{NBSP}п."
    assert format_change(float("nan"), "share") == "—"


def test_numbers_of_the_frame_stay_english_in_english():
    assert format_count(1234567) == "1,234,567" and format_share(0.2345) == "23.4%"
    assert format_change(-0.013, "share") == "\u22121.3 pp"


def test_kpi_cards_in_russian(russian):
    frame = pd.DataFrame(
        {
            "kpi": ["orders", "repeat_customer_rate"],
            "label": ["Заказы", "Доля повторных покупателей"],
            "value": [1042, 0.30],
            "previous_month": [1000, 0.313],
            "change_vs_previous_month": [0.042, -0.013],
            "same_month_last_year": [np.nan, np.nan],
            "change_vs_last_year": [np.nan, np.nan],
            "unit": ["count", "share"],
        }
    )
    page = kpis_html(frame, currency="RUB")
    assert f"1{NBSP}042" in page and "30,0%" in page
    assert '600;">+4,2%</span> к прошлому месяцу' in page
    assert f'600;">\u22121,3{NBSP}п.{NBSP}п.</span> к прошлому месяцу' in page
    assert ">—</span> к тому же месяцу прошлого года" in page
    assert "vs " not in page


def test_kpi_history_in_russian_names_the_months_and_explains_the_gaps(russian):
    frame = pd.DataFrame(
        {
            "kpi": ["customers", "annual_churn_rate"],
            "label": ["Клиенты", "Годовой отток"],
            "value": [3417.0, 0.233],
            "previous_month": [3100.0, np.nan],
            "change_vs_previous_month": [0.1023, np.nan],
            "same_month_last_year": [np.nan, 0.25],
            "change_vs_last_year": [np.nan, -0.017],
            "unit": ["count", "share"],
        }
    )
    page = kpi_history_html(frame, period="2026-10", collapsed=True)
    for heading in ("Октябрь\u00a02026", "Сентябрь\u00a02026", "Октябрь\u00a02025", "Изменение"):
        assert f">{heading}</th>" in page
    assert (
        "<b>В сравнении с прошлыми отчётами</b>: значения, опубликованные за сентябрь\u00a0" in page
    )
    assert f"3{NBSP}417" in page and "+10,2%" in page and f"\u22121,7{NBSP}п.{NBSP}п." in page
    assert "Доли меняются в процентных пунктах." in page
    empty = frame.assign(previous_month=np.nan, same_month_last_year=np.nan)
    assert "ни за сентябрь\u00a02026, ни за октябрь\u00a02025" in kpi_history_html(
        empty, period="2026-10"
    )
    assert ">Прошлый месяц</th>" in kpi_history_html(frame)
    assert not any(word in page for word in ("Change", "October", "Against", "figures"))


def test_table_note_and_finding_box_in_russian(russian):
    assert "Показаны первые 5 из 30 строк." in table_html(
        pd.DataFrame({"customers": range(30)}), max_rows=5
    )
    assert "Показаны первые 5 из 21 строки." in table_html(
        pd.DataFrame({"customers": range(21)}), max_rows=5
    )
    assert "23,5" in table_html(pd.DataFrame({"days": [23.456]}), formats={"days": "{:.1f}"})
    finding = Finding("Здоровье базы", "Отток 25%.", "Напомните о себе <уснувшим>.", "bad")
    assert "Что делать: Напомните о себе &lt;уснувшим&gt;." in finding_html(finding)


def _context(store, fake_params, **changes):
    return ReportContext(
        report="audit",
        store=replace(store, **changes),
        params=fake_params(store_name="Магазин"),
        period=ReportPeriod.from_string("2026-10"),
        output_dir=None,
        title="Аудит клиентов",
    )


def test_header_in_russian(store, fake_params, russian):
    orders = store.orders.assign(status=["completed", "Cancelled", "returned"])
    accounting = {
        "orders": TableAccounting(
            "orders", "orders.csv", 12345, 12341, 4, MappingProxyType({"unparseable_date": 4})
        ),
        "customers": TableAccounting(
            "customers", "customers.csv", 21, 21, 0, notes=(_(  # as the loader writes it
                "{orders:,} orders of {customers:,} customers not in the customers table (kept; "
                "reports treat them as customers with unknown details).",
                orders=2345, customers=1234,
            ),),
        ),
    }  # fmt: skip
    ctx = _context(store, fake_params, orders=orders, accounting=MappingProxyType(accounting))
    page = header_html(ctx)
    assert "Октябрь\u00a02026 · данные на 31\u00a0октября\u00a02026" in page
    assert (
        f"Использованные данные: заказы — принято 12{NBSP}341 из 12{NBSP}345 строк; "
        "клиенты — принято 21 из 21 строки"
    ) in page
    for heading in ("Таблица", "Прочитано строк", "Принято", "Отклонено", "Основные причины"):
        assert f">{heading}</th>" in page
    assert "дата не распознана (4)" in page
    assert "В отчёт не вошли заказы с датой после 31\u00a0октября\u00a02026: 1." in page
    assert "Отменённые и возвращённые заказы не считаются покупками: 2." in page
    unknown = "Заказы клиентов, которых нет в таблице клиентов"
    assert f"{unknown}: 2{NBSP}345 (клиентов: 1{NBSP}234)" in page
    assert "сформирован " in page and "generated" not in page and "October" not in page


def test_the_data_checks_write_their_notes_in_the_report_language():
    """start_report sets the language before it loads the store, so the header shows the notes
    of the data checks as they were written: in the report language."""
    from custkit.contract import TABLES
    from custkit.data.validate import validate_table
    from custkit.params import parse_params

    params = parse_params({"sources": {"orders": {"path": "orders.csv"}}})
    raw = pd.DataFrame(
        {
            "order_id": ["1", "2"],
            "customer_id": ["a", "b"],
            "order_date": ["2026-01-02", "2026-01-03"],
            "revenue": ["1", "2"],
            "discount": ["x", "1"],
        }
    )
    english = validate_table(raw, TABLES["orders"], params.sources["orders"]).notes
    assert english == ("1 values of optional column 'discount' could not be read and were left "
                       "empty.",)  # fmt: skip
    with use_language("ru"):
        russian = validate_table(raw, TABLES["orders"], params.sources["orders"]).notes
    assert russian[0].startswith("Значения необязательного столбца «discount»")


def test_every_rejection_reason_and_table_has_a_russian_name():
    from custkit.contract import TABLES

    assert all(has_translation(rejection_reason_label(code).lower(), "ru") for code in REASONS)
    assert all(table_label(table) == table for table in TABLES)  # English: as named
    with use_language("ru"):
        assert all(table_label(table) != table for table in TABLES)
        assert rejection_reason_label("date_in_future") == "дата в будущем"


def test_exports_note_in_russian_with_plural_forms(tmp_path, russian):
    paths = [tmp_path / "list.csv", tmp_path / "list.xlsx"]
    assert repr(ExportedFiles(paths, rows=7674)) == (
        f"7{NBSP}674 строки выгружены в exports/list.csv, exports/list.xlsx"
    )
    assert repr(ExportedFiles(paths[:1], rows=21)).startswith("21 строка выгружена в")
    assert repr(ExportedFiles(paths[:1], rows=11)).startswith("11 строк выгружено в")
    long = repr(ExportedFiles(paths[:1], rows=125_000, no_xlsx="rows"))
    assert long.endswith(f"(без XLSX: больше 20{NBSP}000 строк — откройте CSV)")
    wide = repr(ExportedFiles(paths[:1], rows=3, no_xlsx="long_text", phones_kept=2))
    assert f"в ячейке больше 32{NBSP}767 символов" in wide
    assert wide.endswith("; 2 телефона оставлены как записаны (номера не распознаны)")
    assert "строки выгружены" in ExportedFiles(paths, rows=2)._repr_html_()


def test_exports_note_in_english(tmp_path):
    assert repr(ExportedFiles([tmp_path / "a.csv"], rows=1)) == "1 row exported to exports/a.csv"
    assert repr(ExportedFiles([tmp_path / "a.csv"], rows=7674)).startswith("7,674 rows exported")


def test_failure_page_in_russian(russian):
    page = failure_page("audit", "2026-10", "Проверка данных", "DataError: column <orders>")
    assert '<html lang="ru">' in page
    assert f"Не удалось сформировать отчёт «{report_title('audit')}» за октябрь\u00a02026" in page
    assert "Шаг, на котором произошла ошибка: <b>Проверка данных</b>" in page
    assert "DataError: column &lt;orders&gt;" in page  # the error stays as raised
    assert "Прежний отчёт за этот месяц, если он был, не изменён." in page
    assert "could not" not in page and "Failing" not in page


def test_failure_page_written_by_a_run_in_russian(tmp_path, russian):
    from custkit.errors import ParamsError
    from custkit.reports.run import _write_failure

    path = _write_failure("ghost", None, tmp_path, tmp_path / "staging", ParamsError("bad key"))
    page = path.read_text(encoding="utf-8")
    assert path == tmp_path / "unknown" / "ghost.failed.html"
    assert "Не удалось сформировать отчёт «Ghost» за неизвестный месяц" in page
    assert "<b>проверка параметров</b>" in page and "bad key" in page


def test_the_intro_under_the_title_moves_below_the_report_header():
    nb = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('period = ""')
    parameters.metadata["tags"] = ["parameters"]
    header = nbformat.v4.new_output(
        "display_data", data={"text/html": '<div class="custkit-header">HEADER</div>'}
    )
    after = nbformat.v4.new_output("display_data", data={"text/html": "<p>AFTER</p>"})
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Аудит клиентов\n\nКто покупает и кто уходит."),
        parameters,
        nbformat.v4.new_code_cell("ctx = start_report()", outputs=[header, after]),
        nbformat.v4.new_markdown_cell("## Главные цифры"),
    ]
    page = notebook_to_html(nb, "Магазин — Аудит клиентов — 2026-10")
    assert ">Аудит клиентов<" not in page  # the title is the header's
    order = [page.index(text) for text in ("HEADER", "Кто покупает", "AFTER", "Главные цифры")]
    assert order == sorted(order)
    assert nb.cells[0].source.startswith("# Аудит")  # the notebook itself is not changed


def put_report(out, period, report, kpis, store="Магазин", failed=False):
    folder = out / period
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{report}.html").write_text("<html></html>")
    document = {"report": report, "period": period, "store": store, "kpis": kpis}
    (folder / f"{report}.kpis.json").write_text(json.dumps(document))
    if failed:
        (folder / f"{report}.failed.html").write_text("<html>failed</html>")


def test_index_in_russian_from_several_months(tmp_path, russian):
    for month, customers in (("2025-11", 800), ("2026-09", 1000), ("2026-10", 1234)):
        kpis = {"customers": customers, "repeat_customer_rate": 0.314, "revenue": 12345.6}
        put_report(tmp_path, month, "audit", kpis)
    put_report(tmp_path, "2026-10", "ltv", {"clv_12m_total": 5.5}, failed=True)
    (tmp_path / "2026-10" / "ltv.html").unlink()
    (tmp_path / "2026-07").mkdir()
    (tmp_path / "2026-07" / "audit.kpis.json").write_text("{broken")
    page = build_index(tmp_path).read_text(encoding="utf-8")
    assert '<html lang="ru">' in page and "<h1>Отчёты</h1>" in page
    assert "1 клиент · обновлено " in page
    assert "Октябрь\u00a02026: 1 отчёт готов, 1 отчёт с ошибкой" in page
    assert "<h3>Динамика за последние 12 месяцев</h3>" in page
    assert "Нояб.\u00a02025 – окт.\u00a02026" in page and "Окт.\u00a02026: 1" in page
    assert ">Клиенты</td>" in page and ">Доля повторных покупателей</td>" in page
    assert f"<b>1{NBSP}234</b>" in page and "+23,4%" in page and "31,4%" in page
    assert "<h3>Запуски, сначала новые</h3>" in page and "<th>Месяц</th>" in page
    assert "<td>Август\u00a02026</td>" in page and "&mdash; нет отчёта" in page
    assert "&#10003; готов" in page and ">открыть</a>" in page
    assert "&#10007; ошибка" in page and ">что не так</a>" in page
    assert "Не удалось прочитать 1 файл KPI" in page
    text = re.sub(r"<[^>]*>", " ", re.sub(r"<style>.*?</style>", "", page, flags=re.S))
    english = ("Trends", "Runs", "Month", "October", "open", "missing", "updated", "client")
    assert not [word for word in english if word in text]


def test_index_in_russian_without_reports(tmp_path, russian):
    page = build_index(tmp_path).read_text(encoding="utf-8")
    assert "Отчётов пока нет. Запустите <code>custkit run all" in page
