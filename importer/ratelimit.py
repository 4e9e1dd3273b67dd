"""A thread-safe, adaptive token bucket shared by all sending workers.

The bucket is kept as a "theoretical arrival time" (GCRA): each request reserves the next slot
``1/rate`` after the previous one, and may run up to ``burst - 1`` slots early. Reserving a slot
and then sleeping outside the lock means waiting workers never spin and never stampede.

Adaptive: a 429 halves the rate (floor 1/s, at most once per ``cooldown`` seconds, because the
workers in flight all see the same 429); every ``recovery_window`` seconds without one, a success
adds a tenth of the configured rate back, so the pool is at full speed again about five seconds later.
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
from collections.abc import Callable

logger = logging.getLogger(__name__)

DEFAULT_BURST_SECONDS = 0.05


def default_burst(rate: float) -> float:
    """50 ms worth of tokens, at least one request."""
    if math.isinf(rate):
        return 1.0
    return max(1.0, rate * DEFAULT_BURST_SECONDS)


class RateLimiter:
    """Token bucket at ``rate`` requests per second (``math.inf``: no limit, pauses still apply)."""

    def __init__(
        self,
        rate: float = 10.0,
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

    def acquire(self) -> None:
        """Block until this caller may send one request."""
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
            now = self._clock()
            if math.isinf(self._rate) or now - self._last_decrease < self._cooldown:
                return
            self._rate = max(self._floor, self._rate * 0.5)
            self._last_change = self._last_decrease = now
            new_rate = self._rate
        logger.info("rate limited by the server: slowing down to %.1f requests/s", new_rate)

    def on_success(self) -> None:
        """A request succeeded: after a quiet recovery window (a pause does not count), step the rate up."""
        with self._lock:
            if self._rate >= self.configured_rate:
                return
            now = self._clock()
            if now - max(self._last_change, self._paused_until) < self._recovery_window:
                return
            self._rate = min(self.configured_rate, self._rate + self._step)
            self._last_change = now
