"""check_tasks: past due, notify_at's range and several open tasks, against a given time (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from importer.checks.tasks import check_tasks
from importer.mapping.tasks import TaskDraft
from importer.models import Issue

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def draft(task_type: str = "FOLLOW_UP_CALL", due: str = "2026-05-20T09:30:00Z", notify_at: str | None = None,
          past_due: str = "skip") -> TaskDraft:
    request = {"type": task_type, "due_date": due} | ({"notify_at": notify_at} if notify_at else {})
    return TaskDraft(request, past_due, "Follow-up", "Remind")


def checked(*drafts: TaskDraft) -> tuple[tuple[dict, ...], list[tuple[str, str, str]]]:
    issues: list[Issue] = []
    kept = check_tasks(drafts, NOW, 7, issues)
    return kept, [(issue.code, issue.severity, issue.column) for issue in issues]


def test_a_task_due_later_is_kept_as_mapped() -> None:
    task = draft(notify_at="2026-05-20T09:00:00Z")
    assert checked(task) == ((task.request,), [])


def test_a_past_due_task_is_a_warning_and_not_created_unless_asked() -> None:
    for due in ("2026-04-30T09:30:00Z", "2026-05-01T12:00:00Z"):  # in the past, or due right now
        assert checked(draft(due=due)) == ((), [("task-past-due", "warning", "Follow-up")])
    kept = draft(due="2026-04-30T09:30:00Z", past_due="create")
    assert checked(kept) == ((kept.request,), [])


def test_notify_at_must_be_after_now_and_not_after_due() -> None:
    assert checked(draft(notify_at="2026-05-20T09:30:00Z"))[1] == []  # equal to the due time is fine
    for notify_at in ("2026-05-20T09:30:01Z", "2026-05-01T12:00:00Z", "2026-04-01T00:00:00+05:30"):
        assert checked(draft(notify_at=notify_at)) == ((), [("invalid-notify-at", "error", "Remind")])


def test_several_non_reminders_warn_that_only_the_last_stays_open() -> None:
    first, second = draft(), draft("SITE_VISIT", "2026-05-21T04:00:00Z")
    kept, issues = checked(first, draft("REMINDER"), second)
    assert len(kept) == 3 and issues == [("several-open-tasks", "warning", "tasks")]
    issue_list: list[Issue] = []
    check_tasks((first, second), NOW, 7, issue_list)
    assert "only SITE_VISIT due 2026-05-21T04:00:00Z stays open" in issue_list[0].message
    assert checked(first, draft("REMINDER"))[1] == []  # a reminder is never closed by another task
