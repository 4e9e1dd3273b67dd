"""Generated lead sheets end to end: deterministic data, exact round trips, flat memory while streaming."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from benchmarks import make_data
from importer.models import Row
from importer.sources import open_table
from importer.sources.table import row_factory


def test_generated_csv_is_deterministic_and_realistic(tmp_path: Path) -> None:
    first = make_data.make_csv(tmp_path / "a.csv", 2000, seed=3)
    second = make_data.make_csv(tmp_path / "b.csv", 2000, seed=3)
    other = make_data.make_csv(tmp_path / "c.csv", 2000, seed=4)
    assert first.read_bytes() == second.read_bytes() != other.read_bytes()
    table = open_table(first)
    assert table.columns == list(make_data.COLUMNS)
    rows = [row for batch in table.batches(500) for row in batch]
    assert [row.number for row in rows] == list(range(2, 2002))
    phones = ["".join(ch for ch in row.cells["Phone"] if ch.isdigit())[-10:] for row in rows]
    assert len(set(phones)) == len(phones)
    mobiles = {"".join(ch for ch in row.cells["Mobile"] if ch.isdigit())[-10:] for row in rows} - {""}
    assert not mobiles & set(phones)
    misspelt = [row for row in rows if row.cells["Stage"] not in make_data.STAGES]
    assert 0 < len(misspelt) < 60
    assert any(";" in row.cells["Tags"] for row in rows)


def test_generated_xlsx_reads_back_as_the_csv(tmp_path: Path) -> None:
    csv_rows = open_table(make_data.make_csv(tmp_path / "leads.csv", 300, seed=1)).batches()
    xlsx_rows = open_table(make_data.make_xlsx(tmp_path / "leads.xlsx", 300, seed=1)).batches()
    assert [row for batch in xlsx_rows for row in batch] == [row for batch in csv_rows for row in batch]


def peak_while_reading(path: Path) -> int:
    tracemalloc.start()
    try:
        rows = 0
        for batch in open_table(path).batches(1000):
            rows += len(batch)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    small = peak_while_reading(make_data.make_csv(tmp_path / "small.csv", 5_000))
    large = peak_while_reading(make_data.make_csv(tmp_path / "large.csv", 30_000))
    assert large < small * 1.5 + 256 * 1024, (small, large)


@pytest.mark.parametrize(
    "columns",
    [["a", "b"], ["it's", 'say "hi"', "back\\slash", "__import__('os').getcwd()", "日本", "x\ny"]],
)
def test_row_factory_keeps_any_header_name(columns: list[str]) -> None:
    values = [f"v{index}" for index in range(len(columns))]
    row = row_factory(columns)(7, values)
    assert row == Row(7, dict(zip(columns, values, strict=True)))
    assert list(row.cells) == columns
