"""``superfone-import apply PLAN_DIR``: send exactly what ``run --plan`` planned (:mod:`importer.run.kinds.apply`)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from importer.cli.run_flags import add_speed_arguments, settings_of
from importer.cli.signals import EXIT_STOPPED, add_stop_arguments, stop_on_signals
from importer.cli.state import add_state_argument
from importer.errors import ConfigError
from importer.run.context.settings import DEFAULT_REPORT_DIR, RunSettings


def add_target_options(command: argparse.ArgumentParser, made_by: str) -> None:
    """What apply and undo share with run: where to report, the account, how hard to push it, when to stop."""
    command.add_argument("--report-dir", type=Path, default=DEFAULT_REPORT_DIR, metavar="DIR",
                         help=f"where run folders and the journal go (default: {DEFAULT_REPORT_DIR})")
    command.add_argument("--base-url", default=os.environ.get("SF_BASE_URL") or None, metavar="URL",
                         help=f"API base URL (env SF_BASE_URL; default: the one {made_by} used; another one is "
                              "refused)")
    add_speed_arguments(command)
    command.add_argument("--quiet", action="store_true", help="no progress bar")
    add_stop_arguments(command)


def add_command(commands: Any) -> None:
    command = commands.add_parser("apply", help="send exactly what a plan (run --plan) planned, once")
    command.add_argument("plan_dir", type=Path, metavar="PLAN_DIR", help="the report folder of a run --plan")
    add_target_options(command, "the plan")
    add_state_argument(command)
    command.set_defaults(handler=run_apply)


def run_apply(args: argparse.Namespace) -> int:
    from importer.cli.console import BarProgress, summary_lines
    from importer.report.planned import read_header
    from importer.run.context.options import NullProgress, RunOptions
    from importer.run.engine.stop import Stop, stop_line
    from importer.run.journey.pipeline import Importer
    from importer.run.kinds.apply import Apply, check_plan

    header = read_header(args.plan_dir)
    check_plan(args.plan_dir, header)
    base_url = args.base_url or header.base_url
    if base_url.rstrip("/") != header.base_url.rstrip("/"):
        raise ConfigError(f"{args.plan_dir}: the plan was made against {header.base_url}, not {base_url}")
    planned = header.options
    settings = RunSettings.read({**settings_of(args).model_dump(), "on_duplicate": planned.get("on_duplicate")},
                                lambda name: f"{args.plan_dir}: the plan's {name}")
    options = RunOptions.of(
        settings, sheet=header.sheet, report_dir=args.report_dir, base_url=base_url,
        api_key=os.environ.get("SF_API_KEY") or None, job=planned.get("job"),
        state=args.state or planned.get("state") or None, full=bool(planned.get("full")),
        repeat_notes=bool(planned.get("repeat_notes")), allow_shrink=bool(planned.get("allow_shrink")),
        allow_invalid=bool(planned.get("allow_invalid")),
    )
    progress = BarProgress() if not args.quiet and sys.stderr.isatty() else NullProgress()
    kind = Apply(args.plan_dir)
    with stop_on_signals(Stop()) as stop:
        result = Importer(header.input, header.mapping, options, progress, kind=kind, stop=stop).run()
    lines = summary_lines(result.summary, str(result.folder))
    lines[-1:-1] = [*kind.lines(result.summary), *filter(None, [stop_line(result.summary)])]
    for line in lines:
        print(line)
    return EXIT_STOPPED if result.stopped else result.exit_code
