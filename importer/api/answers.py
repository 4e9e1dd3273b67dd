"""What an answer of the API means, or the lack of one: the error for a status code and its body (a message the
server wrote, redacted and cut short), the error for an exception of ``requests`` (sent or never sent), and the
key's header with its masking (the key never appears in any message)."""

from __future__ import annotations

__all__ = ["CUSTOMER_NOT_FOUND", "ApiKeyAuth", "error_for_response", "map_pool_exception", "map_request_exception",
           "mask_key", "same_message"]

import json
import re
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict
from urllib3 import exceptions as pool_errors
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError, ProxyError

from importer.api.retry import parse_retry_after
from importer.errors import ApiError, AuthError, CustomerNotFound, RejectedError, TransientError, UncertainError

_MAX_MESSAGE = 500
#: The API's answer when no lead has the phone (get-lead; an upsert that may not create the lead).
CUSTOMER_NOT_FOUND = "Customer not found"


def same_message(actual: str, expected: str) -> bool:
    """Compare server messages leniently: case and trailing punctuation differ between endpoints."""
    return actual.strip().rstrip(".").casefold() == expected.strip().rstrip(".").casefold()


class ApiKeyAuth(requests.auth.AuthBase):
    """Adds the x-api-key header; its repr never shows the key."""

    def __init__(self, api_key: str) -> None:
        self._key = api_key

    def __repr__(self) -> str:
        return "ApiKeyAuth(***)"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["x-api-key"] = self._key
        return request

    def redact(self, text: str) -> str:
        """``text`` with the key masked, in case a server or proxy echoed it back."""
        return mask_key(text, self._key)


def mask_key(text: str, key: str) -> str:
    """``text`` with every whole occurrence of ``key`` (not the same letters inside a longer word) as ``***``."""
    if not key or key not in text:
        return text
    return re.sub(rf"(?<![A-Za-z0-9]){re.escape(key)}(?![A-Za-z0-9])", "***", text)


def error_for_response(
    status: int, content: bytes, headers: CaseInsensitiveDict[str] | Mapping[str, str], redact: Callable[[str], str]
) -> ApiError:
    """The ApiError for a non-2xx answer; its message is the server's, or "HTTP <status>"."""
    message = redact(_server_message(content) or f"HTTP {status}")[:_MAX_MESSAGE]
    if 300 <= status < 400:
        return ApiError(
            f"HTTP {status}: the API answered with a redirect, which is not followed (check the base URL)",
            status=status,
        )
    if status == 401:
        return AuthError(message, status=status)
    if status in (429, 502, 503, 504, 408):
        retry_after = parse_retry_after(headers.get("Retry-After"), time.time())
        return TransientError(message, status=status, retry_after=retry_after)
    if status in (400, 404) and same_message(message, CUSTOMER_NOT_FOUND):
        return CustomerNotFound(message, status=status)
    if 400 <= status < 500:
        return RejectedError(message, status=status)
    if 500 <= status < 600:
        return UncertainError(message, status=status)
    return ApiError(message, status=status)


def _server_message(content: bytes) -> str | None:
    try:
        document = json.loads(content)
    except ValueError:
        return None
    message = document.get("message") if isinstance(document, dict) else None
    return message if isinstance(message, str) and message.strip() else None


def map_request_exception(exc: requests.RequestException, base_url: str) -> ApiError:
    """Tell "could not connect" (never sent: TransientError) from "lost after sending" (UncertainError)."""
    host = urlsplit(base_url).hostname
    if isinstance(exc, requests.ConnectTimeout):
        return TransientError(f"could not connect to {host}: connection timed out")
    if isinstance(exc, requests.ReadTimeout):
        return UncertainError(f"no answer from {host} in time after sending (it may have been applied)")
    if isinstance(exc, requests.exceptions.SSLError):
        return TransientError(f"could not connect to {host}: TLS handshake failed")
    if isinstance(exc, requests.exceptions.ProxyError):
        return TransientError(f"could not connect to {host}: the proxy refused the connection")
    if isinstance(exc, requests.ConnectionError) and _never_sent(exc):
        return TransientError(f"could not connect to {host}: {_connect_reason(exc)}")
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return UncertainError(f"connection to {host} lost after sending (it may have been applied)")
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return ApiError(f"invalid request URL for {host}")
    return UncertainError(f"request to {host} failed after sending: {type(exc).__name__}")


def map_pool_exception(exc: pool_errors.HTTPError | OSError, base_url: str) -> ApiError:
    """The ApiError for an exception of urllib3 (an upsert sent straight through the pool, importer.api.client):
    the one :func:`map_request_exception` gives for the exception ``requests`` raises in its place."""
    return map_request_exception(_as_request_exception(exc), base_url)


def _as_request_exception(exc: pool_errors.HTTPError | OSError) -> requests.RequestException:
    """What requests' ``HTTPAdapter.send`` and ``Response.content`` raise for ``exc`` (requests 2.32)."""
    errors = requests.exceptions
    if isinstance(exc, MaxRetryError):
        reason = exc.reason
        if isinstance(reason, ConnectTimeoutError) and not isinstance(reason, NewConnectionError):
            return errors.ConnectTimeout(exc)
        if isinstance(reason, pool_errors.ResponseError):
            return errors.RetryError(exc)
        if isinstance(reason, ProxyError):
            return errors.ProxyError(exc)
        if isinstance(reason, pool_errors.SSLError):
            return errors.SSLError(exc)
        return errors.ConnectionError(exc)
    if isinstance(exc, pool_errors.ProtocolError | pool_errors.ClosedPoolError | OSError):
        return errors.ConnectionError(exc)
    if isinstance(exc, ProxyError):
        return errors.ProxyError(exc)
    if isinstance(exc, pool_errors.SSLError):
        return errors.SSLError(exc)
    if isinstance(exc, pool_errors.ReadTimeoutError):
        return errors.ReadTimeout(exc)
    if isinstance(exc, pool_errors.DecodeError):
        return errors.ContentDecodingError(exc)
    return errors.RequestException(exc)


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc``, its first argument if that is an exception, a MaxRetryError's reason, and their causes."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [exc]
    while pending and len(seen) < 12:
        current = pending.pop()
        if current is None or any(current is known for known in seen):
            continue
        seen.append(current)
        pending.append(current.__cause__)
        pending.append(current.__context__)
        if isinstance(current, MaxRetryError):
            pending.append(current.reason)
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
    return seen


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection itself failed (refused, DNS, connect timeout): nothing reached the API."""
    return any(isinstance(cause, ConnectTimeoutError | NewConnectionError | ProxyError) for cause in _causes(exc))


def _connect_reason(exc: requests.ConnectionError) -> str:
    causes = _causes(exc)
    if any(type(cause).__name__ == "NameResolutionError" for cause in causes):
        return "host name not found"
    if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
        return "connection refused"
    return "connection failed"
