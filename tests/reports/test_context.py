import json

import numpy as np
import pandas as pd
import pytest

from custkit.data.periods import ReportPeriod
from custkit.data.sections import section, skipped_sections
from custkit.errors import ReportError
from custkit.reports import context as context_module
from custkit.reports.context import RUN_INFO_FILE, ReportContext, start_report
from custkit.reports.display import header_html


def make_context(store, fake_params, folder):
    return ReportContext(
        report="audit",
        store=store,
        params=fake_params(),
        period=ReportPeriod.from_string("2026-10"),
        output_dir=folder,
        quarantine={"orders": folder / "quarantine" / "orders.csv"},
    )


def test_save_kpis_writes_the_documented_shape_with_nan_as_null(store, fake_params, tmp_path):
    ctx = make_context(store, fake_params, tmp_path)
    path = ctx.save_kpis(
        {
            "customers": np.int64(120),
            "revenue": np.float64(1234.5),
            "annual_churn_rate": float("nan"),
            "growth": np.inf,
            "by_channel": {"ads": np.int32(3), "organic": pd.NA},
        }
    )
    assert path == tmp_path / "audit.kpis.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    assert set(document) == {
        "report", "period", "as_of", "store", "currency", "custkit_version", "generated_at",
        "kpis", "units", "accounting",
    }  # fmt: skip
    assert (document["report"], document["period"], document["as_of"]) == (
        "audit",
        "2026-10",
        "2026-10-31",
    )
    assert (document["store"], document["currency"]) == ("Test store", "USD")
    assert document["kpis"] == {
        "customers": 120,
        "revenue": 1234.5,
        "annual_churn_rate": None,
        "growth": None,
        "by_channel": {"ads": 3, "organic": None},
    }
    orders = document["accounting"]["orders"]
    assert (orders["read"], orders["accepted"], orders["rejected"]) == (5, 3, 2)
    assert orders["reasons"] == {"unparseable_date": 2}
    assert orders["quarantine"] == "quarantine/orders.csv"  # relative: valid after the move
    assert not list(tmp_path.glob(".*tmp*"))


def test_export_writes_utf8_bom_csv_and_xlsx(store, fake_params, tmp_path):
    ctx = make_context(store, fake_params, tmp_path)
    frame = pd.DataFrame({"customer_id": ["7"], "name": ["Анна"], "value": [1234.5]})
    written = ctx.export(frame, "reactivation_list")
    csv, xlsx = written
    assert str(tmp_path) not in written._repr_html_()  # the page shows names, not paths
    assert csv == tmp_path / "exports" / "reactivation_list.csv"
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "Анна" in csv.read_text(encoding="utf-8-sig")
    assert xlsx.suffix == ".xlsx"
    back = pd.read_excel(xlsx, dtype={"customer_id": str})
    assert back.to_dict("records") == [{"customer_id": "7", "name": "Анна", "value": 1234.5}]


def test_export_xlsx_holds_every_row_and_column_of_a_long_list(store, fake_params, tmp_path):
    ctx = make_context(store, fake_params, tmp_path)
    frame = pd.DataFrame(
        {
            "customer_id": range(100_001, 103_417),
            "name": [f"Анна {i}" for i in range(3416)],
            "email": [f"a{i}@example.ru" for i in range(3416)],
            "revenue": [i * 1.25 for i in range(3416)],
        }
    )
    _, xlsx = ctx.export(frame, "reactivation_list")
    back = pd.read_excel(xlsx)
    assert back.shape == frame.shape
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)


@pytest.mark.parametrize(
    "payload", ['=HYPERLINK("http://evil.example","x")', "+cmd|'/C calc'!A0", "-1+1", "@SUM(1)"]
)
def test_export_never_writes_a_formula_to_csv_or_xlsx(payload, store, fake_params, tmp_path):
    import openpyxl

    ctx = make_context(store, fake_params, tmp_path)
    csv, xlsx = ctx.export(pd.DataFrame({"customer_id": [7], "name": [payload]}), "list")
    assert pd.read_csv(csv, encoding="utf-8-sig", dtype=str).loc[0, "name"] == "'" + payload
    cell = openpyxl.load_workbook(xlsx).worksheets[0].cell(row=2, column=2)
    assert cell.data_type == "s" and cell.value == payload


def test_start_report_resolves_last_complete_month_and_prepares_the_folder(
    store, fake_params, tmp_path, monkeypatch
):
    params = fake_params(path=tmp_path / "p.yaml", store_name="Shop")
    written = {}

    def fake_quarantine(store, folder):
        folder.mkdir(parents=True)
        written["orders"] = folder / "orders.csv"
        written["orders"].write_text("row,reason\n")
        return dict(written)

    monkeypatch.setattr(context_module, "_load_params", lambda path: params)
    monkeypatch.setattr(context_module, "_load_store", lambda params, tables=None: store)
    monkeypatch.setattr(context_module, "_write_quarantine", fake_quarantine)
    out = tmp_path / "staging"
    ctx = start_report("audit", str(params.path), "", str(out))
    assert ctx.period.period == "2026-10"  # last order 2026-11-15: November is not complete
    assert ctx.output_dir == out.resolve()
    assert ctx.quarantine == written
    run_info = json.loads((out / RUN_INFO_FILE).read_text(encoding="utf-8"))
    assert run_info == {"report": "audit", "period": "2026-10", "store": "Shop", "language": "en"}


