"""Reads through the sending engine: :class:`LeadReader` makes get-lead calls (plan, verify) and any other read
(pull's fetches from a source CRM) through :class:`~importer.run.engine.sending.Sender`, so they share its
workers, its one rate limiter and retry policy (429, 5xx and connection errors are retried, Retry-After pauses
everyone, a 401 stops the run), its stop, and its gate: the run's first request goes alone, so a wrong key costs
one request. Results come back in input order.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any, Protocol, TypeVar, cast

from importer.api.ratelimit import DEFAULT_RATE, RateLimiter
from importer.api.retry import RetryPolicy
from importer.errors import ApiError, AuthError
from importer.run.engine.requests import Halted
from importer.run.engine.sending import Sender
from importer.run.engine.stop import Stop
from importer.run.engine.work import DEFAULT_CONCURRENCY, Job, Outcome, Prepare, ReadLead, UpsertClient

__all__ = ["Fetch", "LeadReader", "LeadSource"]

Item = TypeVar("Item")
Result = TypeVar("Result")
Lead = dict[str, Any]
#: Looks one phone up: the lead that has it (primary or secondary), or None.
Fetch = Callable[[str], Lead | None]


class LeadSource(Protocol):
    def get_lead(self, phone: str) -> Lead | None: ...


class _Stopped(ApiError):
    """The reader was closed (or the run stopped) before this lookup ended."""


class LeadReader:
    """get-lead by ``concurrency`` workers at ``rate`` requests per second at most (inf: no limit), through the
    run's one sending engine (:class:`~importer.run.engine.sending.Sender`: its gate, limiter, retries and stop).
    One :meth:`read` per reader."""

    def __init__(
        self,
        client: LeadSource | None,
        rate: float = DEFAULT_RATE,
        concurrency: int = DEFAULT_CONCURRENCY,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        *,
        stop: Stop | None = None,
        max_wait: float = math.inf,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.sender = Sender(cast(UpsertClient, client), rate=rate, concurrency=concurrency, policy=policy,
                             clock=clock, sleep=sleep, stop=stop, max_wait=max_wait, window=concurrency * 4,
                             limiter=limiter)
        self.limiter = self.sender.limiter
        self._closed = False

    @property
    def requests(self) -> int:
        """get-lead calls made, retries included."""
        return self.sender.requests.attempts

    def call(self, request: Callable[[], Result], subject: str) -> Result:
        """Any other read through the engine (a pull's fetch from its source CRM), retried per the policy."""
        if self._closed:
            raise _Stopped("stopped: the reader was closed")
        try:
            return self.sender.requests.call(request, subject)
        except Halted:
            raise _Stopped("stopped: the run was halted") from None

    def get(self, phone: str) -> Lead | None:
        """The lead owning ``phone``, retried per the policy. Raises the last ApiError when it gives up."""
        if self._closed:
            raise _Stopped("stopped: the reader was closed")
        try:
            return self.sender.requests.read_lead(phone)
        except Halted:
            raise _Stopped("stopped: the run was halted") from None

    def read(
        self, items: Iterable[Item], task: Callable[[Item], Result]
    ) -> Generator[tuple[Item, Result | ApiError], None, None]:
        """Run ``task`` on every item (it calls :meth:`get`), yield (item, result) in input order, at most
        ``concurrency × 4`` items ahead of the one yielded. A task that fails with an ApiError yields that error;
        an AuthError stops everything and is raised."""
        window = _Window(iter(items), self.sender.window)

        def prepare(job: Job, read: ReadLead) -> Outcome:
            try:
                result: Any = task(window.item(job.row))
            except Halted:
                raise
            except ApiError as exc:  # an AuthError too: the engine has halted, read() raises it in its turn
                result = exc
            return Outcome(job.row, "succeeded", value=result)

        worker = threading.Thread(target=window.run, args=(self.sender, prepare), name="lead-reader", daemon=True)
        worker.start()
        try:
            yield from window.results()
        finally:
            self._closed = True
            window.close(self.sender)
            worker.join()
        if window.error is not None:
            raise window.error


class _Window:
    """The items a :class:`LeadReader` has handed to the engine and not yielded yet, and their results."""

    def __init__(self, items: Iterator[Any], size: int) -> None:
        self._items = items
        self._size = size
        self._cond = threading.Condition()
        self._admitted: dict[int, Any] = {}
        self._results: dict[int, Any] = {}
        self._closed = self._done = False
        self.error: BaseException | None = None

    def jobs(self) -> Iterator[Job]:
        for number, item in enumerate(self._items):
            with self._cond:
                while len(self._admitted) >= self._size and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                self._admitted[number] = item
            yield Job(number, (), frozenset(), reads=True)

    def item(self, number: int) -> Any:
        with self._cond:
            return self._admitted[number]

    def ended(self, outcome: Outcome) -> None:
        with self._cond:
            self._results[outcome.row] = (outcome.value if outcome.value is not None or outcome.status == "succeeded"
                                          else _Stopped(outcome.message))
            self._cond.notify_all()

    def run(self, sender: Sender, prepare: Prepare) -> None:
        try:
            sender.run(self.jobs(), on_start=lambda job: None, on_outcome=self.ended, prepare=prepare)
        except BaseException as exc:  # an AuthError (a 401): raised by read() once the rows before it are out
            self.error = exc
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def results(self) -> Iterator[tuple[Any, Any]]:
        number = 0
        while True:
            with self._cond:
                while number not in self._results and not self._done:
                    self._cond.wait()
                if number not in self._results:
                    return
                item, result = self._admitted.pop(number), self._results.pop(number)
                self._cond.notify_all()
            if isinstance(result, AuthError):
                raise result
            yield item, result
            number += 1

    def close(self, sender: Sender) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        sender.stop()
