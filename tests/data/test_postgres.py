"""A real PostgreSQL server as a source: the same store and report as from Parquet, no password out.

The tests start their own throwaway server (one per session): the server binaries of the
``pgserver`` wheel (a dev dependency, so CI has them) or, without it, a system PostgreSQL
(``initdb``/``pg_ctl`` on PATH or under ``/usr/lib/postgresql/*/bin``). It lives in a temporary
folder, listens on 127.0.0.1 on a free port and asks for passwords (scram-sha-256), so a wrong
password is really refused. ``initdb`` refuses to run as root: as root, the server runs as the
unprivileged ``nobody`` user. The tests are skipped only when there is no server binary at all.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import logging
import math
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
import yaml

from custkit.cli import main
from custkit.contract import TABLES
from custkit.data import load_store, readers
from custkit.errors import DataError, ParamsError
from custkit.params import parse_params
from custkit.reports import run_report

TODAY = "2026-11-23"
OPENED = "2024-11-15"
READER = "custkit_reader"
PASSWORD_ENV = "CUSTKIT_TEST_DB_PASSWORD"
URL_ENV = "CUSTKIT_TEST_DB_URL"
WRONG_ENV = "CUSTKIT_TEST_WRONG_PASSWORD"
# distinctive and random; '@', '/', ':' and '%' must be escaped in a URL, and a leak in either
# spelling still shows its hex core
SECRET_CORE = secrets.token_hex(12)
PASSWORD = f"pw{SECRET_CORE}@/:%"
WRONG_CORE = secrets.token_hex(12)
WRONG_PASSWORD = f"wrong{WRONG_CORE}"


# --- the server -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """A running throwaway PostgreSQL server."""

    port: int
    admin_password: str

    def url(
        self, database: str = "postgres", user: str = "postgres", password: str | None = None
    ) -> sa.URL:
        return sa.URL.create("postgresql+psycopg", user, password, "127.0.0.1", self.port, database)

    def admin_engine(self, database: str = "postgres") -> sa.Engine:
        url = self.url(database, password=self.admin_password)
        return sa.create_engine(url, isolation_level="AUTOCOMMIT")


def _server_binaries() -> Path | None:
    """Folder with initdb, pg_ctl and postgres: the pgserver wheel's, else the system's."""
    spec = importlib.util.find_spec("pgserver")  # found, not imported: importing has side effects
    if spec and spec.origin:
        folder = Path(spec.origin).parent / "pginstall" / "bin"
        if (folder / "initdb").exists():
            return folder
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl", path=str(Path(on_path).parent)):
        return Path(on_path).parent
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(debian[-1]).parent if debian else None


def _run_as(account: dict) -> dict:
    """subprocess options running a command as the server's account."""
    return {"user": account["uid"], "group": account["gid"], "extra_groups": []} if account else {}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _reachable(binaries: Path, account: dict, root: Path) -> Path:
    """*binaries*, or a copy in *root* when the server's account cannot run them from there."""
    try:
        probe = [binaries / "initdb", "--version"]
        usable = subprocess.run(probe, capture_output=True, **_run_as(account)).returncode == 0
    except OSError:
        usable = False
    if usable:
        return binaries
    # 'nobody' cannot reach the install folder (e.g. a clone under /root): copy the wheel's
    # server, and the libraries beside its package that the binaries' RPATH points to
    package = binaries.parent.parent
    copy = root / "install" / package.name / binaries.parent.name
    shutil.copytree(binaries.parent, copy, ignore=shutil.ignore_patterns("include"))
    libs = package.parent / f"{package.name}.libs"
    if libs.is_dir():
        shutil.copytree(libs, root / "install" / libs.name)
    return copy / "bin"


