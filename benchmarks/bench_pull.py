"""pull against the sandbox's source CRMs (served from a child process): calls per second, 429s, misses.

    python benchmarks/bench_pull.py                      # LeadSquared: 150 phones at its documented 25 per 5 s
    python benchmarks/bench_pull.py --pollybot 2000      # PollyBot: 2,000 ids at --rate 200

LeadSquared: the figure to expect is the documented limit itself (5 calls/s, paced at 25 per 5.1 s), with no 429
from the sandbox's sliding window of 25 calls in 5 s. PollyBot documents no limit; the figure is pull's own cost.
Every HTTP call the sandbox's source CRMs received is printed, by status, and the load average before and after.
Exits 1 when the sandbox saw other calls than pull counted, or LeadSquared answered a 429.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import measure  # noqa: E402
from benchmarks.bench_import import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def start_sandbox(port: int) -> subprocess.Popen[bytes]:
    import socket

    server = subprocess.Popen([sys.executable, "-m", "importer", "sandbox", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the sandbox did not start")


def pull(source: str, keys: list[str], port: int, folder: Path, extra: list[str]) -> tuple[float, dict[str, int]]:
    sheet = folder / f"{source}.csv"
    sheet.write_text(("Phone\n" if source == "leadsquared" else "id\n") + "\n".join(keys) + "\n", encoding="utf-8")
    flag = "--phones" if source == "leadsquared" else "--ids"
    env = {**os.environ, "LSQ_HOST": f"http://127.0.0.1:{port}/leadsquared", "LSQ_ACCESS_KEY": "demo-access-key",
           "LSQ_SECRET_KEY": "demo-secret-key", "POLLYBOT_BASE_URL": f"http://127.0.0.1:{port}/pollybot",
           "POLLYBOT_API_KEY": "sk-workspace_demo"}
    command = [sys.executable, "-m", "importer", "pull", source, flag, str(sheet), "--out",
               str(folder / f"{source}.jsonl"), "--report-dir", str(folder / "reports"), "--quiet", *extra]
    started = time.perf_counter()
    finished = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    if finished.returncode not in (0, 1):
        raise SystemExit(f"pull failed: {finished.stderr.strip()}")
    report = finished.stdout.strip().splitlines()[-1].removeprefix("report: ")
    summary: dict[str, int] = json.loads((Path(report) / "summary.json").read_text(encoding="utf-8"))
    return seconds, summary


def source_calls(port: int, source: str) -> Counter[int]:
    """The calls the sandbox's ``source`` CRM received since its reset, by status."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__sandbox/sources/requests", timeout=60) as answer:
        return Counter(call["status"] for call in json.load(answer)[source])


def check_calls(claims: measure.Claims, name: str, calls: Counter[int], summary: dict[str, int]) -> None:
    print(f"    sandbox received {sum(calls.values()):,} calls: "
          + ", ".join(f"{count:,} answered {status}" for status, count in sorted(calls.items())))
    claims.check(sum(calls.values()) == summary["requests"],
                 f"{name}: the sandbox received the {summary['requests']:,} calls pull counted")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leadsquared", type=int, default=150, metavar="N", help="phones to pull (default 150)")
    parser.add_argument("--pollybot", type=int, default=0, metavar="N", help="ids to pull (default: none)")
    parser.add_argument("--rate", type=float, default=200.0, help="pull's --rate for PollyBot (default 200)")
    args = parser.parse_args()
    claims = measure.Claims()
    port = free_port()
    server = start_sandbox(port)
    try:
        with measure.load_watch(), tempfile.TemporaryDirectory() as directory:
            folder = Path(directory)
            if args.leadsquared:
                phones = [f"98450{index:05d}" for index in range(args.leadsquared)]
                seconds, s = pull("leadsquared", phones, port, folder, [])
                print(f"LeadSquared: {s['requests']} calls in {seconds:.1f} s = {s['requests'] / seconds:.2f} calls/s "
                      f"(documented limit: 5/s); {s['throttled']} × 429; {s['pulled']} pulled, {s['missed']} missed")
                calls = source_calls(port, "leadsquared")
                check_calls(claims, "LeadSquared", calls, s)
                claims.check(calls[429] == 0, "LeadSquared: no 429 (pull keeps to the documented limit)")
            if args.pollybot:
                ids = [f"lead_bench{index:08d}" for index in range(args.pollybot)]
                seconds, s = pull("pollybot", ids, port, folder, ["--rate", str(args.rate)])
                print(f"PollyBot: {s['requests']} calls in {seconds:.1f} s = {s['requests'] / seconds:.1f} calls/s "
                      f"(--rate {args.rate:g}); {s['missed']} missed")
                check_calls(claims, "PollyBot", source_calls(port, "pollybot"), s)
    finally:
        server.terminate()
        server.wait()
    raise SystemExit(claims.exit_code())

if __name__ == "__main__":
    main()
