"""``on_invalid``: a bad value drops its field (the default) or rejects its row, in a dry run, a plan and a real run
against the sandbox."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from importer.api.client import SuperfoneClient
from importer.cli.commands import main

SHEET = "Phone,Name,Deal,Stage\n+919845077001,Asha,call,Won-ish\n+919845077002,Ravi,1.5L,New Lead\n"
MAPPING = ("version: 1\nfields:\n  customer_phone: Phone\n  first_name: Name\n"
           "  deal_value: {{column: Deal, type: number{deal}}}\n  lead_stage_name: {{column: Stage{stage}}}\n")


def files(tmp_path: Path, on_invalid: str | None) -> tuple[str, str]:
    sheet, mapping = tmp_path / "leads.csv", tmp_path / "m.yaml"
    sheet.write_text(SHEET, encoding="utf-8")
    option = f", on_invalid: {on_invalid}" if on_invalid else ""
    mapping.write_text(MAPPING.format(deal=option, stage=option), encoding="utf-8")
    return str(sheet), str(mapping)


def run(capsys, sheet: str, mapping: str, sandbox, tmp_path: Path, *extra: str) -> tuple[int, Path]:
    code = main(["run", sheet, "-m", mapping, "--base-url", sandbox.base_url, "--report-dir", str(tmp_path / "r"),
                 "--rate", "200", *extra])
    out = capsys.readouterr().out
    return code, Path(out.splitlines()[-1].removeprefix("report: "))


def issues(folder: Path) -> list[tuple[str, str, str, str, str]]:
    with (folder / "issues.csv").open(encoding="utf-8-sig", newline="") as handle:
        return [(line["_row"], line["severity"], line["code"], line["value"], line["message"])
                for line in csv.DictReader(handle)]


def payloads(folder: Path) -> dict[int, dict]:
    lines = (folder / "payloads.jsonl").read_text(encoding="utf-8").splitlines()
    return {entry["_row"]: entry["payload"] for entry in map(json.loads, lines)}


DROPPED = [("2", "warning", "invalid-number", "call", "'call' is not a number; it was left out"),
           ("2", "warning", "unknown-stage", "Won-ish",
            "the account has no stage named 'Won-ish'; did you mean 'Won'? It was left out.")]


@pytest.fixture
def key(fresh_sandbox, monkeypatch) -> str:
    monkeypatch.setenv("SF_API_KEY", fresh_sandbox.api_key)
    return fresh_sandbox.api_key


@pytest.fixture
def client(fresh_sandbox) -> Iterator[SuperfoneClient]:
    with SuperfoneClient(fresh_sandbox.base_url, fresh_sandbox.api_key) as client:
        yield client


def test_by_default_the_bad_values_are_left_out_and_the_lead_is_sent(capsys, tmp_path, fresh_sandbox, key,
                                                                     client) -> None:
    sheet, mapping = files(tmp_path, None)
    code, dry = run(capsys, sheet, mapping, fresh_sandbox, tmp_path, "--dry-run")
    assert code == 0 and issues(dry) == DROPPED
    assert payloads(dry)[2] == {"customer_phone": "+919845077001", "first_name": "Asha",
                                "create_customer_if_customer_phone_not_found": True}
    assert payloads(dry)[3]["deal_value"] == 150000
    code, plan = run(capsys, sheet, mapping, fresh_sandbox, tmp_path, "--plan")
    assert code == 0 and issues(plan) == DROPPED
    assert (plan / "plan.csv").read_text(encoding="utf-8-sig").splitlines()[1].startswith("2,create,'+919845077001")
    code, real = run(capsys, sheet, mapping, fresh_sandbox, tmp_path)
    assert code == 0 and issues(real) == DROPPED
    asha = client.get_lead("+919845077001")
    assert asha is not None and asha["first_name"] == "Asha"
    assert asha["deal_value"] is None and asha["lead_stage"] is None  # arrived without the dropped fields
    assert client.get_lead("+919845077002")["deal_value"] == 150000


def test_on_invalid_reject_keeps_the_row_from_being_sent(capsys, tmp_path, fresh_sandbox, key, client) -> None:
    sheet, mapping = files(tmp_path, "reject")
    rejected = [("2", "error", "invalid-number", "call", "'call' is not a number"),
                ("2", "error", "unknown-stage", "Won-ish",
                 "the account has no stage named 'Won-ish'; did you mean 'Won'?")]
    code, dry = run(capsys, sheet, mapping, fresh_sandbox, tmp_path, "--dry-run")
    assert code == 1 and issues(dry) == rejected and list(payloads(dry)) == [3]
    code, plan = run(capsys, sheet, mapping, fresh_sandbox, tmp_path, "--plan")
    assert code == 1 and issues(plan) == rejected
    assert [line.split(",")[0] for line in (plan / "plan.csv").read_text(encoding="utf-8-sig").splitlines()] == \
        ["_row", "3"]
    code, real = run(capsys, sheet, mapping, fresh_sandbox, tmp_path)
    assert code == 1 and issues(real) == rejected
    assert client.get_lead("+919845077001") is None and client.get_lead("+919845077002") is not None
