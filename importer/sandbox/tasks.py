"""Task endpoints (reference §4): create, complete and list a lead's tasks, keyed by the lead's id.

    POST /enterprise/api/lead/:lead_id/task            create (body: type, due_date, notify_at?, customer_note?)
    POST /enterprise/api/lead/:lead_id/task/complete   complete the most recently created PENDING task
    GET  /enterprise/api/lead/:lead_id/task            list, newest first (page, page_size ≤ 20)

Documented rules: ``:lead_id`` not a number → 400 ``lead_id must be a number``; no such lead → 404 ``Lead not
found`` (documented for complete, applied to all three); ``notify_at`` must satisfy now < notify_at ≤ due_date
and defaults by type (REMINDER: due_date; FIRST_CALL: now; others: due_date − 10 min); a task takes the lead's
current assignee; creating a non-reminder task completes every other open non-reminder task of the lead;
complete closes the newest PENDING task (400 ``No open task found for this lead`` when none); list returns
PENDING and COMPLETE tasks newest first, page_size default 20, above 20 → 400.

Choices where the documentation is silent (open question 10), each a 400 with ``{"message": ...}``:
- unknown body field → ``Unknown field: {name}``; ``type`` missing → ``type is required``; not one of the six →
  ``type must be one of FOLLOW_UP_CALL, …``; ``due_date`` missing → ``due_date is required``; a date that is not
  ISO 8601 → ``due_date must be an ISO 8601 date-time`` (same for notify_at); a time without a zone is UTC;
- ``notify_at`` outside its range → ``notify_at must be after the current time and not after due_date``;
- a ``due_date`` in the past is accepted (nothing forbids it), and so are the defaults it gives (a default is not
  checked against the current time);
- ``page_size`` above 20 → ``page_size must not be greater than 20``; page or page_size not a positive integer →
  ``{name} must be a positive integer`` (as on the catalogue lists);
- ``customer_note`` (when not blank) is appended to the lead's timeline, as the docs say it is shown there; the
  task objects never show it (the documented shape has no such field);
- ``created_by`` and ``updated_by`` are user 1 (the API key's user in the docs' example); ``title`` is null;
  ``notify`` is true. Timestamps are written like the docs' (``2026-05-20T15:00:00.000Z``).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from importer.models import REMINDER, TASK_TYPES
from importer.sandbox.rules import Rejection
from importer.sandbox.store import Store, iso_timestamp

MAX_PAGE_SIZE = 20
API_USER_ID = 1
NO_OPEN_TASK = "No open task found for this lead"
_FIELDS = ("type", "due_date", "notify_at", "customer_note")
_COLUMNS = "id, lead_id, type, due_date, notify_at, task_status, assignee_user_id, created_at, updated_by, updated_at"


_LARGEST_ID = 2**63 - 1


def lead_id_of(raw: str) -> int:
    """``:lead_id`` as a number, or the documented 400."""
    if not raw.isascii() or not raw.isdigit():
        raise Rejection(400, "lead_id must be a number")
    if int(raw) > _LARGEST_ID:  # no lead has it (SQLite's ids are 64-bit)
        raise Rejection(404, "Lead not found")
    return int(raw)


def parse_instant(text: Any, name: str) -> datetime:
    """An ISO 8601 date-time (``Z`` or an offset; none = UTC) as an aware datetime, or a 400."""
    if not isinstance(text, str) or not text.strip():
        raise Rejection(400, f"{name} must be an ISO 8601 date-time")
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise Rejection(400, f"{name} must be an ISO 8601 date-time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class TaskBook:
    """The tasks of the leads of one :class:`Store` (in the store's SQLite database, under its lock)."""

    def __init__(self, store: Store, org_id: int) -> None:
        self.store = store
        self.org_id = org_id

    def create(self, lead_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Check ``body``, create the task, complete the other open non-reminder tasks; the new task."""
        store = self.store
        with store.transaction():
            assignee = self._lead_assignee(lead_id)
            now = store.now
            task_type, due, notify_at, note = _checked_body(body, datetime.fromtimestamp(now, UTC))
            stamp = iso_timestamp(now)
            if task_type != REMINDER:
                store.db.execute(
                    "UPDATE lead_task SET task_status = 'COMPLETE', updated_by = ?, updated_at = ? "
                    "WHERE lead_id = ? AND task_status = 'PENDING' AND type != ?",
                    (API_USER_ID, stamp, lead_id, REMINDER))
            cursor = store.db.execute(
                "INSERT INTO lead_task (lead_id, type, due_date, notify_at, task_status, assignee_user_id, note,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, 'PENDING', ?, ?, ?, ?)",
                (lead_id, task_type, _stamp(due), _stamp(notify_at), assignee, note, stamp, stamp))
            if note:
                store.add_note(lead_id, note, stamp)
            return self._task(int(cursor.lastrowid or 0))

    def complete(self, lead_id: int) -> dict[str, Any]:
        """Close the lead's most recently created PENDING task; it, as closed."""
        store = self.store
        with store.transaction():
            self._lead_assignee(lead_id)
            row = store.db.execute(
                "SELECT id FROM lead_task WHERE lead_id = ? AND task_status = 'PENDING' ORDER BY id DESC LIMIT 1",
                (lead_id,)).fetchone()
            if row is None:
                raise Rejection(400, NO_OPEN_TASK)
            store.db.execute("UPDATE lead_task SET task_status = 'COMPLETE', updated_by = ?, updated_at = ? "
                             "WHERE id = ?", (API_USER_ID, iso_timestamp(store.now), row[0]))
            return self._task(row[0])

    def page(self, lead_id: int, page: int, page_size: int) -> dict[str, Any]:
        """One page of the lead's tasks, newest first, in the paginated shape of §1.2."""
        if page_size > MAX_PAGE_SIZE:
            raise Rejection(400, f"page_size must not be greater than {MAX_PAGE_SIZE}")
        store = self.store
        with store.transaction():
            self._lead_assignee(lead_id)
            total = store.db.execute("SELECT count(*) FROM lead_task WHERE lead_id = ?", (lead_id,)).fetchone()[0]
            found = store.db.execute(
                f"SELECT {_COLUMNS} FROM lead_task WHERE lead_id = ? ORDER BY id DESC "
                "LIMIT ? OFFSET ?", (lead_id, page_size, (page - 1) * page_size)).fetchall()
        return {"rows": [self._shape(row) for row in found], "total_pages": math.ceil(total / page_size),
                "current_page": page, "page_size": page_size, "total_items": total}

    def _lead_assignee(self, lead_id: int) -> int | None:
        row = self.store.db.execute("SELECT assignee_user_id FROM lead WHERE id = ?", (lead_id,)).fetchone()
        if row is None:
            raise Rejection(404, "Lead not found")
        return row[0] if row[0] is None else int(row[0])

    def _task(self, task_id: int) -> dict[str, Any]:
        row = self.store.db.execute(f"SELECT {_COLUMNS} FROM lead_task WHERE id = ?", (task_id,)).fetchone()
        return self._shape(row)

    def _shape(self, row: tuple[Any, ...]) -> dict[str, Any]:
        task_id, lead_id, task_type, due, notify_at, task_status, assignee, created_at, updated_by, updated_at = row
        return {
            "id": task_id, "org_id": self.org_id, "customer_id": lead_id, "title": None, "type": task_type,
            "due_date": due, "notify_at": notify_at, "notify": True, "task_status": task_status,
            "status": "ACTIVE" if task_status == "PENDING" else "COMPLETE", "assignee_user_id": assignee,
            "created_by": API_USER_ID, "updated_by": updated_by, "created_at": created_at, "updated_at": updated_at,
        }


def _checked_body(body: dict[str, Any], now: datetime) -> tuple[str, datetime, datetime, str | None]:
    """(type, due_date, notify_at with its default, note) of a create request, or the 400 that refuses it."""
    for name in body:
        if name not in _FIELDS:
            raise Rejection(400, f"Unknown field: {name}")
    task_type = body.get("type")
    if task_type is None:
        raise Rejection(400, "type is required")
    if task_type not in TASK_TYPES:
        raise Rejection(400, f"type must be one of {', '.join(TASK_TYPES)}")
    if body.get("due_date") is None:
        raise Rejection(400, "due_date is required")
    due = parse_instant(body["due_date"], "due_date")
    note = body.get("customer_note")
    if note is not None and not isinstance(note, str):
        raise Rejection(400, "customer_note must be a string")
    if body.get("notify_at") is not None:
        notify_at = parse_instant(body["notify_at"], "notify_at")
        if not now < notify_at <= due:
            raise Rejection(400, "notify_at must be after the current time and not after due_date")
    else:
        notify_at = default_notify_at(task_type, due, now)
    return task_type, due, notify_at, note if note and note.strip() else None


def default_notify_at(task_type: str, due: datetime, now: datetime) -> datetime:
    """REMINDER: at the due time; FIRST_CALL: immediately; every other type: ten minutes before it is due."""
    if task_type == REMINDER:
        return due
    if task_type == "FIRST_CALL":
        return now
    return due - timedelta(minutes=10)


def _stamp(moment: datetime) -> str:
    """``2026-05-20T15:00:00.000Z``: the API's format, to the millisecond."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
