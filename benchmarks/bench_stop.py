"""How fast a run stops, and what the run after it sends: one line per way a run can stop.

    python benchmarks/bench_stop.py [--rows 300] [--only sigterm]

Each scenario runs ``superfone-import run`` of ``--rows`` rows (300 by default; a child process) against a local
sandbox, stops it, prints the seconds from the cause (the signal, the first 429, the time limit, the full disk…) to
the process's exit, the rows it left (those its journal does not hold as succeeded), and what the same command sent
when run again: every HTTP request the sandbox received, by method and endpoint. Exits 1 unless each rerun sent
exactly the rows left (the same rows, each once; as many as the stopped run's ``rows_left`` where it wrote a
report; on a full disk, where the journal may miss the outcome of a row the sync state confirmed, only rows the
journal left), its leads all exist and none holds its note twice (a lead without its note is one the rerun reports in
doubt: its note was in flight when the run stopped). The load average is printed before and after. The full-disk
scenario mounts a tmpfs and needs root; without it, it says so.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import measure  # noqa: E402
from importer.sandbox import SandboxConfig, SandboxServer  # noqa: E402

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
            out.writerows([phone(i), f"Lead {i}"] for i in range(rows))
        (folder / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
        self.args = [sys.executable, "-m", "importer", "run", str(sheet), "-m", str(folder / "mapping.yaml"),
                     "--base-url", server.base_url, "--report-dir", str(folder / "reports"), "--quiet",
                     "--state", str(folder / "state.sqlite"), *extra]  # a state of its own: the sandbox is reset
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

    def left(self) -> set[str]:
        """The phones of the rows the stopped run left: every row its journal does not hold as succeeded."""
        with closing(sqlite3.connect(self.folder / "reports" / "journal.sqlite")) as db:
            done = {row for (row,) in db.execute("SELECT row FROM row_state WHERE status = 'succeeded'")}
        return {phone(number - 2) for number in range(2, self.rows + 2) if number not in done}

    def rerun(self, *extra: str) -> Rerun:
        """The same command again: its exit code, what it sent, and whether that was exactly the rows left."""
        left = self.left()
        self.server.configure(latency_ms=0, quota_after=None, black_hole=False)
        self.server.clear_requests()
        done = subprocess.run([*self.args, *extra], env=self.env, capture_output=True, text=True, timeout=300)
        counts = self.server.request_counts()["by_endpoint"]
        sent = [entry["customer_phone"] for entry in self.posts()]
        in_doubt = summary(done.stdout)["in_doubt"] if done.stdout.strip() else 0
        notes = [len(lead["notes"]) for lead in self.server.leads() if lead["phones"][0].startswith(PREFIX)]
        return Rerun(done.returncode, counts, left, sent, in_doubt, notes, self.rows)


class Rerun:
    """What the run after a stopped one did, and the claims about it."""

    def __init__(self, code: int, counts: dict[str, int], left: set[str], sent: list[str], in_doubt: int,
                 notes: list[int], rows: int) -> None:
        self.code, self.counts, self.left, self.sent = code, counts, left, sent
        self.in_doubt, self.notes, self.rows = in_doubt, notes, rows

    def check(self, claims: measure.Claims, name: str, rows_left: int | None) -> None:
        # On a full disk the journal may miss the outcome of a row whose lead was written and confirmed in the sync
        # state (which lives elsewhere): the rerun rightly leaves such a row alone. It never sends a row the journal
        # holds as done, never one twice, and exactly as many as the stopped run's report said were left.
        unrecorded = len(self.left) - len(self.sent)
        claims.check(set(self.sent) <= self.left and len(self.sent) == len(set(self.sent))
                     and (unrecorded == 0 or name == "full disk"),
                     f"{name}: the rerun sent only rows the stopped run left, each once ({len(self.sent)} upserts "
                     f"for {len(set(self.sent))} rows; the journal had {len(self.left)} unfinished"
                     + (f", {unrecorded} of them done but not recorded on the full disk)" if unrecorded else ")"))
        if rows_left is not None:
            claims.check(rows_left == len(self.sent), f"{name}: the rerun sent exactly the report's rows_left "
                                                      f"({rows_left}; it sent {len(self.sent)})")
        claims.check(len(self.notes) == self.rows and max(self.notes) <= 1
                     and self.notes.count(0) <= self.in_doubt,
                     f"{name}: every lead exists, none holds its note twice, any without it reported in doubt "
                     f"({self.notes.count(0)} without, {self.in_doubt} in doubt)")


PREFIX = "+9195"


def phone(index: int) -> str:
    return f"{PREFIX}{index:08d}"


def summary(stdout: str) -> dict[str, Any]:
    folder = Path(stdout.strip().splitlines()[-1].removeprefix("report: "))
    result: dict[str, Any] = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return result


def line(claims: measure.Claims, name: str, code: int, took: float, left: int | None, rerun: Rerun) -> None:
    print(f"{name:<22} exit {code}  stopped in {took:6.2f} s  rows left {'-' if left is None else left:>5}  "
          f"rerun: exit {rerun.code}, sandbox received {measure.split(rerun.counts)}")
    rerun.check(claims, name, left)


def sigterm(server: SandboxServer, root: Path, rows: int, claims: measure.Claims) -> None:
    run = Scenario(server, root / "sigterm", rows, "--rate", "200", "--concurrency", "4")
    server.configure(latency_ms=20)
    process = run.start()
    run.wait_for_posts(rows // 4, process)
    process.send_signal(signal.SIGTERM)
    began = time.monotonic()
    out, _ = process.communicate()
    took = time.monotonic() - began
    line(claims, "SIGTERM", process.returncode, took, summary(out)["rows_left"], run.rerun())


def second_sigterm(server: SandboxServer, root: Path, rows: int, claims: measure.Claims) -> None:
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
    line(claims, "second SIGTERM", process.returncode, took, None, run.rerun())


def quota(server: SandboxServer, root: Path, rows: int, claims: measure.Claims) -> None:
    run = Scenario(server, root / "quota", rows, "--rate", "200", "--concurrency", "4", "--max-wait", "5")
    server.configure(quota_after=rows // 3)
    done = subprocess.run(run.args, env=run.env, capture_output=True, text=True, timeout=300)
    ended = time.time()
    first = min(entry["finished"] for entry in run.posts() if entry["status"] == 429)
    left = summary(done.stdout)["rows_left"]
    line(claims, "429, Retry-After 3600", done.returncode, ended - first, left, run.rerun())


def time_limit(server: SandboxServer, root: Path, rows: int, claims: measure.Claims) -> None:
    run = Scenario(server, root / "limit", rows, "--rate", "20", "--concurrency", "2")
    server.configure(latency_ms=200)
    done = subprocess.run([*run.args, "--time-limit", "3s"], env=run.env, capture_output=True, text=True,
                          timeout=300)
    found = summary(done.stdout)
    line(claims, "--time-limit 3s", done.returncode, found["duration_s"] - 3, found["rows_left"],
         run.rerun("--time-limit", "1h"))


def black_hole(server: SandboxServer, root: Path, rows: int, claims: measure.Claims) -> None:
    run = Scenario(server, root / "hole", rows, "--rate", "200", "--concurrency", "4")
    process = run.start()
    run.wait_for_posts(rows // 4, process)
    server.configure(black_hole=True)
    time.sleep(2)
    process.send_signal(signal.SIGTERM)  # a black hole never answers: a signal ends the wait
    began = time.monotonic()
    out, _ = process.communicate()
    took = time.monotonic() - began
    line(claims, "black hole + SIGTERM", process.returncode, took, summary(out)["rows_left"], run.rerun())


def full_disk(server: SandboxServer, root: Path, rows: int, claims: measure.Claims) -> None:
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
        line(claims, "full disk", process.returncode, took, summary(out)["rows_left"], run.rerun())
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


SCENARIOS: dict[str, Callable[[SandboxServer, Path, int, measure.Claims], None]] = {
    "sigterm": sigterm, "second-sigterm": second_sigterm, "quota": quota, "time-limit": time_limit,
    "black-hole": black_hole, "full-disk": full_disk}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--only", choices=sorted(SCENARIOS), action="append")
    args = parser.parse_args(argv)
    claims = measure.Claims()
    with measure.load_watch(), tempfile.TemporaryDirectory() as folder, SandboxServer(SandboxConfig()) as server:
        os.environ["SF_HOME"] = str(folder)  # the states stay in the benchmark's folder
        for name in args.only or SCENARIOS:
            SCENARIOS[name](server, Path(folder), args.rows, claims)
    return claims.exit_code()


if __name__ == "__main__":
    raise SystemExit(main())
