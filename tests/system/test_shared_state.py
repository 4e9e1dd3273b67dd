"""A state shared by a team's machines, in PostgreSQL: two runs started together from two folders on one database
(one refused, naming the other), a run killed with kill -9 (its lock gone with its session), and never a note
twice — counted in the sandbox. Each run is a process of its own, as on two machines."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from importer.sandbox import SandboxServer
from tests.system.ledger_helpers import (
    assert_each_note_once,
    cli_env,
    notes_by_lead,
    run_args,
    run_command,
    start_command,
    upserts,
    write_files,
)

ROWS = 20


@pytest.fixture
def slow(fresh_sandbox: SandboxServer) -> SandboxServer:
    fresh_sandbox.configure(latency_ms=100)  # a run of a few seconds: long enough to meet another
    return fresh_sandbox


def test_two_runs_started_together_on_one_database(slow: SandboxServer, postgres_state: str,
                                                   tmp_path: Path) -> None:
    sheet, mapping = write_files(tmp_path / "files", ROWS)
    env = cli_env(slow, SF_STATE=postgres_state)
    args = run_args(sheet, mapping, slow, "--concurrency", "1")
    folders = [tmp_path / "laptop", tmp_path / "server"]
    for folder in folders:
        folder.mkdir()
    runs = [start_command(args, folder, env) for folder in folders]
    finished = [(run.wait(timeout=120), *run.communicate()) for run in runs]
    codes = [code for code, _, _ in finished]
    assert sorted(codes) == [0, 2], finished
    winner, refusal = runs[codes.index(0)], finished[codes.index(2)][2]
    database = postgres_state.rsplit("@", 1)[1]
    assert refusal.startswith(f"superfone-import: error: another run is using postgresql://postgres@{database} for "
                              f"this account: pid {winner.pid} on ")
    assert refusal.count("\n") == 1
    assert upserts(slow) == ROWS
    slow.clear_requests()
    again = run_command(args, folders[1], env)
    assert again.returncode == 0 and upserts(slow) == 0, again.stdout + again.stderr
    assert_each_note_once(slow, ROWS)


def test_a_run_killed_with_kill_9_leaves_no_lock(slow: SandboxServer, postgres_state: str, tmp_path: Path) -> None:
    sheet, mapping = write_files(tmp_path / "files", ROWS)
    env = cli_env(slow, SF_STATE=postgres_state)
    args = run_args(sheet, mapping, slow, "--concurrency", "1")
    killed = start_command(args, tmp_path, env)
    deadline = time.monotonic() + 60
    while upserts(slow) < 5:
        assert time.monotonic() < deadline and killed.poll() is None
        time.sleep(0.02)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    killed.communicate()
    (tmp_path / "elsewhere").mkdir()
    resumed = run_command(args, tmp_path / "elsewhere", env)  # at once, from another folder: not refused
    assert resumed.returncode in (0, 1), resumed.stderr
    notes = notes_by_lead(slow)
    assert len(notes) == ROWS and all(len(texts) <= 1 for texts in notes.values())  # never twice
    # A note whose request was going when the run was killed is in doubt: not sent again, and said so.
    missing = sum(1 for texts in notes.values() if not texts)
    assert missing == 0 or "note-in-doubt" in resumed.stdout
