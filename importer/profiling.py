"""A profile of a run (``--profile`` or ``SF_PROFILE=1``), written into its report folder for a slow run's report.

The run's own process (each of its threads: the sending workers too) and each of its checking processes record
with cProfile. ``profile.pstats`` holds them
merged (``python -m pstats profile.pstats``, or any viewer of cProfile files); ``profile.txt`` lists the functions
that took the most time, by their own time and with what they called.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import threading
import time
from multiprocessing import util
from pathlib import Path
from tempfile import TemporaryDirectory
from types import TracebackType

__all__ = ["PROFILE_FILES", "RunProfile", "profile_this_process"]

#: What a profiled run adds to its report folder.
PROFILE_FILES = ("profile.pstats", "profile.txt")
_TOP = 30
#: The functions of the run's stages, listed in profile.txt even when a short run ranks them low.
_STAGES = r"\((_journey|check_batch|act)\)"


class RunProfile:
    """Records this process while it is entered, the threads it starts meanwhile included; :attr:`workers` is the
    folder the checking processes leave their own profiles in (:func:`profile_this_process`). :meth:`write` merges
    them into a report folder."""

    def __init__(self) -> None:
        self._profiler = cProfile.Profile()
        self._threads: list[cProfile.Profile] = []
        self._folder = TemporaryDirectory(prefix="superfone-profile-")
        self.workers = self._folder.name
        self._started = time.perf_counter()
        self._seconds = 0.0

    def __enter__(self) -> RunProfile:
        self._started = time.perf_counter()
        threading.setprofile(self._in_new_thread)
        self._profiler.enable()
        return self

    def _in_new_thread(self, *event: object) -> None:
        """The first event of a thread started while recording: that thread records from here on."""
        profiler = cProfile.Profile()
        self._threads.append(profiler)
        profiler.enable()  # replaces this hook for this thread

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._profiler.disable()
        threading.setprofile(None)
        self._seconds = time.perf_counter() - self._started

    def write(self, folder: Path) -> None:
        """Write ``profile.pstats`` and ``profile.txt`` into ``folder``."""
        text = io.StringIO()
        stats = pstats.Stats(self._profiler, stream=text)
        for profiler in self._threads:
            stats.add(profiler)
        processes = sorted(Path(self.workers).glob("*.pstats"))
        for path in processes:
            stats.add(str(path))
        stats.dump_stats(str(folder / PROFILE_FILES[0]))
        stats.files = []  # type: ignore[attr-defined]  # the processes' own files are gone with the run
        text.write(f"profile of a run: {self._seconds:.2f} s from start to end; this process ({len(self._threads) + 1} "
                   f"thread(s)) and {len(processes)} checking process(es), their times added up\n")
        stats.strip_dirs().sort_stats("tottime").print_stats(_TOP)
        stats.sort_stats("cumulative").print_stats(_TOP)
        text.write("the run's stages, whatever their rank above (the journey, the checking of each unit of rows, "
                   "the kind's act):\n")
        stats.print_stats(_STAGES)
        (folder / PROFILE_FILES[1]).write_text(text.getvalue(), encoding="utf-8")

    def close(self) -> None:
        self._folder.cleanup()


def profile_this_process(folder: str | None) -> None:
    """In a checking process: record until the process ends, then leave the profile in ``folder`` (None: do not
    record)."""
    if folder is None:
        return
    profiler = cProfile.Profile()
    profiler.enable()
    util.Finalize(None, _dump, args=(profiler, folder), exitpriority=10)


def _dump(profiler: cProfile.Profile, folder: str) -> None:
    profiler.disable()
    profiler.dump_stats(os.path.join(folder, f"process-{os.getpid()}.pstats"))
