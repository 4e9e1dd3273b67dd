"""SIGTERM (what systemd, ``timeout`` and ``docker stop`` send) during a real run: a first one stops the run cleanly
(exit 3, complete report, the rerun sends exactly the rows left); a second one exits at once, and the rerun still
finishes with no note sent twice."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from pathlib import Path

from tests.system.stopping_helpers import (
    assert_every_note_once,
    command,
    environment,
    follow_up,
    posts,
    report_folder,
    started_sending,
    stopped_report,
    write_sheet,
)

ROWS = 150


def test_sigterm_at_a_random_moment_stops_cleanly_and_the_rerun_finishes(fresh_sandbox, tmp_path: Path) -> None:
    fresh_sandbox.configure(latency_ms=20)
    sheet, mapping = write_sheet(tmp_path, ROWS)
    args = command(fresh_sandbox, sheet, mapping, tmp_path / "reports", "--rate", "100", "--concurrency", "4")
    process = subprocess.Popen(args, env=environment(fresh_sandbox), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    assert started_sending(fresh_sandbox, process)
    time.sleep(random.Random().uniform(0.0, 0.5))
    process.send_signal(signal.SIGTERM)
    began = time.monotonic()
    stdout, stderr = process.communicate(timeout=30)
    took = time.monotonic() - began
    assert process.returncode == 3, (stdout, stderr)
    assert "SIGTERM: stopping" in stderr
    summary = stopped_report(stdout, "signal")
    assert summary["stopped_because"] == "SIGTERM received" and summary["rows_left"] > 0
    assert summary["succeeded"] == len(posts(fresh_sandbox)) == summary["sent"]  # every request it made finished
    assert took < 5, took
    follow_up(fresh_sandbox, args, summary["rows_left"])
    assert_every_note_once(fresh_sandbox, ROWS)
    print(f"SIGTERM: stopped in {took:.2f} s with {summary['rows_left']} rows left; the rerun sent "
          f"{summary['rows_left']} requests")


def test_a_second_sigterm_exits_at_once_and_the_rerun_finishes(fresh_sandbox, tmp_path: Path) -> None:
    fresh_sandbox.configure(latency_ms=400)  # requests in flight for a while: the first stop has to wait
    sheet, mapping = write_sheet(tmp_path, ROWS)
    args = command(fresh_sandbox, sheet, mapping, tmp_path / "reports", "--rate", "100", "--concurrency", "8")
    process = subprocess.Popen(args, env=environment(fresh_sandbox), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    assert started_sending(fresh_sandbox, process, posts=10)
    process.send_signal(signal.SIGTERM)
    time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    began = time.monotonic()
    stdout, stderr = process.communicate(timeout=30)
    took = time.monotonic() - began
    assert process.returncode == 128 + signal.SIGTERM, (stdout, stderr)
    assert "second signal (SIGTERM): stopped at once" in stderr and "report:" not in stdout
    assert took < 0.4, took  # less than one request's latency: nothing was waited for
    fresh_sandbox.configure(latency_ms=0)
    time.sleep(0.5)  # the requests the killed run left in flight are applied (the sandbox finishes them)
    sent_before = {entry["customer_phone"] for entry in posts(fresh_sandbox)}
    fresh_sandbox.clear_requests()
    done = subprocess.run(args, env=environment(fresh_sandbox), capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), (done.stdout, done.stderr)
    summary = json.loads((report_folder(done.stdout) / "summary.json").read_text(encoding="utf-8"))
    assert summary["failed"] == 0 and summary["succeeded"] + summary["in_doubt"] == ROWS
    resent = posts(fresh_sandbox)
    # a row the killed run may have sent goes again without its note; the others with it
    assert not [entry for entry in resent if entry["customer_phone"] in sent_before and entry["has_note"]]
    assert_every_note_once(fresh_sandbox, ROWS)  # (the sandbox applied what the killed run left in flight)
    print(f"second SIGTERM: exited in {took:.3f} s; the rerun sent {len(resent)} requests "
          f"({summary['in_doubt']} in doubt, {summary['resumed']} resumed)")
