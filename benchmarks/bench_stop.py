"""How fast a run stops, and what the run after it sends: one line per way a run can stop.

    python benchmarks/bench_stop.py [--rows 300]

Each scenario runs ``superfone-import run`` (a child process) against a local sandbox, stops it, prints the
seconds from the cause (the signal, the first 429, the time limit, the full disk…) to the process's exit, and the
requests the same command sent when run again (it must finish with no note twice). The full-disk scenario mounts a
tmpfs and needs root; without it, it says so.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from importer.sandbox import SandboxConfig, SandboxServer

MAPPING = ('version: 1\nfields:\n  customer_phone: Phone\n  first_name: Name\n'
           '  customer_note: {template: "note {Name}"}\n')


class Scenario:
    """One run to stop: a folder with the sheet, the command, and the sandbox."""

    def __init__(self, server: SandboxServer, folder: Path, rows: int, *extra: str) -> None:
        self.server, self.folder, self.rows = server, folder, rows
        folder.mkdir(parents=True)
        sheet = folder / "leads.csv"
        with sheet.open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(["Phone", "Name"])
            out.writerows([f"+9195{i:08d}", f"Lead {i}"] for i in range(rows))
        (folder / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
        self.args = [sys.executable, "-m", "importer", "run", str(sheet), "-m", str(folder / "mapping.yaml"),
                     "--base-url", server.base_url, "--report-dir", str(folder / "reports"), "--quiet", *extra]
        self.env = {**os.environ, "SF_API_KEY": server.api_key}
        server.reset(config=True)

    def start(self, *extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen([*self.args, *extra], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)

    def posts(self) -> list[dict[str, Any]]:
        return [entry for entry in self.server.requests() if entry["method"] == "POST"]

    def wait_for_posts(self, count: int, process: subprocess.Popen[str]) -> None:
        deadline = time.monotonic() + 60
        while len(self.posts()) < count and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)

    def rerun(self, *extra: str) -> tuple[int, int]:
        """The same command again: its exit code and the requests it sent; every lead must hold its note once."""
        self.server.configure(latency_ms=0, quota_after=None, black_hole=False)
        self.server.clear_requests()
        done = subprocess.run([*self.args, *extra], env=self.env, capture_output=True, text=True, timeout=300)
        leads = [lead for lead in self.server.leads() if lead["phones"] and lead["phones"][0].startswith("+9195")]
        assert len(leads) == self.rows and all(len(lead["notes"]) <= 1 for lead in leads), "a note went twice"
        return done.returncode, len(self.posts())


def summary(stdout: str) -> dict[str, Any]:
    folder = Path(stdout.strip().splitlines()[-1].removeprefix("report: "))
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def line(name: str, code: int, took: float, left: int | str, rerun: tuple[int, int]) -> None:
    print(f"{name:<22} exit {code}  stopped in {took:6.2f} s  rows left {left!s:>5}  "
          f"rerun: exit {rerun[0]}, sent {rerun[1]} requests")


def sigterm(server: SandboxServer, root: Path, rows: int) -> None:
    run = Scenario(server, root / "sigterm", rows, "--rate", "200", "--concurrency", "4")
    server.configure(latency_ms=20)
    process = run.start()
    run.wait_for_posts(rows // 4, process)
    process.send_signal(signal.SIGTERM)
    began = time.monotonic()
    out, _ = process.communicate()
    took = time.monotonic() - began
    line("SIGTERM", process.returncode, took, summary(out)["rows_left"], run.rerun())


def second_sigterm(server: SandboxServer, root: Path, rows: int) -> None:
    run = Scenario(server, root / "second", rows, "--rate", "200", "--concurrency", "8")
    server.configure(latency_ms=400)
    process = run.start()
    run.wait_for_posts(rows // 4, process)
    process.send_signal(signal.SIGTERM)
    time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    began = time.monotonic()
    process.communicate()
    took = time.monotonic() - began
    time.sleep(0.5)  # what the killed run left in flight reaches the sandbox
    line("second SIGTERM", process.returncode, took, "-", run.rerun())


def quota(server: SandboxServer, root: Path, rows: int) -> None:
    run = Scenario(server, root / "quota", rows, "--rate", "200", "--concurrency", "4", "--max-wait", "5")
    server.configure(quota_after=rows // 3)
    done = subprocess.run(run.args, env=run.env, capture_output=True, text=True, timeout=300)
    ended = time.time()
    first = min(entry["finished"] for entry in run.posts() if entry["status"] == 429)
    line("429, Retry-After 3600", done.returncode, ended - first, summary(done.stdout)["rows_left"], run.rerun())


def time_limit(server: SandboxServer, root: Path, rows: int) -> None:
    run = Scenario(server, root / "limit", rows, "--rate", "20", "--concurrency", "2")
    server.configure(latency_ms=200)
    done = subprocess.run([*run.args, "--time-limit", "3s"], env=run.env, capture_output=True, text=True,
                          timeout=300)
    found = summary(done.stdout)
    line("--time-limit 3s", done.returncode, found["duration_s"] - 3, found["rows_left"],
         run.rerun("--time-limit", "1h"))


def black_hole(server: SandboxServer, root: Path, rows: int) -> None:
    run = Scenario(server, root / "hole", rows, "--rate", "200", "--concurrency", "4")
    process = run.start()
    run.wait_for_posts(rows // 4, process)
    server.configure(black_hole=True)
    time.sleep(2)
    process.send_signal(signal.SIGTERM)  # a black hole never answers: a signal ends the wait
    began = time.monotonic()
    out, _ = process.communicate()
    took = time.monotonic() - began
    line("black hole + SIGTERM", process.returncode, took, summary(out)["rows_left"], run.rerun())


def full_disk(server: SandboxServer, root: Path, rows: int) -> None:
    run = Scenario(server, root / "disk", rows, "--rate", "200", "--concurrency", "4")
    disk = root / "disk" / "reports"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)], capture_output=True).returncode:
        print("full disk              (skipped: mounting a tmpfs needs root)")
        return
    try:
        server.configure(latency_ms=20)
        process = run.start()
        run.wait_for_posts(rows // 4, process)
        with open(disk / "filler", "wb") as handle:
            try:
                while True:
                    handle.write(b"\0" * 65536)
                    handle.flush()
            except OSError:
                pass
        began = time.monotonic()
        out, _ = process.communicate()
        took = time.monotonic() - began
        (disk / "filler").unlink()
        line("full disk", process.returncode, took, summary(out)["rows_left"], run.rerun())
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


SCENARIOS: dict[str, Callable[[SandboxServer, Path, int], None]] = {
    "sigterm": sigterm, "second-sigterm": second_sigterm, "quota": quota, "time-limit": time_limit,
    "black-hole": black_hole, "full-disk": full_disk}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--only", choices=sorted(SCENARIOS), action="append")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder, SandboxServer(SandboxConfig()) as server:
        os.environ["SF_HOME"] = str(folder)  # the states stay in the benchmark's folder
        for name in args.only or SCENARIOS:
            SCENARIOS[name](server, Path(folder), args.rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
