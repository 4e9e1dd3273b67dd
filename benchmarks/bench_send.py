"""Sending throughput against local sandboxes: prints rows/s, lost rows and 429s for two scenarios.

    .venv/bin/python benchmarks/bench_send.py            # both scenarios
    .venv/bin/python benchmarks/bench_send.py --only b   # just the unlimited one

(a) the server limited to 50 req/s (burst 10) with 200 ms latency, 3,000 rows: the sender must run at the
    server's limit (>= 47.5 rows/s) without losing a row;
(b) no limit, no latency, 5,000 rows: the sender must not be the bottleneck (>= 800 rows/s).
The sandbox runs in a child process (as a real server would run elsewhere), so the sender's own cost is what
is measured; the "sender CPU" figure is this process's CPU time per request. --in-process serves it from a
thread here instead (client and server then share one GIL).
The client records every request in a RequestTimeline, as a real run's does (``--no-timeline`` to compare); the
last line prints what recording one request costs on its own. Every HTTP request the sandbox received is printed
by method and endpoint, and the load average before and after. Exits 1 when a scenario misses its target, loses a
row, or sends other than one upsert a row (and one more for each 429).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import sys
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from importer.api.client import SuperfoneClient
from importer.api.timeline import RequestTimeline, request_kind
from importer.run.engine.sending import Sender
from importer.run.engine.work import Job, Outcome
from importer.sandbox import SandboxConfig, SandboxServer
from importer.sandbox.knobs import endpoint

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.measure import load_watch  # noqa: E402

API_KEY = "bench-key"


@dataclass
class Scenario:
    name: str
    rows: int
    server: dict[str, Any]
    rate: float
    concurrency: int
    target: float


def jobs(rows: int) -> list[Job]:
    """Payloads built in memory: one new lead per row, with a note and a label."""
    result = []
    for row in range(2, rows + 2):
        phone = f"+9197{row:08d}"
        payload = {
            "customer_phone": phone,
            "create_customer_if_customer_phone_not_found": True,
            "first_name": f"Lead {row}",
            "add_labels": ["Hot"],
            "customer_note": f"Imported by the benchmark, row {row}",
        }
        result.append(Job(row, (payload,), frozenset({phone})))
    return result


def serve(config: SandboxConfig, commands: Connection) -> None:
    """Child process: run a sandbox and answer "requests", "leads" and "stop" over a pipe."""
    with SandboxServer(config) as server:
        commands.send(server.base_url)
        while (command := commands.recv()) != "stop":
            commands.send(server.requests() if command == "requests" else server.leads())


class SandboxProcess:
    """A SandboxServer in a child process, so its CPU does not compete with the sender for one GIL."""

    def __init__(self, config: SandboxConfig) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=serve, args=(config, child), daemon=True)

    def __enter__(self) -> SandboxProcess:
        self._process.start()
        self.base_url: str = self._pipe.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._pipe.send("stop")
        self._process.join(10)

    def requests(self) -> list[dict[str, Any]]:
        self._pipe.send("requests")
        result: list[dict[str, Any]] = self._pipe.recv()
        return result

    def leads(self) -> list[dict[str, Any]]:
        self._pipe.send("leads")
        result: list[dict[str, Any]] = self._pipe.recv()
        return result


def run(scenario: Scenario, in_process: bool, timeline: bool) -> bool:
    config = SandboxConfig(api_key=API_KEY, log_limit=max(10_000, scenario.rows * 4), **scenario.server)
    server: Any = SandboxServer(config) if in_process else SandboxProcess(config)
    observer = RequestTimeline() if timeline else None
    with server, SuperfoneClient(server.base_url, API_KEY, pool_size=scenario.concurrency,
                                 observer=observer) as client:
        work = jobs(scenario.rows)
        outcomes: dict[int, Outcome] = {}
        sender = Sender(client, rate=scenario.rate, concurrency=scenario.concurrency)
        started, cpu_started = time.perf_counter(), time.process_time()
        sender.run(work, on_start=lambda job: None, on_outcome=lambda o: outcomes.__setitem__(o.row, o))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        log = server.requests()
        stored = {phone for lead in server.leads() for phone in lead["phones"]}
    succeeded = sum(1 for o in outcomes.values() if o.status == "succeeded")
    lost = sum(1 for job in work if outcomes.get(job.row) is None or not job.phones <= stored)
    throttled = sum(1 for entry in log if entry["status"] == 429)
    counts = Counter(endpoint(entry["method"], entry["path"]) for entry in log)
    one_a_row = dict(counts) == {"POST /enterprise/api/lead": scenario.rows + throttled}
    rows_per_s = scenario.rows / elapsed
    ok = rows_per_s >= scenario.target and lost == 0 and succeeded == scenario.rows and one_a_row
    where = "in-process" if in_process else "separate process"
    print(
        f"{scenario.name}: {scenario.rows} rows in {elapsed:.2f} s = {rows_per_s:.1f} rows/s "
        f"(target >= {scenario.target:g}); succeeded {succeeded}, lost {lost}, 429s {throttled}, "
        f"requests {len(log)}, concurrency {scenario.concurrency}, sandbox {where}, "
        f"sender CPU {cpu / len(log) * 1e6:.0f} us/request -> {'PASS' if ok else 'FAIL'}"
    )
    print(f"    sandbox received {len(log):,} requests: "
          + ", ".join(f"{count:,} {name}" for name, count in counts.most_common())
          + f" ({'one upsert a row, one more a 429' if one_a_row else 'NOT one upsert a row and one more a 429'})")
    if observer is not None:
        recorded = observer.record().summary()
        print(f"    timeline: {recorded['total']} requests recorded, latency p50 {recorded['latency_ms']['p50']} ms, "
              f"p95 {recorded['latency_ms']['p95']} ms, max {recorded['latency_ms']['max']} ms")
    return ok


def timeline_cost(requests: int = 200_000) -> float:
    """Microseconds of CPU time one request costs the timeline (one thread, no contention): telling its kind
    from its path, and recording it."""
    timeline = RequestTimeline()
    origin = time.perf_counter()
    started = time.process_time()
    for n in range(requests):
        kind = request_kind("POST", "/enterprise/api/lead")
        timeline.request_done(kind, 200 if n % 20 else 429, origin + n / 1500, 0.0005 + (n % 50) / 1e4)
    return (time.process_time() - started) / requests * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("a", "b"))
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rows-limited", type=int, default=3000)
    parser.add_argument("--rows-unlimited", type=int, default=5000)
    parser.add_argument("--in-process", action="store_true", help="serve the sandbox from a thread of this process")
    parser.add_argument("--no-timeline", action="store_true", help="do not record the requests (as before 0.2)")
    args = parser.parse_args(argv)
    scenarios = {
        "a": Scenario(
            "(a) limited 50/s burst 10, latency 200 ms",
            args.rows_limited,
            {"rate": 50, "burst": 10, "latency_ms": 200},
            rate=50.0,
            concurrency=args.concurrency,
            target=47.5,
        ),
        "b": Scenario(
            "(b) unlimited, no latency",
            args.rows_unlimited,
            {},
            rate=math.inf,
            concurrency=args.concurrency,
            target=800.0,
        ),
    }
    chosen = [scenarios[args.only]] if args.only else list(scenarios.values())
    with load_watch():
        results = [run(scenario, args.in_process, not args.no_timeline) for scenario in chosen]
        print(f"recording one request in the timeline: {timeline_cost():.2f} us of CPU")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
