"""Shared fixtures: a sandbox served on a real loopback port for the whole session.

``sandbox`` is the session's server; tests that change state or knobs take ``fresh_sandbox`` instead, which
restores the seed state and the starting knobs and clears the request log first. ``api`` is a small HTTP
client for the sandbox's Superfone API (with the right key unless told otherwise).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from importer.sandbox import SandboxConfig, SandboxServer

API_KEY = "demo-key"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--screenshots", metavar="DIR", default=None,
                     help="where the browser tests save a screenshot of each step (default: under pytest's tmp)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Chromium, the browser tests are left out (tests/ui/browser.py); the summary says so in one line."""
    from tests.ui.browser import BROWSER_MODULES, missing

    if missing() is None:
        return
    left_out = [item for item in items if item.nodeid.startswith(BROWSER_MODULES)]
    if left_out:
        items[:] = [item for item in items if not item.nodeid.startswith(BROWSER_MODULES)]
        config.hook.pytest_deselected(items=left_out)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    from tests.ui.browser import in_scope, skipped_line

    line = skipped_line()
    if line and in_scope(config.args, config.invocation_params.dir):
        terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def state_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own per-user data folder (SF_HOME), so the per-account states of two tests never meet; the
    subprocesses a test starts inherit it."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("SF_HOME", str(home))
    monkeypatch.delenv("SF_STATE", raising=False)
    return home


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster (tests/postgres.py), started once per test process that needs one."""
    from tests.postgres import INSTALL, cluster, server_programs

    if server_programs() is None:
        pytest.skip(f"PostgreSQL's initdb and pg_ctl not found; to run these tests: {INSTALL}")
    with cluster() as url:
        yield url


@pytest.fixture
def postgres_state(postgres_server: str) -> str:
    """The URL of an empty database of this test's own, on the throwaway cluster."""
    from tests.postgres import new_database

    return new_database(postgres_server)


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
