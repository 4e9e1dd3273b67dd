"""The page reads a sheet from where it lives (a glob on this machine, an https:// URL with a token) as well as
from an upload; it names the source without its secrets."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.loopback import QuietHandler, serving
from tests.ui.client import PageClient

TOKEN = "tok-CANARY-page-77d1"
SHEET = b"Phone,Name\r\n+919700000601,Asha\r\n+919700000602,Ravi\r\n"


class _Export(QuietHandler):
    def do_GET(self) -> None:  # noqa: N802
        ok = self.path == f"/export?token={TOKEN}"
        self.reply(200 if ok else 403, {"Content-Type": "text/csv" if ok else "text/plain"}, SHEET if ok else b"no")


@pytest.fixture(scope="module")
def export_url() -> Iterator[str]:
    with serving(_Export) as url:
        yield f"{url}/export"


def read(page: PageClient, source: str) -> str:
    answer = page.post("/imports/source", {"source": source})
    assert answer.status_code == 303, answer.text[:500]
    return answer.headers["location"].rsplit("/", 1)[-1]


def test_a_url_with_a_token_is_read_and_shown_without_it(page: PageClient, export_url: str) -> None:
    upload = read(page, f"{export_url}?token={TOKEN}")
    shown = page.get(f"/imports/{upload}").text
    assert f'read from <code id="source-name">{export_url}?token=***</code>' in shown
    assert "The mapping fits this sheet." in shown
    finished = page.run(upload, "dry-run")
    assert re.search(r'<span class="number">2</span> <span class="label">valid</span>', finished.page)
    for text in (shown, finished.page, page.get("/").text):
        assert TOKEN not in text


def test_a_glob_gives_its_newest_file(page: PageClient, tmp_path: Path) -> None:
    for name, age in (("leads-1.csv", 7200), ("leads-2.csv", 3600)):
        path = tmp_path / "drop" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(SHEET)
        os.utime(path, (time.time() - age,) * 2)
    upload = read(page, str(tmp_path / "drop" / "leads-*.csv"))
    shown = page.get(f"/imports/{upload}").text
    assert "<h1>leads-2.csv</h1>" in shown and str(tmp_path / "drop" / "leads-*.csv") in shown


def test_a_source_that_cannot_be_read_is_one_message(page: PageClient, export_url: str) -> None:
    answer = page.post("/imports/source", {"source": f"{export_url}?token=wrong-{TOKEN}"})
    assert answer.status_code == 400
    assert f"{export_url}?token=***: the server answered 403 Forbidden" in answer.text
    assert TOKEN not in answer.text
    assert page.post("/imports/source", {"source": "s3://", "token": "forged"}).status_code == 403
