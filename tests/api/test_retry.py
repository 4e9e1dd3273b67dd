"""The retry table: one row per kind of error, Retry-After parsing, jitter bounds."""

from __future__ import annotations

import random
from email.utils import formatdate

import pytest

from importer.api.retry import Decision, Retrying, RetryPolicy, parse_retry_after
from importer.errors import ApiError, AuthError, RejectedError, StopRequested, TransientError, UncertainError
from importer.run.engine.stop import Stop
from tests.fakes import FakeClock


class FixedRandom(random.Random):
    """uniform() returns its upper bound, so tests see the jitter ceiling."""

    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.fixture
def policy() -> RetryPolicy:
    return RetryPolicy(max_attempts=6, base=0.5, cap=30.0, random=FixedRandom())


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (TransientError("could not connect to host: connection refused"), Decision(True, 1.0, False)),
        (TransientError("Too Many Requests", status=429), Decision(True, 1.0, False)),
        (TransientError("Bad Gateway", status=502), Decision(True, 1.0, False)),
        (TransientError("Service Unavailable", status=503), Decision(True, 1.0, False)),
        (TransientError("Gateway Timeout", status=504), Decision(True, 1.0, False)),
        (UncertainError("HTTP 500", status=500), Decision(True, 1.0, True)),
        (UncertainError("connection lost after sending"), Decision(True, 1.0, True)),
        (RejectedError("Customer not found.", status=400), Decision(False)),
        (RejectedError("Lead stage name not found", status=404), Decision(False)),
        (AuthError("UnAuthorized, Please Provide Valid API Key", status=401), Decision(False)),
        (ApiError("HTTP 302: redirect", status=302), Decision(False)),
    ],
)
def test_retry_table(policy: RetryPolicy, error: ApiError, expected: Decision) -> None:
    assert policy.decide(error, attempt=1) == expected


def test_backoff_grows_exponentially_up_to_the_cap(policy: RetryPolicy) -> None:
    error = TransientError("Service Unavailable", status=503)
    delays = [policy.decide(error, attempt).delay for attempt in range(1, 6)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0]
    big = RetryPolicy(max_attempts=100, base=0.5, cap=30.0, random=FixedRandom())
    assert big.decide(error, 10).delay == 30.0
    assert big.backoff(5000) == 30.0  # no overflow for absurd attempt numbers


def test_gives_up_after_max_attempts(policy: RetryPolicy) -> None:
    for error in (TransientError("x", status=503), UncertainError("x", status=500)):
        assert policy.decide(error, 5).retry
        assert policy.decide(error, 6) == Decision(False)


def test_full_jitter_stays_within_bounds() -> None:
    policy = RetryPolicy(base=0.5, cap=4.0, random=random.Random(7), max_attempts=100)
    error = TransientError("x", status=503)
    for attempt in range(1, 8):
        ceiling = min(4.0, 0.5 * 2**attempt)
        delays = [policy.decide(error, attempt).delay for _ in range(300)]
        assert all(0.0 <= delay <= ceiling for delay in delays)
        assert max(delays) > ceiling * 0.9  # it really spreads over the whole range
        assert min(delays) < ceiling * 0.1


def test_retry_after_wins_over_backoff(policy: RetryPolicy) -> None:
    throttled = TransientError("Too Many Requests", status=429, retry_after=7.0)
    assert policy.decide(throttled, 1) == Decision(True, 7.0, False)
    assert policy.decide(throttled, 5).delay == 7.0  # not the jittered 16 s either
    # ... bounded, so a misbehaving server cannot stall a run for a day
    assert policy.decide(TransientError("x", status=503, retry_after=86_400.0), 1).delay == 600.0
    assert policy.decide(UncertainError("x", status=500, retry_after=3.0), 1) == Decision(True, 3.0, True)


def test_policy_validates_its_arguments() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base=-1)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("nan", None),
        ("inf", None),
        ("Wed, 99 Foo 2015 07:28:00 GMT", None),
    ],
)
def test_parse_retry_after_seconds_and_garbage(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, now=1_000_000.0) == expected


def test_parse_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now) == pytest.approx(30.0)
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:50 GMT", now) == pytest.approx(30.0)
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now) == 0.0  # already past


# --- the run's stop and --max-wait --------------------------------------------------------------------------


def _throttled(retry_after: float) -> TransientError:
    return TransientError("Too many requests", status=429, retry_after=retry_after)


def test_a_retry_after_longer_than_max_wait_stops_the_run_instead_of_waiting() -> None:

    clock, stop, calls = FakeClock(), Stop(), []

    def request() -> None:
        calls.append(clock())
        raise _throttled(3600)

    retrying = Retrying(RetryPolicy(random=FixedRandom()), clock=clock, sleep=clock.sleep, stop=stop, max_wait=300)
    with pytest.raises(StopRequested, match=r"asked to wait 3600 s \(Retry-After\), more than --max-wait 300 s"):
        retrying.call(request)
    assert calls == [0.0] and clock.sleeps == []  # one request, no wait at all
    assert stop.reason == "quota" and "3600 s" in stop.detail


def test_a_shorter_retry_after_is_waited_through_and_announced() -> None:

    clock, waits, answers = FakeClock(), [], iter([_throttled(30), None])

    def request() -> str:
        error = next(answers)
        if error is not None:
            raise error
        return "ok"

    retrying = Retrying(RetryPolicy(random=FixedRandom()), clock=clock, sleep=clock.sleep, stop=Stop(),
                        max_wait=300, on_wait=waits.append)
    assert retrying.call(request) == "ok"
    assert waits == [30] and clock.now == pytest.approx(30)


def test_no_retry_starts_once_the_run_is_stopping() -> None:

    clock, stop, calls = FakeClock(), Stop(), []

    def request() -> None:
        calls.append(1)
        stop.request("signal", "SIGTERM received")
        raise TransientError("Service Unavailable", status=503)

    with pytest.raises(StopRequested):
        Retrying(RetryPolicy(random=FixedRandom()), clock=clock, sleep=clock.sleep, stop=stop).call(request)
    assert calls == [1]
