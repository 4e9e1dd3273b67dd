"""Workbooks: cells rendered as the text a person sees, sheet choice, and hostile or mislabelled files."""

from __future__ import annotations

import datetime as dt
import random
import string
import zipfile
from pathlib import Path

import pytest
import xlsxwriter  # type: ignore[import-untyped]

from importer.errors import InputError
from importer.models import Row
from importer.sources import cell_text, open_table, read_rows

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "sources"
HEADER = ["Name", "Phone", "Value", "Joined", "Active", "Deal"]


def read_all(path: Path, sheet: str | int | None = None) -> list[Row]:
    return [row for batch in open_table(path, sheet=sheet).batches() for row in batch]


def error_of(path: Path, sheet: str | int | None = None) -> str:
    with pytest.raises(InputError) as caught:
        read_all(path, sheet)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(path.name + ": ")
    return message


# --- committed fixtures: the same cells as .xlsx, .xls and .ods ----------------------------------------


def leads_row(number: int, values: list[str]) -> Row:
    return Row(number, dict(zip(HEADER, values, strict=True)))


EXPECTED = [
    leads_row(2, ["Text phone", "09876543210", "9.87654E+09", "2024-01-31", "TRUE", "0.1"]),
    leads_row(3, ["Number phone", "9876543210", "9876543210.5", "2024-01-31T10:30:00", "FALSE", "6"]),
    leads_row(5, ["Merged", "", "", "", "", ""]),  # row 4 is blank: skipped, still counted
    leads_row(6, [" padded ", "007", "9876", "", "", ""]),
]


def test_xlsx_fixture_reads_as_typed() -> None:
    table = open_table(FIXTURES / "leads.xlsx")
    assert (table.kind, table.is_workbook, table.sheet_name) == ("xlsx", True, "Leads")  # "Config" is hidden
    assert (table.encoding, table.delimiter) == (None, None)
    assert table.columns == HEADER
    assert read_all(FIXTURES / "leads.xlsx") == EXPECTED


def test_xls_fixture_reads_as_typed() -> None:
    rows = read_all(FIXTURES / "leads.xls")
    assert open_table(FIXTURES / "leads.xls").kind == "xls"
    assert rows[:3] == EXPECTED[:3]
    # calamine's .xls reader returns 0 for the cached text result of a string formula (="98"&"76").
    assert rows[3].cells | {"Value": "9876"} == EXPECTED[3].cells


def test_ods_fixture_reads_as_typed() -> None:
    rows = read_all(FIXTURES / "leads.ods")
    # LibreOffice stores the converted booleans as =TRUE()/=FALSE() formulas with the numbers 1 and 0.
    expected = [
        Row(r.number, r.cells | {"Active": {"TRUE": "1", "FALSE": "0"}.get(r.cells["Active"], "")}) for r in EXPECTED
    ]
    assert rows == expected


@pytest.mark.parametrize(
    ("sheet", "name"), [("Archive", "Archive"), ("archive", "Archive"), (2, "Archive"), ("0", "Config")]
)
def test_sheet_by_name_or_index(sheet: str | int, name: str) -> None:
    table = open_table(FIXTURES / "leads.xlsx", sheet=sheet)
    assert table.sheet_name == name
    if name == "Archive":
        assert read_all(FIXTURES / "leads.xlsx", sheet) == [Row(2, {"Name": "Old lead", "Phone": "0801234567"})]


@pytest.mark.parametrize("sheet", ["Nope", 7, "7"])
def test_unknown_sheet_lists_the_sheets(sheet: str | int) -> None:
    message = error_of(FIXTURES / "leads.xlsx", sheet)
    sheets = "'Config', 'Leads', 'Archive'"
    assert message == f"leads.xlsx: sheet {sheet!r} not found; the sheets are {sheets} (or an index 0-2)"


# --- generated workbooks ------------------------------------------------------------------------------


def make_xlsx(path: Path, cells: dict[tuple[int, int], object], sheets: tuple[str, ...] = ("Sheet1",)) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    first = workbook.add_worksheet(sheets[0])
    for name in sheets[1:]:
        workbook.add_worksheet(name)
    for (row, col), value in cells.items():
        first.write(row, col, value)
    workbook.close()
    return path


