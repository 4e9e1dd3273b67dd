"""What the run tells people: one line about its outcome, sent to webhooks and by e-mail.

    --notify https://hooks.example.com/…     POST of summary.json's content plus ``text`` (Slack, Teams)
    --notify http://127.0.0.1:9000/hook       plain http:// on loopback only (as for the API's base URL)
    --notify mailto:ops@example.com           a short e-mail through the SMTP server of env SF_SMTP_URL

``parse_target`` checks a target before anything runs (ConfigError: a usage error); ``notify`` sends the outcome
to every target and returns one line per target that could not be told, each also logged as a warning: a failed
notification never stops or changes the run. No secret (the API key, the SMTP password, a webhook's token) is
ever in a message sent, a log line or an exception: URLs are shown by ``scrub_url``.
"""

from __future__ import annotations

import json
import logging
import smtplib
import socket
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests

from importer.api.client import is_loopback, mask_key
from importer.errors import ConfigError

__all__ = ["SmtpServer", "Target", "counts_line", "notify", "outcome_text", "parse_target", "scrub_url",
           "should_notify"]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
_OUTCOMES = {0: "all rows succeeded", 1: "some rows failed or are invalid",
             2: "stopped by an error", 3: "stopped before the end"}
_TOKEN_LENGTH = 12  # a path segment or query value this long may be a token
_COUNTS = ("rows_total", "valid", "succeeded", "failed", "in_doubt", "skipped", "invalid", "unchanged", "warnings")


@dataclass(frozen=True)
class SmtpServer:
    """Where e-mail goes: ``smtp://`` (STARTTLS when offered) or ``smtps://`` (implicit TLS), maybe a login."""

    host: str
    port: int
    implicit_tls: bool = False
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str | None = None

    @classmethod
    def parse(cls, url: str) -> SmtpServer:
        """``smtp://user:pass@host:port?from=ADDRESS`` (user, pass, port and from optional; user and pass
        URL-encoded). Ports default to 25 and 465. The message of the ConfigError never repeats the URL."""
        expected = "SF_SMTP_URL must look like smtp://user:password@host:port or smtps://… (password URL-encoded)"
        parts = urlsplit(url.strip())
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(expected) from None
        query = parse_qs(parts.query)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname or parts.path not in ("", "/") \
                or set(query) - {"from"} or parts.fragment:
            raise ConfigError(expected)
        implicit = parts.scheme == "smtps"
        return cls(parts.hostname, port or (465 if implicit else 25), implicit,
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None, query.get("from", [None])[-1])

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        return f"{'smtps' if self.implicit_tls else 'smtp'}://{user}{self.host}:{self.port}"


