"""Which reader a file gets, by its name: the suffixes the importer reads and the kind of table each makes."""

from __future__ import annotations

__all__ = ["KINDS", "WORKBOOK_KINDS"]

#: File suffix → ``Table.kind``. ``.txt`` is read as delimited text (kind "tsv" when tab-separated).
KINDS: dict[str, str] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsm",
    ".xls": "xls",
    ".ods": "ods",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
WORKBOOK_KINDS = frozenset({"xlsx", "xlsm", "xls", "ods"})
