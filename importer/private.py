"""Files that may hold a lead's data are their owner's: created ``0600`` (folders ``0700``) whatever the umask.

The state, the journals, every run folder and its files, the page's work folder and uploads, pulled JSON Lines,
logs and backups hold customers' names, phones and e-mails. While the tool works (a command, a run of the library,
the page's server), :func:`owner_only` sets the process's file-creation mask to ``077`` — SQLite's ``-wal`` and
``-shm`` files, CSV writers and third-party libraries all create their files through it — and puts the caller's
back afterwards. A team that wants a group to read the reports names it (``--shared-group``): the mask is then
``027`` and each run folder is given to that group.

On Windows the mask has no say over who may read a file: files stay in the user's profile, whose access list keeps
them from other accounts of the machine.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from importer.errors import ConfigError

__all__ = ["OWNER_ONLY", "check_group", "give_to_group", "owner_only", "tighten", "warn_if_readable"]

logger = logging.getLogger(__name__)

#: The file-creation masks: owner only; owner, and a group that may read.
OWNER_ONLY, GROUP_READS = 0o077, 0o027
_lock = threading.Lock()
_depth = 0
_previous = 0
_warned: set[Path] = set()
POSIX = os.name == "posix"


@contextmanager
def owner_only(group: str | None = None) -> Iterator[None]:
    """Files and folders created in the block are their owner's (and ``group``'s to read, when named). Nested and
    concurrent blocks share one mask; the outermost puts the caller's back."""
    global _depth, _previous
    mask = GROUP_READS if group else OWNER_ONLY
    with _lock:
        if _depth == 0:
            _previous = os.umask(mask)
        elif group:
            os.umask(mask)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                os.umask(_previous)


def tighten(path: Path) -> None:
    """An existing file or folder of ours that others may read (an earlier version made it): owner only now."""
    if not POSIX:
        return
    try:
        mode = path.stat().st_mode
        if mode & 0o077:
            path.chmod(0o700 if stat.S_ISDIR(mode) else 0o600)
    except OSError:
        pass  # not ours to change (another owner): the warning below still tells


def warn_if_readable(folder: Path) -> None:
    """One warning line, once per folder, when a folder the user gave lets other accounts read what goes in it."""
    if not POSIX:
        return
    try:
        resolved, mode = folder.resolve(), folder.stat().st_mode
    except OSError:
        return
    with _lock:
        if resolved in _warned or not mode & 0o007:
            return
        _warned.add(resolved)
    logger.warning("%s can be read by other accounts of this machine (mode %o): the run folders inside are not, "
                   "but `chmod o-rwx %s` keeps their names from them too", folder, stat.S_IMODE(mode), folder)


def check_group(group: str) -> int:
    """The id of ``group``; one line (ConfigError) when it does not exist or the system has no such groups."""
    if not POSIX:
        raise ConfigError("--shared-group needs a POSIX system; on Windows, share the report folder from its "
                          "Properties → Security tab")
    import grp

    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise ConfigError(f"--shared-group {group}: no such group on this machine") from None


def give_to_group(folder: Path, group: str) -> None:
    """A finished run folder, readable by ``group``: its group set, folders ``0750``, files ``0640``."""
    gid = check_group(group)
    for path in [folder, *folder.rglob("*")]:
        try:
            os.chown(path, -1, gid)
            path.chmod(0o750 if path.is_dir() else 0o640)
        except OSError as exc:
            raise ConfigError(f"--shared-group {group}: cannot give {path} to the group ({exc.strerror})") from None
