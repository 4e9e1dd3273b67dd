"""Unattended runs never hang and always leave a report: a spent quota, a time limit, a stalled server, a damaged
journal — each against the sandbox, each ending with the follow-up run and no note sent twice. (Signals:
``test_signals.py``; unwritable folders and full disks: ``test_disks.py``.)"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from importer.api.retry import RetryPolicy
from importer.run.context.options import RunOptions
from importer.run.engine import heartbeat
from importer.run.journey.pipeline import Importer
from tests.system.stopping_helpers import (
    assert_every_note_once,
    command,
    follow_up,
    phone,
    posts,
    report_folder,
    run,
    stopped_report,
    write_sheet,
)

ROWS = 60


def test_a_quota_length_retry_after_mid_run_stops_at_once_and_the_rerun_finishes(fresh_sandbox, tmp_path) -> None:
    fresh_sandbox.configure(quota_after=25, quota_retry_after=3600.0)
    sheet, mapping = write_sheet(tmp_path, ROWS)
    args = command(fresh_sandbox, sheet, mapping, tmp_path / "reports", "--rate", "200", "--concurrency", "4",
                   "--max-wait", "2")
    done = run(fresh_sandbox, args)
    ended = time.time()
    assert done.returncode == 3, (done.stdout, done.stderr)
    summary = stopped_report(done.stdout, "quota")
    assert summary["stopped_because"] == ("the API asked to wait 3600 s (Retry-After), more than --max-wait 2 s")
    throttled = [entry for entry in posts(fresh_sandbox) if entry["status"] == 429]
    assert 1 <= len(throttled) <= 4  # the 429s of the requests in flight at the time: none is retried
    assert (summary["succeeded"], summary["rows_left"], summary["sent"]) == (25, ROWS - 25, 25)
    took = ended - min(entry["finished"] for entry in throttled)
    assert took < 2 + 5, took  # within --max-wait plus a few seconds (in fact: without waiting)
    fresh_sandbox.configure(quota_after=None)  # the next day
    follow_up(fresh_sandbox, args, ROWS - 25)
    assert_every_note_once(fresh_sandbox, ROWS)
    print(f"quota: stopped {took:.2f} s after the first 429 (Retry-After 3600, --max-wait 2); "
          f"the rerun sent {ROWS - 25} requests")


def test_a_time_limit_on_a_slow_server_is_warned_about_then_stops_cleanly(fresh_sandbox, tmp_path) -> None:
    fresh_sandbox.configure(latency_ms=200)
    sheet, mapping = write_sheet(tmp_path, ROWS)
    args = command(fresh_sandbox, sheet, mapping, tmp_path / "reports", "--rate", "10", "--concurrency", "2")
    began = time.monotonic()
    done = run(fresh_sandbox, [*args, "--time-limit", "3s"])
    took = time.monotonic() - began
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert ("warning: 60 rows to send at 10 requests/s take about 6s, more than --time-limit 3s: the run will stop "
            "before the end") in done.stderr
    summary = stopped_report(done.stdout, "time-limit")
    assert summary["stopped_because"] == "the time limit of 3s is spent"
    assert 0 < summary["rows_left"] < ROWS and summary["sent"] == summary["succeeded"] == len(posts(fresh_sandbox))
    assert summary["duration_s"] < 3 + 1, summary["duration_s"]  # the limit, then the requests in flight (0.2 s)
    fresh_sandbox.configure(latency_ms=0)
    follow_up(fresh_sandbox, [*args, "--time-limit", "10m"], summary["rows_left"])
    assert_every_note_once(fresh_sandbox, ROWS)
    print(f"time limit 3s: the run took {took:.2f} s ({summary['duration_s']} s in its report), "
          f"{summary['rows_left']} rows left; the rerun sent {summary['rows_left']} requests")


def test_a_black_hole_costs_at_most_the_retry_budget_per_row_and_the_log_says_what_it_waits_for(
        fresh_sandbox, tmp_path, monkeypatch, caplog) -> None:
    rows, concurrency, read_timeout = 12, 2, 1.0  # well above the 150 ms answers, on a loaded machine too
    policy = RetryPolicy(max_attempts=2, base=0.01, cap=0.05)
    budget = policy.max_attempts * read_timeout + policy.cap  # every attempt times out, one backoff between
    monkeypatch.setattr(heartbeat, "HEARTBEAT_S", 0.25)
    caplog.set_level(logging.INFO, logger="importer")
    sheet, mapping = write_sheet(tmp_path, rows)
    options = RunOptions(base_url=fresh_sandbox.base_url, api_key=fresh_sandbox.api_key,
                         report_dir=tmp_path / "reports", rate=100, concurrency=concurrency,
                         timeout=(1.0, read_timeout), retry=policy)
    fresh_sandbox.configure(latency_ms=150)  # slow enough for the black hole to open a few rows in

    def stall_after_four_rows() -> None:
        deadline = time.monotonic() + 30
        while len(posts(fresh_sandbox)) < 4 and time.monotonic() < deadline:
            time.sleep(0.005)
        fresh_sandbox.configure(black_hole=True)

    staller = threading.Thread(target=stall_after_four_rows)
    staller.start()
    began = time.monotonic()
    result = Importer(sheet, mapping, options).run()
    took = time.monotonic() - began
    staller.join()
    summary = result.summary
    # A stalled row's lead read (the before-image) or its upsert got no answer: failed (nothing was written) or in
    # doubt (its upsert may have been applied). Either costs the row its attempts, no more.
    stalled = rows - summary["succeeded"]
    assert stalled >= 4 and summary["failed"] + summary["in_doubt"] == stalled
    held = [entry for entry in fresh_sandbox.requests() if entry["fault"] == "black_hole"]
    assert len(held) == stalled * policy.max_attempts  # each stalled row: its attempts, nothing more
    assert took < 4 + (stalled / concurrency + 1) * budget, took
    beats = [r for r in caplog.records if r.name == "importer.run.engine.heartbeat"]
    assert any("waiting for the API's answer to" in r.getMessage() for r in beats), [r.getMessage() for r in beats]
    times = sorted(r.created for r in caplog.records if r.name.startswith("importer"))
    assert max(b - a for a, b in zip(times, times[1:], strict=False)) < 2 * 0.25 + 0.5  # never silent for long
    fresh_sandbox.configure(black_hole=False)
    fresh_sandbox.clear_requests()
    again = Importer(sheet, mapping, options).run()
    assert again.summary["failed"] == 0 and len(posts(fresh_sandbox)) == stalled
    leads = {lead["phones"][0]: lead for lead in fresh_sandbox.leads() if lead["phones"]}
    assert all(len(lead["notes"]) <= 1 for lead in leads.values())
    # a note whose upsert may have arrived is not sent again; the others are delivered now
    assert sum(len(leads[phone(i)]["notes"]) for i in range(rows)) == rows - summary["in_doubt"]
    print(f"black hole: {stalled} stalled rows cost {took:.2f} s in all at concurrency {concurrency} (budget "
          f"{budget:.2f} s a row); the rerun sent {stalled} requests, without their notes")


def damage(path: Path, how: str) -> None:
    if how == "damaged pages":
        with open(path, "r+b") as handle:
            handle.seek(4096)
            handle.write(os.urandom(os.path.getsize(path) - 4096))
    elif how == "garbage":
        path.write_bytes(os.urandom(20_000))
    elif how == "foreign":
        path.unlink()
        with sqlite3.connect(path) as other:
            other.execute("CREATE TABLE recipes (name TEXT)")
    else:  # a newer importer's
        with sqlite3.connect(path) as newer:
            newer.execute("PRAGMA user_version = 99")


@pytest.mark.parametrize("how", ["damaged pages", "garbage", "foreign", "newer"])
def test_a_damaged_journal_is_refused_in_one_line_naming_it(fresh_sandbox, tmp_path, how: str) -> None:
    rows = 20
    fresh_sandbox.configure(quota_after=8)
    sheet, mapping = write_sheet(tmp_path, rows)
    args = command(fresh_sandbox, sheet, mapping, tmp_path / "reports", "--rate", "500", "--max-wait", "1")
    first = run(fresh_sandbox, args)
    assert first.returncode == 3, first.stderr
    left = stopped_report(first.stdout, "quota")["rows_left"]
    journal = tmp_path / "reports" / "journal.sqlite"
    for extra in ("-wal", "-shm"):
        Path(f"{journal}{extra}").unlink(missing_ok=True)
    damage(journal, how)
    fresh_sandbox.configure(quota_after=None)
    fresh_sandbox.clear_requests()
    refused = run(fresh_sandbox, args)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and str(journal) in refused.stderr, refused.stderr
    assert posts(fresh_sandbox) == []
    assert len(list((tmp_path / "reports").glob("2*"))) == 1  # no report folder for a run that never started
    journal.rename(journal.with_suffix(".damaged"))  # what the line says to do
    done = follow_up(fresh_sandbox, args, left)  # the sync state knows which rows (and notes) went through
    assert json.loads((report_folder(done.stdout) / "summary.json").read_text())["unchanged"] == rows - left
    assert_every_note_once(fresh_sandbox, rows)
