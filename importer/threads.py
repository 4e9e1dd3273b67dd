"""Threads of a run that only wait, log, commit or record: started with a small stack; those a fork may copy."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable

__all__ = ["fork_safe", "only_fork_safe_threads", "start_small"]

_FORK_SAFE: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def start_small(thread: threading.Thread, stack_bytes: int) -> None:
    """Start ``thread`` with a stack of ``stack_bytes``: its default 8 MB of address space would count against a
    run's memory limit (RLIMIT_AS) like a worker's."""
    previous = threading.stack_size(stack_bytes)
    try:
        thread.start()
    finally:
        threading.stack_size(previous)


def fork_safe(thread: threading.Thread) -> threading.Thread:
    """Mark ``thread`` as one a process may fork while it runs: it only waits on its own event and logs (the
    ``logging`` module makes its locks anew in a forked child), so it holds no lock a child could need."""
    _FORK_SAFE.add(thread)
    return thread


def only_fork_safe_threads(threads: Iterable[threading.Thread] | None = None) -> bool:
    """Whether every thread of this process (or of ``threads``) other than the main one is marked
    :func:`fork_safe`."""
    main = threading.main_thread()
    return all(thread is main or thread in _FORK_SAFE
               for thread in (threading.enumerate() if threads is None else threads))
