"""Nightly sync, measured: what a second run of a sheet costs, and what it sends.

    python benchmarks/bench_sync.py                                  # 1,000,000 rows, then 200,000 with 1% changed
    python benchmarks/bench_sync.py --rows 100000 --changed-rows 20000

(a) A CSV is imported into a sandbox (another process, no rate limit), then the same command runs again on the
    unchanged file: it must read and write no lead (its only requests are the catalog's lists, which the dry run
    makes too), in at most 1.5 × the time of the dry run of the same file against the same account (`run
    --dry-run`: the same checks against the account's names, nothing sent). The state file's size after the first
    run is the size per that many leads.
(b) Another CSV is imported, then 1% of its imported rows get a new City and the command runs again: it must send
    exactly that many upserts, each carrying only customer_phone, the create flag and city, each with a
    before-image: from the sync state where the first run wrote the lead's City (no request), else after a
    get-lead; and no other request but the catalog's lists.

Every run prints every HTTP request the sandbox received (GETs included), by method and endpoint; the load average
is printed before and after. Exits 1 when the requests contradict (a) or (b); the time ratio's goal is printed
(met or not), not part of the exit code.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import measure  # noqa: E402
from benchmarks.bench_import import API_KEY, MAPPING, free_port, start_sandbox  # noqa: E402
from benchmarks.make_data import make_csv  # noqa: E402


def importer(*args: str) -> tuple[float, list[str]]:
    env = {**os.environ, "SF_API_KEY": API_KEY}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "importer", *args, "--quiet"], env=env, capture_output=True,
                          text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return seconds, done.stdout.splitlines()


def posts(port: int) -> list[dict]:
    import requests

    log = requests.get(f"http://127.0.0.1:{port}/__sandbox/requests", timeout=60).json()
    return [entry for entry in log if entry["method"] == "POST"]


def clear_log(port: int) -> None:
    """Clear the sandbox's request log and its counts."""
    measure.clear_requests(port)


def sync_args(port: int, reports: Path) -> list[str]:
    """A sync run into the sandbox on ``port``, as fast as it goes."""
    return ["--base-url", f"http://127.0.0.1:{port}/superfone", "--report-dir", str(reports), "--rate", "100000",
            "--concurrency", "16"]


def unchanged_rerun(folder: Path, port: int, rows: int, claims: measure.Claims) -> None:
    sheet = make_csv(folder / "leads.csv", rows, seed=5)
    target = sync_args(port, folder / "reports")
    clear_log(port)
    first, lines = importer("run", str(sheet), "-m", str(MAPPING), *target)
    print(f"(a) first run: {rows:,} rows in {first:.1f} s: {lines[0]}")
    print(f"    sandbox received {measure.split(measure.request_counts(port))}")
    (state,) = (folder / "states").glob("*.sqlite")  # the account's state (SF_HOME is the benchmark's folder)
    size = state.stat().st_size
    with sqlite3.connect(state) as db:  # the account's leads: (b)'s too, when it ran first
        leads = db.execute("SELECT count(*) FROM lead").fetchone()[0]
    print(f"    state file: {size / 2**20:.0f} MB for {leads:,} leads ({size / leads:.0f} bytes a lead)")
    clear_log(port)
    second, lines = importer("run", str(sheet), "-m", str(MAPPING), *target)
    counts = measure.request_counts(port)
    dry, _ = importer("run", str(sheet), "-m", str(MAPPING), "--dry-run", *target)
    print(f"    second run of the unchanged file: {second:.1f} s, sandbox received {measure.split(counts)}: "
          f"{lines[0]}")
    claims.check(measure.total(counts) == measure.catalog(counts) <= len(measure.CATALOG),
                 "the second run of an unchanged file reads and writes no lead (its only requests: the catalog's "
                 "lists, each once at most)")
    print(f"    run --dry-run of the same file: {dry:.1f} s; ratio {second / dry:.2f} "
          f"(goal <= 1.5: {'met' if second <= 1.5 * dry else 'NOT met'})")


def changed_rerun(folder: Path, port: int, rows: int, claims: measure.Claims) -> None:
    sheet = make_csv(folder / "changed.csv", rows, seed=6)
    target = sync_args(port, folder / "reports-b")
    clear_log(port)
    first, lines = importer("run", str(sheet), "-m", str(MAPPING), *target)
    print(f"(b) first run: {rows:,} rows in {first:.1f} s: {lines[0]}")
    print(f"    sandbox received {measure.split(measure.request_counts(port))}")
    imported = sorted(int(record["_row"]) for record in csv.DictReader(
        (Path(lines[-1].removeprefix("report: ")) / "successes.csv").open(encoding="utf-8-sig")))
    wanted = rows // 100  # 1% of the sheet's rows, all of them rows the first run imported
    changed = set(imported[::max(1, len(imported) // wanted)][:wanted])
    with sheet.open(encoding="utf-8", newline="") as stream:
        table = list(csv.reader(stream))
    city = table[0].index("City")
    for number in changed:
        table[number - 1][city] = f"Moved {number}"
    with sheet.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows(table)
    clear_log(port)
    second, lines = importer("run", str(sheet), "-m", str(MAPPING), *target)
    counts = measure.request_counts(port)
    sent = posts(port)  # the log holds them all: far fewer than its 1,000,000
    print(f"    {len(changed):,} rows changed ({100 * len(changed) / rows:.1f}%): second run {second:.1f} s, "
          f"sandbox received {measure.split(counts)}")
    print(f"    {lines[0]}")
    claims.check(measure.writes(counts) == len(sent) == len(changed), f"exactly {len(changed):,} upserts")
    claims.check(all(entry["fields"] == ["city", "create_customer_if_customer_phone_not_found", "customer_phone"]
                     for entry in sent), "each upsert carries only the changed field")
    summary = json.loads((Path(lines[-1].removeprefix("report: ")) / "summary.json").read_text(encoding="utf-8"))
    read, kept = measure.reads(counts), summary.get("before_from_state", 0)
    print(f"    before-images: {read:,} read with get-lead, {kept:,} from the sync state (a City this job wrote)")
    claims.check(read + kept == len(changed) and kept > 0,
                 f"a before-image for each of the {len(changed):,} rows, those of a City this job wrote from its state")
    claims.check(measure.total(counts) == len(changed) + read + measure.catalog(counts)
                 and all(counts.get(name, 0) <= 1 for name in measure.CATALOG),
                 "no other request but the catalog's lists, each once at most")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--changed-rows", type=int, default=200_000)
    args = parser.parse_args()
    claims = measure.Claims()
    with measure.load_watch(), tempfile.TemporaryDirectory(prefix="bench-sync-") as name:
        os.environ["SF_HOME"] = str(name)  # the states stay in the benchmark's folder
        folder = Path(name)
        port = free_port()
        unlimited = argparse.Namespace(rate=0, latency_ms=0)
        server = start_sandbox(port, unlimited, "--db", str(folder / "sandbox.db"))
        try:
            if args.changed_rows:
                changed_rerun(folder, port, args.changed_rows, claims)
            if args.rows:
                unchanged_rerun(folder, port, args.rows, claims)
        finally:
            server.terminate()
            server.wait()
    raise SystemExit(claims.exit_code())


if __name__ == "__main__":
    main()
