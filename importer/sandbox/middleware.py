"""Raw ASGI middleware in front of the routes: admin guard, request log, rate limit, latency, auth, faults.

For a request under ``/superfone`` the steps run in this order: log entry opened → rate limit (429 with
``Retry-After``) → added latency → 503 if the sandbox was reset meanwhile (so a request admitted before a
reset never writes after it) → ``x-api-key`` check (401) → fault draw → the route. Admin requests under
``/__sandbox`` skip all of that but must come from a loopback address (else 403).

``drop_after`` lets the route apply the write, sends the response's status line and headers, then raises
:class:`ConnectionDropped`: uvicorn then closes the connection, so the client reads a truncated response
(``requests`` raises ConnectionError/ChunkedEncodingError). The deliberate error stays out of the server log.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from importer.sandbox.knobs import LoggedRequest, SandboxConfig, retry_after_seconds
from importer.sandbox.state import Sandbox

API_PREFIX = "/superfone"
ADMIN_PREFIX = "/__sandbox"
LEAD_PATH = "/superfone/enterprise/api/lead"
UNAUTHORIZED = "UnAuthorized, Please Provide Valid API Key"
_LOOPBACK = ("127.", "::1", "::ffff:127.")


class ConnectionDropped(Exception):
    """Raised on purpose (``drop_after``) once the response has started, so the server cuts the connection."""


class _HideDeliberateDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


def hide_deliberate_drops() -> None:
    """Keep the ``drop_after`` fault's exception out of uvicorn's error log (idempotent)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(existing, _HideDeliberateDrops) for existing in logger.filters):
        logger.addFilter(_HideDeliberateDrops())


async def send_json(send: Send, status: int, payload: Any, *extra: tuple[bytes, bytes]) -> None:
    """Send a complete JSON response."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class KnobsMiddleware:
    """Applies the sandbox's knobs (see the module docstring) around the FastAPI app."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not _under(path, API_PREFIX, ADMIN_PREFIX):
            await self.app(scope, receive, send)
        elif _under(path, ADMIN_PREFIX):
            if _is_loopback(scope):
                await self.app(scope, receive, send)
            else:
                await send_json(send, 403, {"message": "The sandbox admin API only answers loopback clients"})
        else:
            entry = LoggedRequest(scope["method"], path, time.time())
            self.sandbox.log.add(entry)
            try:
                await self._serve_api(scope, receive, send, entry)
            finally:
                entry.finished = time.time()

    async def _serve_api(self, scope: Scope, receive: Receive, send: Send, entry: LoggedRequest) -> None:
        sandbox = self.sandbox
        generation = sandbox.generation
        if scope["method"] == "POST":
            receive = await _buffered(scope, receive, entry)
        recorded = _recording(send, entry)
        if sandbox.config.black_hole:
            await _black_hole(sandbox, generation, recorded, entry)
            return
        wait = sandbox.bucket.take() if sandbox.bucket is not None else 0.0
        if wait:
            entry.retry_after = retry_after_seconds(wait)
            retry = (b"retry-after", str(entry.retry_after).encode())
            await send_json(recorded, 429, {"message": "Too many requests"}, retry)
            return
        config = sandbox.config
        if config.latency_ms:
            await asyncio.sleep(config.latency_ms / 1000)
        if sandbox.generation != generation:  # reset while this request waited: keep the new state clean
            await send_json(recorded, 503, {"message": "Sandbox was reset while the request waited"})
            return
        if not _authorised(scope, config.api_key):
            await send_json(recorded, 401, {"message": UNAUTHORIZED})
            return
        faultable = _faultable(scope["method"], scope["path"], config)
        if faultable and config.quota_after is not None:
            if sandbox.quota_used >= config.quota_after:
                entry.fault, entry.retry_after = "quota", config.quota_retry_after
                retry = (b"retry-after", _seconds_text(config.quota_retry_after).encode())
                await send_json(recorded, 429, {"message": "Too many requests: daily quota exceeded"}, retry)
                return
            sandbox.quota_used += 1
        if faultable and sandbox.faults.throttled(config):
            entry.fault, entry.retry_after = "throttle", config.throttle_retry_after
            retry = (b"retry-after", _seconds_text(config.throttle_retry_after).encode())
            await send_json(recorded, 429, {"message": "Too many requests"}, retry)
            return
        entry.fault = sandbox.faults.draw(config) if faultable else None
        if entry.fault is None:
            await self.app(scope, receive, recorded)
        elif entry.fault == "fail_before":
            await send_json(recorded, 503, {"message": "Service temporarily unavailable"})
        else:
            await self._apply_then_misbehave(scope, receive, recorded, entry.fault)

    async def _apply_then_misbehave(self, scope: Scope, receive: Receive, send: Send, fault: str) -> None:
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        if fault == "fail_after":
            await send_json(send, 500, {"message": "Internal server error"})
        elif fault == "drop_after":
            await send(held[0])
            raise ConnectionDropped("drop_after fault: connection closed before the body")
        else:
            await asyncio.sleep(self.sandbox.config.slow_ms / 1000)
            for message in held:
                await send(message)


async def _black_hole(sandbox: Sandbox, generation: int, send: Send, entry: LoggedRequest) -> None:
    """Hold the request unanswered while ``black_hole`` is on (a stalled server); then answer 503."""
    entry.fault = "black_hole"
    while sandbox.config.black_hole and sandbox.generation == generation:
        await asyncio.sleep(0.05)
    await send_json(send, 503, {"message": "Service temporarily unavailable"})


def _faultable(method: str, path: str, config: SandboxConfig) -> bool:
    """Whether the fault knobs apply to this request (see :class:`SandboxConfig`)."""
    if method != "POST":
        return config.fault_reads
    if path == LEAD_PATH:
        return config.fault_upserts or config.fault_reads
    if path.startswith(LEAD_PATH + "/") and path.endswith("/task"):
        return config.fault_tasks or config.fault_reads
    return config.fault_reads


def _seconds_text(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def _under(path: str, *prefixes: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes)


def _is_loopback(scope: Scope) -> bool:
    client = scope.get("client")
    return client is None or str(client[0]).startswith(_LOOPBACK) or client[0] == "localhost"


def _authorised(scope: Scope, api_key: str) -> bool:
    for name, value in scope["headers"]:
        if name.lower() == b"x-api-key":
            return hmac.compare_digest(value, api_key.encode())
    return False


def _recording(send: Send, entry: LoggedRequest) -> Send:
    async def recording_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            entry.status = message["status"]
        await send(message)

    return recording_send


async def _buffered(scope: Scope, receive: Receive, entry: LoggedRequest) -> Receive:
    """Read the whole body (to log its phone, note and fields) and give the app a receive that replays it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    _describe_body(body, entry, upsert=scope["path"] == LEAD_PATH)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _describe_body(body: bytes, entry: LoggedRequest, upsert: bool) -> None:
    """Log the body's phone, whether it has a note and (upserts) which fields it carries; never other values."""
    try:
        document = json.loads(body)
    except ValueError:
        return
    if isinstance(document, dict):
        phone = document.get("customer_phone")
        entry.customer_phone = phone if isinstance(phone, str) else None
        entry.has_note = bool(document.get("customer_note"))
        if upsert:
            entry.fields = sorted(document)
