"""The report folder: exact file contents, injection safety read back from CSV and XLSX, folder names."""

from __future__ import annotations

import csv
import json
import threading
import tracemalloc
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from importer.errors import ConfigError
from importer.models import Issue, Row
from importer.report import SUMMARY_KEYS, TRIGGERS, ReportWriter, Summary, payload_line, restore, run_folder_name
from importer.report.records import Journaled

IST = timezone(timedelta(hours=5, minutes=30))
STARTED = datetime(2024, 5, 1, 9, 30, 5, tzinfo=IST)
FINISHED = STARTED + timedelta(seconds=12.3456)
BOM = "\ufeff"
COLUMNS = ["Phone", "First Name", "Notes", "_row", "_error"]  # a re-imported failures file
HOSTILE = Row(3, {"Phone": "+919876543210", "First Name": '=HYPERLINK("http://evil")', "Notes": "#N/A"})
PLAIN = Row(2, {"Phone": "9876543211", "First Name": "Ásha", "Notes": "likes, commas"})
ISSUES = [
    Issue(
        3, "First Name", "warning", "formula-like-text", "looks like a formula", '=HYPERLINK("http://evil")'
    ),
    Issue(4, "Phone", "error", "invalid-phone", "not a phone number", "-12"),
    Issue(None, "Stage", "error", "unknown-column", "no such column", ""),
    Issue(5, "Phone", "error", "invalid-phone", "not a phone number", "@abc"),
]
COUNTS = {"rows_total": 4, "valid": 2, "invalid": 2, "sent": 2, "succeeded": 1, "failed": 1}


def summary_of(issues: list[Issue], dry_run: bool = True, **counts: int) -> Summary:
    summary = Summary("in/leads.csv", "m.yaml", dry_run, **{**COUNTS, **counts})  # type: ignore[arg-type]
    summary.count_issues(issues)
    return summary


def starts_with_trigger(cell: str) -> bool:
    return cell[:1] != "" and cell[0] in TRIGGERS


def make_writer(tmp_path: Path, *, dry_run: bool, workbook: bool = False, **kwargs: object) -> ReportWriter:
    options: dict = {"columns": COLUMNS, "workbook": workbook, "dry_run": dry_run, "started_at": STARTED}
    options.update(kwargs)
    return ReportWriter(tmp_path / "reports", Path("in/leads.csv"), **options)


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as stream:
        return list(csv.reader(stream))


