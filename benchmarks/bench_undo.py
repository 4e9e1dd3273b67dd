"""What before-images cost: an update-heavy run with them (the default) and with ``--no-undo``.

    python benchmarks/bench_undo.py                      # 2,000 rows, importer --rate 100
    python benchmarks/bench_undo.py --rows 5000 --rate 200 --latency-ms 50

A sheet is imported once into a sandbox (another process), so that every lead exists. Then each of its rows gets a
new City and the sheet is imported again, whole (``--full``), twice: once recording before-images (one get-lead
before each lead's first write, paced by the same ``--rate`` as the writes) and once with ``--no-undo``. Printed:
every HTTP request the sandbox received (GETs included), by method and endpoint, and wall time of each, and their
ratios; the load average before and after. Exits 1 when the requests contradict the README: with before-images a
read and a write a row, with ``--no-undo`` the same writes and no read (half the lead requests).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import measure  # noqa: E402
from benchmarks.bench_import import MAPPING, free_port, start_sandbox  # noqa: E402
from benchmarks.bench_sync import clear_log, importer  # noqa: E402
from benchmarks.make_data import make_csv  # noqa: E402


def move_everyone(sheet: Path, city: str) -> None:
    with sheet.open(encoding="utf-8", newline="") as stream:
        table = list(csv.reader(stream))
    column = table[0].index("City")
    for number, line in enumerate(table[1:], start=2):
        line[column] = f"{city} {number}"
    with sheet.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=100, help="the importer's --rate (reads and writes)")
    parser.add_argument("--latency-ms", type=int, default=0, help="the sandbox's latency")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    claims = measure.Claims()
    with measure.load_watch(), tempfile.TemporaryDirectory(prefix="bench-undo-") as name:
        os.environ["SF_HOME"] = str(name)  # the states stay in the benchmark's folder
        folder = Path(name)
        port = free_port()
        server = start_sandbox(port, argparse.Namespace(rate=0, latency_ms=args.latency_ms))
        target = ["--base-url", f"http://127.0.0.1:{port}/superfone", "--report-dir", str(folder / "reports"),
                  "--concurrency", str(args.concurrency)]
        try:
            sheet = make_csv(folder / "leads.csv", args.rows, seed=11)
            _, lines = importer("run", str(sheet), "-m", str(MAPPING), *target, "--rate", "100000", "--no-undo")
            print(f"set-up: {lines[0]}")
            results = {}
            for label, extra in (("with before-images", ()), ("--no-undo", ("--no-undo",))):
                move_everyone(sheet, f"{label[:4]} city")
                clear_log(port)
                seconds, lines = importer("run", str(sheet), "-m", str(MAPPING), *target, "--rate", str(args.rate),
                                          "--full", *extra)
                counts = measure.request_counts(port)
                results[label] = (seconds, counts)
                print(f"{label}: {measure.reads(counts):,} reads + {measure.writes(counts):,} writes; sandbox "
                      f"received {measure.split(counts)} in {seconds:.1f} s ({lines[0]})")
            (slow, full), (fast, lean) = results.values()
            print(f"--no-undo: {measure.total(lean) / measure.total(full):.3f} × the requests (lead requests: "
                  f"{(measure.reads(lean) + measure.writes(lean)) / (measure.reads(full) + measure.writes(full)):.3f}"
                  f" ×), {fast / slow:.2f} × the time of a run with before-images (at --rate {args.rate:g})")
            claims.check(measure.reads(full) == measure.writes(full) > 0, "with before-images, a read a write")
            claims.check(measure.reads(lean) == 0 and measure.writes(lean) == measure.writes(full),
                         "--no-undo: the same writes, no read")
            claims.check(all(measure.total(counts) == measure.reads(counts) + measure.writes(counts)
                             + measure.catalog(counts) for counts in (full, lean)),
                         "no other request but the catalog's lists")
        finally:
            server.terminate()
            server.wait()
    raise SystemExit(claims.exit_code())

if __name__ == "__main__":
    main()
