"""The read before a write: a real run's look at each lead just before its first write to it.

A worker about to send a row (:class:`~importer.run.engine.sending.Sender`, ``prepare``) reads the row's lead with
get-lead — through the run's rate limiter and retry loop, like the writes — when the row's policies need the lead's
values (``fill_empty``, ``create_only``: :mod:`importer.run.rules.policy`) or when the run records before-images (every
real run unless ``--no-undo``). Then, before any write:

- the policies leave out what they forbid (counted per field: ``kept`` in summary.json);
- the before-image — what the lead held in each field about to change, and what the write sends — goes into the
  journal, durably (``kill -9`` and a resume keep it); before.jsonl is written from there when the run ends.

With ``--no-undo`` a row without policies is not read: its image says ``existed: null`` and holds no ``before``,
and the run makes half the requests of one that reads (one write per row instead of a read and a write). A read
that fails for good fails its row, unsent: a policy cannot be honoured, nor a write undone, blind.

Nor is a sync's row read whose lead this job confirmed before when it changes only fields this job wrote then,
with no policy: its image's ``before`` is what the sync state holds for them (``before_from: state``), which is
what the lead held unless someone edited it since the last run. Undo reads each lead again before writing, so a
field edited since this run is left as it is. Labels, extra phones and the assignee (get-lead shows who, not
their phone) still need the read; so does a lead the job has not confirmed yet.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from importer.outcomes import Cause
from importer.report import Summary
from importer.report.before import BEFORE_FILE, SET_FIELDS, BeforeImage, is_empty, write_before_images
from importer.run.engine.work import NOTE, NOTE_IN_DOUBT, Job, Outcome, ReadLead
from importer.run.rules.policy import apply_policies, sent_record
from importer.run.stores.journal import Journal

__all__ = ["BeforeWrite", "PriorRead", "ReadOnly"]


class BeforeWrite(Protocol):
    """What a real run does just before each job's first write (:class:`~importer.run.engine.sending.Sender`'s
    ``prepare``) and when the job ends: a run reads leads for its policies and before-images
    (:class:`PriorRead`); an apply reads them to find leads changed since its plan (:class:`ReadOnly`)."""

    def start(self, resuming: bool) -> None: ...

    def prepare(self, job: Job, read: ReadLead) -> Job | Outcome: ...

    def started(self, job: Job) -> None:
        """``job``'s first write is about to go: keep what ``prepare`` saw of its lead (from the recording thread)."""
        ...

    def durable(self, row: int) -> bool:
        """Whether what ``prepare`` kept of ``row`` must be on disk before its write goes."""
        ...

    def outcome(self, outcome: Outcome, fallback: tuple[dict[str, Any], ...] = ()) -> None: ...

    def finish(self, folder: Path, summary: Summary) -> None: ...


class ReadOnly:
    """A look at each lead before its write that keeps nothing (``check``: the job to send, or its outcome)."""

    def __init__(self, check: Any) -> None:
        self.prepare = check

    def start(self, resuming: bool) -> None:
        pass

    def started(self, job: Job) -> None:
        pass

    def durable(self, row: int) -> bool:
        return False

    def outcome(self, outcome: Outcome, fallback: tuple[dict[str, Any], ...] = ()) -> None:
        pass

    def finish(self, folder: Path, summary: Summary) -> None:
        pass

_KEYS = frozenset({"customer_phone", "create_customer_if_customer_phone_not_found", NOTE})
#: Fields whose before value may come from the sync state: set by a value, shown as that value by get-lead (not
#: the assignee: get-lead shows who, never their phone).
FROM_STATE = frozenset(SET_FIELDS) - {"assignee_user_phone"}
#: Sent as they are, whatever the lead has, and never undone: no read needed for them.
_ADDED_BLIND = frozenset({"add_products"})


