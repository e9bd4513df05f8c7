"""E-mail after a scheduled run, sent to a real SMTP server (aiosmtpd) the tests start here.

The reports are a fast fake (as in ``test_runner.py``); the server, the login, the MIME message
and the failure paths are real.
"""

import datetime as dt
import email
import email.policy
import json
import socket
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from custkit import i18n
from custkit.cli import main
from custkit.errors import ParamsError
from custkit.reports.registry import get_report
from custkit.reports.run import RunResult
from custkit.schedule import runner
from custkit.schedule.jobs import load_schedule
from custkit.schedule.state import STATE_FILE

PASSWORD = "s3cret-Pa55"
NOW = "2026-12-02T06:00+03:00"
CUSTOMER = "ann.lee@shop.ru"  # a customer's address, in an export and a report's output


class Inbox:
    """aiosmtpd handler keeping every message it receives, and the logins it was offered."""

    def __init__(self):
        self.messages = []
        self.logins = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((mechanism, login, password))
        ok = (login, password) == ("reports@acme.ru", PASSWORD)
        return AuthResult(success=ok, handled=False)  # the server answers 235 or 535


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(monkeypatch):
    from custkit.schedule import mail

    monkeypatch.setattr(mail, "TIMEOUT", 5)
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=inbox.authenticate,
        auth_require_tls=False,  # the test server has no certificate; logins go in clear here
    )
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


class FakeReports:
    """Writes what a run writes (pages, an export with a customer's address, the index)."""

    def __init__(self):
        self.failing = set()
        self.calls = []

    def __call__(
        self, reports, params_file, period=None, out_dir="reports", overrides=None, progress=None
    ):
        out = Path(out_dir)
        results = []
        for report in reports:
            self.calls.append(report)
            folder = out / period / report
            (folder / "exports").mkdir(parents=True, exist_ok=True)
            (folder / "exports" / "winback.csv").write_text(f"customer_id,email\n1,{CUSTOMER}\n")
            if report in self.failing:
                page = out / period / f"{report}.failed.html"
                page.write_text("<html>failed step</html>", encoding="utf-8")
                error = "Step 'Base health' failed: ValueError: lapse threshold is negative"
                results.append(RunResult(report, period, "failed", page, None, error, 2.0))
            else:
                page = folder / f"{report}.html"
                page.write_text(f"<html>{report} page</html>", encoding="utf-8")
                results.append(RunResult(report, period, "ok", page, None, None, 3.0))
        (out / "index.html").write_text("<html>index of reports</html>", encoding="utf-8")
        return results


@pytest.fixture
def fake(monkeypatch):
    reports = FakeReports()
    monkeypatch.setattr(runner, "run_reports", reports)
    return reports


def mail_section(smtp, **changes):
    section = {
        "host": "127.0.0.1",
        "port": smtp.port,
        "security": "none",
        "user": "reports@acme.ru",
        "password_env": "CUSTKIT_TEST_SMTP_PASSWORD",
        "from": "reports@acme.ru",
        "to": ["manager@acme.ru", "analyst@acme.ru"],
        "link_base": "https://reports.acme.ru/acme/",
    }
    section.update(changes)
    return {k: v for k, v in section.items() if v is not None}


def write_schedule(folder, mail, job_mail=None, language="en"):
    (folder / "acme.yaml").write_text(f"language: {language}\n", encoding="utf-8")
    job = {
        "name": "acme",
        "params": "acme.yaml",
        "reports": ["audit", "ltv"],
        "cron": "0 6 2 * *",
        "timezone": "Europe/Moscow",
        "out": "out",
    }
    if job_mail is not None:
        job["mail"] = job_mail
    document = {"jobs": [job]}
    if mail is not None:
        document["mail"] = mail
    path = folder / "schedule.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def run(schedule):
    return main(["schedule", "run", "--file", str(schedule), "--now", NOW])


def state(tmp_path):
    return json.loads((tmp_path / "out" / STATE_FILE).read_text(encoding="utf-8"))["jobs"]


def attachments(message):
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


def whole_text(message):
    return message.as_string()


@pytest.fixture
def password(monkeypatch):
    monkeypatch.setenv("CUSTKIT_TEST_SMTP_PASSWORD", PASSWORD)


