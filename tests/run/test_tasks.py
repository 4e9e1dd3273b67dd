"""TaskSender and TaskRecords against the sandbox: tasks created once, looked for after an unknown outcome,
failures counted, outcomes journaled and reported again on resume."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from importer.api.client import SuperfoneClient
from importer.api.retry import Retrying, RetryPolicy
from importer.errors import AuthError
from importer.run.engine.tasks import TaskOutcome, TaskRecords, TaskSender, task_key, task_lines
from importer.run.stores.journal import Journal
from importer.sandbox import SandboxServer
from tests.fakes import FakeClock

PHONE = "+918000000001"  # the seed's lead 12345 (secondary phone +918000000002)
CALL = {"type": "FOLLOW_UP_CALL", "due_date": "2031-05-20T09:30:00Z", "customer_note": "Discuss the quote"}
VISIT = {"type": "SITE_VISIT", "due_date": "2031-05-21T04:00:00Z"}


def sender(server: SandboxServer, attempts: int = 4, key: str | None = None) -> TaskSender:
    clock = FakeClock()
    client = SuperfoneClient(server.base_url, key or server.api_key)
    return TaskSender(client, Retrying(RetryPolicy(max_attempts=attempts, base=0.001), clock=clock,
                                       sleep=clock.sleep))


def lead_tasks(server: SandboxServer) -> list[tuple[str, str, str]]:
    with SuperfoneClient(server.base_url, server.api_key) as client:
        return [(task["type"], task["due_date"], task["task_status"]) for task in client.list_tasks(12345)]


def test_task_key_compares_due_times_as_instants() -> None:
    assert task_key({"type": "REMINDER", "due_date": "2031-05-20T15:00:00Z"}) == task_key(
        {"type": "REMINDER", "due_date": "2031-05-20T20:30:00.000+05:30"})
    assert task_key({"type": "REMINDER", "due_date": "2031-05-20T15:00:00Z"}) != task_key(
        {"type": "BOOKING", "due_date": "2031-05-20T15:00:00Z"})


def test_tasks_are_created_once_and_the_api_closes_the_older_one(fresh_sandbox: SandboxServer) -> None:
    outcomes = sender(fresh_sandbox).send(7, PHONE, (CALL, VISIT))
    assert [(o.status, o.lead_id) for o in outcomes] == [("succeeded", 12345), ("succeeded", 12345)]
    assert lead_tasks(fresh_sandbox) == [("SITE_VISIT", "2031-05-21T04:00:00.000Z", "PENDING"),
                                         ("FOLLOW_UP_CALL", "2031-05-20T09:30:00.000Z", "COMPLETE")]
    again = sender(fresh_sandbox).send(7, "+918000000002", (CALL, VISIT))  # any phone of the lead finds it
    assert [o.status for o in again] == ["existing", "existing"]
    assert len(lead_tasks(fresh_sandbox)) == 2
    assert fresh_sandbox.lead(PHONE)["notes"].count("Discuss the quote") == 1  # type: ignore[index]


def test_a_creation_of_unknown_outcome_is_looked_for_not_sent_again(fresh_sandbox: SandboxServer) -> None:
    fresh_sandbox.configure(fail_after=1.0, fault_tasks=True, fault_upserts=False)  # created, then answered 500
    outcomes = sender(fresh_sandbox).send(7, PHONE, (CALL,))
    assert [o.status for o in outcomes] == ["succeeded"]
    creates = [e for e in fresh_sandbox.requests() if e["method"] == "POST"]
    assert [e["status"] for e in creates] == [500]  # one creation, found by the listing that followed
    assert lead_tasks(fresh_sandbox) == [("FOLLOW_UP_CALL", "2031-05-20T09:30:00.000Z", "PENDING")]


def test_a_refused_task_fails_and_the_others_go_on(fresh_sandbox: SandboxServer) -> None:
    refused = {"type": "REMINDER", "due_date": "2031-05-20T09:30:00Z", "notify_at": "2031-05-21T00:00:00Z"}
    outcomes = sender(fresh_sandbox).send(7, PHONE, (refused, VISIT))
    assert [(o.status, o.message) for o in outcomes] == [
        ("failed", "notify_at must be after the current time and not after due_date"), ("succeeded", "")]


def test_a_task_the_server_keeps_refusing_to_take_fails(fresh_sandbox: SandboxServer) -> None:
    fresh_sandbox.configure(fail_before=1.0, fault_tasks=True, fault_upserts=False)  # 503, never applied
    outcomes = sender(fresh_sandbox, attempts=3).send(7, PHONE, (CALL,))
    assert [(o.status, o.message) for o in outcomes] == [("failed", "Service temporarily unavailable")]
    assert lead_tasks(fresh_sandbox) == []


def test_a_lead_that_is_gone_fails_its_tasks(fresh_sandbox: SandboxServer) -> None:
    outcomes = sender(fresh_sandbox).send(7, "+919999999999", (CALL,))
    assert outcomes[0].status == "failed" and "no lead has this phone" in outcomes[0].message


def test_a_wrong_key_stops_with_auth_error(fresh_sandbox: SandboxServer) -> None:
    with pytest.raises(AuthError):
        sender(fresh_sandbox, key="wrong-key").send(7, PHONE, (CALL,))


def test_records_journal_count_list_and_report_again_on_resume(tmp_path: Path) -> None:
    counts: dict[str, int] = {}
    outcomes = (TaskOutcome(CALL, "succeeded", "", 12345), TaskOutcome(VISIT, "failed", "=refused", 12345))
    with Journal(tmp_path / "journal.sqlite") as journal, TaskRecords(journal, "key-1", tmp_path, counts) as records:
        records.record(7, PHONE, outcomes)
    assert counts == {"succeeded": 1, "failed": 1}
    with (tmp_path / "tasks.csv").open(encoding="utf-8-sig") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == ["_row", "customer_phone", "lead_id", "type", "due_date", "notify_at", "status", "message"]
    assert rows[2] == ["7", "'" + PHONE, "12345", "SITE_VISIT", "2031-05-21T04:00:00Z", "", "failed", "'=refused"]
    resumed: dict[str, int] = {}
    folder = tmp_path / "second"
    folder.mkdir()
    with Journal(tmp_path / "journal.sqlite") as journal, TaskRecords(journal, "key-1", folder, resumed) as records:
        records.resumed(7, PHONE)
        records.resumed(8, PHONE)  # a row without tasks
    assert resumed == counts
    with Journal(tmp_path / "journal.sqlite") as journal, TaskRecords(journal, "key-1", folder, {}) as records:
        records.forget()
    resumed = {}
    with Journal(tmp_path / "journal.sqlite") as journal, TaskRecords(journal, "key-1", folder, resumed) as records:
        records.resumed(7, PHONE)
    assert resumed == {}


def test_terminal_lines() -> None:
    assert task_lines({"dry_run": False}) == []
    assert task_lines({"dry_run": False, "tasks": {"succeeded": 3, "existing": 1}}) == [
        "tasks: 3 created, 1 already on their leads, 0 failed, 0 in doubt, 0 skipped (past due) (tasks.csv)"]
    assert task_lines({"dry_run": True, "tasks": {"planned": 2, "skipped": 1}}) == [
        "tasks: 2 to create, 1 skipped (past due)"]
