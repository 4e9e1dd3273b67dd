"""Stopping a run before its end, cleanly: one :class:`Stop` object shared by everything a run does.

Whoever decides that a run must stop calls :meth:`Stop.request` with a reason (:class:`importer.outcomes.StopReason`):

    signal      SIGTERM, SIGHUP or SIGINT (Ctrl-C) reached the process (the CLI's handler asks)
    quota       the API asked for a longer wait (Retry-After) than ``--max-wait`` allows
    time-limit  the run's ``--time-limit`` is spent
    disk-full   a report file, the journal or the sync state could not be written: no space left
    asked       someone asked for it (the web page's Stop button)

The first request wins; later ones are ignored. Everything that waits during a run waits on the stop too
(:meth:`Stop.sleep`), so a stop never sits behind a backoff or a Retry-After. A stopped run sends nothing new, lets
the requests in flight finish (within a grace period), writes its whole report with summary.json ``stopped`` and
``rows_left``, and leaves every unsent row unconfirmed in the journal and the sync state: running the same command
again sends exactly those rows. The CLI turns a stopped run into exit code 3.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from importer.errors import StopRequested
from importer.outcomes import REQUESTED, StopReason

__all__ = ["REASONS", "Stop", "StopReason", "StopRequested", "estimate_line", "parse_duration", "plan_fit_line",
           "show_duration", "stop_line"]

#: The reasons a stop may be requested for.
REASONS: tuple[StopReason, ...] = REQUESTED

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd]?)")


class Stop:
    """A run's stop: thread-safe; ``request`` may come from a signal handler, a timer or any worker.

    ``on_request(callback)`` registers a callback run once, in the requesting thread, when the stop is requested
    (at once if it already was): the sender uses it to wake its workers.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._reason: StopReason | None = None
        self._detail = ""
        self._callbacks: list[Callable[[], None]] = []
        self._timer: threading.Timer | None = None

    def __repr__(self) -> str:
        return f"Stop(reason={self._reason!r})" if self._reason else "Stop()"

    def request(self, reason: StopReason | str, detail: str = "") -> bool:
        """Ask the run to stop, for ``reason`` (``detail``: one phrase saying what happened). True when this call
        was the first; a run stops for the first reason only."""
        if reason not in REASONS:
            raise ValueError(f"not a reason to stop: {reason!r} (expected one of {', '.join(REASONS)})")
        with self._lock:
            if self._reason is not None:
                return False
            self._reason, self._detail = StopReason(reason), detail
            callbacks, self._callbacks = self._callbacks, []
            self._event.set()
        for callback in callbacks:
            callback()
        return True

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    @property
    def reason(self) -> StopReason | None:
        return self._reason

    @property
    def detail(self) -> str:
        return self._detail

    def on_request(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if self._reason is None:
                self._callbacks.append(callback)
                return
        callback()

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if the stop is requested meanwhile (then return at once)."""
        if seconds > 0:
            self._event.wait(seconds)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the stop is requested (True) or ``timeout`` seconds passed (False)."""
        return self._event.wait(timeout)

    def limit_time(self, seconds: float) -> None:
        """Request a ``time-limit`` stop ``seconds`` from now (a timer; :meth:`close` cancels it)."""
        detail = f"the time limit of {show_duration(seconds)} is spent"
        timer = threading.Timer(seconds, self.request, args=(StopReason.TIME_LIMIT, detail))
        timer.daemon = True
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = timer
        timer.start()

    def close(self) -> None:
        """Cancel the time limit's timer, if any (the run is over)."""
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def __enter__(self) -> Stop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def parse_duration(text: str) -> float:
    """Seconds in ``6h``, ``45m``, ``90s``, ``1h30m`` or a plain number of seconds; ValueError otherwise."""
    cleaned = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(cleaned)
    if not cleaned or "".join(number + unit for number, unit in parts) != cleaned:
        raise ValueError(f"expected a duration like 6h, 45m, 90s or 1h30m, got {text!r}")
    if len(parts) > 1 and any(not unit for _, unit in parts):
        raise ValueError(f"expected a duration like 6h, 45m, 90s or 1h30m, got {text!r}")
    seconds = sum(float(number) * _UNITS[unit or "s"] for number, unit in parts)
    if seconds <= 0:
        raise ValueError(f"a duration must be more than 0, got {text!r}")
    return seconds


def show_duration(seconds: float) -> str:
    """``21600`` → ``6h``, ``2700`` → ``45m``, ``5400`` → ``1h30m``, ``90`` → ``1m30s``, ``2.5`` → ``2.5s``."""
    if seconds < 60:
        return f"{seconds:g}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return "".join(f"{value}{unit}" for value, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if value)


def _what_to_do(reason: str) -> str:
    if reason == "disk-full":
        return "free some space, then run the same command again to send the rest"
    if reason == "quota":
        return "run the same command again once that wait is over (or raise --max-wait) to send the rest"
    return "run the same command again to send the rest"


def stop_line(summary: Mapping[str, Any]) -> str | None:
    """The one line that says why a run stopped and what to do, from its summary.json; None if it did not stop."""
    reason = summary.get("stopped")
    if reason not in REASONS:
        return None
    why = summary.get("stopped_because") or reason
    left = summary.get("rows_left", 0)
    rows = f"{left} row{'s' if left != 1 else ''} left unsent"
    return f"stopped ({reason}): {why}; {rows}: {_what_to_do(str(reason))}"


def plan_fit_line(summary: Mapping[str, Any], time_limit: float | None) -> str | None:
    """A plan's warning when applying it (its requests at its rate: summary.json ``apply``) will not fit in
    ``time_limit`` seconds, else None."""
    apply = summary.get("apply")
    if time_limit is None or not isinstance(apply, Mapping) or not apply.get("seconds"):
        return None
    if float(apply["seconds"]) <= time_limit:
        return None
    return (f"plan: applying it takes about {show_duration(float(apply['seconds']))} at {apply.get('rate', 0):g}/s, "
            f"more than --time-limit {show_duration(time_limit)}: apply would stop before the end (run it again to "
            "send the rest)")


def estimate_line(rows: int, rate: float, time_limit: float | None) -> str | None:
    """A warning when ``rows`` requests at ``rate`` per second will not fit in ``time_limit`` seconds, else None
    (a rough estimate: a row is one request, rows a sync finds unchanged are not sent)."""
    if time_limit is None or rate <= 0 or rate == float("inf"):
        return None
    needed = rows / rate
    if needed <= time_limit:
        return None
    return (f"{rows} rows to send at {rate:g} requests/s take about {show_duration(needed)}, more than "
            f"--time-limit {show_duration(time_limit)}: the run will stop before the end (run it again to send "
            "the rest)")
