"""Reading leads back with get-lead, for ``run --plan`` and ``verify``.

:class:`LeadReader` makes get-lead calls the way the sender makes upserts: a pool of workers sharing one rate
limiter and one retry policy (429, 5xx and connection errors are retried, Retry-After pauses everyone, a 401
stops the run), the first request alone so a wrong key costs one request. Results come back in input order.

:class:`ReadbackImporter` is the pass two that plan and verify share: replay the checked rows, look up every
valid row that would be sent, and write one line per row to a CSV in the run folder.
"""

from __future__ import annotations

import csv
import json
import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

from importer.api.client import SuperfoneClient
from importer.api.ratelimit import RateLimiter
from importer.api.retry import RetryPolicy, Retrying
from importer.errors import ApiError, AuthError, ConfigError
from importer.readback.compare import merge_requests
from importer.report import ReportWriter, neutralise
from importer.run.importer import Importer, Prepared
from importer.run.options import Progress, RunOptions, Tally

__all__ = ["Fetch", "LeadReader", "LeadSource", "ReadbackImporter", "Target"]

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
        rate: float = 10.0,
        concurrency: int = 8,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.client = client
        self.concurrency = concurrency
        self.limiter = RateLimiter(rate if rate > 0 else math.inf, clock=clock, sleep=sleep)
        self.retrying = Retrying(policy, self.limiter, clock=clock, sleep=sleep)
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
    """A valid row that would be sent: its number, its requests merged into one payload, its phones."""

    row: int
    payload: dict[str, Any]
    phones: tuple[str, ...]

    @property
    def customer_phone(self) -> str:
        return str(self.payload.get("customer_phone", ""))


class ReadbackImporter(Importer):
    """A dry run whose pass two looks every row's lead up and writes ``file_name`` (one line per row).

    Subclasses give the CSV columns, the summary key and the statuses counted under it, and two methods:
    :meth:`examine` (in a worker: look the row up, return a result) and :meth:`line` (the result's status and
    CSV cells). ``counts`` holds every status, zeros included, in ``statuses`` order.
    """

    payload_parts = False  # pass two replays every row and its requests from the spill

    file_name: ClassVar[str]
    columns: ClassVar[tuple[str, ...]]
    summary_key: ClassVar[str]
    statuses: ClassVar[tuple[str, ...]]
    #: Statuses that make the exit code 1 (and count as failed on the progress bar).
    problems: ClassVar[tuple[str, ...]]
    phase: ClassVar[str] = "reading leads"

    def __init__(self, sheet: str | Path, mapping: str | Path, options: RunOptions | None = None,
                 progress: Progress | None = None, *, policy: RetryPolicy | None = None) -> None:
        super().__init__(sheet, mapping, options, progress)
        self.options.dry_run = True  # nothing is ever sent
        self.policy = policy
        self.counts: Counter[str] = Counter()

    def _client(self) -> SuperfoneClient | None:
        client = super()._client()
        if client is None:
            raise ConfigError(f"{self.summary_key} reads the account: set SF_API_KEY (or use --sandbox), "
                              "and do not combine it with --offline")
        return client

    def _pass_two(self, client: SuperfoneClient | None, prepared: Prepared, writer: ReportWriter,
                  started: datetime) -> tuple[Tally, dict[str, Any]]:
        assert client is not None
        tally = Tally()
        reader = LeadReader(client, self.options.rate, self.options.concurrency, self.policy)
        self.progress.start(self.phase, None)
        with open(writer.folder / self.file_name, "w", encoding="utf-8-sig", newline="") as stream:
            table = csv.writer(stream)
            table.writerow([neutralise(c) for c in self.columns])
            targets = self._targets(prepared, writer, tally)
            for target, outcome in reader.read(targets, lambda t: self.examine(t, reader.get)):
                status, cells = self.line(target, outcome)
                self.counts[status] += 1
                table.writerow([neutralise(cell) for cell in cells])
                self.progress.advance(1, failed=int(status in self.problems))
        self.progress.finish()
        counts = {status: self.counts[status] for status in self.statuses}
        counts.update((status, n) for status, n in self.counts.items() if status not in counts)
        return tally, {"mode": self.summary_key, self.summary_key: counts, "lookups": reader.requests}

    def _targets(self, prepared: Prepared, writer: ReportWriter, tally: Tally) -> Iterator[Target]:
        """Replay pass one like a dry run (issues, payloads, counts) and yield the rows that would be sent."""
        for spilled, _, verdict in prepared.replay(writer, tally):
            if verdict != "send":
                continue
            result = spilled.result
            writer.add_payload_json(result.number, result.requests)
            payload = merge_requests(json.loads(text) for text in result.requests)
            yield Target(result.number, payload, result.phones)

    def _exit_code(self, tally: Tally) -> int:
        return 1 if any(self.counts[status] for status in self.problems) else 0

    def examine(self, target: Target, fetch: Fetch) -> Any:
        raise NotImplementedError

    def line(self, target: Target, outcome: Any) -> tuple[str, list[str]]:
        raise NotImplementedError


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
