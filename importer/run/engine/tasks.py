"""Tasks of a real run: created on each lead once its upsert went through, never twice, and recorded.

For a row whose upsert succeeded, its sending worker (:mod:`importer.run.engine.sending`) reads the lead with get-
lead (an upsert answers ``data: null``, without the id), lists the lead's tasks (every page) and creates each of the
row's tasks that is not there yet: a task of the same type and due time already on the lead, open or completed, is
``existing`` and not created again — whatever run created it, and however that run ended. Every call goes through
the run's one retry loop and rate limiter. A creation whose outcome is unknown (timeout, dropped connection, 500) is
never simply sent again: the lead's tasks are listed first, and the task counts as created if it is there.

Outcomes: ``succeeded`` (created), ``existing``, ``failed`` (refused, or the lead's upsert failed: re-importing the
failures file creates it), ``in_doubt`` (it may have been created; the next run finds it if it was). They are kept
in the run's journal before the row's own outcome (so a resumed run reports them as they were), counted in
summary.json's ``tasks`` and listed in tasks.csv.
"""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from importer.api.retry import Decision, Retrying
from importer.checks.spill import CheckedBatch
from importer.errors import ApiError, AuthError, UncertainError
from importer.report.cells import safe_cells
from importer.report.tasklines import TASKS_JSONL
from importer.run.stores.journal import Journal

__all__ = ["TASK_STATUSES", "DeliveryTasks", "PlannedTasks", "TaskOutcome", "TaskRecords", "TaskSender", "task_key",
           "task_lines"]

TaskStatus = Literal["succeeded", "existing", "failed", "in_doubt"]
TASK_STATUSES: tuple[TaskStatus, ...] = ("succeeded", "existing", "failed", "in_doubt")
TASKS_CSV = "tasks.csv"
TASK_COLUMNS = ("_row", "customer_phone", "lead_id", "type", "due_date", "notify_at", "status", "message")
_LEAD_GONE = "no lead has this phone any more (deleted since the upsert?): task not created"


def task_key(task: dict[str, Any]) -> tuple[str, str]:
    """What makes two tasks the same: the type and the due time (as an instant: ``…Z`` and ``….000Z`` agree)."""
    due = str(task.get("due_date", ""))
    try:
        moment = datetime.fromisoformat(due)
        due = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    except ValueError:
        pass
    return str(task.get("type", "")), due


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """What became of one task of a row; ``lead_id`` once the lead was read."""

    task: dict[str, Any]
    status: TaskStatus
    message: str = ""
    lead_id: int | None = None


def unsent(tasks: Iterable[dict[str, Any]], message: str, status: TaskStatus = "failed") -> tuple[TaskOutcome, ...]:
    """The outcomes of tasks that were not sent (their row's upsert failed, the run was halted)."""
    return tuple(TaskOutcome(task, status, message) for task in tasks)


