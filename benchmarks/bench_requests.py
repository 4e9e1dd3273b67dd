"""Requests per changed lead of a nightly sync: every HTTP request the second run makes, GETs included.

    python benchmarks/bench_requests.py                       # 20,000 rows; 1% get a new City, 1% a new label
    python benchmarks/bench_requests.py --rows 5000 --no-undo

A CSV (benchmarks/make_data.py) is imported into a sandbox (another process, no rate limit), recording
before-images as every real run does unless ``--no-undo``. Then rows the first run imported are changed, one kind
of change at a time, and the same command runs again on the sheet:

- ``city``: a new City (a field this job wrote in its last run);
- ``label``: one more tag (labels are only added: the run sends the labels the lead lacks);
- ``note``: a new note text.

For each, the second run's requests are counted from the sandbox's request log, split by method and endpoint,
and divided by the leads it changed (its ``sent``): the lists of the account's names (five GETs a run) are part of
every run, whatever its rows.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_import import API_KEY, MAPPING, free_port, start_sandbox  # noqa: E402
from benchmarks.make_data import make_csv  # noqa: E402

CHANGES = {"city": ("City", lambda old, n: f"Moved {n}"),
           "label": ("Tags", lambda old, n: f"{old};Night {n % 7}" if old else f"Night {n % 7}"),
           "note": ("Notes", lambda old, n: f"Second call {n}")}


def importer(*args: str) -> Path:
    """Run the importer; the report folder of its run."""
    env = {**os.environ, "SF_API_KEY": API_KEY}
    done = subprocess.run([sys.executable, "-m", "importer", *args, "--quiet"], env=env, capture_output=True,
                          text=True, cwd=ROOT)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return Path(done.stdout.strip().splitlines()[-1].removeprefix("report: "))


def log(port: int, clear: bool = False) -> list[dict]:
    import requests

    url = f"http://127.0.0.1:{port}/__sandbox/requests"
    if clear:
        requests.delete(url, timeout=60)
        return []
    return list(requests.get(url, timeout=60).json())


def by_endpoint(entries: list[dict]) -> Counter[str]:
    return Counter(f"{entry['method']} {entry['path'].split('/api/', 1)[-1]}" for entry in entries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--share", type=float, default=0.01, help="share of the imported rows each change touches")
    parser.add_argument("--no-undo", action="store_true", help="runs record no before-images")
    parser.add_argument("--changes", default="city,label,note", help="which changes, one second run each")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-requests-") as name:
        os.environ["SF_HOME"] = str(name)  # the states stay in the benchmark's folder
        folder = Path(name)
        port = free_port()
        server = start_sandbox(port, argparse.Namespace(rate=0, latency_ms=0))
        try:
            sheet = make_csv(folder / "leads.csv", args.rows, seed=11)
            target = ["-m", str(MAPPING), "--base-url", f"http://127.0.0.1:{port}/superfone", "--report-dir",
                      str(folder / "reports"), "--rate", "100000", "--concurrency", "16",
                      *(("--no-undo",) if args.no_undo else ())]
            log(port, clear=True)
            first = importer("run", str(sheet), *target)
            counts = by_endpoint(log(port))
            sent = json.loads((first / "summary.json").read_text(encoding="utf-8"))["sent"]
            print(f"first run: {args.rows:,} rows, {sent:,} leads written; requests: {_line(counts, sent)}")
            imported = sorted(int(record["_row"]) for record in csv.DictReader(
                (first / "successes.csv").open(encoding="utf-8-sig")))
            for change in args.changes.split(","):
                second(change, sheet, imported, port, target, args.share)
        finally:
            server.terminate()
            server.wait()


def second(change: str, sheet: Path, imported: list[int], port: int, target: list[str], share: float) -> None:
    column, new = CHANGES[change]
    wanted = max(1, int(len(imported) * share))
    changed = set(imported[::max(1, len(imported) // wanted)][:wanted])
    with sheet.open(encoding="utf-8", newline="") as stream:
        table = list(csv.reader(stream))
    index = table[0].index(column)
    for number in changed:
        table[number - 1][index] = new(table[number - 1][index], number)
    with sheet.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows(table)
    log(port, clear=True)
    folder = importer("run", str(sheet), *target)
    counts = by_endpoint(log(port))
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    sent = summary["sent"]
    print(f"second run, {change}: {len(changed):,} rows changed, {sent:,} leads written "
          f"({summary.get('lookups', 0):,} read, {summary.get('before_from_state', 0):,} imaged from the state); "
          f"requests: {_line(counts, sent)}")


def _line(counts: Counter[str], sent: int) -> str:
    lead = counts["GET lead"] + counts["POST lead"]
    parts = ", ".join(f"{name} {count:,}" for name, count in sorted(counts.items()))
    per = f"{lead / sent:.2f}" if sent else "-"
    return f"{sum(counts.values()):,} ({parts}); {per} lead requests per lead written"


if __name__ == "__main__":
    main()
