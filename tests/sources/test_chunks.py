"""Splitting a CSV into byte ranges of whole records gives exactly the rows one stream gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.sources import open_table
from importer.sources.chunks import plan_chunks, read_chunk, read_chunk_records, records_in

MESSY = (
    'Phone,Name,Notes\r\n'
    '+919845012345,"Asha ""AK"" Kumar","line one\r\nline two"\r\n'
    '\r\n'
    '098450 54321,Ravi,plain\r\n'
    '"9900012345",Imran,"comma, inside"\n'
    ',,\n'
    '9740011223,Divya,"quote "" and\nnewline"\n'
    '9811122233,Ritu,last row without a newline'
)


def rows_of(path: Path, size: int) -> list[tuple[int, dict[str, str]]]:
    table = open_table(path)
    planned = plan_chunks(table, size=size)
    assert planned is not None
    chunks = list(planned)
    return [(row.number, row.cells) for chunk in chunks for batch in read_chunk(table, chunk) for row in batch]


def streamed(path: Path) -> list[tuple[int, dict[str, str]]]:
    return [(row.number, row.cells) for batch in open_table(path).batches() for row in batch]


@pytest.mark.parametrize("size", [1, 7, 40, 1 << 20])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_chunks_match_the_stream(tmp_path: Path, size: int, encoding: str) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(("\n" + MESSY.replace("Ravi", "Rávi")).encode(encoding))  # a blank line before the header
    expected = streamed(path)
    assert [n for n, _ in expected] == [3, 5, 6, 8, 9]
    assert rows_of(path, size) == expected


@pytest.mark.parametrize("batch", [1, 2, 5000])
@pytest.mark.parametrize("size", [1, 40, 1 << 20])
def test_each_batch_of_records_carries_its_own_text(tmp_path: Path, size: int, batch: int) -> None:
    path = tmp_path / "leads.csv"
    short_and_long = "9845012399,Short\n\n9845012398,Long,extra,,\n"  # padded; trimmed of its blank extras
    text = MESSY.replace("\n,,\n", "\n,,\n" + short_and_long, 1)
    path.write_text(text, encoding="utf-8", newline="")
    table = open_table(path)
    planned = plan_chunks(table, size=size)
    assert planned is not None
    found = [records for chunk in planned for records in read_chunk_records(table, chunk, size=batch)]
    assert [cells for records in found for cells in records.cells][3:5] == [
        ["9845012399", "Short", ""], ["9845012398", "Long", "extra"]]
    for records in found:
        assert records.text is not None
        assert records.text.records() == records.cells
    if size > len(text):  # one range: its batches' texts are all of it (a range of blank lines has no batch)
        assert "".join(records.text.text for records in found if records.text) == text.partition("\r\n")[2]


def test_bare_cr_line_ends_and_utf16_are_read_as_one_stream(tmp_path: Path) -> None:
    cr = tmp_path / "mac.csv"
    cr.write_bytes(b"Phone,Name\r9845012345,Asha\r")
    assert plan_chunks(open_table(cr)) is None
    wide = tmp_path / "wide.csv"
    wide.write_bytes("Phone,Name\n9845012345,Asha\n".encode("utf-16"))
    assert plan_chunks(open_table(wide)) is None


def test_records_in_counts_newlines_outside_quotes() -> None:
    assert records_in(b'a,b\n"x\ny",z\n"q""\n",1\n') == 3
    assert records_in(b'"a""b",c\n"",\n"x\n""\ny"\n') == 3


@given(st.binary(max_size=40) | st.text(alphabet='ab"\n,', max_size=40).map(str.encode))
def test_records_in_counts_as_a_walk_through_the_bytes_would(data: bytes) -> None:
    inside, newlines = False, 0
    for byte in data:
        inside ^= byte == ord('"')
        newlines += byte == ord("\n") and not inside
    assert records_in(data) == newlines


cell = st.text(alphabet=st.sampled_from(list('ab,"\n ;')), max_size=6)  # a bare CR anywhere means one stream


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.lists(cell, min_size=2, max_size=2), min_size=1, max_size=12), size=st.integers(1, 64))
def test_any_quoted_content_splits_exactly(tmp_path_factory: pytest.TempPathFactory, rows, size: int) -> None:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Phone", "Name"])
    writer.writerows([["9845012345", *r[1:]] if i % 2 else r for i, r in enumerate(rows)])
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    assert rows_of(path, size) == streamed(path)
    table = open_table(path)
    for chunk in plan_chunks(table, size=size) or ():
        for records in read_chunk_records(table, chunk, size=3):
            assert records.text is not None and records.text.records() == records.cells
