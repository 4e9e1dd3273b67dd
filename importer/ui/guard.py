"""The page's defences, around every request:

- only a loopback Host is served (a web page elsewhere cannot reach the page by rebinding its own name);
- a request body larger than the upload limit is refused before it is read (413), one without a length too (411);
- every answer says: no framing by other sites, no sniffing, no referrer, and a Content-Security-Policy that lets
  the page load its own scripts and styles only (report.html: no script at all, its inline styles and SVG);
- every form that changes something carries the page's token (:class:`FormToken`): a form posted from another
  site cannot have it.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
               "form-action 'self'; frame-src 'self'; base-uri 'none'; frame-ancestors 'none'")
#: report.html is the run folder's own page: inline styles and SVG, never a script; framed by the page only.
REPORT_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
                 "form-action 'none'; frame-ancestors 'self'")


class FormToken:
    """A random token per page server, put in every form; a POST without it is refused (403)."""

    def __init__(self) -> None:
        self.value = secrets.token_urlsafe(24)

    def valid(self, given: Any) -> bool:
        return isinstance(given, str) and hmac.compare_digest(given, self.value)


def host_name(host_header: str) -> str:
    """``127.0.0.1:8766`` → ``127.0.0.1``; ``[::1]:8766`` → ``[::1]``."""
    if host_header.startswith("["):
        return host_header.split("]", 1)[0] + "]"
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


class Guard:
    """ASGI middleware applying the rules of this module's docstring."""

    def __init__(self, app: ASGIApp, max_upload: int, form_overhead: int) -> None:
        self.app = app
        self.max_upload = max_upload
        self.max_body = max_upload + form_overhead

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            if refusal[0] == 413:
                await _drain(receive)  # so the browser reads the answer instead of a reset connection
            await _plain(send, *refusal)
            return
        report = scope["path"].endswith("/report.html")

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"x-frame-options", b"SAMEORIGIN" if report else b"DENY"),
                         (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                         (b"cache-control", b"no-store"),
                         (b"content-security-policy", (REPORT_POLICY if report else PAGE_POLICY).encode())]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, secured)

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        if host_name(headers.get("host", "")).lower() not in LOOPBACK_HOSTS:
            return 421, "This page answers on 127.0.0.1 (or localhost) only."
        if scope["method"] in ("GET", "HEAD"):
            return None
        length = headers.get("content-length")
        if length is None:
            return (411, "A request body needs a Content-Length.") if "transfer-encoding" in headers else None
        if not length.isdigit() or int(length) > self.max_body:
            mb = self.max_upload / 1_000_000
            return 413, (f"The file is too large: the page accepts up to {mb:g} MB "
                         "(start it with --max-upload-mb to raise the limit).")
        return None


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            return


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
