"""The sender and the run's stop: nothing new starts, a job cut short says whether any of it may have been applied,
a quota-length Retry-After stops the run, requests still unanswered after the grace period are abandoned."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from importer.api.retry import RetryPolicy
from importer.errors import TransientError, UncertainError
from importer.run.engine.sending import Sender
from importer.run.engine.stop import Stop
from importer.run.engine.work import STOPPED, Outcome
from tests.fakes import FakeClock
from tests.run.test_sending import FakeClient, Recorder, job


def test_a_signal_lets_started_jobs_finish_and_starts_nothing_new() -> None:
    stop = Stop()
    client = FakeClient(work=0.01)
    s = Sender(client, rate=math.inf, concurrency=4, stop=stop, window=16)
    recorder = Recorder()

    def on_outcome(outcome: Outcome) -> None:
        recorder.on_outcome(outcome)
        if len(recorder.outcomes) == 20:
            stop.request("signal", "SIGTERM received")

    s.run((job(n) for n in range(1, 10_000)), recorder.on_start, on_outcome)
    assert 20 <= len(recorder.outcomes) <= 24
    assert set(recorder.started) == set(recorder.outcomes)
    assert all(o.status == "succeeded" for o in recorder.outcomes.values())
    assert len(client.calls) == len(recorder.outcomes)


def test_a_quota_length_retry_after_stops_the_run_and_leaves_the_row_unsent() -> None:
    def script(payload: dict[str, Any], count: int) -> Exception | None:
        if payload["customer_phone"].endswith("05"):
            return TransientError("Too many requests", status=429, retry_after=3600)
        return None

    clock, stop = FakeClock(), Stop()
    s = Sender(FakeClient(script), rate=math.inf, concurrency=1, clock=clock, sleep=clock.sleep, stop=stop,
               max_wait=300)
    recorder = Recorder()
    s.run((job(n, note="hello") for n in range(1, 100)), recorder.on_start, recorder.on_outcome)
    assert stop.reason == "quota" and "3600 s" in stop.detail
    assert sorted(recorder.outcomes) == [1, 2, 3, 4, 5]
    cut = recorder.outcomes[5]
    assert (cut.stopped, cut.maybe_applied, cut.message) == (True, False, STOPPED)
    assert clock.sleeps == []  # the hour was not waited through


def test_a_job_cut_short_after_an_uncertain_answer_may_have_been_applied() -> None:
    stop = Stop()

    def script(payload: dict[str, Any], count: int) -> Exception | None:
        stop.request("signal", "SIGTERM received")
        return UncertainError("connection lost after sending")

    clock = FakeClock()
    s = Sender(FakeClient(script), rate=math.inf, concurrency=1, clock=clock, sleep=clock.sleep, stop=stop,
               policy=RetryPolicy(base=0.01))
    recorder = Recorder()
    s.run([job(1, note="hello")], recorder.on_start, recorder.on_outcome)
    outcome = recorder.outcomes[1]
    assert (outcome.stopped, outcome.maybe_applied) == (True, True)


def test_requests_still_unanswered_after_the_grace_period_are_abandoned() -> None:
    release = threading.Event()

    class BlackHole:
        def upsert(self, payload: dict[str, Any]) -> None:
            release.wait(30)

    stop = Stop()
    s = Sender(BlackHole(), rate=math.inf, concurrency=2, stop=stop, grace=0.2)
    recorder = Recorder()
    seen: list[str] = []

    def look_then_stop() -> None:
        seen.append(s.activity())
        stop.request("signal", "SIGTERM received")

    threading.Timer(0.3, look_then_stop).start()
    began = time.monotonic()
    s.run((job(n) for n in range(1, 10)), recorder.on_start, recorder.on_outcome)
    took = time.monotonic() - began
    release.set()
    assert took < 3, took
    assert recorder.started and recorder.outcomes == {}  # in flight, no outcome: the journal keeps them in flight
    assert seen[0].startswith("waiting for the API's answer to 1 row(s) in flight, the oldest (row 1) for")
