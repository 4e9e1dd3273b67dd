"""Dates end to end through the command line: a workbook with date cells beside dates typed as text, and a column
whose dates fit both day/month orders (exit 2, one line, nothing sent)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import xlsxwriter

from importer.sandbox import SandboxServer
from tests.system.test_hostile_inputs import Finished, assert_refused, posts, run_boxed

MAPPING = """\
version: 1
defaults: {timezone: Asia/Kolkata}
fields:
  customer_phone: Phone
  first_name: Name
  additional_info: {column: Follow-up, type: datetime}
  source: {column: Since, type: date}
"""


def run_against(server: SandboxServer, sheet: Path, mapping: Path, folder: Path) -> Finished:
    """``superfone-import run`` into the sandbox in a process of its own (generous time: a shared machine)."""
    env = {**os.environ, "SF_API_KEY": server.api_key}
    env.pop("SF_BASE_URL", None)
    args = ["run", str(sheet), "-m", str(mapping), "--base-url", server.base_url, "--report-dir",
            str(folder / "reports"), "--rate", "500", "--quiet"]
    return run_boxed(args, env, folder, timeout=120)


def write_workbook(path: Path) -> None:
    """Follow-up holds real date cells, Excel serials and month-first text; Since real dates and named months."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Leads")
    stamp = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    day = book.add_format({"num_format": "d mmm yyyy"})
    sheet.write_row(0, 0, ["Phone", "Name", "Follow-up", "Since"])
    rows = [
        ("+919700000001", "Asha", dt.datetime(2026, 5, 20, 15, 0), dt.date(2024, 1, 20)),
        ("+919700000002", "Ravi", "03/04/2026 10:30", "Jan 5, 2024"),
        ("+919700000003", "Meena", "12/25/2026", "2024-02-29"),  # the one that makes the column mm/dd
        ("+919700000004", "Kiran", 46161.75, "tomorrow"),  # an Excel serial typed as a number; a bad date
    ]
    for index, (phone, name, follow_up, since) in enumerate(rows, start=1):
        sheet.write_string(index, 0, phone)
        sheet.write_string(index, 1, name)
        if isinstance(follow_up, dt.datetime):
            sheet.write_datetime(index, 2, follow_up, stamp)
        else:
            sheet.write(index, 2, follow_up)
        if isinstance(since, dt.date):
            sheet.write_datetime(index, 3, dt.datetime.combine(since, dt.time()), day)
        else:
            sheet.write(index, 3, since)
    book.close()


def test_a_workbook_with_date_cells_is_imported_with_utc_times(fresh_sandbox, tmp_path: Path) -> None:
    sheet = tmp_path / "leads.xlsx"
    write_workbook(sheet)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    finished = run_against(fresh_sandbox, sheet, mapping, tmp_path)
    assert finished.code == 0, finished.stderr  # the row with "tomorrow" is sent without that date
    assert "leads.xlsx: 4 rows: 4 succeeded, 0 failed, 0 in doubt, 0 skipped, 0 invalid" in finished.stdout
    got = {}
    for number in "1234":
        lead = fresh_sandbox.lead(f"+91970000000{number}")
        if lead is not None:
            got[number] = (lead["additional_info"], lead["source"])
    assert got.pop("4")[1] is None  # "tomorrow" was left out
    assert got == {
        "1": ("2026-05-20T09:30:00Z", "2024-01-20"),  # a date cell, 15:00 in Kolkata
        "2": ("2026-03-04T05:00:00Z", "2024-01-05"),  # 03/04 read month-first, like the rest of its column
        "3": ("2026-12-24T18:30:00Z", "2024-02-29"),
    }
    issues = next((tmp_path / "reports").glob("*-leads")) / "issues.csv"
    assert "5,Since,warning,invalid-date,\"'tomorrow' is not a date" in issues.read_text(encoding="utf-8-sig")


def test_a_column_whose_dates_fit_both_orders_stops_the_run(fresh_sandbox, tmp_path: Path) -> None:
    sheet = tmp_path / "leads.csv"
    sheet.write_text("Phone,Name,Follow-up,Since\r\n+919700000001,Asha,03/04/2026,\r\n"
                     "+919700000002,Ravi,2026-05-01,\r\n+919700000003,Meena,05/06/2026 10:00,\r\n", encoding="utf-8")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    finished = run_against(fresh_sandbox, sheet, mapping, tmp_path)
    line = assert_refused(finished, str(mapping))
    assert line == (f"superfone-import: error: {mapping}:6: fields.additional_info: column 'Follow-up' of leads.csv: "
                    "its dates fit both dd/mm/yyyy and mm/dd/yyyy ('03/04/2026' in row 2 and '05/06/2026 10:00' in "
                    'row 4); add date_format: "%d/%m/%Y" or date_format: "%m/%d/%Y" to say which')
    assert posts(fresh_sandbox) == []
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").glob("*-leads"))
