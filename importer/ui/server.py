"""Serve the page with uvicorn on 127.0.0.1: in a background thread (:class:`UiServer`, for tests), or in the
foreground from ``superfone-import ui`` (:func:`listen` and :func:`uvicorn_server`)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from importer.errors import ConfigError
from importer.private import owner_only
from importer.ui.app import create_app
from importer.ui.settings import UiSettings

HOST = "127.0.0.1"
_START_TIMEOUT_S = 15.0


def listen(port: int) -> socket.socket:
    """A socket listening on 127.0.0.1:``port`` (0: a free port); ConfigError when it cannot bind."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"ui: cannot listen on {HOST}:{port} ({exc.strerror or exc}); try another --port") from None
    return sock


def uvicorn_server(settings: UiSettings) -> uvicorn.Server:
    config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False, lifespan="off",
                            timeout_graceful_shutdown=2)
    return uvicorn.Server(config)


class UiServer:
    """The page served from a background thread on a free loopback port; a context manager."""

    def __init__(self, settings: UiSettings, port: int = 0) -> None:
        self.settings = settings
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> UiServer:
        sock = listen(self.port)
        self.port = sock.getsockname()[1]
        self._server = server = uvicorn_server(self.settings)
        self._thread = threading.Thread(target=_serve, args=(server, sock), name=f"ui-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise ConfigError(f"ui: the server on port {self.port} did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> UiServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
    try:
        with owner_only():  # uploads, mappings and run folders hold leads' data: their owner's (importer.private)
            server.run(sockets=[sock])
    finally:
        sock.close()

