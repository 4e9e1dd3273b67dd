"""JSON and JSON Lines: flattening, numbers as written, row numbers and malformed documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from importer.errors import InputError
from importer.models import Row
from importer.sources import open_table


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def read_all(path: Path) -> list[Row]:
    return [row for batch in open_table(path).batches() for row in batch]


def error_of(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        read_all(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(path.name + ": ")
    return message


ARRAY = """[
  {"phone": 9876543210, "name": "Asha", "deal": 1.50, "vip": true, "note": null,
   "metadata": {"company": "Acme", "address": {"city": "Pune"}}, "interests": ["demo", "pricing", 3]},
  {"phone": "09876543210", "tags": [], "big": 1e400, "nested": [{"a": 1}], "vip": false}
]"""


def test_array_flattens_and_keeps_numbers_as_written(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, "leads.json", ARRAY))
    assert (table.kind, table.is_workbook, table.encoding) == ("json", False, "utf-8")
    assert table.columns == [
        "phone", "name", "deal", "vip", "note", "metadata.company", "metadata.address.city", "interests",
        "tags", "big", "nested",
    ]  # fmt: skip
    first, second = read_all(table.path)
    assert first == Row(
        1,
        {
            "phone": "9876543210", "name": "Asha", "deal": "1.50", "vip": "true", "note": "",
            "metadata.company": "Acme", "metadata.address.city": "Pune", "interests": "demo; pricing; 3",
            "tags": "", "big": "", "nested": "",
        },
    )  # fmt: skip
    assert second.number == 2
    assert second.cells["phone"] == "09876543210"
    assert second.cells["big"] == "1e400"
    assert second.cells["nested"] == '{"a":"1"}'
    assert (second.cells["vip"], second.cells["name"]) == ("false", "")


def test_jsonl_counts_lines_and_skips_blank_ones(tmp_path: Path) -> None:
    text = '{"phone": 9876543210}\n\n   \n{"phone": "+91 98765 43210", "city": "Goa"}\r\n'
    table = open_table(write(tmp_path, "leads.jsonl", text))
    assert (table.kind, table.columns) == ("jsonl", ["phone", "city"])
    assert read_all(table.path) == [
        Row(1, {"phone": "9876543210", "city": ""}),
        Row(4, {"phone": "+91 98765 43210", "city": "Goa"}),
    ]


def test_json_lines_in_a_json_file(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, "export.json", '{"a": 1}\n{"a": 2}\n'))
    assert table.kind == "jsonl"
    assert [row.cells for row in read_all(table.path)] == [{"a": "1"}, {"a": "2"}]


def test_wrapped_array_and_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "export.json", '\ufeff{"count": 1, "leads": [{"phone": "1"}]}')
    assert read_all(path) == [Row(1, {"phone": "1"})]


def test_empty_array_has_no_rows(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, "leads.json", "[]"))
    assert (table.columns, list(table.batches())) == ([], [])


def test_utf16_json(tmp_path: Path) -> None:
    path = write(tmp_path, "leads.json", '\ufeff[{"name": "José"}]', "utf-16-le")
    assert read_all(path) == [Row(1, {"name": "José"})]
    path = write(tmp_path, "leads.jsonl", '\ufeff{"name": "José"}\n\n{"name": "Ana"}\n', "utf-16-be")
    assert read_all(path) == [Row(1, {"name": "José"}), Row(3, {"name": "Ana"})]


def test_batches_stream_jsonl(tmp_path: Path) -> None:
    path = write(tmp_path, "leads.jsonl", "".join(json.dumps({"n": i}) + "\n" for i in range(7)))
    assert [len(batch) for batch in open_table(path).batches(size=3)] == [3, 3, 1]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("leads.json", "", "leads.json: the file is empty"),
        ("leads.json", "  \n", "leads.json: the file is empty"),
        (
            "leads.json",
            '[{"a": 1}, 5]',
            "leads.json: row 2: expected an object (a record), found a string, number",
        ),
        ("leads.json", '[{"a": 1}, [1]]', "leads.json: row 2: expected an object (a record), found a list"),
        (
            "leads.json",
            '[{"a": 1},\n {"a": }]',
            "leads.json: invalid JSON at line 2, column 8 (Expecting value)",
        ),
        ("leads.json", '"just text"', "leads.json: expected an array of objects (or JSON Lines"),
        ("leads.json", '{"a": 1, "b": 2}', "leads.json: expected an array of objects (or JSON Lines"),
        ("leads.json", '[{"a.b": 1, "a": {"b": 2}}]', "leads.json: row 1: key 'a.b' appears twice"),
        ("leads.json", '[{"": 1}]', "leads.json: a record has a key with no name"),
        ("leads.json", "[" * 100_000, "leads.json: invalid JSON (nested too deeply)"),
        ("leads.jsonl", '{"a": 1}\n\n{"a": 2\n', "leads.jsonl: row 3: invalid JSON (Expecting ',' delimiter"),
        (
            "leads.jsonl",
            '{"a": 1}\n"text"\n',
            "leads.jsonl: row 2: expected an object (a record), found a string",
        ),
    ],
)
def test_broken_json(tmp_path: Path, name: str, text: str, expected: str) -> None:
    assert error_of(write(tmp_path, name, text)).startswith(expected)


def test_undecodable_jsonl_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "leads.jsonl"
    path.write_bytes(b'{"a": "x"}\n' * 10_000 + b'{"a": "Jos\xe9"}\n')
    assert error_of(path) == "leads.jsonl: row 10001: is not valid utf-8 text; save it as UTF-8"


def test_too_many_keys(tmp_path: Path) -> None:
    record = {f"k{i}": i for i in range(10_001)}
    path = write(tmp_path, "wide.json", json.dumps([record]))
    assert error_of(path) == "wide.json: the records have more than 10000 distinct keys"


def test_a_huge_value_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "leads.jsonl", '{"a": 1}\n' + json.dumps({"notes": "x" * (2 * 1024 * 1024)}) + "\n")
    assert error_of(path) == "leads.jsonl: row 2: the value of 'notes' is larger than 1 MB"
