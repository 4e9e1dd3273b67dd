"""``superfone-import undo RUN_DIR [--dry-run] [--label-created NAME]`` (see :mod:`importer.run.kinds.undo`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from importer.cli.apply import add_target_options
from importer.cli.run_flags import settings_of
from importer.cli.signals import EXIT_STOPPED, stop_on_signals
from importer.errors import ConfigError


def add_command(commands: Any) -> None:
    command = commands.add_parser("undo", help="put back what a run or an apply changed, where nobody changed it since")
    command.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="the report folder of a real run or an apply")
    command.add_argument("--dry-run", action="store_true",
                         help="read the leads and say what undo would do; write nothing")
    command.add_argument("--label-created", metavar="NAME",
                         help="tag the leads the run created with this (existing) label, to delete them by hand")
    add_target_options(command, "the run")
    command.set_defaults(handler=run_undo)


def run_undo(args: argparse.Namespace) -> int:
    from importer.api.client import DEFAULT_BASE_URL
    from importer.cli.console import BarProgress
    from importer.run.context.options import NullProgress, RunOptions
    from importer.run.engine.stop import Stop, stop_line
    from importer.run.kinds.undo import Undo, UndoPreview

    used = run_base_url(args.run_dir)
    base_url = args.base_url or used or DEFAULT_BASE_URL
    if used is not None and base_url.rstrip("/") != used.rstrip("/"):
        raise ConfigError(f"{args.run_dir}: that run wrote to {used}, not to {base_url}")
    options = RunOptions.of(settings_of(args), report_dir=args.report_dir, base_url=base_url,
                            api_key=os.environ.get("SF_API_KEY") or None)
    progress = BarProgress() if not args.quiet and sys.stderr.isatty() else NullProgress()
    with stop_on_signals(Stop()) as stop:
        undo = (UndoPreview if args.dry_run else Undo)(args.run_dir, options, label_created=args.label_created,
                    progress=progress, stop=stop)
        done = None if args.dry_run else undo.done_by()
        if done is not None:
            print(f"undo: {args.run_dir} was undone already, by {done}: nothing to do")
            return 0
        result = undo.run()
    for line in [*undo_lines(result.summary, args.run_dir), *filter(None, [stop_line(result.summary)])]:
        print(line)
    print(f"report: {result.folder}")
    return EXIT_STOPPED if result.summary.get("stopped") else result.exit_code


def run_base_url(run_dir: Path) -> str | None:
    """The API base URL the run wrote to, from its summary.json (None when it does not say)."""
    try:
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    used = summary.get("base_url") if isinstance(summary, dict) else None
    return used if isinstance(used, str) and used else None


def undo_lines(summary: dict[str, Any], run_dir: Path) -> list[str]:
    """``undo of RUN_DIR: 5 leads: 3 written, …`` and the outcomes of the fields, most frequent first."""
    if summary["dry_run"]:
        would = summary.get("would_write", 0)
        counts = (f"(dry run, nothing sent): {summary['rows_total']} leads: {would} would be written, "
                  f"{summary['valid'] - would - summary['skipped']} nothing to write, {summary['skipped']} skipped")
    else:
        resumed = f" ({summary['resumed']} done by the undo it resumed)" if summary.get("resumed") else ""
        counts = (f"{summary['rows_total']} leads{resumed}: {summary['succeeded']} written, {summary['failed']} "
                  f"failed, {summary['unchanged']} nothing to write, {summary['skipped']} skipped")
    lines = [f"undo of {run_dir} {counts}" if summary["dry_run"] else f"undo of {run_dir}: {counts}"]
    fields = sorted((summary.get("fields") or {}).items(), key=lambda item: (-item[1], item[0]))
    if fields:
        lines.append("undo: " + ", ".join(f"{n} {outcome}" for outcome, n in fields))
    return lines
