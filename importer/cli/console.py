"""What a person sees on the terminal: a progress bar and the closing summary."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from tqdm import tqdm

from importer.report.outcome import counts_line

_PHASES = {"catalog": "reading the account's catalog", "dates": "reading the date columns", "checking": "checking rows",
           "sending": "sending"}


class BarProgress:
    """A tqdm bar per phase (done, failed, rows/s, ETA), on a terminal only."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._bar: tqdm[Any] | None = None
        self._failed = 0
        self._status = ""

    def start(self, phase: str, total: int | None) -> None:
        self.finish()
        self._failed = 0
        self._bar = tqdm(total=total, desc=_PHASES.get(phase, phase), unit=" rows", file=self.stream,
                         dynamic_ncols=True, leave=False, mininterval=0.2)

    def advance(self, done: int = 1, failed: int = 0) -> None:
        if self._bar is None:
            return
        self._bar.update(done)
        if failed:
            self._failed += failed
            self._show(refresh=False)

    def status(self, text: str) -> None:
        """What the run waits for ("waiting 30 s (server asked)") beside the counts; "" clears it."""
        self._status = text
        if self._bar is not None:
            self._show(refresh=True)

    def _show(self, refresh: bool) -> None:
        assert self._bar is not None
        shown = ", ".join(part for part in (f"failed={self._failed}" if self._failed else "", self._status) if part)
        self._bar.set_postfix_str(shown, refresh=refresh)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def summary_lines(summary: dict[str, Any], folder: str) -> list[str]:
    """The short closing summary; the last line is always ``report: <folder>``."""
    lines = [*summary.get("state_merged", ()), counts_line(summary)]
    if summary.get("resumed"):
        lines.append(f"resumed: {summary['resumed']} rows were already done by an earlier run (journal)")
    errors = summary.get("errors_by_code") or {}
    if errors:
        lines.append("top errors: " + ", ".join(f"{code} ×{n}" for code, n in list(errors.items())[:5]))
    warnings = summary.get("warnings_by_code") or {}
    if warnings:
        lines.append("top warnings: " + ", ".join(f"{code} ×{n}" for code, n in list(warnings.items())[:5]))
    if summary.get("offline_note"):
        lines.append("note: " + summary["offline_note"])
    if summary.get("failures_xlsx_truncated"):
        lines.append("note: failures.xlsx is full (a worksheet holds 1,048,575 rows): failures.csv has every failure")
    lines.append(f"report: {folder}")
    return lines