def test_dry_run_writes_exactly_these_files(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, dry_run=True)
    writer.add_issues(ISSUES)
    writer.add_payloads(payload_line(2, '{"customer_phone": "+919876543211", "first_name": "Ásha"}'.encode()))
    writer.add_payloads(
        payload_line(3, b'{"customer_phone": "+919876543210"}')
        + payload_line(3, b'{"customer_phone": "+919876543210", "x": 1}')
    )
    writer.add_success(PLAIN)
    writer.add_failure(HOSTILE, "-: bad name")
    folder = writer.finish(summary_of(ISSUES), finished_at=FINISHED)

    assert folder == tmp_path / "reports" / "20240501-093005-leads"
    assert sorted(path.name for path in folder.iterdir()) == [
        "failures.csv",
        "issues.csv",
        "payloads.jsonl",
        "report.html",
        "successes.csv",
        "summary.json",
    ]
    assert (folder / "issues.csv").read_bytes().decode("utf-8") == BOM + (
        "_row,column,severity,code,message,value\r\n"
        '3,First Name,warning,formula-like-text,looks like a formula,"\'=HYPERLINK(""http://evil"")"\r\n'
        "4,Phone,error,invalid-phone,not a phone number,'-12\r\n"
        ",Stage,error,unknown-column,no such column,\r\n"
        "5,Phone,error,invalid-phone,not a phone number,'@abc\r\n"
    )
    assert (folder / "payloads.jsonl").read_text(encoding="utf-8") == (
        '{"_row": 2, "payload": {"customer_phone": "+919876543211", "first_name": "Ásha"}}\n'
        '{"_row": 3, "payload": {"customer_phone": "+919876543210"}}\n'
        '{"_row": 3, "payload": {"customer_phone": "+919876543210", "x": 1}}\n'
    )
    assert (folder / "successes.csv").read_bytes().decode("utf-8") == BOM + (
        'Phone,First Name,Notes,_row\r\n9876543211,Ásha,"likes, commas",2\r\n'
    )
    assert (folder / "failures.csv").read_bytes().decode("utf-8") == BOM + (
        "Phone,First Name,Notes,_row,_error\r\n"
        '\'+919876543210,"\'=HYPERLINK(""http://evil"")",#N/A,3,\'-: bad name\r\n'
    )
    assert (folder / "summary.json").read_text(encoding="utf-8") == (
        "{\n"
        '  "input": "in/leads.csv",\n'
        '  "mapping": "m.yaml",\n'
        '  "dry_run": true,\n'
        '  "started_at": "2024-05-01T09:30:05+05:30",\n'
        '  "finished_at": "2024-05-01T09:30:17.345600+05:30",\n'
        '  "duration_s": 12.346,\n'
        '  "rows_total": 4,\n'
        '  "valid": 2,\n'
        '  "invalid": 2,\n'
        '  "sent": 2,\n'
        '  "succeeded": 1,\n'
        '  "failed": 1,\n'
        '  "in_doubt": 0,\n'
        '  "skipped": 0,\n'
        '  "warnings": 1,\n'
        '  "errors_by_code": {\n'
        '    "invalid-phone": 2,\n'
        '    "unknown-column": 1\n'
        "  },\n"
        '  "warnings_by_code": {\n'
        '    "formula-like-text": 1\n'
        "  }\n"
        "}\n"
    )


def test_real_run_with_workbook_reads_back_safe_and_exact(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, dry_run=False, workbook=True)
    writer.add_payloads(payload_line(2, b'{"customer_phone": "+919876543211"}'))  # real run: not written
    writer.add_success(PLAIN)
    writer.add_failure(HOSTILE, "=cmd|' /C calc'!A0")
    writer.add_failure(Row(9, {"Phone": "-1", "First Name": "\tTab", "Notes": "bell\x07"}), "@SUM(1)")
    summary = Summary("in/leads.csv", "m.yaml", False, rows_total=3, sent=3, succeeded=1, failed=2)
    folder = writer.finish(summary, finished_at=FINISHED)

    assert not (folder / "payloads.jsonl").exists()
    failures = read_csv(folder / "failures.csv")
    assert failures[0] == ["Phone", "First Name", "Notes", "_row", "_error"]
    assert [[restore(cell) for cell in row] for row in failures[1:]] == [
        [*HOSTILE.cells.values(), "3", "=cmd|' /C calc'!A0"],
        ["-1", "\tTab", "bell\x07", "9", "@SUM(1)"],
    ]
    assert not any(starts_with_trigger(cell) for row in failures for cell in row)

    book = openpyxl.load_workbook(folder / "failures.xlsx", read_only=True)
    assert book.sheetnames == ["failures"]
    cells = [cell for row in book["failures"].iter_rows() for cell in row]
    assert {cell.data_type for cell in cells} == {"s"}
    values = [[cell.value for cell in row] for row in book["failures"].iter_rows()]
    book.close()
    assert values == [
        ["Phone", "First Name", "Notes", "_row", "_error"],
        ["'+919876543210", '\'=HYPERLINK("http://evil")', "#N/A", "3", "'=cmd|' /C calc'!A0"],
        ["'-1", "'\tTab", "bell\ufffd", "9", "'@SUM(1)"],
    ]
    calamine = CalamineWorkbook.from_path(str(folder / "failures.xlsx")).get_sheet_by_name("failures")
    assert calamine.to_python() == values
    summary_read = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert list(summary_read) == [*SUMMARY_KEYS, "warnings_by_code", "resumed", "unchanged"]
    assert summary_read["dry_run"] is False and summary_read["errors_by_code"] == {}