class TaskSender:
    """Creates a row's tasks on its lead through the run's retry loop (and so its rate limiter)."""

    def __init__(self, client: Any, retrying: Retrying) -> None:
        self.client = client
        self.retrying = retrying

    def send(self, row: int, phone: str, tasks: tuple[dict[str, Any], ...],
             before_attempt: Callable[[], None] | None = None) -> tuple[TaskOutcome, ...]:
        """Create ``tasks`` on the lead of ``phone`` unless already there. An AuthError (or whatever
        ``before_attempt`` raises to halt) propagates; any other API error ends the tasks it concerns."""
        subject = f"row {row} tasks"

        def call(request: Callable[[], Any], on_error: Callable[[ApiError, Decision], None] | None = None) -> Any:
            return self.retrying.call(request, before_attempt=before_attempt, on_error=on_error, subject=subject)

        try:
            lead = call(lambda: self.client.get_lead(phone))
            if lead is None:
                return unsent(tasks, _LEAD_GONE)
            lead_id = int(lead["id"])
            present = {task_key(task) for task in self.client.list_tasks(lead_id, each=call)}
        except AuthError:
            raise
        except ApiError as exc:
            return unsent(tasks, f"could not read the lead's tasks: {exc.message}")
        outcomes = []
        for task in tasks:
            if task_key(task) in present:
                outcomes.append(TaskOutcome(task, "existing", "already on the lead: not created again", lead_id))
                continue
            outcome = self._create(lead_id, task, call)
            if outcome.status != "failed":
                present.add(task_key(task))
            outcomes.append(outcome)
        return tuple(outcomes)

    def _create(self, lead_id: int, task: dict[str, Any], call: Callable[..., Any]) -> TaskOutcome:
        """Create one task; after an answer that leaves the outcome unknown, look before creating again."""
        unknown = [False]

        def attempt() -> Any:
            if unknown[0] and self._there(lead_id, task, call):
                return None
            return self.client.create_task(lead_id, task)

        def on_error(exc: ApiError, decision: Decision) -> None:
            unknown[0] = unknown[0] or isinstance(exc, UncertainError)

        try:
            call(attempt, on_error)
        except AuthError:
            raise
        except ApiError as exc:
            if not unknown[0]:
                return TaskOutcome(task, "failed", exc.message, lead_id)
            try:
                there = self._there(lead_id, task, call)
            except ApiError:
                return TaskOutcome(task, "in_doubt", f"{exc.message}; the task may have been created", lead_id)
            status: TaskStatus = "succeeded" if there else "failed"
            return TaskOutcome(task, status, "" if there else exc.message, lead_id)
        return TaskOutcome(task, "succeeded", "", lead_id)

    def _there(self, lead_id: int, task: dict[str, Any], call: Callable[..., Any]) -> bool:
        return task_key(task) in {task_key(found) for found in self.client.list_tasks(lead_id, each=call)}


# --- the record of a real run: journal, counts, tasks.csv -----------------------------------------------------

