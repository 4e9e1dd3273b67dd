"""``superfone-import pull leadsquared|pollybot``: read leads straight from the CRM a migration leaves.

    pull leadsquared --phones SHEET [--column NAME] --out FILE.jsonl     env LSQ_HOST, LSQ_ACCESS_KEY, LSQ_SECRET_KEY
    pull pollybot --ids SHEET [--column NAME] --out FILE.jsonl           env POLLYBOT_BASE_URL, POLLYBOT_API_KEY

Exit codes: 0 every key pulled (now or by an earlier run); 1 some keys missed, refused or failed; 2 could not run
(bad arguments, sheet or environment, 401); 3 stopped before the end (a signal, --time-limit, a Retry-After longer
than --max-wait): run the same command again to go on.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from importer.cli.signals import EXIT_STOPPED, add_stop_arguments, stop_on_signals

if TYPE_CHECKING:
    from importer.pull.runner import PullResult
    from importer.pull.sources import Source

EXIT_OK, EXIT_ROWS = 0, 1
_SOURCES = {"leadsquared": ("--phones", "sheet of phones to look up (CSV, XLSX, JSON …)"),
            "pollybot": ("--ids", "sheet of PollyBot lead ids (lead_…)")}


def add_pull_command(commands: argparse._SubParsersAction, positive: Callable[[str], float]) -> None:
    """Register ``pull`` and its two sources under ``commands``."""
    pull = commands.add_parser("pull", help="read leads from LeadSquared or PollyBot into a JSON Lines file")
    sources = pull.add_subparsers(dest="source", required=True, parser_class=type(pull))
    for name, (flag, text) in _SOURCES.items():
        command = sources.add_parser(name, help=f"pull leads from {name}")
        command.add_argument(flag, dest="keys", required=True, type=Path, metavar="SHEET", help=text)
        command.add_argument("--column", metavar="NAME", help="the column holding them (default: guessed)")
        command.add_argument("--out", required=True, type=Path, metavar="FILE.jsonl",
                             help="where the leads go, one JSON line each (appended; keys already there are skipped)")
        command.add_argument("--misses", type=Path, metavar="FILE.csv",
                             help="where the keys no lead has go (default: beside --out, OUT.misses.csv)")
        command.add_argument("--sheet", dest="sheet_name", metavar="NAME|INDEX", help="worksheet of a workbook")
        if name == "leadsquared":
            command.add_argument("--region", default="IN", metavar="CC",
                                 help="country of phones written without + (default IN)")
        command.add_argument("--rate", type=positive, metavar="PER_S",
                             help="calls per second (LeadSquared: at most its documented 25 per 5 s, the default; "
                                  "PollyBot: default 10)")
        command.add_argument("--report-dir", type=Path, default=Path("reports"), metavar="DIR",
                             help="where the pull's report folder goes (default: reports)")
        add_stop_arguments(command)
        command.add_argument("--quiet", action="store_true", help="no progress bar")
        command.add_argument("--log-file", type=Path, metavar="FILE", help="append timestamped lines: retries, 429s")
        command.add_argument("-v", "--verbose", action="store_true", help="debug lines (one per request)")
        command.set_defaults(handler=run_pull)


def source_sandbox_lines(root: str, args: argparse.Namespace) -> str:
    """What ``superfone-import sandbox`` prints about the source CRMs it serves: the environment pull reads."""
    from importer.sandbox.knobs import SandboxConfig

    config = SandboxConfig()
    return (f"LeadSquared: LSQ_HOST={root}/leadsquared LSQ_ACCESS_KEY={config.leadsquared_access_key} "
            f"LSQ_SECRET_KEY={config.leadsquared_secret_key}\n"
            f"PollyBot: POLLYBOT_BASE_URL={root}/pollybot POLLYBOT_API_KEY={config.pollybot_api_key}")


def _secrets() -> list[str | None]:
    from importer.pull.leadsquared import ENV_ACCESS_KEY, ENV_SECRET_KEY
    from importer.pull.pollybot import ENV_API_KEY

    return [os.environ.get(name) for name in (ENV_ACCESS_KEY, ENV_SECRET_KEY, ENV_API_KEY)]


def _source(args: argparse.Namespace) -> Source:
    """The source client, from the environment (ConfigError names a missing or wrong variable)."""
    from importer.pull.leadsquared import LeadSquaredAccount, LeadSquaredClient
    from importer.pull.pollybot import PollyBotAccount, PollyBotClient
    from importer.pull.sources import LeadSquaredSource, PollyBotSource

    if args.source == "leadsquared":
        return LeadSquaredSource(LeadSquaredClient(LeadSquaredAccount.from_env()), args.region)
    return PollyBotSource(PollyBotClient(PollyBotAccount.from_env()))


def run_pull(args: argparse.Namespace) -> int:
    from importer.cli.console import BarProgress
    from importer.cli.logs import log_fatal, run_logging
    from importer.errors import ImporterError
    from importer.pull.runner import Pull, PullOptions, summary_lines
    from importer.run.context.options import NullProgress
    from importer.run.engine.stop import Stop

    with run_logging(args.log_file, args.verbose, _secrets()):
        source = _source(args)
        options = PullOptions(sheet=args.keys, out=args.out, column=args.column, sheet_name=args.sheet_name,
                              misses=args.misses, report_dir=args.report_dir, rate=args.rate,
                              max_wait=args.max_wait, time_limit=args.time_limit)
        progress = BarProgress() if not args.quiet and sys.stderr.isatty() else NullProgress()
        try:
            with stop_on_signals(Stop()) as stop:
                result = Pull(source, options, progress, stop=stop).run()
        except ImporterError as exc:
            log_fatal(str(exc), exc.report_folder)
            raise
        finally:
            source.close()
    for line in summary_lines(result):
        print(line)
    return exit_code(result)


def exit_code(result: PullResult) -> int:
    summary = result.summary
    if summary["stopped"]:
        return EXIT_STOPPED
    if summary["missed"] or summary["failed"] or summary["refused"]:
        return EXIT_ROWS
    return EXIT_OK
