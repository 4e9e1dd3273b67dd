"""No secret in a job file: a job file is copied, mailed and committed; its secrets belong in ``secrets.env``.

Refused, wherever they stand: a key named like a secret (``api_key``, ``password``, ``token``, ``secret``,
``private_key``, ``access_key`` …; a name ending in ``_env`` names an environment variable and is fine), a URL
with a password (``postgresql://sales:pw@db/crm``, ``sftp://ops:pw@host/…``), a URL whose query carries a value
(``?token=…``, ``?sig=…``), and a webhook whose path holds a token (Slack's ``/services/T…/B…/XXXX``): such a
target is written ``${NAME}`` and read from the environment.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from importer.mapping.document import KeyPath

__all__ = ["API_KEY_ADVICE", "secret_in"]

API_KEY_ADVICE = ("the API key is never written in a job file: put {env}=… in secrets.env (readable by you only) "
                  "and name that variable with account.api_key_env")
_SECRET_KEY = re.compile(r"(^|[_-])(api[_-]?key|apikey|key|password|passwd|pass|pwd|secret|token|private[_-]?key|"
                         r"access[_-]?key|secret[_-]?key|credentials?|auth)([_-]|$)", re.IGNORECASE)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
#: A path segment this long in a webhook URL is a token (importer.report.notify's rule too).
_TOKEN_LENGTH = 12


def secret_in(data: Any, path: KeyPath = (), keys: bool = True) -> tuple[KeyPath, str] | None:
    """The first secret in ``data`` (plain YAML data) as (key path, why), or None. ``keys``: look at key names too
    (not inside a mapping, whose keys are sheet values and API fields)."""
    for where, key, value in _walk(data, path):
        if keys and key is not None and _secret_key(key):
            return where, _why_key(key)
        if isinstance(value, str) and (why := _secret_value(value.strip())):
            return where, why
    return None


def _walk(data: Any, path: KeyPath) -> Iterator[tuple[KeyPath, str | None, Any]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*path, key), key, value
            if path == () and key == "mapping":
                yield from ((where, None, item) for where, _, item in _walk(value, (*path, key)))
            else:
                yield from _walk(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield (*path, index), None, value
            yield from _walk(value, (*path, index))


def _secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key)) and not key.lower().endswith("_env")


def _why_key(key: str) -> str:
    if key.lower().replace("-", "_") in ("api_key", "apikey", "key"):
        return API_KEY_ADVICE.format(env="SF_API_KEY")
    return ("a secret is never written in a job file: put it in secrets.env (readable by you only) as the "
            "environment variable the tool reads for it")


def _secret_value(text: str) -> str | None:
    if not _URL.match(text) or text.startswith("${"):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.password:
        return ("a URL with a password: leave the password out (the tool reads it from its environment variable: "
                "PGPASSWORD, SF_SFTP_PASSWORD, SF_SMTP_URL …, kept in secrets.env)")
    if any(value for _, _, value in (pair.partition("=") for pair in parts.query.split("&"))):
        return "a URL whose query carries a value (a token?): write ${NAME} and put NAME=<the URL> in secrets.env"
    if parts.scheme in ("http", "https") and any(len(piece) >= _TOKEN_LENGTH for piece in parts.path.split("/")):
        if not _looks_like_file(parts.path):
            return ("a webhook URL holds its token: write ${NAME} and put NAME=<the URL> in secrets.env "
                    "(readable by you only)")
    return None


def _looks_like_file(path: str) -> bool:
    """A download's path (``/exports/leads-2024-05-01.csv``) is a sheet, not a webhook's token."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return "." in last or path.endswith("/")
