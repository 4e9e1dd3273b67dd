"""Nightly sync, measured: what a second run of a sheet costs, and what it sends.

    python benchmarks/bench_sync.py                                  # 1,000,000 rows, then 200,000 with 1% changed
    python benchmarks/bench_sync.py --rows 100000 --changed-rows 20000
    python benchmarks/bench_sync.py --rows 1000000 --changed-rows 0 --first-night built --pairs 3

(a) A CSV is imported into a sandbox (another process, no rate limit), then the same command runs again on the
    unchanged file: it must read and write no lead (its only requests are the catalog's lists, which the dry run
    makes too), in at most 1.5 × the time of the dry run of the same file against the same account (`run
    --dry-run`: the same checks against the account's names, nothing sent). The state file's size after the first
    run is the size per that many leads. ``--pairs N``: N second runs, each followed by its dry run (back to back),
    each with its wall time and CPU time (user + system of the importer and its checking processes).
    ``--first-night built``: the first night is not sent but recorded (``benchmarks/first_night.py``: the checks,
    then the sync ledger's own record of each row as succeeded), a first real run taking over half an hour at
    1,000,000 rows; the benchmark first holds such a state against one a real run wrote for a smaller sheet
    (``--check-rows``): the same leads, digests, values and notes, or it stops.
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
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    import resource
except ImportError:  # Windows: no CPU times of child processes
    resource = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import measure  # noqa: E402
from benchmarks.bench_import import API_KEY, MAPPING, free_port, start_sandbox  # noqa: E402
from benchmarks.first_night import same_state  # noqa: E402
from benchmarks.make_data import make_csv  # noqa: E402

FIRST_NIGHT = ROOT / "benchmarks" / "first_night.py"


def children_cpu() -> float:
    """User + system seconds of every child process ended so far (theirs and their own children's), or NaN."""
    if resource is None:
        return float("nan")
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(command: list[str], what: str) -> tuple[float, float, list[str]]:
    """Run ``command``: its wall seconds, its CPU seconds and its output lines."""
    env = {**os.environ, "SF_API_KEY": API_KEY}
    cpu, start = children_cpu(), time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{what} failed ({done.returncode}): {done.stderr.strip()}")
    return seconds, children_cpu() - cpu, done.stdout.splitlines()


def importer_cpu(*args: str) -> tuple[float, float, list[str]]:
    """``superfone-import ARGS --quiet``: wall seconds, CPU seconds (with its checking processes), output lines."""
    return timed([sys.executable, "-m", "importer", *args, "--quiet"], args[0])


def importer(*args: str) -> tuple[float, list[str]]:
    seconds, _, lines = importer_cpu(*args)
    return seconds, lines


def build_first_night(sheet: Path, port: int, reports: Path) -> tuple[float, list[str]]:
    """The first night's state of ``sheet`` recorded without sending (benchmarks/first_night.py)."""
    seconds, _, lines = timed([sys.executable, str(FIRST_NIGHT), str(sheet), "-m", str(MAPPING), *sync_args(port,
                                                                                                     reports)],
                              "building the first night")
    return seconds, lines


def check_first_night(folder: Path, port: int, rows: int, claims: measure.Claims) -> bool:
    """A real first run and a built one of the same ``rows``-row sheet, each into a state of its own: the same
    leads (digests, values, added names) and notes."""
    sheet = make_csv(folder / "check.csv", rows, seed=5)
    states: list[Path] = []
    for how in ("run", "built"):
        os.environ["SF_HOME"] = str(folder / f"check-{how}")
        reports = folder / f"reports-check-{how}"
        if how == "run":
            seconds, lines = importer("run", str(sheet), "-m", str(MAPPING), *sync_args(port, reports))
        else:
            seconds, lines = build_first_night(sheet, port, reports)
        print(f"    first night of {rows:,} rows, {how}: {seconds:.1f} s: {lines[0]}")
        states.extend((folder / f"check-{how}" / "states").glob("*.sqlite"))
    os.environ["SF_HOME"] = str(folder)
    same, line = same_state(states[0], states[1])
    sizes = "; ".join(f"{how} {state.stat().st_size / rows:.0f} bytes a lead" for how, state in zip(
        ("run", "built"), states, strict=True))
    print(f"    {line} ({sizes})")
    return claims.check(same, "a built first night's state holds what a real first run's holds")


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


def unchanged_rerun(folder: Path, port: int, rows: int, claims: measure.Claims, built: bool = False,
                    pairs: int = 1) -> None:
    sheet = make_csv(folder / "leads.csv", rows, seed=5)
    target = sync_args(port, folder / "reports")
    clear_log(port)
    if built:
        first, lines = build_first_night(sheet, port, folder / "reports")
        print(f"(a) first night built (not sent): {rows:,} rows in {first:.1f} s: {lines[0]}")
    else:
        first, lines = importer("run", str(sheet), "-m", str(MAPPING), *target)
        print(f"(a) first run: {rows:,} rows in {first:.1f} s: {lines[0]}")
    print(f"    sandbox received {measure.split(measure.request_counts(port))}")
    (state,) = (folder / "states").glob("*.sqlite")  # the account's state (SF_HOME is the benchmark's folder)
    size = state.stat().st_size
    with sqlite3.connect(state) as db:  # the account's leads: (b)'s too, when it ran first
        leads = db.execute("SELECT count(*) FROM lead").fetchone()[0]
    print(f"    state file: {size / 2**20:.0f} MB for {leads:,} leads ({size / leads:.0f} bytes a lead)")
    ratios = []
    for pair in range(1, pairs + 1):
        clear_log(port)
        second, second_cpu, lines = importer_cpu("run", str(sheet), "-m", str(MAPPING), *target)
        counts = measure.request_counts(port)
        dry, dry_cpu, _ = importer_cpu("run", str(sheet), "-m", str(MAPPING), "--dry-run", *target)
        print(f"    second run of the unchanged file ({pair}): {second:.1f} s, CPU {second_cpu:.1f} s; sandbox "
              f"received {measure.split(counts)}: {lines[0]}")
        claims.check(measure.total(counts) == measure.catalog(counts) <= len(measure.CATALOG),
                     "the second run of an unchanged file reads and writes no lead (its only requests: the "
                     "catalog's lists, each once at most)")
        print(f"    run --dry-run of the same file: {dry:.1f} s, CPU {dry_cpu:.1f} s; ratio {second / dry:.2f} "
              f"(CPU {second_cpu / dry_cpu:.2f}; goal <= 1.5: {'met' if second <= 1.5 * dry else 'NOT met'}; "
              f"issue 23's <= 1.1: {'met' if second <= 1.1 * dry else 'NOT met'})")
        ratios.append(second / dry)
    if pairs > 1:
        print(f"    median ratio of {pairs} pairs: {statistics.median(ratios):.2f}")


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
    parser.add_argument("--first-night", choices=("run", "built"), default="run",
                        help="(a)'s first night: a real run, or built without sending (see above)")
    parser.add_argument("--check-rows", type=int, default=5_000,
                        help="the sheet a built first night is held against a real one with")
    parser.add_argument("--pairs", type=int, default=1, help="second runs of (a), each with its dry run")
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
            built = args.first_night == "built"
            if args.rows and built and not check_first_night(folder, port, args.check_rows, claims):
                raise SystemExit(claims.exit_code())
            if args.rows:
                unchanged_rerun(folder, port, args.rows, claims, built, args.pairs)
        finally:
            server.terminate()
            server.wait()
    raise SystemExit(claims.exit_code())


if __name__ == "__main__":
    main()
