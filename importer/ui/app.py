"""The page's web app (FastAPI): server-rendered pages, a little plain JavaScript, every asset served here.

    /                          pick or drop a sheet; the account (its key typed once, never shown); recent runs
    /imports/{id}?step=…       the sheet picker, the mapping wizard (columns, values, fields) and its YAML,
                               dry run / plan / send; /imports/{id}/wizard/… is what the steps post
    /jobs/{id}                 a run going on: live progress, stop; /jobs/{id}/status is what the page polls
    /runs/{name}               a run folder: counts, rows with problems, the plan, report.html, downloads
    /runs/{name}/nightly       a sent run made a nightly job: its job file and mapping, and the schedule lines
    /history                   the account's jobs and runs (from its sync state), each with an undo (preview first)

Every run goes through :class:`~importer.run.journey.pipeline.Importer` with the kinds the command line uses
(:class:`~importer.run.kinds.dry.DryRun`, :class:`~importer.run.kinds.plan.Plan`,
:class:`~importer.run.kinds.send.Send`).
Templates escape every value (Jinja2 autoescape); the JavaScript writes text only (``textContent``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from importer.errors import ImporterError
from importer.ui.guard import Guard
from importer.ui.history import HistoryPages
from importer.ui.nightly import NightlyPages
from importer.ui.pages import ImportPages, RunPages
from importer.ui.settings import FORM_OVERHEAD, UiSettings
from importer.ui.shared import Ui
from importer.ui.undoing import UndoPages
from importer.ui.wizard_pages import WizardPages

HERE = Path(__file__).parent
STATIC = {"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}


def create_app(settings: UiSettings) -> FastAPI:
    """The page's app for ``settings`` (the folder it keeps imports and runs in, the account)."""
    app = FastAPI(title="superfone-import", docs_url=None, redoc_url=None, openapi_url=None)
    ui = Ui(settings)
    app.state.ui = ui
    app.add_middleware(Guard, max_upload=settings.max_upload_bytes, form_overhead=FORM_OVERHEAD)
    history = HistoryPages(ui)
    undos = UndoPages(ui, history)
    wizard = WizardPages(ui)
    imports, runs = ImportPages(ui, wizard), RunPages(ui, undos)

    @app.exception_handler(PermissionError)
    async def refused(request: Request, exc: PermissionError) -> Response:
        return ui.page("message.html", 403, title="Refused", message=str(exc))

    @app.exception_handler(LookupError)
    async def not_found(request: Request, exc: LookupError) -> Response:
        return ui.page("message.html", 404, title="Not found", message="There is nothing here (any more).")

    @app.get("/", response_class=HTMLResponse)
    async def index(request: Request) -> Response:
        return imports.index()

    @app.post("/account/key")
    async def set_key(request: Request) -> Response:
        form = await ui.form(request)
        ui.account.set_key(str(form.get("api_key") or ""))
        return RedirectResponse(str(form.get("back") or "/") if str(form.get("back", "")).startswith("/") else "/",
                                status_code=303)

    @app.get("/static/{name}")
    async def static(name: str) -> Response:
        if name not in STATIC:
            raise LookupError(name)
        return FileResponse(HERE / "static" / name, media_type=STATIC[name])

    imports.register(app)
    wizard.register(app)
    runs.register(app)
    history.register(app)
    undos.register(app)
    NightlyPages(ui).register(app)

    @app.exception_handler(ImporterError)
    async def failed(request: Request, exc: ImporterError) -> Response:
        return ui.page("message.html", 400, title="That did not work", message=str(exc))

    return app

