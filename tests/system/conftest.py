"""What the whole-tool tests share: the session's sandbox with its key in SF_API_KEY, as a user's shell has it."""

from __future__ import annotations

import pytest

from importer.sandbox import SandboxServer


@pytest.fixture
def keyed(fresh_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    monkeypatch.setenv("SF_API_KEY", fresh_sandbox.api_key)
    return fresh_sandbox
