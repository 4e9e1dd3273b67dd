"""SuperfoneClient's task calls against the sandbox: create, complete, list every page through the retry loop."""

from __future__ import annotations

import pytest

from importer.api.client import SuperfoneClient
from importer.api.ratelimit import RateLimiter
from importer.api.retry import Retrying, RetryPolicy
from importer.errors import RejectedError
from importer.sandbox import SandboxServer
from tests.fakes import FakeClock

LEAD = 12345


def test_create_complete_and_list_every_page(fresh_sandbox: SandboxServer) -> None:
    with SuperfoneClient(fresh_sandbox.base_url, fresh_sandbox.api_key) as client:
        for day in range(1, 26):
            client.create_task(LEAD, {"type": "REMINDER", "due_date": f"2031-07-{day:02d}T09:00:00Z"})
        created = client.create_task(LEAD, {"type": "FOLLOW_UP_CALL", "due_date": "2031-08-01T09:00:00Z",
                                            "customer_note": "Quote follow-up"})
        assert (created["type"], created["task_status"], created["customer_id"]) == ("FOLLOW_UP_CALL", "PENDING", LEAD)
        closed = client.complete_task(LEAD)
        assert (closed["id"], closed["task_status"]) == (created["id"], "COMPLETE")
        clock = FakeClock()
        retrying = Retrying(RetryPolicy(), RateLimiter(1000, clock=clock, sleep=clock.sleep), clock, clock.sleep)
        tasks = client.list_tasks(LEAD, each=retrying.call)
    assert len(tasks) == 26
    assert [task["due_date"][:10] for task in tasks[:2]] == ["2031-08-01", "2031-07-25"]
    pages = [entry for entry in fresh_sandbox.requests() if entry["method"] == "GET"]
    assert [entry["status"] for entry in pages] == [200, 200]  # 20 + 6, and no page asked for more than 20


def test_list_tasks_retries_a_page_on_its_own(fresh_sandbox: SandboxServer) -> None:
    fresh_sandbox.configure(fail_before=0.5, fault_reads=True, fault_seed=3)
    clock = FakeClock()
    retrying = Retrying(RetryPolicy(max_attempts=10, base=0.01), clock=clock, sleep=clock.sleep)
    with SuperfoneClient(fresh_sandbox.base_url, fresh_sandbox.api_key) as client:
        tasks = client.list_tasks(LEAD, each=retrying.call)
    assert tasks == []
    assert any(entry["status"] == 503 for entry in fresh_sandbox.requests())


def test_task_errors_carry_the_servers_message(fresh_sandbox: SandboxServer) -> None:
    with SuperfoneClient(fresh_sandbox.base_url, fresh_sandbox.api_key) as client:
        with pytest.raises(RejectedError) as info:
            client.create_task(999999, {"type": "REMINDER", "due_date": "2031-07-01T09:00:00Z"})
        assert (info.value.status, info.value.message) == (404, "Lead not found")
        with pytest.raises(RejectedError) as info:
            client.complete_task(LEAD)
        assert (info.value.status, info.value.message) == (400, "No open task found for this lead")
