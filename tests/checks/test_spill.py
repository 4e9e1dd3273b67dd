"""A checked batch keeps each row's cells as they were read, through its spill file and back."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.checks.spill import CELL_SEPARATOR, CheckedBatch
from importer.models import Row

COLUMNS = ["Phone", "Name", "Notes"]


def kept(rows: list[Row], columns: list[str]) -> list[tuple[str, ...] | None]:
    """The cells of each row as the batch gives them back, after a pickle round trip (the spill file's)."""
    batch = CheckedBatch(keep_cells=True)
    for row in rows:
        batch.numbers.append(row.number)
        batch.phones.append(("+919876543210",))
        batch.verdicts.append("send")
        batch.ends.append(0)
    batch.keep_cells(rows, columns)
    back: CheckedBatch = pickle.loads(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
    return [row.cells for row in back]


def test_cells_come_back_in_column_order_and_rebuild_the_row() -> None:
    rows = [Row(2, {"Phone": "98765 43210", "Name": "Asha, K", "Notes": ""}),
            Row(3, {"Notes": "line one\nline two", "Name": "", "Phone": "=1+1"})]
    assert kept(rows, COLUMNS) == [("98765 43210", "Asha, K", ""), ("=1+1", "", "line one\nline two")]
    batch = CheckedBatch(keep_cells=True)
    batch.numbers, batch.phones, batch.verdicts, batch.ends = [3], [("+1",)], ["send"], [0]
    batch.keep_cells(rows[1:], COLUMNS)
    assert batch.row_at(0).row(COLUMNS) == rows[1]


@pytest.mark.parametrize("cells", [
    {"Phone": f"98{CELL_SEPARATOR}76", "Name": "a", "Notes": "b"},   # a cell holding the separator
    {"Phone": "9876543210", "Name": f"{CELL_SEPARATOR}", "Notes": ""},
    {"Phone": "9876543210", "Name": "a"},                            # a column the row lacks: ""
])
def test_cells_that_cannot_be_joined_are_kept_as_they_are(cells: dict[str, str]) -> None:
    assert kept([Row(2, cells)], COLUMNS) == [tuple(cells.get(column, "") for column in COLUMNS)]


def test_a_single_column_and_no_cells_kept() -> None:
    assert kept([Row(2, {"Phone": "9876543210"})], ["Phone"]) == [("9876543210",)]
    batch = CheckedBatch(keep_cells=False)
    batch.numbers, batch.phones, batch.verdicts, batch.ends = [2], [("+1",)], ["send"], [0]
    assert batch.row_at(0).cells is None


@given(st.lists(st.lists(st.text(), min_size=3, max_size=3), min_size=1, max_size=5))
def test_any_text_comes_back_unchanged(values: list[list[str]]) -> None:
    rows = [Row(number, dict(zip(COLUMNS, cells, strict=True))) for number, cells in enumerate(values, start=2)]
    assert kept(rows, COLUMNS) == [tuple(cells) for cells in values]
