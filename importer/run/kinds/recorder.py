"""Every outcome of a real run, recorded once, in each store that keeps it: the journal (so a killed run resumes),
the sync ledger (what this job confirmed for the lead, its note), the before-images (for undo), the follow-up
tasks, the leads gone from the input, and the report with its counts (so people see each success and failure).

The sending engine's recording thread (:mod:`importer.run.engine.recording`) calls :meth:`Recorder.started` for
each job about to send its first request and :meth:`Recorder.ended` with its
:class:`~importer.run.engine.work.Outcome`, in the order they came, and :meth:`Recorder.commit` before a start that
must be on disk (:meth:`Recorder.durable`) lets its request go; the decide stage reports the rows it does not
send through :meth:`Recorder.unchanged`, :meth:`Recorder.resumed` and :meth:`Recorder.report`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from importer.fields import NOTE
from importer.models import Row
from importer.report import ReportWriter, Summary
from importer.run.context.options import Progress
from importer.run.context.room import disk_full
from importer.run.engine.stop import Stop
from importer.run.engine.tasks import DeliveryTasks
from importer.run.engine.work import Job, Outcome
from importer.run.kinds.ledger import Pending, SyncLedger
from importer.run.kinds.missing import MissingLeads
from importer.run.kinds.prior import BeforeWrite
from importer.run.stores.journal import Journal, RowState

__all__ = ["Recorder"]

logger = logging.getLogger(__name__)


@dataclass
class Recorder:
    """The stores of one real run, behind the calls the engine and the decide stage make."""

    key: str
    journal: Journal
    ledger: SyncLedger
    tasks: DeliveryTasks
    before: BeforeWrite
    missing: MissingLeads
    writer: ReportWriter
    summary: Summary
    progress: Progress
    stop: Stop
    report_dir: Path
    #: The journal's rows of the run being resumed (a stopped row is put back as it was).
    states: dict[int, RowState] = field(default_factory=dict)
    #: Rows handed to the engine and not ended: the row and what the ledger waits to confirm.
    pending: dict[int, tuple[Row, Pending | None]] = field(default_factory=dict)
    waiting_until: float = 0.0  # a Retry-After being waited through (time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- what the decide stage does not send -----------------------------------------------------------------

    def unchanged(self, numbers: Sequence[int], phones: Sequence[str]) -> None:
        """Rows (by number, and customer phone) whose leads hold them already."""
        with self.lock:
            self.summary.unchanged += len(numbers)
            self.writer.add_unchanged(numbers, phones)
        self.progress.advance(len(numbers))

    def resumed(self, row: Row, state: RowState) -> None:
        """A row a previous, interrupted run already finished: reported, not sent again."""
        self.summary.resumed += 1
        self.report(row, state.status, state.message)

    def expect(self, row: Row, pending: Pending | None) -> None:
        """A row handed to the engine: its outcome is recorded by :meth:`ended`."""
        self.pending[row.number] = (row, pending)

    # --- the engine's calls, from its recording thread (importer.run.engine.recording) -------------------------

    def durable(self, job: Job) -> bool:
        """Whether ``job``'s start must be on disk before its request goes: it carries a note (or one may be on the
        lead already), or its before-image holds values its write overwrites."""
        if job.row < 0:  # a lead gone from the input: only its before-image
            return self.before.durable(job.row)
        return any(NOTE in request for request in job.requests) or job.note_in_doubt or self.before.durable(job.row)

    def started(self, job: Job, durable: bool) -> None:
        """Before a job's first request: the journal knows it is in flight (and whether it carries a note). The job
        counts as sent now, or, ``durable``, once :meth:`commit` put it on disk (a start that could not be is not
        sent)."""
        self.before.started(job)  # its before-image first
        if job.row >= 0:  # (not a lead gone from the input)
            has_note = any(NOTE in request for request in job.requests) or job.note_in_doubt
            self.journal.mark_in_flight(self.key, job.row, has_note=has_note)
        if not durable:
            self._count_sent(job)

    def ended(self, outcome: Outcome) -> None:
        """A job's outcome, into every store (a write that fails leaves the row in flight in the journal, so the
        next run sends it again, without its note)."""
        self._ended(outcome)

    def commit(self, durable: list[Job]) -> None:
        """What was recorded so far on disk, then the ``durable`` starts' notes as ``sending`` in the ledger, on
        disk too: a note counts as perhaps delivered only once its row is in flight in the journal (a journal that
        cannot commit, on a full disk, leaves the note unsent and free to go in the next run)."""
        self.journal.commit()
        for job in durable:
            pending = self.pending[job.row][1] if job.row >= 0 else None
            if pending is not None:
                self.ledger.sending(pending)
        self.ledger.commit()
        for job in durable:
            self._count_sent(job)

    def _count_sent(self, job: Job) -> None:
        if job.row >= 0:
            with self.lock:
                self.summary.sent += bool(job.requests)  # a job of tasks alone sends no upsert

    def failed(self, exc: BaseException) -> None:
        """A write failed: a full disk stops the run (``disk-full``); any other error is re-raised."""
        if not isinstance(exc, Exception):
            raise exc
        self.stop_if_full(exc)

    def _ended(self, outcome: Outcome) -> None:
        whole = self.pending[outcome.row][1] if outcome.row >= 0 and outcome.fell_back else None
        self.before.outcome(outcome, (whole.whole,) if whole is not None else ())
        if outcome.row < 0:
            self.missing.record(outcome)
            return
        if outcome.stopped:
            self._put_back(outcome)
            return
        alone = self.tasks.record(outcome)  # tasks are journaled before their row
        self.journal.record(self.key, outcome.row, outcome.status, outcome.message)
        with self.lock:
            row, pending = self.pending.pop(outcome.row)
            try:
                if pending is not None:
                    self.ledger.outcome(self.tasks.settled_pending(pending, outcome), outcome.status,
                                        outcome.fell_back)
            finally:
                if alone is not None:  # a phone: the row was sent for its tasks alone
                    self.summary.unchanged += 1
                    self.writer.add_unchanged([row.number], [alone])
                    self.progress.advance(1)
                else:
                    self.report(row, outcome.status, outcome.message)

    def _put_back(self, outcome: Outcome) -> None:
        """A row the run stopped before it ended: unless any of it may have been applied, the journal and the
        sync state forget it was being sent (its note too), so the next run sends it as if never tried."""
        if outcome.maybe_applied:
            return  # left in flight, as a killed run leaves it
        self.journal.restore(self.key, outcome.row, self.states.get(outcome.row))
        pending = self.pending[outcome.row][1]
        if pending is not None:
            self.ledger.outcome(pending, "failed", False)  # confirms nothing, forgets the note
        with self.lock:
            self.summary.sent -= 1

    # --- the report ------------------------------------------------------------------------------------------

    def report(self, row: Row, status: str, message: str) -> None:
        """One row's outcome in the report and the counts (the caller holds the lock or runs alone)."""
        if self.waiting_until and time.monotonic() >= self.waiting_until:
            self.waiting_until = 0.0
            self.progress.status("")
        self.summary.count_outcome(status)
        if status == "succeeded":
            self.writer.add_success(row)
        else:
            self.writer.add_failure(row, message)
        self.progress.advance(1, failed=int(status != "succeeded"))

    def waiting(self, seconds: float) -> None:
        """A Retry-After the run waits through: shown on the progress bar until it is over."""
        self.waiting_until = max(self.waiting_until, time.monotonic() + seconds)
        self.progress.status(f"waiting {seconds:.0f} s (server asked)")

    def stop_if_full(self, exc: Exception) -> None:
        """A full disk stops the run (``disk-full``); any other error is re-raised."""
        if not disk_full(exc):
            raise exc
        if self.stop.request("disk-full", f"no space left on the disk of {self.report_dir}"):
            logger.warning("no space left on the disk of %s (%s): stopping the run", self.report_dir, exc)
