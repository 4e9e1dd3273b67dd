"""Cell text made safe for spreadsheets: formula-injection neutralising and CSV/XLSX encoding.

The rule (OWASP's CSV-injection advice, made reversible):

* a cell whose text starts with ``=`` ``+`` ``-`` ``@`` tab or CR gets one apostrophe in front;
* so does a cell that already starts with one or more apostrophes followed by one of those characters,
  so that :func:`restore` (drop one leading apostrophe when apostrophes are followed by a trigger) is exact;
* every other cell is written as it is (``'tis`` stays ``'tis``).

Separators inside a cell are not rewritten: a CSV cell that contains ``,`` ``;`` ``"`` tab, CR or LF is
quoted, so no reader (nor Excel set to a ``;`` or tab list separator) splits it and sees a trigger
at the start of a new cell. Everything else is quoted minimally.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["TRIGGERS", "csv_line", "neutralise", "restore", "xlsx_text"]

#: Characters that make a spreadsheet read a cell as a formula (or a DDE command) when they come first.
TRIGGERS = "=+-@\t\r"
_FIRST_CHARACTERS = frozenset(TRIGGERS + "'")
_NEEDS_APOSTROPHE = re.compile(r"'*[=+\-@\t\r]")
_HAS_APOSTROPHE = re.compile(r"'+[=+\-@\t\r]")
_NEEDS_QUOTES = re.compile(r'[",;\t\r\n]')
#: Characters XML 1.0 (hence XLSX) cannot hold.
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
XLSX_MAX_CELL = 32_767


def neutralise(text: str) -> str:
    """``text`` safe to put in a spreadsheet cell: an apostrophe in front when it could start a formula."""
    if text and text[0] in _FIRST_CHARACTERS and _NEEDS_APOSTROPHE.match(text):
        return "'" + text
    return text


def restore(text: str) -> str:
    """Undo :func:`neutralise` exactly: ``restore(neutralise(t)) == t`` for every ``t``."""
    if text[:1] == "'" and _HAS_APOSTROPHE.match(text):
        return text[1:]
    return text


def _csv_field(text: str) -> str:
    text = neutralise(text)
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_line(cells: Iterable[str]) -> str:
    """One CSV record (RFC 4180, CRLF) of neutralised cells."""
    fields = [_csv_field(cell) for cell in cells]
    if fields == [""]:
        fields = ['""']  # a lone empty field would read back as a blank line
    return ",".join(fields) + "\r\n"


def xlsx_text(text: str) -> str:
    """Neutralised text a worksheet cell can hold: characters XML forbids become U+FFFD, cut at 32,767."""
    return _NOT_IN_XLSX.sub("\ufffd", neutralise(text))[:XLSX_MAX_CELL]
