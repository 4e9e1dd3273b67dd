"""What pull asks for, read from a sheet and checked before any call (pure, apart from reading the sheet).

A LeadSquared key is a phone: the cell normalised as the importer reads phones everywhere, then sent as its
digits only (country code included, no ``+``, spaces or hyphens), as seed 003 asks. A PollyBot key is a lead
id, which must be ``lead_`` followed by letters and digits (seed 002's advice: validate before calling).
A cell that fails is an :class:`~importer.models.Issue` for its row; it is never sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from importer.errors import ConfigError
from importer.issues import issue
from importer.models import Issue, Row
from importer.phones.normalise import Phone, normalise_phone
from importer.sources import open_table

LEAD_ID = re.compile(r"lead_[A-Za-z0-9]+")


@dataclass(frozen=True, slots=True)
class Key:
    """One thing to ask the source for: the sheet ``row`` it comes from and the ``value`` sent."""

    row: int
    value: str


#: Turns one cell (row, column, text) into the value to send, or the Issue that keeps it from being sent.
Prepare = Callable[[int, str, str], "str | Issue"]


def phone_key(region: str) -> Prepare:
    """A LeadSquared key: the phone's E.164 digits without the ``+`` (``+91 98450-00000`` → ``919845000000``)."""

    def prepare(row: int, column: str, text: str) -> str | Issue:
        result = normalise_phone(text, region)
        if isinstance(result, Phone):
            return result.e164.lstrip("+")
        if result.code == "empty-phone" and not text.strip():
            return issue("missing-phone", row, column, "the cell is empty: there is no phone to look up")
        return issue(result.code, row, column, result.message, text)

    return prepare


def lead_id_key(row: int, column: str, text: str) -> str | Issue:
    """A PollyBot key: the id as typed (surrounding spaces dropped) when it is ``lead_[alphanumeric]``."""
    value = text.strip()
    if LEAD_ID.fullmatch(value):
        return value
    shown = "the cell is empty" if not value else f"{value!r} is not a PollyBot lead id"
    return issue("invalid-lead-id", row, column, f"{shown} (expected lead_ followed by letters and digits)", text)


def pick_column(columns: Sequence[str], asked: str | None, candidates: Sequence[str], path: Path) -> str:
    """The key column: ``asked`` (``--column``), else the first of ``candidates`` present (any case), else the
    only column. ConfigError names the file and the columns it has."""
    if asked is not None:
        if asked in columns:
            return asked
        raise ConfigError(f"{path.name}: no column {asked!r} (columns: {_listed(columns)})")
    folded = {column.casefold(): column for column in reversed(columns)}
    for candidate in candidates:
        if candidate.casefold() in folded:
            return folded[candidate.casefold()]
    if len(columns) == 1:
        return columns[0]
    raise ConfigError(f"{path.name}: which column holds the keys? Name it with --column "
                      f"(columns: {_listed(columns)})")


def _listed(columns: Sequence[str]) -> str:
    shown = ", ".join(repr(column) for column in columns[:12])
    return shown + (", …" if len(columns) > 12 else "")


def read_keys(path: Path, column: str | None, candidates: Sequence[str], prepare: Prepare,
              sheet: str | None = None) -> tuple[str, list[Key], list[Issue], int]:
    """The sheet's keys, in sheet order, each value once: (column, keys, issues, repeats).

    A cell that fails ``prepare`` is an issue; a value already seen on an earlier row is counted in ``repeats``
    and asked once. InputError/ConfigError when the sheet cannot be read or has no such column.
    """
    table = open_table(path, sheet)
    chosen = pick_column(table.columns, column, candidates, path)
    keys: list[Key] = []
    issues: list[Issue] = []
    seen: set[str] = set()
    repeats = 0
    for row, text in _cells(table.rows(), chosen):
        prepared = prepare(row, chosen, text)
        if isinstance(prepared, Issue):
            issues.append(prepared)
        elif prepared in seen:
            repeats += 1
        else:
            seen.add(prepared)
            keys.append(Key(row, prepared))
    return chosen, keys, issues, repeats


def _cells(rows: Iterator[Row], column: str) -> Iterator[tuple[int, str]]:
    for row in rows:
        yield row.number, row.cells.get(column, "")
