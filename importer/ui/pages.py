"""The page handlers: an import (upload, sheet, mapping, starting a run) and a run (progress, results, files)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from importer.errors import ConfigError, ImporterError, InputError
from importer.ui import results
from importer.ui.nightly import can_be_nightly
from importer.ui.progress import LiveProgress
from importer.ui.settings import run_settings
from importer.ui.undoing import undo_kind, undo_view
from importer.ui.upload import receive_file
from importer.ui.wizard_pages import STEPS, WizardPages, saved_data
from importer.ui.workspace import INCOMING, Upload

if TYPE_CHECKING:
    from importer.run.context.kind import RunKind
    from importer.run.engine.stop import Stop
    from importer.run.journey.pipeline import Importer
    from importer.ui.shared import Ui
    from importer.ui.undoing import UndoPages

KINDS = {"dry-run": "dry run", "plan": "plan", "send": "send"}
#: A mapping file is a few kilobytes; this is far above any real one.
MAX_MAPPING_BYTES = 1_000_000


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


class ImportPages:
    """Uploading a sheet, choosing its worksheet, editing its mapping and starting a run."""

    def __init__(self, ui: Ui, wizard: WizardPages) -> None:
        self.ui = ui
        self.workspace = ui.workspace
        self.wizard = wizard

    def register(self, app: FastAPI) -> None:
        app.add_api_route("/imports", self.upload, methods=["POST"])
        app.add_api_route("/imports/source", self.read_source, methods=["POST"])
        app.add_api_route("/imports/{upload_id}", self.step, methods=["GET"], response_class=HTMLResponse)
        app.add_api_route("/imports/{upload_id}/sheet", self.choose_sheet, methods=["POST"])
        app.add_api_route("/imports/{upload_id}/mapping/yaml", self.save_yaml, methods=["POST"])
        app.add_api_route("/imports/{upload_id}/mapping/file", self.load_file, methods=["POST"])
        app.add_api_route("/imports/{upload_id}/mapping.yaml", self.download_mapping, methods=["GET"])
        app.add_api_route("/imports/{upload_id}/run", self.start_run, methods=["POST"])

    def index(self, error: str | None = None, status: int = 200) -> HTMLResponse:
        runs = []
        for folder in self.workspace.runs():
            try:
                summary = results.read_summary(folder)
            except (OSError, ValueError):
                continue
            runs.append({"name": folder.name, "kind": results.run_kind(summary), "job": summary.get("job") or "",
                         "input": Path(str(summary.get("input", ""))).name, "rows": summary.get("rows_total", 0)})
        return self.ui.page("index.html", status, error=error, runs=runs,
                            max_mb=self.ui.settings.max_upload_bytes / 1e6)

    async def upload(self, request: Request) -> Response:
        folder = self.workspace.new_import()
        try:
            posted = await receive_file(request, folder / INCOMING, self.ui.settings.max_upload_bytes)
            if not self.ui.token.valid(posted.fields.get("token")):
                raise PermissionError("the form's token is missing or wrong: reload the page and try again")
            upload = self.workspace.finish_import(folder, posted.file_name, posted.stored)
        except ImporterError as exc:
            self._discard(folder)
            return self.index(str(exc), 400)
        except BaseException:
            self._discard(folder)
            raise
        self._suggest(upload)
        return _see(f"/imports/{upload.id}")

    async def read_source(self, request: Request) -> Response:
        """A sheet read from where it lives (a path, glob or folder on this machine, https://, s3://, sftp://,
        gsheets://), copied into a new import; its errors shown on the first page, as an upload's are."""
        from starlette.concurrency import run_in_threadpool

        form = await self.ui.form(request)
        source = str(form.get("source") or "")
        try:
            upload = await run_in_threadpool(self.workspace.import_source, source,
                                             self.ui.settings.max_upload_bytes)
        except ImporterError as exc:
            return self.index(str(exc), 400)
        self._suggest(upload)
        return _see(f"/imports/{upload.id}")

    @staticmethod
    def _discard(folder: Path) -> None:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)

    def _suggest(self, upload: Upload) -> None:
        """Start the mapping from the suggestion for the sheet (nothing when the sheet cannot be read)."""
        try:
            self.wizard.suggest(upload)
        except ImporterError:
            pass

    async def step(self, upload_id: str, step: str = "columns") -> HTMLResponse:
        return self.show(upload_id, step=step if step in STEPS else "columns")

    def show(self, upload_id: str, error: str | None = None, status: int = 200, step: str = "columns"
             ) -> HTMLResponse:
        upload = self.workspace.upload(upload_id)
        text = upload.mapping_text()
        columns, sheets, problem, wizard = [], [], None, {}
        try:
            sheets = upload.sheets()
            columns = list(upload.table().columns)
            wizard = self.wizard.view(upload, step) if isinstance(saved_data(upload).get("fields"), dict) else {}
        except ImporterError as exc:
            problem = str(exc)
        if problem is None:
            problem = upload.mapping_problem() if text else "no mapping yet: write one in the YAML or load a file"
        return self.ui.page(
            "import.html", status, upload=upload, file_name=upload.path.name, size=upload.path.stat().st_size,
            source=upload.source,
            sheets=sheets, sheet=upload.sheet or (sheets[0] if sheets else None), columns=columns,
            wizard=wizard, mapping_text=text, problem=problem, error=error, runs=self._runs_of(upload))

    def _runs_of(self, upload: Upload) -> list[dict[str, Any]]:
        found = []
        for folder in self.workspace.runs(50):
            try:
                summary = results.read_summary(folder)
            except (OSError, ValueError):
                continue
            if Path(str(summary.get("input", ""))).parent.name == upload.id:
                found.append({"name": folder.name, "kind": results.run_kind(summary)})
        return found

    async def choose_sheet(self, upload_id: str, request: Request) -> Response:
        upload = self.workspace.upload(upload_id)
        form = await self.ui.form(request)
        upload.choose_sheet(str(form.get("sheet") or ""))
        self._suggest(upload)
        return _see(f"/imports/{upload_id}")

    async def save_yaml(self, upload_id: str, request: Request) -> Response:
        upload = self.workspace.upload(upload_id)
        form = await self.ui.form(request)
        upload.save_mapping(str(form.get("yaml") or ""))
        step = str(form.get("step") or "")
        return _see(f"/imports/{upload_id}?step={step if step in STEPS else 'columns'}#mapping")

    async def load_file(self, upload_id: str, request: Request) -> Response:
        upload = self.workspace.upload(upload_id)
        incoming = upload.folder / INCOMING
        try:
            posted = await receive_file(request, incoming, MAX_MAPPING_BYTES)
            if not self.ui.token.valid(posted.fields.get("token")):
                raise PermissionError("the form's token is missing or wrong: reload the page and try again")
            if posted.stored is None or not posted.size:
                raise InputError("choose a mapping file (YAML) to load")
            text = incoming.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            return self.show(upload_id, "the mapping file is not UTF-8 text", 400)
        except ImporterError as exc:
            return self.show(upload_id, str(exc), 400)
        finally:
            incoming.unlink(missing_ok=True)
        upload.save_mapping(text)
        return _see(f"/imports/{upload_id}#mapping")

    async def download_mapping(self, upload_id: str) -> Response:
        upload = self.workspace.upload(upload_id)
        stem = upload.path.stem
        return Response(upload.mapping_text(), media_type="application/yaml; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="{_ascii(stem)}-mapping.yaml"'})

    async def start_run(self, upload_id: str, request: Request) -> Response:
        upload = self.workspace.upload(upload_id)
        form = await self.ui.form(request)
        kind = str(form.get("kind") or "")
        if kind not in KINDS:
            raise LookupError(kind)
        try:
            make = self._maker(upload, kind, form)
            job = self.ui.jobs.start(KINDS[kind], f"/imports/{upload.id}", make)
        except ImporterError as exc:
            return self.show(upload_id, str(exc), 400)
        return _see(f"/jobs/{job.id}")

    def _maker(self, upload: Upload, kind: str, form: dict[str, Any]) -> Any:
        """A function building the run (importer and kind) once its progress exists; ConfigError right away
        for what would stop it before it starts (a bad mapping, no key for a plan or a send)."""
        from importer.run.context.options import RunOptions
        from importer.run.journey.pipeline import Importer
        from importer.run.kinds.dry import DryRun
        from importer.run.kinds.plan import Plan
        from importer.run.kinds.send import Send

        upload.load_mapping()
        account, settings = self.ui.account, self.ui.settings
        if kind != "dry-run" and not account.has_key:
            raise ConfigError(f"a {KINDS[kind]} needs the account's API key: type it in the form at the top")
        options = RunOptions.of(run_settings(form, settings), sheet=upload.sheet, report_dir=self.workspace.reports,
                                base_url=account.base_url, api_key=account.api_key, offline=not account.has_key,
                                state=settings.state)
        kinds: dict[str, Callable[[], RunKind]] = {"dry-run": DryRun, "plan": Plan, "send": Send}
        chosen = kinds[kind]()

        def make(progress: LiveProgress, stop: Stop) -> Importer:
            return Importer(upload.path, upload.mapping_path, options, progress, kind=chosen, stop=stop)

        return make


class RunPages:
    """A run going on (progress, stop) and a run folder (counts, problem rows, plan, report, files)."""

    def __init__(self, ui: Ui, undos: UndoPages) -> None:
        self.ui = ui
        self.workspace = ui.workspace
        self.undos = undos

    def register(self, app: FastAPI) -> None:
        app.add_api_route("/jobs/{job_id}", self.job, methods=["GET"], response_class=HTMLResponse)
        app.add_api_route("/jobs/{job_id}/status", self.status, methods=["GET"])
        app.add_api_route("/jobs/{job_id}/stop", self.stop, methods=["POST"])
        app.add_api_route("/runs/{name}", self.run, methods=["GET"], response_class=HTMLResponse)
        app.add_api_route("/runs/{name}/files/{file}", self.file, methods=["GET"])
        app.add_api_route(f"/runs/{{name}}/{results.ROWS_WITH_ERRORS}", self.rows_with_errors, methods=["GET"])

    async def job(self, job_id: str) -> Response:
        job = self.ui.jobs.get(job_id)
        if job.state == "done" and job.result is not None:
            return _see(f"/runs/{job.result.folder.name}")
        return self.ui.page("job.html", job=job.snapshot(), back=job.back)

    async def status(self, job_id: str) -> Response:
        return JSONResponse(self.ui.jobs.get(job_id).snapshot())

    async def stop(self, job_id: str, request: Request) -> Response:
        await self.ui.form(request)
        self.ui.jobs.stop(job_id)
        return _see(f"/jobs/{job_id}")

    async def run(self, name: str, request: Request) -> Response:
        folder = self.workspace.run_folder(name)
        summary = results.read_summary(folder)
        kind = results.run_kind(summary)
        upload = self.workspace.upload_of(str(summary.get("input", "")))
        code = request.query_params.get("code") or None
        action = request.query_params.get("action") or None
        problems = None
        if upload is not None:
            try:
                problems = results.problem_table(upload.table(), results.read_issues(folder), code)
            except ImporterError:
                problems = None
        plan = results.plan_rows(folder, action) if kind == "plan" else None
        undo = None
        if undo_kind(summary):
            target = Path(str(summary["undo_of"]))
            undo = undo_view(folder, summary, self.undos.done_by(target) if summary.get("dry_run") else None)
        return self.ui.page(
            "run.html", name=name, kind=kind, summary=summary, input_name=Path(str(summary.get("input", ""))).name,
            counts=undo.counts if undo else results.counts(summary, kind), problems=problems, undo=undo,
            code=code, plan=plan, action=action, nightly=_stem(upload) if can_be_nightly(kind, summary, upload) else "",
            plan_counts=summary.get("plan") or {}, downloads=results.downloads(folder), upload=upload,
            has_report=(folder / "report.html").is_file(), problem_rows=_problem_rows(name, kind, folder, upload))

    async def rows_with_errors(self, name: str) -> Response:
        """A dry run's rows with errors, read again from its sheet, as a failures file to fix and upload again."""
        folder = self.workspace.run_folder(name)
        upload = self.workspace.upload_of(str(results.read_summary(folder).get("input", "")))
        if upload is None:
            raise LookupError(name)
        text = results.rows_with_errors(upload.table(), results.read_issues(folder))
        return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{_ascii(upload.path.stem)}-{results.ROWS_WITH_ERRORS}"'})

    async def file(self, name: str, file: str) -> Response:
        folder = self.workspace.run_folder(name)
        if file not in results.DOWNLOADS or not (folder / file).is_file():
            raise LookupError(file)
        if file == "report.html":
            return FileResponse(folder / file, media_type="text/html; charset=utf-8")
        return FileResponse(folder / file, filename=file, content_disposition_type="attachment")


def _problem_rows(name: str, kind: str, folder: Path, upload: Upload | None) -> str | None:
    """Where "download the rows with problems" leads: a run's failures.csv (re-importable), a dry run's rows with
    errors (its failures.csv stays empty), else nowhere."""
    if kind == "dry run":
        return f"/runs/{name}/{results.ROWS_WITH_ERRORS}" if upload is not None else None
    return f"/runs/{name}/files/failures.csv" if (folder / "failures.csv").is_file() else None




def _stem(upload: Upload | None) -> str:
    return _ascii(upload.path.stem) if upload is not None else ""


def _ascii(text: str) -> str:
    return "".join(char if char.isascii() and (char.isalnum() or char in "-_.") else "_" for char in text) or "sheet"
