"""A sheet checked in three worker processes imports exactly as it does in one: the same report files, the same
requests on the wire and in the sandbox's log, and the same leads in the end; a dry run writes the same files.

The sheet is over 4 MiB, so both kinds of run cut it into several byte ranges (a real run's ranges are 1 MiB, a
dry run's 4 MiB), with rows whose cells span lines, duplicates far apart and invalid rows in every range.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from urllib3 import HTTPConnectionPool

from benchmarks import make_data
from importer.phones.normalise import Phone, normalise_phone
from importer.run.context.options import RunOptions
from importer.run.journey.pipeline import Importer
from importer.sandbox import SandboxServer

ROWS = 3000
MAPPING = """\
version: 1
defaults:
  region: IN
  create_if_missing: true
fields:
  customer_phone: Phone
  add_phones: [Mobile]
  first_name: First Name
  last_name: Last Name
  email: Email
  business_name: Company
  city: City
  lead_stage_name: {column: Stage, on_invalid: reject}
  add_labels: {column: Tags, split: ";"}
  deal_value: {column: Deal Value, type: number}
  source: Source
  customer_note: {template: "Imported from {Source}: {Notes}"}
"""
#: summary.json fields that depend on the clock, not on the rows.
TIME_FIELDS = ("started_at", "finished_at", "duration_s")
#: Where each run keeps its sync state: a file in its own report folder.
PLACE_FIELDS = ("state", "state_backup")


def history(index: int, row: dict[str, str]) -> str:
    """An unmapped cell of about 1.4 kB over ten lines, with quotes, commas and non-ASCII text."""
    calls = (
        f'Call {index}.{n}: spoke to {row["First Name"]} about the "{row["Stage"]}" quote, ₹{n * 500};\n'
        f"callback मंगलवार 10:{n:02d}, e-mail {row['Email'] or '—'}\n"
        for n in range(10)
    )
    return "".join(calls).strip()


def phone_of(cell: str) -> str:
    """The E.164 form of a valid phone cell."""
    phone = normalise_phone(cell)
    assert isinstance(phone, Phone), cell
    return phone.e164


def note_of(row: dict[str, str]) -> str:
    """The note MAPPING's template makes of a row: without its separator when the Notes cell is empty."""
    return f"Imported from {row['Source']}: {row['Notes']}" if row["Notes"] else f"Imported from {row['Source']}"


def write_sheet(path: Path) -> Path:
    """make_data's leads plus a History column, invalid phones, and duplicates of rows ~1,500 rows earlier
    (other ranges) written in another format."""
    rows = list(make_data.lead_rows(ROWS, seed=11))
    original = [dict(row) for row in rows]
    for index, row in enumerate(rows):
        row["History"] = history(index, row)
        if index % 97 == 13:
            row["Phone"] = "12345"  # invalid-phone
        elif index % 89 == 29:
            row["Phone"] = ""  # missing-phone
        elif index % 113 == 0 and index >= 1500:
            digits = "".join(char for char in original[index - 1499]["Phone"] if char.isdigit())
            row["Phone"] = "+91 " + digits[-10:]  # duplicate-phone: the same lead, typed another way
        elif index % 211 == 5 and index + 700 < ROWS:
            row["Mobile"] = original[index + 700]["Phone"]  # phone-owned-by-other-row, found 700 rows later
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, [*make_data.COLUMNS, "History"])
        writer.writeheader()
        writer.writerows(rows)
    assert path.stat().st_size > 4 * 1024 * 1024
    return path


