"""Undo of a run, from the history page: first undo's dry run (what it would put back, per lead: restored, already,
edited since, not removable), shown as a run folder of its own with a confirm button; then the undo itself, with
progress and a Stop button like a send: :class:`~importer.run.kinds.undo.UndoPreview` then
:class:`~importer.run.kinds.undo.Undo`, the library of ``superfone-import undo RUN_DIR [--dry-run]``.

    POST /history/runs/{id}/undo      undo's dry run of a run the state knows
    POST /runs/{preview}/undo         the undo that dry run previewed, once confirmed
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from importer.errors import ConfigError, ImporterError
from importer.ui import results
from importer.ui.settings import run_settings

if TYPE_CHECKING:
    from importer.run.context.options import RunOptions
    from importer.run.engine.stop import Stop
    from importer.run.kinds.undo import Undo
    from importer.ui.history import HistoryPages
    from importer.ui.progress import LiveProgress
    from importer.ui.shared import Ui

#: What each line of undo.csv says, in words (the codes stay in undo.csv).
OUTCOME_WORDS = {
    "restored": "put back", "would-restored": "would be put back",
    "already": "already as before", "edited-since": "edited since the run: kept",
    "not-removable": "cannot be removed through the API", "not-restorable": "cannot be put back (a person)",
    "label-removed": "label removed", "would-label-removed": "label would be removed",
    "label-gone": "label removed since", "label-added-back": "label added back",
    "would-label-added-back": "label would be added back", "created": "created by the run (cannot be deleted)",
    "labelled": "tagged to be deleted", "would-labelled": "would be tagged to be deleted",
    "gone": "lead deleted since", "skipped": "skipped",
    "not-recorded": "nothing recorded to put back", "failed": "failed",
}
#: Leads an undo page lists at most (undo.csv has every line).
SHOWN_LEADS = 200


def undo_kind(summary: dict[str, Any]) -> str | None:
    """``undo preview`` or ``undo`` for an undo's run folder, else None."""
    if "undo_of" not in summary:
        return None
    return "undo preview" if summary.get("dry_run") else "undo"


@dataclass
class UndoneLead:
    row: str
    phone: str
    lines: list[tuple[str, str, str]] = field(default_factory=list)  # (what, outcome in words, detail)


@dataclass
class UndoView:
    """What the run page shows of an undo's folder: its counts, per lead what became of each field, and (a
    preview) whether the undo can still be run."""

    counts: list[tuple[str, str, int]]
    outcomes: list[tuple[str, int]]
    leads: list[UndoneLead]
    total_leads: int
    target: str
    done_by: str | None = None


def undo_view(folder: Path, summary: dict[str, Any], done_by: Path | None = None) -> UndoView:
    preview = bool(summary.get("dry_run"))
    total = int(summary.get("rows_total") or 0)
    if preview:
        would = int(summary.get("would_write") or 0)
        skipped = int(summary.get("skipped") or 0)
        counts = [("rows_total", "leads", total), ("would_write", "would be written", would),
                  ("unchanged", "nothing to write", max(int(summary.get("valid") or 0) - would - skipped, 0)),
                  ("skipped", "skipped", skipped)]
    else:
        counts = [("rows_total", "leads", total), ("succeeded", "written", int(summary.get("succeeded") or 0)),
                  ("failed", "failed", int(summary.get("failed") or 0)),
                  ("unchanged", "nothing to write", int(summary.get("unchanged") or 0)),
                  ("skipped", "skipped", int(summary.get("skipped") or 0))]
    fields = sorted((summary.get("fields") or {}).items(), key=lambda item: (-item[1], item[0]))
    return UndoView(counts, [(OUTCOME_WORDS.get(code, code), int(n)) for code, n in fields], _leads(folder), total,
                    Path(str(summary.get("undo_of", ""))).name, done_by.name if done_by else None)


def _leads(folder: Path) -> list[UndoneLead]:
    from importer.run.kinds.undo import UNDO_FILE

    leads: dict[tuple[str, str], UndoneLead] = defaultdict(lambda: UndoneLead("", ""))
    for line in results.read_csv(folder / UNDO_FILE):
        key = (line.get("_row", ""), line.get("phone", ""))
        if key not in leads and len(leads) >= SHOWN_LEADS:
            continue
        lead = leads[key]
        lead.row, lead.phone = key
        lead.lines.append((line.get("what", ""), OUTCOME_WORDS.get(line.get("outcome", ""), line.get("outcome", "")),
                           _detail(line)))
    return list(leads.values())


def _detail(line: dict[str, str]) -> str:
    if line.get("message"):
        return line["message"]
    said = [f"{name.replace('_', ' ')}: {line[key] or 'empty'}" for key, name in
            (("run_wrote", "the run wrote"), ("now", "now"), ("before", "before the run")) if key in line
            and (line[key] or key == "before") and line.get("outcome", "").endswith(("restored", "edited-since"))]
    return "; ".join(said)


class UndoPages:
    """Starting undo's dry run of a listed run, and the undo it previewed."""

    def __init__(self, ui: Ui, history: HistoryPages) -> None:
        self.ui = ui
        self.history = history

    def register(self, app: FastAPI) -> None:
        app.add_api_route("/history/runs/{run_id}/undo", self.preview, methods=["POST"])
        app.add_api_route("/runs/{name}/undo", self.confirm, methods=["POST"])

    def options(self, run_dir: Path) -> RunOptions:
        """The page's account, checked to be the one the run wrote to (undo writes where the run wrote)."""
        from importer.run.context.options import RunOptions

        account, settings = self.ui.account, self.ui.settings
        if not account.has_key:
            raise ConfigError("undo reads and writes the account: type its API key in the form at the top first")
        try:
            used = str(results.read_summary(run_dir).get("base_url") or "")
        except (OSError, ValueError):
            used = ""
        if used and used.rstrip("/") != account.base_url.rstrip("/"):
            raise ConfigError(f"{run_dir.name}: that run wrote to {used}, not to this page's account "
                              f"{account.base_url}")
        return RunOptions.of(run_settings({}, settings), report_dir=self.ui.workspace.reports,
                             base_url=account.base_url, api_key=account.api_key)

    def done_by(self, run_dir: Path) -> Path | None:
        from importer.run.kinds.undo import Undo

        try:
            return Undo(run_dir, self.options(run_dir)).done_by()
        except ImporterError:
            return None

    async def preview(self, run_id: int, request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        await self.ui.form(request)
        run_dir = Path((await run_in_threadpool(self.history.find, run_id)).report)
        return self._start("undo preview", run_dir, dry_run=True)

    async def confirm(self, name: str, request: Request) -> Response:
        await self.ui.form(request)
        summary = results.read_summary(self.ui.workspace.run_folder(name))
        if undo_kind(summary) != "undo preview":
            raise LookupError(name)
        return self._start("undo", Path(str(summary["undo_of"])), dry_run=False)

    def _start(self, kind: str, run_dir: Path, dry_run: bool) -> Response:
        from importer.run.kinds.undo import Undo, UndoPreview

        options = self.options(run_dir)
        Undo(run_dir, options)  # a folder without before-images: ConfigError now, on the page
        if not dry_run and (done := self.done_by(run_dir)) is not None:
            raise ConfigError(f"{run_dir.name} was undone already, by {done.name}: nothing to do")

        def make(progress: LiveProgress, stop: Stop) -> Undo:
            return (UndoPreview if dry_run else Undo)(run_dir, options, progress=progress, stop=stop)

        job = self.ui.jobs.start(kind, "/history", make)
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)