def test_files_exist_with_headers_when_nothing_happened(tmp_path: Path) -> None:
    with make_writer(tmp_path, dry_run=True, workbook=True, columns=[]) as writer:
        folder = writer.finish(summary_of([], **dict.fromkeys(COUNTS, 0)))
    assert read_csv(folder / "issues.csv") == [["_row", "column", "severity", "code", "message", "value"]]
    assert read_csv(folder / "successes.csv") == [["_row"]]
    assert read_csv(folder / "failures.csv") == [["_row", "_error"]]
    assert (folder / "payloads.jsonl").read_bytes() == b""
    book = openpyxl.load_workbook(folder / "failures.xlsx", read_only=True)
    assert [[cell.value for cell in row] for row in book["failures"].iter_rows()] == [["_row", "_error"]]
    book.close()


def test_headers_are_neutralised_too(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, dry_run=False, columns=["=Phone", "Name"])
    writer.add_success(Row(2, {"=Phone": "+911", "Name": "A"}))
    writer.close()
    assert read_csv(writer.folder / "successes.csv") == [["'=Phone", "Name", "_row"], ["'+911", "A", "2"]]


def test_folder_names_are_unique(tmp_path: Path) -> None:
    assert run_folder_name(STARTED, "exports/Leads May.xlsx") == "20240501-093005-Leads May"
    folders = []
    for _ in range(3):
        writer = make_writer(tmp_path, dry_run=True)
        writer.close()
        folders.append(writer.folder.name)
    assert folders == ["20240501-093005-leads", "20240501-093005-leads-2", "20240501-093005-leads-3"]


def test_summary_keeps_contract_order_then_the_kinds_keys(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, dry_run=False)
    writer.add_issues(ISSUES[:2])
    summary = summary_of(ISSUES[:2], dry_run=False, skipped=1)
    summary.journal = Journaled("abc")
    folder = writer.finish(summary, finished_at=FINISHED)
    written = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert list(written) == [*SUMMARY_KEYS, "warnings_by_code", "resumed", "unchanged", "journal_key"]
    assert written["warnings"] == 1 and written["warnings_by_code"] == {"formula-like-text": 1}
    assert written["errors_by_code"] == {"invalid-phone": 1}


def test_a_summary_that_is_not_json_is_an_error_but_files_are_closed(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, dry_run=False, workbook=True)
    writer.add_failure(PLAIN, "boom")
    summary = summary_of([], dry_run=False)
    summary.policies = {"city": object()}  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="summary value of type object is not JSON"):
        writer.finish(summary)
    assert not (writer.folder / "summary.json").exists()
    assert read_csv(writer.folder / "failures.csv")[1] == ["9876543211", "Ásha", "likes, commas", "2", "boom"]
    assert (writer.folder / "failures.xlsx").exists()


def test_naive_start_time_is_written_with_a_zone(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, dry_run=True, started_at=datetime(2024, 5, 1, 9, 30))
    folder = writer.finish(summary_of([]), finished_at=datetime(2024, 5, 1, 9, 31, tzinfo=UTC))
    written = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert datetime.fromisoformat(written["started_at"]).tzinfo is not None
    assert folder.name == "20240501-093000-leads"


def test_an_unwritable_report_dir_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "reports"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="cannot write the report in"):
        make_writer(tmp_path, dry_run=True)


