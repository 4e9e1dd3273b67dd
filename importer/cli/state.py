"""``superfone-import state where|check|backup DEST|export``: the sync state of an account, looked after.

Which state: ``--state`` (a file or a ``postgresql://`` URL), else ``SF_STATE``, else the account's own file in
the per-user data folder; the account is read from the API (one list call) when a key is set (``SF_API_KEY``),
otherwise every state in that folder is meant.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from importer.errors import ConfigError
from importer.run.stores.home import StateLocation, locate, state_home

__all__ = ["add_command", "add_state_argument", "known_runs"]

STATE_HELP = ("the sync state: a file, or postgresql://USER@HOST/DB for a state shared by a team's machines "
              "(password from PGPASSWORD or ~/.pgpass); default: SF_STATE, else one file per account in the "
              "per-user data folder (superfone-import state where)")


def add_state_argument(command: argparse.ArgumentParser) -> None:
    command.add_argument("--state", metavar="FILE|postgresql://…", help=STATE_HELP)


def add_command(commands: Any, positive: Any) -> None:
    command = commands.add_parser("state", help="where the sync state lives; check, back up or export it")
    actions = command.add_subparsers(dest="state_command", required=True, parser_class=type(command))
    for name, text in (("where", "where the state of the account lives"),
                       ("check", "check the state's integrity and format (exit 2 when damaged)"),
                       ("backup", "an online backup of the state into DEST (a file, or a folder)"),
                       ("export", "the state's jobs, runs, leads and notes ledger as JSON Lines")):
        action = actions.add_parser(name, help=text)
        if name == "backup":
            action.add_argument("dest", type=Path, metavar="DEST")
        if name == "export":
            action.add_argument("--out", type=Path, metavar="FILE", help="write here instead of standard output")
        _add_common(action)
        action.set_defaults(handler=run)
    forget = actions.add_parser("forget", help="remove a person's data from the state, its backups and the "
                                               "journals; list (or --purge-reports) the report files holding it")
    forget.add_argument("phones", nargs="*", metavar="PHONE")
    forget.add_argument("--file", type=Path, metavar="SHEET", help="forget every phone of this sheet's phone column")
    forget.add_argument("--column", metavar="NAME", help="the sheet's phone column (default: the first whose name "
                                                        "has 'phone' or 'mobile')")
    forget.add_argument("--region", default="IN", metavar="CC", help="country of phones written without + (IN)")
    forget.add_argument("--report-dir", type=Path, default=Path("reports"), metavar="DIR",
                        help="run folders to look through besides those the state knows (default: reports)")
    forget.add_argument("--purge-reports", action="store_true",
                        help="rewrite the report files without the rows holding those phones")
    _add_common(forget)
    forget.set_defaults(handler=run_forget)


def _add_common(action: argparse.ArgumentParser) -> None:
    add_state_argument(action)
    action.add_argument("--base-url", default=os.environ.get("SF_BASE_URL") or None, metavar="URL",
                        help="API base URL (env SF_BASE_URL); with SF_API_KEY it tells the account")


def run(args: argparse.Namespace) -> int:
    from importer.run.stores.state import SyncState
    from importer.run.stores.upkeep import backup_state, check_state, export_state

    locations = _locations(args)
    if args.state_command == "where":
        if not locations:
            print(f"no state yet in {state_home()}: the first real run of an account creates its own there "
                  "(with SF_API_KEY set, this names the account's file)")
            return 0
        for location, account in locations:
            made = "" if location.exists() else " (not created yet: the first real run creates it)"
            print(f"{account or 'account'}: {location.where}{made}")
        return 0
    existing = [(location, account) for location, account in locations if location.exists()]
    if not existing:
        raise ConfigError(f"no sync state at {locations[0][0].where if locations else state_home()}: "
                          "no real run has written one yet")
    if args.state_command != "check" and len(existing) > 1:
        raise ConfigError(f"{len(existing)} states in {state_home()}: name one with --state "
                          "(superfone-import state where lists them)")
    with ExitStack() as stack:
        for location, _ in existing:
            state = stack.enter_context(SyncState(location))
            if args.state_command == "check":
                for line in check_state(state).lines():
                    print(line)
            elif args.state_command == "backup":
                print(f"state {state.where}: backed up to {backup_state(state, args.dest)}")
            else:
                _write(export_state(state), args.out)
    return 0


def run_forget(args: argparse.Namespace) -> int:
    from importer.cli.forgetting import forget, phones_to_forget

    phones = phones_to_forget(args)  # a bad phone or sheet: said before the account is asked for anything
    for line in forget(args, phones, [location for location, _ in _locations(args) if location.exists()]):
        print(line)
    return 0


def _write(lines: Iterator[str], out: Path | None) -> None:
    if out is None:
        sys.stdout.writelines(lines)
        return
    try:
        with open(out, "w", encoding="utf-8", newline="\n") as stream:
            stream.writelines(lines)
    except OSError as exc:
        raise ConfigError(f"cannot write {out}: {exc.strerror or exc}") from None


def _locations(args: argparse.Namespace) -> list[tuple[StateLocation, str | None]]:
    """The state meant: the one chosen, the account's own (its key is set), or every state of the data folder."""
    chosen = args.state or os.environ.get("SF_STATE")
    if chosen:
        return [(locate(chosen, ""), None)]
    account = _account(args.base_url)
    if account is not None:
        return [(locate(None, account), account)]
    return [(StateLocation(path=path), None) for path in sorted(state_home().glob("*.sqlite"))]


def _account(base_url: str | None) -> str | None:
    """The account of ``SF_API_KEY`` (one list call), or None without a key."""
    key = os.environ.get("SF_API_KEY") or None
    if key is None:
        return None
    from importer.api.client import DEFAULT_BASE_URL
    from importer.cli.catalog_view import fetch_catalog
    from importer.run.stores.home import account_key

    url = base_url or DEFAULT_BASE_URL
    return account_key(url, fetch_catalog(url, key).org_id)


def known_runs(state: str | None, report_dir: Path, job: str | None, limit: int | None) -> list[Any]:
    """``history``: the runs of the state chosen, else of every state in the data folder and of a state an earlier
    version kept in ``report_dir``, newest first."""
    from importer.run.stores.account import legacy_states
    from importer.run.stores.state import SyncState

    chosen = state or os.environ.get("SF_STATE")
    if chosen:
        places = [locate(chosen, "")]
    else:
        places = [StateLocation(path=path) for path in sorted(state_home().glob("*.sqlite"))]
        places += [StateLocation(path=path) for path in legacy_states(report_dir)]
    places = [place for place in places if place.exists()]
    if not places:
        raise ConfigError(f"no sync state yet (looked in {chosen or state_home()}): no real run has written one")
    runs: dict[tuple[str, str, str, str], Any] = {}
    for place in places:  # a run merged from an earlier version's state is in both: shown once
        with SyncState(place) as opened:
            runs.update({(run.account, run.job, run.started_at, run.report): run for run in opened.runs(job, limit)
                         if (run.account, run.job, run.started_at, run.report) not in runs})
    newest = sorted(runs.values(), key=lambda run: run.started_at, reverse=True)
    return newest[:limit] if limit else newest
