"""CSV/TSV reading: encodings, delimiters, exact text, row numbers and every way a text file can be broken."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from importer.errors import InputError
from importer.models import Row
from importer.sources import open_table

LEADS = "Name,Phone,City\nJosé Müller,09876543210,São Paulo\nRené,+91 98765 43210,Besançon\n"


def write(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def read_all(path: Path, **kwargs: object) -> list[Row]:
    return [row for batch in open_table(path, **kwargs).batches() for row in batch]  # type: ignore[arg-type]


def cells(path: Path) -> list[dict[str, str]]:
    return [row.cells for row in read_all(path)]


EXPECTED_LEADS = [
    {"Name": "José Müller", "Phone": "09876543210", "City": "São Paulo"},
    {"Name": "René", "Phone": "+91 98765 43210", "City": "Besançon"},
]


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        (LEADS.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + LEADS.encode("utf-8"), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + LEADS.encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + LEADS.encode("utf-16-be"), "utf-16"),
        (LEADS.encode("utf-16-le"), "utf-16-le"),
        (LEADS.encode("utf-16-be"), "utf-16-be"),
        (LEADS.encode("cp1252"), "cp1252"),
    ],
    ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "utf16le", "utf16be", "cp1252"],
)
def test_every_encoding_reads_the_same_text(tmp_path: Path, content: bytes, encoding: str) -> None:
    path = write(tmp_path, "leads.csv", content)
    table = open_table(path)
    assert table.encoding == encoding
    assert table.columns == ["Name", "Phone", "City"]  # no BOM left on the first header
    assert cells(path) == EXPECTED_LEADS


def test_cp1252_specials_are_read_as_cp1252(tmp_path: Path) -> None:
    path = write(tmp_path, "leads.csv", "Name,Note\nNaïve,“quoted” € 100\n", "cp1252")
    assert cells(path) == [{"Name": "Naïve", "Note": "“quoted” € 100"}]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    text = f'Name{delimiter}Phone{delimiter}Notes\nA{delimiter}0981{delimiter}"x{delimiter}y, z"\n'
    path = write(tmp_path, "leads.csv", text)
    table = open_table(path)
    assert table.delimiter == delimiter
    assert cells(path) == [{"Name": "A", "Phone": "0981", "Notes": f"x{delimiter}y, z"}]


def test_quoted_commas_do_not_fool_the_sniffer(tmp_path: Path) -> None:
    path = write(tmp_path, "leads.csv", 'Name;Notes\n"a, b, c";"d, e"\n"f, g";h\n')
    assert open_table(path).delimiter == ";"
    assert cells(path) == [{"Name": "a, b, c", "Notes": "d, e"}, {"Name": "f, g", "Notes": "h"}]


def test_tsv_suffix_means_tab_and_kind(tmp_path: Path) -> None:
    path = write(tmp_path, "leads.tsv", "Name\tNotes\nA\tsemi;colon,comma\n")
    table = open_table(path)
    assert (table.kind, table.delimiter, table.is_workbook) == ("tsv", "\t", False)
    assert cells(path) == [{"Name": "A", "Notes": "semi;colon,comma"}]


def test_txt_with_tabs_is_tsv(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, "export.txt", "Name\tPhone\nA\t1\n"))
    assert (table.kind, table.delimiter) == ("tsv", "\t")


def test_single_column_file(tmp_path: Path) -> None:
    path = write(tmp_path, "phones.csv", "Phone\n9876543210\n")
    assert cells(path) == [{"Phone": "9876543210"}]


def test_text_stays_exactly_as_typed(tmp_path: Path) -> None:
    text = (
        "Phone,Value,Missing,Date,Spaces\n09876543210,9.87654E+09,NA,2024-01-31, padded \n007,1.50,null,31/01/2024,\n"
    )
    path = write(tmp_path, "leads.csv", text)
    assert cells(path) == [
        {
            "Phone": "09876543210",
            "Value": "9.87654E+09",
            "Missing": "NA",
            "Date": "2024-01-31",
            "Spaces": " padded ",
        },
        {"Phone": "007", "Value": "1.50", "Missing": "null", "Date": "31/01/2024", "Spaces": ""},
    ]


def test_row_numbers_count_records_and_blank_rows(tmp_path: Path) -> None:
    text = 'Name,Notes\nA,"line one\nline two"\n\n , \nB,x\r\nC,y\rD,z\n'
    rows = read_all(write(tmp_path, "leads.csv", text))
    assert [(row.number, row.cells["Name"]) for row in rows] == [(2, "A"), (5, "B"), (6, "C"), (7, "D")]
    assert rows[0].cells["Notes"] == "line one\nline two"


def test_blank_lines_before_the_header_are_counted(tmp_path: Path) -> None:
    rows = read_all(write(tmp_path, "leads.csv", "\n\nName,Phone\nA,1\n"))
    assert rows == [Row(4, {"Name": "A", "Phone": "1"})]


def test_short_rows_are_padded_and_empty_extras_dropped(tmp_path: Path) -> None:
    text = "Name,Phone,City,\nA\nB,2,,,\n"
    table = open_table(write(tmp_path, "leads.csv", text))
    assert table.columns == ["Name", "Phone", "City"]  # trailing unnamed column dropped
    assert [row.cells for batch in table.batches() for row in batch] == [
        {"Name": "A", "Phone": "", "City": ""},
        {"Name": "B", "Phone": "2", "City": ""},
    ]


def test_header_only_gives_zero_rows(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, "leads.csv", "Name,Phone\n"))
    assert table.columns == ["Name", "Phone"]
    assert list(table.batches()) == []


def test_batches_are_bounded_and_repeatable(tmp_path: Path) -> None:
    path = write(tmp_path, "leads.csv", "N\n" + "".join(f"{i}\n" for i in range(12)))
    table = open_table(path)
    assert [len(batch) for batch in table.batches(size=5)] == [5, 5, 2]
    assert [row.number for batch in table.batches(size=5) for row in batch] == list(range(2, 14))
    with pytest.raises(ValueError):
        next(table.batches(size=0))


def error_of(path: Path, **kwargs: object) -> str:
    with pytest.raises(InputError) as caught:
        read_all(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(path.name + ": ")
    return message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "leads.csv: the file is empty"),
        (codecs.BOM_UTF8, "leads.csv: the file has only blank lines"),
        (b"\n\n \n", "leads.csv: the file has only blank lines"),
        (b"Name,Phone,Name\n", "leads.csv: row 1: columns 1 and 3 are both named 'Name'"),
        (b"\nName, Phone ,Phone\n", "leads.csv: row 2: columns 2 and 3 are both named 'Phone'"),
        (b"Name,Phone,,City\n", "leads.csv: row 1: column 3 (C) has no name"),
        (b"Name,Phone\nA,1\nB,2,3\n", "leads.csv: row 3: has 3 cells but the header names only 2 columns"),
        (
            b'Name,Phone\nA,1\nB,"2\nC,3\n',
            "leads.csv: row 3: a quoted cell is never closed (unterminated quote)",
        ),
        (b'Name,Phone\nA,"1"x\n', "leads.csv: row 2: malformed CSV (',' expected after '\"')"),
        (
            b"Name,Phone\nA,1\nB,2\x003\n",
            "leads.csv: row 3: contains a NUL byte; this looks like a binary file",
        ),
        (b"PK\x03\x04rest", "leads.csv: looks like a zip archive (an .xlsx or .ods workbook?)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "leads.csv: looks like an old Excel (.xls) workbook"),
    ],
)
def test_broken_files_give_one_line_errors(tmp_path: Path, content: bytes, expected: str) -> None:
    assert error_of(write(tmp_path, "leads.csv", content)).startswith(expected)


def test_binary_garbage_is_refused(tmp_path: Path) -> None:
    garbage = bytes((i * 167 + 13) % 256 for i in range(4096))
    message = error_of(write(tmp_path, "leads.csv", garbage))
    assert "binary file" in message


def test_undecodable_bytes_after_the_sample_name_the_row(tmp_path: Path) -> None:
    head = "Name,Phone\n" + "".join(f"Lead {i},98765{i:05d}\n" for i in range(9000))  # > 64 KB of UTF-8
    path = write(tmp_path, "leads.csv", head.encode() + b"Jos\xe9,1\n")
    message = error_of(path)
    assert message.startswith("leads.csv: row 9002: byte 0xE9 ")
    assert "not valid utf-8 text" in message


def test_a_huge_cell_is_refused_with_its_row(tmp_path: Path) -> None:
    path = write(tmp_path, "leads.csv", "Name,Notes\nA,short\nB," + "x" * (10 * 1024 * 1024) + "\n")
    assert error_of(path) == "leads.csv: row 3: a cell is larger than 1 MB (is a quote left open?)"


def test_an_unclosed_quote_swallowing_the_file_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "leads.csv", 'Name,Notes\nA,"oops\n' + "B,fine\n" * 200_000)
    assert error_of(path).startswith("leads.csv: row 2: a cell is larger than 1 MB")


def test_too_many_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "wide.csv", ",".join(f"c{i}" for i in range(10_001)) + "\n")
    assert error_of(path) == "wide.csv: row 1: the header has 10001 columns; at most 10000 are supported"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("missing.csv", "missing.csv: file not found"),
        ("leads.pdf", "leads.pdf: unsupported file type '.pdf'"),
        ("noext", "noext: unsupported file type '(no extension)'"),
    ],
)
def test_unopenable_paths(tmp_path: Path, name: str, expected: str) -> None:
    with pytest.raises(InputError, match=r"^" + expected.replace("(", r"\(").replace(")", r"\)")):
        open_table(tmp_path / name)


def test_directory_and_sheet_argument(tmp_path: Path) -> None:
    (tmp_path / "folder.csv").mkdir()  # a folder is a source (its newest sheet): this one holds none
    with pytest.raises(InputError, match=r"folder.csv: the folder holds no sheet \(a .csv"):
        open_table(tmp_path / "folder.csv")
    path = write(tmp_path, "leads.csv", LEADS)
    with pytest.raises(InputError, match=r"^leads.csv: --sheet applies to workbooks only"):
        open_table(path, sheet="Leads")


def test_two_line_file_without_final_newline(tmp_path: Path) -> None:
    path = write(tmp_path, "leads.csv", "Name;Phone\nA;1")
    assert open_table(path).delimiter == ";"
    assert cells(path) == [{"Name": "A", "Phone": "1"}]


def test_header_with_commas_in_a_semicolon_file(tmp_path: Path) -> None:
    path = write(tmp_path, "leads.csv", "Name;Amount, INR;City\nA;1,50;Pune\nB;2,75;Goa\n")
    assert open_table(path).delimiter == ";"
    assert cells(path)[0] == {"Name": "A", "Amount, INR": "1,50", "City": "Pune"}
