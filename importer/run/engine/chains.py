"""Rows that share a phone are never in flight together and keep sheet order: :class:`PhoneChains` holds the jobs
admitted and not finished, each waiting for the last earlier job holding each of its phones (a chain per phone).

Not thread-safe by itself: the sender (:mod:`importer.run.engine.sending`) calls it under its own lock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from importer.run.engine.work import Job

__all__ = ["Entry", "PhoneChains"]


@dataclass(eq=False, slots=True)
class Entry:
    """A job admitted to the window, with its unfinished predecessors and its waiting successors."""

    job: Job
    waiting_for: int = 0
    successors: list[Entry] = field(default_factory=list)


class PhoneChains:
    """The admitted jobs: ``ready`` ones may start now; ``open`` counts those admitted and not finished."""

    def __init__(self) -> None:
        self.ready: deque[Entry] = deque()
        self.open = 0
        self._tails: dict[str, Entry] = {}

    def admit(self, job: Job) -> bool:
        """Add ``job`` behind the last earlier job of each of its phones; True when it is ready at once."""
        entry = Entry(job)
        predecessors = {id(tail): tail for phone in job.phones if (tail := self._tails.get(phone)) is not None}
        for predecessor in predecessors.values():
            predecessor.successors.append(entry)
        entry.waiting_for = len(predecessors)
        for phone in job.phones:
            self._tails[phone] = entry
        self.open += 1
        if entry.waiting_for == 0:
            self.ready.append(entry)
        return entry.waiting_for == 0

    def finish(self, entry: Entry) -> None:
        """``entry`` ended: the jobs that waited only for it become ready."""
        for phone in entry.job.phones:
            if self._tails.get(phone) is entry:
                del self._tails[phone]
        for successor in entry.successors:
            successor.waiting_for -= 1
            if successor.waiting_for == 0:
                self.ready.append(successor)
        self.open -= 1
