"""Where the sheet lives: find the file a source names, bring it here, and say what it is.

    with locate_source("s3://leads/exports/leads-*.csv", settle=60) as found:
        found.display     # "s3://leads/exports/leads-*.csv": the source as written, minus secrets
        found.location    # "s3://leads/exports/leads-2024-05-01.csv": the file picked
        found.path        # the local copy the readers open (downloaded, unpacked)
        found.digest, found.modified, found.size
        open_table(found) ...
        move_source(found, "done")   # after the run, if the job says so

Sources: a path; a glob or a folder (the newest file, by modification time or ``pick="name"``, once it has not
changed for ``settle`` seconds); ``https://…`` (``http://`` on loopback); ``s3://bucket/key-or-glob``;
``sftp://user@host[:port]/path-or-glob``; ``gsheets://SPREADSHEET_ID[/SHEET_NAME]``. ``.gz`` and single-member
``.zip`` files are read through. Every failure is one InputError (ConfigError for a missing extra) whose message
names the source without its secrets.
"""

from __future__ import annotations

import os
from os import PathLike
from pathlib import Path

from importer.errors import InputError
from importer.sources.locate.archive import MAX_BYTES, is_packed
from importer.sources.locate.found import SourceFile
from importer.sources.locate.local import locate_local
from importer.sources.locate.pick import DEFAULT_SETTLE, PICKS, check_pick, is_pattern
from importer.sources.locate.uri import display_name, is_address, kind_of, parse, secrets_in

__all__ = [
    "DEFAULT_SETTLE",
    "MAX_BYTES",
    "PICKS",
    "SourceFile",
    "display_name",
    "locate_source",
    "move_source",
    "needs_locating",
    "source_secrets",
]


def locate_source(source: str | PathLike[str], *, pick: str = "mtime", settle: float = DEFAULT_SETTLE,
                  max_bytes: int = MAX_BYTES, now: float | None = None) -> SourceFile:
    """The file ``source`` names, ready to read (close it, or use it as a context manager, when done).

    ``pick``: ``mtime`` (the newest file of a glob or folder) or ``name`` (the last by name). ``settle``: seconds
    a glob's or folder's newest file must have stayed unchanged (:class:`~importer.errors.SourceNotReady`
    otherwise). ``max_bytes``: the largest download or unpacked file. ``now``: the clock, for tests.
    """
    check_pick(pick, settle)
    text = os.fspath(source)
    kind = kind_of(text)
    if kind == "local":
        return locate_local(text, pick=pick, settle=settle, now=now, max_bytes=max_bytes)
    address = parse(text)
    if kind == "https":
        from importer.sources.locate.web import locate_web

        return locate_web(address, max_bytes=max_bytes)
    if kind == "gsheets":
        from importer.sources.locate.gsheets import locate_sheet

        return locate_sheet(address)
    from importer.sources.locate.remote import locate_remote

    if kind == "s3":
        from importer.sources.locate.s3 import s3_remote

        remote = s3_remote(address)
    else:
        from importer.sources.locate.sftp import sftp_remote

        remote = sftp_remote(address)
    return locate_remote(remote, pick=pick, settle=settle, now=now, max_bytes=max_bytes)


def move_source(found: SourceFile, folder: str | PathLike[str]) -> str:
    """Move the file ``found`` was read from into ``folder``; returns where it went (secret-free).

    Local: ``folder`` is a local path (created if missing). S3 and SFTP: a folder on the same bucket or server,
    absolute (``/archive``, ``s3://bucket/archive``) or relative to the file's own folder (``done``). A name
    already taken there gets a time stamp (``leads-20240501-020000.csv``). ConfigError for a source that is
    not a file (``https://``, ``gsheets://``); InputError when the move fails.
    """
    return found.move_to(os.fspath(folder))


def needs_locating(source: str | PathLike[str]) -> bool:
    """True when ``source`` is more than a plain local file: a URI, a glob, a folder, or a packed file."""
    text = os.fspath(source)
    if is_address(text):
        return True
    path = Path(os.path.expanduser(text))
    if path.is_file():
        return is_packed(path.name)
    return path.is_dir() or is_pattern(text) or is_packed(path.name)


def source_secrets(source: str | PathLike[str]) -> list[str]:
    """What must never be shown for ``source``: its URI's password and query values, and the credentials its
    kind reads from the environment (AWS keys, the SFTP password)."""
    text = os.fspath(source)
    found = secrets_in(text)
    try:
        kind = kind_of(text)
    except InputError:  # an unknown scheme: nothing is read from the environment for it
        return found
    names = {"s3": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"),
             "sftp": ("SF_SFTP_PASSWORD",)}.get(kind, ())
    found.extend(value for name in names if (value := os.environ.get(name)))
    return found