class TaskRecords:
    """A real run's task outcomes: in its journal (per run key and row), counted in ``counts`` (summary.json's
    ``tasks``) and listed in the run folder's tasks.csv. Thread-safe."""

    def __init__(self, journal: Journal, key: str, folder: Path, counts: dict[str, int],
                 warnings: dict[str, int] | None = None) -> None:
        """``warnings``: the run's warnings by code; on closing, ``counts`` gets ``skipped``: tasks past due."""
        self._journal = journal
        self._key = key
        self._folder = folder
        self._lock = threading.Lock()
        self._stream: IO[str] | None = None
        self._csv: Any = None
        self.counts = counts
        self._warnings = warnings if warnings is not None else {}

    def forget(self) -> None:
        """``--fresh``: drop what the journal holds for this run key."""
        self._journal.forget_tasks(self._key)

    def record(self, row: int, phone: str, outcomes: tuple[TaskOutcome, ...]) -> None:
        """A row's task outcomes, kept in the journal first, then counted and listed."""
        stored = json.dumps([[o.task, o.status, o.message, o.lead_id] for o in outcomes], ensure_ascii=False)
        self._journal.record_tasks(self._key, row, stored)
        self.report(row, phone, outcomes)

    def resumed(self, row: int, phone: str) -> None:
        """A row an interrupted run finished: report its tasks as that run left them."""
        found = self._journal.task_outcomes(self._key, row)
        if found is not None:
            self.report(row, phone, tuple(TaskOutcome(*item) for item in json.loads(found)))

    def report(self, row: int, phone: str, outcomes: tuple[TaskOutcome, ...]) -> None:
        with self._lock:
            for outcome in outcomes:
                self.counts[outcome.status] = self.counts.get(outcome.status, 0) + 1
                task = outcome.task
                self._writer().writerow(safe_cells([
                    str(row), phone, "" if outcome.lead_id is None else str(outcome.lead_id), task.get("type", ""),
                    task.get("due_date", ""), task.get("notify_at", ""), outcome.status, outcome.message]))

    def _writer(self) -> Any:
        if self._csv is None:
            self._stream = open(self._folder / TASKS_CSV, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
            self._csv = csv.writer(self._stream)
            self._csv.writerow(TASK_COLUMNS)
        return self._csv

    def close(self) -> None:
        with self._lock:
            if self._warnings.get("task-past-due"):
                self.counts["skipped"] = self._warnings["task-past-due"]
            if self._stream is not None:
                self._stream.close()
                self._stream = None

    def __enter__(self) -> TaskRecords:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def task_lines(summary: dict[str, Any]) -> list[str]:
    """The terminal's line about tasks (none when the run had none)."""
    counts = summary.get("tasks")
    if not counts:
        return []
    if summary.get("dry_run"):
        return [f"tasks: {counts.get('planned', 0)} to create, {counts.get('skipped', 0)} skipped (past due)"]
    parts = [f"{counts.get('succeeded', 0)} created", f"{counts.get('existing', 0)} already on their leads",
             f"{counts.get('failed', 0)} failed", f"{counts.get('in_doubt', 0)} in doubt",
             f"{counts.get('skipped', 0)} skipped (past due)"]
    if counts.get("unchanged"):
        parts.append(f"{counts['unchanged']} unchanged")
    return ["tasks: " + ", ".join(parts) + " (tasks.csv)"]


# --- a real run's decide and record hooks (importer.run.kinds.send) ---------------------------------------------

SETTLED: frozenset[str] = frozenset({"succeeded", "existing"})


class DeliveryTasks:
    """What :class:`importer.run.kinds.send.Delivery` does about tasks: the jobs of rows whose lead a sync leaves
    unchanged but whose tasks changed (tasks alone), the sync's confirmation (a row whose tasks did not all get
    onto its lead is not confirmed, so the next run tries them again), and the record of every outcome."""

    def __init__(self, records: TaskRecords, ledger: Any) -> None:
        self.records = records
        self.ledger = ledger
        self._phones: dict[int, str] = {}
        self._alone: dict[int, bytes] = {}  # rows sent for their tasks alone → their digest

    def expect(self, row: int, phone: str, tasks: tuple[dict[str, Any], ...],
               alone_digest: bytes | None = None) -> None:
        """A job with tasks is about to be handed to the sender (``alone_digest``: its lead is unchanged)."""
        if tasks:
            self._phones[row] = phone
        if alone_digest is not None:
            self._alone[row] = alone_digest

    def settled_pending(self, pending: Any, outcome: Any) -> Any:
        """The row's pending sync record as it may be confirmed: without its digest when a task is not on the lead."""
        if pending is None or all(task.status in SETTLED for task in outcome.tasks):
            return pending
        return replace(pending, digest=b"")

    def record(self, outcome: Any) -> str | None:
        """Journal, count and list the row's task outcomes (before the row's own outcome is journaled). The row's
        phone when it was sent for its tasks alone (its lead is unchanged), else None."""
        phone = self._phones.pop(outcome.row, "")
        if outcome.tasks:
            self.records.record(outcome.row, phone, outcome.tasks)
        digest = self._alone.pop(outcome.row, None)
        if digest is None:
            return None
        if outcome.tasks and all(task.status in SETTLED for task in outcome.tasks):
            stored = self.ledger.state.leads(self.ledger.job, [phone]).get(phone)
            if stored is not None:
                self.ledger.state.confirm(self.ledger.job, self.ledger.run_id, phone, digest, stored.confirmed)
        return phone


# --- runs that send nothing: tasks.jsonl ----------------------------------------------------------------------


class PlannedTasks:
    """tasks.jsonl of a dry run or a plan: the create-task requests a real run would send, after each lead's upsert
    (``{"_row", "customer_phone", "task"}``), and summary.json's ``tasks``: ``planned`` and ``skipped`` (past due)."""

    def __init__(self, folder: Path, summary: Any, has_tasks: bool) -> None:
        self._path = folder / TASKS_JSONL
        self._summary = summary
        self._has_tasks = has_tasks
        self._stream: IO[bytes] | None = None
        self.planned = 0

    def add(self, lines: bytes) -> None:
        if not lines:
            return
        if self._stream is None:
            self._stream = open(self._path, "wb")  # noqa: SIM115
        self._stream.write(lines)
        self.planned += lines.count(b"\n")

    def tap(self, batches: Iterable[CheckedBatch]) -> Iterator[CheckedBatch]:
        """``batches`` as they are, their rows' tasks written on the way (rows to send only)."""
        for batch in batches:
            yield batch
            self.add(batch.task_lines())

    def finish(self) -> None:
        if self._stream is not None:
            self._stream.close()
        if self._has_tasks:
            skipped = self._summary.warnings_by_code.get("task-past-due", 0)
            self._summary.tasks = {"planned": self.planned, "skipped": skipped}
