"""What the source tests share: a mapping, a small sheet, running the command line in-process into the sandbox,
and looking for secrets (canaries) everywhere a run writes or prints."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from importer.cli.commands import main
from importer.sandbox import SandboxServer

MAPPING = "version: 1\ndefaults:\n  region: IN\nfields:\n  customer_phone: Phone\n  first_name: Name\n"
PHONES = ("+919700000101", "+919700000102")


def sheet_text(phones: tuple[str, ...] = PHONES, name: str = "Asha") -> str:
    return "Phone,Name\r\n" + "".join(f"{phone},{name}\r\n" for phone in phones)


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    logged: str
    folder: Path

    def report(self) -> Path:
        """The run folder named by the last line (``report: <folder>``)."""
        last = self.out.strip().splitlines()[-1]
        assert last.startswith("report: "), self.out
        return Path(last.removeprefix("report: "))


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


@pytest.fixture
def cli(tmp_path: Path, mapping: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> Callable[..., Outcome]:
    """``cli(command, source, server=None, *extra)``: the command line run in-process (debug logging on, a log
    file), into ``server`` when given (else ``--offline``)."""
    caplog.set_level(logging.DEBUG)
    reports = tmp_path / "reports"

    def run(command: str, source: str, server: SandboxServer | None = None, *extra: str) -> Outcome:
        target = ["--base-url", server.base_url] if server else ["--offline"]
        if server is not None:
            monkeypatch.setenv("SF_API_KEY", server.api_key)
        argv = [command, source, "-m", str(mapping), *target, "--report-dir", str(reports), "-v",
                "--log-file", str(reports / "run.log"), *extra]
        caplog.clear()
        code = main(argv)
        out, err = capsys.readouterr()
        logged = "\n".join(f"{record.getMessage()} {record.exc_text or ''}" for record in caplog.records)
        return Outcome(code, out, err, logged, reports)

    return run


def leads_of(server: SandboxServer) -> dict[str, dict[str, Any]]:
    """The sandbox's leads by primary phone (queried through its admin API)."""
    import requests

    return {lead["phones"][0]: lead for lead in requests.get(f"{server.admin_url}/leads", timeout=10).json()}


def assert_nowhere(canaries: list[str], outcome: Outcome, *texts: str) -> int:
    """No canary in the output, errors, log records, ``texts`` or any file the runs wrote; the files checked."""
    everything = [outcome.out, outcome.err, outcome.logged, *texts]
    for canary in canaries:
        assert canary
        for text in everything:
            assert canary not in text
    checked = 0
    if outcome.folder.exists():
        for path in outcome.folder.rglob("*"):
            if path.is_file():
                checked += 1
                data = path.read_bytes()
                for canary in canaries:
                    assert canary.encode() not in data, path
    return checked


def one_error_line(outcome: Outcome) -> str:
    """A fatal run: exit 2, exactly one line on stderr and no traceback; that line."""
    assert outcome.code == 2, (outcome.out, outcome.err)
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1, outcome.err
    assert "Traceback" not in outcome.err + outcome.out
    assert lines[0].startswith("superfone-import: error: ")
    return lines[0]
