"""The file a source resolved to (:class:`SourceFile`): its names, the local copy the readers open, its digest.

A remote file is downloaded, and a ``.gz`` or single-member ``.zip`` unpacked, into a scratch folder of its own
that :meth:`SourceFile.close` removes (and, failing that, the garbage collector or the interpreter's exit).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

from importer.errors import ConfigError

_UNSAFE = re.compile(r"[^\w.()\- ]+")

#: Moves the picked file into a folder (as the source's kind understands it); returns where it went, secret-free.
Mover = Callable[[str], str]


class Scratch:
    """A temporary folder for downloaded and unpacked files, removed by :meth:`close` or when garbage."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="superfone-source-"))
        self._remove = weakref.finalize(self, shutil.rmtree, str(self.folder), True)

    def file(self, name: str) -> Path:
        """A path in the folder for a file called ``name`` (cleaned: no folders, no odd characters)."""
        cleaned = _UNSAFE.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .") or "download"
        return self.folder / cleaned[-150:]

    def close(self) -> None:
        self._remove()


@dataclass(eq=False)
class SourceFile:
    """One file found at a source, ready to read.

    ``display``: the source as written, minus any secret (a glob stays a glob): what reports and logs name.
    ``location``: the file picked, minus any secret (a path, ``s3://bucket/key``, ``sftp://user@host/path``,
    ``https://host/path``, ``gsheets://ID/SHEET``). ``path``: the local file the readers open (the file itself
    for a local source; else a download, unpacked). ``kind``: ``local``, ``https``, ``s3``, ``sftp`` or
    ``gsheets``. ``modified``: when the file last changed at the source (None when the source does not say).
    ``size``: its size in bytes there (before unpacking; None when unknown). ``digest``: SHA-256 (hex) of the
    bytes the readers read, computed on first use: the same content gives the same digest, wherever it came from.
    """

    display: str
    location: str
    path: Path
    kind: str
    modified: datetime | None = None
    size: int | None = None
    scratch: Scratch | None = field(default=None, repr=False)
    mover: Mover | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """The picked file's own name (``leads-2024-05-01.csv.gz``; a Google sheet's title)."""
        return PurePosixPath(self.location.split("?", 1)[0].replace("\\", "/")).name or self.path.name

    @cached_property
    def digest(self) -> str:
        digest = hashlib.sha256()
        with open(self.path, "rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    def describe(self) -> dict[str, Any]:
        """What a report says of the file: kind, location, modification time, size, digest (nothing secret)."""
        return {"kind": self.kind, "file": self.location,
                "modified": self.modified.isoformat() if self.modified else None, "size": self.size,
                "digest": self.digest}

    def move_to(self, folder: str) -> str:
        """Move the picked file into ``folder`` (see :func:`importer.sources.locate.move_source`)."""
        if self.mover is None:
            raise ConfigError(f"{self.display}: only files can be moved (a local path, sftp:// or s3://), "
                              f"not a {self.kind} source")
        return self.mover(folder)

    def close(self) -> None:
        """Remove the downloaded and unpacked copies (the picked file itself stays where it is)."""
        if self.scratch is not None:
            self.scratch.close()

    def __enter__(self) -> SourceFile:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def archived_name(name: str, taken: Callable[[str], bool], now: datetime) -> str:
    """``name``, or when a file of that name is already there ``leads-20240501-020000.csv.gz`` (then ``-2``, …)."""
    if not taken(name):
        return name
    stem, dot, suffixes = name.partition(".")
    stamp = f"{stem}-{now:%Y%m%d-%H%M%S}"
    candidate, number = f"{stamp}{dot}{suffixes}", 2
    while taken(candidate):
        candidate, number = f"{stamp}-{number}{dot}{suffixes}", number + 1
    return candidate
