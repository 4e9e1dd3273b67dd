"""Talking to the page over HTTP as a browser would: its form token, uploads, runs started and waited for."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from importer.ui.server import UiServer

_TOKEN = re.compile(r'name="token" value="([^"]+)"')


@dataclass
class Finished:
    """A run started from the page, once it ended: its status answer and its run page."""

    status: dict[str, Any]
    page: str

    @property
    def name(self) -> str:
        return str(self.status["run"])


class PageClient:
    def __init__(self, server: UiServer) -> None:
        self.url = server.url
        self.session = requests.Session()
        self.token = _TOKEN.search(self.get("/").text).group(1)  # type: ignore[union-attr]

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.url + path, timeout=30, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> requests.Response:
        sent = {"token": self.token, **(data or {})}
        return self.session.post(self.url + path, data=sent, timeout=30, allow_redirects=False, **kwargs)

    def upload(self, path: Path, name: str | None = None) -> str:
        """Upload a sheet; the id of its import."""
        with path.open("rb") as handle:
            answer = self.post("/imports", files={"file": (name or path.name, handle)})
        assert answer.status_code == 303, answer.text[:500]
        return answer.headers["location"].rsplit("/", 1)[-1]

    def start(self, upload_id: str, kind: str, **fields: Any) -> str:
        answer = self.post(f"/imports/{upload_id}/run", {"kind": kind, **fields})
        assert answer.status_code == 303, answer.text[:500]
        return answer.headers["location"]

    def wait(self, job: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status = self.get(job + "/status").json()
            if status["state"] != "running":
                return status
            assert time.monotonic() < deadline, status
            time.sleep(0.05)

    def run(self, upload_id: str, kind: str, **fields: Any) -> Finished:
        status = self.wait(self.start(upload_id, kind, **fields))
        assert status["state"] == "done", status
        return Finished(status, self.get(f"/runs/{status['run']}").text)

    def close(self) -> None:
        self.session.close()
