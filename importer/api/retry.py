"""What to do after a failed request: the retry table, as a pure function of the error and the attempt.

    error                         retry?   delay                                   note
    ─────────────────────────────────────────────────────────────────────────────────────────────
    TransientError (connect, 408,  yes     Retry-After if the server sent one,      kept
      429, 502, 503, 504)                  else full jitter U(0, min(cap, base·2ⁿ))
    UncertainError (read timeout,  yes     same                                     stripped: it may
      dropped connection, 500)                                                      already be on the lead
    RejectedError (400, 404)       no      —                                        —
    AuthError (401)                no      — (the sender stops the whole run)       —
    any other ApiError (3xx, …)    no      —                                        —

``n`` is the number of attempts made so far; after ``max_attempts`` the row fails with the last reason.
Each retry and each 429 is logged at INFO on ``importer.api.retry`` (what a ``--log-file`` keeps).

A run's :class:`~importer.run.engine.stop.Stop` handed to :class:`Retrying` cuts its waits short and keeps it from
starting a retry once the run is stopping (``StopRequested``); a Retry-After longer than ``max_wait`` is not waited
through: it stops the run (``quota``).

:class:`Retrying` is the one retry loop of the package: sending, reading leads back and fetching the catalog all
call the API through it, with the policy of the run (``RunOptions.retry``).
"""

from __future__ import annotations

import logging
import math
import random as random_module
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Protocol, TypeVar

from importer.api.ratelimit import RateLimiter
from importer.api.timeline import ATTEMPT
from importer.errors import ApiError, AuthError, RejectedError, StopRequested, TransientError, UncertainError
from importer.outcomes import StopReason


class Stop(Protocol):
    """What the retry loop needs of a run's stop (:class:`importer.run.engine.stop.Stop` is one): whether it was
    requested, a sleep that ends early when it is, and a way to request it."""

    @property
    def requested(self) -> bool: ...

    def sleep(self, seconds: float) -> None: ...

    def request(self, reason: StopReason, detail: str = "") -> bool: ...

