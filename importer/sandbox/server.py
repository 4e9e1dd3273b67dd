"""Serve a sandbox with uvicorn: in a background thread (:class:`SandboxServer`) or in the foreground."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import requests
import uvicorn

from importer.errors import ConfigError
from importer.sandbox.app import create_app
from importer.sandbox.knobs import SandboxConfig
from importer.sandbox.middleware import hide_deliberate_drops
from importer.sandbox.seed import load_seed
from importer.sandbox.state import Sandbox

_START_TIMEOUT_S = 15.0


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free port). ConfigError when it cannot bind."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so (else ~40 ms per request).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"sandbox: cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    sock.set_inheritable(True)
    return sock


def uvicorn_server(sandbox: Sandbox, access_log: bool = False) -> uvicorn.Server:
    """A uvicorn server for ``sandbox``: warnings only, no access log, quick shutdown."""
    config = uvicorn.Config(
        create_app(sandbox),
        log_level="warning",
        access_log=access_log,
        lifespan="off",
        timeout_graceful_shutdown=2,
        backlog=2048,
    )
    hide_deliberate_drops()
    return uvicorn.Server(config)


class SandboxServer:
    """A sandbox served on a real port from a background thread; use it as a context manager.

    The helper methods talk HTTP to the admin endpoints, exactly as any other client would.
    """

    def __init__(
        self,
        config: SandboxConfig | None = None,
        seed: str | Path | None = None,
        db: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.config = config or SandboxConfig()
        self._seed_path = seed
        self._db = db
        self._host = host
        self._port = port
        self._sandbox: Sandbox | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._session: requests.Session | None = None
        self.port = port

    def __repr__(self) -> str:
        return f"SandboxServer(host={self._host!r}, port={self.port})"

    @property
    def base_url(self) -> str:
        """What the importer's client takes, e.g. ``http://127.0.0.1:54321/superfone``."""
        return f"http://{self._url_host()}:{self.port}/superfone"

    @property
    def leadsquared_url(self) -> str:
        """LeadSquared's API as the sandbox serves it: what pull takes as ``LSQ_HOST``."""
        return f"http://{self._url_host()}:{self.port}/leadsquared"

    @property
    def pollybot_url(self) -> str:
        """PollyBot's API as the sandbox serves it: what pull takes as ``POLLYBOT_BASE_URL``."""
        return f"http://{self._url_host()}:{self.port}/pollybot"

    @property
    def google_url(self) -> str:
        """Google as the sandbox serves it: ``…/google/token`` (a service account's ``token_uri``) and
        ``…/google/sheets`` (what a gsheets:// source takes as ``SF_SHEETS_API_URL``)."""
        return f"http://{self._url_host()}:{self.port}/google"

    @property
    def admin_url(self) -> str:
        return f"http://{self._url_host()}:{self.port}/__sandbox"

    @property
    def api_key(self) -> str:
        return self.config.api_key

    def _url_host(self) -> str:
        return f"[{self._host}]" if ":" in self._host else self._host

    def start(self) -> SandboxServer:
        """Bind, serve in a thread and return once the server accepts connections."""
        sandbox = Sandbox(self.config, load_seed(self._seed_path), self._db)
        try:
            sock = bind_socket(self._host, self._port)
        except ConfigError:
            sandbox.close()
            raise
        self.port = sock.getsockname()[1]
        self._sandbox = sandbox
        self._server = uvicorn_server(sandbox)
        self._thread = threading.Thread(
            target=self._serve, args=(self._server, sock), name=f"sandbox-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise ConfigError(f"sandbox: the server on port {self.port} did not start")
            time.sleep(0.005)
        self._session = requests.Session()
        return self

    @staticmethod
    def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()

    def stop(self) -> None:
        """Stop serving, wait for the thread and release the store. Safe to call twice."""
        if self._session is not None:
            self._session.close()
            self._session = None
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join()
        self._server = self._thread = None
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    # --- admin helpers ------------------------------------------------------------------------------------

    def _admin(self, method: str, path: str, body: Any = None) -> Any:
        if self._session is None:
            raise RuntimeError("the sandbox server is not running")
        response = self._session.request(method, f"{self.admin_url}{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def leads(self) -> list[dict[str, Any]]:
        """Every lead, with its phones, labels, products, stage, group, assignee phone and notes."""
        result: list[dict[str, Any]] = self._admin("GET", "/leads")
        return result

    def lead(self, phone: str) -> dict[str, Any] | None:
        """The inspected lead that has ``phone`` in any position, or None."""
        return next((lead for lead in self.leads() if phone in lead["phones"]), None)

    def delete_lead(self, phone: str) -> bool:
        """Delete the lead that has ``phone`` in any position, as a person does in the dashboard; False if none."""
        if self._session is None:
            raise RuntimeError("the sandbox server is not running")
        response = self._session.delete(f"{self.admin_url}/leads/{quote(phone, safe='')}", timeout=30)
        if response.status_code == 404:
            return False
        response.raise_for_status()
        return True

    def requests(self) -> list[dict[str, Any]]:
        """The request log, oldest first."""
        result: list[dict[str, Any]] = self._admin("GET", "/requests")
        return result

    def request_counts(self) -> dict[str, Any]:
        """Every API request since the log was last cleared, however long: ``total`` and ``by_endpoint``
        (``{"GET /enterprise/api/lead": n, "POST /enterprise/api/lead": n, ...}``)."""
        result: dict[str, Any] = self._admin("GET", "/requests/counts")
        return result

    def source_requests(self) -> dict[str, list[dict[str, Any]]]:
        """The calls to the source CRMs (LeadSquared: phone and status; PollyBot: id and status), oldest first."""
        result: dict[str, list[dict[str, Any]]] = self._admin("GET", "/sources/requests")
        return result

    def clear_requests(self) -> None:
        self._admin("DELETE", "/requests")

    def configure(self, **knobs: Any) -> dict[str, Any]:
        """Change knobs at runtime (``rate=50, burst=10``, ``fail_after=0.2`` …); returns them all."""
        result: dict[str, Any] = self._admin("PATCH", "/config", knobs)
        return result

    def config_now(self) -> dict[str, Any]:
        result: dict[str, Any] = self._admin("GET", "/config")
        return result

    def reset(self, config: bool = False) -> None:
        """Seed state again, clear the log; ``config=True`` also restores the starting knobs."""
        self._admin("POST", "/reset", {"config": config})
