"""What before-images cost: an update-heavy run with them (the default) and with ``--no-undo``.

    python benchmarks/bench_undo.py                      # 2,000 rows, importer --rate 100
    python benchmarks/bench_undo.py --rows 5000 --rate 200 --latency-ms 50

A sheet is imported once into a sandbox (another process), so that every lead exists. Then each of its rows gets a
new City and the sheet is imported again, whole (``--full``), twice: once recording before-images (one get-lead
before each lead's first write, paced by the same ``--rate`` as the writes) and once with ``--no-undo``. Printed:
requests to the lead endpoint (reads and writes) and wall time of each, and their ratios.
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

from benchmarks.bench_import import MAPPING, free_port, start_sandbox  # noqa: E402
from benchmarks.bench_sync import clear_log, importer  # noqa: E402
from benchmarks.make_data import make_csv  # noqa: E402


def lead_requests(port: int) -> dict[str, int]:
    import requests

    log = requests.get(f"http://127.0.0.1:{port}/__sandbox/requests", timeout=60).json()
    counts = {"GET": 0, "POST": 0}
    for entry in log:
        if entry["path"].endswith("/enterprise/api/lead"):
            counts[entry["method"]] += 1
    return counts


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
    with tempfile.TemporaryDirectory(prefix="bench-undo-") as name:
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
                counts = lead_requests(port)
                results[label] = (seconds, counts)
                print(f"{label}: {counts['GET']:,} reads + {counts['POST']:,} writes = "
                      f"{counts['GET'] + counts['POST']:,} requests in {seconds:.1f} s ({lines[0]})")
            (slow, full), (fast, lean) = results.values()
            ratio = (lean["GET"] + lean["POST"]) / (full["GET"] + full["POST"])
            print(f"--no-undo: {ratio:.2f} × the requests, {fast / slow:.2f} × the time of a run with before-images "
                  f"(at --rate {args.rate:g})")
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