def _start_server(binaries: Path, account: dict, root: Path) -> Server:
    """initdb a cluster in *root* and start it; fail the session with the server's own words."""
    admin_password = secrets.token_hex(16)
    password_file = root / "admin-password"
    password_file.write_text(admin_password + "\n")
    if account:
        os.chown(password_file, account["uid"], account["gid"])
    data, log = root / "data", root / "server.log"
    initdb = [binaries / "initdb", "-D", data, "-U", "postgres", "--auth=scram-sha-256"]
    initdb += [f"--pwfile={password_file}", "--encoding=UTF8", "--locale=C", "--no-sync"]
    made = subprocess.run(initdb, capture_output=True, text=True, **_run_as(account))
    password_file.unlink()
    if made.returncode != 0:
        pytest.fail(f"initdb failed:\n{made.stderr}")
    port = _free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
    options += " -c synchronous_commit=off -c full_page_writes=off"
    started = subprocess.run(
        [binaries / "pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "-o", options, "start"],
        capture_output=True,
        text=True,
        **_run_as(account),
    )
    if started.returncode != 0:
        pytest.fail(f"PostgreSQL did not start:\n{log.read_text() if log.exists() else ''}")
    return Server(port, admin_password)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    pytest.importorskip("psycopg", reason="the PostgreSQL driver psycopg is not installed")
    binaries = _server_binaries()
    if binaries is None:
        pytest.skip(
            "no PostgreSQL server binaries: install the dev extra (pip install -e '.[dev]', "
            "which brings the pgserver wheel) or PostgreSQL's initdb and pg_ctl"
        )
    account: dict = {}
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        try:
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            pytest.skip("running as root and there is no 'nobody' account to run PostgreSQL as")
        account = {"uid": nobody.pw_uid, "gid": nobody.pw_gid}
    root = Path(tempfile.mkdtemp(prefix="custkit-pg-"))
    try:
        if account:
            os.chown(root, account["uid"], account["gid"])
            binaries = _reachable(binaries, account, root)
        yield _start_server(binaries, account, root)
    finally:
        if (root / "data" / "postmaster.pid").exists():
            # were this to fail, the server stops itself within a minute of losing its folder
            stop = [binaries / "pg_ctl", "-D", root / "data", "-m", "immediate", "-w", "stop"]
            subprocess.run(stop, capture_output=True, **_run_as(account))
        shutil.rmtree(root, ignore_errors=True)


# --- the demo store, as Parquet files and in the database -----------------------------------------


@dataclass(frozen=True)
class Demo:
    """The demo store as Parquet files and in the server's database ``shop``, with params."""

    folder: Path
    parquet_params: Path
    postgres_params: Path
    rows: dict[str, int]


def _write_params(path: Path, sources: dict) -> Path:
    params = {"store": {"name": "Demo store", "currency": "RUB", "opened": OPENED}}
    path.write_text(yaml.safe_dump({**params, "sources": sources}, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def credentials(server) -> Iterator[None]:
    """The reader's password and URL in the environment (report kernels inherit it)."""
    url = server.url("shop", READER, PASSWORD).render_as_string(hide_password=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PASSWORD_ENV, PASSWORD)
        patch.setenv(URL_ENV, url)
        patch.setenv(WRONG_ENV, WRONG_PASSWORD)
        yield


@pytest.fixture(scope="session")
def demo(server, credentials, tmp_path_factory) -> Demo:
    from custkit.data.demo import generate_demo_store

    folder = tmp_path_factory.mktemp("pg-demo")
    store = generate_demo_store(1_500, seed=3)
    with server.admin_engine().connect() as conn:
        conn.execute(sa.text("CREATE DATABASE shop"))
        conn.execute(sa.text(f"CREATE ROLE {READER} LOGIN PASSWORD '{PASSWORD}'"))
    engine = server.admin_engine("shop")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA crm"))
    for name in TABLES:
        frame = store[name]
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), folder / f"{name}.pq")
        plain = frame.copy()
        for column in frame.columns:  # categories go in as text, as a store's database has them
            if isinstance(frame[column].dtype, pd.CategoricalDtype):
                plain[column] = frame[column].astype(object).where(frame[column].notna(), None)
        schema = "crm" if name == "customers" else None
        plain.to_sql(name, engine, schema=schema, index=False, chunksize=5_000)
    with engine.begin() as conn:
        for schema in ("public", "crm"):
            conn.execute(sa.text(f"GRANT USAGE ON SCHEMA {schema} TO {READER}"))
            conn.execute(sa.text(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {READER}"))
    engine.dispose()

    url = server.url("shop", READER).render_as_string()
    parquet = {name: {"path": f"{name}.pq"} for name in TABLES}
    postgres = {  # every way of naming a database source, one per table
        "orders": {"url": url, "password_env": PASSWORD_ENV, "table": "orders"},
        "customers": {"url": url, "password_env": PASSWORD_ENV, "table": "crm.customers"},
        "feedback": {"url": url, "password_env": PASSWORD_ENV, "query": "select * from feedback"},
        "messages": {"url_env": URL_ENV, "table": "messages"},
        "experiments": {"url": url, "password_env": PASSWORD_ENV, "table": "experiments"},
    }
    return Demo(
        folder,
        _write_params(folder / "parquet.yaml", parquet),
        _write_params(folder / "postgres.yaml", postgres),
        {name: len(store[name]) for name in TABLES},
    )


def _leaks(text: str) -> list[str]:
    """Spellings of the passwords found in *text*."""
    spellings = {SECRET_CORE, PASSWORD, quote(PASSWORD, safe=""), WRONG_CORE}
    return [s for s in spellings if s in text]


def _error_text(error: BaseException) -> str:
    """Everything a traceback of *error* prints, chained exceptions included."""
    return "".join(traceback.format_exception(error))


# --- (a) the same store -------------------------------------------------------------------------


def _in_value_order(frame: pd.DataFrame) -> pd.DataFrame:
    """*frame* sorted by its values, categories as plain text.

    A database table has no row order (PostgreSQL puts a later row in an earlier page when it
    fits), and a Parquet file's categories keep the order they were written in.
    """
    categories = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    plain = frame.astype(dict.fromkeys(categories, object))
    return plain.sort_values(list(plain.columns)).reset_index(drop=True)


def test_store_from_postgres_equals_store_from_parquet(demo):
    from_parquet = load_store(demo.parquet_params, today=TODAY)
    from_postgres = load_store(demo.postgres_params, today=TODAY)
    for name in TABLES:
        expected, got = from_parquet.accounting[name], from_postgres.accounting[name]
        assert got.read == expected.read == demo.rows[name]
        assert (got.accepted, got.rejected) == (expected.accepted, expected.rejected)
        assert dict(got.reasons) == dict(expected.reasons)
        pd.testing.assert_frame_equal(
            _in_value_order(getattr(from_postgres, name)),
            _in_value_order(getattr(from_parquet, name)),
            check_dtype=False,
        )
        assert len(from_postgres.rejected[name]) == expected.rejected
    assert from_parquet.accounting["orders"].rejected > 0  # the demo's dirty rows came through
    assert (
        "postgresql+psycopg://custkit_reader@127.0.0.1" in from_postgres.accounting["orders"].source
    )


# --- (b) the same report, (c) no password in it -------------------------------------------------


@pytest.fixture(scope="session")
def reports(demo, tmp_path_factory):
    out = tmp_path_factory.mktemp("pg-reports")
    from_parquet = run_report("audit", demo.parquet_params, out_dir=out / "parquet")
    from_postgres = run_report("audit", demo.postgres_params, out_dir=out / "postgres")
    return out, from_parquet, from_postgres


def _comparable(kpis_file: Path) -> dict:
    document = json.loads(kpis_file.read_text(encoding="utf-8"))
    document.pop("generated_at", None)
    for table in document.get("accounting", {}).values():
        table.pop("source", None)
    return document


def test_audit_report_from_postgres_has_the_same_kpis_as_from_parquet(reports):
    _, from_parquet, from_postgres = reports
    assert from_parquet.ok, from_parquet.error
    assert from_postgres.ok, from_postgres.error
    assert _comparable(from_postgres.kpis) == _comparable(from_parquet.kpis)
    assert _comparable(from_postgres.kpis)["kpis"]["orders"] > 0


def test_no_output_file_of_a_report_holds_the_password(reports, demo):
    out, _, _ = reports
    # a failed run too: its failure page and executed notebook quote the error
    wrong = yaml.safe_load(demo.postgres_params.read_text())
    wrong["sources"]["orders"]["password_env"] = WRONG_ENV
    failed = run_report(
        "audit", _write_params(demo.folder / "wrong.yaml", wrong["sources"]), out_dir=out
    )
    assert not failed.ok and "password authentication failed" in failed.error
    assert not _leaks(failed.error)
    files = [path for path in out.rglob("*") if path.is_file()]
    kinds = {path.suffix for path in files}
    assert {".html", ".json", ".ipynb", ".csv"} <= kinds
    for path in files:
        assert not _leaks(path.read_bytes().decode("utf-8", errors="replace")), path


def test_no_log_record_and_no_cli_output_holds_the_password(demo, caplog, capsys, tmp_path):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy")  # statements, pool and connections
    params = str(demo.postgres_params)
    assert main(["validate", "--params", params, "--json", "--quarantine", str(tmp_path)]) == 0
    assert caplog.records
    assert not _leaks("\n".join(r.getMessage() for r in caplog.records))
    printed = capsys.readouterr()
    assert "custkit_reader@127.0.0.1" in printed.out  # each table's source, masked
    assert not _leaks(printed.out + printed.err)
    quarantine = list(tmp_path.glob("*.csv"))
    assert quarantine
    for path in quarantine:
        assert not _leaks(path.read_text(encoding="utf-8-sig")), path


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"table": "order"}, "no table 'order' in the database. Did you mean 'orders'"),
        ({"password_env": WRONG_ENV}, "password authentication failed"),
        ({"table": None, "query": "select * from orders where"}, "syntax error"),
        ({"columns": {"revenue": "amount"}}, "'amount', which is not in the file"),
        ({"url": "postgresql+psycopg://custkit_reader@127.0.0.1:1/shop"}, "connection"),
    ],
    ids=["wrong-table", "wrong-password", "bad-query", "wrong-column", "no-server"],
)
def test_database_errors_say_what_is_wrong_without_the_password(demo, change, expected):
    source = yaml.safe_load(demo.postgres_params.read_text())["sources"]["orders"]
    source = {k: v for k, v in {**source, **change}.items() if v is not None}
    params = parse_params(
        {"store": {"opened": OPENED}, "sources": {"orders": source}}, path=demo.postgres_params
    )
    with pytest.raises(DataError, match=expected) as error:
        load_store(params, today=TODAY)
    assert "custkit_reader@127.0.0.1" in str(error.value)
    assert not _leaks(_error_text(error.value))


