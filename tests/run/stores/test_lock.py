"""One run at a time per state file: a second holder is refused at once; a dead holder's lock is free again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from importer.run.stores.lock import RunLock, RunLocked

HOLD = """
import sys, time
from importer.run.stores.lock import RunLock
lock = RunLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def hold_in_child(state: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(state)], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline() == "held\n"
    return child


def stop(child: subprocess.Popen[str]) -> None:
    child.kill()
    child.wait()
    assert child.stdout is not None
    child.stdout.close()


def test_a_second_run_is_refused_with_the_holder_named(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    child = hold_in_child(state)
    try:
        started = time.monotonic()
        with pytest.raises(RunLocked, match=rf"another run is using .*state.sqlite: pid {child.pid} on .+, started "):
            RunLock(state).acquire()
        assert time.monotonic() - started < 1  # at once, no waiting
    finally:
        stop(child)


def test_the_lock_of_a_killed_run_is_taken_over(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    child = hold_in_child(state)
    os.kill(child.pid, signal.SIGKILL)
    stop(child)
    with RunLock(state) as lock:  # the kernel released it with the process
        assert lock.holder_path.read_text().startswith(f'{{"pid": {os.getpid()}')
    assert lock.holder_path.read_text() == ""  # released: nobody is named


def test_the_same_process_cannot_hold_it_twice_and_can_retake_it(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    with RunLock(state), pytest.raises(RunLocked, match=f"pid {os.getpid()}"):
        RunLock(state).acquire()
    with RunLock(state):
        pass


HOLD_THEN_NAME = """
import sys, time
from importer.run.stores.lock import RunLock
lock = RunLock(sys.argv[1])
lock.holder_path.write_text("", encoding="utf-8")
write = lock.holder_path.write_text
lock.holder_path = type(lock.holder_path)(sys.argv[1] + ".elsewhere")  # take the lock without naming itself
lock.acquire()
print("held", flush=True)
time.sleep(0.2)  # then name itself, as a run that took the lock a moment ago does
write('{"pid": %d, "host": "h", "started_at": "now"}' % __import__("os").getpid(), encoding="utf-8")
time.sleep(60)
"""


def test_a_holder_still_writing_its_name_is_waited_for(tmp_path: Path) -> None:
    """Two runs started together: the second finds the lock taken before the first wrote who it is."""
    state = tmp_path / "state.sqlite"
    child = subprocess.Popen([sys.executable, "-c", HOLD_THEN_NAME, str(state)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "held\n"
        with pytest.raises(RunLocked, match=rf"another run is using .*state.sqlite: pid {child.pid} on h"):
            RunLock(state).acquire()
    finally:
        stop(child)
