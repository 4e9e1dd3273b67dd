"""Exceptions that stop a run, or that tell the sender what to do with one request.

Row problems are never exceptions: they are :class:`importer.models.Issue` records.

    ImporterError
    ├── ConfigError        bad arguments or a bad mapping file            → exit 2, nothing sent
    ├── InputError         the sheet cannot be read (format, encoding, …) → exit 2, nothing sent
    │   ├── SourceNotReady the newest file of a glob or folder is still being written: not picked yet
    │   └── NoSourceFile   a glob matches no file, a folder holds no sheet
    ├── StopRequested      the run was asked to stop (quota, signal, time limit, disk full): the step that raises
    │                      it was not done; a run that stops writes its report and exits 3
    └── ApiError           the Superfone API answered with an error, or could not be reached
        ├── AuthError      401: the key is missing or wrong; stops the whole run → exit 2
        ├── TransientError connect error, 408, 429, 502, 503, 504: retried, the request was not applied
        ├── UncertainError read timeout, dropped connection, 500 after sending: it may have been applied
        └── RejectedError  400 / 404: the row fails with the server's message; not retried

Every message is safe to print: none of them ever contains the API key.
"""

from __future__ import annotations

from pathlib import Path


class ImporterError(Exception):
    """Base class of every error this package raises on purpose.

    ``report_folder``: set when the run had begun its report before it stopped (a 401 in the middle of a run):
    what was done is written there, and running the same command again resumes.
    """

    report_folder: Path | None = None


class ConfigError(ImporterError):
    """An argument or the mapping is wrong. The message names the file, line and key."""


class InputError(ImporterError):
    """The input sheet cannot be read. The message names the file and, where known, row and column."""


class SourceNotReady(InputError):
    """The newest file a glob or folder matches changed less than the settle window ago: it may still be being
    written, so it is not picked yet. ``wait``: seconds until it may be picked, if it stays unchanged."""

    def __init__(self, message: str, wait: float = 0.0) -> None:
        super().__init__(message)
        self.wait = wait


class NoSourceFile(InputError):
    """A glob matches no file, or a folder holds no sheet (a job's drop folder on a night with nothing new)."""


class StopRequested(ImporterError):
    """A stop was requested (:mod:`importer.run.engine.stop`): the step that raises this was not done, nothing was
    sent by it. Inside a run it ends the work early; escaping a run (before it began its report) it is exit 3."""


class ApiError(ImporterError):
    """The API answered with an error status, or could not be reached (``status`` is then None)."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


class AuthError(ApiError):
    """401: the API key is missing or invalid. Nothing further can succeed."""


class TransientError(ApiError):
    """Certainly not applied (connect error, 408, 429, 502, 503, 504): safe to retry as is."""


class UncertainError(ApiError):
    """Sent, but the outcome is unknown (read timeout, dropped connection, 500): may have been applied."""


class RejectedError(ApiError):
    """400 or 404: the server refused this request; retrying it unchanged cannot help."""


class CustomerNotFound(RejectedError):
    """400 or 404 "Customer not found": no lead has the phone (and the upsert was not allowed to create one)."""
