"""Sandbox server life cycle: seed loading and its errors, --db persistence across two servers, clean stop,
and the ``superfone-import sandbox`` command answering the seeds' curl examples from a subprocess.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import requests

from importer.cli.commands import main
from importer.errors import ConfigError
from importer.sandbox import SandboxConfig, SandboxServer, load_seed
from importer.sandbox.seed import DEFAULT_SEED, default_seed_path

REPO = Path(__file__).resolve().parents[2]

#: Seed 001's curl example body, verbatim.
SEED_001_BODY = {
    "customer_phone": "+918000000001",
    "create_customer_if_customer_phone_not_found": True,
    "first_name": "Asha",
    "last_name": "Kumar",
    "email": ["asha@example.com"],
    "business_name": "Acme Pvt Ltd",
    "city": "Bengaluru",
    "deal_value": 50000,
    "source": "website-form",
    "source_type": "OTHERS",
    "lead_stage_name": "New Lead",
    "lead_group_name": "Inbound",
    "add_labels": ["Hot", "Demo Requested"],
    "add_products": ["Starter Plan"],
    "assignee_user_phone": "+919876543210",
    "add_phones": ["+918000000002"],
    "customer_note": "Asked for a callback after 6 PM.",
}


def shape(value: Any) -> Any:
    """Keys and JSON types, not values (numbers are one type; null matches anything)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value[:1]]
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    return "number" if isinstance(value, int | float) else type(value).__name__


def test_sample_data_catalog_links_to_the_packaged_seed() -> None:
    checkout = REPO / "sample_data" / "catalog.yaml"
    assert checkout.is_symlink() and not os.readlink(checkout).startswith("/")
    assert checkout.resolve() == DEFAULT_SEED.resolve()
    assert default_seed_path() == DEFAULT_SEED
    assert load_seed() == load_seed(checkout)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("org_id: [1\n", "seed.yaml line 2: invalid YAML"),
        ("- just a list\n", "expected a mapping"),
        ("org_id: 1\nlabelz: []\n", "labelz: Extra inputs are not permitted"),
        ("org_id: 1\nusers: [{id: 1, phone: '12345'}]\n", "not a valid E.164"),
        ("org_id: 1\nlabels: [{id: 1, title: A}, {id: 1, title: B}]\n", "labels: duplicate 1"),
        ("org_id: 1\nleads: [{id: 1, phones: ['+918000000001'], labels: [Nope]}]\n", "unknown title 'Nope'"),
        (
            "org_id: 1\nleads: [{id: 1, phones: ['+918000000001', '+918000000002']}, "
            "{id: 2, phones: ['+918000000003', '+918000000002']}]\n",
            "already belongs to lead 1",
        ),
    ],
)
def test_bad_seed_raises_config_error_naming_the_file(tmp_path: Path, text: str, expected: str) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(text)
    with pytest.raises(ConfigError, match="seed.yaml") as raised:
        load_seed(seed)
    assert expected in str(raised.value)
    assert "\n" not in str(raised.value)


def test_missing_seed_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing.yaml: cannot read it"):
        load_seed(tmp_path / "missing.yaml")


def test_custom_seed_is_served(tmp_path: Path) -> None:
    seed = tmp_path / "tiny.yaml"
    seed.write_text(
        "org_id: 7\nlabels: [{id: 1, title: Only}]\nleads: [{id: 5, phones: ['+918000000001']}]\n"
    )
    with SandboxServer(SandboxConfig(api_key="k"), seed=seed) as server:
        headers = {"x-api-key": "k"}
        labels = requests.get(f"{server.base_url}/enterprise/api/label", headers=headers, timeout=30).json()
        assert [row["title"] for row in labels["data"]["rows"]] == ["Only"]
        assert labels["data"]["rows"][0]["org_id"] == 7
        assert [lead["id"] for lead in server.leads()] == [5]


