"""The page's folder on disk: one folder per uploaded sheet (the file, the sheet chosen, the mapping being edited)
and the run folders of every run started from the page.

    <work dir>/imports/<id>/<the uploaded file>     the sheet, under its own (cleaned) name
    <work dir>/imports/<id>/mapping.yaml            the mapping as last saved (suggested at first)
    <work dir>/imports/<id>/.sheet                  the worksheet chosen (workbooks)
    <work dir>/reports/<run folder>/                each run's report folder, the journal, the sync state

Nothing is kept in memory: a page started again on the same folder finds every import and run.
"""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from importer.errors import ImporterError, InputError
from importer.mapping import Mapping, load_mapping
from importer.sources import KINDS, WORKBOOK_KINDS, Table, open_table
from importer.sources.workbook import workbook_sheets

MAPPING_NAME = "mapping.yaml"
_SHEET_NAME = ".sheet"
#: Where a sheet read from a location came from (the source as typed, minus secrets).
_SOURCE_NAME = ".source"
#: Where an upload is received before it gets its own name.
INCOMING = ".incoming"
_ID = re.compile(r"[0-9a-f]{16}")
_RUN = re.compile(r"[0-9]{8}-[0-9]{6}-[^/\\]{0,200}")
_UNSAFE_NAME = re.compile(r"[^\w.()\- ]+")


def clean_file_name(name: str) -> str:
    """The uploaded file's own name, made safe to store: no folders, no control or odd characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE_NAME.sub("_", base).strip(" .") or "upload"
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        return base[:120]
    return f"{stem[:100] or 'upload'}.{suffix[:10]}"


@dataclass(frozen=True)
class Upload:
    """One uploaded sheet and what the page keeps next to it."""

    id: str
    folder: Path

    @property
    def path(self) -> Path:
        """The sheet itself: the one file of the folder that is neither the mapping nor the sheet choice."""
        for entry in sorted(self.folder.iterdir()):
            if entry.is_file() and entry.name != MAPPING_NAME and not entry.name.startswith("."):
                return entry
        raise InputError(f"import {self.id}: its file is gone")

    @property
    def mapping_path(self) -> Path:
        return self.folder / MAPPING_NAME

    @property
    def source(self) -> str | None:
        """Where the sheet was read from (a glob, a folder, a URI; no secret), for a sheet not uploaded."""
        named = self.folder / _SOURCE_NAME
        return named.read_text(encoding="utf-8") if named.is_file() else None

    @property
    def is_workbook(self) -> bool:
        return KINDS.get(self.path.suffix.lower()) in WORKBOOK_KINDS

    @property
    def sheet(self) -> str | None:
        chosen = self.folder / _SHEET_NAME
        return chosen.read_text(encoding="utf-8") if chosen.is_file() else None

    def choose_sheet(self, name: str) -> None:
        if name not in self.sheets():
            raise InputError(f"{self.path.name}: no visible sheet named {name!r}")
        (self.folder / _SHEET_NAME).write_text(name, encoding="utf-8")

    def sheets(self) -> list[str]:
        return workbook_sheets(self.path) if self.is_workbook else []

    def table(self) -> Table:
        return open_table(self.path, self.sheet)

    def mapping_text(self) -> str:
        return self.mapping_path.read_text(encoding="utf-8") if self.mapping_path.is_file() else ""

    def save_mapping(self, text: str) -> None:
        self.mapping_path.write_text(text, encoding="utf-8")

    def load_mapping(self, table: Table | None = None) -> Mapping:
        """The saved mapping, checked against the sheet's columns; ConfigError says what is wrong and where."""
        mapping = load_mapping(self.mapping_path)
        table = table or self.table()
        mapping.check_columns(table.columns, source=table.path.name)
        return mapping

    def mapping_problem(self) -> str | None:
        """Why the saved mapping cannot run with this sheet (one line), or None when it can."""
        try:
            self.load_mapping()
        except ImporterError as exc:
            return str(exc)
        return None


class Workspace:
    """The folder the page keeps its imports and runs in (``--work-dir``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.imports = root / "imports"
        self.reports = root / "reports"
        for folder in (root, self.imports, self.reports):  # uploads and runs hold leads' data: the owner's only
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    def new_import(self) -> Path:
        """A new, empty import folder, for an upload to be received into."""
        folder = self.imports / secrets.token_hex(8)
        folder.mkdir(mode=0o700)
        return folder

    def finish_import(self, folder: Path, file_name: str | None, received: Path | None) -> Upload:
        """The import of a received file under its own (cleaned) name; InputError (and the folder removed) for
        no file, an empty one or a type no reader takes."""
        try:
            if received is None or not received.is_file() or not file_name:
                raise InputError("choose a file to upload")
            name = clean_file_name(file_name)
            suffix = Path(name).suffix.lower()
            if suffix not in KINDS:
                raise InputError(f"{name}: unsupported file type {suffix or '(no extension)'!r}; "
                                 f"use one of {', '.join(sorted(KINDS))}")
            if received.stat().st_size == 0:
                raise InputError(f"{name}: the file is empty")
            received.rename(folder / name)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return Upload(folder.name, folder)

    def import_source(self, source: str, max_bytes: int) -> Upload:
        """A new import of the sheet ``source`` names (a path, glob, folder or URI): the file it picks is copied
        in under its own name, with where it came from. InputError (and no folder left) when it cannot be read."""
        from importer.sources.locate import locate_source

        if not source.strip():
            raise InputError("type where the sheet is: a path, a glob, https://…, s3://…, sftp://… or gsheets://…")
        folder = self.new_import()
        try:
            with locate_source(source.strip(), max_bytes=max_bytes) as found:
                name = clean_file_name(found.path.name)
                if Path(name).suffix.lower() not in KINDS:
                    raise InputError(f"{found.display}: unsupported file type {Path(name).suffix or '(none)'!r}")
                shutil.copyfile(found.path, folder / name)
                (folder / _SOURCE_NAME).write_text(found.display, encoding="utf-8")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return Upload(folder.name, folder)

    def upload(self, upload_id: str) -> Upload:
        folder = self.imports / upload_id
        if not _ID.fullmatch(upload_id) or not folder.is_dir():
            raise LookupError(upload_id)
        return Upload(upload_id, folder)

    def upload_of(self, input_path: str) -> Upload | None:
        """The import a run's input belongs to (a run's summary names its input), if it is one of ours."""
        path = Path(input_path)
        if path.parent.parent.resolve() != self.imports.resolve():
            return None
        try:
            return self.upload(path.parent.name)
        except LookupError:
            return None

    def run_folder(self, name: str) -> Path:
        """A run folder by name; LookupError unless it is one directly under the reports folder."""
        folder = self.reports / name
        if not _RUN.fullmatch(name) or name in (".", "..") or not (folder / "summary.json").is_file():
            raise LookupError(name)
        return folder

    def runs(self, limit: int = 20) -> Iterator[Path]:
        """The newest run folders first."""
        folders = [entry for entry in self.reports.iterdir() if (entry / "summary.json").is_file()]
        yield from sorted(folders, key=lambda entry: entry.name, reverse=True)[:limit]
