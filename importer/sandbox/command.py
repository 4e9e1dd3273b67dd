"""``superfone-import sandbox``: serve the sandbox in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from importer.errors import ConfigError
from importer.sandbox.knobs import SandboxConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the sandbox command's flags."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port, 0 for a free one (default 8765)")
    parser.add_argument("--seed", type=Path, help="seed YAML (default: sample_data/catalog.yaml)")
    parser.add_argument("--api-key", default="demo-key", help="the key clients must send (default demo-key)")
    parser.add_argument("--db", type=Path, help="SQLite file that keeps the leads across restarts")
    parser.add_argument("--rate", type=float, help="requests per second allowed (default: no limit)")
    parser.add_argument("--burst", type=int, help="token bucket size (default: the rate, rounded up)")
    parser.add_argument("--latency-ms", type=float, default=0, help="delay added to every API request")
    for fault, meaning in (
        ("fail-before", "answer POST /lead with 503 without applying it"),
        ("fail-after", "apply POST /lead, then answer 500"),
        ("drop-after", "apply POST /lead, then drop the connection mid-response"),
        ("slow", "apply POST /lead, then answer after --slow-ms"),
    ):
        parser.add_argument(f"--{fault}", type=float, default=0.0, metavar="P", help=f"chance to {meaning}")
    parser.add_argument("--slow-ms", type=float, default=5000, help="delay of a slow answer (default 5000)")
    parser.add_argument("--throttle", type=float, default=0.0, metavar="P",
                        help="chance to answer POST /lead with 429 and Retry-After (see --throttle-retry-after)")
    parser.add_argument("--throttle-retry-after", type=float, default=1.0, metavar="S",
                        help="the Retry-After of those 429s, in seconds; may be fractional (default 1)")
    parser.add_argument("--quota-after", type=int, metavar="N",
                        help="after N requests, answer every one with 429 and --quota-retry-after (a spent quota)")
    parser.add_argument("--quota-retry-after", type=float, default=3600.0, metavar="S",
                        help="the Retry-After of a spent quota, in seconds (default 3600)")
    parser.add_argument("--black-hole", action="store_true", help="accept requests and never answer them")
    parser.add_argument("--fault-seed", type=int, help="seed of the fault draws, for reproducible runs")
    parser.add_argument("--fault-reads", action="store_true", help="let faults hit GET requests too")
    parser.add_argument("--fault-tasks", action="store_true", help="let faults hit task creation too")
    parser.add_argument("--spare-upserts", action="store_true",
                        help="keep faults off POST /lead (with --fault-tasks: only tasks fail)")


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    """The knobs the flags ask for; ConfigError names the bad flag."""
    return SandboxConfig(
        api_key=args.api_key,
        rate=args.rate,
        burst=args.burst,
        latency_ms=args.latency_ms,
        fail_before=args.fail_before,
        fail_after=args.fail_after,
        drop_after=args.drop_after,
        slow=args.slow,
        slow_ms=args.slow_ms,
        throttle=args.throttle,
        throttle_retry_after=args.throttle_retry_after,
        fault_seed=args.fault_seed,
        fault_reads=args.fault_reads,
        fault_tasks=args.fault_tasks,
        fault_upserts=not args.spare_upserts,
        quota_after=args.quota_after,
        quota_retry_after=args.quota_retry_after,
        black_hole=args.black_hole,
    )


def serve(args: argparse.Namespace, on_ready: Callable[[str, str], None]) -> int:
    """Serve until interrupted (Ctrl-C: exit code 0). Once the port is bound, ``on_ready(base_url, api_key)``
    is called, so the caller can tell the user where the sandbox listens."""
    from importer.sandbox.seed import load_seed  # the server stack loads only when this command runs
    from importer.sandbox.server import bind_socket, uvicorn_server
    from importer.sandbox.state import Sandbox

    config = config_from_args(args)
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"sandbox: --port must be between 0 and 65535 (got {args.port})")
    sandbox = Sandbox(config, load_seed(args.seed), args.db)
    try:
        sock = bind_socket(args.host, args.port)
        host = f"[{args.host}]" if ":" in args.host else args.host
        try:
            on_ready(f"http://{host}:{sock.getsockname()[1]}/superfone", config.api_key)
            uvicorn_server(sandbox).run(sockets=[sock])
        except KeyboardInterrupt:
            pass  # Ctrl-C is how the sandbox is meant to stop; uvicorn re-raises it after shutting down
        finally:
            sock.close()
    finally:
        sandbox.close()
    return 0
