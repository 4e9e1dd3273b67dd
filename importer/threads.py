"""Threads of a run that only wait, log, commit or record: started with a small stack."""

from __future__ import annotations

import threading

__all__ = ["start_small"]


def start_small(thread: threading.Thread, stack_bytes: int) -> None:
    """Start ``thread`` with a stack of ``stack_bytes``: its default 8 MB of address space would count against a
    run's memory limit (RLIMIT_AS) like a worker's."""
    previous = threading.stack_size(stack_bytes)
    try:
        thread.start()
    finally:
        threading.stack_size(previous)
