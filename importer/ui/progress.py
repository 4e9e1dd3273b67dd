"""Runs started from the page: each one an :class:`~importer.run.journey.pipeline.Importer` run in a thread of its own,
reporting through the same :class:`~importer.run.context.options.Progress` interface as the command line's bar.

A job is anything with a ``run()`` that returns a result with its report ``folder``: an
:class:`~importer.run.journey.pipeline.Importer` (dry run, plan, send) or an :class:`~importer.run.kinds.undo.Undo`.

One run at a time: the page polls :meth:`Job.snapshot` (phase, rows done of the total, rows/s, time left,
failures, retries and how often the server asked to slow down: its 429 answers) until the run ends, then shows its
report folder. Its Stop button requests the run's
:class:`~importer.run.engine.stop.Stop`, as a signal does on the command line.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from importer.errors import ConfigError, ImporterError
from importer.outcomes import StopReason
from importer.run.engine.stop import Stop

#: The logger of the one retry loop: one INFO record per retry and per 429 (importer.api.retry).
RETRY_LOGGER = "importer.api.retry"
PHASES = {"catalog": "reading the account's catalog", "checking": "checking rows", "sending": "sending",
          "planning": "reading leads (plan)", "verifying": "reading leads back",
          "undoing": "putting back what the run changed", "reading": "reading the leads (nothing is written)"}

#: What the page says once a job ended, by its state.
ENDED = {"done": "done", "failed": "stopped by an error"}


def time_left(seconds: float | None) -> str:
    """``about 40 s``, ``about 3 min 5 s``, ``about 2 h 10 min``; ``…`` while unknown."""
    if seconds is None:
        return "…"
    s = round(seconds)
    if s < 90:
        return f"about {s} s"
    if s < 5400:
        return f"about {s // 60} min {s % 60} s"
    return f"about {s // 3600} h {s % 3600 // 60} min"


class Finished(Protocol):
    """What a job's run returns: its report folder (and more the page reads from the folder itself)."""

    @property
    def folder(self) -> Path: ...


class Runnable(Protocol):
    """A run the page starts: an Importer, an Undo."""

    def run(self) -> Finished: ...


class LiveProgress:
    """A :class:`~importer.run.context.options.Progress` the page reads: counts per phase, rows/s, ETA; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.phase = "starting"
        self.total: int | None = None
        self.done = self.failed = self.retries = self.throttled = 0
        self.sent_done = 0
        self.waiting = ""
        self._phase_started = clock()

    def start(self, phase: str, total: int | None) -> None:
        with self._lock:
            self.phase, self.total, self.done, self.failed = phase, total, 0, 0
            self._phase_started = self._clock()

    def advance(self, done: int = 1, failed: int = 0) -> None:
        with self._lock:
            self.done += done
            self.failed += failed

    def finish(self) -> None:
        with self._lock:
            if self.phase == "sending":
                self.sent_done = self.done
            self.waiting = ""

    def status(self, text: str) -> None:
        with self._lock:
            self.waiting = text

    def count_retry(self, throttled: bool) -> None:
        with self._lock:
            self.retries += 1
            self.throttled += throttled

    def snapshot(self) -> dict[str, Any]:
        """What the page shows: numbers and short texts only (no cell of the sheet, no secret)."""
        with self._lock:
            elapsed = max(self._clock() - self._phase_started, 1e-6)
            rate = self.done / elapsed if self.done else 0.0
            left = None if self.total is None else max(self.total - self.done, 0)
            eta = None if left is None or not rate else left / rate
            return {"phase": self.phase, "phase_text": PHASES.get(self.phase, self.phase), "done": self.done,
                    "total": self.total, "failed": self.failed, "rate": round(rate, 1),
                    "eta_s": None if eta is None else round(eta, 1), "eta_text": time_left(eta),
                    "retries": self.retries, "throttled": self.throttled, "waiting": self.waiting}


class _RetryCounter(logging.Handler):
    """Counts the retry loop's records for a run's progress: every retry, and every 429 among them."""

    def __init__(self, progress: LiveProgress) -> None:
        super().__init__(logging.INFO)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        self.progress.count_retry(throttled="(429)" in str(record.msg))


@dataclass
class Job:
    """One run started from the page. ``state``: running, done (``result`` set) or failed (``error`` set).
    ``back``: the page it was started from (the sheet, the history)."""

    id: str
    kind: str
    back: str
    progress: LiveProgress = field(default_factory=LiveProgress)
    state: str = "running"
    result: Finished | None = None
    error: str | None = None
    error_folder: Path | None = None
    stop: Stop = field(default_factory=Stop, repr=False)
    thread: threading.Thread | None = field(default=None, repr=False)

    def snapshot(self) -> dict[str, Any]:
        folder = self.result.folder if self.result else self.error_folder
        shown = self.progress.snapshot()
        if self.state != "running":  # the run ended: no phase goes on any more, and no time is left
            shown["phase_text"] = ENDED[self.state]
            shown["eta_s"], shown["eta_text"] = 0.0, "none"
        return {"id": self.id, "kind": self.kind, "state": self.state, "error": self.error,
                "run": folder.name if folder else None, "stop_requested": self.stop.requested, **shown}


class Jobs:
    """The page's runs, by id; one may be running at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}

    def start(self, kind_name: str, back: str, make: Callable[[LiveProgress, Stop], Runnable]) -> Job:
        """Start a run in a thread: ``make`` builds it (an importer, an undo), with the job's progress and stop;
        ``back`` is the page's address to go back to."""
        with self._lock:
            if any(job.state == "running" for job in self._jobs.values()):
                raise ConfigError("another run is going on: wait for it to end")
            job = Job(secrets.token_hex(8), kind_name, back)
            self._jobs[job.id] = job
        job.thread = threading.Thread(target=self._run, args=(job, make), name=f"ui-run-{job.id}", daemon=True)
        job.thread.start()
        return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            return self._jobs[job_id]

    def stop(self, job_id: str) -> None:
        """Ask a running job to stop cleanly: no new request starts, those in flight finish, the report is written
        (summary.json ``stopped``: ``asked``, and ``rows_left``); the same run again sends the rest."""
        job = self.get(job_id)
        if job.state == "running":
            job.stop.request(StopReason.ASKED, "stopped from the page")

    def running(self) -> Job | None:
        with self._lock:
            return next((job for job in self._jobs.values() if job.state == "running"), None)

    def _run(self, job: Job, make: Callable[[LiveProgress, Stop], Runnable]) -> None:
        counter = _RetryCounter(job.progress)
        logger = logging.getLogger(RETRY_LOGGER)
        saved = logger.level
        logger.addHandler(counter)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
        try:
            job.result = make(job.progress, job.stop).run()
            job.state = "done"
        except ImporterError as exc:  # StopRequested too: a stop asked before the run began its report
            job.error, job.error_folder, job.state = str(exc), exc.report_folder, "failed"
        except Exception as exc:  # the page must say something rather than spin forever
            job.error, job.state = f"the run stopped: {type(exc).__name__}", "failed"
            logging.getLogger(__name__).exception("run %s failed", job.id)
        finally:
            logger.removeHandler(counter)
            logger.setLevel(saved)
