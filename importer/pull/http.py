"""The HTTP edge shared by the source CRMs' clients: one session, no redirects, errors mapped onto errors.py,
and every secret scrubbed from every message.

LeadSquared takes its access and secret keys in the query string, so a URL is never shown as sent: messages
name the host only, exceptions are raised ``from None`` (no chained ``requests`` error holding the URL), and
:meth:`SourceHttp.scrub` masks each key wherever a server or proxy might echo it back.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from importer.api.answers import error_for_response, map_request_exception, mask_key
from importer.api.client import check_base_url
from importer.errors import ApiError, ConfigError

logger = logging.getLogger(__name__)

#: ``accessKey=…``, ``secretKey=…`` and the like in a URL, whatever the key's value.
_KEY_PARAMETER = re.compile(r"(?i)((?:access|secret|api)_?key=)[^&\s#'\"]*")
_MAX_MESSAGE = 500


class _KeyParameterFilter(logging.Filter):
    """Masks key parameters in urllib3's debug lines, which show each request's path and query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        if _KEY_PARAMETER.search(message):
            record.msg, record.args = _KEY_PARAMETER.sub(r"\1***", message), None
        return True


def _guard_urllib3_log() -> None:
    """Install :class:`_KeyParameterFilter` on urllib3's connection-pool logger, once."""
    pool_logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(existing, _KeyParameterFilter) for existing in pool_logger.filters):
        pool_logger.addFilter(_KeyParameterFilter())


def check_source_url(url: str, name: str, secrets: Iterable[str]) -> str:
    """``url`` without a trailing slash, or ConfigError naming the variable ``name`` (never showing a secret)."""
    try:
        return check_base_url(url)
    except ConfigError as exc:
        text = str(exc).replace("base URL", name, 1)
        for secret in secrets:
            text = mask_key(text, secret)
        raise ConfigError(text) from None


def check_secret(value: str, name: str) -> str:
    """A key as given in env ``name``; ConfigError (never showing it) when it is empty or not printable ASCII."""
    if not value:
        raise ConfigError(f"{name} is not set")
    if not all(" " < char < "\x7f" for char in value):
        raise ConfigError(f"{name} contains spaces, control or non-ASCII characters")
    return value


class SourceHttp:
    """GET requests to one source CRM: ``base_url`` plus a path, JSON back, ApiError on anything else.

    Thread-safe enough for one caller at a time (pull asks one key after another). ``secrets`` are masked in
    every message this object produces; ``headers`` go with every request (a Bearer token, say).
    """

    def __init__(self, base_url: str, secrets: Iterable[str], headers: dict[str, str] | None = None,
                 session: requests.Session | None = None, timeout: tuple[float, float] = (5.0, 30.0)) -> None:
        self.base_url = base_url
        self.host = urlsplit(base_url).hostname or "?"
        self._secrets = sorted({secret for secret in secrets if secret}, key=len, reverse=True)
        self._headers = {"Accept": "application/json", **(headers or {})}
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self.timeout = timeout
        _guard_urllib3_log()
        if self._owns_session:
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=2, max_retries=0)
            self._session.mount("https://", adapter)
            self._session.mount("http://", adapter)

    def __repr__(self) -> str:
        return f"SourceHttp(base_url={self.base_url!r})"

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def scrub(self, text: str) -> str:
        """``text`` with every secret masked, and the value of any key parameter of a URL too."""
        for secret in self._secrets:
            text = mask_key(text, secret)
        return _KEY_PARAMETER.sub(r"\1***", text)

    def get(self, path: str, params: dict[str, str] | None = None) -> tuple[int, Any]:
        """Send one GET; return (status, decoded JSON) of a 2xx answer, or raise an ApiError (safe to print)."""
        started = time.perf_counter()
        try:
            response = self._session.get(self.base_url + path, params=params, headers=self._headers,
                                         timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            error = map_request_exception(exc, self.base_url)
            raise type(error)(self.scrub(error.message), status=error.status) from None
        if logger.isEnabledFor(logging.DEBUG):
            shown = self.scrub(path)
            logger.debug("GET %s%s -> %d in %.0f ms", self.host, shown, response.status_code,
                         (time.perf_counter() - started) * 1000)
        if 200 <= response.status_code < 300:
            return response.status_code, _json(response.content)
        content = json.dumps({"message": source_message(response.content)}).encode()
        error = error_for_response(response.status_code, content, response.headers, self.scrub)
        error.args = (error.message,)
        raise error


def source_message(content: bytes) -> str | None:
    """The error text of a source CRM's answer: LeadSquared's ``ExceptionMessage``, PollyBot's ``error`` (with its
    ``code``), or a plain ``message``."""
    try:
        document = json.loads(content)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    text = document.get("ExceptionMessage") or document.get("error") or document.get("message")
    if not isinstance(text, str) or not text.strip():
        return None
    code = document.get("code")
    text = f"{text} ({code})" if isinstance(code, str) and code else text
    return text[:_MAX_MESSAGE]


def _json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        raise ApiError("unexpected response: the body is not JSON", status=200) from None


_Client = TypeVar("_Client", bound="SourceClient")


class SourceClient:
    """What both source CRMs' clients share: their :class:`SourceHttp` (``_http``), closing it, a repr without
    keys, and scrubbing keys out of a text."""

    _http: SourceHttp
    _base_url: str

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r})"

    def __enter__(self: _Client) -> _Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def scrub(self, text: str) -> str:
        return self._http.scrub(text)