def test_url_env_with_a_bad_port_fails_without_quoting_its_password(demo, monkeypatch):
    url = sa.make_url(os.environ[URL_ENV]).set(port=1).render_as_string(hide_password=False)
    monkeypatch.setenv("CUSTKIT_TEST_BAD_URL", url)
    params = parse_params(
        {"sources": {"orders": {"url_env": "CUSTKIT_TEST_BAD_URL", "table": "orders"}}}
    )
    assert not _leaks(params.sources["orders"].description + repr(params))
    with pytest.raises(DataError) as error:
        load_store(params, today=TODAY)
    assert not _leaks(_error_text(error.value))


def test_database_types_arrive_as_custkit_reads_them(demo, server):
    query = """
        select 1::bigint as order_id,
               'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid as customer_id,
               timestamptz '2025-03-01 10:00:00+03' as order_date,
               1234.50::numeric(12, 2) as revenue,
               date '2025-03-02' as delivered_at
    """
    # the session's time zone does not matter: aware times go to store.timezone (else UTC)
    url = server.url("shop", READER).update_query_dict({"options": "-c timezone=Asia/Tokyo"})
    source = {"url": url.render_as_string(), "password_env": PASSWORD_ENV, "query": query}
    store = {"timezone": "Europe/Moscow"}
    params = parse_params({"store": store, "sources": {"orders": source}})
    orders = load_store(params, today=TODAY).orders
    row = orders.iloc[0]
    assert row["customer_id"] == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"  # a UUID, as text
    assert row["order_date"] == pd.Timestamp("2025-03-01 10:00")  # Moscow's wall clock
    utc = load_store(parse_params({"sources": {"orders": source}}), today=TODAY)
    assert utc.orders.iloc[0]["order_date"] == pd.Timestamp("2025-03-01 07:00")
    assert any("UTC" in note for note in utc.accounting["orders"].notes)
    assert row["revenue"] == 1234.5 and orders["revenue"].dtype == "float64"
    assert row["delivered_at"] == pd.Timestamp("2025-03-02")


