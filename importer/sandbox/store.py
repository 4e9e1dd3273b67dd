"""Lead state in SQLite (stdlib ``sqlite3``): in memory by default, or a file that survives restarts.

Only leads change (phones, labels, products, notes and plain fields; a whole lead may be deleted); the catalogue
is the seed's, in memory. A lead's phones are kept in order, primary first. Every public method takes the store's
lock, so one store can be shared between threads; :meth:`Store.transaction` lets a caller check and write
atomically.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from importer.sandbox.catalog import Catalog, plain_number
from importer.sandbox.seed import LeadSeed, Seed

#: Lead columns that an upsert sets as given (``email`` and ``address`` are stored as JSON text).
PLAIN_FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "website",
    "business_name",
    "additional_info",
    "city",
    "deal_value",
    "source",
    "source_type",
)
_LEAD_COLUMNS: tuple[str, ...] = (
    *PLAIN_FIELDS,
    "email",
    "status",
    "address",
    "assignee_user_id",
    "lead_stage_id",
    "lead_group_id",
    "created_at",
    "updated_at",
)
_SELECT_LEAD = f"SELECT id, {', '.join(_LEAD_COLUMNS)} FROM lead WHERE id = ?"
_INSPECTED_FIELDS = (*PLAIN_FIELDS[:6], "email", "deal_value", "source", "source_type", "status", "address")
_ADDRESS_KEYS = ("text", "additional", "initials", "latitude", "longitude")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS lead (
    id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, website TEXT, business_name TEXT,
    additional_info TEXT, city TEXT, deal_value NUMERIC, source TEXT, source_type TEXT, email TEXT,
    status TEXT, address TEXT, assignee_user_id INTEGER, lead_stage_id INTEGER, lead_group_id INTEGER,
    created_at TEXT NOT NULL, updated_at TEXT);
CREATE TABLE IF NOT EXISTS lead_phone (
    lead_id INTEGER NOT NULL, position INTEGER NOT NULL, phone TEXT NOT NULL,
    PRIMARY KEY (lead_id, position));
CREATE INDEX IF NOT EXISTS lead_phone_by_phone ON lead_phone (phone, position);
CREATE TABLE IF NOT EXISTS lead_label (
    lead_id INTEGER NOT NULL, label_id INTEGER NOT NULL, seq INTEGER PRIMARY KEY, UNIQUE (lead_id, label_id));
CREATE TABLE IF NOT EXISTS lead_product (
    lead_id INTEGER NOT NULL, product_id INTEGER NOT NULL, seq INTEGER PRIMARY KEY,
    UNIQUE (lead_id, product_id));
CREATE TABLE IF NOT EXISTS lead_note (
    seq INTEGER PRIMARY KEY, lead_id INTEGER NOT NULL, text TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS lead_note_by_lead ON lead_note (lead_id, seq);
CREATE TABLE IF NOT EXISTS lead_task (
    id INTEGER PRIMARY KEY, lead_id INTEGER NOT NULL, type TEXT NOT NULL, due_date TEXT NOT NULL,
    notify_at TEXT, task_status TEXT NOT NULL, assignee_user_id INTEGER, note TEXT, created_at TEXT NOT NULL,
    updated_by INTEGER, updated_at TEXT);
CREATE INDEX IF NOT EXISTS lead_task_by_lead ON lead_task (lead_id, id);
CREATE TABLE IF NOT EXISTS sandbox_meta (key TEXT PRIMARY KEY, value TEXT);
"""
#: Tables holding a lead's belongings: emptied with the lead.
_LEAD_TABLES = ("lead_phone", "lead_label", "lead_product", "lead_note", "lead_task")


@dataclass(slots=True)
class LeadChange:
    """A validated upsert, ready to write. ``lead_id`` None creates a lead with ``customer_phone`` first."""

    customer_phone: str
    lead_id: int | None = None
    columns: dict[str, Any] = field(default_factory=dict)
    new_phones: list[str] = field(default_factory=list)
    add_label_ids: list[int] = field(default_factory=list)
    remove_label_ids: list[int] = field(default_factory=list)
    add_product_ids: list[int] = field(default_factory=list)
    note: str | None = None


