"""The requests of a run, recorded at the client's edge: per second, how many were sent, how many of them were
retries, how each was answered (2xx, 429, another 4xx, 5xx, no answer) and how long the answers took.

:class:`RequestTimeline` is the hook: handed to :class:`~importer.api.client.SuperfoneClient` as its ``observer``,
it hears of every HTTP request the client makes (``request_done``), from any thread. Whether a request is a retry
is the retry loop's knowledge: :class:`~importer.api.retry.Retrying` sets :data:`ATTEMPT` around each attempt
(a context variable, so each worker thread sees its own), and the timeline reads it.

Memory stays bounded however many rows a run sends: nothing is kept per request. Each second of the run is one
slot of a few compact arrays (40 bytes a second: 3.5 MB for a day-long run, whatever its rate), and latencies go
into a fixed histogram of 145 bins (18 a decade from 10 µs to 1,000 s) from which p50 and p95 are read to within
a bin's width (at most 17 %, interpolated inside it). Recording one request costs 1.2-1.5 µs of CPU
(``benchmarks/bench_send.py`` prints the figure), against ~520 µs of the client's own CPU time per request; it
takes no lock of its own (see ``request_done``), so the sending threads never wait on one another for it.
"""

from __future__ import annotations

import math
import threading
import time
from array import array
from bisect import bisect_right
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from importer.models import LIST_KINDS

__all__ = ["ATTEMPT", "COLUMNS", "LATENCY_EDGES", "RequestObserver", "RequestRecord", "RequestTimeline",
           "request_kind"]

#: Which attempt of its call the request being made on this thread is (1 = the first). Set by the retry loop.
ATTEMPT: ContextVar[int] = ContextVar("importer_api_attempt", default=1)

#: Counts kept per second: requests sent, of them retries, and how they were answered (``sent`` is the sum of
#: the last five). ``server_error``: 5xx, or any other answer that is neither 2xx nor 4xx.
COLUMNS: tuple[str, ...] = ("sent", "retried", "ok", "throttled", "client_error", "server_error", "no_answer")

_LEAD_PATH = "/enterprise/api/lead"
#: Requests waiting to be counted before the thread that made the last one counts them (at most ~30 KB of them).
_ADD_UP_AT = 256
_MANTISSAS = (1, 1.1, 1.2, 1.3, 1.5, 1.7, 2, 2.2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9)
#: Upper edges (seconds) of the latency histogram's bins; the last bin holds everything from 1,000 s up.
LATENCY_EDGES: tuple[float, ...] = (*(round(m * 10.0**e, 9) for e in range(-5, 3) for m in _MANTISSAS), 1000.0)


class RequestObserver(Protocol):
    """Hears of every HTTP request a client made: what it was (``upsert``, ``get-lead``, …), its status (None when
    no answer came: connect error, timeout, dropped connection), when it started (``time.perf_counter()``) and
    how long it took in seconds."""

    def request_done(self, kind: str, status: int | None, started: float, latency: float) -> None: ...


def request_kind(method: str, path: str) -> str:
    """What an API request is, from its method and path: ``upsert``, ``get-lead``, ``list-label``, ``create-task``,
    ``list-tasks``, ``complete-task``; anything else ``<method> <path without ids>``."""
    if path == _LEAD_PATH:  # nearly every request of a run: answered without splitting the path
        return "upsert" if method == "POST" else "get-lead"
    parts = [part for part in path.strip("/").split("/") if part not in ("enterprise", "api")]
    method = method.upper()
    if parts == ["lead"]:
        return "upsert" if method == "POST" else "get-lead"
    if len(parts) == 1 and parts[0] in LIST_KINDS and method == "GET":
        return f"list-{parts[0]}"
    if parts[:1] == ["lead"] and parts[2:3] == ["task"]:
        if parts[3:] == ["complete"]:
            return "complete-task"
        if len(parts) == 3:
            return "create-task" if method == "POST" else "list-tasks"
    return f"{method.lower()} /" + "/".join(":id" if part.isdigit() else part for part in parts)


def _column(status: int | None) -> int:
    """Index in :data:`COLUMNS` of how a request was answered."""
    if status is None:
        return 6
    if 200 <= status < 300:
        return 2
    if status == 429:
        return 3
    if 400 <= status < 500:
        return 4
    return 5


