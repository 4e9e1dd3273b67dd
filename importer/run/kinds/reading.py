"""Reading leads back with get-lead, for ``run --plan`` and ``verify``.

:class:`LeadReader` makes get-lead calls the way the sender makes upserts: a pool of workers sharing one rate
limiter and one retry policy (429, 5xx and connection errors are retried, Retry-After pauses everyone, a 401
stops the run), the first request alone so a wrong key costs one request. Results come back in input order.

:class:`ReadBack` is what plan and verify share: look up every checked row that would be sent, and write one
line per row to a CSV in the run folder.
"""

from __future__ import annotations

import csv
import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from importer.api.ratelimit import DEFAULT_RATE, RateLimiter
from importer.api.retry import Retrying, RetryPolicy
from importer.errors import ApiError, AuthError, StopRequested
from importer.report import Summary, neutralise
from importer.report.records import LookupCounts
from importer.run.context.kind import RunContext
from importer.run.context.rows import CheckedBatch
from importer.run.engine.stop import Stop
from importer.run.engine.work import DEFAULT_CONCURRENCY
from importer.run.rules.compare import merge_requests

__all__ = ["Fetch", "LeadReader", "LeadSource", "ReadBack", "Target"]

Item = TypeVar("Item")
Result = TypeVar("Result")
Lead = dict[str, Any]
#: Looks one phone up: the lead that has it (primary or secondary), or None.
Fetch = Callable[[str], Lead | None]


class LeadSource(Protocol):
    def get_lead(self, phone: str) -> Lead | None: ...


class _Stopped(ApiError):
    """The reader was closed (or the run stopped) before this lookup started."""


class LeadReader:
    """get-lead by ``concurrency`` workers at ``rate`` requests per second at most (inf: no limit)."""

    def __init__(
        self,
        client: LeadSource,
        rate: float = DEFAULT_RATE,
        concurrency: int = DEFAULT_CONCURRENCY,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        *,
        stop: Stop | None = None,
        max_wait: float = math.inf,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if stop is not None and sleep is time.sleep:
            sleep = stop.sleep
        self.client = client
        self.concurrency = concurrency
        self.limiter = RateLimiter(rate if rate > 0 else math.inf, clock=clock, sleep=sleep)
        self.retrying = Retrying(policy, self.limiter, clock=clock, sleep=sleep, stop=stop, max_wait=max_wait)
        self.window = concurrency * 4
        self._lock = threading.Lock()
        self._stop: ApiError | None = None
        self.requests = 0

    def get(self, phone: str) -> Lead | None:
        """The lead owning ``phone``, retried per the policy. Raises the last ApiError when it gives up."""

        def before_attempt() -> None:
            if self._stop is not None:
                raise self._stop
            with self._lock:
                self.requests += 1

        try:
            return self.retrying.call(lambda: self.client.get_lead(phone), before_attempt=before_attempt)
        except AuthError as exc:
            self._stop = exc
            raise

    def read(
        self, items: Iterable[Item], task: Callable[[Item], Result]
    ) -> Generator[tuple[Item, Result | ApiError], None, None]:
        """Run ``task`` on every item (it calls :meth:`get`), yield (item, result) in input order.

        A task that fails with an ApiError yields that error; an AuthError stops everything and is raised.
        """
        iterator = iter(items)
        for first in iterator:  # alone: a wrong key costs exactly one request
            yield first, self._run(task, first)
            break
        window: deque[tuple[Item, Future[Result | ApiError]]] = deque()
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="readback") as pool:
            try:
                for item in iterator:
                    window.append((item, pool.submit(self._run, task, item)))
                    if len(window) >= self.window:
                        done, future = window.popleft()
                        yield done, future.result()
                while window:
                    done, future = window.popleft()
                    yield done, future.result()
            finally:
                if window:
                    self._stop = self._stop or _Stopped("stopped")
                    for _, future in window:
                        future.cancel()

    def _run(self, task: Callable[[Item], Result], item: Item) -> Result | ApiError:
        try:
            return task(item)
        except AuthError:
            raise
        except ApiError as exc:
            return exc


