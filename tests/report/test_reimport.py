"""failures.csv and failures.xlsx read back through the importer's own readers, as a rerun would."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from importer.models import Row
from importer.phones.normalise import Phone, normalise_phone
from importer.report import ReportWriter, restore
from importer.sources import open_table

ORIGINAL = [
    Row(2, {"Phone": "+919876543210", "Name": "Ásha", "Deal": "-1500", "Note": '=HYPERLINK("x")'}),
    Row(5, {"Phone": "09876543211", "Name": "@ravi", "Deal": "12", "Note": "line 1\nline 2, with comma"}),
]


@pytest.mark.parametrize("file_name", ["failures.csv", "failures.xlsx"])
def test_failures_reimport_cell_for_cell(tmp_path: Path, file_name: str) -> None:
    writer = ReportWriter(
        tmp_path,
        Path("leads.csv"),
        columns=["Phone", "Name", "Deal", "Note"],
        workbook=True,
        dry_run=False,
        started_at=datetime(2024, 5, 1, tzinfo=UTC),
    )
    for row in ORIGINAL:
        writer.add_failure(row, "lead_stage_name not found")
    writer.close()

    table = open_table(writer.folder / file_name)
    assert table.columns == ["Phone", "Name", "Deal", "Note", "_row", "_error"]  # no BOM in the first name
    rows = [row for batch in table.batches() for row in batch]
    assert [row.cells["_row"] for row in rows] == ["2", "5"]
    for read, original in zip(rows, ORIGINAL, strict=True):
        assert {column: restore(read.cells[column]) for column in original.cells} == original.cells
    # the phone normaliser reads the neutralised "'+91…" as the same number
    assert rows[0].cells["Phone"] == "'+919876543210"
    assert normalise_phone(rows[0].cells["Phone"]) == Phone("+919876543210")
