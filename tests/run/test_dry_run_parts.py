"""A dry run copies the payloads.jsonl lines of its spilled parts as they are: the report folder is byte for byte
the one written from the lines read back into the importer, whatever the parts and however the lines are copied."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from importer.checks import spill
from importer.run.context.options import RunOptions
from importer.run.journey.pipeline import Importer
from tests.checks.test_parallel import MAPPING

ROWS = 12_000

#: summary.json fields that depend on the clock, not on the rows.
TIME_FIELDS = ("started_at", "finished_at", "duration_s")


def write_sheet(path: Path) -> None:
    """Rows with a phone of their own, but duplicates of rows 600 rows earlier (another part) in the first half,
    and invalid rows all along; a few cells span lines."""
    lines = ["Phone,Mobile,Name,Value"]
    for i in range(ROWS):
        phone = f"98{(i - 600 if i % 1000 == 500 and 1000 < i < ROWS // 2 else i):08d}"
        mobile = f"97{i:08d}" if i % 5 == 0 else ""
        value = "n/a" if i % 1700 == 3 else str(i)
        name = f'"Name,\n{i}"' if i % 11 == 0 else f"Lead {i}"
        lines.append(f"{phone},{mobile},{name},{value}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def dry_run(sheet: Path, mapping: Path, out: Path, on_duplicate: str) -> tuple[dict[str, bytes], dict]:
    """The report folder's files (report.html apart: it shows the times) and summary.json without the times."""
    options = RunOptions(dry_run=True, offline=True, report_dir=out, workers=2,
                         on_duplicate=on_duplicate)  # type: ignore[arg-type]
    folder = Importer(sheet, mapping, options).run().folder
    files = {path.name: path.read_bytes() for path in folder.iterdir()
             if path.name not in ("report.html", "summary.json")}
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return files, {key: value for key, value in summary.items() if key not in TIME_FIELDS}


@pytest.mark.parametrize("chunk_bytes", [4096, 2 * 1024 * 1024])  # a batch a part; several batches in one part
@pytest.mark.parametrize("on_duplicate", ["last", "error"])
def test_copied_lines_make_the_same_report_as_lines_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              chunk_bytes: int, on_duplicate: str) -> None:
    monkeypatch.setattr("importer.sources.chunks.CHUNK_BYTES", chunk_bytes)
    sheet, mapping = tmp_path / "leads.csv", tmp_path / "mapping.yaml"
    write_sheet(sheet)
    mapping.write_text(MAPPING, encoding="utf-8")
    copies: list[spill.SpilledLines] = []
    copy_to = spill.SpilledLines.copy_to
    monkeypatch.setattr(spill.SpilledLines, "copy_to", lambda lines, target: copies.append(lines) or copy_to(
        lines, target))

    monkeypatch.setattr(spill, "INLINE_LINES", 10**12)  # every batch's lines read back, then written
    read_back = dry_run(sheet, mapping, tmp_path / "read", on_duplicate)
    assert not copies

    monkeypatch.setattr(spill, "INLINE_LINES", 0)  # every batch whose lines are all sent copies them
    copied = dry_run(sheet, mapping, tmp_path / "copied", on_duplicate)
    assert copied == read_back
    assert len(copies) > (50 if chunk_bytes == 4096 else 0)  # the batches no cross-row verdict changed

    copies.clear()
    monkeypatch.delattr(os, "copy_file_range", raising=False)  # an OS without it: copied in blocks
    monkeypatch.setattr(spill, "COPY_BLOCK", 1000)
    assert dry_run(sheet, mapping, tmp_path / "blocks", on_duplicate) == read_back
    assert copies

    files, summary = read_back
    assert summary["rows_total"] == ROWS and summary["invalid"] > 0
    assert summary["skipped"] == (5 if on_duplicate == "last" else 0)
    assert summary["warnings_by_code" if on_duplicate == "last" else "errors_by_code"]["duplicate-phone"] == 10
    rows = [json.loads(line)["_row"] for line in files["payloads.jsonl"].splitlines()]
    assert rows == sorted(rows) and len(set(rows)) == ROWS - summary["invalid"] - summary["skipped"]
