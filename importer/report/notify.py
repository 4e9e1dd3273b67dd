"""Where alerts go, and how they get there: Apprise for every channel, plus the summary webhook.

    --notify slack://TokenA/TokenB/TokenC/#sales     any Apprise URL: slack://, msteams://, tgram://, discord://,
                                                     whatsapp://, mailto://, json://, … (100+ services)
    --notify https://hooks.example.com/…             a POST of summary.json's content plus ``text`` (Slack, Teams)
    --notify http://127.0.0.1:9000/hook              plain http:// on loopback only (as for the API's base URL)
    --notify mailto:ops@example.com                  an e-mail through the SMTP server of env SF_SMTP_URL, sent as
                                                     Apprise's mailto:// (STARTTLS; plain only to loopback)

``parse_target`` checks a target before anything runs (ConfigError: a usage error, one line); ``notify`` sends one
:class:`Notice` to every target and returns one line per target that could not be told, each also logged as a
warning: a failed notification never stops or changes the run. No secret (the API key, the SMTP password, a
token in a URL) is ever in a message sent, a log line or an exception: targets show as ``scheme://…``.
"""

from __future__ import annotations

import json
import logging
import socket
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from typing import Any, Literal
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import requests

from importer.api.answers import mask_key
from importer.api.client import is_loopback
from importer.errors import ConfigError

__all__ = ["Notice", "SmtpServer", "Target", "notify", "parse_target", "scrub_url"]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
_TOKEN_LENGTH = 10  # a piece of a URL this long may be a token
_PASSWORD_LENGTH = 4  # a URL's password this long is masked wherever it appears
_APPRISE_LOGGER = "apprise"


@dataclass(frozen=True)
class Notice:
    """One message to every target: ``subject`` (e-mail, chat titles), ``text`` (the body), and ``body`` (the
    webhook's JSON object: summary.json's content plus ``exit_code``, ``report`` and ``text``)."""

    subject: str
    text: str
    body: Mapping[str, Any]


@dataclass(frozen=True)
class SmtpServer:
    """Where e-mail goes: ``smtp://`` (STARTTLS; plain to loopback) or ``smtps://`` (implicit TLS), maybe a login."""

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

    def apprise_url(self, address: str) -> str:
        """The Apprise ``mailto://`` URL that sends to ``address`` through this server."""
        mode = "ssl" if self.implicit_tls else "insecure" if is_loopback(self.host) else "starttls"
        login = f"{quote(self.user, safe='')}:{quote(self.password or '', safe='')}@" if self.user else ""
        query = urlencode({"smtp": self.host, "mode": mode, "to": address, "from": self.sender or self._sender(),
                           "format": "text"})
        return f"{'mailto' if mode == 'insecure' else 'mailtos'}://{login}{self.host}:{self.port}/?{query}"

    def _sender(self) -> str:
        if self.user and "@" in self.user:
            return self.user
        host = socket.getfqdn()
        return f"superfone-import@{host if '.' in host else 'localhost.localdomain'}"  # Apprise needs a dotted domain

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        return f"{'smtps' if self.implicit_tls else 'smtp'}://{user}{self.host}:{self.port}"


