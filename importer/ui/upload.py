"""A file posted from the page, streamed straight into the page's folder (never into a temporary folder elsewhere),
with a size limit; small form fields (the page's token) are kept in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from importer.errors import InputError

#: Form fields other than the file are a token or a choice: a few bytes.
_MAX_FIELD_BYTES = 4096


@dataclass
class Posted:
    """The form's small fields, and its file: the name the browser gave, where it was stored, its size."""

    fields: dict[str, str] = field(default_factory=dict)
    file_name: str | None = None
    stored: Path | None = None
    size: int = 0


class _Receiver:
    """Callbacks of the multipart parser: headers → which part; data → a field's bytes or the file."""

    def __init__(self, target: Path, limit: int) -> None:
        self.target, self.limit, self.posted = target, limit, Posted()
        self._header_name = self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._name = ""
        self._value = bytearray()
        self._out: IO[bytes] | None = None

    def callbacks(self) -> dict[str, object]:
        return {"on_part_begin": self._begin, "on_header_field": self._header_field,
                "on_header_value": self._header_part, "on_header_end": self._header_end,
                "on_headers_finished": self._headers_done, "on_part_data": self._data, "on_part_end": self._end}

    def _begin(self) -> None:
        self._headers, self._name, self._value = {}, "", bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_part(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def _headers_done(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options and self.posted.stored is None:
            self.posted.file_name = options[b"filename"].decode("utf-8", "replace")
            self.posted.stored = self.target
            self._out = self.target.open("wb")

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._out is not None:
            self.posted.size += end - start
            if self.posted.size > self.limit:
                raise InputError(f"the file is larger than the upload limit of {self.limit / 1e6:g} MB "
                                 "(start the page with --max-upload-mb to raise it)")
            self._out.write(data[start:end])
        elif len(self._value) + end - start <= _MAX_FIELD_BYTES:
            self._value += data[start:end]

    def _end(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
        elif self._name:
            self.posted.fields[self._name] = self._value.decode("utf-8", "replace")

    def close(self) -> None:
        if self._out is not None:
            self._out.close()


async def receive_file(request: Request, target: Path, limit: int) -> Posted:
    """Parse a multipart/form-data request, writing its (first) file to ``target``; InputError when the body
    is not a form with a file, or the file is over ``limit`` bytes (``target`` is then removed)."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in options:
        raise InputError("expected a form with a file (multipart/form-data)")
    receiver = _Receiver(target, limit)
    parser = MultipartParser(options[b"boundary"], receiver.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except BaseException:
        receiver.close()
        target.unlink(missing_ok=True)
        raise
    receiver.close()
    return receiver.posted