def iso_timestamp(seconds: float) -> str:
    """``2026-04-01T10:30:00.000Z``: the API's timestamp format."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Store:
    """The account's leads. ``db`` None keeps them in memory; a file keeps them across restarts."""

    def __init__(
        self,
        seed: Seed,
        catalog: Catalog,
        db: str | Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._seed = seed
        self._catalog = catalog
        self._clock = clock
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            ":memory:" if db is None else str(db), check_same_thread=False, isolation_level=None
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        seeded = self._conn.execute("SELECT value FROM sandbox_meta WHERE key = 'seeded'").fetchone()
        if seeded is None:
            self.reset()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @property
    def db(self) -> sqlite3.Connection:
        """The store's connection, for the task book (:mod:`importer.sandbox.tasks`): use it inside
        :meth:`transaction` or while holding the lock."""
        return self._conn

    @property
    def now(self) -> float:
        return self._clock()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock and one SQLite transaction: everything inside is written, or nothing."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def reset(self) -> None:
        """Forget every change: the leads are the seed's again."""
        with self.transaction():
            for table in ("lead", *_LEAD_TABLES):
                self._conn.execute(f"DELETE FROM {table}")
            self._conn.execute("DELETE FROM sandbox_meta WHERE key = 'deleted_lead_id'")
            for lead in self._seed.leads:
                self._insert_seed_lead(lead)
            self._conn.execute("INSERT OR REPLACE INTO sandbox_meta VALUES ('seeded', '1')")

    def _insert_seed_lead(self, lead: LeadSeed) -> None:
        values = lead.model_dump(include=set(_LEAD_COLUMNS))
        values["address"] = json.dumps(values["address"])
        values["email"] = None if values["email"] is None else json.dumps(values["email"])
        self._insert_lead_row(lead.id, values)
        for position, phone in enumerate(lead.phones):
            self._conn.execute("INSERT INTO lead_phone VALUES (?, ?, ?)", (lead.id, position, phone))
        self._attach("lead_label", lead.id, self._ids_by_title("label", lead.labels))
        self._attach("lead_product", lead.id, self._ids_by_title("product", lead.products))
        for note in lead.notes:
            self._add_note(lead.id, note, lead.created_at)

    def _ids_by_title(self, endpoint: str, titles: list[str]) -> list[int]:
        return [self._catalog.id_by_title(endpoint, title) for title in titles]

    def _insert_lead_row(self, lead_id: int | None, values: dict[str, Any]) -> int:
        names = [name for name in _LEAD_COLUMNS if name in values]
        cursor = self._conn.execute(
            f"INSERT INTO lead (id, {', '.join(names)}) VALUES (?{', ?' * len(names)})",
            (lead_id, *(values[name] for name in names)),
        )
        return int(cursor.lastrowid or 0)

    def _attach(self, table: str, lead_id: int, item_ids: list[int]) -> None:
        column = "label_id" if table == "lead_label" else "product_id"
        self._conn.executemany(
            f"INSERT OR IGNORE INTO {table} (lead_id, {column}) VALUES (?, ?)",
            [(lead_id, item_id) for item_id in item_ids],
        )

    # --- reads --------------------------------------------------------------------------------------------

    def leads_with_primary(self, phone: str) -> list[int]:
        """Ids of the leads whose primary phone is ``phone`` (normally zero or one)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT lead_id FROM lead_phone WHERE phone = ? AND position = 0 ORDER BY lead_id", (phone,)
            ).fetchall()
        return [row[0] for row in rows]

    def owners(self, phone: str) -> list[int]:
        """Ids of the leads that have ``phone`` in any position."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT DISTINCT lead_id FROM lead_phone WHERE phone = ? ORDER BY lead_id", (phone,)
            ).fetchall()
        return [row[0] for row in rows]

    def phones(self, lead_id: int) -> list[str]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT phone FROM lead_phone WHERE lead_id = ? ORDER BY position", (lead_id,)
            ).fetchall()
        return [row[0] for row in rows]

    def address(self, lead_id: int) -> dict[str, Any]:
        with self._lock:
            row = self._conn.execute("SELECT address FROM lead WHERE id = ?", (lead_id,)).fetchone()
        return _address(row[0] if row else None)

    def find_lead(self, phone: str) -> dict[str, Any] | None:
        """The lead with ``phone`` in any position, shaped like get-lead's ``data`` (lowest id if several)."""
        with self._lock:
            owners = self.owners(phone)
            return self._lead_out(owners[0]) if owners else None

    def _lead_row(self, lead_id: int) -> dict[str, Any]:
        cursor = self._conn.execute(_SELECT_LEAD, (lead_id,))
        names = [column[0] for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))

    def _attached(self, table: str, lead_id: int) -> list[int]:
        column = "label_id" if table == "lead_label" else "product_id"
        rows = self._conn.execute(f"SELECT {column} FROM {table} WHERE lead_id = ? ORDER BY seq", (lead_id,))
        return [row[0] for row in rows.fetchall()]

    def _lead_out(self, lead_id: int) -> dict[str, Any]:
        row = self._lead_row(lead_id)
        catalog = self._catalog
        labels = [catalog.label_ref(label_id) for label_id in self._attached("lead_label", lead_id)]
        return {
            "id": lead_id,
            "org_id": catalog.org_id,
            **{name: row[name] for name in ("first_name", "last_name")},
            "email": None if row["email"] is None else json.loads(row["email"]),
            **{name: row[name] for name in ("website", "business_name", "additional_info", "city")},
            "deal_value": plain_number(row["deal_value"]),
            **{name: row[name] for name in ("status", "source", "source_type")},
            "address": _address(row["address"]),
            **{name: row[name] for name in ("assignee_user_id", "lead_stage_id", "lead_group_id")},
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "phones": [{"phone": phone, "customer_id": lead_id} for phone in self.phones(lead_id)],
            "labels": [label for label in labels if label is not None],
            "lead_stage": catalog.stage_ref(row["lead_stage_id"]),
            "lead_group": catalog.group_ref(row["lead_group_id"]),
            "assignee_user": catalog.assignee_ref(row["assignee_user_id"]),
        }

    def dump(self) -> list[dict[str, Any]]:
        """Every lead for inspection: get-lead's fields by title, plus products and notes."""
        with self._lock:
            ids = [row[0] for row in self._conn.execute("SELECT id FROM lead ORDER BY id").fetchall()]
            return [self._inspect(lead_id) for lead_id in ids]

    def _inspect(self, lead_id: int) -> dict[str, Any]:
        lead = self._lead_out(lead_id)
        catalog = self._catalog
        products = [catalog.title("product", item) for item in self._attached("lead_product", lead_id)]
        notes = self._conn.execute("SELECT text FROM lead_note WHERE lead_id = ? ORDER BY seq", (lead_id,))
        assignee = catalog.users_by_id.get(lead["assignee_user_id"] or -1)
        return {
            "id": lead_id,
            "phones": [phone["phone"] for phone in lead["phones"]],
            **{name: lead[name] for name in _INSPECTED_FIELDS},
            "labels": [label["title"] for label in lead["labels"]],
            "products": [title for title in products if title is not None],
            "lead_stage": lead["lead_stage"]["title"] if lead["lead_stage"] else None,
            "lead_group": lead["lead_group"]["title"] if lead["lead_group"] else None,
            "assignee_user_phone": assignee.phone if assignee else None,
            "created_at": lead["created_at"],
            "updated_at": lead["updated_at"],
            "notes": [row[0] for row in notes.fetchall()],
        }

    # --- writes -------------------------------------------------------------------------------------------

    def apply(self, change: LeadChange) -> int:
        """Write a validated change (call it inside :meth:`transaction`). Returns the lead's id."""
        now = iso_timestamp(self._clock())
        columns = {name: _column_value(name, value) for name, value in change.columns.items()}
        if change.lead_id is None:
            values = {"status": "ACTIVE", **columns, "created_at": now}
            lead_id = self._insert_lead_row(self._next_lead_id(), values)
            phones = [change.customer_phone, *change.new_phones]
            start = 0
        else:
            lead_id = change.lead_id
            assignments = ", ".join(f"{name} = ?" for name in columns)
            self._conn.execute(
                f"UPDATE lead SET {assignments}{', ' if assignments else ''}updated_at = ? WHERE id = ?",
                (*columns.values(), now, lead_id),
            )
            phones = change.new_phones
            start = self._conn.execute(
                "SELECT COALESCE(MAX(position) + 1, 0) FROM lead_phone WHERE lead_id = ?", (lead_id,)
            ).fetchone()[0]
        self._conn.executemany(
            "INSERT INTO lead_phone VALUES (?, ?, ?)",
            [(lead_id, start + offset, phone) for offset, phone in enumerate(phones)],
        )
        self._attach("lead_label", lead_id, change.add_label_ids)
        self._attach("lead_product", lead_id, change.add_product_ids)
        self._conn.executemany(
            "DELETE FROM lead_label WHERE lead_id = ? AND label_id = ?",
            [(lead_id, label_id) for label_id in change.remove_label_ids],
        )
        if change.note is not None:
            self._add_note(lead_id, change.note, now)
        return lead_id

    def delete_lead(self, phone: str) -> int | None:
        """Delete the lead get-lead shows for ``phone`` (any position) with everything attached; its id, or None.

        As in the dashboard, one lead goes at a time: of two leads sharing the phone, the lowest id. Ids are
        never handed out again, so a lead created later with the same phone is told apart by its new id.
        """
        with self.transaction():
            owners = self.owners(phone)
            if not owners:
                return None
            lead_id = owners[0]
            self._conn.execute("DELETE FROM lead WHERE id = ?", (lead_id,))
            for table in _LEAD_TABLES:
                self._conn.execute(f"DELETE FROM {table} WHERE lead_id = ?", (lead_id,))
            self._conn.execute(
                "INSERT INTO sandbox_meta VALUES ('deleted_lead_id', ?) ON CONFLICT (key) DO UPDATE"
                " SET value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                (lead_id,),
            )
            return lead_id

    def _next_lead_id(self) -> int | None:
        """None (SQLite's next rowid) unless a deleted lead had an id at or above it: then the id after that."""
        row = self._conn.execute("SELECT value FROM sandbox_meta WHERE key = 'deleted_lead_id'").fetchone()
        if row is None:
            return None
        highest = self._conn.execute("SELECT COALESCE(MAX(id), 0) FROM lead").fetchone()[0]
        return max(highest, int(row[0])) + 1

    def add_note(self, lead_id: int, text: str, created_at: str) -> None:
        """Append a note to the lead's timeline (a task's note lands there too)."""
        self._add_note(lead_id, text, created_at)

    def _add_note(self, lead_id: int, text: str, created_at: str) -> None:
        self._conn.execute(
            "INSERT INTO lead_note (lead_id, text, created_at) VALUES (?, ?, ?)", (lead_id, text, created_at)
        )


def _column_value(name: str, value: Any) -> Any:
    if name in ("email", "address"):
        return None if value is None else json.dumps(value)
    return value


def _address(stored: str | None) -> dict[str, Any]:
    """The address object, always with its five keys (get-lead shows it even when empty)."""
    loaded = json.loads(stored) if stored else {}
    return {key: loaded.get(key) for key in _ADDRESS_KEYS}
