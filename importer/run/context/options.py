"""The options of a run and the progress interface it reports through."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from importer.api.client import DEFAULT_BASE_URL
from importer.api.retry import RetryPolicy
from importer.checks.crossrow import OnDuplicate
from importer.run.context.settings import (
    DEFAULT_CONCURRENCY,
    DEFAULT_KEEP_PAYLOADS,
    DEFAULT_MAX_MISSING,
    DEFAULT_MAX_WAIT,
    DEFAULT_RATE,
    DEFAULT_REPORT_DIR,
    RunSettings,
)


class Progress(Protocol):
    """What a run reports as it goes. The CLI plugs a progress bar in; the default does nothing."""

    def start(self, phase: str, total: int | None) -> None: ...

    def advance(self, done: int = 1, failed: int = 0) -> None: ...

    def finish(self) -> None: ...

    def status(self, text: str) -> None:
        """Say what the run is waiting for ("waiting 30 s (server asked)"); an empty text clears it."""
        ...


class NullProgress:
    def start(self, phase: str, total: int | None) -> None:
        pass

    def advance(self, done: int = 1, failed: int = 0) -> None:
        pass

    def finish(self) -> None:
        pass

    def status(self, text: str) -> None:
        pass


@dataclass
class RunOptions:
    """How to run: what to read, where to report, the target account and how hard to push it.

    ``dry_run`` chooses the kind of run when the importer is not handed one (a dry run, or a real run). What a user
    sets (:class:`~importer.run.context.settings.RunSettings`: the rate, the limits, …) is checked as it is made:
    a value that does not fit is a ConfigError (``rate: must be greater than 0, got 0``).
    """

    sheet: str | None = None
    dry_run: bool = False
    offline: bool = False
    report_dir: Path = DEFAULT_REPORT_DIR
    rate: float = DEFAULT_RATE
    concurrency: int = DEFAULT_CONCURRENCY
    on_duplicate: OnDuplicate = "last"
    fresh: bool = False
    retry_failed: Path | None = None
    workers: int | None = None
    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = field(default=None, repr=False)  # never in a repr, log or traceback
    #: The retry table of every API call of the run: sends, read-back and the catalog fetch.
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # --- sync (a real run; see importer.run.kinds.ledger) ---
    #: Send every valid row whole, as if the job had never run (the state is still updated).
    full: bool = False
    #: The job's name (default: the mapping file's stem).
    job: str | None = None
    #: The sync state: a file or a ``postgresql://`` URL; default: ``SF_STATE``, else the account's own file in
    #: the per-user data folder (importer.run.stores.home).
    state: Path | str | None = None
    #: Send a row's note even when this tool delivered (or may have delivered) that text to the lead already.
    repeat_notes: bool = False
    allow_shrink: bool = False
    allow_invalid: bool = False
    #: What to do with the leads this job synced before that tonight's input lacks: keep, label:NAME, stage:NAME.
    on_missing: str = "keep"
    max_missing: float = DEFAULT_MAX_MISSING
    #: Once a real run finished, record its file (its content's digest) as imported by the job: a job file's
    #: ``sync`` of a glob or folder then skips a file it imported before (importer.jobs).
    remember_file: bool = False
    #: After a finished real run, remove the job's run folders beyond its newest N finished ones (None: keep all).
    keep_runs: int | None = None
    #: After a finished real run, remove payloads.jsonl and before.jsonl of the job's runs older than this many days.
    keep_payloads: float = DEFAULT_KEEP_PAYLOADS
    #: A group that may read the run folders (their files 0640, folders 0750); None: the owner only (importer.private).
    shared_group: str | None = None
    #: Record no before-images: a row is read before its write only when its field policies need the lead's values
    #: (importer.run.kinds.prior). An update-heavy run makes half the requests; ``undo`` cannot restore it.
    no_undo: bool = False
    # --- stopping early (see importer.run.engine.stop) ---
    #: The longest Retry-After a run waits through, in seconds; a longer one stops the run (``quota``).
    max_wait: float = DEFAULT_MAX_WAIT
    #: Seconds the run may take before it stops cleanly (``time-limit``); None: no limit.
    time_limit: float | None = None
    #: Write a profile of the run (cProfile) into its report folder: profile.pstats and profile.txt
    #: (importer.profiling).
    profile: bool = False
    #: Connect and read timeouts of every API request, in seconds.
    timeout: tuple[float, float] = (5.0, 30.0)

    def __post_init__(self) -> None:
        settings = RunSettings.read({name: getattr(self, name) for name in RunSettings.model_fields})
        for name, value in settings.model_dump().items():
            setattr(self, name, value)

    @classmethod
    def of(cls, settings: RunSettings, **rest: Any) -> RunOptions:
        """The options of a run: what a user set (checked already), and ``rest`` (what to read, where to report,
        the account)."""
        return cls(**settings.model_dump(), **rest)
