"""``s3://bucket/key-or-glob`` sources, through s3fs (the ``s3`` extra).

Credentials and endpoint are read the way the AWS SDKs read them: ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``, ``AWS_PROFILE`` and the ``~/.aws`` files, and
``AWS_ENDPOINT_URL_S3`` (else ``AWS_ENDPOINT_URL``) for an S3-compatible store such as MinIO.
"""

from __future__ import annotations

import os
from typing import Any

from importer.errors import InputError
from importer.sources.locate.extras import require
from importer.sources.locate.remote import Remote
from importer.sources.locate.uri import Address

#: Environment variables whose values are secrets (never shown, masked in logs).
SECRET_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
_CONFIG = {"connect_timeout": 10, "read_timeout": 60, "retries": {"max_attempts": 3}}
#: S3 error codes that mean the credentials, not the file, are wrong.
_REFUSED = {"InvalidAccessKeyId": "the access key id is not known", "SignatureDoesNotMatch":
            "the secret access key does not match the key id", "ExpiredToken": "the session token has expired",
            "InvalidToken": "the session token is not valid"}


def s3_remote(address: Address) -> Remote:
    where = address.display
    require("s3", "s3fs")
    if address.user or address.password:
        raise InputError(f"{where}: credentials do not belong in the address; set AWS_ACCESS_KEY_ID and "
                         "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) instead")
    bucket = _bucket(address.text)
    if not bucket:
        raise InputError(f"{where}: no bucket; write s3://BUCKET/KEY")
    key = address.path.lstrip("/")
    return Remote("s3", where, f"{bucket}/{key}".rstrip("/") if key else bucket, bucket, connect=_connect,
                  location=lambda path: f"s3://{path}", explain=explain)


def endpoint_url() -> str | None:
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def _connect() -> Any:
    import s3fs

    return s3fs.S3FileSystem(endpoint_url=endpoint_url(), skip_instance_cache=True, config_kwargs=_CONFIG)


def _bucket(text: str) -> str:
    """The bucket as written (``urlsplit`` would lower-case it)."""
    rest = text.strip()[len("s3://"):]
    return rest.split("/", 1)[0].rpartition("@")[2]


def explain(exc: BaseException) -> str | None:
    """What an S3 failure means, in a few words; None for what the shared explanations cover."""
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return ("no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE "
                "(~/.aws/credentials)")
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ClientConnectorError"):
        shown = endpoint_url()
        return f"cannot reach the S3 endpoint{f' {_host(shown)}' if shown else ''}"
    code = _error_code(exc)
    if code in _REFUSED:
        return f"S3 refused the credentials: {_REFUSED[code]}"
    if code in ("NoSuchBucket",):
        return "no such bucket"
    if isinstance(exc, PermissionError) or code == "AccessDenied":
        return "access denied (403): the credentials may not read this bucket or key"
    return None


def _error_code(exc: BaseException) -> str:
    for error in (exc, exc.__cause__, exc.__context__):
        response = getattr(error, "response", None)
        if isinstance(response, dict):
            return str(response.get("Error", {}).get("Code", ""))
    return ""


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.hostname}{f':{parts.port}' if parts.port else ''}"