@dataclass(frozen=True)
class Target:
    """One ``--notify`` target: the summary ``webhook``, an e-mail address (``mail``, with the SMTP server that
    sends to it), or any other ``apprise`` URL."""

    url: str = field(repr=False)
    smtp: SmtpServer | None = None
    kind: Literal["webhook", "mail", "apprise"] = "webhook"

    @property
    def address(self) -> str | None:
        """The e-mail address of a ``mailto:`` target (None for the others)."""
        return self.url.removeprefix("mailto:") if self.kind == "mail" else None

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never be shown: the SMTP password; a URL, its password and its long pieces (tokens)."""
        if self.smtp is not None:
            return (self.smtp.password,) if self.smtp.password else ()
        parts = urlsplit(self.url)
        pieces = [*parts.netloc.replace("@", "/").replace(":", "/").split("/"), *parts.path.split("/"),
                  *(value for values in parse_qs(parts.query).values() for value in values)]
        found = [piece for piece in pieces if len(piece) >= _TOKEN_LENGTH]
        if parts.password and len(parts.password) >= _PASSWORD_LENGTH:
            found.append(unquote(parts.password))
        return (self.url, *found)

    def __str__(self) -> str:
        if self.kind == "mail":
            return self.url
        if self.kind == "apprise":
            return f"{urlsplit(self.url).scheme}://…"
        return scrub_url(self.url)

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
    if text.lower().startswith("mailto:") and not text.lower().startswith("mailto://"):
        return _mail_target(text[len("mailto:"):], smtp_url)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in ("https", "http"):
        return _webhook_target(text)
    shown = f"{scheme}://…" if scheme else "a value without a scheme"
    if not scheme or _apprise_plugin(text) is None:
        raise ConfigError(f"--notify: expected an Apprise URL (slack://, msteams://, tgram://, discord://, "
                          f"mailto://, json://, …), an https:// webhook or mailto:ADDRESS, got {shown} (not a URL "
                          "Apprise can use)")
    return Target(text, kind="apprise")


def _webhook_target(text: str) -> Target:
    parts = urlsplit(text)
    if not parts.hostname:
        raise ConfigError(f"--notify {scrub_url(text)}: expected a host name")
    if parts.username or parts.password:
        raise ConfigError(f"--notify {scrub_url(text)}: the URL must not contain a user name or password")
    if parts.scheme.lower() == "http" and not is_loopback(parts.hostname):
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
        return Target(f"mailto:{address}", SmtpServer.parse(smtp_url), kind="mail")
    except ConfigError as exc:
        raise ConfigError(f"--notify mailto: {exc}") from None


def _apprise_plugin(url: str) -> Any:
    """Apprise's plugin for ``url``, or None when Apprise cannot use it (its log lines kept to itself)."""
    import apprise

    with _apprise_log(logging.CRITICAL + 1), warnings.catch_warnings():
        # Apprise's e-mail plugin loads email.mime.image, which imports the deprecated imghdr on Python 3.11–3.12
        warnings.simplefilter("ignore", DeprecationWarning)
        return apprise.Apprise.instantiate(url, suppress_exceptions=True)


def notify(targets: Sequence[Target], notice: Notice, *, secrets: Iterable[str] = (),
           timeout: float = DEFAULT_TIMEOUT) -> list[str]:
    """Send ``notice`` to every target; return one line per target that could not be told (each logged as a
    warning). ``secrets`` are masked in all that is sent."""
    hidden = sorted({text for text in (*secrets, *(s for target in targets for s in target.secrets)) if text},
                    key=len, reverse=True)
    text, subject = _mask(notice.text, hidden), _mask(notice.subject, hidden)
    failures: list[str] = []
    for target in targets:
        try:
            if target.kind == "webhook":
                body = json.dumps({**notice.body, "text": notice.text}, ensure_ascii=False, default=_json_value)
                with _apprise_log(logging.CRITICAL + 1):  # urllib3's lines name the URL
                    _post(target, _mask(body, hidden), timeout)
            else:
                url = target.smtp.apprise_url(target.url.removeprefix("mailto:")) if target.smtp else target.url
                _send_apprise(url, subject, text)
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


def _send_apprise(url: str, subject: str, text: str) -> None:
    """One Apprise notification; its own first warning (masked by the caller) says why it failed."""
    import apprise

    plugin = _apprise_plugin(url)
    if plugin is None:
        raise _Refused("Apprise cannot use the URL")
    sender = apprise.Apprise()
    sender.add(plugin)
    with _apprise_log(logging.WARNING) as lines, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # as in _apprise_plugin
        sent = sender.notify(body=text, title=subject)
    if not sent:
        raise _Refused(" ".join(lines[0].split())[:200] if lines else "Apprise could not send it")


@contextmanager
def _apprise_log(level: int) -> Iterator[list[str]]:
    """Apprise's log lines at ``level`` and up, kept in a list; neither they nor urllib3's reach the application's
    handlers while a notification is sent (they name URLs, tokens included)."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    apprise_log, pool_log = logging.getLogger(_APPRISE_LOGGER), logging.getLogger("urllib3")
    handler, saved = Keep(level), (apprise_log.propagate, apprise_log.level, pool_log.propagate)
    apprise_log.propagate = pool_log.propagate = False
    apprise_log.setLevel(min(level, logging.CRITICAL))
    apprise_log.addHandler(handler)
    try:
        yield lines
    finally:
        apprise_log.removeHandler(handler)
        apprise_log.propagate, apprise_log.level, pool_log.propagate = saved


class _Refused(Exception):
    """The server answered, but not with a success."""


def _reason(exc: BaseException) -> str:
    """A short reason that quotes no URL (requests' messages name the whole URL, token included)."""
    if isinstance(exc, _Refused):
        return str(exc)
    if isinstance(exc, requests.Timeout | socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS handshake failed"
    if _caused_by(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, requests.ConnectionError | OSError):
        return "could not connect"
    return type(exc).__name__


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
