"""The sender with a fake client: outcomes, retries, note safety, ordering, stopping, laziness."""

from __future__ import annotations

import itertools
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from importer.api.retry import RetryPolicy
from importer.errors import AuthError, RejectedError, StopRequested, TransientError, UncertainError
from importer.run.engine.sending import Sender
from importer.run.engine.work import NOTE_IN_DOUBT, Job, Outcome
from tests.fakes import FakeClock

Script = Callable[[dict[str, Any], int], Exception | None]


class FakeClient:
    """Records every upsert; ``script(payload, call_number_for_this_phone)`` returns an error to raise."""

    def __init__(self, script: Script | None = None, work: float = 0.0) -> None:
        self.script = script
        self.work = work
        self.calls: list[dict[str, Any]] = []
        self.spans: list[tuple[dict[str, Any], float, float]] = []  # (payload, start, end)
        self._per_phone: dict[str, int] = {}
        self._lock = threading.Lock()

    def upsert(self, payload: dict[str, Any]) -> None:
        start = time.perf_counter()
        with self._lock:
            self.calls.append(payload)
            phone = payload["customer_phone"]
            self._per_phone[phone] = count = self._per_phone.get(phone, 0) + 1
        if self.work:
            time.sleep(self.work)
        with self._lock:
            self.spans.append((payload, start, time.perf_counter()))
        error = self.script(payload, count) if self.script else None
        if error is not None:
            raise error


class Recorder:
    def __init__(self) -> None:
        self.started: list[int] = []
        self.outcomes: dict[int, Outcome] = {}
        self.events: list[tuple[str, int]] = []
        self._inside = False

    def on_start(self, job: Job) -> None:
        self._enter()
        self.started.append(job.row)
        self.events.append(("start", job.row))
        self._inside = False

    def on_outcome(self, outcome: Outcome) -> None:
        self._enter()
        assert outcome.row not in self.outcomes
        self.outcomes[outcome.row] = outcome
        self.events.append(("end", outcome.row))
        self._inside = False

    def _enter(self) -> None:
        assert not self._inside, "callbacks must be serialised"
        self._inside = True
        time.sleep(0)  # give another thread the chance to break serialisation


def phone(n: int) -> str:
    return f"+9198{n:08d}"


def job(row: int, *, note: str | None = None, phones: tuple[int, ...] = (), extra: int | None = None) -> Job:
    primary = phone(phones[0] if phones else row)
    payload: dict[str, Any] = {"customer_phone": primary, "first_name": f"Lead {row}"}
    if note is not None:
        payload["customer_note"] = note
    everyone = {primary, *(phone(n) for n in phones[1:])}
    return Job(row, (payload,), frozenset(everyone))


def sender(client: FakeClient, clock: FakeClock, **kwargs: Any) -> Sender:
    kwargs.setdefault("rate", math.inf)
    kwargs.setdefault("concurrency", 4)
    return Sender(client, clock=clock, sleep=clock.sleep, **kwargs)


def run(s: Sender, jobs: Any) -> Recorder:
    recorder = Recorder()
    s.run(jobs, on_start=recorder.on_start, on_outcome=recorder.on_outcome)
    return recorder


def test_every_job_gets_one_start_then_one_outcome() -> None:
    client, clock = FakeClient(), FakeClock()
    recorder = run(sender(client, clock, concurrency=8), [job(n) for n in range(1, 201)])
    assert sorted(recorder.started) == list(range(1, 201))
    assert {o.status for o in recorder.outcomes.values()} == {"succeeded"}
    assert recorder.outcomes[7] == Outcome(7, "succeeded", "", 1, 200)
    for row in range(1, 201):
        assert recorder.events.index(("start", row)) < recorder.events.index(("end", row))
    assert len(client.calls) == 200


def test_rejected_row_fails_with_the_servers_message_and_is_not_retried() -> None:
    client = FakeClient(lambda p, n: RejectedError("Lead stage name not found", status=404))
    recorder = run(sender(client, FakeClock()), [job(1)])
    assert recorder.outcomes[1] == Outcome(1, "failed", "Lead stage name not found", 1, 404)
    assert len(client.calls) == 1


