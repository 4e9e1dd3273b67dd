"""What every page handler shares (:class:`Ui`): the settings, the work folder, the runs, the form token and the
templates. The app (:mod:`importer.ui.app`) makes one and hands it to the pages (:mod:`importer.ui.pages`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from importer.ui.catalog_names import AccountNames
from importer.ui.guard import FormToken
from importer.ui.progress import Jobs
from importer.ui.settings import UiSettings
from importer.ui.workspace import Workspace

HERE = Path(__file__).parent


class Ui:
    """What every page handler shares: settings, folder, runs, the form token and the templates."""

    def __init__(self, settings: UiSettings) -> None:
        self.settings = settings
        self.account = settings.account
        self.workspace = Workspace(settings.work_dir)
        self.jobs = Jobs()
        self.token = FormToken()
        #: The account's names (its catalog), for the mapping wizard.
        self.names = AccountNames(self.account)
        self.templates = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                                            undefined=jinja2.StrictUndefined)

    def page(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        account = {"base_url": self.account.base_url, "has_key": self.account.has_key,
                   "source": self.account.source, "sandbox": self.settings.sandbox,
                   "rate": f"{self.settings.rate:g}", "concurrency": self.settings.concurrency}
        values.setdefault("error", None)
        text = self.templates.get_template(template).render(token=self.token.value, account=account,
                                                           running=self.jobs.running(), **values)
        return HTMLResponse(text, status_code=status)

    async def form(self, request: Request) -> dict[str, Any]:
        """The posted form (a list for a multiple select), once its token is checked; PermissionError if not."""
        posted = await request.form()
        if not self.token.valid(posted.get("token")):
            raise PermissionError("the form's token is missing or wrong: reload the page and try again")
        return {key: (posted.getlist(key) if key.startswith("columns-") else posted.get(key)) for key in posted}
