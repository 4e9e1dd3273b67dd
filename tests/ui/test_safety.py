"""What the page must never do: show the API key, serve another Host, take a form from another site, keep an
upload over its limit, or let a cell of the sheet become markup."""

from __future__ import annotations

import csv
import io
import re
import signal
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import requests

from importer.sandbox import SandboxServer
from importer.ui.server import UiServer
from tests.report.hostile import HOSTILE_TEXTS, page_text, shown_as
from tests.report.hostile import markup_problems as report_markup_problems
from tests.ui.client import PageClient
from tests.ui.conftest import SAMPLE, page_settings


def test_a_key_typed_once_is_used_and_never_sent_back(tmp_path: Path, ui_sandbox: SandboxServer) -> None:
    ui_sandbox.reset(config=True)
    key = ui_sandbox.api_key
    work = tmp_path / "work"
    settings = page_settings(work, None)
    settings.account.base_url = ui_sandbox.base_url
    with UiServer(settings) as server:
        page = PageClient(server)
        answers = [page.get("/")]
        assert 'id="key-state">no API key' in answers[0].text and 'type="password" name="api_key"' in answers[0].text
        upload = page.upload(SAMPLE / "leads.csv")
        refused = page.post(f"/imports/{upload}/run", {"kind": "plan"})
        assert refused.status_code == 400 and "needs the account&#39;s API key" in refused.text
        assert page.post("/account/key", {"api_key": key, "back": f"/imports/{upload}"}).status_code == 303
        answers.append(page.get(f"/imports/{upload}"))
        assert "key set (typed on this page)" in answers[-1].text and 'name="api_key"' not in answers[-1].text
        for kind in ("plan", "send"):
            job = page.start(upload, kind)
            answers += [page.get(job), page.get(job + "/status")]
            status = page.wait(job)
            assert status["state"] == "done", status
            answers.append(page.get(f"/runs/{status['run']}"))
            files = re.findall(r'href="(/runs/[^"]+/files/[^"]+)"', answers[-1].text)
            answers += [page.get(path) for path in files]
        assert counts_of(answers[-len(files) - 1].text)["succeeded"] == 18
        answers += [page.get("/"), page.get(f"/imports/{upload}/mapping.yaml")]
    assert all(answer.status_code == 200 for answer in answers)
    assert not [answer.url for answer in answers if key in answer.text or key in str(answer.headers)]
    assert not [path for path in work.rglob("*") if path.is_file() and key.encode() in path.read_bytes()]


def counts_of(page: str) -> dict[str, int]:
    found = re.findall(r'<span class="number">(\d+)</span> <span class="label">([^<]+)</span>', page)
    return {label: int(number) for number, label in found}


#: What the page's own markup is made of; any other element came from data.
PAGE_TAGS = frozenset({
    "html", "head", "meta", "title", "link", "script", "noscript", "body", "header", "main", "section", "h1", "h2",
    "p", "a", "span", "code", "b", "div", "ul", "li", "table", "tr", "th", "td", "form", "input", "button", "label",
    "select", "option", "textarea", "fieldset", "legend", "datalist", "details", "summary", "progress", "iframe",
    "pre", "br", "thead", "tbody", "nav", "ol", "caption", "h3",
})


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in PAGE_TAGS:
            self.problems.append(f"element <{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name}= on <{tag}>")
            if name in ("src", "href", "action", "formaction") and value and not value.startswith(("/", "#")):
                self.problems.append(f"{name}={value!r} on <{tag}>")
        if tag == "script" and dict(attrs).get("src") != "/static/app.js":
            self.problems.append("a script other than the page's own")


def markup_problems(page: str) -> list[str]:
    parser = _Markup()
    parser.feed(page)
    parser.close()
    return parser.problems