def test_transient_errors_are_retried_with_the_note_kept() -> None:
    def script(payload: dict[str, Any], n: int) -> Exception | None:
        return TransientError("Service Unavailable", status=503) if n <= 2 else None

    client, clock = FakeClient(script), FakeClock()
    recorder = run(sender(client, clock), [job(1, note="called twice")])
    assert recorder.outcomes[1] == Outcome(1, "succeeded", "", 3, 200)
    assert [c.get("customer_note") for c in client.calls] == ["called twice"] * 3
    assert len(clock.sleeps) == 2 and all(0 <= s <= 2.0 for s in clock.sleeps)  # jittered backoff


def test_uncertain_request_with_a_note_is_retried_without_it_and_ends_in_doubt() -> None:
    def script(payload: dict[str, Any], n: int) -> Exception | None:
        return UncertainError("HTTP 500", status=500) if n == 1 else None

    client = FakeClient(script)
    recorder = run(sender(client, FakeClock()), [job(1, note="first call")])
    assert recorder.outcomes[1] == Outcome(1, "in_doubt", NOTE_IN_DOUBT, 2, 200)
    assert "customer_note" in client.calls[0]
    assert "customer_note" not in client.calls[1]
    assert client.calls[1]["first_name"] == "Lead 1"  # everything else is still sent


def test_uncertain_request_without_a_note_is_idempotent_and_can_succeed() -> None:
    def script(payload: dict[str, Any], n: int) -> Exception | None:
        return UncertainError("connection lost after sending") if n == 1 else None

    client = FakeClient(script)
    recorder = run(sender(client, FakeClock()), [job(1)])
    assert recorder.outcomes[1] == Outcome(1, "succeeded", "", 2, 200)
    assert client.calls[0] == client.calls[1]


def test_uncertain_note_then_exhausted_retries_stays_in_doubt() -> None:
    def script(payload: dict[str, Any], n: int) -> Exception | None:
        return UncertainError("HTTP 500", status=500) if n == 1 else TransientError("Bad Gateway", status=502)

    client = FakeClient(script)
    policy = RetryPolicy(max_attempts=3)
    recorder = run(sender(client, FakeClock(), policy=policy), [job(1, note="n")])
    outcome = recorder.outcomes[1]
    assert (outcome.status, outcome.attempts, outcome.http_status) == ("in_doubt", 3, 502)
    assert outcome.message == f"Bad Gateway; {NOTE_IN_DOUBT}"


def test_gives_up_after_max_attempts_with_the_last_reason() -> None:
    client = FakeClient(lambda p, n: TransientError(f"Service Unavailable #{n}", status=503))
    recorder = run(sender(client, FakeClock(), policy=RetryPolicy(max_attempts=4)), [job(1, note="x")])
    assert recorder.outcomes[1] == Outcome(1, "failed", "Service Unavailable #4", 4, 503)


def test_a_note_that_an_earlier_run_may_have_added_is_stripped() -> None:
    client = FakeClient()
    payload = {"customer_phone": phone(5), "customer_note": "maybe there"}
    resumed = Job(5, (payload,), frozenset({phone(5)}), note_in_doubt=True)
    recorder = run(sender(client, FakeClock()), [resumed])
    assert client.calls == [{"customer_phone": phone(5)}]
    assert recorder.outcomes[5] == Outcome(5, "in_doubt", NOTE_IN_DOUBT, 1, 200)


def test_split_job_sends_both_requests_in_order() -> None:
    first = {"customer_phone": phone(1), "add_labels": ["Hot"], "customer_note": "n"}
    second = {"customer_phone": phone(1), "remove_labels": ["Cold"]}
    client = FakeClient(lambda p, n: RejectedError("bad label", status=400) if n == 2 else None)
    recorder = run(sender(client, FakeClock()), [Job(1, (first, second), frozenset({phone(1)}))])
    assert client.calls == [first, second]
    assert recorder.outcomes[1].status == "failed"
    assert recorder.outcomes[1].message == "second request (remove_labels) failed: bad label"


