"""Logging of a run: warnings on stderr; for unattended runs a log file (``--log-file``) and debug lines (``-v``).

    stderr                  WARNING and up (a notification that failed); with -v DEBUG and up
    --log-file FILE         appended, one timestamped line each: run start and end, each retry and 429
                            (logger ``importer.api.retry``), each fatal error, each notification; -v adds DEBUG
                            (one line per API request)

Without ``-v`` and ``--log-file`` the terminal shows what it always did. The run's start, end and fatal lines go
to the file only: the terminal has the closing summary and the one-line error. Every handler masks the secrets
(the API key, the SMTP password) as a second line of defence: no message is written to hold one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from tqdm import tqdm

from importer.api.answers import mask_key
from importer.api.client import check_base_url
from importer.errors import ConfigError

__all__ = ["RUN_LOG", "SecretFilter", "log_end", "log_fatal", "log_start", "run_logging"]

#: The run's own lines (start, end, fatal error): the log file's, not the terminal's.
RUN_LOG = logging.getLogger("importer.cli")
_PACKAGE = "importer"


class SecretFilter(logging.Filter):
    """Masks every whole occurrence of each secret in a record's message and exception text, as ``***``."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self.secrets = sorted({secret for secret in secrets if secret}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            text = mask_key(text, secret)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed call must not stop the run, nor show its arguments
            message = f"(unformattable log message from {record.name})"
        record.msg, record.args = self.mask(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


class _FileFormatter(logging.Formatter):
    """``2024-05-01T02:00:00.123+05:30 INFO importer.api.retry: row 7: …`` on one line."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds")

    def formatMessage(self, record: logging.LogRecord) -> str:
        return " ".join(super().formatMessage(record).splitlines())


class _TerminalFormatter(logging.Formatter):
    """``superfone-import: warning: …``; below a warning the logger's name too (``debug: importer.api.client: …``)."""

    def format(self, record: logging.LogRecord) -> str:
        message = " ".join(record.getMessage().splitlines())
        if record.levelno >= logging.WARNING:
            return f"superfone-import: {record.levelname.lower()}: {message}"
        return f"{record.levelname.lower()}: {record.name}: {message}"


class _TerminalHandler(logging.StreamHandler):
    """Writes through tqdm, so a line never lands in the middle of a progress bar."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            tqdm.write(self.format(record), file=self.stream)
        except Exception:
            self.handleError(record)


def _not_run_lines(record: logging.LogRecord) -> bool:
    return record.name != RUN_LOG.name


def _file_handler(path: Path, level: int) -> logging.Handler:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--log-file {path}: cannot open it for appending ({exc.strerror or exc})") from None
    handler.setLevel(level)
    handler.setFormatter(_FileFormatter())
    return handler


@contextmanager
def run_logging(log_file: Path | None = None, verbose: bool = False,
                secrets: Iterable[str | None] = ()) -> Iterator[SecretFilter]:
    """Send the package's log lines to stderr (and ``log_file``) while the block runs; yields the filter that
    masks ``secrets``. A log file that cannot be opened is a ConfigError, raised before the block starts."""
    terminal = _TerminalHandler()
    terminal.setLevel(logging.DEBUG if verbose else logging.WARNING)
    terminal.setFormatter(_TerminalFormatter())
    terminal.addFilter(_not_run_lines)
    handlers: list[logging.Handler] = [terminal]
    if log_file is not None:
        handlers.append(_file_handler(log_file, logging.DEBUG if verbose else logging.INFO))
    masking = SecretFilter(secrets)
    package = logging.getLogger(_PACKAGE)
    saved_level = package.level
    needed = min(handler.level for handler in handlers)
    if package.getEffectiveLevel() > needed:  # only ever lowered: a caller's more detailed level stays
        package.setLevel(needed)
    for handler in handlers:
        handler.addFilter(masking)
        package.addHandler(handler)
    try:
        yield masking
    finally:
        for handler in handlers:
            package.removeHandler(handler)
            handler.close()
        package.setLevel(saved_level)


def log_start(sheet: str, mapping: str, kind: str, base_url: str) -> None:
    """The run's first line: what it reads, with which mapping, what it does, and where (no secrets)."""
    from importer.report.notify import scrub_url

    try:
        shown = check_base_url(base_url)  # a URL the client accepts holds no user, password or query
    except ConfigError:
        shown = scrub_url(base_url)
    RUN_LOG.info("run start: input %s, mapping %s, %s, base URL %s", sheet, mapping, kind, shown)


def log_end(text: str) -> None:
    """The run's last line: the counts, the exit code and the report folder (``outcome.outcome_text``)."""
    RUN_LOG.info("run end: %s", text)


def log_fatal(message: str, folder: Path | None = None) -> None:
    """A fatal error that stopped the run (exit 2), and the report folder if the run had begun one."""
    report = f" — report: {folder}" if folder is not None else ""
    RUN_LOG.error("fatal: %s%s", message, report)
