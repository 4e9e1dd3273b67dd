"""The history page: the account's jobs and runs, read from the account's sync state (the one the command line
uses, so runs made from a terminal or a cron job are listed too), each with its report and an "Undo".

    /history                           the account's jobs, and its runs newest first
    /history/runs/{id}/report.html     report.html of a run the state knows, wherever its folder is
    /history/runs/{id}/FILE            a file of that folder, as report.html links it

The account is the API's base URL and the ``org_id`` its catalog reports (:func:`account_key`), found once per key;
the state is the account's own (:func:`~importer.run.stores.home.locate`), or the page's ``state`` setting.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

from importer.errors import ConfigError
from importer.report.before import BEFORE_FILE
from importer.report.html import local_time as report_time
from importer.run.stores.account import AccountState
from importer.run.stores.home import account_key
from importer.run.stores.state import JobRun
from importer.ui.results import DOWNLOADS

if TYPE_CHECKING:
    from importer.ui.shared import Ui

#: Runs the page lists at most (``superfone-import history`` lists every one).
SHOWN_RUNS = 100
#: The counts of a run, in the order and the words the page uses.
COUNT_WORDS = (("succeeded", "succeeded"), ("failed", "failed"), ("in_doubt", "in doubt"),
               ("unchanged", "unchanged"), ("skipped", "skipped"), ("invalid", "invalid"))
EXIT_WORDS = {0: "every row went through", 1: "finished; some rows failed, were invalid or are in doubt",
              2: "could not run", 3: "stopped before the end (running it again continues)"}


@dataclass(frozen=True)
class ListedRun:
    """One run as the history page shows it."""

    id: int
    job: str
    when: str
    input: str
    counts: str
    exit: str
    report: str | None
    undoable: bool


@dataclass(frozen=True)
class ListedJob:
    name: str
    runs: int
    last: str


def local_time(stamp: str | None) -> str:
    """An ISO time as this machine's local time, to the second, as report.html writes it
    (``2026-12-05 21:18:52 UTC``); as given if not ISO."""
    return report_time(stamp) if stamp else ""


def counts_in_words(counts: dict[str, object]) -> str:
    """``24 rows: 18 succeeded, 3 failed, 2 invalid`` (the counts that are not 0); "did not finish" without any."""
    if not counts:
        return "did not finish"
    said = [f"{counts[key]} {words}" for key, words in COUNT_WORDS if counts.get(key)]
    return f"{counts.get('rows_total', 0)} rows" + (": " + ", ".join(said) if said else "")


def exit_in_words(code: int | None) -> str:
    return "did not finish" if code is None else EXIT_WORDS.get(code, f"exit {code}")


class AccountOf:
    """The account the page's key opens (base URL and org_id), asked of the API once per key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[tuple[str, str], str] = {}

    def __call__(self, base_url: str, api_key: str | None) -> str:
        from importer.api.catalog import Catalog
        from importer.api.client import SuperfoneClient

        if not api_key:
            raise ConfigError("the history is the account's: type its API key in the form at the top first")
        seen = (base_url, hashlib.sha256(api_key.encode("utf-8")).hexdigest())
        with self._lock:
            if seen in self._known:
                return self._known[seen]
        with SuperfoneClient(base_url, api_key) as client:
            found = account_key(base_url, Catalog.fetch(client).org_id)
        with self._lock:
            self._known[seen] = found
        return found


class HistoryPages:
    """The history page and the report of a run listed there."""

    def __init__(self, ui: Ui) -> None:
        self.ui = ui
        self.workspace = ui.workspace
        self.account_of = AccountOf()

    def register(self, app: FastAPI) -> None:
        app.add_api_route("/history", self.show, methods=["GET"], response_class=HTMLResponse)
        app.add_api_route("/history/runs/{run_id}/report.html", self.report, methods=["GET"])
        app.add_api_route("/history/runs/{run_id}/{file}", self.file, methods=["GET"])

    def account_runs(self, limit: int | None = SHOWN_RUNS) -> tuple[str, list[JobRun]]:
        """The account's state (its file's name, or the database without its password), and its runs newest
        first (none when no run has written the state)."""
        account = self.account_of(self.ui.account.base_url, self.ui.account.api_key)
        opened = AccountState(self.ui.settings.state, account, self.workspace.reports)
        location = opened.location
        shown = location.path.name if location.path is not None else location.where
        if not opened.exists():
            return shown, []
        with opened:
            return shown, opened.state.runs(None, limit, account)

    def find(self, run_id: int) -> JobRun:
        """A run of the account by its id in the state; LookupError when the state has no such run."""
        found = next((run for run in self.account_runs(None)[1] if run.id == run_id), None)
        if found is None:
            raise LookupError(run_id)
        return found

    def show(self) -> Response:
        where, runs = self.account_runs()
        listed = [self._listed(run) for run in runs]
        jobs: dict[str, ListedJob] = {}
        for run in listed:
            last = jobs.get(run.job)
            jobs[run.job] = ListedJob(run.job, (last.runs if last else 0) + 1, last.last if last else run.when)
        return self.ui.page("history.html", runs=listed, jobs=list(jobs.values()), where=where)

    def _listed(self, run: JobRun) -> ListedRun:
        folder = Path(run.report) if run.report else None
        return ListedRun(run.id, run.job, local_time(run.started_at), Path(run.input).name or run.input,
                         counts_in_words(run.counts), exit_in_words(run.exit_code), self._report_link(run),
                         folder is not None and (folder / BEFORE_FILE).is_file())

    def _report_link(self, run: JobRun) -> str | None:
        """The page of a run folder of the page's own, else its report.html wherever it is, else None (gone)."""
        if not run.report:
            return None
        folder = Path(run.report)
        try:
            return f"/runs/{self.workspace.run_folder(folder.name).name}" if folder.resolve().parent == \
                self.workspace.reports.resolve() else self._elsewhere(run, folder)
        except LookupError:
            return self._elsewhere(run, folder)

    @staticmethod
    def _elsewhere(run: JobRun, folder: Path) -> str | None:
        return f"/history/runs/{run.id}/report.html" if (folder / "report.html").is_file() else None

    def report(self, run_id: int) -> Response:
        run = self.find(run_id)
        path = Path(run.report) / "report.html"
        if not path.is_file():
            raise LookupError(run_id)
        return FileResponse(path, media_type="text/html; charset=utf-8")

    def file(self, run_id: int, file: str) -> Response:
        """A file of a run folder elsewhere, as report.html links it (relative to itself)."""
        path = Path(self.find(run_id).report) / file
        if file not in DOWNLOADS or file == "report.html" or not path.is_file():
            raise LookupError(file)
        return FileResponse(path, filename=file, content_disposition_type="attachment")