def test_retry_after_pauses_everyone_and_slows_the_pool() -> None:
    def script(payload: dict[str, Any], n: int) -> Exception | None:
        if payload["customer_phone"] == phone(1) and n == 1:
            return TransientError("Too Many Requests", status=429, retry_after=4.0)
        return None

    client, clock = FakeClient(script), FakeClock()
    s = sender(client, clock, rate=100.0, concurrency=1)
    recorder = run(s, [job(1, note="keep me"), job(2)])
    assert recorder.outcomes[1] == Outcome(1, "succeeded", "", 2, 200)
    assert client.calls[1]["customer_note"] == "keep me"
    assert clock.now >= 4.0  # nobody sent before the Retry-After moment
    assert 50.0 <= s.limiter.rate < 100.0 and s.limiter.throttle_count == 1  # halved, recovering by steps


def test_401_stops_the_run_after_exactly_one_request() -> None:
    client = FakeClient(lambda p, n: AuthError("UnAuthorized, Please Provide Valid API Key", status=401))
    s = sender(client, FakeClock(), concurrency=8)
    recorder = Recorder()
    with pytest.raises(AuthError, match="UnAuthorized"):
        s.run((job(n) for n in range(1, 1000)), recorder.on_start, recorder.on_outcome)
    assert len(client.calls) == 1
    (first,) = recorder.started  # one job alone went through the gate (whichever worker reached it first)
    assert list(recorder.outcomes) == [first]
    assert recorder.outcomes[first].status == "failed" and recorder.outcomes[first].http_status == 401


def test_401_after_the_gate_opened_lets_in_flight_requests_finish() -> None:
    release = threading.Event()

    def script(payload: dict[str, Any], n: int) -> Exception | None:
        if payload["customer_phone"] == phone(3):
            release.set()
            return AuthError("UnAuthorized, Please Provide Valid API Key", status=401)
        release.wait(1.0)
        return None

    client = FakeClient(script, work=0.01)
    recorder = Recorder()
    with pytest.raises(AuthError):
        sender(client, FakeClock(), concurrency=4).run(
            (job(n) for n in range(1, 10_000)), recorder.on_start, recorder.on_outcome
        )
    assert set(recorder.started) == set(recorder.outcomes)  # every started job was reported
    assert len(client.calls) < 20


