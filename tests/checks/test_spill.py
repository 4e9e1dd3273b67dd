"""A checked batch keeps each row's cells as they were read, through its spill file and back; a part gives its
batches back as they were written, their lines copied as they are."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.checks import packing, spill
from importer.checks.crossrow import CrossRowVerdicts
from importer.checks.spill import CELL_SEPARATOR, CheckedBatch, read_part, write_part
from importer.models import Row
from importer.sources import open_table
from importer.sources.chunks import plan_chunks, read_chunk_records

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


def test_records_kept_as_their_text_come_back_as_their_cells(tmp_path: Path) -> None:
    """A range of a CSV file read in batches keeps each batch's text; a part gives back the cells it holds."""
    path = tmp_path / "leads.csv"
    path.write_text('Phone,Name,Notes\n98765 43210,"Asha, K",\n=1+1,,"line one\nline two"\n\n9876500000,Short\n',
                    encoding="utf-8")
    table = open_table(path)
    records = [found for chunk in plan_chunks(table) or () for found in read_chunk_records(table, chunk, size=2)]
    batches = []
    for found in records:
        batch = CheckedBatch(keep_cells=True)
        batch.numbers, batch.phones = found.numbers, [("+1",)] * len(found.numbers)
        batch.verdicts, batch.ends = ["send"] * len(found.numbers), [0] * len(found.numbers)
        batch.keep_records(found.cells, found.text)
        assert batch._cells is None  # nothing read again until asked for
        batches.append(batch)
    spill.write_part(str(tmp_path / "part"), iter(batches))
    back = list(spill.read_part(str(tmp_path / "part")))
    assert [row.cells for batch in back for row in batch] == [
        ("98765 43210", "Asha, K", ""), ("=1+1", "", "line one\nline two"), ("9876500000", "Short", "")]
    assert [row.number for batch in back for row in batch] == [2, 3, 5]
    settled = back[1].settled(CrossRowVerdicts(invalid={5}, skipped=set(), issues={}))
    assert settled.row_at(0).row(COLUMNS) == Row(5, {"Phone": "9876500000", "Name": "Short", "Notes": ""})


def spilled_batch(first: int, rows: int, lines_each: int = 1) -> CheckedBatch:
    batch = CheckedBatch(keep_cells=False)
    lines = b""
    for number in range(first, first + rows):
        batch.numbers.append(number)
        batch.phones.append((f"+9198765{number:05d}",) if number % 4 else ())
        batch.verdicts.append("send" if number % 4 else "invalid")
        if number % 4:
            lines += b''.join(b'{"_row": %d, "payload": {"n": %d}}\n' % (number, n) for n in range(lines_each))
        batch.ends.append(len(lines))
    batch.lines = lines
    return batch


def test_a_part_gives_its_batches_back_with_their_lines_and_phones(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(spill, "INLINE_LINES", 100)  # the small batch's lines read at once, the others later
    batches = [spilled_batch(2, 40), spilled_batch(42, 2), spilled_batch(44, 30, lines_each=2)]
    path = str(tmp_path / "part.pickle")
    spill.write_part(path, iter(batches))
    back = list(spill.read_part(path))
    assert [type(batch.sent_payloads()) for batch in back] == [spill.SpilledLines, bytes, spill.SpilledLines]
    for batch, written in zip(back, batches, strict=True):
        assert batch.sent_lines() == written.lines
        assert (batch.numbers, batch.phones, batch.verdicts, batch.ends) == (
            written.numbers, written.phones, written.verdicts, written.ends)
        assert list(batch) == list(written)
    with open(tmp_path / "copied", "wb") as target:
        target.write(b"first\n")
        for batch in back:
            sent = batch.sent_payloads()
            target.write(sent) if isinstance(sent, bytes) else sent.copy_to(target)
        target.write(b"last\n")
    assert (tmp_path / "copied").read_bytes() == b"first\n" + b"".join(b.lines for b in batches) + b"last\n"


def test_settled_rows_are_left_out_of_the_lines_sent(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(spill, "INLINE_LINES", 0)
    path = str(tmp_path / "part.pickle")
    spill.write_part(path, [spilled_batch(2, 10)])
    (batch,) = spill.read_part(path)
    verdicts = CrossRowVerdicts(skipped={3})
    settled = batch.settled(verdicts)
    assert settled.verdicts[1] == "skipped" and batch.verdicts[1] == "send"
    assert settled.sent_payloads() == b"".join(
        line for line in spilled_batch(2, 10).lines.splitlines(keepends=True) if b'"_row": 3,' not in line)
    kept = batch.settled(CrossRowVerdicts(issues={3: []}))  # an issue, no verdict changed: still copied
    assert isinstance(kept.sent_payloads(), spill.SpilledLines)


@given(st.lists(st.lists(st.text(max_size=4), max_size=3).map(tuple), max_size=8))
def test_phones_pack_into_one_text_and_back(phones: list[tuple[str, ...]]) -> None:
    packed = packing.pack_phones(phones)
    assert (packing.unpack_phones(packed) if isinstance(packed, str) else packed) == phones


def test_phones_pack_when_they_can() -> None:
    assert packing.pack_phones([("+911",), (), ("+912", "+913")]) == "+911\x1e\x1e+912\x1f+913"
    assert packing.pack_phones([("+911",), ("",)]) == [("+911",), ("",)]
    assert packing.pack_phones([("+9\x1e1",)]) == [("+9\x1e1",)]


@pytest.mark.parametrize("phones", [[("+919845012345",), ("+14155550100", "+919900012345"), ()],
                                    [("+919845012345",), ("+14155550100",)], [(), ()]])
def test_primaries_are_each_rows_first_phone_packed_or_not(tmp_path: Path, phones: list[tuple[str, ...]]) -> None:
    batch = CheckedBatch(keep_cells=False)
    batch.numbers = list(range(2, 2 + len(phones)))
    batch.phones = phones
    batch.verdicts = ["send"] * len(phones)
    batch.ends = [0] * len(phones)
    expected = [row[0] if row else "" for row in phones]
    assert batch.primaries == expected
    write_part(str(tmp_path / "part"), [batch])
    (read,) = read_part(str(tmp_path / "part"))
    assert read.primaries == expected and read.phones == phones
