"""The journal's before-images: what a lead held just before the run's first write to it
(:mod:`importer.report.before`), kept per run key until the key's next fresh run, so that a resumed run writes
before.jsonl with the images of the run it resumes (:class:`~importer.run.stores.journal.Journal` holds them)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from importer.report.before import BeforeImage, merge_images

__all__ = ["BEFORE_IMAGE_TABLE", "BeforeImages", "add_image_columns"]

T = TypeVar("T")

BEFORE_IMAGE_TABLE = """
CREATE TABLE IF NOT EXISTS before_image (
    key_id INTEGER NOT NULL REFERENCES run_key (id),
    row INTEGER NOT NULL,
    phone TEXT NOT NULL,
    lead_id INTEGER,
    existed INTEGER,
    before TEXT NOT NULL,
    sent TEXT NOT NULL,
    status TEXT NOT NULL,
    from_state INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, row, phone)
) WITHOUT ROWID;
"""
_COLUMNS = "row, phone, lead_id, existed, before, sent, status, from_state"
_SAVE = f"INSERT OR REPLACE INTO before_image (key_id, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"


def add_image_columns(db: sqlite3.Connection) -> None:
    """Bring the table of a journal an earlier importer wrote up to date (``from_state``: 0 for its images)."""
    columns = {found[1] for found in db.execute("PRAGMA table_info(before_image)")}
    if "from_state" not in columns:
        try:
            db.execute("ALTER TABLE before_image ADD COLUMN from_state INTEGER NOT NULL DEFAULT 0")
        except sqlite3.OperationalError as exc:  # another process added it meanwhile
            if "duplicate column" not in str(exc):
                raise


class BeforeImages:
    """The before-image calls of the journal (its connection, lock, keys and grouped writes)."""

    _lock: threading.Lock
    _db: sqlite3.Connection

    def _key_id(self, key: str, *, create: bool) -> int | None:
        raise NotImplementedError

    def _write(self, statement: Callable[[], T]) -> T:
        raise NotImplementedError

    def record_before(self, key: str, row: int, image: BeforeImage, *, merge: bool = True) -> None:
        """Keep ``image`` (of the job ``row``: a sheet row, or below 0 a lead gone from the input) before the first
        write to its lead; a lead already imaged under ``key`` (a row sent again on resume) keeps what it held
        before the first write (:func:`merge_images`; ``merge=False``: the key has no image yet for the row)."""
        with self._lock:
            key_id = self._key_id(key, create=True)
            found = self._db.execute(f"SELECT {_COLUMNS} FROM before_image WHERE key_id = ? AND row = ? "
                                     "AND phone = ?", (key_id, row, image.phone)).fetchone() if merge else None
            if found is not None:
                image = merge_images(_image(found), image)
            self._write(lambda: self._db.execute(_SAVE, (
                key_id, row, image.phone, image.lead_id, None if image.existed is None else int(image.existed),
                json.dumps(image.before, ensure_ascii=False), json.dumps(image.sent, ensure_ascii=False),
                image.status, int(image.from_state))))

    def before_outcome(self, key: str, row: int, phone: str, status: str, sent: dict[str, Any] | None = None,
                       *, created: bool = False) -> None:
        """How the write to an imaged lead ended (and what it sent, when that changed: the whole row sent
        instead of the changed fields; ``created``: that created the lead, which the image did not read)."""
        with self._lock:
            key_id = self._key_id(key, create=True)
            if sent is None:
                self._write(lambda: self._db.execute(
                    "UPDATE before_image SET status = ? WHERE key_id = ? AND row = ? AND phone = ?",
                    (status, key_id, row, phone)))
            elif created:
                self._write(lambda: self._db.execute(
                    "UPDATE before_image SET status = ?, sent = ?, existed = 0, before = '{}', from_state = 0 "
                    "WHERE key_id = ? AND row = ? AND phone = ?",
                    (status, json.dumps(sent, ensure_ascii=False), key_id, row, phone)))
            else:
                self._write(lambda: self._db.execute(
                    "UPDATE before_image SET status = ?, sent = ? WHERE key_id = ? AND row = ? AND phone = ?",
                    (status, json.dumps(sent, ensure_ascii=False), key_id, row, phone)))

    def before_images(self, key: str, *, page_size: int = 10_000) -> Iterator[BeforeImage]:
        """The images kept under ``key``: sheet rows in order, then the leads gone from the input."""
        after = (-1, -(2**62), "")
        while True:
            with self._lock:
                key_id = self._key_id(key, create=False)
                if key_id is None:
                    return
                page = self._db.execute(
                    f"SELECT row < 0, {_COLUMNS} FROM before_image WHERE key_id = ? AND "
                    "(row < 0, row, phone) > (?, ?, ?) ORDER BY row < 0, row, phone LIMIT ?",
                    (key_id, *after, page_size)).fetchall()
            for found in page:
                yield _image(found[1:])
            if len(page) < page_size:
                return
            after = (page[-1][0], page[-1][1], page[-1][2])

    def forget_before(self, key: str) -> None:
        """Drop the images of the run key's last run (a new run starts, not resuming it)."""
        with self._lock:
            key_id = self._key_id(key, create=False)
            if key_id is not None:
                self._write(lambda: self._db.execute("DELETE FROM before_image WHERE key_id = ?", (key_id,)))


def _image(found: tuple[Any, ...]) -> BeforeImage:
    row, phone, lead_id, existed, before, sent, status, from_state = found
    return BeforeImage(row if row >= 0 else None, phone, lead_id, None if existed is None else bool(existed),
                       json.loads(before), json.loads(sent), status, bool(from_state))