T = TypeVar("T")

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one failed request: try again after ``delay`` seconds, with or without the note."""

    retry: bool
    delay: float = 0.0
    strip_note: bool = False


GIVE_UP = Decision(retry=False)


class RetryPolicy:
    """Exponential backoff with full jitter, capped; a server's Retry-After wins over the backoff.

    ``max_retry_after`` bounds how long one Retry-After may stall the run (a misbehaving server could
    ask for a day). ``random`` is injectable so tests can pin the jitter.
    """

    def __init__(
        self,
        max_attempts: int = 6,
        base: float = 0.5,
        cap: float = 30.0,
        random: random_module.Random | None = None,
        max_retry_after: float = 600.0,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if base < 0 or cap < 0 or max_retry_after < 0:
            raise ValueError("base, cap and max_retry_after must not be negative")
        self.max_attempts = max_attempts
        self.base = base
        self.cap = cap
        self.max_retry_after = max_retry_after
        self._random = random if random is not None else random_module.Random()

    def __repr__(self) -> str:
        return f"RetryPolicy(max_attempts={self.max_attempts}, base={self.base}, cap={self.cap})"

    def decide(self, error: ApiError, attempt: int) -> Decision:
        """Decide what follows the failed ``attempt`` (1 = the first request) that raised ``error``."""
        if isinstance(error, AuthError | RejectedError):
            return GIVE_UP
        if not isinstance(error, TransientError | UncertainError):
            return GIVE_UP
        if attempt >= self.max_attempts:
            return GIVE_UP
        return Decision(
            retry=True,
            delay=self.delay(error, attempt),
            strip_note=isinstance(error, UncertainError),
        )

    def delay(self, error: ApiError, attempt: int) -> float:
        """Seconds to wait before the next attempt: the server's Retry-After, else jittered backoff."""
        if error.retry_after is not None:
            return min(max(0.0, error.retry_after), self.max_retry_after)
        return self.backoff(attempt)

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base · 2**attempt)]."""
        ceiling = min(self.cap, self.base * 2.0 ** min(attempt, 64))
        return self._random.uniform(0.0, ceiling)


class Retrying:
    """Calls the API until a call succeeds or the policy gives up, pacing every attempt through ``limiter``.

    A 429 tells the limiter (it may halve the rate); a Retry-After pauses every caller sharing the limiter,
    other waits sleep this caller only. ``before_attempt`` runs before each attempt (the sender holds its
    first-request gate there) and ``on_error`` sees each failure with the policy's decision before the wait
    (the sender strips the note there when the outcome is unknown). Raises the last error when it gives up.
    ``subject`` names what is being sent in the log lines of retries and 429s (the sender: ``row 7``).

    ``stop``: the run's stop. Once it is requested no retry starts (``StopRequested``), and waits end early (with
    the default ``sleep``, waits are the stop's own). A Retry-After longer than ``max_wait`` seconds requests a
    ``quota`` stop instead of being waited through. ``on_wait(seconds)`` hears of each Retry-After that is waited
    through (the progress bar shows it).
    """

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        *,
        stop: Stop | None = None,
        max_wait: float = math.inf,
        on_wait: Callable[[float], None] | None = None,
    ) -> None:
        if stop is not None and sleep is time.sleep:
            sleep = stop.sleep
        self.policy = policy if policy is not None else RetryPolicy()
        self.limiter = limiter if limiter is not None else RateLimiter(math.inf, clock=clock, sleep=sleep)
        self._clock = clock
        self._sleep = sleep
        self.stop = stop
        self.max_wait = max_wait
        self._on_wait = on_wait

    def call(
        self,
        request: Callable[[], T],
        *,
        before_attempt: Callable[[], None] | None = None,
        on_error: Callable[[ApiError, Decision], None] | None = None,
        subject: str = "request",
    ) -> T:
        attempt = 0
        stop = self.stop
        stopping = (lambda: stop.requested) if stop is not None else None
        while True:
            if attempt and stopping is not None and stopping():
                raise StopRequested(f"{subject}: not retried: the run is stopping")
            if before_attempt is not None:
                before_attempt()
            self.limiter.acquire(stopping)
            attempt += 1
            token = ATTEMPT.set(attempt)  # the request timeline tells retries by it
            try:
                result = request()
            except ApiError as exc:
                decision = self.policy.decide(exc, attempt)
                if exc.status == 429:
                    self.limiter.on_throttled()
                if on_error is not None:
                    on_error(exc, decision)
                if decision.retry or exc.status == 429:
                    _log_retry(subject, attempt, exc, decision)
                if not decision.retry:
                    raise
                self._check_quota(exc, subject)
                self._wait(exc, decision.delay)
                continue
            finally:
                ATTEMPT.reset(token)
            self.limiter.on_success()
            return result

    def _check_quota(self, error: ApiError, subject: str) -> None:
        """A Retry-After longer than ``max_wait``: stop the run (``quota``) rather than wait through it."""
        if error.retry_after is None or error.retry_after <= self.max_wait:
            return
        asked = _seconds(error.retry_after)
        detail = f"the API asked to wait {asked} (Retry-After), more than --max-wait {_seconds(self.max_wait)}"
        logger.warning("%s: %s: stopping the run", subject, detail)
        if self.stop is not None:
            self.stop.request(StopReason.QUOTA, detail)
        raise StopRequested(detail) from error

    def _wait(self, error: ApiError, delay: float) -> None:
        if error.retry_after is not None:
            if self._on_wait is not None:
                self._on_wait(delay)
            self.limiter.pause_until(self._clock() + delay)  # everyone waits; acquire() does the waiting
        elif delay > 0:
            self._sleep(delay)


def _seconds(value: float) -> str:
    return f"{value:g} s" if value < 10 else f"{value:.0f} s"


def _log_retry(subject: str, attempt: int, error: ApiError, decision: Decision) -> None:
    """One line per retry and per 429: what, which attempt, why, and how long until the next one."""
    reason = error.message if error.status is None or error.message.startswith("HTTP") \
        else f"HTTP {error.status}: {error.message}"
    then = f"retrying in {decision.delay:.2f} s" if decision.retry else "giving up"
    if error.status == 429:
        logger.info("%s: throttled (429) on attempt %d (%s); %s", subject, attempt, reason, then)
    else:
        logger.info("%s: attempt %d failed (%s); %s", subject, attempt, reason, then)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (``now`` = Unix time).

    A date in the past gives 0. Anything unparseable, negative or non-finite gives None.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        return _seconds_until_http_date(text, now)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def _seconds_until_http_date(text: str, now: float) -> float | None:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - now)