@dataclass(frozen=True)
class Target:
    """One ``--notify`` target: a webhook URL, or an e-mail address with the SMTP server that sends to it."""

    url: str = field(repr=False)
    smtp: SmtpServer | None = None

    @property
    def address(self) -> str | None:
        """The e-mail address of a ``mailto:`` target (None for a webhook)."""
        return self.url.removeprefix("mailto:") if self.smtp is not None else None

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never be shown: the SMTP password; a webhook's URL and its long path segments and query
        values (where tokens live)."""
        if self.smtp is not None:
            return (self.smtp.password,) if self.smtp.password else ()
        parts = urlsplit(self.url)
        pieces = [*parts.path.split("/"), *(value for values in parse_qs(parts.query).values() for value in values)]
        return (self.url, *(piece for piece in pieces if len(piece) >= _TOKEN_LENGTH))

    def __str__(self) -> str:
        return self.url if self.smtp is not None else scrub_url(self.url)

    def __repr__(self) -> str:
        return f"Target({str(self)!r})"


def scrub_url(url: str) -> str:
    """``url`` as it may be shown: scheme, host and port; a user, password, path or query become ``…``."""
    parts = urlsplit(url.strip())
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    host = parts.hostname or "…"
    if ":" in host:
        host = f"[{host}]"
    user = "…@" if parts.username or parts.password else ""
    rest = "/…" if parts.path.strip("/") or parts.query or parts.fragment else ""
    return f"{parts.scheme}://{user}{host}{port}{rest}" if parts.scheme else "…"


def parse_target(text: str, smtp_url: str | None = None) -> Target:
    """The target ``text`` names, or a ConfigError saying what a target may be. ``smtp_url``: env SF_SMTP_URL,
    needed by ``mailto:`` targets."""
    text = text.strip()
    if text.lower().startswith("mailto:"):
        return _mail_target(text[len("mailto:"):], smtp_url)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        shown = scrub_url(text) if scheme else "a value without a scheme"
        raise ConfigError(f"--notify: expected an https:// URL, http:// on loopback or mailto:ADDRESS, got {shown}")
    if parts.username or parts.password:
        raise ConfigError(f"--notify {scrub_url(text)}: the URL must not contain a user name or password")
    if scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(f"--notify {scrub_url(text)}: plain http:// is for loopback only (use https://)")
    return Target(text)


def _mail_target(address: str, smtp_url: str | None) -> Target:
    name, parsed = parseaddr(address)
    if not parsed or parsed != address or name or address.count("@") != 1 or not all(address.split("@")) \
            or any(char in address for char in ",;?&<> \r\n\t"):
        raise ConfigError(f"--notify mailto: expected one e-mail address, as mailto:ops@example.com, got {address!r}")
    if not smtp_url:
        raise ConfigError("--notify mailto: needs the SMTP server in env SF_SMTP_URL (smtp://user:password@host:port)")
    try:
        return Target(f"mailto:{address}", SmtpServer.parse(smtp_url))
    except ConfigError as exc:
        raise ConfigError(f"--notify mailto: {exc}") from None



def should_notify(notify_on: str, exit_code: int) -> bool:
    """``--notify-on``: ``failure`` notifies only when the run did not exit 0, ``always`` after every run."""
    if notify_on not in ("failure", "always"):
        raise ValueError(f"notify_on must be 'failure' or 'always', got {notify_on!r}")
    return notify_on == "always" or exit_code != 0


def counts_line(summary: Mapping[str, Any]) -> str:
    """``leads.csv: 24 rows: 15 succeeded, 3 failed, …`` — the first line a run prints."""
    source = summary.get("source")
    read = source.get("file") if isinstance(source, Mapping) else None  # a glob's or folder's file: the one read
    name = str(read or summary.get("input", "?")).split("?", 1)[0].replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    total = summary.get("rows_total")
    if total is None:
        return name
    unchanged = f", {summary['unchanged']} unchanged" if summary.get("unchanged") else ""
    if summary.get("dry_run"):
        return (f"{name}: {total} rows: {summary['valid']} valid{unchanged}, {summary['invalid']} invalid, "
                f"{summary['warnings']} warnings (dry run, nothing sent)")
    return (f"{name}: {total} rows: {summary['succeeded']} succeeded, {summary['failed']} failed, "
            f"{summary['in_doubt']} in doubt, {summary['skipped']} skipped{unchanged}, {summary['invalid']} invalid; "
            f"{summary['warnings']} warnings")


def outcome_text(summary: Mapping[str, Any], exit_code: int, folder: Path | None, error: str | None = None) -> str:
    """One line: the counts (or the fatal error), the exit code and the report folder."""
    head = counts_line(summary)
    if error is not None:
        head = f"{head.split(':', 1)[0]}: stopped: {error}"
    report = f" — report: {folder}" if folder is not None else ""
    return f"{head} — exit {exit_code}{report}"


def notify(targets: Sequence[Target], summary: Mapping[str, Any], exit_code: int, folder: Path | None, *,
           error: str | None = None, secrets: Iterable[str] = (), timeout: float = DEFAULT_TIMEOUT) -> list[str]:
    """Tell every target the run's outcome; return one line per target that could not be told (each logged
    as a warning). ``error``: the fatal error that stopped the run. ``secrets`` are masked in all that is sent."""
    hidden = [text for text in {*secrets, *(s for target in targets for s in target.secrets)} if text]
    text = _mask(outcome_text(summary, exit_code, folder, error), hidden)
    failures: list[str] = []
    for target in targets:
        try:
            if target.smtp is not None:
                _send_mail(target, _email(target, summary, exit_code, folder, text, hidden), timeout)
            else:
                _post(target, _mask(_webhook_body(summary, exit_code, folder, text, error), hidden), timeout)
        except Exception as exc:  # a notification that fails never stops the run
            line = _mask(f"notification to {target} failed: {_reason(exc)}", hidden)
            logger.warning("%s", line)
            failures.append(line)
        else:
            logger.info("notification sent to %s", target)
    return failures


def _mask(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = mask_key(text, secret)
    return text


def _webhook_body(summary: Mapping[str, Any], exit_code: int, folder: Path | None, text: str,
                  error: str | None) -> str:
    body = {**summary, "exit_code": exit_code, "report": str(folder) if folder is not None else None, "text": text}
    if error is not None:
        body["error"] = error
    return json.dumps(body, ensure_ascii=False, default=_json_value)


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


def _post(target: Target, body: str, timeout: float) -> None:
    response = requests.post(target.url, data=body.encode("utf-8"), timeout=(min(timeout, 5.0), timeout),
                             allow_redirects=False, headers={"Content-Type": "application/json; charset=utf-8"})
    response.close()
    if 300 <= response.status_code < 400:
        raise _Refused(f"HTTP {response.status_code} (a redirect, not followed)")
    if response.status_code >= 400:
        raise _Refused(f"HTTP {response.status_code}")


def _email(target: Target, summary: Mapping[str, Any], exit_code: int, folder: Path | None, text: str,
           hidden: list[str]) -> EmailMessage:
    assert target.smtp is not None and target.address is not None
    name = text.split(":", 1)[0]
    outcome = _OUTCOMES.get(exit_code, f"exit {exit_code}")
    if exit_code == 0 and summary.get("dry_run"):
        outcome = "no row has an error (dry run)"
    message = EmailMessage()
    message["Subject"] = " ".join(f"superfone-import: {name}: {outcome} (exit {exit_code})".split())
    message["From"] = target.smtp.sender or _default_sender(target.smtp)
    message["To"] = target.address
    counts = [f"{key.replace('_', ' ')}: {summary[key]}" for key in _COUNTS if isinstance(summary.get(key), int)]
    lines = [text, "", *counts, "", f"report folder: {folder if folder is not None else '(none)'}"]
    message.set_content(_mask("\n".join(lines) + "\n", hidden))
    return message


def _default_sender(server: SmtpServer) -> str:
    if server.user and "@" in server.user:
        return server.user
    return f"superfone-import@{socket.gethostname() or 'localhost'}"


def _send_mail(target: Target, message: EmailMessage, timeout: float) -> None:
    server = target.smtp
    assert server is not None
    context = ssl.create_default_context()
    smtp = (smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context) if server.implicit_tls
            else smtplib.SMTP(server.host, server.port, timeout=timeout))
    with smtp:
        smtp.ehlo()
        if not server.implicit_tls and smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
        elif not server.implicit_tls and server.password and not is_loopback(server.host):
            raise _Refused(f"{server.host} offers no STARTTLS: the password is not sent unencrypted")
        if server.user:
            smtp.login(server.user, server.password or "")
        smtp.send_message(message)


class _Refused(Exception):
    """The server answered, but not with a success."""


def _reason(exc: BaseException) -> str:
    """A short reason that quotes no URL (requests' messages name the whole URL, token included)."""
    if isinstance(exc, _Refused):
        return str(exc)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"SMTP login refused ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"SMTP {exc.smtp_code}: {_decoded(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "SMTP server refused the recipient"
    if isinstance(exc, smtplib.SMTPException):
        return f"SMTP: {type(exc).__name__}"
    if isinstance(exc, requests.Timeout | socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, requests.exceptions.SSLError | ssl.SSLError):
        return "TLS handshake failed"
    if _caused_by(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, requests.ConnectionError | OSError):
        return "could not connect"
    return type(exc).__name__


def _decoded(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:200]


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    pending: list[BaseException | None] = [exc]
    seen = 0
    while pending and seen < 16:
        current = pending.pop()
        if current is None:
            continue
        seen += 1
        if isinstance(current, kind):
            return True
        reason = getattr(current, "reason", None)
        pending += [current.__cause__, current.__context__, reason if isinstance(reason, BaseException) else None]
        pending += [arg for arg in current.args if isinstance(arg, BaseException)]
    return False
