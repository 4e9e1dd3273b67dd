"""Time reading a sheet through ``open_table(...).batches()`` and report peak memory.

    python benchmarks/bench_read.py FILE [--sheet NAME] [--batch 5000]
    python benchmarks/bench_read.py --make csv --rows 1000000      # generate into a temp folder, then read

Prints one line: kind, rows, columns, wall and CPU seconds, rows/s and peak RSS (resource.getrusage); and the load
average before and after.
CPU seconds are the steadier figure on a busy machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.make_data import make_csv, make_xlsx  # noqa: E402
from benchmarks.measure import load_watch  # noqa: E402
from importer.sources import open_table  # noqa: E402


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(path: Path, sheet: str | None, batch: int) -> str:
    start, cpu_start = time.perf_counter(), time.process_time()
    table = open_table(path, sheet=sheet)
    rows = 0
    for rows_batch in table.batches(batch):
        rows += len(rows_batch)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return (
        f"{path.name}: kind={table.kind} rows={rows} columns={len(table.columns)} seconds={seconds:.2f} "
        f"cpu_seconds={cpu:.2f} rows/s={rows / seconds:,.0f} peak_rss_mb={peak_rss_mb():.0f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--sheet")
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--make", choices=("csv", "xlsx"), help="generate a lead sheet first")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    if not (args.file or args.make):
        parser.error("give a FILE or --make")
    with load_watch():
        if args.file:
            print(measure(args.file, args.sheet, args.batch))
        else:
            with tempfile.TemporaryDirectory(prefix="bench-read-") as folder:
                writer = make_csv if args.make == "csv" else make_xlsx
                path = writer(Path(folder) / f"leads.{args.make}", args.rows)
                print(f"generated {path.name} ({path.stat().st_size:,} bytes); "
                      f"peak_rss_mb so far={peak_rss_mb():.0f}")
                print(measure(path, args.sheet, args.batch))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
