"""A run's outcome in one line: what the terminal, the log file and every alert start with."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["OUTCOMES", "counts_line", "input_name", "outcome_text"]

#: Exit code → what it means, as an e-mail subject says it.
OUTCOMES = {0: "all rows succeeded", 1: "some rows failed or are invalid", 2: "stopped by an error",
            3: "stopped before the end"}


def input_name(summary: Mapping[str, Any]) -> str:
    """The input's file name (``leads.csv``), whatever path the run was given; of a glob or a folder, the file read
    (summary.json ``source``), without a URL's query."""
    source = summary.get("source")
    read = source.get("file") if isinstance(source, Mapping) else None
    return str(read or summary.get("input", "?")).split("?", 1)[0].replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def counts_line(summary: Mapping[str, Any]) -> str:
    """``leads.csv: 24 rows: 15 succeeded, 3 failed, …`` — the first line a run prints."""
    name = input_name(summary)
    total = summary.get("rows_total")
    if total is None:
        return name
    unchanged = f", {summary['unchanged']} unchanged" if summary.get("unchanged") else ""
    if summary.get("dry_run"):
        return (f"{name}: {total} rows: {summary['valid']} valid{unchanged}, {summary['invalid']} invalid, "
                f"{summary['warnings']} warnings (dry run, nothing sent)")
    return (f"{name}: {total} rows: {summary['succeeded']} succeeded, {summary['failed']} failed, "
            f"{summary['in_doubt']} in doubt, {summary['skipped']} skipped{unchanged}, {summary['invalid']} invalid; "
            f"{summary['warnings']} warnings")


def outcome_text(summary: Mapping[str, Any], exit_code: int, folder: Path | None, error: str | None = None) -> str:
    """One line: the counts (or the fatal error), the exit code and the report folder."""
    head = counts_line(summary)
    if error is not None:
        head = f"{input_name(summary)}: stopped: {error}"
    report = f" — report: {folder}" if folder is not None else ""
    return f"{head} — exit {exit_code}{report}"
