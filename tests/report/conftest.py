"""Servers the notification tests start on loopback ports: a webhook that records each POST, an SMTP inbox."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SMTP_PASSWORD = "pa$$-w0rd:CANARY/42"  # URL-encoded in SF_SMTP_URL
SMTP_PASSWORD_URL = "pa%24%24-w0rd%3ACANARY%2F42"
TOKEN = "tok3n-CANARY-9b1e55aa"


@dataclass
class Webhook:
    """A loopback HTTP server that records each POST and answers ``status`` (with ``location`` on a redirect)."""

    status: int = 200
    location: str | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 — http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hook.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(hook.status)
                if hook.location:
                    self.send_header("Location", hook.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — quiet
                pass

        return Handler


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    yield from serve_webhook(Webhook())


@pytest.fixture
def other_webhook() -> Iterator[Webhook]:
    yield from serve_webhook(Webhook())


def serve_webhook(hook: Webhook) -> Iterator[Webhook]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), hook.handler())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hook/{TOKEN}?token={TOKEN}"
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class Inbox:
    """An aiosmtpd handler keeping each message, the logins it was given, and refusing recipients if told."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)
    refuse: bool = False
    port: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.original_content)))
        return "250 Message accepted"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == SMTP_PASSWORD.encode(), handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_inbox(inbox: Inbox, auth: bool) -> Iterator[Inbox]:
    inbox.port = free_port()
    extra: dict[str, Any] = {"authenticator": inbox.authenticate, "auth_require_tls": False} if auth else {}
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port, ready_timeout=5, **extra)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    yield from serve_inbox(Inbox(), auth=False)


@pytest.fixture
def auth_inbox() -> Iterator[Inbox]:
    yield from serve_inbox(Inbox(), auth=True)


