"""Command line: parse arguments, call the library, turn errors into one line and an exit code.

Exit codes: 0 every row succeeded (dry run: no row has an error); 1 finished, but some rows were invalid,
failed or are in doubt; 2 could not run (bad arguments, mapping or input, 401, server unreachable); 3 stopped
before the end (a signal, a quota-length Retry-After, --time-limit, a full disk): run the same command again.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from importer.cli.run_flags import add_speed_arguments, add_sync_arguments, add_unattended_arguments, settings_of
from importer.cli.signals import EXIT_STOPPED, add_stop_arguments, stop_on_signals
from importer.cli.state import add_state_argument
from importer.errors import ImporterError, StopRequested
from importer.private import owner_only
from importer.run.context.settings import (
    DEFAULT_CONCURRENCY,
    DEFAULT_RATE,
    DEFAULT_REPORT_DIR,
    ON_DUPLICATE,
    argument,
    read_count,
)

if TYPE_CHECKING:
    from importer.report.alerts import Event
    from importer.report.notify import Target
    from importer.run.context.kind import RunKind
    from importer.run.context.result import RunResult
    from importer.sandbox import SandboxServer

EXIT_OK, EXIT_ROWS, EXIT_FATAL = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2 (its own default is also 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_FATAL, f"{self.prog}: error: {message}\n")


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    parser = _Parser(prog="superfone-import", description="Sync spreadsheets of leads into Superfone.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    for name, help_text in (("run", "import a sheet into Superfone"),
                            ("validate", "check a sheet and write the report; never sends (run --dry-run)"),
                            ("verify", "read every row's lead back with get-lead and report differences")):
        command = commands.add_parser(name, help=help_text)
        _add_run_arguments(command, mode=name)
        command.set_defaults(handler=_run)

    catalog = commands.add_parser("catalog", help="show the account's labels, stages, groups and products")
    catalog.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    _add_target_arguments(catalog)
    catalog.set_defaults(handler=_catalog)

    mapping = commands.add_parser("mapping", help="work with mapping files")
    mapping_commands = mapping.add_subparsers(dest="mapping_command", required=True, parser_class=_Parser)
    suggest = mapping_commands.add_parser("suggest", help="print a mapping guessed from a sheet's headers")
    suggest.add_argument("sheet", metavar="SHEET")
    suggest.add_argument("--sheet", dest="sheet_name", metavar="NAME|INDEX", help="worksheet of a workbook")
    suggest.set_defaults(handler=_suggest)

    history = commands.add_parser("history", help="each sync job's past runs, from the state file")
    history.add_argument("--job", metavar="NAME", help="only this job's runs")
    history.add_argument("--json", action="store_true", help="print a JSON list instead of text")
    history.add_argument("--limit", type=_positive(int), metavar="N", help="the N newest runs")
    history.add_argument("--report-dir", type=Path, default=Path("reports"), metavar="DIR",
                         help="also show the runs of a state an earlier version kept there (default: reports)")
    add_state_argument(history)
    history.set_defaults(handler=_history)

    from importer.cli import apply, jobs, state, ui, undo
    from importer.cli.pull import add_pull_command

    jobs.add_commands(commands, _add_run_arguments, _run, run_parser)

    apply.add_command(commands)
    undo.add_command(commands)
    add_pull_command(commands, _positive(float))
    ui.add_command(commands)
    state.add_command(commands, _positive)

    sandbox = commands.add_parser("sandbox", help="serve a local Superfone sandbox until interrupted")
    if list(argv[:1]) == ["sandbox"]:  # the sandbox pulls in its web framework: load it only when asked for
        from importer.sandbox import command as sandbox_command

        sandbox_command.add_arguments(sandbox)
        sandbox.set_defaults(handler=_sandbox)
    return parser


def _positive(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
        return value

    return parse


def _add_target_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--base-url", default=os.environ.get("SF_BASE_URL") or None, metavar="URL",
                         help="API base URL (env SF_BASE_URL; default: the production URL)")
    command.add_argument("--sandbox", action="store_true",
                         help="start a local sandbox (seeded from sample_data/catalog.yaml) and use it")


def run_parser() -> argparse.ArgumentParser:
    """The ``run`` command's parser on its own: what a job file's options are checked against and built with."""
    parser = _Parser(prog="superfone-import run")
    _add_run_arguments(parser, "run")
    return parser


def _add_run_arguments(command: argparse.ArgumentParser, mode: str, sheet: bool = True) -> None:
    """The flags of ``run``, ``validate`` and ``verify`` (``sheet``: with the SHEET argument; ``sync`` takes them
    as overrides of its job files)."""
    if sheet:
        command.add_argument("sheet", metavar="SHEET",
                             help="CSV, TSV, XLSX, XLSM, XLS, ODS, JSON or JSON Lines file (.gz, .zip), a glob or "
                                  "folder (its newest file), https://…, s3://bucket/key, sftp://user@host/path or "
                                  "gsheets://SPREADSHEET_ID[/SHEET]")
    command.add_argument("-m", "--mapping", required=sheet, metavar="MAPPING", help="mapping YAML file")
    # What a job file's sync hands its run: the file located, an inline mapping, where the key is.
    command.set_defaults(found=None, compiled_mapping=None, api_key_env="SF_API_KEY", remember_file=False)
    command.add_argument("--sheet", dest="sheet_name", metavar="NAME|INDEX", help="worksheet of a workbook")
    command.add_argument("--report-dir", type=Path, default=DEFAULT_REPORT_DIR, metavar="DIR",
                         help=f"where run folders and the journal go (default: {DEFAULT_REPORT_DIR})")
    command.add_argument("--on-duplicate", choices=ON_DUPLICATE, default="last",
                         help="which of several rows with the same customer phone is sent (default: last)")
    if mode != "verify":
        command.add_argument("--offline", action="store_true",
                             help="do not read the account's catalog (names are then not checked)")
    _add_target_arguments(command)
    command.add_argument("--workers", type=argument(read_count), metavar="N",
                         help="checking processes (default: auto)")
    command.add_argument("--quiet", action="store_true", help="no progress bar")
    command.add_argument("--profile", action="store_true", default=os.environ.get("SF_PROFILE", "") not in ("", "0"),
                         help="write a profile of the run (profile.pstats, profile.txt) into its report folder, "
                              "to send when a run is slow (env SF_PROFILE=1)")
    add_stop_arguments(command)
    add_unattended_arguments(command)
    add_sync_arguments(command, mode)
    if mode == "validate":
        command.set_defaults(dry_run=True, rate=DEFAULT_RATE, concurrency=DEFAULT_CONCURRENCY, fresh=False,
                             retry_failed=None, plan=False, no_undo=False)
        return
    add_speed_arguments(command)
    if mode == "verify":
        command.set_defaults(dry_run=True, offline=False, fresh=False, retry_failed=None, plan=False, no_undo=False)
        return
    command.add_argument("--dry-run", action="store_true", help="check and report, send nothing")
    command.add_argument("--plan", action="store_true",
                         help="dry run that also reads each row's lead (GET only) and says what would change")
    command.add_argument("--fresh", action="store_true", help="ignore the journal of earlier runs")
    command.add_argument("--retry-failed", type=Path, metavar="RUN_DIR",
                         help="send only the failed and in-doubt rows of that earlier run")
    command.add_argument("--no-undo", action="store_true",
                         help="record no before-images: read a lead before writing only when a field policy needs "
                              "it (half the requests of an update-heavy run; undo cannot restore the run)")


def _run(args: argparse.Namespace) -> int:
    from importer.cli.alerting import Alerting
    from importer.cli.logs import log_end, log_fatal, run_logging
    from importer.report.outcome import outcome_text
    from importer.run.engine.stop import stop_line
    from importer.run.kinds.ledger import GuardError

    smtp_url = os.environ.get("SF_SMTP_URL") or None
    alerting = Alerting.from_args(args, smtp_url)  # usage errors: before all
    secrets = _secrets(alerting.targets, smtp_url, args.sheet, args.api_key_env)
    with run_logging(args.log_file, args.verbose, secrets) as masking:
        tell = partial(alerting.tell, secrets=masking.secrets)  # a failed alert: a warning line, never an exit code
        try:
            result = _import(args)
        except StopRequested as exc:  # stopped before the run began its report (nothing was sent)
            log_fatal(f"stopped: {exc}")
            tell(EXIT_STOPPED, _fatal_summary(args, exc), None, "stopped", error=str(exc))
            raise
        except ImporterError as exc:
            log_fatal(str(exc), exc.report_folder)
            event: Event = "guard" if isinstance(exc, GuardError) else "fatal"
            tell(EXIT_FATAL, _fatal_summary(args, exc), exc.report_folder, event, error=str(exc))
            raise
        except KeyboardInterrupt:
            log_fatal("interrupted")
            raise
        exit_code = EXIT_STOPPED if result.stopped else result.exit_code
        log_end(" — ".join(filter(None, [outcome_text(result.summary, exit_code, result.folder),
                                         stop_line(result.summary)])))
        tell(exit_code, result.summary, result.folder, "stopped" if result.stopped else "finished")
    return exit_code


def _secrets(targets: Sequence[Target], smtp_url: str | None, sheet: str,
             api_key_env: str = "SF_API_KEY") -> list[str | None]:
    """What no log line may show: the API key, the SMTP URL and password, the webhooks' tokens, the source's
    credentials (a URL's password and query, the AWS keys, the SFTP password)."""
    from importer.report.notify import SmtpServer
    from importer.sources.locate import source_secrets

    secrets = [os.environ.get("SF_API_KEY"), os.environ.get(api_key_env), smtp_url,
               *(secret for target in targets for secret in target.secrets),
               *source_secrets(sheet)]
    if smtp_url:
        try:
            secrets.append(SmtpServer.parse(smtp_url).password)
        except ImporterError:  # malformed: unused without a mailto: target, and masked whole
            pass
    return secrets


def _import(args: argparse.Namespace) -> RunResult:
    """The run itself: options, kind, the journey, the closing summary on stdout."""
    from importer.api.client import DEFAULT_BASE_URL
    from importer.cli.console import BarProgress, summary_lines
    from importer.cli.logs import log_start
    from importer.run.context.options import NullProgress, RunOptions
    from importer.run.engine.stop import Stop, plan_fit_line, stop_line
    from importer.run.journey.pipeline import Importer
    from importer.sources.locate import display_name

    options = RunOptions.of(
        settings_of(args), sheet=args.sheet_name, dry_run=args.dry_run, offline=args.offline,
        report_dir=args.report_dir, fresh=args.fresh, retry_failed=args.retry_failed,
        base_url=args.base_url or DEFAULT_BASE_URL, api_key=os.environ.get(args.api_key_env) or None,
        full=args.full, job=args.job, state=args.state, repeat_notes=args.repeat_notes,
        allow_shrink=args.allow_shrink, allow_invalid=args.allow_invalid, no_undo=args.no_undo,
        remember_file=args.remember_file, shared_group=args.shared_group, profile=args.profile,
    )
    interactive = not args.quiet and sys.stderr.isatty()
    progress = BarProgress() if interactive else NullProgress()
    with ExitStack() as stack:
        if args.sandbox:
            server = stack.enter_context(_start_sandbox())
            options.base_url, options.api_key, options.fresh = server.base_url, server.api_key, True
            if options.state is None:  # a sandbox started fresh has its own state, gone with it
                options.state = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "state.sqlite"
            print(f"sandbox: {server.base_url} (in-process, fresh state)")
        kind, kind_name = _kind(args)
        log_start(display_name(args.sheet), args.mapping, kind_name, options.base_url)
        with stop_on_signals(Stop()) as stop:
            result = Importer(args.found or args.sheet, args.compiled_mapping or args.mapping, options, progress,
                              kind=kind, stop=stop).run()
    lines = summary_lines(result.summary, str(result.folder))
    notes = [stop_line(result.summary), plan_fit_line(result.summary, options.time_limit)]
    lines[-1:-1] = [*kind.lines(result.summary), *filter(None, notes)]  # "report: <folder>" stays the last line
    for line in lines:
        print(line)
    return result


def _kind(args: argparse.Namespace) -> tuple[RunKind, str]:
    """What the run does with the checked rows, and its name in the log."""
    from importer.run.kinds.dry import DryRun
    from importer.run.kinds.plan import Plan
    from importer.run.kinds.send import Send
    from importer.run.kinds.verify import Verify

    if args.command == "verify":
        return Verify(), "verify"
    if args.plan:
        return Plan(), "plan (dry run)"
    if args.dry_run:
        return DryRun(), "dry run"
    return Send(), "real run"


def _fatal_summary(args: argparse.Namespace, exc: ImporterError) -> dict[str, Any]:
    """summary.json of a run stopped after it had begun its report; else what was asked for."""
    if exc.report_folder is not None:
        try:
            summary = json.loads((exc.report_folder / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            summary = None
        if isinstance(summary, dict):
            return summary
    from importer.sources.locate import display_name

    return {"input": display_name(args.sheet), "mapping": args.mapping}


def _catalog(args: argparse.Namespace) -> int:
    from importer.api.client import DEFAULT_BASE_URL
    from importer.cli.catalog_view import catalog_json, catalog_text, fetch_catalog

    with ExitStack() as stack:
        base_url, api_key = args.base_url or DEFAULT_BASE_URL, os.environ.get("SF_API_KEY") or None
        if args.sandbox:
            server = stack.enter_context(_start_sandbox())
            base_url, api_key = server.base_url, server.api_key
        catalog = fetch_catalog(base_url, api_key)
    sys.stdout.write(catalog_json(catalog) if args.json else catalog_text(catalog))
    return EXIT_OK


def _history(args: argparse.Namespace) -> int:
    from importer.cli.history import history_json, history_text
    from importer.cli.state import known_runs

    runs = known_runs(args.state, args.report_dir, args.job, args.limit)
    sys.stdout.write(history_json(runs) if args.json else history_text(runs))
    return EXIT_OK


def _suggest(args: argparse.Namespace) -> int:
    from importer.sources import open_table
    from importer.suggest.suggester import suggest_mapping

    suggestion = suggest_mapping(open_table(args.sheet, args.sheet_name))
    sys.stdout.write(suggestion.yaml)
    return EXIT_OK


def _sandbox(args: argparse.Namespace) -> int:
    from importer.cli.pull import source_sandbox_lines
    from importer.sandbox.command import serve

    def announce(base_url: str, api_key: str) -> None:
        print(f"Superfone sandbox: {base_url} (api key: {api_key})", flush=True)
        print(source_sandbox_lines(base_url.removesuffix("/superfone"), args), flush=True)

    return serve(args, on_ready=announce)


def _start_sandbox() -> SandboxServer:
    from importer.sandbox import SandboxConfig, SandboxServer

    seed = Path("sample_data/catalog.yaml")
    return SandboxServer(SandboxConfig(), seed=seed if seed.is_file() else None)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed as one line
        return int(exc.code or 0)
    try:
        with owner_only():  # what a command writes can hold leads' data: its owner's (importer.private)
            return int(args.handler(args))
    except StopRequested as exc:
        print(f"superfone-import: stopped: {exc}: nothing was sent; run the same command again later", file=sys.stderr)
        return EXIT_STOPPED
    except ImporterError as exc:
        print(f"superfone-import: error: {exc}", file=sys.stderr)
        if exc.report_folder is not None:  # the run had begun: what it did is reported there
            print(f"report: {exc.report_folder}")
        return EXIT_FATAL
    except KeyboardInterrupt:
        print("superfone-import: interrupted", file=sys.stderr)
        return 130
