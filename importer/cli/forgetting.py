"""``superfone-import state forget PHONE … | --file SHEET``: a person's data out of everything this tool keeps.

From the account's state (and its backups, and a state an earlier version kept in the report folder): the
confirmed values and the notes ledger; from the journals: before-images and task records. Then the run folders
that still hold the phone are listed, and with ``--purge-reports`` rewritten without those rows. The lead in
Superfone itself is not this tool's to erase: the last line says so.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

from importer.errors import ConfigError
from importer.run.stores.home import StateLocation

__all__ = ["forget", "phones_to_forget"]

CANNOT = ("not erased: the leads in Superfone itself (the Enterprise API cannot delete a lead): delete them in the "
          "Superfone app")


def phones_to_forget(args: argparse.Namespace) -> list[str]:
    """The E.164 phones named on the command line and in ``--file``'s phone column; one line for a bad one."""
    from importer.phones import Phone, normalise_phone

    written = list(args.phones) + (_sheet_phones(args.file, args.column) if args.file else [])
    if not written:
        raise ConfigError("state forget: name the phones to forget (PHONE … or --file SHEET)")
    phones = []
    for text in written:
        found = normalise_phone(text, args.region)
        if not isinstance(found, Phone):
            raise ConfigError(f"state forget: {text!r} is not a phone number ({found.message})")
        phones.append(found.e164)
    return sorted(set(phones))


def _sheet_phones(sheet: Path, column: str | None) -> list[str]:
    from importer.sources import open_table

    table = open_table(sheet)
    name = column or next((name for name in table.columns if any(word in name.lower()
                                                                   for word in ("phone", "mobile"))), None)
    if name is None or name not in table.columns:
        raise ConfigError(f"{sheet}: no column {column!r}" if column else
                          f"{sheet}: no phone column found: name it with --column")
    return [row.cells[name] for batch in table.batches() for row in batch if row.cells.get(name, "").strip()]


def forget(args: argparse.Namespace, phones: list[str], states: list[StateLocation]) -> Iterator[str]:
    from importer.report.purge import find_holding, purge
    from importer.run.stores.forget import forget_in_journal, forget_in_state
    from importer.run.stores.state import SyncState

    folders = {folder.resolve() for folder in _run_folders(args.report_dir)}
    legacy = args.report_dir / "state.sqlite"
    for location in [*states, *([StateLocation(path=legacy)] if legacy.is_file() else [])]:
        with SyncState(location) as state:
            folders.update(Path(run.report).resolve() for run in state.runs())
            for forgotten in forget_in_state(state, phones):
                yield forgotten.line()
    journals = {(folder.parent / "journal.sqlite").resolve() for folder in folders}
    journals.add((args.report_dir / "journal.sqlite").resolve())
    for journal in sorted(path for path in journals if path.is_file()):
        yield forget_in_journal(journal, phones).line()
    holding = find_holding(sorted(folders), phones)
    for path, rows in holding.items():
        yield f"{'rewritten without them' if args.purge_reports else 'still held'}: {path} ({rows} row(s))"
    if holding and args.purge_reports:
        purge(holding, phones)
    elif holding:
        yield "superfone-import state forget … --purge-reports rewrites these files without those rows"
    yield f"{len(phones)} phone(s) forgotten by this tool; {CANNOT}"


def _run_folders(report_dir: Path) -> list[Path]:
    if not report_dir.is_dir():
        return []
    return [path for path in report_dir.iterdir() if (path / "summary.json").is_file()]