def test_a_finished_run_mails_the_page_and_the_reports_written_after_logging_in(
    smtp, fake, password, tmp_path, capsys
):
    schedule = write_schedule(tmp_path, mail_section(smtp))
    assert run(schedule) == 0

    assert smtp.logins and smtp.logins[-1][1:] == ("reports@acme.ru", PASSWORD)
    ((sender, recipients, message),) = smtp.messages
    assert sender == "reports@acme.ru"
    assert recipients == ["manager@acme.ru", "analyst@acme.ru"]
    assert message["Subject"] == "acme: 2 reports for November 2026 are ready"
    body = message.get_body(("plain",)).get_content()
    assert "- Customer audit: https://reports.acme.ru/acme/2026-11/audit/audit.html" in body
    assert "- Customer lifetime value: https://reports.acme.ru/acme/2026-11/ltv/ltv.html" in body
    assert "All reports: https://reports.acme.ru/acme/index.html" in body
    assert attachments(message) == {"index.html": "<html>index of reports</html>"}
    assert CUSTOMER not in whole_text(message) and PASSWORD not in whole_text(message)
    record = state(tmp_path)["acme"]["periods"]["2026-11"]
    assert record["status"] == "ok" and record["mail"].startswith("sent ")
    assert record["mail"].endswith(" to 2 recipients")
    assert capsys.readouterr().err == ""


def test_the_period_summary_page_is_attached_instead_of_the_index_once_a_run_writes_it(
    smtp, fake, password, tmp_path
):
    summary = tmp_path / "out" / "2026-11" / "summary.html"
    summary.parent.mkdir(parents=True)
    summary.write_text("<html>five figures</html>", encoding="utf-8")
    assert run(write_schedule(tmp_path, mail_section(smtp))) == 0
    ((_, _, message),) = smtp.messages
    assert attachments(message) == {"2026-11-summary.html": "<html>five figures</html>"}
    assert "All reports: https://reports.acme.ru/acme/2026-11/summary.html" in (
        message.get_body(("plain",)).get_content()
    )


def test_a_failed_report_sends_a_failure_notice_with_its_failure_page_and_the_log(
    smtp, fake, password, tmp_path
):
    fake.failing = {"ltv"}
    assert run(write_schedule(tmp_path, mail_section(smtp, link_base=None))) == 1

    ((_, _, message),) = smtp.messages
    assert message["Subject"] == "acme: the run for November 2026 failed"
    body = message.get_body(("plain",)).get_content()
    out = tmp_path / "out"
    assert f"- Customer audit: {out / '2026-11' / 'audit' / 'audit.html'}" in body
    assert "- Customer lifetime value: failed: Step 'Base health' failed: ValueError" in body
    assert str(out / "2026-11" / "ltv.failed.html") in body
    assert "The run's log is " + str(out / "logs") in body
    assert attachments(message) == {
        "index.html": "<html>index of reports</html>",
        "2026-11-ltv.failed.html": "<html>failed step</html>",
    }
    assert CUSTOMER not in whole_text(message)


def test_a_job_that_could_not_start_any_report_sends_a_failure_notice(
    smtp, fake, password, tmp_path, monkeypatch
):
    def refuse(*args, **kwargs):
        raise ParamsError(f"acme.yaml: contact '{CUSTOMER}' is not a column.")

    monkeypatch.setattr(runner, "run_reports", refuse)
    assert run(write_schedule(tmp_path, mail_section(smtp))) == 1
    ((_, _, message),) = smtp.messages
    body = message.get_body(("plain",)).get_content()
    assert message["Subject"] == "acme: the run for November 2026 failed"
    assert "- no report could start: acme.yaml: contact '<e-mail>' is not a column." in body
    assert CUSTOMER not in whole_text(message)
    summary = attachments(message)["2026-11-summary.html"]  # the month's page, rebuilt
    assert summary.count("failed this month") == 2 and 'href="audit.failed.html"' in summary


