"""The flags of ``run`` beyond what to read and how fast: the sync's (``--job``, ``--state``, ``--full``, the
guards, ``--on-missing``, ``--keep-runs``, ``--keep-payloads``, ``--shared-group``) and an unattended run's
(``--notify``, ``--alert-if``, ``--log-file``, ``-v``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from importer.cli.state import add_state_argument


def _on_missing(text: str) -> str:
    from importer.run.kinds.missing import parse_on_missing

    try:
        parse_on_missing(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _number(text: str, expected: str, fits: Callable[[float], bool], bounds: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not fits(value):
        raise argparse.ArgumentTypeError(f"must be {bounds}, got {text}")
    return value


def _days(text: str) -> float:
    return _number(text, "a number of days", lambda value: 0 <= value < float("inf"), "0 or more days")


def _percent(text: str) -> float:
    return _number(text, "a percentage", lambda value: 0 <= value <= 100, "between 0 and 100")


def add_sync_arguments(command: argparse.ArgumentParser, mode: str, positive: Any) -> None:
    """A real run sends only what changed since the job's last confirmed sync; a dry run says what that is."""
    defaults = {"full": False, "job": None, "state": None, "repeat_notes": False, "allow_shrink": False,
                "allow_invalid": False, "on_missing": "keep", "max_missing": 10.0, "keep_runs": None,
                "keep_payloads": 30.0, "shared_group": None}
    if mode == "verify":
        command.set_defaults(**defaults)
        return
    command.add_argument("--job", metavar="NAME", help="the sync job (default: the mapping file's name)")
    add_state_argument(command)
    command.add_argument("--full", action="store_true", help="send every valid row whole, changed or not")
    if mode == "validate":
        command.set_defaults(**{k: v for k, v in defaults.items() if k not in ("full", "job", "state")})
        return
    command.add_argument("--repeat-notes", action="store_true",
                         help="send a row's note even if this tool already delivered that text to the lead")
    command.add_argument("--allow-shrink", action="store_true",
                         help="import an input with fewer than half the rows of the job's last run")
    command.add_argument("--allow-invalid", action="store_true",
                         help="import an input with 20 points more invalid rows than the job's last run")
    command.add_argument("--on-missing", type=_on_missing, default="keep", metavar="keep|label:NAME|stage:NAME",
                         help="leads the job synced before that the input lacks: keep (default), add a label, "
                              "or move to a stage")
    command.add_argument("--max-missing", type=_percent, default=10.0, metavar="PCT",
                         help="refuse to touch more than this share of the job's leads (default: 10)")
    command.add_argument("--keep-payloads", type=_days, default=30.0, metavar="DAYS",
                         help="after a finished run, remove payloads.jsonl and before.jsonl of the job's runs older "
                              "than this (default: 30; failures.csv stays)")
    command.add_argument("--shared-group", metavar="GROUP",
                         help="let this group read the run folders (files 0640, folders 0750); by default only "
                              "their owner can")
    command.add_argument("--keep-runs", type=positive(int), metavar="N",
                         help="after a finished run, remove the job's oldest run folders beyond the newest N "
                              "(never the state, never a folder an interrupted run still needs)")


def add_unattended_arguments(command: argparse.ArgumentParser) -> None:
    from importer.cli.alerting import add_alert_arguments

    add_alert_arguments(command)
    command.add_argument("--log-file", type=Path, metavar="FILE",
                         help="append timestamped lines: start, end, retries, 429s, fatal errors")
    command.add_argument("-v", "--verbose", action="store_true", help="debug lines on stderr (and in the log file)")
