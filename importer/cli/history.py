"""``superfone-import history``: each job's past runs, from the sync state."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from importer.run.stores.state import JobRun

__all__ = ["history_json", "history_text"]

_COUNTS = ("rows_total", "succeeded", "failed", "in_doubt", "skipped", "invalid", "unchanged")


def _duration(run: JobRun) -> float | None:
    if run.finished_at is None:
        return None
    try:
        return round((datetime.fromisoformat(run.finished_at) - datetime.fromisoformat(run.started_at))
                     .total_seconds(), 1)
    except ValueError:
        return None


def _document(run: JobRun) -> dict[str, object]:
    return {"job": run.job, "account": run.account, "started_at": run.started_at, "duration_s": _duration(run),
            "input": run.input, **{name: run.counts.get(name) for name in _COUNTS}, "exit_code": run.exit_code,
            "report": run.report}


def history_json(runs: list[JobRun]) -> str:
    return json.dumps([_document(run) for run in runs], indent=2, ensure_ascii=False) + "\n"


def history_text(runs: list[JobRun]) -> str:
    """One line per run, newest first: start, duration, job, input, counts, exit code, report folder."""
    if not runs:
        return "no runs yet\n"
    lines = []
    for run in runs:
        took = _duration(run)
        counts = run.counts
        outcome = (f"{counts.get('rows_total', 0)} rows: {counts.get('succeeded', 0)} succeeded, "
                   f"{counts.get('failed', 0)} failed, {counts.get('in_doubt', 0)} in doubt, "
                   f"{counts.get('unchanged', 0)} unchanged, {counts.get('invalid', 0)} invalid"
                   if counts else "did not finish")
        exit_code = "-" if run.exit_code is None else str(run.exit_code)
        started = run.started_at[:19].replace("T", " ")
        lines.append(f"{started}  {f'{took:g} s' if took is not None else '-':>8}  {run.job}  {Path(run.input).name}: "
                     f"{outcome}; exit {exit_code}; report {run.report}")
    return "\n".join(lines) + "\n"