def test_db_file_keeps_leads_across_restarts(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.sqlite"
    body = {
        "customer_phone": "+919123456789",
        "create_customer_if_customer_phone_not_found": True,
        "customer_note": "n",
    }
    with SandboxServer(SandboxConfig(), db=db) as first:
        response = requests.post(
            f"{first.base_url}/enterprise/api/lead",
            json=body,
            headers={"x-api-key": first.api_key},
            timeout=30,
        )
        assert response.status_code == 200
        written = first.leads()
    with SandboxServer(SandboxConfig(), db=db) as second:
        assert second.leads() == written
        assert second.lead("+919123456789")["notes"] == ["n"]
        second.reset()
        assert second.lead("+919123456789") is None


def test_stop_leaves_no_thread_and_frees_the_port() -> None:
    threads_before = set(threading.enumerate())
    server = SandboxServer(SandboxConfig())
    with server:
        port = server.port
        assert server.base_url == f"http://127.0.0.1:{port}/superfone"
        assert server.admin_url == f"http://127.0.0.1:{port}/__sandbox"
        started = set(threading.enumerate()) - threads_before
        assert started  # the server's own thread(s), which must be gone once it stops
    assert not started & set(threading.enumerate())
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/__sandbox/config", timeout=5)
    with pytest.raises(RuntimeError):
        server.leads()
    server.stop()  # twice is fine


def test_api_key_not_in_repr() -> None:
    server = SandboxServer(SandboxConfig(api_key="secret-key-123"))
    assert "secret-key-123" not in repr(server)


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "importer", "sandbox", *args]


def test_command_serves_the_seed_curl_examples(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        _command("--port", "0", "--api-key", "demo-key"),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline().strip()
        assert banner.startswith("Superfone sandbox: http://127.0.0.1:")
        assert banner.endswith("/superfone (api key: demo-key)")
        base_url = banner.split()[2]
        root = base_url.removesuffix("/superfone")
        assert process.stdout.readline().strip() == (f"LeadSquared: LSQ_HOST={root}/leadsquared "
                                                     "LSQ_ACCESS_KEY=demo-access-key LSQ_SECRET_KEY=demo-secret-key")
        assert process.stdout.readline().strip() == (f"PollyBot: POLLYBOT_BASE_URL={root}/pollybot "
                                                     "POLLYBOT_API_KEY=sk-workspace_demo")
        polly = requests.get(f"{root}/pollybot/api/v1/leads/lead_aa49d53c31e4598b", timeout=30,
                             headers={"Authorization": "Bearer sk-workspace_demo"})
        assert polly.json()["data"]["name"] == "Pooja Menon"
        headers = {"x-api-key": "demo-key", "Content-Type": "application/json"}
        posted = requests.post(
            f"{base_url}/enterprise/api/lead", json=SEED_001_BODY, headers=headers, timeout=30
        )
        assert (posted.status_code, posted.json()) == (200, {"data": None, "message": "success"})
        got = requests.get(
            f"{base_url}/enterprise/api/lead?phone=%2B918000000001",
            headers={"x-api-key": "demo-key"},
            timeout=30,
        )
        assert got.status_code == 200
        from tests.sandbox.test_get_lead import SEED_000_EXAMPLE

        assert shape(got.json()) == shape(SEED_000_EXAMPLE)
        data = got.json()["data"]
        assert [label["title"] for label in data["labels"]] == ["Hot", "Demo Requested"]
        assert [phone["phone"] for phone in data["phones"]] == ["+918000000001", "+918000000002"]
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-after", "1.5"], "--fail-after must be a probability between 0 and 1"),
        (["--slow", "-0.5"], "--slow must be a probability between 0 and 1"),
        (["--seed", "nowhere.yaml"], "nowhere.yaml: cannot read it"),
        (["--rate", "0"], "--rate must be above 0"),
        (["--port", "70000"], "--port must be between 0 and 65535"),
    ],
)
def test_command_bad_flags_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["sandbox", "--port", "0", *args]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("superfone-import: error: ")
    assert message in err


def test_command_bad_yaml_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed = tmp_path / "broken.yaml"
    seed.write_text("labels: [\n")
    assert main(["sandbox", "--port", "0", "--seed", str(seed)]) == 2
    err = capsys.readouterr().err
    assert "broken.yaml" in err and "invalid YAML" in err
