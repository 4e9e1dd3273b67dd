"""Parallel checking gives the same report as checking in one process."""

from __future__ import annotations

import csv
import io
import json
import sys
import threading
from pathlib import Path

import pytest

from importer.checks import parallel
from importer.errors import ConfigError
from importer.run.context.options import RunOptions
from importer.run.engine.heartbeat import Heartbeat
from importer.run.journey.pipeline import Importer
from importer.sources import chunks
from importer.threads import only_fork_safe_threads

MAPPING = """\
version: 1
fields:
  customer_phone: Phone
  add_phones: [Mobile]
  first_name: Name
  deal_value: {column: Value, type: number, on_invalid: reject}
  customer_note: {template: "note {Name}"}
"""

def write_sheet(path: Path, rows: int) -> None:
    lines = ["Phone,Mobile,Name,Value"]
    for i in range(rows):
        phone = f"98{i % 700:08d}"  # repeats: duplicate phones across the sheet
        mobile = f"97{i:08d}" if i % 5 == 0 else ""
        value = "n/a" if i % 97 == 0 else str(i)
        name = f'"Name, {i}"' if i % 11 == 0 else f"Lead {i}"
        lines.append(f"{phone},{mobile},{name},{value}")
        if i % 250 == 0:
            lines.append("")  # blank rows are skipped but counted
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def report(sheet: Path, mapping: Path, out: Path, workers: int, on_duplicate: str) -> tuple[dict, str, str]:
    options = RunOptions(dry_run=True, offline=True, report_dir=out, workers=workers,
                         on_duplicate=on_duplicate)  # type: ignore[arg-type]
    result = Importer(sheet, mapping, options).run()
    summary = {k: v for k, v in result.summary.items() if not k.endswith("_at") and k != "duration_s"}
    payloads = (result.folder / "payloads.jsonl").read_text(encoding="utf-8")
    issues = (result.folder / "issues.csv").read_text(encoding="utf-8-sig")
    return summary, payloads, issues


@pytest.mark.parametrize("start", [pytest.param("fork", marks=pytest.mark.skipif(
    sys.platform != "linux", reason="checking processes are forked on Linux only")), "spawn"])
@pytest.mark.parametrize("on_duplicate", ["last", "error"])
def test_two_workers_write_the_same_report_as_one(tmp_path: Path, monkeypatch, on_duplicate: str,
                                                  start: str) -> None:
    monkeypatch.setattr("importer.checks.parallel.start_method", lambda profile_dir=None: start)
    monkeypatch.setattr("importer.sources.chunks.CHUNK_BYTES", 4096)  # many ranges from a small file
    planned = []
    real_plan = chunks.plan_chunks
    monkeypatch.setattr("importer.checks.parallel.plan_chunks",
                        lambda t: planned.append(list(real_plan(t))) or planned[-1])
    sheet, mapping = tmp_path / "leads.csv", tmp_path / "mapping.yaml"
    write_sheet(sheet, 3000)
    mapping.write_text(MAPPING, encoding="utf-8")
    one = report(sheet, mapping, tmp_path / "one", 1, on_duplicate)
    two = report(sheet, mapping, tmp_path / "two", 2, on_duplicate)
    assert one == two
    assert len(planned[0]) > 10  # the workers really read ranges of the file
    summary, payloads, issues = one
    assert summary["rows_total"] == 3000 and summary["invalid"] > 0
    assert "duplicate-phone" in issues and "invalid-number" in issues
    rows = [json.loads(line)["_row"] for line in payloads.splitlines()]
    assert rows == sorted(rows)


DATED = """\
version: 1
defaults: {timezone: UTC}
fields:
  customer_phone: Phone
  additional_info: {column: Due, type: date}
"""


def dated_report(tmp_path: Path, dues: list[str], workers: int) -> tuple[dict, str, str] | str:
    sheet, mapping = tmp_path / "dated.csv", tmp_path / "dated.yaml"
    sheet.write_text("Phone,Due\n" + "".join(f"98{i:08d},{due}\n" for i, due in enumerate(dues)), encoding="utf-8")
    mapping.write_text(DATED, encoding="utf-8")
    try:
        return report(sheet, mapping, tmp_path / f"out{workers}", workers, "last")
    except ConfigError as exc:
        return str(exc)


@pytest.mark.parametrize("late", ["25/01/2024", "01/25/2024"])
def test_date_orders_decided_in_workers_as_in_one_process(tmp_path: Path, monkeypatch, late: str) -> None:
    monkeypatch.setattr("importer.sources.chunks.CHUNK_BYTES", 4096)
    dues = [f"0{1 + i % 9}/0{1 + i % 7}/2024" for i in range(6000)] + [late] + ["03/04/2024"] * 10  # after the
    # first batch of rows: every row decides
    one, two = dated_report(tmp_path, dues, 1), dated_report(tmp_path, dues, 2)
    assert one == two
    assert not isinstance(one, str)
    last = json.loads(one[1].splitlines()[-1])["payload"]["additional_info"]  # 03/04/2024
    assert last == ("2024-04-03" if late == "25/01/2024" else "2024-03-04")