def test_jobs_sharing_a_phone_never_overlap_and_keep_sheet_order() -> None:
    # rows 1..60; every row shares a phone with row-3 (chain per residue) and some share add_phones
    jobs = [job(n, phones=(n % 3, 1000 + n // 10)) for n in range(1, 61)]
    client = FakeClient(work=0.002)
    recorder = run(sender(client, FakeClock(), concurrency=8), jobs)
    assert len(recorder.outcomes) == 60
    order = [row for kind, row in recorder.events if kind == "start"]
    spans = {row: recorder.events.index(("start", row)) for row in order}
    ends = {row: recorder.events.index(("end", row)) for row in order}
    for a, b in itertools.combinations(jobs, 2):
        if a.phones & b.phones:
            assert ends[a.row] < spans[b.row], f"rows {a.row} and {b.row} overlapped or swapped"


def test_unrelated_jobs_run_in_parallel() -> None:
    client = FakeClient(work=0.02)
    run(sender(client, FakeClock(), concurrency=8), [job(n) for n in range(1, 41)])
    # the most requests in flight at one moment, from the recorded spans (not from wall time, which load skews)
    edges = sorted([(start, 1) for _, start, _ in client.spans] + [(end, -1) for _, _, end in client.spans])
    in_flight = most = 0
    for _, change in edges:
        in_flight += change
        most = max(most, in_flight)
    assert 2 <= most <= 8


def endless(pulled: list[int]) -> Iterator[Job]:
    for n in itertools.count(1):
        pulled.append(n)
        yield job(n)


def test_jobs_are_read_lazily_and_stop_is_graceful() -> None:
    pulled: list[int] = []
    s = sender(FakeClient(), FakeClock(), concurrency=4, window=16)
    recorder = Recorder()

    def on_outcome(outcome: Outcome) -> None:
        recorder.on_outcome(outcome)
        if len(recorder.outcomes) == 50:
            s.stop()

    s.run(endless(pulled), recorder.on_start, on_outcome)
    assert len(recorder.outcomes) >= 50
    assert set(recorder.started) == set(recorder.outcomes)  # started jobs finished
    assert len(pulled) <= len(recorder.outcomes) + 16 + 1


def test_a_failing_callback_stops_the_run_and_is_raised() -> None:
    def on_outcome(outcome: Outcome) -> None:
        if outcome.row == 3:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        sender(FakeClient(), FakeClock(), concurrency=2).run(
            (job(n) for n in range(1, 100_000)), lambda j: None, on_outcome
        )


def test_a_failing_job_source_is_raised_after_in_flight_jobs_finish() -> None:
    def broken() -> Iterator[Job]:
        yield job(1)
        yield job(2)
        raise ValueError("bad sheet")

    recorder = Recorder()
    with pytest.raises(ValueError, match="bad sheet"):
        sender(FakeClient(work=0.01), FakeClock()).run(broken(), recorder.on_start, recorder.on_outcome)
    assert set(recorder.started) == set(recorder.outcomes)


def test_sender_sizes_the_clients_connection_pool() -> None:
    class PooledClient(FakeClient):
        pool = 0

        def ensure_pool_size(self, size: int) -> None:
            self.pool = size

    client = PooledClient()
    Sender(client, concurrency=24)
    assert client.pool == 24


def test_ctrl_c_lets_started_jobs_finish_then_propagates() -> None:
    def interrupted() -> Iterator[Job]:
        yield from (job(n) for n in range(1, 6))
        raise KeyboardInterrupt

    recorder = Recorder()
    client = FakeClient(work=0.01)
    with pytest.raises(KeyboardInterrupt):
        sender(client, FakeClock()).run(interrupted(), recorder.on_start, recorder.on_outcome)
    assert set(recorder.started) == set(recorder.outcomes)
    assert all(o.status == "succeeded" for o in recorder.outcomes.values())
    assert len(client.calls) == len(recorder.started)


def test_random_phone_overlaps_are_serialised_in_sheet_order() -> None:
    rng = random.Random(20240611)
    jobs = []
    for row in range(1, 301):
        phones = {phone(rng.randrange(40)) for _ in range(rng.choice((1, 1, 2, 3)))}
        primary = sorted(phones)[0]
        jobs.append(Job(row, ({"customer_phone": primary, "first_name": str(row)},), frozenset(phones)))
    client = FakeClient(work=0.0005)
    run(sender(client, FakeClock(), concurrency=8, window=64), jobs)
    spans = {int(payload["first_name"]): (start, end) for payload, start, end in client.spans}
    assert len(spans) == 300
    for a, b in itertools.combinations(jobs, 2):
        if a.phones & b.phones:
            assert spans[a.row][1] <= spans[b.row][0], f"rows {a.row} and {b.row} overlapped or swapped"
    overlapping = sum(1 for a, b in itertools.combinations(spans.values(), 2) if a[0] < b[1] and b[0] < a[1])
    assert overlapping > 0  # unrelated rows did run in parallel


def test_a_job_has_one_or_two_requests() -> None:
    with pytest.raises(ValueError, match="row 4"):
        Job(4, (), frozenset())


def test_an_unreachable_server_stops_the_run_after_the_first_rows_retries() -> None:
    client = FakeClient(lambda p, n: TransientError("could not connect to api: connection refused"))
    recorder = Recorder()
    with pytest.raises(TransientError, match="could not connect"):
        sender(client, FakeClock(), concurrency=8, policy=RetryPolicy(max_attempts=3)).run(
            (job(n) for n in range(1, 1000)), recorder.on_start, recorder.on_outcome
        )
    assert len(client.calls) == 3
    (first,) = recorder.started  # one job alone went through the gate (whichever worker reached it first)
    assert list(recorder.outcomes) == [first] and recorder.outcomes[first].status == "failed"


def test_a_first_503_opens_the_pool() -> None:
    client = FakeClient(lambda p, n: TransientError("Service Unavailable", status=503) if n == 1 else None)
    recorder = run(sender(client, FakeClock(), concurrency=4), [job(n) for n in range(1, 21)])
    assert {o.status for o in recorder.outcomes.values()} == {"succeeded"}


class ReadingClient(FakeClient):
    """A FakeClient that also answers get-lead: ``leads`` by phone; the first ``failures`` reads answer 503."""

    def __init__(self, leads: dict[str, dict[str, Any]], failures: int = 0) -> None:
        super().__init__()
        self.leads = leads
        self.failures = failures
        self.reads: list[str] = []

    def get_lead(self, phone: str) -> dict[str, Any] | None:
        self.reads.append(phone)
        if len(self.reads) <= self.failures:
            raise TransientError("Service Unavailable", status=503)
        return self.leads.get(phone)


def test_prepare_reads_each_lead_just_before_its_job_and_may_end_the_row_unsent() -> None:
    client, clock = ReadingClient({phone(2): {"id": 2}}, failures=1), FakeClock()

    def prepare(todo: Job, read: Callable[[str], dict[str, Any] | None]) -> Job | Outcome:
        lead = read(next(iter(todo.phones)))
        return Outcome(todo.row, "failed", "lead exists") if lead else todo

    recorder = Recorder()
    sender(client, clock).run([job(1), job(2)], recorder.on_start, recorder.on_outcome, prepare=prepare)

    assert sorted(client.reads) == [phone(1), phone(1), phone(2)]  # the 503 was retried
    assert [call["customer_phone"] for call in client.calls] == [phone(1)]
    assert recorder.started == [1]  # a row prepare ends is never started
    assert recorder.outcomes[2] == Outcome(2, "failed", "lead exists")


def test_a_read_that_keeps_failing_fails_its_row_unsent() -> None:
    client = ReadingClient({}, failures=100)
    recorder = Recorder()
    policy = RetryPolicy(max_attempts=2, base=0.0)
    sender(client, FakeClock(), policy=policy).run(
        [job(1)], recorder.on_start, recorder.on_outcome, prepare=lambda todo, read: read(phone(1)) or todo)

    assert client.calls == [] and recorder.started == []
    assert recorder.outcomes[1].status == "failed"
    assert recorder.outcomes[1].message == "could not read the lead: Service Unavailable"


def test_what_on_start_returns_waits_outside_the_callback_lock_and_may_refuse_the_job() -> None:
    """A worker waiting until its start is recorded lets the others start and end their jobs meanwhile; a start
    that could not be recorded (StopRequested) is not sent and gets no outcome."""
    client, recorder = FakeClient(), Recorder()
    release = threading.Event()

    def on_start(started: Job) -> Callable[[], None] | None:
        recorder.on_start(started)
        if started.row == 3:
            return release.wait  # row 3 waits until every other row has ended (row 1 goes alone, first)
        if started.row == 2:
            def refuse() -> None:
                raise StopRequested("not recorded")
            return refuse
        return None

    def on_outcome(outcome: Outcome) -> None:
        recorder.on_outcome(outcome)
        if len(recorder.outcomes) == 8:
            release.set()

    sender(client, FakeClock(), concurrency=4).run([job(n) for n in range(1, 11)], on_start, on_outcome)
    assert sorted(recorder.outcomes) == [1, *range(3, 11)]
    assert recorder.events[-1] == ("end", 3)
    assert phone(2) not in {call["customer_phone"] for call in client.calls}
