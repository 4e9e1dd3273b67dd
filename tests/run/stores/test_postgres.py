"""What only a PostgreSQL state does: its advisory lock per account, a backup into a file, a missing driver."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from importer.errors import ConfigError
from importer.run.rules.sync import confirmed_after
from importer.run.stores.home import StateLocation
from importer.run.stores.lock import Holder, RunLocked
from importer.run.stores.state import SyncState
from importer.run.stores.upkeep import backup_state, check_state

ACCOUNT = "http://127.0.0.1:1/superfone#org=7"


def test_one_run_at_a_time_per_account(postgres_state: str) -> None:
    place = StateLocation(url=postgres_state)
    with SyncState(place) as first, SyncState(place) as second:
        with first.run_lock(ACCOUNT):
            with pytest.raises(RunLocked, match=r"another run is using postgresql://.* for this account: pid \d+ on "):
                with second.run_lock(ACCOUNT):
                    pass
            with second.run_lock("http://127.0.0.1:1/superfone#org=8"):  # another account runs meanwhile
                pass
        with second.run_lock(ACCOUNT):  # released at the end of the run
            pass


def test_a_refusal_names_the_run_that_has_just_taken_the_lock(postgres_state: str) -> None:
    """Two runs started together: the second may ask who holds the lock before the first's statement that took it
    (and wrote its name) has ended. It waits a moment for the name rather than saying "another process"; a run
    refused just as the first ends still reads its name."""
    place = StateLocation(url=postgres_state)
    with SyncState(place) as first, SyncState(place) as second:
        with first.run_lock(ACCOUNT):
            written = first.db.rows("SELECT lock_key, holder FROM holder")
            first.db.rows("DELETE FROM holder")  # as between the first's lock and its name

            def name_it() -> None:
                time.sleep(0.1)
                first.db.rows("INSERT INTO holder (lock_key, holder) VALUES (?, ?)", written[0])

            writer = threading.Thread(target=name_it)
            writer.start()
            with pytest.raises(RunLocked, match=r"for this account: pid \d+ on "):
                with second.run_lock(ACCOUNT):
                    pass
            writer.join()
        (named,) = [Holder.parse(text) for (text,) in first.db.rows("SELECT holder FROM holder")]
        assert named is not None and (named.pid, named.host) == (Holder.me().pid, Holder.me().host)


def test_a_backup_is_a_state_file(postgres_state: str, tmp_path: Path) -> None:
    with SyncState(StateLocation(url=postgres_state)) as state:
        job = state.job(ACCOUNT, "nightly")
        run = state.start_run(job, "t1", "leads.csv", "r1")
        for index in range(25):
            phone = f"+91984501{index:04d}"
            state.confirm(job, run, phone, b"d", confirmed_after(None, {"customer_phone": phone}))
        state.set_note(ACCOUNT, "+919845010000", "hello", "delivered", run)
        copy = backup_state(state, tmp_path)
    with SyncState(copy) as restored:
        found = check_state(restored)
        assert found.counts == {"job": 1, "run": 1, "lead": 25, "note": 1} and found.accounts == [ACCOUNT]
        assert restored.note_status(ACCOUNT, "+919845010000", "hello") == "delivered"


def test_a_password_never_shows(postgres_server: str) -> None:
    wrong = postgres_server.replace("postgres@", "nobody:Canary-Pw-1234@").rsplit("/", 1)[0] + "/nowhere"
    with pytest.raises(ConfigError) as caught:
        SyncState(StateLocation(url=wrong))
    assert "Canary-Pw-1234" not in str(caught.value) and "nobody:***@" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_without_the_driver_one_line_names_the_extra(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['psycopg'] = None\n"
            "from importer.cli.commands import main\n"
            "raise SystemExit(main(['state', 'check', '--state', 'postgresql://u@127.0.0.1:1/db']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert (done.returncode, done.stderr) == (2, "superfone-import: error: a PostgreSQL state needs its driver: "
                                                 "pip install 'superfone-importer[postgres]'\n")
