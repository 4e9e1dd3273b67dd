"""A whole import, as a user runs it: `superfone-import run` into a sandbox served by another process.

    python benchmarks/bench_import.py                  # 100,000 rows, unlimited sandbox
    python benchmarks/bench_import.py --rows 3000 --rate 50 --burst 10 --latency-ms 200 --concurrency 16
    python benchmarks/bench_import.py --no-undo         # no get-lead before each write (no before-images)
    python benchmarks/bench_import.py --no-undo --bare  # and the same requests from a bare threaded loop first

Prints rows, wall time, rows/s, CPU time, the run's summary line and its peak resident memory (the importer process
and any checking processes it started), so the journal, report writing and checks are all counted; the load average
before and after; and every HTTP request the sandbox received, by method and endpoint. Exits 1 when those requests
contradict the docs: each row sent is one upsert, read first (a get-lead: its before-image) unless ``--no-undo``
(every lead of this benchmark's sheet is new to its job, so each is read), and the sandbox received exactly the
requests the run counted in its summary.
``--bare`` first posts the run's exact requests (the payloads.jsonl of its dry run) into a sandbox of their own from
``--concurrency`` threads, each with its own requests session and nothing else: the client's ceiling against that
server, to compare the run with. On a shared machine rows/s moves with the neighbours' load; the CPU each spends
per request (user + system: the run's process and its checking processes, the bare loop's threads) moves less.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import measure  # noqa: E402
from benchmarks.make_data import make_csv  # noqa: E402

MAPPING = ROOT / "benchmarks" / "leads.yaml"
API_KEY = "bench-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_sandbox(port: int, args: argparse.Namespace, *extra: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "importer", "sandbox", "--port", str(port), "--api-key", API_KEY, *extra]
    if args.rate:
        command += ["--rate", str(args.rate), "--burst", str(args.burst)]
    if args.latency_ms:
        command += ["--latency-ms", str(args.latency_ms)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the sandbox did not start")


def run_import(sheet: Path, port: int, args: argparse.Namespace, report_dir: Path) -> tuple[
        float, float, str, dict[str, Any], float]:
    """Wall seconds, peak RSS in MB, the run's first summary line, its summary.json and its CPU seconds."""
    command = [sys.executable, "-m", "importer", "run", str(sheet), "-m", str(MAPPING), "--quiet",
               "--base-url", f"http://127.0.0.1:{port}/superfone", "--report-dir", str(report_dir),
               "--rate", str(args.send_rate), "--concurrency", str(args.concurrency),
               *(("--no-undo",) if args.no_undo else ())]
    env = {**os.environ, "SF_API_KEY": API_KEY}
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    out = process.stdout.read().decode() if process.stdout else ""
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        err = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"run failed: {err.strip()}")
    lines = out.splitlines()
    return seconds, usage.ru_maxrss / 1024, lines[0], report_summary(lines), usage.ru_utime + usage.ru_stime


def report_summary(lines: list[str]) -> dict[str, Any]:
    """The summary.json of the run whose output ends with ``report: FOLDER``."""
    folder = Path(lines[-1].removeprefix("report: "))
    summary: dict[str, Any] = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return summary


def check_requests(claims: measure.Claims, counts: dict[str, int], summary: dict[str, Any], undo: bool) -> None:
    """What the README says a run's requests are, against what the sandbox received."""
    print(f"  sandbox received {measure.split(counts)}")
    sent, retried = summary["sent"], summary["requests"]["retried"]
    claims.check(measure.total(counts) == summary["requests"]["total"],
                 f"the sandbox received the {summary['requests']['total']:,} requests the run counted")
    upserts, lookups = measure.writes(counts), measure.reads(counts)
    claims.check(sent <= upserts <= sent + retried, f"one upsert a row sent ({sent:,}; {retried:,} retried requests)")
    if undo:
        claims.check(summary["lookups"] == sent and sent <= lookups <= sent + retried,
                     "a get-lead before each row's write (its before-image)")
    else:
        claims.check(lookups == 0, "--no-undo: no get-lead")
    claims.check(set(counts) <= {f"GET {measure.LEAD}", f"POST {measure.LEAD}", *measure.CATALOG},
                 "nothing but the catalog's lists, get-lead and upserts")


