"""Cell value conversions used per row: booleans, e-mail addresses, templates, map tables (amounts: ``amounts``).

Everything here is a plain module-level function or a small slotted class, so compiled mappings pickle.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from operator import itemgetter
from typing import Any


class _Omit:
    """Marker: the value must not be sent (it was blank or invalid). Pickles to the same object."""

    def __repr__(self) -> str:
        return "OMIT"

    def __reduce__(self) -> str:
        return "OMIT"


OMIT: Any = _Omit()

_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+\Z")

_BOOLS = {
    "true": True,
    "yes": True,
    "y": True,
    "1": True,
    "false": False,
    "no": False,
    "n": False,
    "0": False,
}


def parse_bool(text: str) -> bool | None:
    """true/false/yes/no/y/n/1/0 in any case; None otherwise."""
    return _BOOLS.get(text.casefold())


def is_email(text: str) -> bool:
    """A plausible address: one ``@``, something before it, a dotted domain, no spaces."""
    return _EMAIL.match(text) is not None


def fold(text: str) -> str:
    """Key for case- and space-insensitive matching."""
    return "".join(text.split()).casefold()


class ValueMap:
    """A ``map:`` table: exact match first, then ignoring case and spaces. Targets: text, or None (clear)."""

    __slots__ = ("exact", "loose", "keys_text")

    def __init__(self, table: Mapping[str, str | None]) -> None:
        self.exact = {
            key.strip(): (None if target is None else target.strip()) for key, target in table.items()
        }
        self.loose = {fold(key): target for key, target in self.exact.items()}
        keys = list(self.exact)
        self.keys_text = ", ".join(repr(key) for key in keys[:12]) + (", …" if len(keys) > 12 else "")

    def conflicts(self) -> tuple[str, str] | None:
        """Two keys that differ only by case or spaces but map to different targets."""
        seen: dict[str, str] = {}
        for key, target in self.exact.items():
            other = seen.setdefault(fold(key), key)
            if other != key and self.exact[other] != target:
                return other, key
        return None

    def get(self, text: str, missing: Any) -> Any:
        exact = self.exact.get(text, missing)
        return exact if exact is not missing else self.loose.get(fold(text), missing)


class Template:
    """``"Imported from {Source}: {Notes}"``. Placeholders are column names; ``{{`` and ``}}`` are braces."""

    __slots__ = ("head", "parts", "columns", "_cells_of", "_rendered")

    #: Most renderings remembered (a full memory starts again).
    RENDERED_SIZE = 50_000

    def __init__(self, head: str, parts: tuple[tuple[str, str], ...]) -> None:
        self.head = head
        self.parts = parts  # (column, the literal text after it)
        self.columns = tuple(dict.fromkeys(column for column, _ in parts))
        self._start()

    def _start(self) -> None:
        #: The template's cells of a row in one C call, and what each combination of them rendered: a note
        #: template over a few columns of repeated values ("Imported from {Source}: {Notes}") renders the same
        #: text on many rows (a checking process of ``benchmarks/bench_validate.py``: 1.6 µs a row, 0.5 with it).
        self._cells_of = itemgetter(*self.columns) if self.columns else None
        self._rendered: dict[Any, str] = {}

    def __getstate__(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return self.head, self.parts

    def __setstate__(self, state: tuple[str, tuple[tuple[str, str], ...]]) -> None:
        self.head, self.parts = state
        self.columns = tuple(dict.fromkeys(column for column, _ in self.parts))
        self._start()

    @classmethod
    def parse(cls, text: str) -> Template:
        """Compile ``text``; raises ValueError with a short reason when braces do not pair up."""
        parts: list[tuple[str, str]] = []
        literal: list[str] = []
        index = 0
        while index < len(text):
            char = text[index]
            pair = text[index : index + 2]
            if pair in ("{{", "}}"):
                literal.append(char)
                index += 2
            elif char == "}":
                raise ValueError(f"a lone '}}' at character {index + 1}; write '}}}}' for a brace")
            elif char == "{":
                end = text.find("}", index)
                name = text[index + 1 : end].strip() if end >= 0 else ""
                if end < 0 or "{" in text[index + 1 : end]:
                    raise ValueError(f"'{{' at character {index + 1} is not closed; write '{{{{' for a brace")
                if not name:
                    raise ValueError(f"empty placeholder at character {index + 1}; expected {{Column Name}}")
                parts.append(("".join(literal), name))
                literal = []
                index = end + 1
            else:
                literal.append(char)
                index += 1
        literals = [*(text for text, _ in parts), "".join(literal)]
        return cls(literals[0], tuple((column, literals[i + 1]) for i, (_, column) in enumerate(parts)))

    @property
    def remembered(self) -> dict[Any, str]:
        """What :meth:`render` remembers: the text rendered, by the template's cells (the one cell's text, or a
        tuple of them in the order of :attr:`columns`)."""
        return self._rendered

    def render(self, cells: Mapping[str, str]) -> str:
        """The filled text, stripped; "" when only punctuation and spaces remain.

        Separators next to a blank placeholder at either end are dropped: ``"{Company}, {City}"`` renders
        ``"Kochi"``, not ``", Kochi"``, when Company is blank.
        """
        if self._cells_of is None:
            return self._render(cells)
        try:
            key = self._cells_of(cells)
        except KeyError:  # a row without one of the columns (it reads as blank)
            return self._render(cells)
        rendered = self._rendered.get(key)
        if rendered is None:
            if len(self._rendered) >= self.RENDERED_SIZE:
                self._rendered.clear()
            rendered = self._rendered[key] = self._render(cells)
        return rendered

    def _render(self, cells: Mapping[str, str]) -> str:
        pieces = [self.head]
        append = pieces.append
        blank = False
        for column, literal in self.parts:
            value = cells.get(column)
            if value:
                value = value.strip()
            if not value:
                blank = True
                value = ""
            append(value)
            append(literal)
        if blank:
            _trim_edge_separators(pieces)
        result = "".join(pieces).strip()
        for char in result:
            if char.isalnum():
                return result
        return ""


_SEPARATORS = " \t\r\n,;:|/-–—·•"


def _trim_edge_separators(pieces: list[str]) -> None:
    """``pieces`` alternate literal, value, …, literal. Separators are stripped off a literal that is left at
    either end because the values beyond it are blank; the template's own first and last text stay."""
    last = len(pieces) - 1
    for indexes, end, strip in ((range(last + 1), 0, str.lstrip), (range(last, -1, -1), last, str.rstrip)):
        for index in indexes:
            piece = pieces[index]
            if not piece:
                continue
            if index % 2 or index == end:
                break  # real content, or the template's own opening / closing text
            pieces[index] = strip(piece, _SEPARATORS)
            if pieces[index]:
                break
