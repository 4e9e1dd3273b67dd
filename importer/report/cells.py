"""Cell text made safe for spreadsheets: formula-injection neutralising and cells for CSV and XLSX.

The rule (OWASP's CSV-injection advice, made reversible):

* a cell whose text starts with ``=`` ``+`` ``-`` ``@`` tab or CR gets one apostrophe in front;
* so does a cell that already starts with one or more apostrophes followed by one of those characters,
  so that :func:`restore` (drop one leading apostrophe when apostrophes are followed by a trigger) is exact;
* every other cell is written as it is (``'tis`` stays ``'tis``).

Separators inside a cell are not rewritten (that would change the data a re-import reads): the csv
module quotes every cell that holds a ``,``, a quote or a line break, so a CSV reader never sees a trigger
at the start of a cell that the writer did not neutralise. Cells are quoted minimally. One case is left
open: Excel set to a ``;`` list separator ignores the commas, so text after a ``;`` inside a cell becomes a
cell of its own there; failures.xlsx is the file to open in a spreadsheet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["TRIGGERS", "neutralise", "restore", "safe_cells", "xlsx_text"]

#: Characters that make a spreadsheet read a cell as a formula (or a DDE command) when they come first.
TRIGGERS = "=+-@\t\r"
_FIRST_CHARACTERS = frozenset(TRIGGERS + "'")
_NEEDS_APOSTROPHE = re.compile(r"'*[=+\-@\t\r]")
_HAS_APOSTROPHE = re.compile(r"'+[=+\-@\t\r]")
#: Characters XML 1.0 (hence XLSX) cannot hold.
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: The underscore of a literal ``_xHHHH_``, which a reader would otherwise decode as an OOXML escape.
_LOOKS_ESCAPED = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
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


def safe_cells(cells: Iterable[str]) -> list[str]:
    """Every cell of a CSV record, neutralised."""
    return [neutralise(cell) for cell in cells]


def xlsx_text(text: str) -> str:
    """Neutralised text a worksheet cell can hold: characters XML forbids become U+FFFD, cut at 32,767.

    A carriage return is written as the OOXML escape ``_x000D_`` (XML parsers turn a raw one into a line
    feed), and a literal ``_xHHHH_`` gets its underscore escaped, so Excel and calamine read the text back
    exactly.
    """
    cell = _NOT_IN_XLSX.sub("\ufffd", neutralise(text))[:XLSX_MAX_CELL]
    if "_" in cell:
        cell = _LOOKS_ESCAPED.sub("_x005F_", cell)
    return cell.replace("\r", "_x000D_") if "\r" in cell else cell
