"""The request timeline: per-second counts, retries told by the retry loop, latency percentiles, bounded memory."""

from __future__ import annotations

import random
import statistics
import threading
import tracemalloc
from datetime import UTC, datetime

import pytest

from importer.api.retry import Retrying, RetryPolicy
from importer.api.timeline import ATTEMPT, COLUMNS, CSV_COLUMNS, RequestTimeline, request_kind
from importer.errors import RejectedError, TransientError, UncertainError
from tests.fakes import FakeClock

START = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(("method", "path", "kind"), [
    ("POST", "/enterprise/api/lead", "upsert"),
    ("GET", "/enterprise/api/lead", "get-lead"),
    ("GET", "/enterprise/api/lead-stage", "list-lead-stage"),
    ("GET", "/enterprise/api/source-type", "list-source-type"),
    ("POST", "/enterprise/api/lead/1234/task", "create-task"),
    ("GET", "/enterprise/api/lead/1234/task", "list-tasks"),
    ("POST", "/enterprise/api/lead/1234/task/complete", "complete-task"),
    ("DELETE", "/enterprise/api/lead/1234", "delete /lead/:id"),
])
def test_request_kinds(method: str, path: str, kind: str) -> None:
    assert request_kind(method, path) == kind


def make_timeline() -> tuple[RequestTimeline, FakeClock]:
    clock = FakeClock()
    clock.now = 100.0
    return RequestTimeline(START, clock=clock), clock


def test_each_second_counts_what_was_sent_and_how_it_was_answered() -> None:
    timeline, _ = make_timeline()
    timeline.request_done("list-label", 200, 100.2, 0.004)
    timeline.request_done("upsert", 200, 100.9, 0.010)
    timeline.request_done("upsert", 429, 102.0, 0.002)
    token = ATTEMPT.set(2)
    try:
        timeline.request_done("upsert", 503, 102.5, 0.006)
        timeline.request_done("upsert", None, 102.7, 30.0)  # a timeout: no answer, no latency
    finally:
        ATTEMPT.reset(token)
    timeline.request_done("upsert", 400, 103.1, 0.008)
    record = timeline.record()
    assert list(record.rows()) == [
        ["0", "2026-01-02T03:04:05.000+00:00", "2", "0", "2", "0", "0", "0", "0", "7.0", "10.0"],
        ["1", "2026-01-02T03:04:06.000+00:00", "0", "0", "0", "0", "0", "0", "0", "", ""],
        ["2", "2026-01-02T03:04:07.000+00:00", "3", "2", "0", "1", "0", "1", "1", "4.0", "6.0"],
        ["3", "2026-01-02T03:04:08.000+00:00", "1", "0", "0", "0", "1", "0", "0", "8.0", "8.0"],
    ]
    assert CSV_COLUMNS == ("second", "time", *COLUMNS, "latency_avg_ms", "latency_max_ms")
    summary = record.summary()
    assert summary == {
        "total": 6, "retried": 2, "ok": 2, "throttled": 1, "client_error": 1, "server_error": 1, "no_answer": 1,
        "by_kind": {"upsert": 5, "list-label": 1}, "by_status": {"200": 2, "400": 1, "429": 1, "503": 1},
        "latency_ms": summary["latency_ms"], "seconds": 4,
    }
    assert summary["latency_ms"]["max"] == 10.0
    # answers took 2, 4, 6, 8 and 10 ms: each percentile falls inside the bin of the true one
    assert 6.0 <= summary["latency_ms"]["p50"] <= 7.0 and 8.0 <= summary["latency_ms"]["p95"] <= 10.0


def test_an_empty_timeline() -> None:
    record = make_timeline()[0].record()
    assert list(record.rows()) == [] and record.seconds == 0
    assert record.summary()["latency_ms"] == {"p50": None, "p95": None, "max": None}
    assert record.buckets().counts["sent"] == []


def test_the_retry_loop_marks_each_attempt_after_the_first() -> None:
    timeline, clock = make_timeline()
    answers = [TransientError("Too Many Requests", status=429), UncertainError("HTTP 500", status=500), None]

    def request() -> str:
        answer = answers.pop(0)
        timeline.request_done("upsert", 200 if answer is None else answer.status, clock(), 0.001)
        if answer is not None:
            raise answer
        return "done"

    retrying = Retrying(RetryPolicy(base=0.01, random=random.Random(1)), clock=clock, sleep=clock.sleep)
    assert retrying.call(request) == "done"
    assert ATTEMPT.get() == 1  # put back after the call
    with pytest.raises(RejectedError):
        retrying.call(lambda: (timeline.request_done("upsert", 400, clock(), 0.001),
                               (_ for _ in ()).throw(RejectedError("bad", status=400))))
    summary = timeline.record().summary()
    assert (summary["total"], summary["retried"], summary["throttled"], summary["server_error"],
            summary["client_error"]) == (4, 2, 1, 1, 1)


def test_percentiles_are_close_to_the_exact_ones_and_max_is_exact() -> None:
    timeline, _ = make_timeline()
    draw = random.Random(7)
    latencies = [10 ** draw.uniform(-3.7, 0.3) for _ in range(20_000)]  # 0.2 ms to 2 s, log-uniform
    for index, latency in enumerate(latencies):
        timeline.request_done("upsert", 200, 100.0 + index / 1000, latency)
    record = timeline.record()
    cuts = statistics.quantiles(latencies, n=100)
    assert record.percentile(0.5) == pytest.approx(cuts[49], rel=0.1)
    assert record.percentile(0.95) == pytest.approx(cuts[94], rel=0.1)
    assert record.summary()["latency_ms"]["max"] == round(max(latencies) * 1000, 1)
    assert record.seconds == 20 and sum(record.counts["sent"]) == 20_000


def test_buckets_merge_seconds_for_a_chart() -> None:
    timeline, _ = make_timeline()
    for second in range(600):
        for _ in range(second % 3):
            timeline.request_done("upsert", 200, 100.0 + second + 0.5, 0.001 * (1 + second % 3))
    record = timeline.record()
    buckets = record.buckets(most=240)
    assert buckets.step_s == 5 and len(buckets.counts["sent"]) == 120
    assert sum(buckets.counts["sent"]) == record.total("sent") == 600
    assert buckets.counts["sent"][0] == 0 + 1 + 2 + 0 + 1
    assert buckets.latency_avg_ms[0] == pytest.approx((2 + 3 + 3 + 2) / 4)
    assert buckets.latency_max_ms[0] == pytest.approx(3.0)
    assert record.buckets(most=1000).step_s == 1


def test_threads_lose_no_request() -> None:
    timeline, _ = make_timeline()

    def work(offset: int) -> None:
        for n in range(5_000):
            timeline.request_done("upsert", 200 if n % 10 else 429, 100.0 + (offset + n) % 7, 0.001)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    summary = timeline.record().summary()
    assert (summary["total"], summary["ok"], summary["throttled"]) == (40_000, 36_000, 4_000)


def test_memory_does_not_grow_with_the_number_of_requests() -> None:
    timeline, _ = make_timeline()
    for n in range(1_000):  # warm up: the arrays reach their 60 seconds
        timeline.request_done("upsert", 200, 100.0 + n % 60, 0.001)
    tracemalloc.start()
    for n in range(100_000):
        timeline.request_done("upsert", 200 if n % 50 else 503, 100.0 + n % 60, 0.001 + (n % 97) / 1e4)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 100_000  # 100,000 requests kept one by one would take ten megabytes
    assert timeline.record().total("sent") == 101_000
