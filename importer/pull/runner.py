"""One pull: read the keys, skip what the output already has, ask the source for each of the others (one call at a
time through the run's engine, :class:`~importer.run.engine.reads.LeadReader`: the source's pace, the retries, the
stop, the first call alone), append leads and misses, and write a short report.

    sheet ──► keys (checked; refused cells are issues) ──► minus what out/misses already hold
          ──► for each key: LeadReader.call(source.fetch) ──► lead line | miss | failure (an issue)
          ──► <report-dir>/<time>-pull-<source>/summary.json + issues.csv

Counts (summary.json): ``rows_total = pulled + same_lead + missed + failed + refused + repeated + already + rows_left``
(``same_lead``: a key whose lead another key of the sheet had already pulled; it is not written twice).
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from importer.api.retry import RetryPolicy
from importer.errors import ApiError
from importer.issues import issue
from importer.models import Issue
from importer.pull.keys import Key, read_keys
from importer.pull.output import PullOutput, misses_path_for
from importer.pull.sources import Fetched, Source
from importer.report.cells import safe_cells
from importer.report.writer import ISSUE_COLUMNS, _create_run_folder
from importer.run.context.options import NullProgress, Progress
from importer.run.engine.reads import LeadReader
from importer.run.engine.stop import Stop


@dataclass
class PullOptions:
    """What to read (``sheet``, its ``column``), where to write (``out``; the misses file beside it unless
    ``misses`` says) and how hard to push the source (``rate``: None for the source's own pacing)."""

    sheet: Path
    out: Path
    column: str | None = None
    sheet_name: str | None = None
    misses: Path | None = None
    report_dir: Path = Path("reports")
    rate: float | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    #: The longest Retry-After waited through; a longer one stops the pull (``quota``). Seconds, or None.
    max_wait: float = 300.0
    time_limit: float | None = None

    def misses_path(self) -> Path:
        return self.misses if self.misses is not None else misses_path_for(self.out)


@dataclass
class PullResult:
    folder: Path
    summary: dict[str, Any]
    issues: list[Issue]


@dataclass
class _Tally:
    pulled: int = 0
    missed: int = 0
    same_lead: int = 0
    failed: int = 0
    left: int = 0
    requests: int = 0


class Pull:
    """Pulls every key of ``options.sheet`` from ``source``; :meth:`run` returns the report's summary."""

    def __init__(self, source: Source, options: PullOptions, progress: Progress | None = None,
                 stop: Stop | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.source = source
        self.options = options
        self.progress = progress or NullProgress()
        self.stop = stop if stop is not None else Stop()
        self._clock = clock
        self._sleep = sleep

    def run(self) -> PullResult:
        """Pull every key not pulled yet; a stop (signal, ``time_limit``, a quota-length Retry-After) ends it early
        with the same report (``stopped``, ``rows_left``)."""
        options = self.options
        if options.time_limit is not None:
            self.stop.limit_time(options.time_limit)
        try:
            return self._run(datetime.now().astimezone())
        finally:
            if options.time_limit is not None:
                self.stop.close()

    def _run(self, started: datetime) -> PullResult:
        options = self.options
        column, keys, issues, repeated = read_keys(options.sheet, options.column, self.source.columns,
                                                   self.source.prepare, options.sheet_name)
        tally = _Tally()
        sleep = self.stop.sleep if self._sleep is time.sleep else self._sleep  # waits end when a stop comes
        limiter = self.source.limiter(options.rate, self._clock, sleep)
        reader = LeadReader(None, concurrency=1, policy=options.retry, clock=self._clock, sleep=sleep,
                            stop=self.stop, max_wait=options.max_wait, limiter=limiter)  # one call at a time
        with PullOutput(options.out, options.misses_path(), self.source.lead_id) as output:
            todo = [key for key in keys if key.value not in output.done]
            try:
                self._pull(todo, column, output, reader, tally, issues)
            except ApiError as error:  # 401, or the source cannot be reached: the pull cannot go on
                folder = self._report(started, column, keys, issues, repeated, tally, limiter.throttle_count)
                error.report_folder = folder.folder
                raise
        return self._report(started, column, keys, issues, repeated, tally, limiter.throttle_count)

    def _pull(self, todo: list[Key], column: str, output: PullOutput, reader: LeadReader, tally: _Tally,
              issues: list[Issue]) -> None:
        progress = self.progress
        progress.start("pulling", len(todo))
        done = 0
        try:
            def fetch(key: Key) -> Fetched:
                return reader.call(partial(self._fetch, key.value, tally), subject=f"row {key.row}")

            try:
                for key, fetched in reader.read(todo, fetch):
                    done += 1
                    if isinstance(fetched, ApiError):
                        if fetched.status is None:  # no answer at all: the pull cannot go on
                            done -= 1
                            raise fetched
                        tally.failed += 1
                        issues.append(issue("pull-failed", key.row, column, self.source.scrub(fetched.message),
                                            key.value))
                        progress.advance(1, failed=1)
                        continue
                    self._record(key, fetched, output, tally)
                    if fetched.warning:
                        issues.append(issue("several-leads-match", key.row, column, fetched.warning, key.value))
                    progress.advance(1)
            finally:
                tally.left = len(todo) - done  # a stop, a quota-length Retry-After, a 401 or no answer at all
        finally:
            progress.finish()

    def _record(self, key: Key, fetched: Fetched, output: PullOutput, tally: _Tally) -> None:
        """A lead line, a miss, or nothing for a lead another key of the sheet already pulled (one line a lead)."""
        source = self.source
        if fetched.lead is None:
            output.write_miss(key.row, key.value, f"no {source.title} lead has this {source.key_name}")
            tally.missed += 1
        elif source.lead_id(fetched.lead) in output.leads:
            tally.same_lead += 1
        else:
            output.write_lead(key.value, fetched.lead, source.lead_id(fetched.lead))
            tally.pulled += 1

    def _fetch(self, key: str, tally: _Tally) -> Fetched:
        tally.requests += 1
        return self.source.fetch(key)

    def _report(self, started: datetime, column: str, keys: list[Key], issues: list[Issue], repeated: int,
                tally: _Tally, throttled: int) -> PullResult:
        finished = datetime.now().astimezone()
        options, source = self.options, self.source
        refused = sum(1 for item in issues if item.code != "several-leads-match" and item.code != "pull-failed")
        already = len(keys) - tally.pulled - tally.same_lead - tally.missed - tally.failed - tally.left
        summary: dict[str, Any] = {
            "source": source.name, "input": str(options.sheet), "column": column, "out": str(options.out),
            "misses_file": str(options.misses_path()),
            "started_at": started.isoformat(timespec="seconds"), "finished_at": finished.isoformat(timespec="seconds"),
            "duration_s": round((finished - started).total_seconds(), 3),
            "rows_total": len(keys) + refused + repeated, "pulled": tally.pulled, "same_lead": tally.same_lead,
            "missed": tally.missed, "failed": tally.failed, "refused": refused, "repeated": repeated,
            "already": already, "rows_left": tally.left,
            "warnings": sum(1 for item in issues if item.severity == "warning"),
            "requests": tally.requests, "throttled": throttled,
            "stopped": self.stop.reason if tally.left and self.stop.requested else None,
            "stopped_because": self.stop.detail if tally.left and self.stop.requested else None,
        }
        folder = _create_run_folder(options.report_dir, f"{started:%Y%m%d-%H%M%S}-pull-{source.name}")
        issues.sort(key=lambda item: item.row or 0)
        with open(folder / "issues.csv", "w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(ISSUE_COLUMNS)
            for item in issues:
                writer.writerow(safe_cells((str(item.row or ""), item.column, item.severity, item.code,
                                            item.message, item.value)))
        (folder / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
        return PullResult(folder, summary, issues)


def summary_lines(result: PullResult) -> list[str]:
    """What a pull prints: the counts, the files, and ``report: <folder>`` last."""
    s = result.summary
    name = Path(s["input"]).name
    same = f" ({s['same_lead']} more reached a lead already pulled)" if s["same_lead"] else ""
    lines = [f"{name}: {s['rows_total']} rows: {s['pulled']} pulled{same}, {s['missed']} missed, {s['failed']} failed, "
             f"{s['refused']} refused, {s['repeated']} repeated, {s['already']} done before; "
             f"{s['warnings']} warnings"]
    if s["stopped"]:
        what = "run the same command again to pull the rest"
        if s["stopped"] == "quota":
            what = "run the same command again once that wait is over (or raise --max-wait) to pull the rest"
        lines.append(f"stopped ({s['stopped']}): {s['stopped_because']}; {s['rows_left']} left: {what}")
    codes: dict[str, int] = {}
    for item in result.issues:
        codes[item.code] = codes.get(item.code, 0) + 1
    if codes:
        lines.append("issues: " + ", ".join(f"{code} ×{count}" for code, count in codes.items()))
    lines.append(f"leads: {s['out']}   misses: {s['misses_file']}")
    lines.append(f"report: {result.folder}")
    return lines
