"""Stopping early on the command line: the flags, the signal handlers and exit code 3.

    --max-wait SECONDS     the longest Retry-After waited through (default 300); a longer one stops the run
    --time-limit DURATION  stop cleanly once the run has taken this long (6h, 45m, 90s, 1h30m)

SIGTERM, SIGHUP and SIGINT (Ctrl-C) ask the run to stop (on Windows: SIGTERM, SIGINT and SIGBREAK, Ctrl-Break)
(:class:`~importer.run.engine.stop.Stop`): it sends nothing new, lets the requests in flight finish, writes its report
and exits 3. A second signal exits at once with 128 + the signal's number (143 for SIGTERM), without a report: the
journal and the sync state are written one transaction at a time, so they are as consistent as after ``kill -9``
and the same command resumes.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from importer.outcomes import StopReason
from importer.run.context.settings import DEFAULT_MAX_WAIT, argument, read_duration, read_seconds
from importer.run.engine.stop import Stop

__all__ = ["EXIT_STOPPED", "add_stop_arguments", "stop_on_signals"]

EXIT_STOPPED = 3
#: SIGTERM and SIGINT everywhere; SIGHUP where it exists (not on Windows); SIGBREAK (Ctrl-Break) on Windows.
SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGINT", "SIGBREAK") if hasattr(signal, name))


def add_stop_arguments(command: argparse.ArgumentParser) -> None:
    """``--max-wait`` and ``--time-limit``, for every command that talks to the API at length."""
    command.add_argument("--max-wait", type=argument(read_seconds), default=DEFAULT_MAX_WAIT, metavar="SECONDS",
                         help="the longest wait the API may ask for (Retry-After) before the run stops instead "
                              f"(exit 3; default: {DEFAULT_MAX_WAIT:g})")
    command.add_argument("--time-limit", type=argument(read_duration), metavar="DURATION",
                         help="stop cleanly once the run has taken this long, e.g. 6h, 45m, 90s (exit 3)")


@contextmanager
def stop_on_signals(stop: Stop) -> Iterator[Stop]:
    """While the block runs, SIGTERM, SIGHUP and SIGINT request ``stop``; a second one exits at once. Signal
    handlers belong to the main thread: elsewhere (a test calling ``main`` from a thread) nothing is installed."""
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    received: list[int] = []

    def handle(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if received:
            _say(f"superfone-import: second signal ({name}): stopped at once, without a report; run the same "
                 "command again to continue\n")
            os._exit(128 + signum)
        received.append(signum)
        _say(f"superfone-import: {name}: stopping: nothing new is sent, the report is being written "
             "(a second signal stops at once)\n")
        # Another thread asks: the handler may have interrupted this one inside a lock the stop's callbacks take.
        threading.Thread(target=stop.request, args=(StopReason.SIGNAL, f"{name} received"), daemon=True).start()

    previous = {number: signal.signal(number, handle) for number in SIGNALS}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _say(text: str) -> None:
    """One line on stderr, straight to the file descriptor: safe inside a signal handler."""
    try:
        os.write(2, text.encode("utf-8", "replace"))
    except OSError:
        pass
