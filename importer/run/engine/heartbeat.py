"""No run is silent for long: every ``interval`` seconds a line in the log says what the run is doing or waiting for.

The line goes to the ``importer.run.engine.heartbeat`` logger at INFO: into ``--log-file``, and on the terminal with
``-v``. Each stage of the run says what it is doing with :meth:`Heartbeat.doing` (a text, or a function that tells
it when asked, e.g. the sender's "8 requests in flight, the oldest (row 17) for 42 s").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from importer.threads import fork_safe, start_small

__all__ = ["HEARTBEAT_S", "Heartbeat"]

logger = logging.getLogger(__name__)

#: Seconds between two lines: well under the minute a run may stay silent.
HEARTBEAT_S = 30.0
STACK_BYTES = 256 * 1024


class Heartbeat:
    """A daemon thread logging what the run is doing every ``interval`` seconds, from ``start()`` to ``close()``."""

    def __init__(self, interval: float | None = None) -> None:
        self.interval = interval if interval is not None else HEARTBEAT_S
        self._what: Callable[[], str] = lambda: "starting"
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def doing(self, what: str | Callable[[], str]) -> None:
        """What the run does from now on: a text, or a function returning one."""
        self._what = what if callable(what) else (lambda: what)

    def describe(self) -> str:
        try:
            return self._what()
        except Exception as exc:  # a heartbeat never stops a run
            return f"(cannot tell: {type(exc).__name__})"

    def start(self) -> Heartbeat:
        if self._thread is None:
            self._thread = fork_safe(threading.Thread(target=self._beat, name="heartbeat", daemon=True))
            start_small(self._thread, STACK_BYTES)  # it only waits and logs
        return self

    def _beat(self) -> None:
        while not self._done.wait(self.interval):
            logger.info("still running: %s", self.describe())

    def close(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
