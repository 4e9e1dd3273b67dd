"""The sandbox command's library side: it reports where it listens through a callback and prints nothing (the
banner itself is the CLI's, checked end to end in test_server.py)."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from importer.cli.commands import build_parser
from importer.sandbox.command import serve


def test_serve_reports_its_address_once_bound_and_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["sandbox", "--port", "0", "--api-key", "k"]
    args = build_parser(argv).parse_args(argv)
    seen: list[tuple[str, str]] = []

    def ready(base_url: str, api_key: str) -> None:
        seen.append((base_url, api_key))
        address = urlsplit(base_url)
        with socket.create_connection((address.hostname, address.port), timeout=5):
            pass  # the port already accepts connections
        raise KeyboardInterrupt  # Ctrl-C right away: a clean stop

    assert serve(args, on_ready=ready) == 0
    [(base_url, api_key)] = seen
    assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/superfone")
    assert api_key == "k"
    assert capsys.readouterr() == ("", "")


def test_fault_scope_flags() -> None:
    from importer.sandbox.command import config_from_args

    def knobs(*flags: str) -> tuple[bool, bool, bool]:
        argv = ["sandbox", *flags]
        config = config_from_args(build_parser(argv).parse_args(argv))
        return config.fault_upserts, config.fault_tasks, config.fault_reads

    assert knobs() == (True, False, False)
    assert knobs("--fault-tasks", "--spare-upserts") == (False, True, False)
    assert knobs("--fault-reads") == (True, False, True)