def hostile_sheet(path: Path) -> Path:
    """Hostile text in a header, in names, in a stage (an issue's message and value) and in a phone."""
    texts = [text.replace("\x00", "") for text in HOSTILE_TEXTS]
    buffer = io.StringIO()
    table = csv.writer(buffer)
    table.writerow(["Phone", "First Name", "Stage", texts[1]])
    for index, text in enumerate(texts):
        phone = f"+91 98100 {index:05d}" if index % 3 else text
        table.writerow([phone, text, text, text])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_hostile_cells_are_text_on_every_page(page: PageClient, tmp_path: Path) -> None:
    upload = page.upload(hostile_sheet(tmp_path / "hostile.csv"))
    pages = {f"import {step}": page.get(f"/imports/{upload}", params={"step": step}).text
             for step in ("columns", "values", "fields")}
    for kind in ("dry-run", "plan", "send"):
        finished = page.run(upload, kind)
        pages[kind] = finished.page
        pages[kind + " report"] = page.get(f"/runs/{finished.name}/files/report.html").text
        for code in re.findall(r'<option value="([a-z-]+)"', finished.page):
            pages[f"{kind} {code}"] = page.get(f"/runs/{finished.name}", params={"code": code}).text
    for name, shown in pages.items():  # report.html has markup of its own (a stylesheet, charts): its own check
        check = report_markup_problems if name.endswith(" report") else markup_problems
        assert check(shown) == [], name
    for kind in ("dry-run", "plan", "send"):  # each report names the hostile stages as text
        reported = page_text(pages[kind + " report"])
        assert [text for text in HOSTILE_TEXTS[:12] if shown_as(text) not in reported] == [], kind
    listed = page_text(pages["dry-run"])
    for text in HOSTILE_TEXTS[:12]:
        assert shown_as(text.replace("\x00", "")) in listed or text == HOSTILE_TEXTS[1], text
    assert f'<label for="role-3">{_escaped(HOSTILE_TEXTS[1])}</label>' in pages["import columns"]  # the header
    values = page_text(pages["import values"])  # each stage of the sheet, as text
    assert all(shown_as(text.replace("\x00", "")) in values for text in HOSTILE_TEXTS[2:12])


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&#34;").replace("<", "&lt;").replace(">", "&gt;").replace(
        "'", "&#39;")


def test_only_loopback_hosts_same_site_forms_and_small_uploads(page: PageClient, tmp_path: Path) -> None:
    rebound = requests.get(page.url + "/", headers={"Host": "evil.example:8766"}, timeout=10)
    assert rebound.status_code == 421
    assert page.get("/", headers={"Host": "localhost:8766"}).status_code == 200
    forged = page.session.post(page.url + "/account/key", data={"api_key": "x"}, timeout=10)
    assert forged.status_code == 403 and "no API key" not in forged.text
    with (SAMPLE / "leads.csv").open("rb") as handle:
        assert page.session.post(page.url + "/imports", files={"file": handle}, timeout=10).status_code == 403
    headers = page.get("/").headers
    assert "script-src 'self'" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"
    wrong = tmp_path / "leads.pdf"
    wrong.write_bytes(b"%PDF")
    with wrong.open("rb") as handle:
        answer = page.post("/imports", files={"file": handle})
    assert answer.status_code == 400 and "unsupported file type &#39;.pdf&#39;" in answer.text


def test_an_upload_over_the_limit_is_refused_and_not_kept(tmp_path: Path, ui_sandbox: SandboxServer) -> None:
    work = tmp_path / "work"
    with UiServer(page_settings(work, ui_sandbox, max_upload_bytes=200_000)) as server:
        page = PageClient(server)
        big = tmp_path / "big.csv"
        big.write_text("Phone\n" + "+919810000000\n" * 20_000, encoding="utf-8")  # 280 kB
        with big.open("rb") as handle:
            answer = page.post("/imports", files={"file": handle})
        assert answer.status_code == 413 and "up to 0.2 MB" in answer.text
        medium = tmp_path / "medium.csv"
        medium.write_text("Phone\n" + "+919810000000\n" * 14_500 + "x" * 10, encoding="utf-8")  # just over
        with medium.open("rb") as handle:
            answer = page.post("/imports", files={"file": handle})
        assert answer.status_code == 400 and "larger than the upload limit of 0.2 MB" in answer.text
        assert list((work / "imports").iterdir()) == []


def test_the_command_serves_the_page_on_loopback_until_interrupted(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "importer", "ui", "--port", "0", "--sandbox", "--work-dir", str(tmp_path / "w")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert process.stdout is not None
        first, second = process.stdout.readline(), process.stdout.readline()
        assert first.startswith("sandbox: http://127.0.0.1:")
        url = re.match(r"superfone-import page: (http://127\.0\.0\.1:\d+/) \(work folder: ", second)
        assert url, second
        shown = requests.get(url.group(1), timeout=10).text
        assert "sandbox" in shown and "key set (the sandbox" in shown
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=20)
    assert process.returncode == 0, errors
    assert (tmp_path / "w" / "imports").is_dir()