class WireLog:
    """Every request to the API as it leaves this process: (method, path, body), as urllib3's pool of connections
    sends it (the session's requests and the client's upserts go through it). Observation only: requests go on to
    the sandbox unchanged."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, base_url: str) -> None:
        self.sent: list[tuple[str, str, bytes]] = []
        self._lock = threading.Lock()
        urlopen = HTTPConnectionPool.urlopen

        def recording_urlopen(pool: HTTPConnectionPool, method: str, url: str, body: Any = None, *args: Any,
                              **kwargs: Any) -> Any:
            if base_url.startswith(f"{pool.scheme}://{pool.host}:{pool.port}/"):
                sent = body.encode() if isinstance(body, str) else body or b""
                with self._lock:
                    self.sent.append((method, url, sent))
            return urlopen(pool, method, url, body, *args, **kwargs)

        monkeypatch.setattr(HTTPConnectionPool, "urlopen", recording_urlopen)


@dataclass
class Outcome:
    folder: Path
    summary: dict[str, Any]
    exit_code: int
    wire: Counter[tuple[str, str, bytes]]
    log: Counter[tuple[Any, ...]]
    leads: list[dict[str, Any]]


def import_sheet(sheet: Path, mapping: Path, server: SandboxServer, wire: WireLog, report_dir: Path,
                 workers: int, dry_run: bool = False) -> Outcome:
    server.reset()  # seed state and an empty log
    wire.sent.clear()
    options = RunOptions(base_url=server.base_url, api_key=server.api_key, report_dir=report_dir,
                         rate=1e6, concurrency=8, workers=workers, dry_run=dry_run,
                         state=report_dir / "state.sqlite")  # each run a first run, with a state of its own
    result = Importer(sheet, mapping, options).run()
    # The log's clock readings differ from run to run; what was asked and answered must not.
    log = Counter(tuple(tuple(value) if isinstance(value, list) else value
                        for key, value in entry.items() if key not in ("started", "finished"))
                  for entry in server.requests())
    # Lead ids and timestamps follow the order in which concurrent requests arrived.
    leads = sorted(({key: value for key, value in lead.items() if key not in ("id", "created_at", "updated_at")}
                    for lead in server.leads()), key=lambda lead: lead["phones"])
    return Outcome(result.folder, result.summary, result.exit_code, Counter(wire.sent), log, leads)


def csv_records(path: Path) -> list[list[str]]:
    """The records of a report CSV: the header (BOM included), then the rows sorted, since successes and
    failures are written as answers come back, in an order the sending threads decide."""
    text = path.read_bytes().decode("utf-8")
    header, *rows = csv.reader(io.StringIO(text, newline=""))
    return [header, *sorted(rows)]


def report_files(outcome: Outcome) -> dict[str, Any]:
    """The run folder's files, less what legitimately differs between two runs: the clock and row order."""
    files: dict[str, Any] = {}
    summary = json.loads((outcome.folder / "summary.json").read_text(encoding="utf-8"))
    for path in sorted(outcome.folder.iterdir()):
        if path.name == "summary.json":
            files[path.name] = {key: value for key, value in summary.items()
                                if key not in TIME_FIELDS + PLACE_FIELDS}
            if "requests" in summary:  # the same requests, at other moments and speeds
                files[path.name]["requests"] = {key: value for key, value in summary["requests"].items()
                                                if key not in ("latency_ms", "seconds")}
        elif path.name == "report.html":
            page = path.read_text(encoding="utf-8")
            for key in (*TIME_FIELDS, *PLACE_FIELDS):
                if key in summary:
                    page = page.replace(str(summary[key]), f"<{key}>")
            page = re.sub(r"</h1><p>.*?</p>", "</h1><p><mapping, times></p>", page, count=1)  # in words
            files[path.name] = re.sub(r"<h2>Requests</h2>.*?(?=<h2>)", "<requests>", page, flags=re.S)
        elif path.name == "requests.csv":
            rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
            files[path.name] = {name: sum(int(row[name]) for row in rows) for name in ("sent", "retried", "ok")}
        elif path.name in ("successes.csv", "failures.csv"):
            files[path.name] = csv_records(path)
        else:  # issues.csv and payloads.jsonl are written in sheet order: byte for byte
            files[path.name] = path.read_bytes()
    return files


@pytest.fixture(scope="module")
def sheet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("workers")
    mapping = folder / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return write_sheet(folder / "leads.csv"), mapping


@pytest.mark.parametrize("dry_run", [False, True], ids=["real-run", "dry-run"])
def test_three_workers_import_exactly_as_one(fresh_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path, sheet: tuple[Path, Path], dry_run: bool) -> None:
    wire = WireLog(monkeypatch, fresh_sandbox.base_url)
    one, three = (import_sheet(*sheet, fresh_sandbox, wire, tmp_path / f"workers-{workers}", workers, dry_run)
                  for workers in (1, 3))

    summary = one.summary
    assert summary["rows_total"] == ROWS
    for code in ("invalid-phone", "missing-phone", "phone-owned-by-other-row", "unknown-stage"):
        assert summary["errors_by_code"][code] > 0, code
    assert summary["warnings_by_code"]["duplicate-phone"] > 0 and summary["skipped"] > 0
    posts = sum(count for (method, _, _), count in one.wire.items() if method == "POST")
    assert posts == summary["sent"]  # the wire log sees every upsert (as long as the client sends through urllib3)
    if not dry_run:
        assert summary["sent"] == summary["succeeded"] == summary["valid"] - summary["skipped"]
        # each lead of a row imported holds that row's note, once; no other lead got one
        with (one.folder / "successes.csv").open(encoding="utf-8-sig", newline="") as handle:
            imported = list(csv.DictReader(handle))
        assert len(imported) == summary["succeeded"]
        expected = {phone_of(row["Phone"]): [note_of(row)] for row in imported}
        assert len(expected) == len(imported)
        notes = {lead["phones"][0]: lead["notes"] for lead in one.leads}
        assert {phone: notes[phone] for phone in expected} == expected
        assert [phone for phone, found in notes.items()
                if phone not in expected and any(note.startswith("Imported from") for note in found)] == []

    files_one, files_three = report_files(one), report_files(three)
    assert sorted(files_three) == sorted(files_one)
    for name, content in files_one.items():
        assert files_three[name] == content, f"{name}: three workers wrote another {name} than one"
    assert three.exit_code == one.exit_code
    assert three.wire == one.wire
    assert three.log == one.log
    assert three.leads == one.leads
