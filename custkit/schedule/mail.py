"""E-mail after a scheduled run: the period's page and the reports written, or a failure notice.

The schedule file's ``mail`` section says how to send (one SMTP server for every job); a job's
own ``mail`` mapping changes keys for that job (each client's managers get their own reports),
and ``mail: false`` sends nothing for it::

    mail:
      host: smtp.acme.ru
      port: 587                       # default: 587 with starttls, 465 with ssl, 25 with none
      security: starttls              # starttls (default), ssl or none
      user: reports@acme.ru           # optional: log in ...
      password_env: CUSTKIT_SMTP_PASSWORD   # ... with the password in this environment variable
      from: reports@acme.ru
      to: [manager@acme.ru]
      link_base: https://reports.acme.ru/   # optional: where the output folder is served
      send: always                    # always (default) or failures

What a message holds: the report language's subject and text (from the job's params file),
the reports written with their links (``link_base`` + the path in the output folder, else the
path on this machine), the period's page attached (``<period>/summary.html`` when a run wrote
one, else the output folder's ``index.html``), and on failure each failure page attached with
the failing step. Only those HTML pages are ever attached: the pages are checked free of
personal data when they are written, and exports (customer lists) are never sent.

A message that cannot be sent (server down, login refused) does not undo the run: the error is
logged, kept in the state file beside the period, and shown on standard error; the exit status
stays the run's.

The standard library's :mod:`smtplib` and :mod:`email` do the sending and the MIME work; this
module only reads the settings and chooses what goes in.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from custkit.errors import ParamsError, did_you_mean
from custkit.i18n import _, n_, use_language

if TYPE_CHECKING:
    from custkit.schedule.jobs import Job
    from custkit.schedule.runner import PeriodOutcome

MAIL_KEYS = (
    "host",
    "port",
    "security",
    "user",
    "password_env",
    "from",
    "to",
    "link_base",
    "send",
)
SECURITY = {"starttls": 587, "ssl": 465, "none": 25}
SEND = ("always", "failures")
#: Seconds to wait for the SMTP server before the message counts as not sent.
TIMEOUT = 30
_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EXAMPLE = (
    "mail:\n  host: smtp.acme.ru\n  port: 587\n  security: starttls\n  user: reports@acme.ru\n"
    "  password_env: CUSTKIT_SMTP_PASSWORD\n  from: reports@acme.ru\n  to: [manager@acme.ru]"
)


@dataclass(frozen=True)
class MailSettings:
    """How to send a job's messages (the checked ``mail`` section).

    Attributes
    ----------
    host : str
    port : int
    security : {"starttls", "ssl", "none"}
    user : str or None
        Log in as this user (with the password from *password_env*); None: no login.
    password_env : str or None
        The environment variable holding the password; the password is never stored.
    sender : str
        The ``from`` address.
    to : tuple of str
    link_base : str or None
        URL of the output folder as served; links to reports start with it.
    send : {"always", "failures"}
    """

    host: str
    port: int
    security: str
    user: str | None
    password_env: str | None
    sender: str
    to: tuple[str, ...]
    link_base: str | None = None
    send: str = "always"

    def password(self) -> str | None:
        """The password from :attr:`password_env`.

        Raises
        ------
        ParamsError
            The variable is not set: the run stops before any report, as for a wrong key.
        """
        if self.password_env is None:
            return None
        value = os.environ.get(self.password_env)
        if not value:
            raise ParamsError(
                f"mail: password_env names the environment variable {self.password_env}, which "
                "is not set for this run. Set it where the scheduler starts custkit (crontab, "
                "systemd Environment=, Airflow connection), or remove user and password_env "
                "for a server that needs no login."
            )
        return value


def parse_mail(
    raw: Any, where: str, label: str = "mail", base: Mapping[str, Any] | None = None
) -> MailSettings | None:
    """Check a ``mail`` section (*raw*, over the schedule's own section *base* for a job).

    Returns
    -------
    MailSettings or None
        None for ``mail: false`` or when there is no section at all.

    Raises
    ------
    ParamsError
        Naming the file, the section and the key, with close matches for an unknown key.
    """
    if raw is False or (raw is None and base is None):
        return None
    if raw is not None and not isinstance(raw, Mapping):
        raise ParamsError(
            f"{where}: {label} must be a mapping of 'key: value' lines, or false for a job that "
            f"sends nothing. Got {raw!r} instead. For example:\n{_EXAMPLE}"
        )
    for key in raw or {}:
        if key not in MAIL_KEYS:
            raise ParamsError(
                f"{where}: {label} has an unknown key '{key}'."
                f"{did_you_mean(str(key), MAIL_KEYS)} Valid: {', '.join(MAIL_KEYS)}."
            )
    section = {**(base or {}), **(raw or {})}

    def fail(key: str, must: str) -> ParamsError:
        return ParamsError(f"{where}: {label}: {key} must be {must}. Got {section[key]!r} instead.")

    for key in ("host", "from", "to"):
        if section.get(key) in (None, "", []):
            raise ParamsError(
                f"{where}: {label} has no '{key}'. Mail needs host, from and to, e.g.\n{_EXAMPLE}"
            )
    host = section["host"]
    if not isinstance(host, str) or not host.strip() or any(c.isspace() for c in host.strip()):
        raise fail("host", "the SMTP server's name, e.g. smtp.acme.ru")
    security = section.get("security", "starttls")
    if security not in SECURITY:
        raise fail("security", f"one of {', '.join(SECURITY)}")
    port = section.get("port", SECURITY[security])
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise fail("port", "a whole number from 1 to 65535 (587 for starttls, 465 for ssl)")
    user, password_env = section.get("user"), section.get("password_env")
    if user is not None and (not isinstance(user, str) or not user.strip()):
        raise fail("user", "the SMTP login (text)")
    if password_env is not None and (
        not isinstance(password_env, str) or not _ENV_RE.match(password_env)
    ):
        raise fail(
            "password_env",
            "the name of an environment variable holding the password, e.g. "
            "CUSTKIT_SMTP_PASSWORD (the password itself never goes in the file)",
        )
    if (user is None) != (password_env is None):
        missing = "password_env" if password_env is None else "user"
        raise ParamsError(
            f"{where}: {label}: user and password_env go together; add '{missing}', or remove "
            "both for a server that needs no login."
        )
    sender = section["from"]
    if not _is_address(sender):
        raise fail("from", "an e-mail address, e.g. reports@acme.ru")
    to = section["to"]
    to = [to] if isinstance(to, str) else to
    if not isinstance(to, list) or not all(_is_address(a) for a in to):
        raise fail("to", "an e-mail address or a list of them, e.g. [manager@acme.ru]")
    link_base = section.get("link_base")
    if link_base is not None and (
        not isinstance(link_base, str) or not re.match(r"^https?://\S+$", link_base)
    ):
        raise fail("link_base", "the URL the output folder is served at, e.g. https://r.acme.ru/")
    send = section.get("send", "always")
    if send not in SEND:
        raise fail("send", f"one of {', '.join(SEND)}")
    return MailSettings(
        host=host.strip(),
        port=port,
        security=security,
        user=user,
        password_env=password_env,
        sender=sender,
        to=tuple(dict.fromkeys(to)),
        link_base=link_base,
        send=send,
    )


def _is_address(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    address = parseaddr(value)[1]
    return bool(re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", address))


def period_page(out: Path, period: str) -> Path:
    """The page a period's message attaches: ``<period>/summary.html`` once a run writes one,
    else the output folder's ``index.html``."""
    summary = out / period / "summary.html"
    return summary if summary.exists() else out / "index.html"


def build_message(
    settings: MailSettings,
    job: Job,
    outcome: PeriodOutcome,
    page: Path | None = None,
    language: str = "en",
) -> EmailMessage:
    """The message for one finished period of *job*: the reports written and *page* attached,
    or a failure notice with the failure pages.

    Parameters
    ----------
    page : Path, optional
        The page to attach; default :func:`period_page`.
    language : str
        The report language of the job (subject and text).
    """
    page = page or period_page(job.out, outcome.run.period)
    period = dt.date.fromisoformat(outcome.run.period + "-01")  # "November 2026", "ноябрь 2026"
    ok = [r for r in outcome.results if r.ok]
    failed = [r for r in outcome.results if not r.ok]
    with use_language(language):
        if outcome.ok:
            subject = n_(
                "{job}: {count} report for {period:%B %Y} is ready",
                "{job}: {count} reports for {period:%B %Y} are ready",
                len(ok),
                job=job.name,
                count=len(ok),
                period=period,
            )
            lines = [_("The reports of {period:%B %Y} are ready:", period=period), ""]
        else:
            subject = _("{job}: the run for {period:%B %Y} failed", job=job.name, period=period)
            lines = [_("The scheduled run for {period:%B %Y} failed.", period=period), ""]
        for result in ok:
            lines.append(f"- {_title(result.report)}: {_link(settings, job.out, result.html)}")
        for result in failed:
            lines.append(
                "- "
                + _(
                    "{report}: failed: {error}",
                    report=_title(result.report),
                    error=result.error or "",
                )
                + f" ({_link(settings, job.out, result.html)})"
            )
        if not outcome.results and outcome.error:
            lines.append("- " + _("no report could start: {error}", error=outcome.error))
        if not outcome.ok:
            lines += ["", _("The run's log is {log}.", log=outcome.log)]
        if page.exists():
            lines += ["", _("All reports: {link}", link=_link(settings, job.out, page))]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.to)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message.set_content("\n".join(lines) + "\n")
    attachments = [page] if page.exists() else []
    attachments += [r.html for r in failed if r.html is not None and r.html.exists()]
    for path in attachments:
        _attach(message, path, job.out)
    return message


