"""The tool on an operating system without fcntl, SIGHUP or fork (a simulated Windows): the whole sandbox flow —
run, a re-run with one edited row, history, undo --dry-run — in processes whose Python cannot import ``fcntl``,
has no ``signal.SIGHUP`` and no ``os.fork``, and starts its worker processes by spawn."""

from __future__ import annotations

import json
import os
from pathlib import Path

from importer.sandbox import SandboxServer
from tests.system.ledger_helpers import (
    ROOT,
    assert_each_note_once,
    cli_env,
    run_args,
    run_command,
    upserts,
    write_files,
)

WINDOWS_LIKE = """
import importlib.abc, multiprocessing, os, signal, sys, warnings

class _NotOnWindows(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("fcntl", "termios", "pwd", "grp", "resource"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

for gone in ("fcntl", "termios", "pwd", "grp", "resource"):
    sys.modules.pop(gone, None)
sys.meta_path.insert(0, _NotOnWindows())
del signal.SIGHUP
del os.fork
multiprocessing.set_start_method("spawn", force=True)
# filelock falls back to its soft lock without fcntl; on Windows it has the system's own (LockFileEx).
warnings.filterwarnings("ignore", "only soft file lock is available")
"""
ROWS = 12


def test_the_whole_flow_without_fcntl_sighup_or_fork(fresh_sandbox: SandboxServer, tmp_path: Path) -> None:
    server, env = fresh_sandbox, cli_env(fresh_sandbox)
    sheet, mapping = write_files(tmp_path / "files", ROWS)
    checked = run_command(["run", str(sheet), "-m", str(mapping), "--dry-run", "--workers", "2",
                           "--base-url", server.base_url], tmp_path, env, WINDOWS_LIKE)
    assert checked.returncode == 0, checked.stderr  # two checking processes, started by spawn
    first = run_command(run_args(sheet, mapping, server), tmp_path, env, WINDOWS_LIKE)
    assert (first.returncode, first.stderr) == (0, ""), first.stdout
    assert upserts(server) == ROWS
    server.clear_requests()
    write_files(tmp_path / "files", ROWS, {3: "Agra"})
    second = run_command(run_args(sheet, mapping, server), tmp_path, env, WINDOWS_LIKE)
    assert (second.returncode, second.stderr) == (0, ""), second.stdout
    assert f"{ROWS - 1} unchanged" in second.stdout and upserts(server) == 1
    history = run_command(["history", "--json"], tmp_path, env, WINDOWS_LIKE)
    assert [run["unchanged"] for run in json.loads(history.stdout)] == [ROWS - 1, 0]
    folder = second.stdout.strip().splitlines()[-1].removeprefix("report: ")
    undo = run_command(["undo", folder, "--dry-run", "--base-url", server.base_url], tmp_path, env, WINDOWS_LIKE)
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert "1 would be written" in undo.stdout
    assert server.lead("+919845000003")["city"] == "Agra"  # a dry run only reads
    assert_each_note_once(server, ROWS)


def test_the_simulation_holds(tmp_path: Path) -> None:
    """What the flow above relies on: the simulated process really lacks fcntl, SIGHUP and fork."""
    probe = run_command(["--help"], tmp_path, {**os.environ, "PYTHONPATH": str(ROOT)}, WINDOWS_LIKE + """
import signal, os
try:
    import fcntl
except ModuleNotFoundError:
    print("no fcntl")
print(hasattr(signal, "SIGHUP"), hasattr(os, "fork"), multiprocessing.get_start_method())
import importer.cli.commands, importer.run.stores.lock, importer.run.kinds.send
print("imported")
raise SystemExit(0)
""")
    assert probe.stdout.splitlines() == ["no fcntl", "False False spawn", "imported"], probe.stderr
