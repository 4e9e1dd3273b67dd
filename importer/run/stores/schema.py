"""The sync state's tables, declared once: as SQLite runs them, and translated for PostgreSQL.

Every statement is idempotent (``IF NOT EXISTS``): two runs that meet a new state at once both run it, one after
the other. A table added since the first version (``merged``, ``imported_file``) does not change what the others
mean, so an older importer still reads a newer file.
"""

from __future__ import annotations

__all__ = ["POSTGRES_TABLES", "SQLITE_IMPORTED", "SQLITE_MERGED", "SQLITE_TABLES", "TABLES"]

TABLES = ("job", "run", "lead", "note")

#: The tables of the first version.
SQLITE_TABLES = """
CREATE TABLE IF NOT EXISTS job (
    id INTEGER PRIMARY KEY, account TEXT NOT NULL, name TEXT NOT NULL, UNIQUE (account, name)
);
CREATE TABLE IF NOT EXISTS lead (
    job_id INTEGER NOT NULL REFERENCES job (id),
    phone TEXT NOT NULL,
    digest BLOB NOT NULL,
    fields TEXT NOT NULL,
    added TEXT NOT NULL,
    confirmed_at REAL NOT NULL,
    run_id INTEGER NOT NULL,
    PRIMARY KEY (job_id, phone)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS note (
    account TEXT NOT NULL,
    phone TEXT NOT NULL,
    digest BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'delivered', 'in_doubt')),
    run_id INTEGER NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (account, phone, digest)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES job (id),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    input TEXT NOT NULL,
    report TEXT NOT NULL,
    counts TEXT,
    exit_code INTEGER
);
"""
#: The states an earlier version kept elsewhere that were merged into this one (importer.run.stores.merge).
SQLITE_MERGED = """
CREATE TABLE IF NOT EXISTS merged (
    source TEXT NOT NULL,
    account TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (source, account)
);
"""
#: The files a job imported from a glob or folder (their content's SHA-256, where they were, when, by which run),
#: so that a job file's ``sync`` imports each file once.
SQLITE_IMPORTED = """
CREATE TABLE IF NOT EXISTS imported_file (
    job_id INTEGER NOT NULL REFERENCES job (id),
    digest TEXT NOT NULL,
    location TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    PRIMARY KEY (job_id, digest)
);
"""


def _for_postgres(sql: str) -> str:
    """SQLite's DDL in PostgreSQL's types: 64-bit ids (a serial for the row ids), bytea, double precision."""
    sql = sql.replace("id INTEGER PRIMARY KEY", "id BIGSERIAL PRIMARY KEY").replace(") WITHOUT ROWID;", ");")
    sql = sql.replace("INTEGER NOT NULL REFERENCES", "BIGINT NOT NULL REFERENCES")
    sql = sql.replace("run_id INTEGER", "run_id BIGINT")
    return sql.replace(" BLOB ", " BYTEA ").replace(" REAL ", " DOUBLE PRECISION ")


POSTGRES_TABLES = _for_postgres(SQLITE_TABLES + SQLITE_MERGED + SQLITE_IMPORTED)
