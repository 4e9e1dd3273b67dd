"""A throwaway PostgreSQL cluster for the tests of a state shared in PostgreSQL: initdb and pg_ctl in a temporary
folder, on a free loopback port, with trust authentication; stopped and removed at the end.

The server refuses to run as root: as root, the cluster belongs to the ``postgres`` user (Debian's package creates
it) and its commands run as that user. Without PostgreSQL's programs the tests that need it are left out, with one
line saying how to install them (``.ci/run`` installs Debian's ``postgresql`` when missing).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

INSTALL = "apt-get install postgresql"


def server_programs() -> Path | None:
    """The folder holding initdb and pg_ctl: on the PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(folder, "initdb").is_file() and Path(folder, "pg_ctl").is_file():
            return Path(folder)
    return None


def _as_owner(command: list[str]) -> list[str]:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def cluster() -> Iterator[str]:
    """A running cluster: yields the URL of its ``postgres`` database."""
    programs = server_programs()
    assert programs is not None
    folder = Path(tempfile.mkdtemp(prefix="sf-pg-"))
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", _free_port()
    run = lambda *args: subprocess.run(_as_owner([str(programs / args[0]), *args[1:]]), check=True,  # noqa: E731
                                       capture_output=True, timeout=120, cwd=folder)
    try:
        run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        run("pg_ctl", "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50", "start")
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            run("pg_ctl", "-D", str(data), "-m", "immediate", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def new_database(server_url: str) -> str:
    """A database of its own for one test: the URL of an empty database on the cluster."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + "/" + name
