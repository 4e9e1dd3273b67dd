"""A run's starts and outcomes recorded off its sending workers: one thread (:class:`Recording`) records them all,
in the order the workers handed them over, a batch at a time.

The workers (:class:`~importer.run.engine.sending.Sender`) only queue each job's start and outcome and go on
sending. The recording thread takes whatever is queued and records it in that order — a job's start before its
outcome, a row before the next row of the same phone — so the stores get the writes a worker would have made, in
the same order, grouped into fewer transactions (:mod:`importer.run.stores.grouping`).

- A start that must be on disk before its request goes (:meth:`Record.durable`: a note, a before-image its write
  overwrites) is waited for by its worker: the thread records it and everything queued before it, commits
  (:meth:`Record.commit`), and only then lets the worker send. The starts of several workers share one commit.
- A batch in which any write failed (a full disk rolls the open transaction back) lets none of its waiting starts
  go: each is refused with StopRequested, and its job is not sent. Every failed write goes to
  :meth:`Record.failed`: a full disk stops the run; any other error is kept, raised in the next worker that hands
  something over (which halts the run), and by :meth:`Recording.close`.
- :meth:`Recording.close` records everything queued before it returns: the run writes its report after it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from queue import SimpleQueue
from types import TracebackType
from typing import Protocol

from importer.errors import StopRequested
from importer.run.engine.work import Job, Outcome
from importer.threads import start_small

__all__ = ["Record", "Recording"]

REFUSED = "not sent: the run is stopping (its start could not be recorded)"
#: The recording thread's stack: its default 8 MB of address space would count against a run's RLIMIT_AS.
STACK_BYTES = 1024 * 1024


class Record(Protocol):
    """What records a job's start and outcome (a real run's :class:`~importer.run.kinds.recorder.Recorder`)."""

    def durable(self, job: Job) -> bool:
        """Whether ``job``'s start must be on disk before its first request goes."""
        ...

    def started(self, job: Job, durable: bool) -> None:
        """Record ``job``'s start (``durable``: :meth:`commit` follows before its request goes)."""
        ...

    def ended(self, outcome: Outcome) -> None: ...

    def commit(self, durable: list[Job]) -> None:
        """Put what was recorded so far on disk, with what the ``durable`` starts (recorded too) still need."""
        ...

    def failed(self, exc: BaseException) -> None:
        """A write failed: return to go on (a full disk, which stops the run), or raise."""
        ...


class _Waiting:
    """A worker waiting until its job's start is on disk."""

    __slots__ = ("_done", "_error")

    def __init__(self) -> None:
        self._done = threading.Event()
        self._error: BaseException | None = None

    def wait(self) -> None:
        self._done.wait()
        if self._error is not None:
            raise self._error

    def release(self, error: BaseException | None) -> None:
        self._error = error
        self._done.set()


_Start = tuple[Job, "_Waiting | None"]


class Recording:
    """Records ``record``'s starts and outcomes from one thread, in order (use as a context manager)."""

    def __init__(self, record: Record) -> None:
        self.record = record
        self._queue: SimpleQueue[_Start | Outcome | None] = SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="recording", daemon=True)

    def __enter__(self) -> Recording:
        start_small(self._thread, STACK_BYTES)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(raising=exc_type is None)

    # --- the workers' calls (the sender's ``on_start`` and ``on_outcome``) ----------------------------------

    def started(self, job: Job) -> Callable[[], None] | None:
        """Queue ``job``'s start; when it must be durable, what waits until it is on disk."""
        self._raise()
        if not self.record.durable(job):
            self._queue.put((job, None))
            return None
        waiting = _Waiting()
        self._queue.put((job, waiting))
        return waiting.wait

    def ended(self, outcome: Outcome) -> None:
        self._raise()
        self._queue.put(outcome)

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    # --- the recording thread ------------------------------------------------------------------------------

    def close(self, raising: bool = True) -> None:
        """Record everything queued, end the thread; raise the error that stopped the recording (``raising``)."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if raising:
            self._raise()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get())
            if not self._record(batch):
                return

    def _record(self, batch: list[_Start | Outcome | None]) -> bool:
        """Record ``batch`` in order, then release its waiting starts; False once the end was queued."""
        waiting: list[_Start] = []
        broken = False
        going = True
        for event in batch:
            if event is None:
                going = False
                break
            if not isinstance(event, Outcome) and event[1] is not None:
                waiting.append(event)
            if self._error is not None:
                continue  # the recording stopped: the workers are being halted
            try:
                if isinstance(event, Outcome):
                    self.record.ended(event)
                else:
                    self.record.started(event[0], event[1] is not None)
            except BaseException as exc:
                broken = True
                self._failed(exc)
        if waiting and not broken and self._error is None:
            try:
                self.record.commit([job for job, _ in waiting])
            except BaseException as exc:
                broken = True
                self._failed(exc)
        refused = self._error or (StopRequested(REFUSED) if broken else None)
        for _, each in waiting:
            assert each is not None
            each.release(refused)
        return going

    def _failed(self, exc: BaseException) -> None:
        try:
            self.record.failed(exc)
        except BaseException as error:
            self._error = self._error or error
