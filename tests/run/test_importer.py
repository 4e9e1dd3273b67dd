"""Real imports into the sandbox: resume after kill -9, faults that never duplicate a note, --retry-failed,
and re-importing failures.csv as is."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from importer.api.retry import RetryPolicy
from importer.run.context.options import RunOptions
from importer.run.journey.pipeline import Importer

ROOT = Path(__file__).resolve().parents[2]
MAPPING = """\
version: 1
fields:
  customer_phone: Phone
  first_name: Name
  customer_note: {template: "note for {Name}"}
"""


FAST_RETRY = RetryPolicy(max_attempts=2, base=0.001, cap=0.01)


def write_sheet(folder: Path, rows: int, start: int = 0) -> tuple[Path, Path]:
    sheet = folder / "leads.csv"
    with sheet.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["Phone", "Name"])
        for i in range(start, start + rows):
            out.writerow([f"+9197{i:08d}", f"Lead {i}"])
    mapping = folder / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return sheet, mapping


def run(sheet: Path, mapping: Path, server, report_dir: Path, **options) -> dict:
    opts = RunOptions(base_url=server.base_url, api_key=server.api_key, report_dir=report_dir, rate=500.0,
                      concurrency=8, **options)
    result = Importer(sheet, mapping, opts).run()
    return result.summary | {"exit_code": result.exit_code, "folder": result.folder}


def notes_by_phone(server) -> dict[str, list[str]]:
    return {lead["phones"][0]: lead["notes"] for lead in server.leads()}


def test_faults_never_add_a_note_twice(fresh_sandbox, tmp_path: Path) -> None:
    sheet, mapping = write_sheet(tmp_path, 200)
    fresh_sandbox.configure(fail_before=0.2, fail_after=0.05, drop_after=0.05, fault_seed=7)
    # Enough attempts that no row runs out of them by chance: each in-doubt row ends in doubt for its note only.
    summary = run(sheet, mapping, fresh_sandbox, tmp_path / "reports",
                  retry=RetryPolicy(max_attempts=12, base=0.001, cap=0.01))
    assert summary["rows_total"] == 200
    assert summary["succeeded"] + summary["failed"] + summary["in_doubt"] == 200
    notes = notes_by_phone(fresh_sandbox)
    for i in range(200):
        assert len(notes.get(f"+9197{i:08d}", [])) <= 1
    assert summary["in_doubt"] > 0  # fail_after / drop_after happened and were reported honestly
    with (summary["folder"] / "failures.csv").open(encoding="utf-8-sig") as f:
        failures = list(csv.DictReader(f))
    assert len(failures) == summary["failed"] + summary["in_doubt"]
    doubt = [row for row in failures if row["_error"] == "note may not have been added"]
    assert len(doubt) == summary["in_doubt"]


def test_same_command_after_a_finished_run_sends_nothing(fresh_sandbox, tmp_path: Path) -> None:
    sheet, mapping = write_sheet(tmp_path, 20)
    first = run(sheet, mapping, fresh_sandbox, tmp_path / "reports")
    assert first["succeeded"] == 20 and first["exit_code"] == 0
    fresh_sandbox.clear_requests()
    second = run(sheet, mapping, fresh_sandbox, tmp_path / "reports")
    assert second["unchanged"] == 20 and second["resumed"] == 0 and second["sent"] == 0
    assert [r for r in fresh_sandbox.requests() if r["method"] == "POST"] == []
    third = run(sheet, mapping, fresh_sandbox, tmp_path / "reports", fresh=True, full=True)
    assert third["sent"] == 20
    assert sorted(len(n) for n in notes_by_phone(fresh_sandbox).values() if n and n[0].startswith("note for")) \
        == [1] * 20  # --full sends every row again, but a note never twice


def test_retry_failed_sends_only_that_runs_failures(fresh_sandbox, tmp_path: Path) -> None:
    sheet, mapping = write_sheet(tmp_path, 30)
    fresh_sandbox.configure(fail_before=1.0)
    first = run(sheet, mapping, fresh_sandbox, tmp_path / "reports", retry=FAST_RETRY)
    assert first["failed"] == 30
    fresh_sandbox.configure(fail_before=0.0)
    fresh_sandbox.clear_requests()
    second = run(sheet, mapping, fresh_sandbox, tmp_path / "reports", retry_failed=first["folder"])
    assert second["succeeded"] == 30 and second["sent"] == 30
    posts = [r for r in fresh_sandbox.requests() if r["method"] == "POST"]
    assert len(posts) == 30


def test_failures_csv_reimports_as_is(fresh_sandbox, tmp_path: Path) -> None:
    sheet = tmp_path / "leads.csv"
    sheet.write_text("Phone,Name,Stage\n+919700000001,Ok,New Lead\n+919700000002,Bad,Nope\n"
                     "+919700000003,-Dash,New Lead\n", encoding="utf-8")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("version: 1\nfields:\n  customer_phone: Phone\n  first_name: Name\n"
                       "  lead_stage_name: {column: Stage, on_invalid: reject}\n", encoding="utf-8")
    fresh_sandbox.configure(fail_before=1.0)  # every valid row fails at the server
    first = run(sheet, mapping, fresh_sandbox, tmp_path / "reports", retry=FAST_RETRY)
    assert (first["failed"], first["invalid"]) == (2, 1)
    fresh_sandbox.configure(fail_before=0.0)
    failures = first["folder"] / "failures.csv"
    text = failures.read_text(encoding="utf-8-sig")
    assert "'+919700000001" in text and "'-Dash" in text  # neutralised for spreadsheets
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(text.replace("Nope", "Won"), encoding="utf-8")
    second = run(fixed, mapping, fresh_sandbox, tmp_path / "reports")
    assert second["rows_total"] == 3 and second["succeeded"] == 3 and second["exit_code"] == 0
    assert fresh_sandbox.lead("+919700000002")["lead_stage"] == "Won"
    assert fresh_sandbox.lead("+919700000003")["first_name"] == "-Dash"


def _posts(server) -> int:
    return sum(1 for r in server.requests() if r["method"] == "POST")


@pytest.mark.slow
def test_kill_9_mid_run_then_resume_to_a_complete_result(fresh_sandbox, tmp_path: Path) -> None:
    rows, concurrency = 300, 4
    sheet, mapping = write_sheet(tmp_path, rows)
    fresh_sandbox.configure(latency_ms=20)
    command = [sys.executable, "-m", "importer", "run", str(sheet), "-m", str(mapping), "--base-url",
               fresh_sandbox.base_url, "--report-dir", str(tmp_path / "reports"), "--rate", "200",
               "--concurrency", str(concurrency), "--quiet"]
    env = {**os.environ, "SF_API_KEY": fresh_sandbox.api_key}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while _posts(fresh_sandbox) < 80 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert _posts(fresh_sandbox) < rows, "the run finished before it could be killed"
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    folder = Path(done.stdout.strip().splitlines()[-1].removeprefix("report: "))
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["resumed"] > 0
    assert summary["succeeded"] + summary["in_doubt"] == rows and summary["failed"] == 0
    assert summary["in_doubt"] <= concurrency
    notes = notes_by_phone(fresh_sandbox)
    assert all(len(notes[f"+9197{i:08d}"]) <= 1 for i in range(rows))
    assert Counter(len(n) for n in notes.values() if n and n[0].startswith("note"))[1] >= rows - concurrency


class Phases:
    """A Progress that records the phases a run goes through and the rows each one counted."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.started: list[str] = []
        self._phase = ""

    def start(self, phase: str, total: int | None) -> None:
        self._phase = phase
        self.seen[phase] = 0
        self.started.append(phase)

    def advance(self, done: int = 1, failed: int = 0) -> None:
        self.seen[self._phase] += done

    def finish(self) -> None:
        pass


