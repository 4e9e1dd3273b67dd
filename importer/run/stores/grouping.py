"""Writes grouped into fewer transactions while a run sends: the journal's and the sync state's.

Alone, each call of the journal or the state is its own transaction: about ten a row, each one a commit. While a
run sends (:func:`grouped`), a store's writes go into one open transaction instead, which is committed

- when the run is about to send a request whose outcome depends on them (:meth:`commit`: a row carrying a note is
  marked in flight, and its note ``sending``, before its request goes; so is a before-image read from the lead);
- at the latest ``every`` seconds after it opened (a thread commits it when no write comes), and at the end.

What a kill loses is what a kill just before those writes would have lost: a row whose outcome was not committed
is still in flight for the next run (sent again, without its note, and reported in doubt), and a note whose
delivery was not committed is still ``sending`` (never sent again). A write that fails rolls the open transaction
back — the same loss — and is raised as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

from importer.threads import start_small

__all__ = ["Grouping", "WriteGroup", "grouped"]

T = TypeVar("T")

#: Seconds a group's transaction stays open at most.
EVERY = 0.1
#: The committing thread's stack: it only waits and commits.
STACK_BYTES = 512 * 1024


class WriteGroup:
    """One store's open transaction; its methods are called under the store's own lock."""

    def __init__(self, begin: Callable[[], None], commit: Callable[[], None], rollback: Callable[[], None]) -> None:
        self._begin, self._commit, self._rollback = begin, commit, rollback
        self.active = False
        self.open = False
        self.opened_at = 0.0

    def write(self, statement: Callable[[], T]) -> T:
        """Run ``statement`` (a write): in the group's transaction while grouping, else on its own."""
        if self.active and not self.open:
            self._begin()
            self.open, self.opened_at = True, time.monotonic()
        try:
            return statement()
        except BaseException:
            self.abandon()
            raise

    def commit(self, older_than: float = 0.0) -> None:
        """Commit the open transaction (only when it opened ``older_than`` seconds ago or more)."""
        if not self.open or time.monotonic() - self.opened_at < older_than:
            return
        self.open = False
        try:
            self._commit()
        except BaseException:
            self.open = True
            self.abandon()
            raise

    def switch(self, active: bool) -> None:
        """Start grouping (``active``), or commit what is grouped and stop, also when that commit fails (a full
        disk): later writes then commit on their own."""
        try:
            if not active:
                self.commit()
        finally:
            self.active = active

    def abandon(self) -> None:
        """Roll the open transaction back (a failed write or commit)."""
        if self.open:
            self.open = False
            try:
                self._rollback()
            except Exception:  # already rolled back by the database
                pass


class Grouping(Protocol):
    """A store whose writes can be grouped (the journal, the sync state)."""

    def group(self, active: bool) -> None: ...

    def commit(self, older_than: float = 0.0) -> None: ...


@contextmanager
def grouped(*stores: Grouping, every: float = EVERY) -> Iterator[None]:
    """Group the writes of ``stores`` for the length of the block; a thread commits them every ``every`` seconds
    (and the block's end commits what is left)."""
    done = threading.Event()

    def flush() -> None:
        while not done.wait(every / 2):
            for store in stores:
                try:
                    store.commit(older_than=every)
                except Exception:  # the next write or the block's end raises it
                    pass

    for store in stores:
        store.group(True)
    thread = threading.Thread(target=flush, name="commits", daemon=True)
    start_small(thread, STACK_BYTES)
    try:
        yield
    finally:
        done.set()
        thread.join()
        failed: Exception | None = None
        for store in stores:  # each store's last commit, even when another's failed (a full disk)
            try:
                store.group(False)
            except Exception as exc:
                failed = failed or exc
        if failed is not None:
            raise failed
