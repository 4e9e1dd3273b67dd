"""What pull asks for: phones as digits only, PollyBot ids checked, the key column found, repeats asked once."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.errors import ConfigError
from importer.models import Issue
from importer.pull.keys import Key, lead_id_key, phone_key, pick_column, read_keys


@pytest.mark.parametrize(("cell", "sent"), [
    ("+91 98450-00000", "919845000000"),
    ("098450 40001", "919845040001"),
    ("(984) 500.7919", "919845007919"),
    ("919845000000", "919845000000"),
    ("+44 20 7946 0958", "442079460958"),
])
def test_a_phone_is_sent_as_digits_only_with_its_country_code(cell: str, sent: str) -> None:
    assert phone_key("IN")(2, "Phone", cell) == sent


@pytest.mark.parametrize(("cell", "code"), [
    ("", "missing-phone"), ("  ", "missing-phone"), ("12345", "invalid-phone"), ("abc", "invalid-phone"),
    ("9.87654E+09", "lossy-excel-number"),
])
def test_a_phone_that_cannot_be_read_is_an_issue_for_its_row(cell: str, code: str) -> None:
    result = phone_key("IN")(7, "Phone", cell)
    assert isinstance(result, Issue)
    assert (result.row, result.column, result.code, result.severity) == (7, "Phone", code, "error")


@pytest.mark.parametrize("cell", ["lead_1234567890abcdef", "lead_A1", " lead_x9 "])
def test_a_lead_id_of_the_documented_shape_is_kept(cell: str) -> None:
    assert lead_id_key(2, "id", cell) == cell.strip()


@pytest.mark.parametrize("cell", ["", "lead_", "lead-123", "invalid-id", "LEAD_abc", "lead_ab-c", "lead_abc/../x",
                                  "lead_abc?x=1", "lead_é1", "1234"])
def test_a_lead_id_of_another_shape_is_refused(cell: str) -> None:
    result = lead_id_key(4, "id", cell)
    assert isinstance(result, Issue)
    assert (result.row, result.code, result.value) == (4, "invalid-lead-id", cell)
    assert "lead_ followed by letters and digits" in result.message


def test_the_key_column_is_asked_for_or_guessed(tmp_path: Path) -> None:
    sheet = tmp_path / "phones.csv"
    assert pick_column(["Name", "mobile"], None, ("Phone", "Mobile"), sheet) == "mobile"
    assert pick_column(["Numbers"], None, ("Phone",), sheet) == "Numbers"
    assert pick_column(["A", "B"], "B", ("Phone",), sheet) == "B"
    with pytest.raises(ConfigError, match=r"phones.csv: no column 'C' \(columns: 'A', 'B'\)"):
        pick_column(["A", "B"], "C", ("Phone",), sheet)
    with pytest.raises(ConfigError, match="phones.csv: which column holds the keys"):
        pick_column(["A", "B"], None, ("Phone",), sheet)


def test_read_keys_keeps_sheet_order_asks_a_repeat_once_and_reports_bad_cells(tmp_path: Path) -> None:
    sheet = tmp_path / "phones.csv"
    sheet.write_text("Name,Phone\nA,98450 00000\nB,abc\nC,+919845000000\nD,9845040001\n", encoding="utf-8")
    column, keys, issues, repeats = read_keys(sheet, None, ("Phone",), phone_key("IN"))
    assert column == "Phone"
    assert keys == [Key(2, "919845000000"), Key(5, "919845040001")]
    assert [(item.row, item.code) for item in issues] == [(3, "invalid-phone")]
    assert repeats == 1
