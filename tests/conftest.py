"""Shared fixtures: a sandbox served on a real loopback port for the whole session.

``sandbox`` is the session's server; tests that change state or knobs take ``fresh_sandbox`` instead, which
restores the seed state and the starting knobs and clears the request log first. ``api`` is a small HTTP
client for the sandbox's Superfone API (with the right key unless told otherwise).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from importer.sandbox import SandboxConfig, SandboxServer

API_KEY = "demo-key"


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(api_key=API_KEY), host="127.0.0.1", port=0) as server:
        yield server


@pytest.fixture
def fresh_sandbox(sandbox: SandboxServer) -> Iterator[SandboxServer]:
    """The session's sandbox with seed state, starting knobs and an empty log; put back that way afterwards, so
    no knob a test turned on (a rate limit, faults) reaches the next test."""
    sandbox.reset(config=True)
    yield sandbox
    sandbox.reset(config=True)


class SandboxApi:
    """Raw HTTP calls to the sandbox's Superfone API, returning ``requests`` responses."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.session = requests.Session()
        self.headers = {"x-api-key": server.api_key}

    def url(self, path: str) -> str:
        return f"{self.server.base_url}/enterprise/api/{path}"

    def upsert(self, body: Any, headers: dict[str, str] | None = None) -> requests.Response:
        return self.session.post(self.url("lead"), json=body, headers=headers or self.headers, timeout=30)

    def post_raw(self, data: bytes, headers: dict[str, str] | None = None) -> requests.Response:
        sent = {**self.headers, "content-type": "application/json", **(headers or {})}
        return self.session.post(self.url("lead"), data=data, headers=sent, timeout=30)

    def get_lead(self, phone: str | None) -> requests.Response:
        params = {} if phone is None else {"phone": phone}
        return self.session.get(self.url("lead"), params=params, headers=self.headers, timeout=30)

    def get(self, path: str, headers: dict[str, str] | None = None, **params: Any) -> requests.Response:
        return self.session.get(self.url(path), params=params, headers=headers or self.headers, timeout=30)

    def close(self) -> None:
        self.session.close()


@pytest.fixture
def api(fresh_sandbox: SandboxServer) -> Iterator[SandboxApi]:
    client = SandboxApi(fresh_sandbox)
    yield client
    client.close()
