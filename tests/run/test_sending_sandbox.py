"""The sender against the sandbox: faults, throttling, note safety, per-phone ordering, 401."""

from __future__ import annotations

import logging
import math
import socket
from collections import defaultdict
from typing import Any

import pytest

from importer.api.client import SuperfoneClient
from importer.api.retry import RetryPolicy
from importer.errors import AuthError, TransientError
from importer.run.engine.sending import Sender
from importer.run.engine.work import Job, Outcome
from importer.sandbox import SandboxServer

FAST_RETRIES = RetryPolicy(max_attempts=16, base=0.01, cap=0.05)  # enough that no row runs out by chance


def phone(n: int) -> str:
    return f"+9197{n:08d}"


def lead_job(row: int, number: int | None = None, **fields: Any) -> Job:
    primary = phone(number if number is not None else row)
    payload = {"customer_phone": primary, "create_customer_if_customer_phone_not_found": True, **fields}
    return Job(row, (payload,), frozenset({primary, *fields.get("add_phones", ())}))


def send(server: SandboxServer, jobs: list[Job], key: str | None = None, **options: Any) -> dict[int, Outcome]:
    outcomes: dict[int, Outcome] = {}
    options.setdefault("policy", FAST_RETRIES)
    options.setdefault("rate", math.inf)
    with SuperfoneClient(server.base_url, key or server.api_key) as client:
        Sender(client, **options).run(jobs, lambda job: None, lambda o: outcomes.__setitem__(o.row, o))
    return outcomes


def notes_by_phone(server: SandboxServer) -> dict[str, list[str]]:
    return {lead["phones"][0]: lead["notes"] for lead in server.leads()}


def test_503s_and_429s_are_retried_until_every_row_succeeds(fresh_sandbox: SandboxServer) -> None:
    fresh_sandbox.configure(fail_before=0.3, fault_seed=11, rate=40, burst=4)
    jobs = [lead_job(n, customer_note=f"note {n}") for n in range(1, 31)]
    outcomes = send(fresh_sandbox, jobs, rate=90.0, concurrency=8)  # faster than the server allows
    assert {o.status for o in outcomes.values()} == {"succeeded"} and len(outcomes) == 30
    log = fresh_sandbox.requests()
    assert any(entry["status"] == 503 for entry in log)
    assert any(entry["status"] == 429 for entry in log)
    notes = notes_by_phone(fresh_sandbox)
    assert all(notes[phone(n)] == [f"note {n}"] for n in range(1, 31))  # each note exactly once


def test_faults_after_applying_never_duplicate_a_note(fresh_sandbox: SandboxServer) -> None:
    fresh_sandbox.configure(fail_after=0.2, drop_after=0.2, fault_seed=5)
    jobs = [lead_job(n, customer_note=f"note {n}", first_name=f"Row {n}") for n in range(1, 61)]
    # Which request meets which fault depends on thread timing: enough attempts that no row runs out of them
    # (0.4 ** 16: about one row in 2 million), so the assertions below hold whatever the interleaving.
    outcomes = send(fresh_sandbox, jobs, concurrency=6, policy=RetryPolicy(max_attempts=16, base=0.001, cap=0.01))
    assert len(outcomes) == 60
    notes = notes_by_phone(fresh_sandbox)
    assert all(len(notes[phone(n)]) <= 1 for n in range(1, 61))
    by_status: dict[str, list[int]] = defaultdict(list)
    for outcome in outcomes.values():
        by_status[outcome.status].append(outcome.row)
    assert by_status["in_doubt"], "the faults should have left some rows in doubt"
    assert not by_status["failed"]
    for row in by_status["succeeded"]:
        assert notes[phone(row)] == [f"note {row}"]
    for row in by_status["in_doubt"]:
        assert outcomes[row].message == "note may not have been added"
    log = [entry for entry in fresh_sandbox.requests() if entry["method"] == "POST"]
    faulted = [entry for entry in log if entry["fault"] in ("fail_after", "drop_after")]
    assert faulted
    for entry in faulted:  # after an uncertain answer, that phone's later requests carry no note
        later = [e for e in log if e["customer_phone"] == entry["customer_phone"] and e["started"] > entry["started"]]
        assert later and not any(e["has_note"] for e in later)


def test_rows_sharing_a_phone_never_overlap_and_keep_sheet_order(fresh_sandbox: SandboxServer) -> None:
    fresh_sandbox.configure(latency_ms=15)
    jobs = [lead_job(row, number=row % 4, first_name=f"Row {row}") for row in range(1, 33)]
    outcomes = send(fresh_sandbox, jobs, concurrency=8)
    assert {o.status for o in outcomes.values()} == {"succeeded"}
    spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for entry in fresh_sandbox.requests():
        if entry["method"] == "POST":
            spans[entry["customer_phone"]].append((entry["started"], entry["finished"]))
    assert len(spans) == 4
    for intervals in spans.values():
        assert len(intervals) == 8
        for (_, end), (start, _) in zip(sorted(intervals), sorted(intervals)[1:], strict=False):
            assert end <= start
    overall = sorted(span for intervals in spans.values() for span in intervals)
    assert any(b[0] < a[1] for a, b in zip(overall, overall[1:], strict=False)), "different phones ran in parallel"
    for number in range(4):  # the last row of each phone was applied last
        last_row = max(row for row in range(1, 33) if row % 4 == number)
        assert fresh_sandbox.lead(phone(number))["first_name"] == f"Row {last_row}"  # type: ignore[index]


def test_a_wrong_key_stops_the_run_after_exactly_one_request(
    fresh_sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = "not-the-key-canary-5150"
    jobs = [lead_job(n) for n in range(1, 200)]
    with pytest.raises(AuthError, match="UnAuthorized") as info:
        send(fresh_sandbox, jobs, key=canary, concurrency=8)
    assert len(fresh_sandbox.requests()) == 1
    assert canary not in repr(info.value) and canary not in str(info.value)
    assert not [message for message in caplog.messages if canary in message]


def test_an_unreachable_server_stops_the_run() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    outcomes: list[Outcome] = []
    with SuperfoneClient(f"http://127.0.0.1:{port}/superfone", "any-key") as client:
        sender = Sender(client, rate=math.inf, concurrency=4, policy=RetryPolicy(max_attempts=2, base=0.001))
        with pytest.raises(TransientError, match="connection refused"):
            sender.run([lead_job(n) for n in range(1, 50)], lambda job: None, outcomes.append)
    assert [o.row for o in outcomes] == [1]
