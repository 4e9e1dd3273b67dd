"""The requests of a run, one job at a time: each through the run's gate (its very first request goes alone), its
rate limiter and its retry loop (:class:`~importer.api.retry.Retrying`). The worker pool
(:class:`~importer.run.engine.sending.Sender`) hands each job here; the kinds that only read (plan, verify,
undo's dry run) and pull call :meth:`Requests.call` through the same pool.

- A 401 halts the run: no request starts any more.
- The run's first request never reaching the server (no answer after its retries) halts the run too: a server
  that cannot be reached costs one row's retries, not one per worker.
- A request whose outcome is unknown (UncertainError) is retried without ``customer_note`` and, if it carried
  one, the row ends ``in_doubt``: a note is never sent twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar, cast

from importer.api.retry import Decision, Retrying
from importer.errors import ApiError, AuthError, CustomerNotFound, StopRequested, UncertainError
from importer.fields import NOTE
from importer.outcomes import Cause
from importer.run.engine.tasks import TaskOutcome, TaskSender, unsent
from importer.run.engine.work import (
    Job,
    JobTracker,
    LeadClient,
    Outcome,
    Prepare,
    UpsertClient,
    without_note,
)

__all__ = ["Gate", "Halted", "Requests"]

Result = TypeVar("Result")


class Gate:
    """The run's very first request goes alone (a wrong key costs one request, not one per worker); once the run
    is halted (a 401, a failing callback) no request starts. Shares the pool's condition."""

    def __init__(self, cond: threading.Condition, stopping: Callable[[], bool]) -> None:
        self._cond = cond
        self._stopping = stopping
        self.is_open = False
        self.halted = False
        self._prober: int | None = None

    def wait(self, starting: bool = False) -> bool:
        """Let the first request of the run go alone. False once the run is halted, or when ``starting`` a new
        job once the run is stopping."""
        with self._cond:
            me = threading.get_ident()
            if self._prober is None:
                self._prober = me
            while not self.is_open and self._prober != me and not self.halted:
                self._cond.wait()
            return not (self.halted or (starting and self._stopping()))

    def open(self) -> None:
        with self._cond:
            if not self.is_open:
                self.is_open = True
                self._cond.notify_all()


class Halted(Exception):
    """The run was halted (a 401, a failing callback) before this attempt could start."""


