"""What a source text names (a path, a glob, a folder or a URI), and how it may be shown without any secret.

    kind_of("exports/leads-*.csv")             "local"
    kind_of("s3://bucket/exports/*.csv")       "s3"
    display_name("https://u:pw@host/a.csv?token=abc")    "https://u@host/a.csv?token=***"
    secrets_in("https://u:pw@host/a.csv?token=abc")      ["pw", "abc"]

A URI's password and its query values are secrets: they are never shown, logged or written. An unknown scheme
is an InputError naming the kinds there are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from importer.errors import InputError

#: Scheme → the kind of source; ``file://`` is a local path written as a URI.
KINDS = {"file": "local", "http": "https", "https": "https", "s3": "s3", "sftp": "sftp", "gsheets": "gsheets"}
KNOWN = "a path, a glob, a folder, https://…, s3://bucket/key, sftp://user@host/path or gsheets://SPREADSHEET_ID"
#: ``name://`` at the start (two letters at least, so a Windows drive ``C:\\`` is never taken for one).
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+)://")
_HIDDEN = "***"
#: Schemes whose addresses have no user: what stands there is a key (an AWS key id), hidden like a password.
_NO_USERS = frozenset({"s3", "gsheets"})


@dataclass(frozen=True)
class Address:
    """A parsed remote source: scheme, user, host, port and the path (a key, a glob or a sheet) as written."""

    text: str
    scheme: str
    user: str | None
    password: str | None
    host: str
    port: int | None
    path: str
    query: str

    @property
    def display(self) -> str:
        return display_name(self.text)


def kind_of(text: str) -> str:
    """``local``, ``https``, ``s3``, ``sftp`` or ``gsheets``; InputError for a scheme no reader has."""
    match = _SCHEME.match(text.strip())
    if match is None:
        return "local"
    scheme = match.group(1).lower()
    if scheme not in KINDS:
        raise InputError(f"{display_name(text)}: unknown kind of source {scheme + '://'!r}; use {KNOWN}")
    return KINDS[scheme]


def is_address(text: str) -> bool:
    """True when ``text`` starts with ``scheme://`` (known or not)."""
    return _SCHEME.match(text.strip()) is not None


def parse(text: str) -> Address:
    """The parts of a ``scheme://`` source; InputError (naming it, secrets hidden) when it is malformed."""
    text = text.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InputError(f"{display_name(text)}: not a valid address ({_reason(exc)})") from None
    return Address(text, parts.scheme.lower(), parts.username, parts.password, parts.hostname or "", port,
                   parts.path, parts.query)


def display_name(text: str) -> str:
    """``text`` as it may be shown: a path as written; a URI without its password, query values or fragment."""
    text = text.strip()
    match = _SCHEME.match(text)
    if match is None:
        return text
    scheme = match.group(1).lower()
    rest = text[match.end():]
    netloc, slash, tail = rest.partition("/")
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0] if scheme not in _NO_USERS else ""
        netloc = f"{user}@{hostport}" if user else hostport
    path, _, query = tail.partition("?")
    path = path.partition("#")[0]
    shown = f"{scheme}://{netloc}{slash}{path}"
    if query:
        names = [name for name, _ in parse_qsl(query.partition("#")[0], keep_blank_values=True)]
        shown += "?" + "&".join(f"{name}={_HIDDEN}" for name in names) if names else ""
    return shown


def secrets_in(text: str) -> list[str]:
    """The parts of ``text`` that must never be shown: a URI's password and its query values."""
    text = text.strip()
    match = _SCHEME.match(text)
    if match is None:
        return []
    netloc, _, tail = text[match.end():].partition("/")
    found: list[str] = []
    if "@" in netloc:
        userinfo = netloc.rpartition("@")[0]
        if match.group(1).lower() in _NO_USERS:
            found.append(userinfo.split(":", 1)[0])
        if ":" in userinfo:
            password = userinfo.split(":", 1)[1]
            found.extend((password, unquote_plus(password)))
    query = tail.partition("?")[2].partition("#")[0]
    for pair in query.split("&"):
        raw = pair.partition("=")[2]
        found.extend((raw, unquote_plus(raw)))
    return sorted({secret for secret in found if secret}, key=len, reverse=True)


def _reason(exc: Exception) -> str:
    text = str(exc)
    return "bad port" if "port" in text.lower() else "malformed host"