def test_a_russian_job_writes_its_message_in_russian(smtp, fake, password, tmp_path):
    assert run(write_schedule(tmp_path, mail_section(smtp), language="ru")) == 0
    ((_, _, message),) = smtp.messages
    assert message["Subject"] == "acme: 2 отчёта за ноябрь\u00a02026 готовы"
    body = message.get_body(("plain",)).get_content()
    assert "Отчёты за ноябрь\u00a02026 готовы:" in body
    with i18n.use_language("ru"):
        title = i18n._(get_report("ltv").title)  # the title as the Russian reports call it
    assert f"- {title}: https://" in body and "- ltv:" not in body  # titles, not codes


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"password_env": "CUSTKIT_TEST_WRONG_PASSWORD"}, "SMTPAuthenticationError: (535"),
        ({"security": "starttls"}, "SMTPNotSupportedError: STARTTLS extension not supported"),
        ({"_closed": True}, "ConnectionRefusedError"),
    ],
    ids=["login refused", "no STARTTLS", "server down"],
)  # fmt: skip
def test_a_message_that_cannot_be_sent_leaves_the_run_done_and_is_logged_and_kept(
    smtp, fake, password, tmp_path, capsys, monkeypatch, change, why
):
    monkeypatch.setenv("CUSTKIT_TEST_WRONG_PASSWORD", "not-it")
    change = dict(change)
    if change.pop("_closed", False):
        change["port"] = free_port()  # nothing listens there
    assert run(write_schedule(tmp_path, mail_section(smtp, **change))) == 0  # the run's status

    assert smtp.messages == []
    record = state(tmp_path)["acme"]["periods"]["2026-11"]
    assert record["status"] == "ok" and record["reports"] == {"audit": "ok", "ltv": "ok"}
    assert record["mail"].startswith("failed ") and why in record["mail"]
    err = capsys.readouterr().err
    assert "acme 2026-11 (due): the e-mail was not sent: failed " in err and why in err
    assert "the reports are done" in err
    (log,) = (tmp_path / "out" / "logs").glob("*.log")
    assert why in log.read_text(encoding="utf-8")
    for text in (err, log.read_text(encoding="utf-8"), json.dumps(record)):
        assert PASSWORD not in text and "not-it" not in text
    # done means done: the next run neither reruns the period nor mails again
    assert run(write_schedule(tmp_path, mail_section(smtp))) == 0
    assert fake.calls == ["audit", "ltv"] and smtp.messages == []


def test_an_unset_password_variable_stops_the_run_before_any_report_with_exit_2(
    smtp, fake, tmp_path, capsys, monkeypatch
):
    monkeypatch.delenv("CUSTKIT_TEST_SMTP_PASSWORD", raising=False)
    assert run(write_schedule(tmp_path, mail_section(smtp))) == 2
    err = capsys.readouterr().err
    assert err.startswith("custkit: error: mail: password_env names the environment variable ")
    assert "CUSTKIT_TEST_SMTP_PASSWORD, which is not set" in err and "Traceback" not in err
    assert fake.calls == [] and smtp.messages == []


def test_send_failures_mails_only_a_failed_run(smtp, fake, password, tmp_path):
    schedule = write_schedule(tmp_path, mail_section(smtp, send="failures"))
    assert run(schedule) == 0 and smtp.messages == []
    fake.failing = {"audit"}
    args = ["schedule", "run", "--file", str(schedule), "--job", "acme", "--period", "2026-10"]
    assert main(args) == 1
    ((_, _, message),) = smtp.messages
    assert message["Subject"] == "acme: the run for October 2026 failed"


def test_a_job_changes_the_recipients_or_sends_nothing(smtp, fake, password, tmp_path):
    schedule = write_schedule(tmp_path, mail_section(smtp), job_mail={"to": "ceo@acme.ru"})
    job = load_schedule(schedule).jobs[0]
    assert job.mail.to == ("ceo@acme.ru",) and job.mail.host == "127.0.0.1"
    assert run(schedule) == 0
    assert [recipients for _, recipients, _ in smtp.messages] == [["ceo@acme.ru"]]
    silent = write_schedule(tmp_path, mail_section(smtp), job_mail=False)
    assert load_schedule(silent).jobs[0].mail is None
    no_section = write_schedule(tmp_path, None)
    assert load_schedule(no_section).jobs[0].mail is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hots": "smtp.acme.ru"}, "mail has an unknown key 'hots'. Did you mean 'host'?"),
        ({"host": None}, "mail has no 'host'"),
        ({"to": None}, "mail has no 'to'"),
        ({"port": "587"}, "mail: port must be a whole number from 1 to 65535"),
        ({"port": 70000}, "mail: port must be a whole number from 1 to 65535"),
        ({"security": "tls"}, "mail: security must be one of starttls, ssl, none. Got 'tls'"),
        ({"from": "reports"}, "mail: from must be an e-mail address"),
        ({"to": ["manager@acme.ru", "boss"]}, "mail: to must be an e-mail address or a list"),
        ({"password_env": None}, "mail: user and password_env go together; add 'password_env'"),
        ({"user": None}, "mail: user and password_env go together; add 'user'"),
        ({"password_env": "s3cret pass"}, "mail: password_env must be the name of an environment"),
        ({"link_base": "reports.acme.ru"}, "mail: link_base must be the URL"),
        ({"send": "never"}, "mail: send must be one of always, failures"),
    ],
)  # fmt: skip
def test_a_bad_mail_section_is_a_params_error_naming_the_key_with_exit_2(
    smtp, fake, password, tmp_path, capsys, change, message
):
    section = {**mail_section(smtp), **change}
    section = {k: v for k, v in section.items() if v is not None}
    schedule = write_schedule(tmp_path, section)
    with pytest.raises(ParamsError, match=message.replace("(", r"\(").replace("?", r"\?")):
        load_schedule(schedule)
    assert run(schedule) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"custkit: error: {schedule}: ") and "Traceback" not in err
    assert fake.calls == [] and smtp.messages == []


