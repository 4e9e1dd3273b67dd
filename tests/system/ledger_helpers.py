"""What the one-ledger tests share: a sheet of leads with notes, its mapping, and counting what reached the sandbox."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from importer.cli.commands import main
from importer.sandbox import SandboxServer

ROOT = Path(__file__).resolve().parents[2]
MAPPING = """version: 1
defaults:
  region: IN
  create_if_missing: true
fields:
  customer_phone: Phone
  first_name: Name
  city: City
  customer_note: {template: "Imported: {Notes}"}
"""


def phone(index: int) -> str:
    return f"+9198450{index:05d}"


def write_files(folder: Path, rows: int, edited: dict[int, str] | None = None) -> tuple[Path, Path]:
    """``leads.csv`` (``rows`` leads, each with a note) and ``nightly.yaml`` in ``folder``; ``edited``: row index →
    another city."""
    folder.mkdir(parents=True, exist_ok=True)
    sheet = folder / "leads.csv"
    with sheet.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["Phone", "Name", "City", "Notes"])
        for index in range(rows):
            city = (edited or {}).get(index, "Pune")
            writer.writerow([phone(index), f"Lead {index}", city, f"called on day {index}"])
    mapping = folder / "nightly.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return sheet, mapping


def upserts(server: SandboxServer) -> int:
    return sum(1 for entry in server.requests() if entry["method"] == "POST" and entry["path"].endswith("/lead"))


def notes_by_lead(server: SandboxServer) -> dict[str, list[str]]:
    return {lead["phones"][0]: lead["notes"] for lead in server.leads() if lead["phones"][0].startswith("+9198450")}


def assert_each_note_once(server: SandboxServer, rows: int) -> None:
    notes = notes_by_lead(server)
    assert notes == {phone(index): [f"Imported: called on day {index}"] for index in range(rows)}


def cli_env(server: SandboxServer, **extra: str) -> dict[str, str]:
    return {**os.environ, "SF_API_KEY": server.api_key, "PYTHONPATH": str(ROOT), **extra}


def run_command(args: list[str], cwd: Path, env: dict[str, str], prelude: str = "",
                timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``superfone-import ARGS`` in a process of its own, started in ``cwd`` (``prelude``: Python run first)."""
    code = f"{prelude}\nimport runpy\nrunpy.run_module('importer', run_name='__main__')"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, encoding="utf-8")


def start_command(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    code = "import runpy\nrunpy.run_module('importer', run_name='__main__')"
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, encoding="utf-8")


def run_args(sheet: Path, mapping: Path, server: SandboxServer, *more: Any) -> list[str]:
    return ["run", str(sheet), "-m", str(mapping), "--base-url", server.base_url, "--rate", "1000", "--quiet",
            *map(str, more)]


def cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, list[str], str]:
    """The command line in-process: its exit code, its output's lines and its error text."""
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err