def bare_loop(sheet: Path, args: argparse.Namespace, folder: Path) -> float:
    """Rows a second from ``--concurrency`` threads posting the run's requests, with nothing else to do."""
    import resource
    import threading

    import requests

    port = free_port()
    server = start_sandbox(port, args)
    try:
        subprocess.run([sys.executable, "-m", "importer", "validate", str(sheet), "-m", str(MAPPING), "--quiet",
                        "--base-url", f"http://127.0.0.1:{port}/superfone", "--report-dir", str(folder / "bare")],
                       check=False, capture_output=True, cwd=ROOT, env={**os.environ, "SF_API_KEY": API_KEY})
        (payloads,) = (folder / "bare").glob("*/payloads.jsonl")
        bodies = [json.dumps(json.loads(line)["payload"], ensure_ascii=False, separators=(",", ":")).encode()
                  for line in payloads.read_text(encoding="utf-8").splitlines()]
        measure.clear_requests(port)  # the dry run's catalog calls left out
        url = f"http://127.0.0.1:{port}/superfone/enterprise/api/lead"
        headers = {"x-api-key": API_KEY, "Content-Type": "application/json"}
        position, lock, failed = iter(range(len(bodies))), threading.Lock(), []

        def post() -> None:
            with requests.Session() as session:
                while True:
                    with lock:
                        index = next(position, None)
                    if index is None:
                        return
                    if not session.post(url, data=bodies[index], headers=headers, timeout=30).ok:
                        failed.append(index)

        threads = [threading.Thread(target=post) for _ in range(args.concurrency)]
        start, used = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime
        counts = measure.request_counts(port)
    finally:
        server.terminate()
        server.wait()
    print(f"bare loop: {len(bodies):,} requests in {seconds:.1f} s ({len(bodies) / seconds:,.0f} rows/s), "
          f"{args.concurrency} threads, {len(failed)} not 2xx; CPU {cpu:.1f} s ({cpu / len(bodies) * 1e6:,.0f} µs a "
          f"request); sandbox received {measure.split(counts)}")
    return len(bodies) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=0, help="the sandbox's limit (0: none)")
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--send-rate", type=float, default=100_000, help="the importer's --rate")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--no-undo", action="store_true", help="the run records no before-images (no reads)")
    parser.add_argument("--bare", action="store_true", help="first post the same requests from a bare threaded loop")
    args = parser.parse_args()
    claims = measure.Claims()
    with measure.load_watch(), tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        os.environ["SF_HOME"] = str(folder)  # the states stay in the benchmark's folder
        sheet = make_csv(Path(folder) / "leads.csv", args.rows, seed=3)
        bare = bare_loop(sheet, args, Path(folder)) if args.bare else None
        port = free_port()
        server = start_sandbox(port, args)
        try:
            measure.clear_requests(port)
            seconds, peak, line, summary, cpu = run_import(sheet, port, args, Path(folder) / "reports")
            counts = measure.request_counts(port)
        finally:
            server.terminate()
            server.wait()
        print(f"import: {args.rows:,} rows in {seconds:.1f} s ({args.rows / seconds:,.0f} rows/s), "
              f"peak RSS {peak:.0f} MB; CPU {cpu:.1f} s ({cpu / args.rows * 1e6:,.0f} µs a row)")
        print(f"  {line}")
        check_requests(claims, counts, summary, undo=not args.no_undo)
        if bare is not None:
            print(f"  the run at {args.rows / seconds / bare:.2f} x the bare loop")
    raise SystemExit(claims.exit_code())


if __name__ == "__main__":
    main()