# --- (d) streaming ------------------------------------------------------------------------------


def test_database_rows_arrive_in_chunks_from_a_server_side_cursor(demo, server, monkeypatch):
    chunk_rows = 250
    monkeypatch.setattr(readers, "SQL_CHUNK_ROWS", chunk_rows)
    convert, chunks, statements = readers._arrow_chunk, [], []

    def spy(rows, positions, names):
        chunks.append(len(rows))
        if len(chunks) == 1:  # mid-stream: what is the reading session doing?
            with server.admin_engine().connect() as conn:
                statements.extend(
                    conn.execute(
                        sa.text("select query from pg_stat_activity where usename = :user"),
                        {"user": READER},
                    ).scalars()
                )
        return convert(rows, positions, names)

    monkeypatch.setattr(readers, "_arrow_chunk", spy)
    orders = load_store(demo.postgres_params, tables=["orders"], today=TODAY).accounting["orders"]
    assert orders.read == demo.rows["orders"]
    assert sum(chunks) == demo.rows["orders"] and max(chunks) == chunk_rows
    assert len(chunks) == math.ceil(demo.rows["orders"] / chunk_rows)
    # psycopg reads through a named cursor: the database holds the rest of the result
    assert any(s.lstrip().upper().startswith(("FETCH", "DECLARE")) for s in statements), statements


