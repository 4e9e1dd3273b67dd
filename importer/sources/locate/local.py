"""Local sources: a file (``.gz`` / ``.zip`` read through), a glob (``exports/leads-*.csv``) or a folder."""

from __future__ import annotations

import glob
import os
import shutil
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from importer.errors import InputError
from importer.sources.locate.archive import PACKED, is_packed, unpack
from importer.sources.locate.formats import KINDS
from importer.sources.locate.found import Scratch, SourceFile, archived_name
from importer.sources.locate.pick import Entry, choose, is_pattern, listed

#: What a folder offers: the files some reader takes, packed or not.
READABLE = tuple(KINDS) + tuple(f"{suffix}{packed}" for suffix in KINDS for packed in PACKED)


def local_path(text: str) -> str:
    """The path a local source names (``file:///data/leads.csv`` → ``/data/leads.csv``; ``~`` expanded)."""
    text = text.strip()
    if text.lower().startswith("file://"):
        parts = urlsplit(text)
        text = url2pathname(unquote(parts.path))
    return os.path.expanduser(text)


def locate_local(text: str, *, pick: str, settle: float, now: float | None, max_bytes: int) -> SourceFile:
    """The file ``text`` names, or the newest settled file its glob or folder holds; unpacked if packed."""
    where = text.strip()
    path = Path(local_path(text))
    if path.is_file():
        chosen = _entry(str(path))
    elif path.is_dir():
        files = [_entry(str(child)) for child in path.iterdir() if child.is_file() and _readable(child.name)]
        chosen = choose(listed(files), where, pick=pick, settle=settle, now=now, folder=True)
    elif is_pattern(str(path)):
        matches = [_entry(name) for name in glob.glob(str(path), recursive=True) if os.path.isfile(name)]
        chosen = choose(matches, where, pick=pick, settle=settle, now=now)
    else:
        raise InputError(f"{where}: file not found")
    return _found(where, Path(chosen.name), chosen, max_bytes)


def _found(where: str, picked: Path, entry: Entry, max_bytes: int) -> SourceFile:
    scratch = Scratch() if is_packed(picked.name) else None
    try:
        readable = unpack(picked, scratch, where, max_bytes) if scratch is not None else picked
    except BaseException:
        if scratch is not None:
            scratch.close()
        raise
    return SourceFile(where, str(picked), readable, "local", entry.modified_at, entry.size, scratch,
                      mover=lambda folder: move_local(picked, folder))


def move_local(picked: Path, folder: str) -> str:
    """Move ``picked`` into ``folder`` (created if missing); a name already there gets a time stamp."""
    target = Path(os.path.expanduser(folder))
    try:
        target.mkdir(parents=True, exist_ok=True)
        name = archived_name(picked.name, lambda candidate: (target / candidate).exists(), datetime.now())
        shutil.move(str(picked), str(target / name))
    except OSError as exc:
        raise InputError(f"{picked}: cannot move it to {folder} ({exc.strerror or type(exc).__name__})") from None
    return str(target / name)


def _entry(name: str) -> Entry:
    try:
        status = os.stat(name)
    except OSError as exc:
        raise InputError(f"{name}: cannot read it ({exc.strerror or type(exc).__name__})") from None
    return Entry(name, status.st_size, status.st_mtime)


def _readable(name: str) -> bool:
    return name.lower().endswith(READABLE)