def _title(report: str) -> str:
    """The report's title in the current language (the manager's words, not the report's code)."""
    from custkit.reports.registry import get_report

    try:
        return _(get_report(report).title)
    except Exception:  # a broken notebook still gets its line in the message
        return report


def _link(settings: MailSettings, out: Path, path: Path | None) -> str:
    if path is None:
        return "-"
    if settings.link_base:
        try:
            relative = path.resolve().relative_to(out.resolve()).as_posix()
        except ValueError:
            return str(path)
        return settings.link_base.rstrip("/") + "/" + quote(relative)
    return str(path)


def _attach(message: EmailMessage, path: Path, out: Path) -> None:
    """Attach the HTML page *path*; anything else (an export, a quarantine file) is refused."""
    parts = path.resolve().relative_to(out.resolve()).parts
    if path.suffix != ".html" or "exports" in parts or "quarantine" in parts:
        raise ValueError(f"{path} is not a report page; only pages are ever attached")
    name = "-".join(parts)  # 2026-10-summary.html, index.html, 2026-10-ltv.failed.html
    message.add_attachment(path.read_bytes(), maintype="text", subtype="html", filename=name)


def send_message(settings: MailSettings, message: EmailMessage) -> None:
    """Send *message* through the settings' SMTP server.

    Raises
    ------
    smtplib.SMTPException, OSError
        The server refused or could not be reached; the caller keeps the run.
    """
    password = settings.password()
    context = ssl.create_default_context()
    if settings.security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=TIMEOUT, context=context
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT)
    with client:
        if settings.security == "starttls":
            client.starttls(context=context)
        if settings.user is not None:
            client.login(settings.user, password or "")
        client.send_message(message)


def mail_outcome(
    settings: MailSettings, job: Job, outcome: PeriodOutcome, language: str = "en"
) -> str | None:
    """Send the message of *outcome* when the settings ask for it.

    Returns
    -------
    str or None
        What happened, for the state file: ``"sent <time> to N recipients"``, ``"failed
        <time>: <error>"`` (without addresses or personal data), or None when nothing was due.
    """
    from custkit.reports.privacy import scrub_text

    if settings.send == "failures" and outcome.ok:
        return None
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    try:
        send_message(settings, build_message(settings, job, outcome, language=language))
    except Exception as exc:  # SMTPException, OSError, or a bug: the run stays done either way
        return f"failed {now}: " + scrub_text(
            f"{type(exc).__name__}: {exc} (server {settings.host}:{settings.port})"
        )
    return f"sent {now} to {len(settings.to)} recipient{'s' if len(settings.to) > 1 else ''}"
