"""``.gz`` and single-member ``.zip`` files, read through: unpacked into the source's scratch folder.

``leads.csv.gz`` becomes ``leads.csv``; a zip must hold exactly one file (folders, ``__MACOSX/`` and hidden
files aside). Unpacking stops at ``max_bytes`` so a small archive cannot fill the disk.
"""

from __future__ import annotations

import gzip
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Protocol

from importer.errors import InputError
from importer.sources.locate.found import Scratch

#: Largest file a download or an archive may unpack to (bytes).
MAX_BYTES = 2 * 1024**3
PACKED = (".gz", ".zip")


def is_packed(name: str) -> bool:
    return name.lower().endswith(PACKED)


def unpack(path: Path, scratch: Scratch, where: str, max_bytes: int = MAX_BYTES) -> Path:
    """The file to read for ``path``: itself, or what its ``.gz`` / ``.zip`` holds (unpacked into ``scratch``)."""
    lower = path.name.lower()
    try:
        if lower.endswith(".gz"):
            target = scratch.file(path.name[:-3])
            with gzip.open(path, "rb") as packed:
                _copy(packed, target, where, max_bytes)
            return target
        if lower.endswith(".zip"):
            return _unzip(path, scratch, where, max_bytes)
    except (gzip.BadGzipFile, EOFError, zlib.error, zipfile.BadZipFile):
        raise InputError(f"{where}: {path.name} is not a valid {'gzip' if lower.endswith('.gz') else 'zip'} "
                         "file (damaged or cut short)") from None
    except OSError as exc:
        raise InputError(f"{where}: cannot unpack {path.name} ({exc.strerror or type(exc).__name__})") from None
    return path


def _unzip(path: Path, scratch: Scratch, where: str, max_bytes: int) -> Path:
    with zipfile.ZipFile(path) as archive:
        members = [info for info in archive.infolist() if _is_member(info)]
        if len(members) != 1:
            names = ", ".join(info.filename for info in members[:5]) or "nothing"
            raise InputError(f"{where}: a .zip must hold exactly one sheet; {path.name} holds {len(members)} "
                             f"files ({names})")
        member = members[0]
        if member.file_size > max_bytes:
            raise InputError(f"{where}: {member.filename} unpacks to {member.file_size:,} bytes, above the "
                             f"{max_bytes:,}-byte limit")
        target = scratch.file(PurePosixPath(member.filename).name)
        with archive.open(member) as packed:
            _copy(packed, target, where, max_bytes)
    return target


def _is_member(info: zipfile.ZipInfo) -> bool:
    name = PurePosixPath(info.filename)
    return not info.is_dir() and "__MACOSX" not in name.parts and not name.name.startswith(".")


class _Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


def _copy(source: _Readable, target: Path, where: str, max_bytes: int) -> None:
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(1 << 20):
            written += len(chunk)
            if written > max_bytes:
                raise InputError(f"{where}: unpacks to more than {max_bytes:,} bytes, the limit")
            out.write(chunk)
