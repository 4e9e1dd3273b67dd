"""The shared token bucket, on a fake clock: pacing, burst, pauses, adaptive slow-down and recovery."""

from __future__ import annotations

import math
import threading
import time

import pytest

from importer.api.ratelimit import RateLimiter, default_burst
from tests.fakes import FakeClock


def start_times(limiter: RateLimiter, clock: FakeClock, count: int) -> list[float]:
    times = []
    for _ in range(count):
        limiter.acquire()
        times.append(round(clock.now, 6))
    return times


def test_paces_at_the_rate_after_the_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=10.0, burst=3, clock=clock, sleep=clock.sleep)
    assert start_times(limiter, clock, 6) == [0.0, 0.0, 0.0, 0.1, 0.2, 0.3]


def test_burst_refills_after_idle_time_but_never_beyond_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=10.0, burst=2, clock=clock, sleep=clock.sleep)
    start_times(limiter, clock, 4)
    clock.now += 60.0  # idle for a minute
    assert start_times(limiter, clock, 4) == [60.2, 60.2, 60.3, 60.4]


def test_default_burst_is_50ms_of_tokens_and_at_least_one() -> None:
    assert default_burst(10.0) == 1.0
    assert default_burst(50.0) == 2.5
    assert default_burst(1000.0) == 50.0
    assert default_burst(math.inf) == 1.0
    assert RateLimiter(rate=50.0).burst == 2.5


def test_unlimited_rate_never_sleeps() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=math.inf, clock=clock, sleep=clock.sleep)
    start_times(limiter, clock, 1000)
    assert clock.sleeps == []


def test_pause_until_holds_everyone_then_resumes_paced_without_a_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=10.0, burst=5, clock=clock, sleep=clock.sleep)
    limiter.pause_until(2.0)
    assert start_times(limiter, clock, 3) == [2.0, 2.1, 2.2]
    limiter.pause_until(1.0)  # an earlier deadline never shortens a pause
    assert limiter.paused_until == 2.0


def test_a_pause_declared_while_waiting_is_honoured() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=1.0, burst=1, clock=clock, sleep=clock.sleep)
    limiter.acquire()  # t=0; the next slot is t=1

    def sleep_and_get_paused(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now < 5:
            limiter.pause_until(5.0)  # another worker saw a Retry-After meanwhile

    limiter._sleep = sleep_and_get_paused
    limiter.acquire()
    assert clock.now == 5.0


def test_throttle_halves_the_rate_once_per_cooldown_with_a_floor() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=40.0, clock=clock, sleep=clock.sleep)
    limiter.on_throttled()
    limiter.on_throttled()  # the other in-flight requests saw the same 429
    assert limiter.rate == 20.0
    clock.now += 1.0
    limiter.on_throttled()
    assert limiter.rate == 10.0
    for _ in range(10):
        clock.now += 1.0
        limiter.on_throttled()
    assert limiter.rate == 1.0
    assert limiter.throttle_count == 13


def test_floor_never_exceeds_the_configured_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=0.5, clock=clock, sleep=clock.sleep)
    limiter.on_throttled()
    assert limiter.rate == 0.5


def test_recovers_additively_back_to_the_configured_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=50.0, clock=clock, sleep=clock.sleep)
    limiter.on_throttled()
    assert limiter.rate == 25.0
    limiter.on_success()  # too soon: still inside the recovery window
    assert limiter.rate == 25.0
    rates = []
    for _ in range(8):
        clock.now += 1.0
        limiter.on_success()
        limiter.on_success()  # one step per window, however many successes
        rates.append(limiter.rate)
    assert rates == [30.0, 35.0, 40.0, 45.0, 50.0, 50.0, 50.0, 50.0]


def test_slowed_rate_really_spaces_requests() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=10.0, burst=1, clock=clock, sleep=clock.sleep)
    start_times(limiter, clock, 2)
    limiter.on_throttled()
    times = start_times(limiter, clock, 3)
    assert [round(b - a, 6) for a, b in zip(times, times[1:], strict=False)] == [0.2, 0.2]


def test_rejects_nonsense_arguments() -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate=0)
    with pytest.raises(ValueError):
        RateLimiter(rate=10, burst=0.5)


def test_threads_share_one_bucket_on_the_real_clock() -> None:
    limiter = RateLimiter(rate=200.0, burst=1)
    stamps: list[float] = []
    lock = threading.Lock()

    def take(count: int) -> None:
        for _ in range(count):
            limiter.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=take, args=(10,)) for _ in range(8)]
    begin = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - begin
    assert len(stamps) == 80
    assert elapsed >= 79 / 200.0 * 0.95  # 80 requests at 200/s need ~0.4 s, whatever the thread count
    assert elapsed < 2.0


def test_stray_429s_among_many_successes_do_not_halve_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=100.0, clock=clock, sleep=clock.sleep)
    for second in range(10):  # one 429 in every 20 answers: noise, answered by its Retry-After alone
        clock.now = float(second)
        for _ in range(19):
            limiter.on_success()
        limiter.on_throttled()
    assert limiter.rate == 100.0 and limiter.throttle_count == 10


def test_a_run_of_429s_among_successes_halves_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=100.0, clock=clock, sleep=clock.sleep)
    for _ in range(16):
        limiter.on_success()
    for _ in range(4):
        limiter.on_throttled()  # 4 of the last 20: not more than a fifth
    assert limiter.rate == 100.0
    limiter.on_throttled()  # 5 of the last 20
    assert limiter.rate == 50.0