@pytest.mark.parametrize(
    "job_mail", [{"prot": 25}, {"to": "nobody"}, "yes"], ids=["unknown key", "to", "not a mapping"]
)
def test_a_bad_mail_section_of_a_job_names_the_job(tmp_path, smtp, job_mail):
    schedule = write_schedule(tmp_path, mail_section(smtp), job_mail=job_mail)
    with pytest.raises(ParamsError, match=r"job 'acme': mail"):
        load_schedule(schedule)


def test_only_html_pages_are_ever_attached(tmp_path):
    from email.message import EmailMessage

    from custkit.schedule.mail import _attach

    out = tmp_path / "out"
    export = out / "2026-11" / "churn" / "exports" / "winback.html"
    export.parent.mkdir(parents=True)
    export.write_text(CUSTOMER)
    csv = out / "2026-11" / "churn" / "churn.kpis.json"
    csv.write_text("{}")
    for path in (export, csv):
        with pytest.raises(ValueError, match="only pages are ever attached"):
            _attach(EmailMessage(), path, out)


def test_the_mail_is_sent_after_the_state_records_the_period(
    smtp, fake, password, tmp_path, monkeypatch
):
    """A run killed while mailing keeps its period: the reports are not run again."""
    seen = []
    real = runner._mail

    def spy(outcome, state_file):
        seen.append(json.loads((tmp_path / "out" / STATE_FILE).read_text())["jobs"])
        return real(outcome, state_file)

    monkeypatch.setattr(runner, "_mail", spy)
    assert run(write_schedule(tmp_path, mail_section(smtp))) == 0
    assert seen[0]["acme"]["periods"]["2026-11"]["status"] == "ok"


def test_mail_dates_and_ids_are_proper_headers(smtp, fake, password, tmp_path):
    assert run(write_schedule(tmp_path, mail_section(smtp))) == 0
    ((_, _, message),) = smtp.messages
    sent = email.utils.parsedate_to_datetime(message["Date"])
    assert abs(sent - dt.datetime.now(ZoneInfo("UTC"))) < dt.timedelta(minutes=5)
    assert message["Message-ID"].endswith("@acme.ru>")


@pytest.fixture
def certificate(tmp_path_factory, monkeypatch):
    """A self-signed certificate for 127.0.0.1, trusted by this process through SSL_CERT_FILE
    (OpenSSL's default verify paths read it), so the client checks it as it would a real one."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("the openssl command makes the test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_starttls_and_ssl_servers_get_the_login_only_over_an_encrypted_connection(
    fake, password, tmp_path, monkeypatch, certificate, security
):
    from custkit.schedule import mail

    monkeypatch.setattr(mail, "TIMEOUT", 5)
    inbox = Inbox()
    # as real servers do: no AUTH before STARTTLS. aiosmtpd 1.4 counts only STARTTLS as
    # encryption for AUTH; with ssl the whole connection is encrypted from the start
    encryption = (
        {"tls_context": certificate, "require_starttls": True, "auth_require_tls": True}
        if security == "starttls"
        else {"ssl_context": certificate, "auth_require_tls": False}
    )
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=inbox.authenticate,
        **encryption,
    )
    controller.start()
    inbox.port = controller.port
    try:
        section = mail_section(inbox, security=security)
        assert run(write_schedule(tmp_path, section)) == 0
    finally:
        controller.stop()
    assert inbox.logins[-1][1:] == ("reports@acme.ru", PASSWORD)
    ((_, _, message),) = inbox.messages
    assert message["Subject"] == "acme: 2 reports for November 2026 are ready"


def test_a_server_certificate_nobody_trusts_is_refused_and_the_run_stays_done(
    fake, password, tmp_path, monkeypatch, certificate
):
    from custkit.schedule import mail

    monkeypatch.setattr(mail, "TIMEOUT", 5)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-ca.pem"))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=inbox.authenticate,
        tls_context=certificate,
        require_starttls=True,
    )
    controller.start()
    inbox.port = controller.port
    try:
        assert run(write_schedule(tmp_path, mail_section(inbox, security="starttls"))) == 0
    finally:
        controller.stop()
    assert inbox.logins == [] and inbox.messages == []
    record = state(tmp_path)["acme"]["periods"]["2026-11"]
    assert record["status"] == "ok" and "SSLCertVerificationError" in record["mail"]
