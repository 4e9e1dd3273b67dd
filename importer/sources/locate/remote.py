"""What S3 and SFTP sources share: an fsspec file system, listed, picked from, downloaded from and moved within.

Each kind (:mod:`.s3`, :mod:`.sftp`) describes itself as a :class:`Remote`: how to connect (credentials as that
kind reads them), how to name a file without secrets, and what its own errors mean. Every error becomes one
:class:`~importer.errors.InputError` line naming the source; the libraries' texts are never shown as they are.
"""

from __future__ import annotations

import asyncio
import posixpath
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from importer.errors import ImporterError, InputError
from importer.sources.locate.archive import is_packed, unpack
from importer.sources.locate.found import Scratch, SourceFile, archived_name
from importer.sources.locate.local import READABLE
from importer.sources.locate.pick import Entry, choose, is_pattern, listed


@dataclass(frozen=True)
class Remote:
    """One remote source. ``path``: the file, folder or glob in the file system's terms (``bucket/key`` for S3,
    ``/data/leads.csv`` for SFTP); ``root``: what an absolute ``move_to`` folder starts from (the bucket)."""

    kind: str
    where: str
    path: str
    root: str
    connect: Callable[[], Any]
    location: Callable[[str], str]
    explain: Callable[[BaseException], str | None]
    disconnect: Callable[[Any], None] | None = None


def locate_remote(remote: Remote, *, pick: str, settle: float, now: float | None, max_bytes: int) -> SourceFile:
    """Pick the file, download it into a scratch folder, unpack it if packed."""
    with connected(remote) as fs:
        entry = _pick(fs, remote, pick, settle, now)
        if entry.size is not None and entry.size > max_bytes:
            raise InputError(f"{remote.where}: {posixpath.basename(entry.name)} is {entry.size:,} bytes, above the "
                             f"{max_bytes:,}-byte limit")
        scratch = Scratch()
        try:
            target = scratch.file(posixpath.basename(entry.name))
            fs.get_file(entry.name, str(target))
            readable = unpack(target, scratch, remote.where, max_bytes) if is_packed(target.name) else target
        except BaseException:
            scratch.close()
            raise
    return SourceFile(remote.where, remote.location(entry.name), readable, remote.kind, entry.modified_at,
                      entry.size, scratch, mover=lambda folder: move_remote(remote, entry.name, folder))


def move_remote(remote: Remote, source: str, folder: str) -> str:
    """Move ``source`` into ``folder`` on the same server or bucket: an absolute folder (``/archive``, or
    ``s3://bucket/archive``) as written, a relative one beside the file (``done`` → ``exports/done``)."""
    target = destination(remote, source, folder)
    with connected(remote) as fs:
        with suppress(FileExistsError):
            fs.makedirs(target, exist_ok=True)
        name = archived_name(posixpath.basename(source), lambda candidate: fs.exists(f"{target}/{candidate}"),
                             datetime.now())
        fs.mv(source, f"{target}/{name}")
    return remote.location(f"{target}/{name}")


def destination(remote: Remote, source: str, folder: str) -> str:
    prefix = f"{remote.kind}://"
    if folder.startswith(prefix):
        return folder[len(prefix):].rstrip("/")
    if folder.startswith("/"):
        return posixpath.join(remote.root, folder.lstrip("/")).rstrip("/") if remote.root else folder.rstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), folder))


@contextmanager
def connected(remote: Remote) -> Iterator[Any]:
    """A file system for ``remote``, closed afterwards; its errors turned into one InputError line."""
    fs = None
    try:
        fs = remote.connect()
        yield fs
    except ImporterError:
        raise
    except Exception as exc:
        raise InputError(f"{remote.where}: {remote.explain(exc) or _explain(exc)}") from None
    finally:
        if fs is not None:
            with suppress(Exception):
                (remote.disconnect or _close)(fs)


def _pick(fs: Any, remote: Remote, pick: str, settle: float, now: float | None) -> Entry:
    if is_pattern(remote.path):
        found = fs.glob(remote.path, detail=True)
        entries = [_entry(info) for info in found.values() if info.get("type") == "file"]
        return choose(entries, remote.where, pick=pick, settle=settle, now=now)
    info = fs.info(remote.path)
    if info.get("type") != "directory":
        return _entry(info)
    entries = [_entry(item) for item in fs.ls(remote.path, detail=True)
               if item.get("type") == "file" and str(item["name"]).lower().endswith(READABLE)]
    return choose(listed(entries), remote.where, pick=pick, settle=settle, now=now, folder=True)


def _entry(info: dict[str, Any]) -> Entry:
    modified = info.get("LastModified", info.get("mtime"))
    if isinstance(modified, datetime):
        stamp: float | None = modified.timestamp()
    elif isinstance(modified, int | float):
        stamp = float(modified)
    else:
        stamp = None
    size = info.get("size")
    return Entry(str(info["name"]), int(size) if isinstance(size, int) else None, stamp)


def _explain(exc: BaseException) -> str:
    """A short, secret-free reason for a library's exception (its own text is never used)."""
    if isinstance(exc, FileNotFoundError):
        return "no such file or folder"
    if isinstance(exc, PermissionError):
        return "access denied"
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "no answer in time (timed out)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, OSError):
        return f"cannot reach the server ({exc.strerror or type(exc).__name__})"
    return f"failed ({type(exc).__name__})"


def _close(fs: Any) -> None:
    closer = getattr(fs, "close", None)
    if callable(closer):
        closer()