def test_header_below_blank_rows_and_right_of_blank_columns(tmp_path: Path) -> None:
    cells: dict[tuple[int, int], object] = {
        (2, 1): "Name",
        (2, 2): "Phone",
        (3, 1): "A",
        (3, 2): "1",
        (6, 2): 98,
    }
    path = make_xlsx(tmp_path / "offset.xlsx", cells)
    assert read_all(path) == [Row(4, {"Name": "A", "Phone": "1"}), Row(7, {"Name": "", "Phone": "98"})]


def test_header_problems_name_the_sheet_column(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "dup.xlsx", {(0, 1): "Phone", (0, 2): "Name", (0, 4): "Phone"})
    assert error_of(path) == "dup.xlsx: row 1: column 4 (D) has no name"
    path = make_xlsx(tmp_path / "dup2.xlsx", {(1, 0): "Phone", (1, 1): "Name", (1, 2): "Phone"})
    assert error_of(path) == "dup2.xlsx: row 2: columns 1 and 3 are both named 'Phone'"


def test_numeric_header_and_trailing_unnamed_columns(tmp_path: Path) -> None:
    cells: dict[tuple[int, int], object] = {(0, 0): "Name", (0, 1): 2024, (1, 0): "A", (1, 1): 5, (1, 2): ""}
    path = make_xlsx(tmp_path / "num.xlsx", cells)
    assert read_all(path) == [Row(2, {"Name": "A", "2024": "5"})]


def test_value_under_no_header_is_refused(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "extra.xlsx", {(0, 0): "Name", (1, 0): "A", (2, 0): "B", (2, 2): "stray"})
    assert error_of(path) == "extra.xlsx: row 3: cell C3 has a value but column C has no header name"


def test_header_only_sheet_has_zero_rows(tmp_path: Path) -> None:
    table = open_table(make_xlsx(tmp_path / "header.xlsx", {(0, 0): "Name", (0, 1): "Phone"}))
    assert table.columns == ["Name", "Phone"]
    assert list(table.batches()) == []


def test_empty_sheet(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "empty.xlsx", {})
    assert error_of(path) == "empty.xlsx: sheet 'Sheet1' has no header row (it is empty)"
    path = make_xlsx(tmp_path / "blank.xlsx", {(3, 3): ""})
    assert error_of(path) == "blank.xlsx: sheet 'Sheet1' has no header row (it is empty)"


def test_too_many_columns(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "wide.xlsx", {(0, 0): "Name", (0, 10_000): "Far"})
    assert error_of(path) == "wide.xlsx: sheet 'Sheet1' has 10001 columns; at most 10000 are supported"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (9876543210.0, "9876543210"),
        (0.1, "0.1"),
        (9876543210.5, "9876543210.5"),
        (1e20, "100000000000000000000"),
        (-3.0, "-3"),
        (1.5e-07, "1.5e-07"),
        (42, "42"),
        (True, "TRUE"),
        (False, "FALSE"),
        (dt.date(2024, 1, 31), "2024-01-31"),
        (dt.datetime(2024, 1, 31, 10, 30), "2024-01-31T10:30:00"),
        (dt.time(9, 5), "09:05:00"),
        (dt.timedelta(hours=26, minutes=3, seconds=4), "26:03:04"),
        ("09876543210", "09876543210"),
    ],
)
def test_cell_text(value: object, text: str) -> None:
    assert cell_text(value) == text


# --- hostile and mislabelled files --------------------------------------------------------------------


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 5_000_000)
    message = error_of(path)
    assert message.startswith("bomb.xlsx: looks like a zip bomb (5,000,000 bytes unpacked from ")


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "leads.xlsx"
    path.write_text("Name,Phone\nA,1\n")
    assert error_of(path) == "leads.xlsx: not a valid .xlsx file (not a zip archive)"


