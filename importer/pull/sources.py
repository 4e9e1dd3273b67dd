"""The two source CRMs as pull sees them: how a key is read from the sheet, how a lead is fetched, how it is paced.

A source is one small object with the same members (no subclassing): ``name``, ``title``, ``key_name``,
``columns`` (the key column's likely names), ``prepare`` (cell → key or Issue), ``limiter`` (the pacing the
source documents) and ``fetch(key)`` → :class:`Fetched`.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from importer.api.ratelimit import RateLimiter
from importer.pull.keys import Prepare, lead_id_key, phone_key
from importer.pull.leadsquared import CALLS, PER_SECONDS, LeadSquaredClient
from importer.pull.pollybot import PollyBotClient

Clock = Callable[[], float]
Sleep = Callable[[float], None]
#: PollyBot documents no limit; pull asks it this many times a second unless told otherwise (--rate).
POLLYBOT_RATE = 10.0
#: LeadSquared's 25 calls per 5 s, with a tenth of a second of slack for network jitter.
LEADSQUARED_RATE = CALLS / (PER_SECONDS + 0.1)


@dataclass(frozen=True, slots=True)
class Fetched:
    """A source's answer for one key: the lead (None: no such lead) and, if any, a warning about it."""

    lead: dict[str, Any] | None
    warning: str | None = None
    matches: int = field(default=1)


class Window:
    """At most ``calls`` sends in any ``per`` seconds, by the times they really started (a sliding window).

    The rate limiter paces calls by when they were due; a call that started late (a slow machine, a long sleep)
    could then sit in one window with 25 calls after it. ``admit`` runs just before each send and waits until
    the oldest of the last ``calls`` sends is ``per`` seconds old.
    """

    def __init__(self, calls: int, per: float, clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self._calls, self._per = calls, per
        self._clock, self._sleep = clock, sleep
        self._sent: deque[float] = deque(maxlen=calls)

    def admit(self) -> None:
        if len(self._sent) == self._calls:
            wait = self._sent[0] + self._per - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._sent.append(self._clock())


class Source(Protocol):
    name: str
    title: str
    key_name: str
    columns: tuple[str, ...]

    def prepare(self, row: int, column: str, text: str) -> Any: ...

    def fetch(self, key: str) -> Fetched: ...

    def scrub(self, text: str) -> str: ...

    def lead_id(self, lead: dict[str, Any]) -> str | None: ...

    def limiter(self, rate: float | None, clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> RateLimiter:
        ...

    def close(self) -> None: ...


class LeadSquaredSource:
    """RetrieveLeadByPhoneNumber for each phone; several matches keep the first (the most recent activity)."""

    name, title, key_name = "leadsquared", "LeadSquared", "phone"
    columns: tuple[str, ...] = ("Phone", "Mobile", "Phone Number", "Mobile Number", "customer_phone")

    def __init__(self, client: LeadSquaredClient, region: str = "IN") -> None:
        self.client = client
        self._prepare: Prepare = phone_key(region)
        self._window: Window | None = None

    def prepare(self, row: int, column: str, text: str) -> Any:
        return self._prepare(row, column, text)

    def fetch(self, key: str) -> Fetched:
        if self._window is not None:
            self._window.admit()
        leads = self.client.leads_by_phone(key)
        if not leads:
            return Fetched(None)
        if len(leads) == 1:
            return Fetched(leads[0])
        kept = leads[0].get("ProspectID") or "?"
        return Fetched(leads[0], f"LeadSquared has {len(leads)} leads with this phone; kept the first "
                                 f"(ProspectID {kept}, the most recent activity)", matches=len(leads))

    def scrub(self, text: str) -> str:
        return self.client.scrub(text)

    @staticmethod
    def lead_id(lead: dict[str, Any]) -> str | None:
        identity = lead.get("ProspectID")
        return identity if isinstance(identity, str) and identity else None

    def limiter(self, rate: float | None, clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> RateLimiter:
        """The documented 25 calls per 5 s at most (``rate`` may only lower it), one call at a time, no burst; and a
        :class:`Window` of 25 calls per 5.1 s on the times the calls really start."""
        self._window = Window(CALLS, PER_SECONDS + 0.1, clock, sleep)
        return RateLimiter(min(rate or LEADSQUARED_RATE, LEADSQUARED_RATE), burst=1, clock=clock, sleep=sleep)

    def close(self) -> None:
        self.client.close()


class PollyBotSource:
    """Get Lead for each id; ids that are not ``lead_[alphanumeric]`` are refused before any call."""

    name, title, key_name = "pollybot", "PollyBot", "id"
    columns: tuple[str, ...] = ("id", "lead_id", "leadId", "Lead ID")

    def __init__(self, client: PollyBotClient) -> None:
        self.client = client

    def prepare(self, row: int, column: str, text: str) -> Any:
        return lead_id_key(row, column, text)

    def fetch(self, key: str) -> Fetched:
        return Fetched(self.client.lead(key))

    def scrub(self, text: str) -> str:
        return self.client.scrub(text)

    @staticmethod
    def lead_id(lead: dict[str, Any]) -> str | None:
        identity = lead.get("id")
        return identity if isinstance(identity, str) and identity else None

    def limiter(self, rate: float | None, clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> RateLimiter:
        chosen = rate or POLLYBOT_RATE
        return RateLimiter(chosen, burst=1 if not math.isinf(chosen) else None, clock=clock, sleep=sleep)

    def close(self) -> None:
        self.client.close()
