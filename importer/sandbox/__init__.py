"""A faithful local Superfone Enterprise API (FastAPI on uvicorn), for trying mappings and for tests.

It serves the lead endpoints (upsert, get) and the five catalogue lists under ``/superfone``, behind the same
``x-api-key`` check and with the documented status codes and messages, plus an admin API under ``/__sandbox``
(loopback only) to inspect leads and notes, read the request log and turn knobs: rate limit, latency, faults.

Choices where the documentation is silent are listed in :mod:`importer.sandbox.rules` (upsert) and
:mod:`importer.sandbox.catalog` (lists). In short: upsert's ``customer_phone`` matches primary phones only
(open question 6), get-lead matches any phone.

    from importer.sandbox import SandboxServer, SandboxConfig
    with SandboxServer(SandboxConfig(api_key="demo-key"), port=0) as server:
        server.base_url   # http://127.0.0.1:54321/superfone
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from importer.sandbox.knobs import FAULTS, SandboxConfig

if TYPE_CHECKING:
    from importer.sandbox.app import create_app
    from importer.sandbox.seed import Seed, default_seed_path, load_seed
    from importer.sandbox.server import SandboxServer
    from importer.sandbox.state import Sandbox

# The server stack (FastAPI, uvicorn) loads on first use, so ``superfone-import run`` does not pay for it.
_LAZY = {
    "create_app": "importer.sandbox.app",
    "Sandbox": "importer.sandbox.state",
    "SandboxServer": "importer.sandbox.server",
    "Seed": "importer.sandbox.seed",
    "default_seed_path": "importer.sandbox.seed",
    "load_seed": "importer.sandbox.seed",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)

__all__ = [
    "FAULTS",
    "Sandbox",
    "SandboxConfig",
    "SandboxServer",
    "Seed",
    "create_app",
    "default_seed_path",
    "load_seed",
]