def test_zip_without_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "leads.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert error_of(path).startswith("leads.xlsx: not a valid .xlsx file (")


def test_encrypted_ooxml_is_password_protected(tmp_path: Path) -> None:
    path = tmp_path / "secret.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1000 + "EncryptedPackage".encode("utf-16-le"))
    assert error_of(path) == "secret.xlsx: is password-protected; remove the password and save it again"


def test_xls_named_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "old.xlsx"
    path.write_bytes((FIXTURES / "leads.xls").read_bytes())
    assert error_of(path) == "old.xlsx: is an old Excel (.xls) workbook named .xlsx; rename it to .xls"


@pytest.mark.parametrize(
    ("content", "what"),
    [(b"PK\x03\x04", "an .xlsx workbook named .xls"), (b"<html><table>", "not an Excel workbook")],
)
def test_xls_that_is_not_xls(tmp_path: Path, content: bytes, what: str) -> None:
    path = tmp_path / "export.xls"
    path.write_bytes(content)
    assert error_of(path) == f"export.xls: not a valid .xls file ({what}); save it again as .xlsx or CSV"


def test_empty_workbook_file(tmp_path: Path) -> None:
    path = tmp_path / "leads.xlsx"
    path.write_bytes(b"")
    assert error_of(path) == "leads.xlsx: the file is empty"


def test_encrypted_zip_entry(tmp_path: Path) -> None:
    path = tmp_path / "locked.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 0x01  # general purpose flag: encrypted
    path.write_bytes(bytes(data))
    assert error_of(path) == "locked.xlsx: is password-protected; remove the password and save it again"


# --- hand-written ODS ---------------------------------------------------------------------------------

ODS_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
  xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
  xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
<office:body><office:spreadsheet><table:table table:name="Leads">
<table:table-row><table:table-cell office:value-type="string"><text:p>Name</text:p></table:table-cell>
<table:table-cell office:value-type="string"><text:p>Phone</text:p></table:table-cell>
<table:table-cell office:value-type="string"><text:p>Active</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell office:value-type="string"><text:p>A</text:p></table:table-cell>
<table:table-cell office:value-type="float" office:value="9876543210">
<text:p>9876543210</text:p></table:table-cell>
<table:table-cell office:value-type="boolean" office:boolean-value="true">
<text:p>TRUE</text:p></table:table-cell>
</table:table-row>
</table:table></office:spreadsheet></office:body></office:document-content>""".replace(">\n<", "><")


def make_ods(path: Path, manifest_extra: str = "") -> Path:
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">'
        f"{manifest_extra}"
        "</manifest:file-entry></manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", ODS_CONTENT)
    return path


def test_hand_written_ods(tmp_path: Path) -> None:
    table = open_table(make_ods(tmp_path / "leads.ods"))
    assert (table.kind, table.sheet_name, table.columns) == ("ods", "Leads", ["Name", "Phone", "Active"])
    assert read_all(table.path) == [Row(2, {"Name": "A", "Phone": "9876543210", "Active": "TRUE"})]


def test_encrypted_ods(tmp_path: Path) -> None:
    path = make_ods(tmp_path / "locked.ods", "<manifest:encryption-data/>")
    assert error_of(path) == "locked.ods: is password-protected; remove the password and save it again"


def test_xlsm_and_read_rows(tmp_path: Path) -> None:
    path = tmp_path / "macro.xlsm"
    path.write_bytes((FIXTURES / "leads.xlsx").read_bytes())
    assert open_table(path).kind == "xlsm"
    assert [row for batch in read_rows(path, "Archive", size=1) for row in batch] == [
        Row(2, {"Name": "Old lead", "Phone": "0801234567"})
    ]


def test_a_huge_cell_is_refused(tmp_path: Path) -> None:
    source = make_xlsx(tmp_path / "source.xlsx", {(0, 0): "Name", (0, 1): "Notes", (2, 0): "B", (2, 1): "PLACEHOLDER"})
    rng = random.Random(1)
    huge = "".join(rng.choices(string.ascii_letters, k=2 * 1024 * 1024))  # Excel stops at 32767 characters
    path = tmp_path / "huge.xlsx"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as patched:
        for item in original.infolist():
            data = original.read(item)
            patched.writestr(item, data.replace(b"PLACEHOLDER", huge.encode()), zipfile.ZIP_DEFLATED)
    assert error_of(path) == "huge.xlsx: row 3: cell B3 is larger than 1 MB"
