"""A sync state in PostgreSQL: the same tables as the SQLite file, for a team whose runs start on several machines.

``--state postgresql://USER@HOST/DB`` (or ``SF_STATE``). The tables live in the schema ``superfone_importer``;
the password comes from ``PGPASSWORD`` or ``~/.pgpass`` as for every libpq program (one written into the URL is
used, and never shown). One run at a time per account: a session-level advisory lock, which the server releases
when the session ends, so a run killed with ``kill -9`` (or a machine that lost power) leaves nothing to clean.
The driver is psycopg (``pip install 'superfone-importer[postgres]'``).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from importer.errors import ConfigError
from importer.run.stores.home import redact_url
from importer.run.stores.lock import Holder, RunLocked, who_holds
from importer.run.stores.schema import POSTGRES_TABLES

__all__ = ["PostgresDatabase", "StateUnavailable"]

SCHEMA = "superfone_importer"
SCHEMA_VERSION = 1
#: Serialises creating the tables when two runs meet an empty database at once.
_CREATE_LOCK = 0x53464953
_TABLES = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
SET search_path TO {SCHEMA};
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
{POSTGRES_TABLES}
CREATE TABLE IF NOT EXISTS holder (lock_key BIGINT PRIMARY KEY, holder TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('schema_version', '{SCHEMA_VERSION}') ON CONFLICT (key) DO NOTHING;
"""


class StateUnavailable(ConfigError):
    """The state's database cannot be reached or refused a statement: the run stops (exit 2), naming it."""


def _driver() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ConfigError("a PostgreSQL state needs its driver: pip install 'superfone-importer[postgres]'") from None
    return psycopg


def lock_key(account: str) -> int:
    """The advisory lock's key of an account: 63 bits of a digest (PostgreSQL's keys are signed 64-bit)."""
    return int.from_bytes(hashlib.sha256(f"superfone-importer|{account}".encode()).digest()[:8], "big") >> 1


#: Take the account's lock and, when taken, write who holds it, in one statement: a run refused a moment later
#: reads the name of the run that holds it (two runs started together: with the name written by a statement of
#: its own, 1 refusal in 12 said "another process").
_LOCK_AND_NAME = (
    "WITH taken AS (SELECT pg_try_advisory_lock(?) AS ok), "
    "named AS (INSERT INTO holder (lock_key, holder) SELECT ?, ? FROM taken WHERE ok "
    "ON CONFLICT (lock_key) DO UPDATE SET holder = excluded.holder) "
    "SELECT ok FROM taken")  # (a statement's data-modifying WITH always runs, read or not)


class PostgresDatabase:
    """One autocommit connection, shared by the run's threads under a lock (psycopg serialises them anyway)."""

    def __init__(self, url: str) -> None:
        self.where = redact_url(url)
        self._psycopg = _driver()
        self._lock = threading.RLock()
        try:
            self._db = self._psycopg.connect(url, autocommit=True, connect_timeout=10,
                                             application_name="superfone-import")
        except self._psycopg.Error as exc:
            raise StateUnavailable(f"cannot open the state {self.where}: {_first_line(exc, url)}") from None
        self._create()

    def _create(self) -> None:
        with self.transaction():
            self.rows("SELECT pg_advisory_xact_lock(?)", (_CREATE_LOCK,))
            with self._errors():
                self._db.execute(_TABLES)
        found = self.rows("SELECT value FROM meta WHERE key = 'schema_version'")
        if found and int(found[0][0]) > SCHEMA_VERSION:
            raise ConfigError(f"{self.where} was written by a newer importer (version {found[0][0]} of its "
                              f"format, this one reads {SCHEMA_VERSION}): upgrade, or use another --state")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except self._psycopg.Error as exc:
            raise StateUnavailable(f"the state {self.where}: {_first_line(exc, '')}") from None

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock, self._errors():
            cursor = self._db.execute(sql.replace("?", "%s") if params else sql, params or None)
            return list(cursor.fetchall()) if cursor.description else []

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._lock, self._errors(), self._db.cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), list(rows))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock, self._errors(), self._db.transaction():
            yield

    def begin(self) -> None:
        self.rows("BEGIN")

    def commit(self) -> None:
        self.rows("COMMIT")

    def rollback(self) -> None:
        self.rows("ROLLBACK")

    @contextmanager
    def run_lock(self, account: str) -> Iterator[None]:
        """The account's advisory lock on this connection, for the length of the block."""
        key = lock_key(account)
        if not self.rows(_LOCK_AND_NAME, (key, key, Holder.me().dumps()))[0][0]:
            raise RunLocked(f"another run is using {self.where} for this account: "
                            f"{who_holds(lambda: self._holder(key))}")
        try:
            yield
        finally:
            if not self._db.closed:
                self.rows("SELECT pg_advisory_unlock(?)", (key,))  # its name stays: a refusal racing its end

    def _holder(self, key: int) -> Holder | None:
        """Who holds the account's lock, as it wrote itself in the statement that took the lock (none yet while
        that statement has not ended: :func:`who_holds` reads again)."""
        found = self.rows("SELECT holder FROM holder WHERE lock_key = ?", (key,))
        return Holder.parse(found[0][0]) if found else None

    def close(self) -> None:
        self._db.close()


def _first_line(exc: BaseException, url: str) -> str:
    """The driver's message, first line only, with the URL's password (if it repeats it) masked."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.replace(url, redact_url(url)) if url else text