def test_mixed_date_orders_name_the_same_rows_in_workers(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("importer.sources.chunks.CHUNK_BYTES", 4096)
    dues = ["03/04/2024"] * 3000 + ["25/01/2024", "26/01/2024"] + ["03/04/2024"] * 3000 + ["01/25/2024"]
    one, two = dated_report(tmp_path, dues, 1), dated_report(tmp_path, dues, 2)
    assert isinstance(one, str) and one == two
    assert "'25/01/2024' in row 3002" in one and "'01/25/2024' in row 6004" in one


@pytest.mark.parametrize("workers", [1, 2])
def test_repeated_dates_are_cited_at_their_first_rows(tmp_path: Path, monkeypatch, workers: int) -> None:
    """Each process skips the date cells it already looked at; the rows cited are still the first ones."""
    monkeypatch.setattr("importer.sources.chunks.CHUNK_BYTES", 2048)
    ambiguous = ["03/04/2024", "05/06/2024", "07/08/2024"]
    dues = [ambiguous[i % 3] for i in range(2500)] + ["25/01/2024"] + [ambiguous[i % 3] for i in range(2500)]
    dues += ["25/01/2024", "01/25/2024"] * 1200
    message = dated_report(tmp_path, dues, workers)
    assert isinstance(message, str)
    assert f"'25/01/2024' in row {dues.index('25/01/2024') + 2}" in message
    assert f"'01/25/2024' in row {dues.index('01/25/2024') + 2}" in message
    undecided = dated_report(tmp_path, [ambiguous[i % 3] for i in range(6000)], workers)
    assert isinstance(undecided, str)
    assert "'03/04/2024' in row 2 and '05/06/2024' in row 3" in undecided


def test_checking_processes_are_forked_only_beside_threads_that_allow_it(monkeypatch) -> None:
    main = threading.main_thread()
    with Heartbeat(interval=60) as heartbeat:  # it only waits and logs
        assert heartbeat._thread is not None
        assert only_fork_safe_threads([main, heartbeat._thread])
    done = threading.Event()
    other = threading.Thread(target=done.wait)
    other.start()
    try:
        assert not only_fork_safe_threads([main, other])  # a thread that might hold a lock the children need
    finally:
        done.set()
        other.join()
    monkeypatch.setattr(parallel, "only_fork_safe_threads", lambda: True)
    assert parallel.start_method() == ("fork" if sys.platform == "linux" else "spawn")
    assert parallel.start_method(profile_dir="/tmp/profiles") == "spawn"  # a profiler is not copied
    monkeypatch.setattr(parallel, "only_fork_safe_threads", lambda: False)
    assert parallel.start_method() == "spawn"


def test_a_real_run_reports_each_rows_cells_the_same_with_two_workers(tmp_path: Path, monkeypatch,
                                                                      fresh_sandbox) -> None:
    """Two checking processes keep each batch of a range as its text, read back into cells only for the rows a
    report writes (failures, successes): the row files are those of one process, cell for cell."""
    monkeypatch.setattr("importer.sources.chunks.CHUNK_BYTES", 4096)  # many ranges from a small file
    sheet, mapping = tmp_path / "leads.csv", tmp_path / "mapping.yaml"
    lines = ["Phone,Name,Notes"]
    for i in range(400):
        phone = f"98{i:08d}" if i % 13 else "not a phone"
        note = f'"line one, {i}\r\nline ""two"""' if i % 7 == 0 else f"plain {i}"
        lines.append(f"{phone},Lead {i},{note}" if i % 50 else f"{phone},Lead {i}")  # a short record: padded
        if i % 120 == 0:
            lines.append(",,")  # blank: skipped, counted
    sheet.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8", newline="")
    mapping.write_text("version: 1\nfields:\n  customer_phone: Phone\n  first_name: Name\n  customer_note: Notes\n",
                       encoding="utf-8")
    found = []
    for workers in (1, 2):
        options = RunOptions(api_key=fresh_sandbox.api_key, base_url=fresh_sandbox.base_url, rate=1000,
                             report_dir=tmp_path / f"w{workers}", state=tmp_path / f"state{workers}.sqlite",
                             workers=workers, fresh=True)
        folder = Importer(sheet, mapping, options).run().folder
        found.append([sorted(csv.reader(io.StringIO((folder / name).read_bytes().decode("utf-8-sig"), newline="")))
                      for name in ("failures.csv", "successes.csv")])  # sent rows finish in any order
    assert found[0] == found[1]
    failures, successes = found[1]
    assert sum(row[0] == "not a phone" for row in failures) == 31
    assert ["not a phone", "Lead 91", 'line one, 91\r\nline "two"'] in [row[:3] for row in failures]
    assert ["9800000050", "Lead 50", ""] in [row[:3] for row in successes] and len(successes) == 1 + 400 - 31
