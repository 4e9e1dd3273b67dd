"""Options, counters and the progress interface of a run (shared by the pipeline and the delivery stage)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from importer.api.client import DEFAULT_BASE_URL
from importer.api.retry import RetryPolicy
from importer.checks.crossrow import OnDuplicate
from importer.models import Issue


class Progress(Protocol):
    """What a run reports as it goes. The CLI plugs a progress bar in; the default does nothing."""

    def start(self, phase: str, total: int | None) -> None: ...

    def advance(self, done: int = 1, failed: int = 0) -> None: ...

    def finish(self) -> None: ...


class NullProgress:
    def start(self, phase: str, total: int | None) -> None:
        pass

    def advance(self, done: int = 1, failed: int = 0) -> None:
        pass

    def finish(self) -> None:
        pass


@dataclass
class RunOptions:
    sheet: str | None = None
    dry_run: bool = False
    offline: bool = False
    report_dir: Path = Path("reports")
    rate: float = 10.0
    concurrency: int = 8
    on_duplicate: OnDuplicate = "last"
    fresh: bool = False
    retry_failed: Path | None = None
    workers: int | None = None
    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = field(default=None, repr=False)  # never in a repr, log or traceback
    #: Library use only (tests, embedding): the retry table for sending; None = the default policy.
    retry: RetryPolicy | None = None


@dataclass
class Tally:
    """Running counts for summary.json."""

    rows_total: int = 0
    valid: int = 0
    invalid: int = 0
    skipped: int = 0
    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    in_doubt: int = 0
    resumed: int = 0
    errors_by_code: Counter[str] = field(default_factory=Counter)
    warnings_by_code: Counter[str] = field(default_factory=Counter)

    def count_issues(self, issues: tuple[Issue, ...] | list[Issue]) -> None:
        for issue in issues:
            (self.errors_by_code if issue.is_error else self.warnings_by_code)[issue.code] += 1

    @property
    def warnings(self) -> int:
        return sum(self.warnings_by_code.values())