@pytest.mark.parametrize("first", [300, 6000])  # the deciding date within the first batch of rows, or after it
def test_date_columns_are_decided_by_every_row_as_it_is_checked_in_worker_processes(tmp_path: Path,
                                                                                   first: int) -> None:
    sheet = tmp_path / "leads.csv"
    rows = [f"+9197{i:08d},03/04/2026 10:00" for i in range(first)] + ["+919800000001,25/12/2026"]
    sheet.write_text("Phone,Follow-up\n" + "\n".join(rows) + "\n", encoding="utf-8")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("version: 1\ndefaults: {timezone: UTC}\nfields:\n  customer_phone: Phone\n"
                       "  additional_info: {column: Follow-up, type: datetime}\n", encoding="utf-8")
    phases = Phases()
    options = RunOptions(dry_run=True, offline=True, report_dir=tmp_path, workers=2)
    result = Importer(sheet, mapping, options, phases).run()
    assert result.exit_code == 0
    # the sheet's first rows show the order, or the rows are checked again once every row has shown it
    assert phases.started.count("checking") == (1 if first < 5000 else 2)
    assert phases.seen["checking"] == first + 1
    payloads = [json.loads(line) for line in (result.folder / "payloads.jsonl").read_text().splitlines()]
    assert {p["payload"]["additional_info"] for p in payloads} == {"2026-04-03T10:00:00Z", "2026-12-25T00:00:00Z"}
