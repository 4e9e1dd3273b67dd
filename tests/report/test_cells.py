"""Formula-injection neutralising, its exact inverse, and how cells are encoded in CSV and XLSX."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from importer.report import TRIGGERS, neutralise, restore
from importer.report.cells import XLSX_MAX_CELL, safe_cells, xlsx_text

# Text rich in the characters that matter, plus arbitrary Unicode.
tricky_text = st.text(alphabet=st.sampled_from("=+-@\t\r\n'\",; a1é")) | st.text()


def starts_with_trigger(cell: str) -> bool:
    return cell[:1] != "" and cell[0] in TRIGGERS


@given(tricky_text)
@example("'+919876543210")
@example("''=cmd")
@example("")
def test_restore_undoes_neutralise_and_no_result_starts_with_a_trigger(text: str) -> None:
    safe = neutralise(text)
    assert restore(safe) == text
    assert not starts_with_trigger(safe)


@given(tricky_text)
def test_neutralise_changes_only_what_it_must(text: str) -> None:
    safe = neutralise(text)
    if safe != text:
        assert safe == "'" + text
        assert starts_with_trigger(text.lstrip("'"))
    else:
        assert not starts_with_trigger(text.lstrip("'"))


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+919876543210", "'+919876543210"),
        ("-42", "'-42"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("'=already", "''=already"),
        ("''+91", "'''+91"),
        ("'tis", "'tis"),
        ("'", "'"),
        ("Asha", "Asha"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise_examples(text: str, written: str) -> None:
    assert neutralise(text) == written
    assert restore(written) == text


def test_restore_leaves_plain_apostrophes_alone() -> None:
    assert restore("'tis") == "'tis"
    assert restore("'") == "'"
    assert restore("''") == "''"


def _csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO(newline="")
    table = csv.writer(buffer)
    for cells in rows:
        table.writerow(safe_cells(cells))
    return buffer.getvalue()


@given(st.lists(st.lists(tricky_text, min_size=2, max_size=5), min_size=1, max_size=4))
def test_csv_cells_read_back_exactly_and_never_start_with_a_trigger(rows: list[list[str]]) -> None:
    read = list(csv.reader(io.StringIO(_csv_text(rows), newline="")))
    assert [[restore(cell) for cell in cells] for cells in read] == rows
    assert not any(starts_with_trigger(cell) for cells in read for cell in cells)


def test_csv_quoting_is_minimal() -> None:
    rows = [["Asha", "x;y", "t\tu"], ["a,b", 'say "hi"', "l1\nl2"], ["=1+1", "-", ""]]
    assert _csv_text(rows) == ('Asha,x;y,t\tu\r\n"a,b","say ""hi""","l1\nl2"\r\n\'=1+1,\'-,\r\n')


def test_xlsx_text_is_neutralised_and_holdable() -> None:
    assert xlsx_text("=1+1") == "'=1+1"
    assert xlsx_text("a\x00b\x1fc\td\ne") == "a\ufffdb\ufffdc\td\ne"
    assert len(xlsx_text("x" * 40_000)) == XLSX_MAX_CELL
