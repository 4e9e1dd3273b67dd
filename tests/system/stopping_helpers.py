"""What the stopping tests share: a sheet whose every row carries a note, the command that imports it, and the
checks every scenario ends with (a complete report; after the follow-up run, every lead holds its note once)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from importer.sandbox import SandboxServer

MAPPING = """\
version: 1
fields:
  customer_phone: Phone
  first_name: Name
  customer_note: {template: "stop note for {Name}"}
"""
REPORT_FILES = ("summary.json", "report.html", "issues.csv", "successes.csv", "failures.csv")


def write_sheet(folder: Path, rows: int) -> tuple[Path, Path]:
    sheet = folder / "leads.csv"
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["Phone", "Name"])
        for i in range(rows):
            out.writerow([phone(i), f"Lead {i}"])
    mapping = folder / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return sheet, mapping


def phone(i: int) -> str:
    return f"+9197{i:08d}"


def command(server: SandboxServer, sheet: Path, mapping: Path, report_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "importer", "run", str(sheet), "-m", str(mapping), "--base-url", server.base_url,
            "--report-dir", str(report_dir), "--quiet", *extra]


def environment(server: SandboxServer) -> dict[str, str]:
    return {**os.environ, "SF_API_KEY": server.api_key}


def run(server: SandboxServer, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=environment(server), capture_output=True, text=True, timeout=timeout)


def started_sending(server: SandboxServer, process: subprocess.Popen[str], posts: int = 1,
                    timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if sum(entry["method"] == "POST" for entry in server.requests()) >= posts:
            return True
        time.sleep(0.01)
    return False


def report_folder(stdout: str) -> Path:
    last = stdout.strip().splitlines()[-1]
    assert last.startswith("report: "), stdout
    return Path(last.removeprefix("report: "))


def stopped_report(stdout: str, reason: str) -> dict[str, Any]:
    """The report of a run that stopped for ``reason``: complete, adding up, and its stop line printed."""
    folder = report_folder(stdout)
    assert all((folder / name).is_file() for name in REPORT_FILES), sorted(p.name for p in folder.iterdir())
    summary: dict[str, Any] = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["stopped"] == reason
    parts = ("succeeded", "failed", "in_doubt", "skipped", "invalid", "unchanged", "rows_left")
    assert summary["rows_total"] == sum(summary[key] for key in parts), summary
    assert f"stopped ({reason}): " in stdout and f"{summary['rows_left']} row" in stdout
    assert "run the same command again" in stdout
    return summary


def posts(server: SandboxServer) -> list[dict[str, Any]]:
    return [entry for entry in server.requests() if entry["method"] == "POST"]


def assert_every_note_once(server: SandboxServer, rows: int) -> None:
    """Every row's lead exists with its name and holds its note exactly once."""
    leads = {lead["phones"][0]: lead for lead in server.leads() if lead["phones"]}
    for i in range(rows):
        lead = leads[phone(i)]
        assert lead["first_name"] == f"Lead {i}"
        assert len(lead["notes"]) == 1, (i, lead["notes"])


def follow_up(server: SandboxServer, args: list[str], left: int) -> subprocess.CompletedProcess[str]:
    """The same command again: it finishes (exit 0) sending only the rows the stopped run left."""
    server.clear_requests()
    done = run(server, args)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert len(posts(server)) == left
    return done
