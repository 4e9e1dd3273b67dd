"""A thread-safe, adaptive token bucket shared by all sending workers.

The bucket is kept as a "theoretical arrival time" (GCRA): each request reserves the next slot
``1/rate`` after the previous one, and may run up to ``burst - 1`` slots early. Reserving a slot
and then sleeping outside the lock means waiting workers never spin and never stampede.

Adaptive: a 429 halves the rate (floor 1/s, at most once per ``cooldown`` seconds, because the
workers in flight all see the same 429) when 429s are more than a fifth of the last 20 answers: being
over the server's limit shows as a run of 429s, while a stray one among many successes is noise that its
Retry-After pause already answers (halving on every stray 429 would pin the pool near the floor). Every
``recovery_window`` seconds without a change, a success adds a tenth of the configured rate back, so the
pool is at full speed again about five seconds later.
``pause_until(t)`` (a Retry-After) holds every worker until ``t``, then restarts paced, without a burst.
With no limit (``rate=math.inf``) there is no rate to halve: 429s then act through Retry-After and backoff only.

Default burst: 50 ms worth of tokens, at least one. The sender is always backlogged, so a burst never
raises sustained throughput; it only absorbs sleep overshoot. Keeping it small leaves the server's own
bucket slack to absorb network jitter, which is what keeps 429s away when --rate equals the server's limit.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable

from importer.errors import StopRequested

logger = logging.getLogger(__name__)

DEFAULT_BURST_SECONDS = 0.05
#: The rate is halved when 429s are more than this share of the last RECENT_ANSWERS answers.
THROTTLED_SHARE = 0.2
RECENT_ANSWERS = 20


def default_burst(rate: float) -> float:
    """50 ms worth of tokens, at least one request."""
    if math.isinf(rate):
        return 1.0
    return max(1.0, rate * DEFAULT_BURST_SECONDS)

#: Requests per second of a run, unless told otherwise (``--rate``; importer.run.context.settings).
DEFAULT_RATE = 10.0


class RateLimiter:
    """Token bucket at ``rate`` requests per second (``math.inf``: no limit, pauses still apply)."""

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        *,
        floor: float = 1.0,
        cooldown: float = 1.0,
        recovery_window: float = 1.0,
    ) -> None:
        if not rate > 0:
            raise ValueError("rate must be positive")
        if burst is not None and not burst >= 1:
            raise ValueError("burst must be at least 1")
        self.configured_rate = float(rate)
        self.burst = float(burst) if burst is not None else default_burst(rate)
        self._clock = clock
        self._sleep = sleep
        self._floor = min(floor, self.configured_rate)
        self._cooldown = cooldown
        self._recovery_window = recovery_window
        self._step = self.configured_rate / 10.0
        self._lock = threading.Lock()
        self._rate = self.configured_rate
        self._tat = -math.inf  # theoretical arrival time of the next request
        self._paused_until = -math.inf
        self._last_change = -math.inf  # last time the rate moved, either way
        self._last_decrease = -math.inf
        self.throttle_count = 0  # every 429 reported, including those inside a cooldown
        self._recent: deque[bool] = deque(maxlen=RECENT_ANSWERS)  # True for a 429

    def __repr__(self) -> str:
        return f"RateLimiter(rate={self._rate:g}, configured={self.configured_rate:g}, burst={self.burst:g})"

    @property
    def rate(self) -> float:
        """The rate currently in force (below the configured one after a 429)."""
        with self._lock:
            return self._rate

    @property
    def paused_until(self) -> float:
        with self._lock:
            return self._paused_until

    def _interval(self) -> float:
        return 0.0 if math.isinf(self._rate) else 1.0 / self._rate

    def acquire(self, stopping: Callable[[], bool] | None = None) -> None:
        """Block until this caller may send one request. ``stopping``: asked after each wait; once it is true the
        caller gives up its turn (``StopRequested``): a run that stops sends nothing new."""
        while True:
            with self._lock:
                now = self._clock()
                interval = self._interval()
                tolerance = (self.burst - 1.0) * interval
                begin = max(now, self._paused_until)
                arrival = max(self._tat, begin - tolerance)
                start = max(arrival, begin)
                self._tat = arrival + interval
                wait = start - now
            if wait > 0:
                self._sleep(wait)
                if stopping is not None and stopping():
                    raise StopRequested("the run is stopping")
            with self._lock:
                if self._clock() >= self._paused_until:
                    return
            # A pause was declared while we slept: our slot fell inside it; reserve a new one.

    def pause_until(self, moment: float) -> None:
        """Hold every worker until ``moment`` (same clock as ``clock``); then resume paced, no burst."""
        with self._lock:
            if moment <= self._paused_until:
                return
            self._paused_until = moment
            self._tat = max(self._tat, moment)

    def on_throttled(self) -> None:
        """A 429 arrived: halve the rate, at most once per cooldown, never below the floor."""
        with self._lock:
            self.throttle_count += 1
            self._recent.append(True)
            now = self._clock()
            if math.isinf(self._rate) or now - self._last_decrease < self._cooldown:
                return
            if sum(self._recent) <= THROTTLED_SHARE * len(self._recent):
                return  # a stray 429 among many successes
            self._recent.clear()
            self._rate = max(self._floor, self._rate * 0.5)
            self._last_change = self._last_decrease = now
            new_rate = self._rate
        logger.info("rate limited by the server: slowing down to %.1f requests/s", new_rate)

    def on_success(self) -> None:
        """A request succeeded: ``recovery_window`` seconds after the last change, step the rate up."""
        with self._lock:
            self._recent.append(False)
            if self._rate >= self.configured_rate:
                return
            now = self._clock()
            if now - self._last_change < self._recovery_window:
                return  # (pauses do not hold recovery back: stray 429s come with a pause each)
            self._rate = min(self.configured_rate, self._rate + self._step)
            self._last_change = now
