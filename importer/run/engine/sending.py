"""The sending engine: a pool of workers sharing one rate limiter, one retry policy and one client.

- Jobs are read lazily, at most ``window`` admitted and unfinished at a time.
- Rows that share any phone are never in flight together and keep sheet order: each job waits for the
  last earlier job holding each of its phones (a chain per phone).
- The very first request goes alone: a wrong key costs exactly one request, not one per worker, and
  a server that cannot be reached at all stops the run (TransientError) after that row's retries.
- A 401 stops the run: no new request starts, in-flight ones finish, then ``run`` raises AuthError.
- A request whose outcome is unknown (UncertainError) is retried without ``customer_note`` and, if it
  carried one, the row ends ``in_doubt`` ("note may not have been added"): a note is never sent twice.
- ``prepare`` (optional) sees each job just before its first write, with a function that reads a lead through
  the same limiter and retries (get-lead): it returns the job to send (perhaps other requests), or the row's
  outcome when nothing is to be sent (apply: a lead changed since its plan; undo: nothing left to restore).
- The run's :class:`~importer.run.engine.stop.Stop` (a signal, a quota-length Retry-After, the time limit, a full
  disk): no job starts and no retry is made any more; requests in flight finish within ``grace`` seconds. A job cut
  short ends ``stopped`` (its Outcome says whether any of its requests may have been applied); a job still in
  flight after the grace period is abandoned, with no outcome at all (as if the process had been killed).

Concurrency default 8: by Little's law the pool sustains ``concurrency / latency`` requests per second,
so 8 workers keep the default rate (10/s) up to 800 ms per request; raise it with the rate
(``rate × latency × 1.5``, e.g. 16 for 50/s at 200 ms).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator

from importer.api.ratelimit import DEFAULT_RATE, RateLimiter
from importer.api.retry import Retrying, RetryPolicy
from importer.errors import StopRequested
from importer.run.engine.chains import Entry, PhoneChains
from importer.run.engine.requests import Gate, Requests
from importer.run.engine.stop import Stop
from importer.run.engine.work import (
    DEFAULT_CONCURRENCY,
    DEFAULT_GRACE,
    Job,
    LeadClient,
    Outcome,
    Prepare,
    ReadLead,
    UpsertClient,
)

logger = logging.getLogger(__name__)

#: Called before a job's first request; may return what waits until that start is recorded (:meth:`Sender.run`).
OnStart = Callable[[Job], Callable[[], None] | None]


class Sender:
    """Sends jobs through ``client`` with ``concurrency`` workers at most ``rate`` requests per second.

    ``rate`` ``math.inf`` (or 0) means no client-side limit; the server's 429s and Retry-After still apply.
    ``burst`` defaults to 50 ms worth of requests (see importer.api.ratelimit). ``window`` bounds how many
    jobs are read ahead of the slowest unfinished one. ``stop``, ``max_wait`` and ``on_wait``: see
    :class:`~importer.api.retry.Retrying`; ``grace``: seconds the requests in flight get once the run stops;
    ``limiter``: a bucket of the caller's own (a source CRM's pace) instead of ``rate`` and ``burst``.
    """

    def __init__(
        self,
        client: UpsertClient,
        rate: float = DEFAULT_RATE,
        concurrency: int = DEFAULT_CONCURRENCY,
        burst: float | None = None,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        *,
        window: int | None = None,
        stop: Stop | None = None,
        max_wait: float = math.inf,
        on_wait: Callable[[float], None] | None = None,
        grace: float = DEFAULT_GRACE,
        limiter: RateLimiter | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if stop is not None and sleep is time.sleep:
            sleep = stop.sleep  # a stop cuts every wait short
        self.client = client
        self.concurrency = concurrency
        self.limiter = limiter or RateLimiter(rate if rate > 0 else math.inf, burst, clock=clock, sleep=sleep)
        self.retrying = Retrying(policy, self.limiter, clock=clock, sleep=sleep, stop=stop, max_wait=max_wait,
                                 on_wait=on_wait)
        self.grace = grace
        self._stopped_at: float | None = None
        self._abandoned = False
        self._in_flight: dict[int, float] = {}  # row → when its job started (time.monotonic)
        self.window = window if window is not None else max(256, concurrency * 32)
        self._cond = threading.Condition()
        self._callback_lock = threading.Lock()
        self._chains = PhoneChains()
        self._exhausted = False
        self._stopping = False
        self._fatal: BaseException | None = None
        self.gate = Gate(self._cond, lambda: self._stopping)
        self.requests = Requests(client, self.retrying, self.gate, self._fail)
        ensure_pool_size = getattr(client, "ensure_pool_size", None)
        if callable(ensure_pool_size):
            ensure_pool_size(concurrency)
        if stop is not None:
            stop.on_request(self._run_stopped)

    def stop(self) -> None:
        """Graceful stop: jobs already started finish (with their retries); no other job starts."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def _run_stopped(self) -> None:
        """The run's stop was requested: no job starts, no retry is made; the grace period starts now."""
        with self._cond:
            self._stopped_at = time.monotonic()  # real time: the grace is spent joining threads
            self._stopping = True
            self._cond.notify_all()

    @property
    def stopping(self) -> bool:
        return self._stopping

    def activity(self) -> str:
        """What the sender waits for, in words: the requests in flight and the oldest one's age, or the stop."""
        now = time.monotonic()
        with self._cond:
            started = sorted(self._in_flight.items(), key=lambda item: item[1])
            stopping = self._stopping
        if not started:
            return "stopping: no request in flight" if stopping else "waiting for the next row to send"
        row, since = started[0]
        return (f"{'stopping: ' if stopping else ''}waiting for the API's answer to {len(started)} row(s) in flight, "
                f"the oldest (row {row}) for {now - since:.0f} s")

    def run(
        self,
        jobs: Iterable[Job],
        on_start: OnStart,
        on_outcome: Callable[[Outcome], None],
        prepare: Prepare | None = None,
    ) -> None:
        """Send every job; return when all finished (or the run stopped). Raises AuthError on a 401.

        ``on_start`` and ``on_outcome`` are called from worker threads, one at a time; ``on_start`` only for a
        job that is sent (``prepare`` may end a row without sending it: then only ``on_outcome``). ``on_start`` may
        return a function that the worker calls next, no longer one at a time, before the job's first request: it
        returns once the start is recorded, or raises StopRequested when it could not be (the job is not sent).
        """
        workers = [
            threading.Thread(target=self._work, args=(on_start, on_outcome, prepare), name=f"sender-{i}",
                             daemon=True)
            for i in range(self.concurrency)
        ]
        for worker in workers:
            worker.start()
        try:
            self._dispatch(iter(jobs))
        except BaseException as exc:  # Ctrl-C or a failing job source: started jobs still finish
            self._fail(exc, halt=False)
        finally:
            with self._cond:
                self._exhausted = True
                self._cond.notify_all()
            self._join(workers)
        if self._fatal is not None:
            raise self._fatal

    def _join(self, workers: list[threading.Thread]) -> None:
        """Wait for the workers; a first Ctrl-C meanwhile stops gracefully, a second one leaves at once. Once the
        run's stop was requested, the workers get ``grace`` seconds; any still waiting for an answer then is
        abandoned (its job gets no outcome: the journal has it in flight, as after a kill)."""
        try:
            for worker in workers:
                while worker.is_alive():
                    worker.join(self._join_timeout())
                    if self._stopped_at is not None and time.monotonic() >= self._stopped_at + self.grace:
                        break
        except KeyboardInterrupt as exc:
            self._fail(exc, halt=False)
            for worker in workers:
                worker.join()
        if any(worker.is_alive() for worker in workers):
            with self._callback_lock:
                self._abandoned = True
            logger.warning("%d request(s) still unanswered %g s after the stop: left in flight (the next run "
                           "treats them as in doubt)", sum(worker.is_alive() for worker in workers), self.grace)

    def _join_timeout(self) -> float:
        if self._stopped_at is None:
            return 0.2  # short joins, so that a stop requested meanwhile is noticed
        return max(0.0, self._stopped_at + self.grace - time.monotonic())

    # --- dispatching ----------------------------------------------------------------------------------

    def _dispatch(self, jobs: Iterator[Job]) -> None:
        while True:
            with self._cond:
                while self._chains.open >= self.window and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
            job = next(jobs, None)  # outside the lock: the source may be slow
            if job is None:
                return
            with self._cond:
                self._admit(job)

    def _admit(self, job: Job) -> None:
        if self._chains.admit(job):
            self._cond.notify_all()

    def _finish(self, entry: Entry) -> None:
        with self._cond:
            self._chains.finish(entry)
            self._cond.notify_all()

    def _fail(self, exc: BaseException, halt: bool) -> None:
        """Keep ``exc`` for run() to raise; stop. ``halt``: started jobs make no further request."""
        with self._cond:
            if self._fatal is None:
                self._fatal = exc
            self._stopping = True
            self.gate.halted = self.gate.halted or halt  # no request at all may start any more
            self._cond.notify_all()

    # --- workers --------------------------------------------------------------------------------------

    def _next_entry(self) -> Entry | None:
        with self._cond:
            while True:
                if self._stopping:
                    return None
                if self._chains.ready:
                    return self._chains.ready.popleft()
                if self._exhausted and self._chains.open == 0:
                    return None
                self._cond.wait()

    def _work(self, on_start: OnStart, on_outcome: Callable[[Outcome], None],
              prepare: Prepare | None) -> None:
        try:
            while (entry := self._next_entry()) is not None:
                try:
                    if not self.gate.wait(starting=True):
                        break  # stopped before this job started: it stays unsent and unreported
                    try:
                        job = entry.job if prepare is None else self.requests.prepare(prepare, entry.job)
                    except StopRequested:
                        break  # stopped while reading the lead: the job did not start
                    if isinstance(job, Job):
                        with self._callback_lock:
                            if self._abandoned:
                                break
                            try:
                                recorded = on_start(job)
                            except StopRequested:
                                break  # the job could not be recorded as started (a full disk): it is not sent
                        try:
                            if recorded is not None:
                                recorded()  # outside the lock: the other workers' starts are recorded meanwhile
                        except StopRequested:
                            break
                        with self._cond:
                            self._in_flight[job.row] = time.monotonic()
                        try:
                            outcome = self.requests.send_job(job)
                        finally:
                            with self._cond:
                                self._in_flight.pop(job.row, None)
                    else:
                        outcome = job
                    with self._callback_lock:
                        if self._abandoned:
                            break  # the run has written its report without this job: it stays in flight
                        on_outcome(outcome)
                finally:
                    self._finish(entry)
        except BaseException as exc:  # a failing callback or a bug: stop the run and re-raise from run()
            self._fail(exc, halt=True)


__all__ = ["DEFAULT_CONCURRENCY", "DEFAULT_GRACE", "Job", "LeadClient", "OnStart", "Outcome", "Prepare", "ReadLead",
           "Sender", "UpsertClient"]
