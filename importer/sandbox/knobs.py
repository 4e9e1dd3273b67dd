"""The sandbox's knobs: configuration, a token-bucket rate limiter, seeded fault draws and the request log."""

from __future__ import annotations

import math
import random
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from importer.errors import ConfigError

#: Faults in the order they are drawn. ``fail_before`` answers 503 without applying; ``fail_after`` applies,
#: then answers 500; ``drop_after`` applies, then closes the connection mid-response; ``slow`` applies, then
#: answers after ``slow_ms``.
FAULTS: tuple[str, ...] = ("fail_before", "fail_after", "drop_after", "slow")


#: Knobs that hold keys: never shown, never changed at runtime.
SECRET_KNOBS = ("api_key", "leadsquared_access_key", "leadsquared_secret_key", "pollybot_api_key")


@dataclass(frozen=True)
class SandboxConfig:
    """Everything that can be tuned. ``rate`` None means no rate limit; ``burst`` None means ``ceil(rate)``.

    Faults hit POST /lead only, unless ``fault_reads`` extends them to every API request; ``fault_tasks`` makes
    them hit task creation (POST /lead/:id/task) too, and ``fault_upserts`` false spares POST /lead. Each such request
    draws once per fault, in :data:`FAULTS` order, and gets the first fault whose draw falls under its
    probability; ``fault_seed`` makes that sequence reproducible. The after-faults replace whatever the
    route answered (a 400 included), as a proxy failing after the backend would. The API key is left out
    of reprs and of :meth:`public`.
    """

    api_key: str = field(default="demo-key", repr=False)
    rate: float | None = None
    burst: int | None = None
    latency_ms: float = 0
    fail_before: float = 0.0
    fail_after: float = 0.0
    drop_after: float = 0.0
    slow: float = 0.0
    slow_ms: float = 5000
    #: Chance that a faultable request is answered 429 with ``Retry-After: throttle_retry_after`` (which may be
    #: fractional, unlike a real server's whole seconds, so that soak tests of many 429s stay fast).
    throttle: float = 0.0
    throttle_retry_after: float = 1.0
    fault_seed: int | None = None
    fault_reads: bool = False
    fault_tasks: bool = False
    fault_upserts: bool = True
    #: A spent daily quota: after this many faultable requests, every further one is answered 429 with
    #: ``Retry-After: quota_retry_after`` seconds (an hour by default). None: no quota. Setting it starts the count.
    quota_after: int | None = None
    quota_retry_after: float = 3600.0
    #: A stalled server: every API request is accepted and never answered (until the knob is turned off or the
    #: sandbox is reset, when it gets a 503).
    black_hole: bool = False
    log_limit: int = 1_000_000
    #: The source CRMs the sandbox also serves (importer.sandbox.leadsquared, .pollybot): their keys (left out
    #: of reprs and of :meth:`public`) and LeadSquared's documented limit, ``leadsquared_limit`` calls in any
    #: ``leadsquared_window_s`` seconds.
    leadsquared_access_key: str = field(default="demo-access-key", repr=False)
    leadsquared_secret_key: str = field(default="demo-secret-key", repr=False)
    pollybot_api_key: str = field(default="sk-workspace_demo", repr=False)
    leadsquared_limit: int = 25
    leadsquared_window_s: float = 5.0

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem:
            raise ConfigError(f"sandbox: {problem}")

    def _problem(self) -> str | None:
        if not self.api_key:
            return "--api-key must not be empty"
        if self.rate is not None and not self.rate > 0:
            return f"--rate must be above 0 (got {self.rate})"
        if self.burst is not None and self.burst < 1:
            return f"--burst must be at least 1 (got {self.burst})"
        for name in ("latency_ms", "slow_ms"):
            if not getattr(self, name) >= 0:
                return f"--{name.replace('_', '-')} must be 0 or more (got {getattr(self, name)})"
        if not self.throttle_retry_after > 0:
            return f"--throttle-retry-after must be above 0 (got {self.throttle_retry_after})"
        if not self.quota_retry_after > 0:
            return f"--quota-retry-after must be above 0 (got {self.quota_retry_after})"
        if self.quota_after is not None and self.quota_after < 0:
            return f"--quota-after must be 0 or more (got {self.quota_after})"
        for name in (*FAULTS, "throttle"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                flag = name.replace("_", "-")
                return f"--{flag} must be a probability between 0 and 1 (got {getattr(self, name)})"
        if self.log_limit < 1:
            return f"log_limit must be at least 1 (got {self.log_limit})"
        if self.leadsquared_limit < 1 or not self.leadsquared_window_s > 0:
            return "leadsquared_limit must be at least 1 and leadsquared_window_s above 0"
        if not (self.leadsquared_access_key and self.leadsquared_secret_key and self.pollybot_api_key):
            return "the source CRMs' keys must not be empty"
        return None

    def public(self) -> dict[str, Any]:
        """The knobs as JSON (what GET /__sandbox/config shows): everything but the API key."""
        knobs = asdict(self)
        for secret in SECRET_KNOBS:
            del knobs[secret]
        return knobs

    def merged(self, changes: dict[str, Any]) -> SandboxConfig:
        """A copy with ``changes`` applied; unknown or ill-typed knobs raise ConfigError."""
        types = {knob.name: knob.type for knob in fields(self) if knob.name not in SECRET_KNOBS}
        for name, value in changes.items():
            if name not in types:
                raise ConfigError(f"sandbox: unknown knob {name!r}")
            if not _fits(str(types[name]), value):
                raise ConfigError(f"sandbox: {name} has the wrong type ({value!r})")
        return replace(self, **changes)


def _fits(annotation: str, value: Any) -> bool:
    if value is None:
        return "None" in annotation
    if isinstance(value, bool):
        return annotation.startswith("bool")
    if annotation.startswith("int"):
        return isinstance(value, int)
    if annotation.startswith("float"):
        return isinstance(value, int | float)
    return False


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` stored. ``take`` returns 0, or seconds until a token."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()

    def take(self) -> float:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate


def retry_after_seconds(wait: float) -> int:
    """The ``Retry-After`` header value for a wait: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(wait))


class FaultPicker:
    """Draws which fault (if any) a request suffers, reproducibly for a given seed."""

    def __init__(self, seed: int | None) -> None:
        self._random = random.Random(seed)
        # Throttling draws from its own stream: turning it on leaves a seed's fault sequence as it was.
        self._throttle_random = random.Random(None if seed is None else seed + 1)

    def throttled(self, config: SandboxConfig) -> bool:
        return config.throttle > 0 and self._throttle_random.random() < config.throttle

    def draw(self, config: SandboxConfig) -> str | None:
        picked = None
        for name in FAULTS:
            roll = self._random.random()  # always four draws, so one request never shifts the next
            if picked is None and roll < getattr(config, name):
                picked = name
        return picked


def endpoint(method: str, path: str) -> str:
    """A request's method and path as one endpoint: the API prefix left out, numeric ids as ``:id``
    (``POST /enterprise/api/lead/:id/task``)."""
    parts = path.split("/")[2:] if path.startswith("/superfone/") else path.split("/")[1:]  # the API's prefix
    return f"{method} /" + "/".join(":id" if part.isdigit() else part for part in parts)


@dataclass(slots=True)
class LoggedRequest:
    method: str
    path: str
    started: float
    customer_phone: str | None = None
    has_note: bool = False
    status: int | None = None
    finished: float | None = None
    fault: str | None = None
    retry_after: float | None = None
    #: An upsert's top-level body keys, sorted (None for other requests and bodies that are not JSON objects).
    fields: list[str] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "started": self.started,
            "finished": self.finished,
            "customer_phone": self.customer_phone,
            "has_note": self.has_note,
            "fault": self.fault,
            "retry_after": self.retry_after,
            "fields": self.fields,
        }


class RequestLog:
    """The newest ``limit`` requests, oldest first, and how many requests came to each endpoint since the last
    clear (every one, however many the log has room for)."""

    def __init__(self, limit: int) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=limit)
        self._counts: Counter[str] = Counter()

    def add(self, entry: LoggedRequest) -> None:
        self._entries.append(entry)
        self._counts[endpoint(entry.method, entry.path)] += 1

    def clear(self) -> None:
        self._entries.clear()
        self._counts.clear()

    def counts(self) -> dict[str, Any]:
        """``{"total": n, "by_endpoint": {"POST /enterprise/api/lead": n, ...}}`` since the last clear."""
        by_endpoint = dict(sorted(self._counts.items()))
        return {"total": sum(by_endpoint.values()), "by_endpoint": by_endpoint}

    def resize(self, limit: int) -> None:
        if limit != self._entries.maxlen:
            self._entries = deque(self._entries, maxlen=limit)

    def as_json(self) -> list[dict[str, Any]]:
        return [entry.as_json() for entry in list(self._entries)]
