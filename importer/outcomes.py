"""The words a run's records use for why things ended, declared once: why a run stopped before its end, and why a
row ended as it did. Code decides by these; the messages beside them are for people."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["REQUESTED", "Cause", "StopReason"]


class StopReason(StrEnum):
    """Why a run stopped before its end (summary.json ``stopped``)."""

    #: SIGTERM, SIGHUP or SIGINT (Ctrl-C) reached the process.
    SIGNAL = "signal"
    #: The API asked for a longer wait (Retry-After) than ``--max-wait`` allows.
    QUOTA = "quota"
    #: The run's ``--time-limit`` is spent.
    TIME_LIMIT = "time-limit"
    #: A report file, the journal or the sync state could not be written: no space left.
    DISK_FULL = "disk-full"
    #: Someone asked for it (the web page's Stop button).
    ASKED = "asked"
    #: Not a stop that was asked for: an error ended the run after it began (a 401, a damaged file, Ctrl-C before
    #: the handlers were in place). summary.json's ``stopped`` then holds the error's text.
    ERROR = "error"


#: The reasons a run's stop may be requested for (every reason but an error).
REQUESTED: tuple[StopReason, ...] = tuple(reason for reason in StopReason if reason is not StopReason.ERROR)


class Cause(StrEnum):
    """Why a row ended as it did, when the code acting on the outcome needs to know (None: it was sent and the
    API answered)."""

    #: Apply: the lead changed since the plan read it; not sent.
    STALE = "stale"
    #: The read of the lead before its write failed; not sent.
    UNREADABLE = "unreadable"
    #: The run was halted (a 401) before the row could finish.
    HALTED = "halted"
    #: The run stopped before the row could end: its status is not its outcome.
    STOPPED = "stopped"
    #: The API found no lead with the customer phone and was not allowed to create one.
    CUSTOMER_NOT_FOUND = "customer-not-found"
    #: The lead already holds (or keeps, by its policies) everything the row would write; nothing sent.
    NOTHING_TO_SEND = "nothing-to-send"
    #: Undo: the lead holds what it held before the run (or was edited since): nothing to write.
    NOTHING_TO_RESTORE = "nothing-to-restore"
    #: Undo's dry run: the lead would be written.
    WOULD_RESTORE = "would-restore"