def test_summary_invariant() -> None:
    real = Summary(
        "a.csv", "m.yaml", False, rows_total=10, succeeded=5, failed=1, in_doubt=1, skipped=1, invalid=2
    )
    real.check_invariant()
    real.skipped = 0
    with pytest.raises(ValueError, match="rows_total 10 != succeeded 5 \\+ failed 1 .* = 9"):
        real.check_invariant()
    dry = Summary("a.csv", "m.yaml", True, rows_total=3, valid=2, invalid=1)
    dry.check_invariant()
    assert list(dry.as_dict()) == [
        *(key for key in SUMMARY_KEYS if key not in ("started_at", "finished_at", "duration_s")), "warnings_by_code"
    ]
    timed = Summary("a.csv", "m.yaml", True, started_at=STARTED, finished_at=FINISHED, verify_note="z")
    assert list(timed.as_dict()) == [*SUMMARY_KEYS, "warnings_by_code", "verify_note"]
    assert timed.as_dict()["duration_s"] == 12.346


def test_rows_are_streamed_not_held(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, dry_run=False, workbook=True)
    row = Row(2, {"Phone": "+919876543210", "First Name": "Asha" * 10, "Notes": "n" * 100})
    writer.add_failure(row, "warm-up")
    tracemalloc.start()
    for _ in range(1500):
        writer.add_failure(row, "rejected")
        writer.add_success(row)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    writer.close()
    assert peak < 300_000  # 3,000 rows of ~200 bytes of text each would be twice that if they were kept
    assert len(read_csv(writer.folder / "failures.csv")) == 1502


def test_calls_from_several_threads_keep_lines_whole(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, dry_run=True)

    def work(first: int) -> None:
        for number in range(first, first + 300):
            writer.add_failure(Row(number, {"Phone": "+91", "Notes": "x" * 50}), "bad")
            writer.add_payloads(payload_line(number, b'{"customer_phone":"+919876543210"}'))

    threads = [threading.Thread(target=work, args=(start,)) for start in (0, 1000, 2000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    rows = read_csv(writer.folder / "failures.csv")[1:]
    assert sorted(int(row[3]) for row in rows) == [n for s in (0, 1000, 2000) for n in range(s, s + 300)]
    lines = (writer.folder / "payloads.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 900 and all(json.loads(line)["payload"] for line in lines)


def test_report_html_escapes_every_value_and_lists_the_first_issues(tmp_path: Path) -> None:
    from importer.report.html import SHOWN_ISSUES

    writer = ReportWriter(tmp_path, tmp_path / "leads.csv", columns=["Phone"], workbook=False, dry_run=True,
                          started_at=STARTED)
    hostile = "<script>alert('x')</script>"
    writer.add_issues(Issue(n, "Phone", "error", "invalid-phone", f"bad {hostile}", hostile)
                      for n in range(2, SHOWN_ISSUES + 12))
    issues = [Issue(n, "Phone", "error", "invalid-phone", f"bad {hostile}", hostile)
              for n in range(2, SHOWN_ISSUES + 12)]
    folder = writer.finish(summary_of(issues), finished_at=FINISHED)
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert f"The first {SHOWN_ISSUES} of {SHOWN_ISSUES + 10} issues" in page
    assert page.count('<td class="error">error</td>') == SHOWN_ISSUES
    assert "invalid-phone" in page and "m.yaml" in page


def test_unchanged_rows_are_csv_lines_with_the_phone_kept_as_text(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, dry_run=False)
    writer.add_unchanged([2, 5], ["+919876543210", "+14155550100"])
    writer.add_unchanged([], [])
    writer.add_unchanged([7], ['odd,"phone"\n'])  # not E.164: quoted as the csv module quotes it
    folder = writer.finish(summary_of([], dry_run=False, rows_total=3, valid=3, unchanged=3))
    text = (folder / "unchanged.csv").read_bytes().decode("utf-8-sig")
    assert text == "_row,customer_phone\r\n2,'+919876543210\r\n5,'+14155550100\r\n7,\"'odd,\"\"phone\"\"\n\"\r\n"
    assert read_csv(folder / "unchanged.csv")[1:] == [["2", "'+919876543210"], ["5", "'+14155550100"],
                                                      ["7", "'odd,\"phone\"\n"]]
