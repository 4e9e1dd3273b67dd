""""Make this a nightly job": from a run sent from the page, the job file and its mapping (the format of
:mod:`importer.jobs`, written by :func:`importer.jobs.scaffold.write_job`, as ``init`` writes them) in a folder the
person types, and the lines that run it every night on this machine (:class:`importer.jobs.schedule.Schedule`).

The job keeps the run's job name and the page's state, so its first night finds every row the page sent
unchanged: nothing is sent twice, notes included.

    POST /runs/{name}/nightly     folder, file name → the files written and the schedule lines
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from importer.errors import ConfigError
from importer.ui import results

if TYPE_CHECKING:
    from importer.jobs.schedule import Schedule
    from importer.ui.shared import Ui
    from importer.ui.workspace import Upload

_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,80}")


def can_be_nightly(kind: str, summary: dict[str, Any], upload: Upload | None) -> bool:
    """A real run of a sheet of the page that went to its end (a job is made of what worked)."""
    return kind == "run" and upload is not None and not summary.get("stopped") and bool(summary.get("job"))


def schedule_lines(schedule: Schedule, windows: bool | None = None) -> list[tuple[str, str, bool]]:
    """(how, the text, whether it is for this machine): this machine's way first."""
    on_windows = os.name == "nt" if windows is None else windows
    unix = [("crontab -e, then this line", schedule.cron(), not on_windows),
            ("a systemd service and timer (as root)", "\n".join(schedule.systemd()), not on_windows)]
    tasks = [("Windows Task Scheduler (cmd.exe)", schedule.schtasks(), on_windows)]
    return tasks + unix if on_windows else unix + tasks


class NightlyPages:
    """Writing a run's job file, its mapping and secrets.env, and showing how to schedule it."""

    def __init__(self, ui: Ui) -> None:
        self.ui = ui
        self.workspace = ui.workspace

    def register(self, app: FastAPI) -> None:
        app.add_api_route("/runs/{name}/nightly", self.save, methods=["POST"])

    async def save(self, name: str, request: Request) -> Response:
        from importer.jobs.scaffold import NewJob, write_job

        form = await self.ui.form(request)
        summary = results.read_summary(self.workspace.run_folder(name))
        upload = self.workspace.upload_of(str(summary.get("input", "")))
        if upload is None or not can_be_nightly(results.run_kind(summary), summary, upload):
            raise LookupError(name)
        folder, stem = _folder(str(form.get("folder") or "")), str(form.get("file_name") or "").strip()
        if not _STEM.fullmatch(stem):
            raise ConfigError(f"the job's file name {stem!r}: letters, digits, '-', '_' and '.' only (e.g. leads)")
        state = self.ui.settings.state
        new = NewJob(name=str(summary["job"]), source=upload.source or str(upload.path.resolve()), folder=folder,
                     base_url=self.ui.account.base_url, stem=stem,
                     state=None if state is None else str(Path(state).resolve()))
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot make the folder {folder}: {exc.strerror or exc}") from None
        created = write_job(new, upload.mapping_text())
        return self.ui.page("nightly.html", run=name, job=new.name, job_file=new.job_file,
                            written=[_shown(path) for path in created.written],
                            kept=[_shown(path) for path in created.kept],
                            schedules=schedule_lines(created.schedule))


def _shown(path: Path) -> str:
    """A path as a person reads it: under their home folder, from ``~``."""
    home = Path.home()
    return f"~/{path.relative_to(home).as_posix()}" if path.is_relative_to(home) else str(path)


def _folder(typed: str) -> Path:
    text = typed.strip()
    if not text:
        raise ConfigError("type the folder the job's files go into (its full path, e.g. ~/leads-sync)")
    folder = Path(text).expanduser()
    if not folder.is_absolute():
        raise ConfigError(f"{text}: type the folder's full path (e.g. ~/leads-sync), not one relative to where "
                          "the page was started")
    return folder