class PriorRead:
    """One real run's reads before its writes, its policies and its before-images (kept in ``journal``)."""

    def __init__(self, journal: Journal, key: str, policies: Mapping[str, str], undo: bool) -> None:
        self.journal = journal
        self.key = key
        self.policies = dict(policies)
        self.undo = undo
        self.kept: Counter[str] = Counter()
        self.reads = 0
        self.resuming = True  # (until start() says otherwise: images already kept are merged with)
        self.from_state = 0
        self._lock = threading.Lock()
        self._phones: dict[int, str] = {}
        self._images: dict[int, BeforeImage] = {}  # kept by prepare, journaled as the job starts
        self._imaged: set[int] = set()  # rows whose image holds values read before their write
        self._from_state: set[int] = set()

    def start(self, resuming: bool) -> None:
        """A run that does not resume the key's last one starts with no image."""
        self.resuming = resuming
        if not resuming:
            self.journal.forget_before(self.key)

    def needs_read(self, job: Job) -> bool:
        """Whether ``job``'s lead must be read first: for the before-image, or for a policy of one of its fields."""
        if self.undo:
            return True
        if job.row < 0 or not self.policies:  # a lead gone from the input: the mapping's policies do not apply
            return False
        return any(self._has_policy(name, value) for request in job.requests for name, value in request.items())

    def _has_policy(self, name: str, value: Any) -> bool:
        if name == "address" and isinstance(value, Mapping):
            return any(f"address.{key}" in self.policies for key in value)
        return name in self.policies

    def prepare(self, job: Job, read: ReadLead) -> Job | Outcome:
        """Called by a worker just before ``job``'s first write: the job to send, or the row's outcome when nothing
        is left to send (it succeeded: its lead holds, or keeps, every value). An image is kept for each job that
        sends an upsert."""
        if not job.requests:  # tasks alone: no upsert
            return job
        phone = str(job.requests[0]["customer_phone"])
        row = job.row if job.row >= 0 else None
        if not self.needs_read(job):
            self._record(job, BeforeImage(row, phone, None, None, {}, self._sent(job, job.requests)))
            return job
        known = self._known(job)
        if known is not None:
            with self._lock:
                self.from_state += 1
                self._from_state.add(job.row)
            self._record(job, BeforeImage(row, phone, None, True, known, self._sent(job, job.requests),
                                          from_state=True), kept=True)
            return job
        lead = read(phone)
        applied = apply_policies(job.requests, lead, self.policies if job.row >= 0 else {})
        with self._lock:
            self.reads += 1
            self.kept.update(applied.kept.keys())
        if not applied.requests:
            return replace(job, requests=()) if job.tasks else _unsent(job, applied.kept)
        lead_id = lead.get("id") if lead is not None else None
        self._record(job, BeforeImage(row, phone, lead_id if isinstance(lead_id, int) else None, lead is not None,
                                      applied.before, self._sent(job, applied.requests)), kept=True)
        return replace(job, requests=applied.requests)

    def _known(self, job: Job) -> dict[str, Any] | None:
        """The before values of a job that changes only fields this job confirmed for its lead, with no policy
        (None: the lead must be read)."""
        confirmed = job.confirmed
        if confirmed is None or job.row < 0:
            return None
        before: dict[str, Any] = {}
        for request in job.requests:
            for name, value in request.items():
                if name in _KEYS or name in _ADDED_BLIND:
                    continue
                if name not in FROM_STATE or name not in confirmed or self._has_policy(name, value):
                    return None
                was = confirmed[name]
                if name == "address":
                    if not isinstance(value, Mapping) or not isinstance(was, Mapping) or not value.keys() <= was.keys():
                        return None
                    before[name] = {key: None if is_empty(was[key]) else was[key] for key in value}
                else:
                    before[name] = None if is_empty(was) else was
        return before

    def durable(self, row: int) -> bool:
        """Whether ``row``'s image holds values its write is about to overwrite (they must be on disk first)."""
        with self._lock:
            return row in self._imaged

    @staticmethod
    def _sent(job: Job, requests: tuple[dict[str, Any], ...]) -> dict[str, Any]:
        sent = sent_record(requests)
        if job.note_in_doubt:
            sent.pop(NOTE, None)  # the sender strips it: it is not sent again
        return sent

    def _record(self, job: Job, image: BeforeImage, kept: bool = False) -> None:
        with self._lock:
            self._phones[job.row] = image.phone
            self._images[job.row] = image
            if kept:
                self._imaged.add(job.row)

    def started(self, job: Job) -> None:
        """Journal the image ``prepare`` kept for ``job`` (on disk before its write when :meth:`durable`): from the
        run's recording thread, not the sending worker (20,000 rows with notes, --no-undo, 16 workers, load 2.4–2.9:
        the workers' CPU 543–603 → 477–512 µs a row, the recording thread's 178–197 → 215–233, the whole process
        851–945 → 820–879)."""
        with self._lock:
            image = self._images.pop(job.row, None)
        if image is not None:
            self.journal.record_before(self.key, job.row, image, merge=self.resuming)

    def outcome(self, outcome: Outcome, fallback: tuple[dict[str, Any], ...] = ()) -> None:
        """How a row's writes ended (``fallback``: what was sent instead when its lead was gone)."""
        with self._lock:
            phone = self._phones.pop(outcome.row, None)
            self._imaged.discard(outcome.row)
            from_state = outcome.row in self._from_state
            self._from_state.discard(outcome.row)
        if phone is None:  # stopped before its first write: never imaged
            return
        sent = sent_record(fallback) if outcome.fell_back and fallback else None
        # the lead was gone: the whole row created it again (the image from the state held the old lead's values)
        self.journal.before_outcome(self.key, outcome.row, phone, outcome.status, sent,
                                    created=from_state and sent is not None)

    def finish(self, folder: Path, summary: Summary) -> None:
        """Write before.jsonl from the journal and the counts into summary.json."""
        summary.before_images = write_before_images(folder / BEFORE_FILE, self.journal.before_images(self.key))
        summary.lookups = self.reads
        summary.before_from_state = self.from_state or None
        summary.no_undo = not self.undo
        summary.keep_policies(self.policies, self.kept)



def _unsent(job: Job, kept: Mapping[str, str]) -> Outcome:
    """The outcome of a row left with nothing to send: succeeded (in doubt if an earlier note may be on the lead)."""
    if kept:
        message = "not sent: the lead keeps its values of " + ", ".join(
            f"{name} ({policy})" for name, policy in kept.items())
    else:
        message = "not sent: the lead already has every label and phone of the row"
    if job.note_in_doubt:
        return Outcome(job.row, "in_doubt", f"{message}; {NOTE_IN_DOUBT}", cause=Cause.NOTHING_TO_SEND)
    return Outcome(job.row, "succeeded", message, cause=Cause.NOTHING_TO_SEND)