class RequestTimeline:
    """Records the requests of one run (thread-safe). ``started_at`` is the wall-clock time of second 0, taken
    when the timeline is made; ``clock`` must be the clock the client times its requests with."""

    def __init__(self, started_at: datetime | None = None, clock: Callable[[], float] = time.perf_counter) -> None:
        self.started_at = started_at if started_at is not None else datetime.now(UTC).astimezone()
        self._origin = clock()
        self._lock = threading.Lock()
        self._pending: deque[tuple[str, int | None, float, float, bool]] = deque()
        self._counts = [array("I") for _ in COLUMNS]
        self._latency_sum = array("d")
        self._latency_max = array("f")
        self._histogram = [0] * (len(LATENCY_EDGES) + 1)
        self._kinds: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()
        self._max = 0.0

    def request_done(self, kind: str, status: int | None, started: float, latency: float) -> None:
        # Appending to a deque needs no lock; whoever finds enough waiting adds them up, unless another thread is
        # already at it. A lock around every request cost 8 % more CPU per request in bench_send.py (16 threads
        # waiting on each other), this costs none that the benchmark can tell from noise.
        self._pending.append((kind, status, started, latency, ATTEMPT.get() > 1))
        if len(self._pending) >= _ADD_UP_AT and self._lock.acquire(blocking=False):
            try:
                self._add_up()
            finally:
                self._lock.release()

    def _add_up(self) -> None:
        """Count the requests waiting in ``_pending`` (the lock held)."""
        counts, pending, origin = self._counts, self._pending, self._origin
        while True:
            try:
                kind, status, started, latency, retry = pending.popleft()
            except IndexError:
                return
            second = max(0, int(started - origin))
            if second >= len(self._latency_sum):
                self._grow(second + 1)
            counts[0][second] += 1
            counts[_column(status)][second] += 1
            if retry:
                counts[1][second] += 1
            self._kinds[kind] += 1
            if status is None:
                continue
            self._statuses[status] += 1
            self._latency_sum[second] += latency
            if latency > self._latency_max[second]:
                self._latency_max[second] = latency
            if latency > self._max:
                self._max = latency
            self._histogram[bisect_right(LATENCY_EDGES, latency)] += 1

    def _grow(self, seconds: int) -> None:
        more = seconds - len(self._latency_sum)
        for counts in self._counts:
            counts.extend(array("I", [0]) * more)
        self._latency_sum.extend(array("d", [0.0]) * more)
        self._latency_max.extend(array("f", [0.0]) * more)

    def record(self) -> RequestRecord:
        """A copy of what was recorded so far."""
        with self._lock:
            self._add_up()
            return RequestRecord(
                started_at=self.started_at,
                counts={name: array("I", counts) for name, counts in zip(COLUMNS, self._counts, strict=True)},
                latency_sum=array("d", self._latency_sum),
                latency_max=array("f", self._latency_max),
                histogram=tuple(self._histogram),
                kinds=dict(self._kinds.most_common()),
                statuses={str(status): n for status, n in sorted(self._statuses.items())},
                max_latency=self._max,
            )


@dataclass(frozen=True)
class Buckets:
    """The timeline merged into buckets of ``step_s`` seconds, for a chart: counts per column, and the average
    and the longest latency (ms) of the answers in each bucket (None where none came)."""

    step_s: int
    counts: dict[str, list[int]]
    latency_avg_ms: list[float | None]
    latency_max_ms: list[float | None]


