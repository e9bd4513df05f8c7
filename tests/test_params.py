import pytest

from custkit.errors import ParamsError
from custkit.params import load_params, parse_params


def _write(tmp_path, text):
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_relative_source_paths_resolve_against_the_params_folder(tmp_path):
    params = load_params(_write(tmp_path, "sources:\n  orders: {path: data/o.csv}\n"))
    assert params.sources["orders"].path == str(tmp_path / "data" / "o.csv")
    assert params.store_name == "Store"


def test_unknown_section_names_the_key_and_a_close_match(tmp_path):
    path = _write(tmp_path, "sources:\n  orders: o.csv\naudti:\n  lapse_days: 1\n")
    with pytest.raises(ParamsError) as err:
        load_params(path)
    text = str(err.value)
    assert "unknown section 'audti'" in text and "Did you mean 'audit'" in text
    assert str(path) in text


def test_unknown_source_option_and_column_are_errors():
    with pytest.raises(ParamsError, match=r"sources\.orders\.encodng.*Did you mean 'encoding'"):
        parse_params({"sources": {"orders": {"path": "o.csv", "encodng": "cp1251"}}})
    with pytest.raises(ParamsError, match=r"maps 'revenu'.*Did you mean 'revenue'"):
        parse_params({"sources": {"orders": {"path": "o.csv", "columns": {"revenu": "Sum"}}}})


def test_orders_source_is_required_and_needs_exactly_one_location():
    with pytest.raises(ParamsError, match="no 'sources' section"):
        parse_params({"store": {"name": "x"}})
    with pytest.raises(ParamsError, match="no 'orders' entry"):
        parse_params({"sources": {"customers": "c.csv"}})
    with pytest.raises(ParamsError, match="exactly one of 'path'"):
        parse_params({"sources": {"orders": {"path": "o.csv", "url": "sqlite://"}}})


def test_bad_values_are_quoted_in_the_error():
    with pytest.raises(ParamsError, match=r"decimal must be '\.' or ','\. Got ';' instead"):
        parse_params({"sources": {"orders": {"path": "o.csv", "decimal": ";"}}})
    with pytest.raises(ParamsError, match=r"store\.opened must be a date"):
        parse_params({"store": {"opened": "soon"}, "sources": {"orders": "o.csv"}})


def test_missing_file_and_bad_yaml_are_params_errors(tmp_path):
    with pytest.raises(ParamsError, match="does not exist"):
        load_params(tmp_path / "nope.yaml")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(_write(tmp_path, "sources: [unclosed\n"))


def test_database_password_in_the_url_is_refused_and_masked(monkeypatch):
    with pytest.raises(ParamsError, match="password_env") as err:
        parse_params(
            {"sources": {"orders": {"url": "postgresql://u:secret@db/shop", "table": "orders"}}}
        )
    assert "secret" not in str(err.value)
    monkeypatch.setenv("SHOP_URL", "postgresql://u:secret@db/shop")
    params = parse_params({"sources": {"orders": {"url_env": "SHOP_URL", "table": "orders"}}})
    assert "secret" not in params.sources["orders"].description


def test_every_params_file_shipped_in_params_folder_parses():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "params"
    # schedule.yaml is the schedule of runs, not a store's params (tests/schedule reads it)
    files = sorted(f for f in folder.glob("*.yaml") if f.name != "schedule.yaml")
    assert files, "params/ should ship at least the demo params"
    for file in files:
        params = load_params(file)
        assert "orders" in params.sources
        assert ".." not in params.sources["orders"].path


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Moscow", "Did you mean 'Europe/Moscow'"),
        ("Europe/Moskow", "Did you mean 'Europe/Moscow'"),
        ("Mars/Olympus", "Got 'Mars/Olympus' instead"),
        (3, "Got 3 instead"),
        ("", "Got '' instead"),
        ("../../etc/passwd", "Got '../../etc/passwd' instead"),
    ],
)
def test_store_timezone_must_be_an_iana_name(value, message):
    with pytest.raises(ParamsError, match=r"store\.timezone must be an IANA time zone name") as err:
        parse_params({"store": {"timezone": value}, "sources": {"orders": "o.csv"}})
    assert message in str(err.value)


def test_store_timezone_is_read_from_params():
    sources = {"orders": "o.csv"}
    store = {"timezone": "Europe/Moscow"}
    assert parse_params({"store": store, "sources": sources}).timezone == "Europe/Moscow"
    assert parse_params({"sources": sources}).timezone is None