# --- params: credentials never in the file --------------------------------------------------------


def _source(**options) -> dict:
    return {"sources": {"orders": {"table": "orders", **options}}}


def test_a_password_written_in_the_url_is_refused_and_not_repeated():
    for url in (
        "postgresql+psycopg://shop:hunter2secret@db:5432/shop",
        "postgresql+psycopg://shop@db/shop?password=hunter2secret",
    ):
        with pytest.raises(ParamsError, match="password_env") as error:
            parse_params(_source(url=url))
        assert "hunter2secret" not in str(error.value)
        assert "url: postgresql+psycopg://shop@db" in str(error.value)


def test_env_options_must_name_a_variable_and_the_value_is_not_quoted():
    with pytest.raises(ParamsError, match="must be the name of an environment variable") as error:
        parse_params(_source(url="postgresql+psycopg://shop@db/shop", password_env="s3cr3t!pw"))
    assert "s3cr3t!pw" not in str(error.value)
    with pytest.raises(ParamsError, match="both url_env and password_env"):
        parse_params(_source(url_env="SHOP_URL", password_env="SHOP_PASSWORD"))
    with pytest.raises(ParamsError, match="exactly one of 'path'"):
        parse_params(_source(url="sqlite://", url_env="SHOP_URL"))
    with pytest.raises(ParamsError, match="password_env is for database sources"):
        parse_params({"sources": {"orders": {"path": "o.csv", "password_env": "SHOP_PASSWORD"}}})


def test_a_missing_variable_is_named_when_the_source_is_read(monkeypatch):
    monkeypatch.delenv("CUSTKIT_TEST_UNSET", raising=False)
    for options in (
        {"url": "postgresql+psycopg://shop@db/shop", "password_env": "CUSTKIT_TEST_UNSET"},
        {"url_env": "CUSTKIT_TEST_UNSET"},
    ):
        params = parse_params(_source(**options))  # parsing never reads the environment
        with pytest.raises(ParamsError, match="CUSTKIT_TEST_UNSET is not set"):
            load_store(params, today=TODAY)
    monkeypatch.setenv("CUSTKIT_TEST_UNSET", "not a url, secret9")
    with pytest.raises(ParamsError, match="does not hold a database URL") as error:
        load_store(parse_params(_source(url_env="CUSTKIT_TEST_UNSET")), today=TODAY)
    assert "secret9" not in str(error.value)
