"""JSON (an array of objects) and JSON Lines, flattened to text cells under dotted column names.

Numbers keep the digits as written (``parse_int``/``parse_float`` return the source text), ``null`` becomes
"", booleans "true"/"false", nested objects ``metadata.company`` and lists of scalars "a; b".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from importer.models import Row
from importer.sources.sniffing import detect_encoding, read_sample
from importer.sources.table import MAX_CELL_BYTES, MAX_COLUMNS, Table, input_error

LIST_SEPARATOR = "; "


def _loads(text: str) -> Any:
    return json.loads(text, parse_int=str, parse_float=str, parse_constant=str)


class JsonTable(Table):
    """A JSON array (``records`` holds the parsed elements) or a JSON Lines file (read again per pass)."""

    def __init__(self, path: Path, kind: str, encoding: str, records: list[Any] | None) -> None:
        super().__init__(path, [], encoding=encoding)
        self.kind = kind
        self._records = records
        seen: dict[str, None] = {}
        for row in self._flat_rows():
            seen.update(dict.fromkeys(row.cells))
            if len(seen) > MAX_COLUMNS:
                raise input_error(path, f"the records have more than {MAX_COLUMNS} distinct keys")
        if "" in seen:
            raise input_error(path, "a record has a key with no name")
        self.columns = list(seen)

    def rows(self) -> Iterator[Row]:
        columns = self.columns
        for row in self._flat_rows():
            cells = row.cells
            yield Row(row.number, {name: cells.get(name, "") for name in columns})

    def _flat_rows(self) -> Iterator[Row]:
        """Flattened records with only the keys each one has."""
        if self._records is not None:
            for number, record in enumerate(self._records, start=1):
                yield Row(number, self._flatten_record(record, number))
            return
        for number, record in self._jsonl_records():
            yield Row(number, self._flatten_record(record, number))

    def _jsonl_records(self) -> Iterator[tuple[int, Any]]:
        """Parsed non-blank lines with their line numbers; each line is decoded on its own."""
        number = 0
        try:
            for number, line in enumerate(self._lines(), start=1):  # noqa: B007 - number names the failing line
                if line.strip():
                    yield number, _loads(line)
        except json.JSONDecodeError as exc:
            raise input_error(self.path, f"invalid JSON ({exc.msg}, column {exc.colno})", number) from None
        except UnicodeDecodeError:
            raise input_error(self.path, f"is not valid {self.encoding} text; save it as UTF-8", number + 1) from None
        except RecursionError:
            raise input_error(self.path, "invalid JSON (nested too deeply)", number) from None

    def _lines(self) -> Iterator[str]:
        encoding = self.encoding or "utf-8"
        if encoding.startswith("utf-16"):  # a newline is two bytes: let the text layer split lines
            with self.path.open("r", encoding=encoding) as text:
                yield from text
            return
        with self.path.open("rb") as handle:
            for raw in handle:
                yield raw.decode(encoding)

    def _flatten_record(self, record: Any, number: int) -> dict[str, str]:
        if not isinstance(record, dict):
            found = "a list" if isinstance(record, list) else "a string, number or literal"
            raise input_error(self.path, f"expected an object (a record), found {found}", number)
        cells: dict[str, str] = {}
        try:
            _flatten(record, "", cells)
        except _RecordProblem as problem:
            raise input_error(self.path, str(problem), number) from None
        return cells


class _RecordProblem(Exception):
    """A record that cannot become a row; the caller adds the file and row."""


def _flatten(value: dict[str, Any], prefix: str, cells: dict[str, str]) -> None:
    for key, item in value.items():
        name = prefix + key
        if isinstance(item, dict):
            _flatten(item, name + ".", cells)
            continue
        if name in cells:
            raise _RecordProblem(f"key {name!r} appears twice once nested keys are flattened")
        if isinstance(item, list):
            text = LIST_SEPARATOR.join(_scalar_text(part) for part in item)
        else:
            text = _scalar_text(item)
        if len(text) > MAX_CELL_BYTES:
            raise _RecordProblem(f"the value of {name!r} is larger than 1 MB")
        cells[name] = text


def _scalar_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def open_json(path: Path, kind: str) -> JsonTable:
    """Open a .json (array of objects, or JSON Lines content) or .jsonl file and collect its columns."""
    sample = read_sample(path)
    if not sample.strip():
        raise input_error(path, "the file is empty")
    encoding = detect_encoding(path, sample)
    if kind == "jsonl":
        return JsonTable(path, "jsonl", encoding, None)
    try:
        text = path.read_text(encoding=encoding)
    except UnicodeDecodeError:
        raise input_error(path, f"is not valid {encoding} text; save it as UTF-8") from None
    try:
        document = _loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and text.lstrip().startswith("{"):
            return JsonTable(path, "jsonl", encoding, None)
        raise input_error(path, f"invalid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})") from None
    except RecursionError:
        raise input_error(path, "invalid JSON (nested too deeply)") from None
    return JsonTable(path, "json", encoding, _records_of(path, document))


def _records_of(path: Path, document: Any) -> list[Any]:
    """The records: the array itself, or the one array of objects in a wrapper like ``{"leads": [...]}``."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        arrays = [value for value in document.values() if isinstance(value, list) and value]
        arrays = [value for value in arrays if isinstance(value[0], dict)]
        if len(arrays) == 1:
            return arrays[0]
    raise input_error(path, "expected an array of objects (or JSON Lines: one object per line)")