@dataclass(frozen=True)
class RequestRecord:
    """What a :class:`RequestTimeline` recorded: per second (:data:`COLUMNS`, latencies), per kind and status."""

    started_at: datetime
    counts: dict[str, array[int]]
    latency_sum: array[float]
    latency_max: array[float]
    histogram: tuple[int, ...]
    kinds: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    max_latency: float = 0.0

    @property
    def seconds(self) -> int:
        """Seconds from the start to the last second with a request."""
        return len(self.latency_sum)

    def total(self, column: str) -> int:
        return sum(self.counts[column])

    @property
    def answered(self) -> int:
        return sum(self.histogram)

    def percentile(self, share: float) -> float | None:
        """The latency (seconds) under which ``share`` of the answers came, read from the histogram (linear
        inside a bin); None without answers."""
        answered = self.answered
        if not answered:
            return None
        rank = max(1.0, share * answered)
        below = 0
        for index, count in enumerate(self.histogram):
            if count and below + count >= rank:
                low = LATENCY_EDGES[index - 1] if index else 0.0
                high = LATENCY_EDGES[index] if index < len(LATENCY_EDGES) else self.max_latency
                return min(low + (min(high, self.max_latency) - low) * (rank - below) / count, self.max_latency)
            below += count
        return self.max_latency

    def summary(self) -> dict[str, Any]:
        """summary.json's ``requests``: totals, counts by kind and status, latency p50/p95/max in ms."""
        totals: dict[str, Any] = {"total": self.total("sent")}
        totals.update((name, self.total(name)) for name in COLUMNS[1:])
        latency = {name: _ms(self.percentile(share)) for name, share in (("p50", 0.5), ("p95", 0.95))}
        latency["max"] = _ms(self.max_latency) if self.answered else None
        return {**totals, "by_kind": self.kinds, "by_status": self.statuses, "latency_ms": latency,
                "seconds": self.seconds}

    def rows(self) -> Iterator[list[str]]:
        """requests.csv's lines after its header (:data:`CSV_COLUMNS`): one per second, quiet ones included."""
        for second in range(self.seconds):
            answered = self.counts["sent"][second] - self.counts["no_answer"][second]
            average = self.latency_sum[second] / answered * 1000 if answered else None
            moment = self.started_at + timedelta(seconds=second)
            yield [str(second), moment.isoformat(timespec="milliseconds"),
                   *(str(self.counts[name][second]) for name in COLUMNS),
                   _cell(average), _cell(self.latency_max[second] * 1000 if answered else None)]

    def buckets(self, most: int = 240) -> Buckets:
        """At most ``most`` buckets, each a whole number of seconds from a 1-2-5-like series (1 s, 2 s, 5 s, 10 s,
        15 s, 30 s, 1 min, …)."""
        step = next((s for s in _STEPS if self.seconds <= s * most), math.ceil(self.seconds / most))
        count = math.ceil(self.seconds / step)
        counts = {name: [sum(values[i * step:(i + 1) * step]) for i in range(count)]
                  for name, values in self.counts.items()}
        averages: list[float | None] = []
        longest: list[float | None] = []
        for i in range(count):
            answered = counts["sent"][i] - counts["no_answer"][i]
            total = sum(self.latency_sum[i * step:(i + 1) * step])
            averages.append(total / answered * 1000 if answered else None)
            longest.append(max(self.latency_max[i * step:(i + 1) * step]) * 1000 if answered else None)
        return Buckets(step, counts, averages, longest)


    def latency_bins(self) -> list[tuple[float, float, int]]:
        """The answers' latencies in bins on a 1-2-5 scale (…, 1–2 ms, 2–5 ms, 5–10 ms, …) as ``(low, high, count)``
        in seconds, from the first bin with an answer to the last; the lowest starts at 0, the highest ends at
        infinity when it holds the answers of 1,000 s and more."""
        coarse: list[int] = [0] * (len(_COARSE_EDGES) + 1)
        for index, count in enumerate(self.histogram):
            coarse[_COARSE_OF[index]] += count
        used = [index for index, count in enumerate(coarse) if count]
        if not used:
            return []
        bins = []
        for index in range(used[0], used[-1] + 1):
            low = _COARSE_EDGES[index - 1] if index else 0.0
            high = _COARSE_EDGES[index] if index < len(_COARSE_EDGES) else math.inf
            bins.append((low, high, coarse[index]))
        return bins


#: requests.csv's header.
CSV_COLUMNS: tuple[str, ...] = ("second", "time", *COLUMNS, "latency_avg_ms", "latency_max_ms")
_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
_COARSE_EDGES: tuple[float, ...] = tuple(edge for edge in LATENCY_EDGES
                                         if round(edge / 10 ** math.floor(math.log10(edge) + 1e-9), 6) in (1, 2, 5))
#: For each fine bin, the 1-2-5 bin holding it (every coarse edge is a fine edge, so none straddles two).
_COARSE_OF: tuple[int, ...] = (*(bisect_right(_COARSE_EDGES, edge * (1 - 1e-9)) for edge in LATENCY_EDGES),
                               len(_COARSE_EDGES))


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _cell(milliseconds: float | None) -> str:
    return "" if milliseconds is None else f"{milliseconds:.1f}"
