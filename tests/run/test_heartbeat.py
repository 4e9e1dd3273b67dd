"""The heartbeat: a line every interval saying what the run does, from whatever stage is running."""

from __future__ import annotations

import logging
import time

import pytest

from importer.run.engine.heartbeat import Heartbeat


def test_a_line_every_interval_says_what_the_run_does(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="importer.run.engine.heartbeat")
    with Heartbeat(0.05) as heartbeat:
        heartbeat.doing("checking rows")
        time.sleep(0.2)
        waiting = iter(range(100))
        heartbeat.doing(lambda: f"waiting for row {next(waiting)}")
        time.sleep(0.2)
    lines = [record.getMessage() for record in caplog.records]
    assert "still running: checking rows" in lines
    assert "still running: waiting for row 0" in lines and "still running: waiting for row 1" in lines
    count = len(caplog.records)
    time.sleep(0.15)
    assert len(caplog.records) == count  # closed: silent


def test_a_failing_description_never_stops_the_run(caplog: pytest.LogCaptureFixture) -> None:
    heartbeat = Heartbeat(10)
    heartbeat.doing(lambda: str(1 / 0))
    assert heartbeat.describe() == "(cannot tell: ZeroDivisionError)"
