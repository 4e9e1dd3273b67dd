"""What tasks cost a run: `superfone-import run` of rows that each carry one task, into a sandbox in another process.

    python benchmarks/bench_tasks.py                          # 2,000 rows, unlimited sandbox
    python benchmarks/bench_tasks.py --rows 600 --rate 50 --burst 10 --latency-ms 200 --send-rate 50

Three runs of the same sheet: the first creates every lead and its task (upsert, get-lead, list tasks, create task:
four requests a row), ``--full`` sends every row again (the tasks are found on their leads: three requests a row,
none created), and a nightly sync (nothing changed: no request). Prints, per run, the wall time, rows/s, the
requests per row the sandbox saw and the run's tasks line; and the same first run without tasks, for comparison.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_import import API_KEY, free_port, start_sandbox  # noqa: E402

MAPPING = """\
version: 1
fields:
  customer_phone: Phone
  first_name: Name
tasks:
  - {type: FOLLOW_UP_CALL, due: Follow-up, note: {template: "Call {Name}"}}
"""


def write_sheet(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as stream:
        out = csv.writer(stream)
        out.writerow(["Phone", "Name", "Follow-up"])
        for i in range(rows):
            out.writerow([f"+9198{i:08d}", f"Lead {i}", f"2031-{1 + i % 12:02d}-{1 + i % 28:02d} 10:30"])


def requests_seen(port: int, clear: bool = False) -> int:
    base = f"http://127.0.0.1:{port}/__sandbox/requests"
    with urllib.request.urlopen(base, timeout=30) as answer:
        count = sum(1 for entry in json.load(answer) if "/api/lead" in entry["path"])
    if clear:
        urllib.request.urlopen(urllib.request.Request(base, method="DELETE"), timeout=30).close()
    return count


def run(sheet: Path, mapping: Path, port: int, args: argparse.Namespace, reports: Path, *extra: str) -> tuple[
        float, str]:
    command = [sys.executable, "-m", "importer", "run", str(sheet), "-m", str(mapping), "--base-url",
               f"http://127.0.0.1:{port}/superfone", "--report-dir", str(reports), "--rate", str(args.send_rate),
               "--concurrency", str(args.concurrency), *extra]
    start = time.perf_counter()
    done = subprocess.run(command, env={**os.environ, "SF_API_KEY": API_KEY}, capture_output=True, text=True,
                          cwd=ROOT, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"run failed: {done.stderr.strip()}")
    lines = [line for line in done.stdout.splitlines() if line.startswith(("tasks:", "leads.csv:"))]
    return elapsed, " | ".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000)
    parser.add_argument("--rate", type=float, help="the sandbox's rate limit (default: none)")
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--send-rate", type=float, default=100_000, help="the importer's --rate")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    port = free_port()
    server = start_sandbox(port, args)
    try:
        with tempfile.TemporaryDirectory() as folder:
            os.environ["SF_HOME"] = str(folder)  # the states stay in the benchmark's folder
            base = Path(folder)
            sheet, mapping, plain = base / "leads.csv", base / "tasks.yaml", base / "plain.yaml"
            write_sheet(sheet, args.rows)
            mapping.write_text(MAPPING, encoding="utf-8")
            plain.write_text(MAPPING.split("tasks:")[0], encoding="utf-8")
            for name, used, extra in (("without tasks (first run)", plain, ()), ("with tasks, first run", mapping, ()),
                                      ("with tasks, --full", mapping, ("--full",)),
                                      ("with tasks, nightly sync", mapping, ())):
                reports = base / ("plain" if used is plain else "tasks")
                if used is plain:
                    extra = (*extra, "--state", str(base / "plain-state.sqlite"))
                elapsed, said = run(sheet, used, port, args, reports, *extra)
                seen = requests_seen(port, clear=True)
                print(f"{name}: {args.rows:,} rows in {elapsed:.2f} s = {args.rows / elapsed:,.0f} rows/s, "
                      f"{seen / args.rows:.2f} requests a row; {said}")
                if used is plain:  # the next runs start from a fresh account
                    urllib.request.urlopen(urllib.request.Request(
                        f"http://127.0.0.1:{port}/__sandbox/reset", data=b"{}", method="POST"), timeout=30).close()
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
