"""``https://…`` sources (``http://`` on loopback only): downloaded with a size limit and timeouts.

The reader is chosen by the file name at the end of the URL, else by the answer's Content-Type, else by its
Content-Disposition file name. A user and password in the URL are sent as basic authentication; they, and the
query's values (tokens), are never shown: messages name the URL through :func:`display_name`.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import requests

from importer.errors import InputError
from importer.sources.locate.archive import is_packed, unpack
from importer.sources.locate.formats import KINDS
from importer.sources.locate.found import Scratch, SourceFile
from importer.sources.locate.uri import Address, display_name, secrets_in

#: Seconds to connect, and to wait for each piece of the answer.
TIMEOUTS = (10.0, 60.0)
MAX_REDIRECTS = 5
CONTENT_TYPES = {
    "text/csv": ".csv",
    "application/csv": ".csv",
    "text/tab-separated-values": ".tsv",
    "application/json": ".json",
    "application/x-ndjson": ".jsonl",
    "application/jsonl": ".jsonl",
    "application/x-jsonlines": ".jsonl",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/gzip": ".csv.gz",
    "application/x-gzip": ".csv.gz",
    "application/zip": ".zip",
}


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_scheme(url: str, what: str) -> None:
    """``https://``, or ``http://`` to a loopback address; else an InputError naming ``what``."""
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname or "")):
        return
    raise InputError(f"{what}: http:// is accepted for loopback addresses only; use https://")


def locate_web(address: Address, *, max_bytes: int) -> SourceFile:
    """Download ``address`` into a scratch folder; unpack a ``.gz`` or ``.zip``."""
    where = address.display
    check_scheme(address.text, where)
    scratch = Scratch()
    try:
        with _masked(secrets_in(address.text)), requests.Session() as session, \
                _get(session, address.text, where) as answer:
            if answer.status_code >= 400:
                raise InputError(f"{where}: the server answered {answer.status_code} {answer.reason or ''}".rstrip())
            name = file_name(urlsplit(answer.url).path, answer.headers, where)  # after any redirect
            target = scratch.file(name)
            size = _save(answer, target, where, max_bytes)
            modified = _last_modified(answer.headers.get("Last-Modified"))
        readable = unpack(target, scratch, where, max_bytes) if is_packed(name) else target
    except BaseException:
        scratch.close()
        raise
    location = display_name(address.text)
    return SourceFile(where, location, readable, "https", modified, size, scratch)


class _Masking(logging.Filter):
    """Hides the URL's secrets in the lines urllib3 logs at DEBUG (they carry the query)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for secret in self.secrets:
            message = message.replace(secret, "***")
        record.msg, record.args = message, None
        return True


@contextmanager
def _masked(secrets: list[str]) -> Iterator[None]:
    logger = logging.getLogger("urllib3.connectionpool")
    masking = _Masking(secrets)
    if secrets:
        logger.addFilter(masking)
    try:
        yield
    finally:
        logger.removeFilter(masking)


def _get(session: requests.Session, url: str, where: str) -> requests.Response:
    """The answer at ``url``, redirects followed (at most :data:`MAX_REDIRECTS`), each checked before it is
    followed: never from https:// to plain http:// off loopback. A redirect to another URL drops its password."""
    try:
        for _ in range(MAX_REDIRECTS + 1):
            answer = session.get(url, stream=True, timeout=TIMEOUTS, allow_redirects=False,
                                 headers={"User-Agent": "superfone-importer"})
            if not answer.is_redirect:
                return answer
            answer.close()
            url = urljoin(url, answer.headers["Location"])
            check_scheme(url, where)
        raise InputError(f"{where}: too many redirects")
    except requests.Timeout:
        raise InputError(f"{where}: no answer in time (timed out)") from None
    except requests.RequestException as exc:  # its text holds the URL, query included: never shown
        raise InputError(f"{where}: cannot reach the server ({type(exc).__name__})") from None


def file_name(path: str, headers: Any, where: str) -> str:
    """A name whose suffix picks the reader: the URL's own, else from Content-Type or Content-Disposition."""
    base = PurePosixPath(unquote(path)).name
    if _known(base):
        return base
    content_type = str(headers.get("Content-Type", "")).split(";", 1)[0].strip().lower()
    if content_type in CONTENT_TYPES:
        return (PurePosixPath(base).stem or "download") + CONTENT_TYPES[content_type]
    disposition = str(headers.get("Content-Disposition", ""))
    if "filename=" in disposition:
        named = disposition.split("filename=", 1)[1].split(";", 1)[0].strip().strip('"')
        if _known(named):
            return PurePosixPath(named).name
    raise InputError(f"{where}: cannot tell what kind of file it is (Content-Type {content_type or 'missing'}); "
                     f"use a URL ending in the file's name, such as …/leads.csv")


def _known(name: str) -> bool:
    lower = name.lower()
    for packed in (".gz", ".zip"):
        if lower.endswith(packed):
            return packed == ".zip" or PurePosixPath(lower[: -len(packed)]).suffix in KINDS
    return PurePosixPath(lower).suffix in KINDS


def _save(answer: requests.Response, target: Any, where: str, max_bytes: int) -> int:
    declared = answer.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise InputError(f"{where}: the file is {int(declared):,} bytes, above the {max_bytes:,}-byte limit")
    written = 0
    try:
        with open(target, "wb") as out:
            for chunk in answer.iter_content(1 << 16):
                written += len(chunk)
                if written > max_bytes:
                    raise InputError(f"{where}: the file is larger than the {max_bytes:,}-byte limit")
                out.write(chunk)
    except requests.RequestException as exc:
        raise InputError(f"{where}: the download broke off ({type(exc).__name__})") from None
    return written


def _last_modified(value: str | None) -> Any:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