# --- the pass two of plan and verify ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """A valid row that would be sent: its number, its requests merged into one payload, its phones, and the
    requests themselves (``fallback``: sent instead when the lead turns out deleted, see the sync)."""

    row: int
    payload: dict[str, Any]
    phones: tuple[str, ...]
    requests: tuple[dict[str, Any], ...] = ()
    fallback: tuple[dict[str, Any], ...] = ()

    @property
    def customer_phone(self) -> str:
        return str(self.payload.get("customer_phone", ""))


#: Looks a row's lead up (in a worker thread) and returns what it found; turns that into (status, CSV cells).
Examine = Callable[[Target, Fetch], Any]
Line = Callable[[Target, Any], tuple[str, list[str]]]


@dataclass(frozen=True)
class ReadBack:
    """How a kind of run that reads leads back reports them: one CSV line per row, counted by status.

    ``statuses`` are always in the summary (zeros included); ``problems`` make the exit code 1 (and count as
    failed on the progress bar).
    """

    file_name: str
    columns: tuple[str, ...]
    summary_key: str
    statuses: tuple[str, ...]
    problems: tuple[str, ...]
    phase: str

    def run(self, targets: Iterator[Target], run: RunContext, examine: Examine, line: Line) -> Counter[str]:
        """Look up every row that would be sent (``targets``), write ``file_name``."""
        assert run.client is not None
        counts: Counter[str] = Counter()
        reader = LeadReader(run.client, run.options.rate, run.options.concurrency, run.options.retry,
                            stop=run.stop, max_wait=run.options.max_wait)
        run.progress.start(self.phase, None)
        try:
            with open(run.writer.folder / self.file_name, "w", encoding="utf-8-sig", newline="") as stream:
                table = csv.writer(stream)
                table.writerow([neutralise(c) for c in self.columns])
                for target, outcome in reader.read(targets, lambda t: examine(t, reader.get)):
                    status, cells = line(target, outcome)
                    counts[status] += 1
                    table.writerow([neutralise(cell) for cell in cells])
                    run.progress.advance(1, failed=int(status in self.problems))
        except StopRequested:
            pass  # the run stopped: the rows looked up so far are reported (summary.json says it stopped)
        finally:
            run.progress.finish()
        found = {status: counts[status] for status in self.statuses}
        found.update((status, n) for status, n in counts.items() if status not in found)
        run.summary.lookup = LookupCounts(self.summary_key, found)
        run.summary.lookups = reader.requests
        return counts

    def has_problems(self, summary: Summary) -> bool:
        counts = summary.lookup.counts if summary.lookup is not None else {}
        return any(counts.get(status) for status in self.problems)


def targets(batches: Iterator[CheckedBatch], run: RunContext) -> Iterator[Target]:
    """The rows that would be sent, their payloads written to payloads.jsonl as a dry run writes them."""
    for batch in batches:
        if run.stop.requested:
            return
        run.writer.add_payloads(batch.sent_lines())
        for row in batch:
            if row.verdict == "send":
                yield Target(row.number, merge_requests(row.requests), row.phones, row.requests)


def lead_name(lead: Lead) -> str:
    """``12345 (Asha Kumar)``: how messages name a lead."""
    name = " ".join(str(part) for part in (lead.get("first_name"), lead.get("last_name")) if part)
    return f"{lead.get('id')} ({name})" if name else str(lead.get("id"))


def primary_phone(lead: Lead) -> str | None:
    phones = lead.get("phones") or []
    first = phones[0] if phones else None
    return str(first.get("phone")) if isinstance(first, dict) else None


def lead_phones(lead: Lead) -> list[str]:
    return [str(entry.get("phone")) for entry in lead.get("phones") or [] if isinstance(entry, dict)]
