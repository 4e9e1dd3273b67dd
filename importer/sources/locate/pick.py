"""Which file of a glob or folder is read: the newest (by modification time, or the last by name), once settled.

A file whose size or modification time changed in the last ``settle`` seconds may still be being written (an
upload in progress): it is not picked yet, and :class:`~importer.errors.SourceNotReady` says how long to wait.
Every kind of source (local, S3, SFTP) lists its files as :class:`Entry` records and picks with :func:`choose`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath

from importer.errors import ConfigError, NoSourceFile, SourceNotReady

PICKS = ("mtime", "name")
FOLDER_EMPTY = "the folder holds no sheet (a .csv, .tsv, .txt, .xlsx, .xls, .ods, .json or .jsonl file, or a .gz/.zip)"
#: Seconds a glob's or folder's newest file must stay unchanged before it is read.
DEFAULT_SETTLE = 60.0
#: Characters that make a path a pattern (fnmatch / glob syntax).
PATTERN_CHARACTERS = frozenset("*?[")
#: A file no reader takes, left alone when a folder is listed: hidden files and partial downloads.
_IGNORED_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".filepart")


@dataclass(frozen=True)
class Entry:
    """One file of a listing: its full name (path or key), size in bytes and modification time (POSIX seconds)."""

    name: str
    size: int | None
    modified: float | None

    @property
    def modified_at(self) -> datetime | None:
        return None if self.modified is None else datetime.fromtimestamp(self.modified, UTC)


def is_pattern(path: str) -> bool:
    return any(character in PATTERN_CHARACTERS for character in path)


def check_pick(pick: str, settle: float) -> None:
    if pick not in PICKS:
        raise ConfigError(f"pick: {pick!r} is not one of {', '.join(PICKS)}")
    if settle < 0:
        raise ConfigError(f"settle: must be 0 or more seconds, got {settle:g}")


def listed(entries: Iterable[Entry]) -> list[Entry]:
    """The entries a folder listing offers: no hidden files, no partial downloads."""
    kept = []
    for entry in entries:
        base = PurePosixPath(entry.name.replace("\\", "/")).name
        if base.startswith(".") or base.lower().endswith(_IGNORED_SUFFIXES):
            continue
        kept.append(entry)
    return kept


def choose(entries: Iterable[Entry], where: str, *, pick: str = "mtime", settle: float = DEFAULT_SETTLE,
           now: float | None = None, folder: bool = False) -> Entry:
    """The file to read among ``entries`` (named ``where`` in messages).

    NoSourceFile (an InputError) when there is none; :class:`SourceNotReady` when the one to read changed less
    than ``settle`` seconds ago (it is not passed over for an older file: that one was most likely read already).
    """
    check_pick(pick, settle)
    found = list(entries)
    if not found:
        raise NoSourceFile(f"{where}: {FOLDER_EMPTY if folder else 'no file matches'}")
    if pick == "name":
        chosen = max(found, key=lambda entry: entry.name)
    else:
        chosen = max(found, key=lambda entry: (entry.modified or 0.0, entry.name))
    now = time.time() if now is None else now
    if settle and chosen.modified is not None:
        age = now - chosen.modified
        if age < settle:
            base = PurePosixPath(chosen.name.replace("\\", "/")).name
            raise SourceNotReady(
                f"{where}: {base} changed {max(age, 0):.0f} s ago and may still be being written; it is read once "
                f"it has not changed for {settle:g} s", wait=settle - max(age, 0.0))
    return chosen
