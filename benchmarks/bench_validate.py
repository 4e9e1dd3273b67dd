"""Time `superfone-import validate --offline` on generated sheets, end to end, as a user runs it.

    python benchmarks/bench_validate.py                       # 1,000,000-row CSV and 100,000-row XLSX
    python benchmarks/bench_validate.py --csv-rows 200000 --xlsx-rows 0
    python benchmarks/bench_validate.py --dates --xlsx-rows 0   # the CSV plus two date columns, unmapped then mapped

Each run is a separate process (`python -m importer validate ...`); the figures are its wall time, its CPU time
(user + system, of the importer and its checking processes: steadier than wall time on a shared machine), the peak
resident memory of the importer and of its largest checking process (ru_maxrss of the children), and the load
average when it started and when it ended (each validate, and the whole benchmark). Goals on a
2-core machine: the 1M-row CSV in <= 6 s with <= 400 MB; with two date columns mapped, <= 1.2 x the same sheet with
them unmapped; the 100k-row XLSX read in <= 2.5 s.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import measure  # noqa: E402
from benchmarks.make_data import make_csv, make_xlsx  # noqa: E402

MAPPING = ROOT / "benchmarks" / "leads.yaml"
#: ``--dates``: two more fields, each a column of dates whose day/month order is decided from all its values.
DATE_FIELDS = """\
  additional_info: {column: Follow-up, type: datetime}
  address.text: {column: Since, type: date}
"""


def with_date_columns(sheet: Path, out: Path, seed: int) -> Path:
    """``sheet`` plus Follow-up (dd/mm/yyyy hh:mm) and Since (ISO 8601, named months, Excel serials) columns."""
    rng = random.Random(seed)
    with sheet.open(newline="", encoding="utf-8") as source, out.open("w", newline="", encoding="utf-8") as target:
        reader, writer = csv.reader(source), csv.writer(target)
        writer.writerow([*next(reader), "Follow-up", "Since"])
        for row in reader:
            day, month, hour = rng.randint(1, 28), rng.randint(1, 12), rng.randint(0, 23)
            follow_up = f"{day:02d}/{month:02d}/2026 {hour:02d}:{rng.choice(('00', '15', '30', '45'))}"
            style = rng.randrange(3)
            since = (f"2024-{month:02d}-{day:02d}" if style == 0 else
                     f"{day} {('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun')[month % 6]} 2024" if style == 1 else
                     str(45000 + rng.randrange(1000)))
            writer.writerow([*row, follow_up, since])
    return out


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def validate(sheet: Path, report_dir: Path, mapping: Path = MAPPING) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB of the run's processes, and the run's first summary line (the CPU seconds and
    the load average go to stdout)."""
    command = [sys.executable, "-m", "importer", "validate", str(sheet), "-m", str(mapping), "--offline",
               "--quiet", "--report-dir", str(report_dir)]
    load, cpu = measure.load_average(), cpu_of_children()
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"validate failed ({done.returncode}): {done.stderr.strip()}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    ended = measure.load_average()
    print(f"  CPU {cpu_of_children() - cpu:.2f} s (user + system), load average "
          + (f"{load:.2f} at the start, {ended:.2f} at the end" if load is not None and ended is not None else "n/a"))
    return seconds, peak_kb / 1024, done.stdout.splitlines()[0]


def read_xlsx(sheet: Path) -> float:
    from importer.sources import open_table

    start = time.perf_counter()
    rows = sum(len(batch) for batch in open_table(sheet).batches())
    seconds = time.perf_counter() - start
    print(f"xlsx read: {rows:,} rows in {seconds:.2f} s ({rows / seconds:,.0f} rows/s)")
    return seconds


def dates_cost(sheet: Path, work: Path, rows: int) -> None:
    """What mapping the two date columns costs: the same sheet validated with them unmapped and mapped, back to
    back, twice (the faster of each kept: the machine's own noise only ever adds time)."""
    dated = work / "dated.yaml"
    dated.write_text(MAPPING.read_text(encoding="utf-8") + DATE_FIELDS, encoding="utf-8")
    best: dict[str, tuple[float, float, str]] = {}
    for _ in range(2):
        for what, mapping in (("unmapped", MAPPING), ("mapped", dated)):
            result = validate(sheet, work / "reports", mapping)
            print(f"csv validate, 2 date columns {what}: {rows:,} rows in {result[0]:.2f} s, peak RSS "
                  f"{result[1]:.0f} MB")
            if what not in best or result[0] < best[what][0]:
                best[what] = result
    print(f"  {best['mapped'][2]}")
    ratio = best["mapped"][0] / best["unmapped"][0]
    verdict = "met" if ratio <= 1.2 else "not met"
    print(f"csv validate with 2 date columns mapped: {best['mapped'][0]:.2f} s against {best['unmapped'][0]:.2f} s "
          f"unmapped (the faster of 2 runs each): {ratio:.2f} × (goal <= 1.2 ×: {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--dates", action="store_true", help="add two date columns to the CSV and map them")
    args = parser.parse_args()
    with measure.load_watch(), tempfile.TemporaryDirectory(prefix="bench-validate-") as folder:
        work = Path(folder)
        if args.csv_rows:
            sheet = make_csv(work / "leads.csv", args.csv_rows, seed=1)
            mapping, what = MAPPING, "csv validate"
            if args.dates:
                dates_cost(with_date_columns(sheet, work / "dated.csv", seed=1), work, args.csv_rows)
            else:
                seconds, peak, line = validate(sheet, work / "reports", mapping)
                print(f"{what}: {args.csv_rows:,} rows in {seconds:.2f} s ({args.csv_rows / seconds:,.0f} rows/s), "
                      f"peak RSS {peak:.0f} MB")
                print(f"  {line}")
        if args.xlsx_rows:
            sheet = make_xlsx(work / "leads.xlsx", args.xlsx_rows, seed=1)
            read_xlsx(sheet)
            seconds, _, line = validate(sheet, work / "reports")
            print(f"xlsx validate: {args.xlsx_rows:,} rows in {seconds:.2f} s")
            print(f"  {line}")


if __name__ == "__main__":
    main()
