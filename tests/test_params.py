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


BAD_SOURCE_OPTIONS = {
    "unknown encoding": ({"encoding": "utf-99"}, r"encoding must be an encoding Python knows"),
    "encoding not text": ({"encoding": 1251}, r"encoding must be .* Got 1251 instead"),
    "sep a number": ({"sep": 5}, r"sep must be one character .* Got 5 instead"),
    "sep two characters": ({"sep": ";;"}, r"sep must be one character"),
    "sep a quote": ({"sep": '"'}, r"sep must be one character other than a quote"),
    "decimal a number": ({"decimal": 5}, r"decimal must be '\.' or ','\. Got 5 instead"),
    "thousands two characters": ({"thousands": "  "}, r"thousands must be one character"),
    "thousands a digit": ({"thousands": "0"}, r"thousands must be one character"),
    "thousands equal to decimal": (
        {"decimal": ",", "thousands": ","},
        r"thousands and sources\.orders\.decimal must differ",
    ),
    "unknown date directive": ({"date_format": "%Q"}, r"date_format must be .*not %Q"),
    "date format without a date": ({"date_format": "%H:%M"}, r"date_format must be a date"),
    "date format not text": ({"date_format": 20240101}, r"date_format must be text"),
    "dayfirst text": ({"dayfirst": "yes"}, r"dayfirst must be true or false"),
    "negative sheet": ({"sheet": -1}, r"sheet must be a sheet's name, its number from 0"),
    "sheet a list": ({"sheet": ["a"]}, r"sheet must be"),
    "query with a path": ({"query": "select 1"}, r"reads a file \(path\); 'query' is for"),
    "table with a path": ({"table": "orders"}, r"reads a file \(path\); 'table' is for"),
}


@pytest.mark.parametrize("case", BAD_SOURCE_OPTIONS, ids=list(BAD_SOURCE_OPTIONS))
def test_source_options_are_checked_by_type_and_value(case):
    options, message = BAD_SOURCE_OPTIONS[case]
    with pytest.raises(ParamsError, match=message):
        parse_params({"sources": {"orders": {"path": "o.csv", **options}}})


@pytest.mark.parametrize(
    "options",
    [
        {"encoding": "cp1251", "sep": ";", "decimal": ",", "thousands": " "},
        {"sep": "\t", "date_format": "%d.%m.%Y %H:%M", "dayfirst": True},
        {"sheet": "all"},
        {"sheet": 2},
        {"date_format": "ISO8601"},
    ],
)
def test_good_source_options_pass(options):
    spec = parse_params({"sources": {"orders": {"path": "o.csv", **options}}}).sources["orders"]
    for key, value in options.items():
        assert getattr(spec, key) == value


@pytest.mark.parametrize(
    ("opened", "expected"),
    [
        (20240101, "2024-01-01"),
        ("20240101", "2024-01-01"),
        ("2024-01-01", "2024-01-01"),
        (__import__("datetime").date(2024, 1, 1), "2024-01-01"),
    ],
)
def test_store_opened_accepts_dates_and_the_yyyymmdd_form(opened, expected):
    params = parse_params({"store": {"opened": opened}, "sources": {"orders": "o.csv"}})
    assert params.opened == __import__("pandas").Timestamp(expected)


@pytest.mark.parametrize("opened", [20241301, 2024, "01/02/2024", True, 1.5, "soon"])
def test_store_opened_that_is_not_a_date_is_refused(opened):
    with pytest.raises(ParamsError, match=r"store\.opened must be a date like 2019-03-01"):
        parse_params({"store": {"opened": opened}, "sources": {"orders": "o.csv"}})


@pytest.mark.parametrize(("key", "value"), [("name", 585), ("currency", ["RUB"]), ("name", True)])
def test_store_name_and_currency_must_be_text(key, value):
    with pytest.raises(ParamsError, match=rf"store\.{key} must be text"):
        parse_params({"store": {key: value}, "sources": {"orders": "o.csv"}})


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("sources:\n  orders: o.csv\n  orders: p.csv\n", "lines 2 and 3"),
        ("store:\n  name: a\nsources: {orders: o.csv}\nstore:\n  name: b\n", "lines 1 and 4"),
        ("sources:\n  orders: {path: o.csv, sep: ';', sep: ','}\n", "lines 2 and 2"),
    ],
)
def test_duplicate_yaml_keys_are_refused_with_their_lines(tmp_path, text, line):
    with pytest.raises(ParamsError, match=rf"key '\w+' appears twice.*\({line}\)"):
        load_params(_write(tmp_path, text))


def test_yaml_merge_keys_still_work(tmp_path):
    text = (
        "sources:\n  customers: &csv {path: c.csv, encoding: cp1251}\n"
        "  orders:\n    <<: *csv\n    path: o.csv\n"
    )
    params = load_params(_write(tmp_path, text))
    assert params.sources["orders"].encoding == "cp1251"
    assert params.sources["orders"].path.endswith("o.csv")


BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)


def test_yaml_alias_bombs_are_refused_before_they_cost_memory(tmp_path):
    import tracemalloc

    path = _write(tmp_path, BILLION_LAUGHS + "sources: {orders: o.csv}\n")
    assert path.stat().st_size < 500
    tracemalloc.start()
    with pytest.raises(ParamsError, match=r"aliases expand to more than 10,000 values"):
        load_params(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5 * 2**20


def test_the_schedule_file_is_read_as_strictly(tmp_path):
    from custkit.schedule.jobs import load_schedule

    path = _write(tmp_path, "jobs:\n  - name: a\n    name: b\n")
    with pytest.raises(ParamsError, match=r"schedule file .* key 'name' appears twice"):
        load_schedule(path)
    path = _write(tmp_path, BILLION_LAUGHS + "jobs: []\n")
    with pytest.raises(ParamsError, match=r"schedule file .* aliases expand"):
        load_schedule(path)


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
