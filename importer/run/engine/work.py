"""What the sending engine works on: a :class:`Job` (one sheet row's requests and tasks) and its :class:`Outcome`,
the clients it needs, and the words and defaults its outcomes use (:mod:`importer.run.engine.sending` runs the jobs)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from importer.fields import NOTE
from importer.models import FinalStatus
from importer.outcomes import Cause
from importer.run.engine.tasks import TaskOutcome

NOTE_IN_DOUBT = "note may not have been added"
#: Requests in flight at once, unless told otherwise (``--concurrency``; see importer.run.engine.sending).
DEFAULT_CONCURRENCY = 8
#: Seconds the requests in flight get to finish once a run stops: under ``docker stop``'s 10 s before SIGKILL.
DEFAULT_GRACE = 5.0
STOPPED = "not sent: the run stopped"


class UpsertClient(Protocol):
    def upsert(self, payload: dict[str, Any]) -> None: ...


class LeadClient(UpsertClient, Protocol):
    def get_lead(self, phone: str) -> dict[str, Any] | None: ...


#: Reads the lead that has a phone (None: no lead has it), through the sender's limiter and retries.
ReadLead = Callable[[str], dict[str, Any] | None]
#: Just before a job's first write: the job to send, or the row's outcome when nothing is to be sent.
Prepare = Callable[["Job", ReadLead], "Job | Outcome"]


@dataclass(frozen=True, slots=True)
class Job:
    """One sheet row to send: one payload, or two when add_labels and remove_labels were split.

    ``phones`` holds every E.164 number of the row (customer_phone and add_phones). ``note_in_doubt``:
    an earlier run may already have added this row's note, so it is stripped and the row ends in doubt.
    ``fallback``: sent instead when the API answers that no lead has the customer phone (a sync's partial
    request for a lead deleted since: the whole row, with the mapping's create flag). ``tasks``: created on the
    lead once its requests succeeded (:mod:`importer.run.engine.tasks`); a job of tasks alone has no request.
    ``reads``: a job that only reads (plan, verify): the engine's ``prepare`` ends it, it has no request.
    ``confirmed``: a sync's job sending only what changed: the field values this job last confirmed for the lead
    (the sync state's), which may stand for the lead's own (:mod:`importer.run.kinds.prior`).
    """

    row: int
    requests: tuple[dict[str, Any], ...]
    phones: frozenset[str]
    note_in_doubt: bool = False
    fallback: tuple[dict[str, Any], ...] = ()
    tasks: tuple[dict[str, Any], ...] = ()
    reads: bool = False
    confirmed: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if not (0 if self.tasks or self.reads else 1) <= len(self.requests) <= 2:
            raise ValueError(f"row {self.row}: a job has one or two requests, not {len(self.requests)}")


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one job ended. ``http_status`` is the last answer's status (None if no answer came)."""

    row: int
    status: FinalStatus
    message: str = ""
    attempts: int = 0
    http_status: int | None = None
    #: The job's fallback requests were sent (the lead did not exist any more).
    fell_back: bool = False
    #: What became of each of the job's tasks (:class:`importer.run.engine.tasks.TaskOutcome`).
    tasks: tuple[TaskOutcome, ...] = ()
    #: The run stopped before the job could end: ``status`` is not its outcome. ``maybe_applied``: one of its
    #: requests succeeded or may have been applied (else nothing of it reached the lead: it is simply unsent).
    stopped: bool = False
    maybe_applied: bool = False
    #: Why the row ended so, for the code acting on it (None: it was sent and the API answered).
    cause: Cause | None = None
    #: What a job that only reads found (a lead read back for plan and verify), or the ApiError it ended with.
    value: Any = None


@dataclass(slots=True)
class JobTracker:
    """One job's progress while it is sent: its attempts, the last status, whether its note or any of its
    requests may have been applied; it makes the job's :class:`Outcome`."""

    job: Job
    attempts: int = 0
    note_maybe_applied: bool = False
    maybe_applied: bool = False
    last_status: int | None = None
    #: Every request of the job went through: the lead holds the row (its tasks may be created).
    delivered: bool = False

    def stopped(self) -> Outcome:
        """The run stopped before this job could end."""
        return Outcome(self.job.row, "failed", STOPPED, self.attempts, self.last_status, stopped=True,
                       maybe_applied=self.maybe_applied, cause=Cause.STOPPED)

    def outcome(self, status: FinalStatus, message: str, http_status: int | None = None,
                cause: Cause | None = None) -> Outcome:
        if self.job.note_in_doubt or self.note_maybe_applied:
            # The note may or may not be on the lead: neither "succeeded" nor "failed" is true.
            message = f"{message}; {NOTE_IN_DOUBT}" if message else NOTE_IN_DOUBT
            status = "in_doubt"
        return Outcome(self.job.row, status, message, self.attempts, http_status, cause=cause)


def without_note(payload: dict[str, Any]) -> dict[str, Any]:
    if NOTE not in payload:
        return payload
    return {key: value for key, value in payload.items() if key != NOTE}
