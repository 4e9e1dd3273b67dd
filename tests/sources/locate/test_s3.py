"""s3:// sources against moto's S3 server on a loopback port, found through AWS_ENDPOINT_URL_S3 as an
S3-compatible store would be; credentials from the AWS variables (canaries)."""

from __future__ import annotations

import gzip
import io
import json
import logging
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from importer.errors import SourceNotReady
from importer.sandbox import SandboxServer
from importer.sources import locate_source, move_source
from tests.sources.locate.conftest import Outcome, assert_nowhere, leads_of, one_error_line, sheet_text

KEY_ID = "AKIACANARY7Q2W4E6R8T"
SECRET = "secret-CANARY-9d8c7b6a5f4e3d2c1b0a"
BUCKET = "leads-drop"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    """An empty bucket, the AWS variables set (and no ~/.aws files, no instance metadata); a boto3 client."""
    import boto3

    home = tmp_path / "home"
    home.mkdir()
    for name, value in {"AWS_ENDPOINT_URL_S3": moto_endpoint, "AWS_ACCESS_KEY_ID": KEY_ID,
                        "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_DEFAULT_REGION": "us-east-1",
                        "AWS_EC2_METADATA_DISABLED": "true", "HOME": str(home),
                        "AWS_CONFIG_FILE": str(home / "config"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials")}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    client = boto3.client("s3", endpoint_url=moto_endpoint)
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)
    client.close()


def put(client: Any, key: str, body: bytes) -> None:
    client.put_object(Bucket=BUCKET, Key=key, Body=body)


def keys(client: Any) -> set[str]:
    return {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def no_aws_keys(outcome: Outcome, caplog: pytest.LogCaptureFixture) -> None:
    """The secret key nowhere at all; the key id nowhere the importer writes or prints (botocore's own debug
    records name it in the credential scope of the requests it signs, as they do for any boto3 user)."""
    ours = "\n".join(record.getMessage() for record in caplog.records if record.name.startswith("importer"))
    assert_nowhere([KEY_ID, SECRET], Outcome(outcome.code, outcome.out, outcome.err, ours, outcome.folder))
    assert SECRET not in outcome.logged


def test_a_gzipped_key_runs_end_to_end(s3: Any, fresh_sandbox: SandboxServer, cli: Callable[..., Outcome],
                                       caplog: pytest.LogCaptureFixture) -> None:
    put(s3, "exports/leads.csv.gz", gzip.compress(sheet_text(("+919700000401", "+919700000402")).encode()))
    outcome = cli("run", f"s3://{BUCKET}/exports/leads.csv.gz", fresh_sandbox)
    assert outcome.code == 0, outcome.err
    assert {"+919700000401", "+919700000402"} <= leads_of(fresh_sandbox).keys()
    summary = json.loads((outcome.report() / "summary.json").read_text(encoding="utf-8"))
    assert summary["input"] == f"s3://{BUCKET}/exports/leads.csv.gz"
    assert summary["source"]["kind"] == "s3" and summary["source"]["size"] > 0
    assert any(record.name.startswith("botocore") for record in caplog.records)  # the canaries were exposed
    no_aws_keys(outcome, caplog)


def test_a_glob_picks_the_newest_settled_key_and_moves_it(s3: Any) -> None:
    put(s3, "exports/leads-z.csv", sheet_text(("+919700000411",)).encode())
    put(s3, "exports/notes.txt.part", b"partial")
    time.sleep(1.1)  # S3 keeps modification times to the second
    put(s3, "exports/leads-a.csv", sheet_text(("+919700000412",)).encode())
    with pytest.raises(SourceNotReady, match=r"leads-a.csv changed \d+ s ago and may still be being written"):
        locate_source(f"s3://{BUCKET}/exports/leads-*.csv", settle=60)
    later = time.time() + 120
    with locate_source(f"s3://{BUCKET}/exports/leads-*.csv", settle=60, now=later, pick="name") as found:
        assert found.location == f"s3://{BUCKET}/exports/leads-z.csv"
    with locate_source(f"s3://{BUCKET}/exports/", settle=60, now=later) as found:
        assert found.location == f"s3://{BUCKET}/exports/leads-a.csv" and found.kind == "s3"
        assert found.path.read_bytes() == sheet_text(("+919700000412",)).encode()
        assert found.modified is not None and found.size == len(sheet_text(("+919700000412",)))
        assert move_source(found, "done") == f"s3://{BUCKET}/exports/done/leads-a.csv"
    with locate_source(f"s3://{BUCKET}/exports/leads-z.csv") as found:
        assert move_source(found, "/archive") == f"s3://{BUCKET}/archive/leads-z.csv"
    assert keys(s3) == {"exports/done/leads-a.csv", "archive/leads-z.csv", "exports/notes.txt.part"}


def test_a_single_member_zip_on_s3(s3: Any) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("leads.csv", sheet_text(("+919700000421",)))
    put(s3, "drop/export.zip", buffer.getvalue())
    with locate_source(f"s3://{BUCKET}/drop/export.zip") as found:
        assert found.path.name == "leads.csv" and "+919700000421" in found.path.read_text(encoding="utf-8")


@pytest.mark.parametrize(("source", "change", "expected"), [
    (f"s3://{BUCKET}/exports/missing.csv", None, "no such file or folder"),
    (f"s3://{BUCKET}/exports/leads-*.csv", None, "no file matches"),
    ("s3://no-such-bucket-here/leads.csv", None, "no such bucket"),
    (f"s3://{BUCKET}/exports/leads.csv", "no credentials",
     "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (~/.aws/credentials)"),
    (f"s3://{KEY_ID}:{SECRET}@{BUCKET}/leads.csv", None, "credentials do not belong in the address; set "
                                                         "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) "
                                                         "instead"),
])
def test_what_stops_an_s3_source_is_one_line(s3: Any, cli: Callable[..., Outcome], monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture, source: str, change: str | None,
                                             expected: str) -> None:
    put(s3, "exports/leads.csv", sheet_text().encode())
    if change == "no credentials":
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    caplog.set_level(logging.DEBUG)
    outcome = cli("validate", source)
    shown = source.replace(f"{KEY_ID}:{SECRET}@", "")
    assert one_error_line(outcome) == f"superfone-import: error: {shown}: {expected}"
    no_aws_keys(outcome, caplog)


def test_an_unreachable_endpoint_is_one_line(s3: Any, cli: Callable[..., Outcome],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{port}")
    line = one_error_line(cli("validate", f"s3://{BUCKET}/leads.csv"))
    assert line == f"superfone-import: error: s3://{BUCKET}/leads.csv: cannot reach the S3 endpoint 127.0.0.1:{port}"
