"""Test doubles shared by several test modules."""

from __future__ import annotations

import threading


class FakeClock:
    """A monotonic clock that only moves when someone sleeps on it; ``sleeps`` records every sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds
