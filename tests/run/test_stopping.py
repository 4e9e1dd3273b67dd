"""The run's stop object: first reason wins, callbacks, interruptible sleep, the time limit; durations and lines."""

from __future__ import annotations

import threading
import time

import pytest

from importer.run.engine.stop import Stop, estimate_line, parse_duration, plan_fit_line, show_duration, stop_line


def test_the_first_request_wins_and_callbacks_run_once() -> None:
    stop = Stop()
    heard: list[str] = []
    stop.on_request(lambda: heard.append("first"))
    assert not stop.requested and stop.reason is None
    assert stop.request("quota", "the API asked to wait 3600 s")
    assert not stop.request("signal", "SIGTERM received")
    assert (stop.requested, stop.reason, stop.detail) == (True, "quota", "the API asked to wait 3600 s")
    stop.on_request(lambda: heard.append("late"))  # registered after the request: called at once
    assert heard == ["first", "late"]


def test_an_unknown_reason_is_refused() -> None:
    with pytest.raises(ValueError, match="not a reason to stop"):
        Stop().request("bored")  # type: ignore[arg-type]


def test_sleep_ends_as_soon_as_the_stop_is_requested() -> None:
    stop = Stop()
    threading.Timer(0.05, stop.request, args=("signal",)).start()
    began = time.monotonic()
    stop.sleep(30)
    assert time.monotonic() - began < 5


def test_the_time_limit_requests_a_stop_and_close_cancels_it() -> None:
    stop = Stop()
    stop.limit_time(0.05)
    assert stop.wait(5)
    assert stop.reason == "time-limit" and stop.detail == "the time limit of 0.05s is spent"
    cancelled = Stop()
    cancelled.limit_time(0.05)
    cancelled.close()
    assert not cancelled.wait(0.2)


@pytest.mark.parametrize(("text", "seconds"), [("6h", 21600), ("45m", 2700), ("90s", 90), ("90", 90),
                                                ("1h30m", 5400), ("0.5s", 0.5), ("2d", 172800), (" 2H ", 7200)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "6x", "-5m", "0", "1h30", "5 minutes", "1.2.3s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_show_duration() -> None:
    assert [show_duration(s) for s in (21600, 2700, 5400, 90, 2.5)] == ["6h", "45m", "1h30m", "1m30s", "2.5s"]


def test_stop_line_says_why_and_what_to_do() -> None:
    assert stop_line({"stopped": "quota", "stopped_because": "the API asked to wait 3600 s", "rows_left": 7}) == (
        "stopped (quota): the API asked to wait 3600 s; 7 rows left unsent: run the same command again once that "
        "wait is over (or raise --max-wait) to send the rest")
    assert stop_line({"stopped": "signal", "stopped_because": "SIGTERM received", "rows_left": 1}) == (
        "stopped (signal): SIGTERM received; 1 row left unsent: run the same command again to send the rest")
    assert "free some space" in str(stop_line({"stopped": "disk-full", "rows_left": 3}))
    assert stop_line({"succeeded": 3}) is None
    assert stop_line({"stopped": "HTTP 401"}) is None  # a fatal error's report, not a stop


def test_estimate_line_warns_only_when_the_requests_do_not_fit() -> None:
    assert estimate_line(100, 1.0, 60) is not None
    warning = str(estimate_line(100, 10.0, 5))
    assert "100 rows to send at 10 requests/s take about 10s, more than --time-limit 5s" in warning
    assert estimate_line(100, 10.0, 10) is None
    assert estimate_line(100, 10.0, None) is None
    assert estimate_line(100, float("inf"), 1) is None


def test_plan_fit_line_compares_what_apply_will_take_with_the_time_limit() -> None:
    summary = {"apply": {"requests": 7200, "upserts": 3600, "lookups": 3600, "seconds": 720.0, "rate": 10.0}}
    assert plan_fit_line(summary, 600) == (
        "plan: applying it takes about 12m at 10/s, more than --time-limit 10m: apply would stop before the end "
        "(run it again to send the rest)")
    assert plan_fit_line(summary, 720) is None
    assert plan_fit_line(summary, None) is None
    assert plan_fit_line({"plan": {}}, 60) is None
