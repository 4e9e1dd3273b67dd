"""What tasks cost a run: `superfone-import run` of rows that each carry one task, into a sandbox in another process.

    python benchmarks/bench_tasks.py                          # 2,000 rows, unlimited sandbox
    python benchmarks/bench_tasks.py --rows 600 --rate 50 --burst 10 --latency-ms 200 --send-rate 50

Three runs of the same sheet: the first creates every lead and its task (get-lead for the before-image, upsert,
get-lead for the lead's id, list tasks, create task: five requests a row), ``--full`` sends every row again (the
tasks are found on their leads: four requests a row, none created), and a nightly sync (nothing changed: no lead
request). Prints, per run, the wall time, rows/s, every HTTP request the sandbox received (GETs included) by method
and endpoint, the requests a row besides the catalog's lists, and the run's tasks line; and the same first run
without tasks, for comparison; the load average before and after. Exits 1 when a run's requests are not those of
:data:`PER_ROW`.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import measure  # noqa: E402
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


#: Requests a row by endpoint, for each run (the catalog's lists aside): a before-image read and the upsert; with
#: tasks also a get-lead for the lead's id, its tasks listed and the task created (none on a --full run: each is on
#: its lead already); nothing on the nightly sync of an unchanged sheet.
PER_ROW = {
    "without tasks (first run)": {f"GET {measure.LEAD}": 1, f"POST {measure.LEAD}": 1},
    "with tasks, first run": {f"GET {measure.LEAD}": 2, f"POST {measure.LEAD}": 1, f"GET {measure.LEAD}/:id/task": 1,
                              f"POST {measure.LEAD}/:id/task": 1},
    "with tasks, --full": {f"GET {measure.LEAD}": 2, f"POST {measure.LEAD}": 1, f"GET {measure.LEAD}/:id/task": 1},
    "with tasks, nightly sync": {},
}


def check(claims: measure.Claims, name: str, counts: dict[str, int], rows: int, limited: bool) -> None:
    """Exactly :data:`PER_ROW`; against a rate-limited sandbox, at least that (429s are retried) on no other
    endpoint."""
    expected = {endpoint: per_row * rows for endpoint, per_row in PER_ROW[name].items()}
    besides = {endpoint: count for endpoint, count in counts.items() if endpoint not in measure.CATALOG}
    words = ", ".join(f"{per_row} {endpoint}" for endpoint, per_row in PER_ROW[name].items()) or "no lead request"
    if limited:
        holds = set(besides) == set(expected) and all(besides[key] >= count for key, count in expected.items())
    else:
        holds = besides == expected and all(counts.get(name, 0) <= 1 for name in measure.CATALOG)
    claims.check(holds, f"{name}: a row makes {words} (the catalog's lists aside"
                        + ("; retries of 429s besides)" if limited else ", each once at most)"))


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
    claims = measure.Claims()
    try:
        with measure.load_watch(), tempfile.TemporaryDirectory() as folder:
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
                measure.clear_requests(port)
                elapsed, said = run(sheet, used, port, args, reports, *extra)
                counts = measure.request_counts(port)
                per_row = (measure.total(counts) - measure.catalog(counts)) / args.rows
                print(f"{name}: {args.rows:,} rows in {elapsed:.2f} s = {args.rows / elapsed:,.0f} rows/s, "
                      f"{per_row:.2f} requests a row besides the catalog's {measure.catalog(counts)}; {said}")
                print(f"    sandbox received {measure.split(counts)}")
                check(claims, name, counts, args.rows, limited=bool(args.rate))
                if used is plain:  # the next runs start from a fresh account
                    urllib.request.urlopen(urllib.request.Request(
                        f"http://127.0.0.1:{port}/__sandbox/reset", data=b"{}", method="POST"), timeout=30).close()
    finally:
        server.terminate()
        server.wait()
    raise SystemExit(claims.exit_code())


if __name__ == "__main__":
    main()
