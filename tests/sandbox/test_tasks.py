"""Sandbox contract: the task endpoints (reference §4): create, complete, list; their rules and errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import requests

from importer.models import TASK_TYPES, PageOut, Task, TaskOut

if TYPE_CHECKING:
    from conftest import SandboxApi

LEAD = 12345  # the seed's lead (seed 000's example), assignee 678
DUE = "2031-05-20T15:00:00Z"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def create(api: SandboxApi, body: Any, lead: object = LEAD) -> requests.Response:
    return api.session.post(api.url(f"lead/{lead}/task"), json=body, headers=api.headers, timeout=30)


def complete(api: SandboxApi, lead: object = LEAD) -> requests.Response:
    return api.session.post(api.url(f"lead/{lead}/task/complete"), headers=api.headers, timeout=30)


def listed(api: SandboxApi, lead: object = LEAD, **params: Any) -> requests.Response:
    return api.get(f"lead/{lead}/task", **params)


def statuses(api: SandboxApi) -> list[tuple[str, str]]:
    return [(row["type"], row["task_status"]) for row in listed(api).json()["data"]["rows"]]


def test_create_answers_the_task_shaped_like_the_reference(api: SandboxApi) -> None:
    before = datetime.now(UTC)
    answer = create(api, {"type": "FOLLOW_UP_CALL", "due_date": DUE})
    assert answer.status_code == 200
    task = TaskOut.model_validate(answer.json()).data.model_dump()
    assert list(answer.json()["data"]) == list(Task.model_fields)
    assert task | {"id": 0, "created_at": "", "updated_at": ""} == {
        "id": 0, "org_id": 42, "customer_id": LEAD, "title": None, "type": "FOLLOW_UP_CALL",
        "due_date": "2031-05-20T15:00:00.000Z", "notify_at": "2031-05-20T14:50:00.000Z", "notify": True,
        "task_status": "PENDING", "status": "ACTIVE", "assignee_user_id": 678, "created_by": 1, "updated_by": None,
        "created_at": "", "updated_at": ""}
    created = datetime.fromisoformat(task["created_at"])
    assert before - timedelta(seconds=1) <= created <= datetime.now(UTC) + timedelta(seconds=1)


@pytest.mark.parametrize(("task_type", "offset"), [("REMINDER", timedelta(0)), ("SITE_VISIT", timedelta(minutes=-10))])
def test_notify_at_defaults_by_type(api: SandboxApi, task_type: str, offset: timedelta) -> None:
    task = create(api, {"type": task_type, "due_date": "2031-01-02T03:04:05+05:30"}).json()["data"]
    due = datetime(2031, 1, 1, 21, 34, 5, tzinfo=UTC)
    assert task["due_date"] == iso(due)
    assert task["notify_at"] == iso(due + offset)


def test_first_call_notifies_immediately(api: SandboxApi) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    task = create(api, {"type": "FIRST_CALL", "due_date": DUE}).json()["data"]
    assert before <= datetime.fromisoformat(task["notify_at"]) <= datetime.now(UTC) + timedelta(seconds=1)


def test_a_given_notify_at_is_kept(api: SandboxApi) -> None:
    task = create(api, {"type": "BOOKING", "due_date": DUE, "notify_at": "2031-05-20T15:00:00Z"}).json()["data"]
    assert task["notify_at"] == "2031-05-20T15:00:00.000Z"


@pytest.mark.parametrize("notify_at", [
    "2031-05-20T15:00:01Z",                                       # after due_date
    "2020-01-01T00:00:00Z",                                       # not after now
])
def test_notify_at_out_of_range_is_400(api: SandboxApi, notify_at: str) -> None:
    answer = create(api, {"type": "CALLBACK_REQUEST", "due_date": DUE, "notify_at": notify_at})
    assert (answer.status_code, answer.json()) == (
        400, {"message": "notify_at must be after the current time and not after due_date"})
    assert statuses(api) == []


def test_a_past_due_date_is_accepted_with_its_default(api: SandboxApi) -> None:
    task = create(api, {"type": "FOLLOW_UP_CALL", "due_date": "2020-01-01T10:00:00Z"}).json()["data"]
    assert (task["due_date"], task["notify_at"]) == ("2020-01-01T10:00:00.000Z", "2020-01-01T09:50:00.000Z")


@pytest.mark.parametrize(("body", "message"), [
    ({"due_date": DUE}, "type is required"),
    ({"type": "CALL", "due_date": DUE}, f"type must be one of {', '.join(TASK_TYPES)}"),
    ({"type": "REMINDER"}, "due_date is required"),
    ({"type": "REMINDER", "due_date": "20/05/2031"}, "due_date must be an ISO 8601 date-time"),
    ({"type": "REMINDER", "due_date": DUE, "notify_at": 5}, "notify_at must be an ISO 8601 date-time"),
    ({"type": "REMINDER", "due_date": DUE, "title": "x"}, "Unknown field: title"),
    ({"type": "REMINDER", "due_date": DUE, "customer_note": ["x"]}, "customer_note must be a string"),
    ([], "Request body must be a JSON object"),
])
def test_invalid_bodies_are_400(api: SandboxApi, body: Any, message: str) -> None:
    answer = create(api, body)
    assert (answer.status_code, answer.json()) == (400, {"message": message})


def test_a_non_reminder_completes_the_open_non_reminders_only(api: SandboxApi) -> None:
    for task_type in ("FOLLOW_UP_CALL", "REMINDER", "SITE_VISIT"):
        assert create(api, {"type": task_type, "due_date": DUE}).status_code == 200
    assert statuses(api) == [("SITE_VISIT", "PENDING"), ("REMINDER", "PENDING"), ("FOLLOW_UP_CALL", "COMPLETE")]
    closed = listed(api).json()["data"]["rows"][2]
    assert (closed["status"], closed["updated_by"]) == ("COMPLETE", 1)
    create(api, {"type": "REMINDER", "due_date": DUE})  # a reminder closes nothing
    assert [status for _, status in statuses(api)] == ["PENDING", "PENDING", "PENDING", "COMPLETE"]


def test_complete_closes_the_most_recently_created_pending_task(api: SandboxApi) -> None:
    create(api, {"type": "FOLLOW_UP_CALL", "due_date": DUE})
    create(api, {"type": "REMINDER", "due_date": DUE})
    answer = complete(api)
    assert answer.status_code == 200
    closed = TaskOut.model_validate(answer.json()).data
    assert (closed.type, closed.task_status, closed.status, closed.updated_by) == (
        "REMINDER", "COMPLETE", "COMPLETE", 1)
    assert statuses(api) == [("REMINDER", "COMPLETE"), ("FOLLOW_UP_CALL", "PENDING")]
    assert complete(api).json()["data"]["type"] == "FOLLOW_UP_CALL"
    answer = complete(api)
    assert (answer.status_code, answer.json()) == (400, {"message": "No open task found for this lead"})


def test_list_pages_newest_first_twenty_at_most(api: SandboxApi) -> None:
    for day in range(1, 23):
        create(api, {"type": "REMINDER", "due_date": f"2031-06-{day:02d}T10:00:00Z"})
    first = PageOut[Task].model_validate(listed(api).json()).data
    assert (first.total_items, first.total_pages, first.current_page, first.page_size) == (22, 2, 1, 20)
    assert [task.due_date[:10] for task in first.rows[:2]] == ["2031-06-22", "2031-06-21"]
    second = listed(api, page=2).json()["data"]
    assert [task["due_date"][:10] for task in second["rows"]] == ["2031-06-02", "2031-06-01"]
    assert listed(api, page=3, page_size=10).json()["data"]["rows"][-1]["due_date"][:10] == "2031-06-01"
    assert listed(api, page_size=20).status_code == 200
    answer = listed(api, page_size=21)
    assert (answer.status_code, answer.json()) == (400, {"message": "page_size must not be greater than 20"})
    assert listed(api, page=0).json() == {"message": "page must be a positive integer"}


@pytest.mark.parametrize("call", [create, complete, listed])
def test_lead_id_must_be_a_number_and_exist(api: SandboxApi, call: Any) -> None:
    extra = ({"type": "REMINDER", "due_date": DUE},) if call is create else ()
    answer = call(api, *extra, lead="abc")
    assert (answer.status_code, answer.json()) == (400, {"message": "lead_id must be a number"})
    for lead in (999999, 10**30):  # beyond any 64-bit id too
        answer = call(api, *extra, lead=lead)
        assert (answer.status_code, answer.json()) == (404, {"message": "Lead not found"})


@pytest.mark.parametrize("call", [create, complete, listed])
def test_a_wrong_key_is_401(api: SandboxApi, call: Any) -> None:
    api.headers = {"x-api-key": "wrong"}
    extra = ({"type": "REMINDER", "due_date": DUE},) if call is create else ()
    answer = call(api, *extra)
    assert (answer.status_code, answer.json()) == (401, {"message": "UnAuthorized, Please Provide Valid API Key"})


def test_a_task_takes_the_current_assignee_and_its_note_reaches_the_timeline(api: SandboxApi) -> None:
    api.upsert({"customer_phone": "+918000000001", "assignee_user_phone": None})
    task = create(api, {"type": "REMINDER", "due_date": DUE, "customer_note": "Call about the quote"}).json()["data"]
    assert task["assignee_user_id"] is None
    assert api.server.lead("+918000000001")["notes"][-1] == "Call about the quote"  # type: ignore[index]


def test_deleting_a_lead_deletes_its_tasks_and_reset_forgets_them(api: SandboxApi) -> None:
    create(api, {"type": "REMINDER", "due_date": DUE})
    api.server.reset()
    assert statuses(api) == []
    create(api, {"type": "REMINDER", "due_date": DUE})
    assert api.server.delete_lead("+918000000001")
    assert listed(api).status_code == 404


def test_fault_knobs_can_hit_task_creation_only(api: SandboxApi) -> None:
    api.server.configure(fail_before=1.0, fault_tasks=True, fault_upserts=False)
    assert api.upsert({"customer_phone": "+918000000001", "city": "Pune"}).status_code == 200
    assert create(api, {"type": "REMINDER", "due_date": DUE}).status_code == 503
    assert listed(api).status_code == 200  # reads are spared
    assert statuses(api) == []