def test_exports_longer_than_the_xlsx_cap_of_params_are_csv_only(fake_params, tmp_path):
    ctx = context_module.ReportContext(
        report="audit",
        store=None,
        params=fake_params(exports={"xlsx_max_rows": 2}),
        period=None,
        output_dir=tmp_path,
    )
    files = ctx.export(pd.DataFrame({"customer_id": [1, 2, 3]}), "big")
    assert [p.name for p in files] == ["big.csv"]
    assert (
        repr(files)
        == "3 rows exported to exports/big.csv (no XLSX: more than 2 rows; open the CSV)"
    )
    assert [p.name for p in ctx.export(pd.DataFrame({"customer_id": [1]}), "small")] == [
        "small.csv",
        "small.xlsx",
    ]


def test_export_note_counts_phones_kept_as_written_in_the_report_language(fake_params, tmp_path):
    from custkit.i18n import use_language

    ctx = make_context(None, lambda: fake_params(language="ru", country="RU"), tmp_path)
    frame = pd.DataFrame({"customer_id": [1, 2], "phone": ["8 916 123-45-67", "не указан"]})
    files = ctx.export(frame, "contacts")
    csv = pd.read_csv(files[0], sep=";", encoding="utf-8-sig", dtype=str)
    assert csv["phone"].tolist() == ["+79161234567", "не указан"]
    with use_language("ru"):
        assert "1 телефон оставлен как записан" in repr(files)
    assert "1 phone kept as written" in repr(files)


def test_csv_exports_write_dates_plainly_and_categories_as_text(tmp_path):
    from custkit.exports import write_csv

    frame = pd.DataFrame(
        {
            "birthday": pd.to_datetime(["2026-11-01", None]),
            "last_order": pd.to_datetime(["2026-10-01 10:30:01", "2026-10-02"], format="ISO8601"),
            "tier": pd.Categorical(["top_1%", "rest"]),
            "consent": [True, False],
        }
    )
    path = write_csv(frame, tmp_path / "x.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1] == "2026-11-01,2026-10-01 10:30:01,top_1%,true"
    assert lines[2] == ",2026-10-02 00:00:00,rest,false"


def test_section_shows_why_it_is_skipped_and_refuses_undeclared_names(
    store, fake_params, tmp_path, monkeypatch
):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj.data))
    sections = {
        "birthdays": section("Birthday list for next month", "customers.birth_date"),
        "trend": section("Headline figures", "orders"),
    }
    ctx = ReportContext(
        "audit",
        store,
        fake_params(),
        ReportPeriod.from_string("2026-10"),
        tmp_path,
        sections=sections,
        skipped=skipped_sections(store, sections),
    )
    assert ctx.section("trend") is True
    assert not shown
    assert ctx.section("birthdays") is False
    assert len(shown) == 1
    assert "Birthday list for next month: skipped — the data has no customers table" in shown[0]
    header = header_html(ctx)
    assert "Sections skipped for lack of data:" in header and header.count("<li>") == 1
    with pytest.raises(ReportError, match=r"Got 'birthday' instead.*Did you mean 'birthdays'"):
        ctx.section("birthday")


def test_save_kpis_writes_the_declared_units_and_warns_about_a_guessed_one(
    store, fake_params, tmp_path
):
    from custkit.units import Kpis

    ctx = make_context(store, fake_params, tmp_path)
    kpis = Kpis({"customers": 120, "model_auc": 0.74, "shares": {"a": 0.4}, "odd": 2.5},
                {"customers": "count", "model_auc": "score", "shares": "share"})  # fmt: skip
    with pytest.warns(UserWarning, match=r"odd: number.*units=\{name: unit\}"):
        path = ctx.save_kpis(kpis)
    units = json.loads(path.read_text(encoding="utf-8"))["units"]
    assert units == {
        "customers": "count", "model_auc": "score", "shares.a": "share", "odd": "number"
    }  # fmt: skip
    path = ctx.save_kpis(kpis, units={"odd": "ratio"})  # declared by the caller: no warning
    assert json.loads(path.read_text(encoding="utf-8"))["units"]["odd"] == "ratio"
    frame = ctx.history_comparison()  # read back from the file, units included
    assert dict(zip(frame["kpi"], frame["unit"], strict=True)) == {
        "customers": "count", "model_auc": "score", "odd": "ratio"
    }  # fmt: skip
    with pytest.raises(ValueError, match="must be one of"):
        ctx.save_kpis(kpis, units={"odd": "RUB"})
