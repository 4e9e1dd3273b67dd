"""Task checks: what a row's mapped tasks become, against the time of the run. Pure: ``now`` is handed in.

- a due time not after now is a warning, ``task-past-due``, and the task is not created — unless the mapping says
  ``past_due: create`` (then it is created with the API's default reminder time);
- a ``notify_at`` must satisfy now < notify_at ≤ due, as the API requires: otherwise ``invalid-notify-at``, an error
  (the row is not sent: fix the cell and import failures.csv again);
- more than one non-reminder task in a row is a warning, ``several-open-tasks``: creating each completes the one
  before it, so only the last stays open.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from importer.issues import issue
from importer.mapping.tasks import TaskDraft
from importer.models import REMINDER, Issue

__all__ = ["check_tasks", "instant"]


def instant(text: Any) -> datetime | None:
    """An ISO 8601 time as an aware UTC datetime (a naive one taken as UTC); None when it is not one."""
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def check_tasks(drafts: Iterable[TaskDraft], now: datetime, number: int,
                issues: list[Issue]) -> tuple[dict[str, Any], ...]:
    """The create-task bodies of the row's tasks that are to be created, in mapping order; problems to ``issues``."""
    kept: list[dict[str, Any]] = []
    for draft in drafts:
        request = draft.request
        due = instant(request["due_date"])
        if due is None:
            continue  # the mapping reported the value it could not read
        if due <= now and draft.past_due != "create":
            message = (f"{request['type']} due {request['due_date']} is in the past: no task created "
                       "(past_due: create in the mapping creates it anyway)")
            issues.append(issue("task-past-due", number, draft.due_column, message, str(request["due_date"])))
            continue
        if "notify_at" in request and not _notify_fits(request["notify_at"], now, due):
            message = (f"notify_at {request['notify_at']} must be after now ({now:%Y-%m-%dT%H:%M:%SZ}) and not after "
                       f"the due time {request['due_date']}")
            issues.append(issue("invalid-notify-at", number, draft.notify_column, message, str(request["notify_at"])))
            continue
        kept.append(request)
    open_ones = [request for request in kept if request["type"] != REMINDER]
    if len(open_ones) > 1:
        last = open_ones[-1]
        message = (f"{len(open_ones)} non-reminder tasks: creating each completes the one before it, so only "
                   f"{last['type']} due {last['due_date']} stays open")
        issues.append(issue("several-open-tasks", number, "tasks", message))
    return tuple(kept)


def _notify_fits(text: Any, now: datetime, due: datetime) -> bool:
    notify_at = instant(text)
    return notify_at is not None and now < notify_at <= due
