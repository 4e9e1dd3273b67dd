"""Crash and resume: ``kill -9`` the importer at ten random moments of a 5,000-row run, start the same command
again each time, then let it finish. The account must end as a clean run leaves it, no note may reach a lead
twice, and the last report must be complete."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from importer.sandbox import SandboxServer

ROWS = 5_000
KILLS = 10
CONCURRENCY = 8
MAPPING = """\
version: 1
fields:
  customer_phone: Phone
  first_name: Name
  city: City
  customer_note: {template: "resume note for {Name}"}
"""


def write_sheet(folder: Path) -> tuple[Path, Path]:
    sheet = folder / "leads.csv"
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["Phone", "Name", "City"])
        for i in range(ROWS):
            out.writerow([f"+9196{i:08d}", f"Lead {i}", f"City {i % 97}"])
    mapping = folder / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return sheet, mapping


def started_sending(server: SandboxServer, process: subprocess.Popen[bytes], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if any(entry["method"] == "POST" for entry in server.requests()):
            return True
        time.sleep(0.02)
    return False


@pytest.mark.slow
def test_kill_9_ten_times_then_finish(fresh_sandbox, tmp_path: Path) -> None:
    sheet, mapping = write_sheet(tmp_path)
    fresh_sandbox.configure(latency_ms=5)
    command = [sys.executable, "-m", "importer", "run", str(sheet), "-m", str(mapping), "--base-url",
               fresh_sandbox.base_url, "--report-dir", str(tmp_path / "reports"), "--rate", "1000",
               "--concurrency", str(CONCURRENCY), "--quiet"]
    env = {**os.environ, "SF_API_KEY": fresh_sandbox.api_key}
    rng = random.Random(1234)
    kills = 0
    for _ in range(KILLS):
        fresh_sandbox.clear_requests()
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if started_sending(fresh_sandbox, process):
                time.sleep(rng.uniform(0.0, 0.6))
        finally:  # whatever happens, no importer is left running
            process.send_signal(signal.SIGKILL)
            kills += process.wait() == -signal.SIGKILL
    assert kills == KILLS, "a run finished before it could be killed"
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    assert done.stderr == ""
    folder = Path(done.stdout.strip().splitlines()[-1].removeprefix("report: "))
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))

    # the last report is complete and adds up
    assert summary["rows_total"] == ROWS and summary["resumed"] > 0
    assert ROWS == sum(summary[key] for key in ("succeeded", "failed", "in_doubt", "skipped", "invalid"))
    assert summary["failed"] == summary["invalid"] == 0
    assert summary["in_doubt"] <= kills * CONCURRENCY
    with (folder / "successes.csv").open(encoding="utf-8-sig", newline="") as handle:
        succeeded = {int(row["_row"]) for row in csv.DictReader(handle)}
    with (folder / "failures.csv").open(encoding="utf-8-sig", newline="") as handle:
        doubtful = {int(row["_row"]): row["_error"] for row in csv.DictReader(handle)}
    assert len(succeeded) == summary["succeeded"] and len(doubtful) == summary["in_doubt"]
    assert succeeded | set(doubtful) == set(range(2, ROWS + 2))
    assert all("note may not have been added" in error for error in doubtful.values())

    # the account is what a clean run leaves: every lead with the sheet's fields, no note twice
    leads = {lead["phones"][0]: lead for lead in fresh_sandbox.leads() if lead["phones"]}
    for i in range(ROWS):
        lead = leads[f"+9196{i:08d}"]
        assert (lead["first_name"], lead["city"]) == (f"Lead {i}", f"City {i % 97}")
        assert len(lead["notes"]) <= 1
        if i + 2 in succeeded:
            assert len(lead["notes"]) == 1
    print(f"crash/resume: {kills} kills, in doubt {summary['in_doubt']}, resumed {summary['resumed']}")
