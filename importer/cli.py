"""Command line: parse arguments, call the library, turn errors into one line and an exit code.

Exit codes: 0 every row succeeded (dry run: no row has an error); 1 finished, but some rows were invalid,
failed or are in doubt; 2 could not run (bad arguments, mapping or input, 401, server unreachable).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from importer.errors import ImporterError

EXIT_OK, EXIT_ROWS, EXIT_FATAL = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2 (its own default is also 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_FATAL, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="superfone-import", description="Sync spreadsheets of leads into Superfone.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    from importer.sandbox import command as sandbox_command

    sandbox = commands.add_parser("sandbox", help="serve a local Superfone sandbox until interrupted")
    sandbox_command.add_arguments(sandbox)
    sandbox.set_defaults(handler=sandbox_command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except ImporterError as exc:
        print(f"superfone-import: error: {exc}", file=sys.stderr)
        return EXIT_FATAL
    except KeyboardInterrupt:
        print("superfone-import: interrupted", file=sys.stderr)
        return 130
