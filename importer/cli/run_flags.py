"""The flags of ``run`` beyond what to read and how fast: the sync's (``--job``, ``--state``, ``--full``, the
guards, ``--on-missing``, ``--keep-runs``, ``--keep-payloads``, ``--shared-group``) and an unattended run's
(``--notify``, ``--alert-if``, ``--log-file``, ``-v``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from importer.cli.state import add_state_argument
from importer.run.context.settings import (
    DEFAULT_CONCURRENCY,
    DEFAULT_KEEP_PAYLOADS,
    DEFAULT_MAX_MISSING,
    DEFAULT_RATE,
    RunSettings,
    argument,
    read_count,
    read_days,
    read_on_missing,
    read_percent,
    read_rate,
)


def add_speed_arguments(command: argparse.ArgumentParser) -> None:
    """``--rate`` and ``--concurrency``: how hard a command pushes the API."""
    command.add_argument("--rate", type=argument(read_rate), default=DEFAULT_RATE, metavar="PER_S",
                         help=f"requests per second (default: {DEFAULT_RATE:g})")
    command.add_argument("--concurrency", type=argument(read_count), default=DEFAULT_CONCURRENCY, metavar="N",
                         help=f"requests in flight at once (default: {DEFAULT_CONCURRENCY})")


def settings_of(args: argparse.Namespace) -> RunSettings:
    """The run's settings from the parsed flags (a command's own, or a job file's read by them): those it has."""
    return RunSettings.read({name: getattr(args, name, None) for name in RunSettings.model_fields},
                            lambda name: f"--{name.replace('_', '-')}")


def add_sync_arguments(command: argparse.ArgumentParser, mode: str) -> None:
    """A real run sends only what changed since the job's last confirmed sync; a dry run says what that is."""
    defaults = {"full": False, "job": None, "state": None, "repeat_notes": False, "allow_shrink": False,
                "allow_invalid": False, "on_missing": "keep", "max_missing": DEFAULT_MAX_MISSING, "keep_runs": None,
                "keep_payloads": DEFAULT_KEEP_PAYLOADS, "shared_group": None}
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
    command.add_argument("--on-missing", type=argument(read_on_missing), default="keep",
                         metavar="keep|label:NAME|stage:NAME",
                         help="leads the job synced before that the input lacks: keep (default), add a label, "
                              "or move to a stage")
    command.add_argument("--max-missing", type=argument(read_percent), default=DEFAULT_MAX_MISSING, metavar="PCT",
                         help="refuse to touch more than this share of the job's leads "
                              f"(default: {DEFAULT_MAX_MISSING:g})")
    command.add_argument("--keep-payloads", type=argument(read_days), default=DEFAULT_KEEP_PAYLOADS, metavar="DAYS",
                         help="after a finished run, remove payloads.jsonl and before.jsonl of the job's runs older "
                              f"than this (default: {DEFAULT_KEEP_PAYLOADS:g}; failures.csv stays)")
    command.add_argument("--shared-group", metavar="GROUP",
                         help="let this group read the run folders (files 0640, folders 0750); by default only "
                              "their owner can")
    command.add_argument("--keep-runs", type=argument(read_count), metavar="N",
                         help="after a finished run, remove the job's oldest run folders beyond the newest N "
                              "(never the state, never a folder an interrupted run still needs)")


def add_unattended_arguments(command: argparse.ArgumentParser) -> None:
    from importer.cli.alerting import add_alert_arguments

    add_alert_arguments(command)
    command.add_argument("--log-file", type=Path, metavar="FILE",
                         help="append timestamped lines: start, end, retries, 429s, fatal errors")
    command.add_argument("-v", "--verbose", action="store_true", help="debug lines on stderr (and in the log file)")