class Requests:
    """Every request of one run: ``fail(exc, halt)`` is the pool's way to stop the run (and keep ``exc``)."""

    def __init__(self, client: UpsertClient, retrying: Retrying, gate: Gate,
                 fail: Callable[[BaseException, bool], None]) -> None:
        self.client = client
        self.retrying = retrying
        self.gate = gate
        self._fail = fail
        self.task_sender = TaskSender(client, retrying)
        self.attempts = 0  # calls made through :meth:`call`, retries included
        self._counting = threading.Lock()

    def call(self, request: Callable[[], Result], subject: str) -> Result:
        """One call through the gate, the limiter and the retries (a lead read, a pull's fetch). Raises
        :class:`Halted` when the run was halted, the last ApiError when the retries give up."""
        def before_attempt() -> None:
            if not self.gate.wait():
                raise Halted
            with self._counting:
                self.attempts += 1

        def on_error(exc: ApiError, decision: Decision) -> None:
            self._answered(exc)

        try:
            result = self.retrying.call(request, before_attempt=before_attempt, on_error=on_error, subject=subject)
        except AuthError as exc:
            self._fail(exc, True)
            self.gate.open()
            raise
        except ApiError as exc:
            if not self.gate.is_open:  # the run's first request never reached the server
                self._fail(exc, True)
            raise
        self.gate.open()
        return result

    def _answered(self, exc: ApiError) -> None:
        """An error of an attempt: a 401 halts the run before the gate opens (so no other request starts); any
        other answer of the server opens the gate (it is reachable)."""
        if isinstance(exc, AuthError):
            self._fail(exc, True)
        if exc.status is not None or isinstance(exc, UncertainError):
            self.gate.open()

    def read_lead(self, phone: str) -> dict[str, Any] | None:
        """get-lead through the run's gate, limiter and retries."""
        client = cast(LeadClient, self.client)
        return self.call(lambda: client.get_lead(phone), f"lookup of {phone}")

    def prepare(self, prepare: Prepare, job: Job) -> Job | Outcome:
        """``prepare`` the job; a read that fails (after its retries) fails the row, a 401 stops the run."""
        try:
            return prepare(job, self.read_lead)
        except Halted:
            return Outcome(job.row, "failed", "not finished: the run was halted", cause=Cause.HALTED)
        except AuthError as exc:
            return Outcome(job.row, "failed", exc.message, http_status=exc.status)
        except ApiError as exc:
            return Outcome(job.row, "failed", f"could not read the lead: {exc.message}", http_status=exc.status,
                           cause=Cause.UNREADABLE)

    def send_job(self, job: Job) -> Outcome:
        """Send the job's requests (its fallback when its lead is gone), then its tasks."""
        tracker = JobTracker(job)
        outcome = self._send_requests(tracker, job.requests)
        if outcome.stopped:
            return outcome
        if job.fallback and outcome.status == "failed" and outcome.cause is Cause.CUSTOMER_NOT_FOUND:
            outcome = replace(self._send_requests(tracker, job.fallback), fell_back=True)
        if not job.tasks or outcome.stopped:
            return outcome
        if not tracker.delivered:
            return replace(outcome, tasks=unsent(job.tasks, "not created: the lead's upsert did not go through"))
        return replace(outcome, tasks=self._send_tasks(job))

    def _send_tasks(self, job: Job) -> tuple[TaskOutcome, ...]:
        """The job's tasks, once its lead is written (a 401 halts the run, as for any request)."""
        def before_attempt() -> None:
            if not self.gate.wait():
                raise Halted

        # get-lead finds a lead by any of its phones, and the lead holds all of the row's once its upsert succeeded
        phone = str(job.requests[0]["customer_phone"]) if job.requests else min(job.phones)
        try:
            return self.task_sender.send(job.row, phone, job.tasks, before_attempt)
        except Halted:
            return unsent(job.tasks, "not finished: the run was halted")
        except StopRequested:
            return unsent(job.tasks, "not created: the run stopped")
        except AuthError as exc:
            self._fail(exc, True)
            return unsent(job.tasks, exc.message)
        finally:
            self.gate.open()

    def _send_requests(self, tracker: JobTracker, requests: tuple[dict[str, Any], ...]) -> Outcome:
        for index, payload in enumerate(requests):
            body = without_note(payload) if tracker.job.note_in_doubt else payload
            outcome = self._send_request(tracker, body, index)
            if outcome is not None:
                return outcome
        tracker.delivered = True
        return tracker.outcome("succeeded", "", 200)

    def _send_request(self, tracker: JobTracker, body: dict[str, Any], index: int) -> Outcome | None:
        """Send one payload until it succeeds (None) or the job has to end (its Outcome)."""
        sending = [body]  # without its note after an answer that leaves the outcome unknown

        def before_attempt() -> None:
            if not self.gate.wait():
                raise Halted
            tracker.attempts += 1

        def on_error(exc: ApiError, decision: Decision) -> None:
            self._answered(exc)
            tracker.last_status = exc.status
            if isinstance(exc, UncertainError):
                tracker.maybe_applied = True
            if isinstance(exc, UncertainError) and NOTE in sending[0]:
                tracker.note_maybe_applied = True
            if decision.strip_note:
                sending[0] = without_note(sending[0])

        try:  # the retry loop logs each retry and 429 (importer.api.retry, INFO) under the row's number
            self.retrying.call(lambda: self.client.upsert(sending[0]), before_attempt=before_attempt,
                               on_error=on_error, subject=f"row {tracker.job.row}")
        except Halted:
            return tracker.outcome("failed", "not finished: the run was halted", tracker.last_status, Cause.HALTED)
        except StopRequested:
            return tracker.stopped()
        except AuthError as exc:
            self._fail(exc, True)
            self.gate.open()
            return tracker.outcome("failed", exc.message, exc.status)
        except ApiError as exc:
            if not self.gate.is_open:  # the run's first request never reached the server
                self._fail(exc, True)
            cause = Cause.CUSTOMER_NOT_FOUND if isinstance(exc, CustomerNotFound) else None
            return tracker.outcome("failed", _reason(exc, index), exc.status, cause)
        self.gate.open()
        tracker.maybe_applied = True
        return None


def _reason(error: ApiError, index: int) -> str:
    if index > 0:
        return f"second request (remove_labels) failed: {error.message}"
    return error.message
