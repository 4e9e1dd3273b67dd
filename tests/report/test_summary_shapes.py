"""summary.json keeps its keys and the shape of every value, kind of run by kind of run.

tests/data/summary_shapes.json holds, for each scenario below, every key of its summary.json and the shape of its
value (``int``, ``str``, ``bool``, ``null``, ``float``, a dict's own keys and shapes, a list's item shape), as the
importer wrote them before the summary became typed records. A key may be added to the contract, never dropped,
renamed or given another shape: each scenario's summary must still have every recorded key, with the same shape.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from importer.cli.commands import main
from importer.run.context.options import RunOptions
from importer.run.engine.stop import Stop
from importer.run.journey.pipeline import Importer
from importer.run.kinds.dry import DryRun
from importer.run.kinds.send import Send
from importer.sandbox import SandboxServer
from tests import inputs
from tests.inputs import newest

SHAPES = Path(__file__).parent.parent / "data" / "summary_shapes.json"

MAPPING = """\
version: 1
defaults:
  region: IN
  create_if_missing: true
fields:
  customer_phone: Phone
  first_name: First Name
  city: {column: City, policy: fill_empty}
  lead_stage_name: Stage
  add_labels: {column: Tags, split: ";"}
  customer_note: Notes
tasks:
  - type: FOLLOW_UP_CALL
    due: {column: Follow-up, type: datetime, date_format: "%d/%m/%Y %H:%M"}
"""
HEADER = ["First Name", "Phone", "City", "Stage", "Tags", "Notes", "Follow-up"]
ROWS = [
    ["Meera", "+919000000002", "Mumbai", "Won", "Hot", "Called", "20/05/2031 15:00"],
    ["Asha", "+918000000001", "Bengaluru", "New Lead", "Hot", "", ""],
    ["Ravi", "+919811100001", "Pune", "", "Nope", "", "06/01/2020 10:00"],
    ["Bad", "12", "", "", "", "", ""],
    ["Asha", "+918000000002", "", "", "", "", ""],
]


def shape(value: Any) -> Any:
    """The shape of a JSON value: a type name, a dict of shapes, or a one-item list of the first item's shape."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def write_inputs(folder: Path, rows: list[list[str]]) -> tuple[Path, Path]:
    return inputs.write_inputs(folder, HEADER, rows, MAPPING)


def summary_of(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def scenarios(server: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Each scenario's summary.json, by name."""
    monkeypatch.setenv("SF_API_KEY", server.api_key)
    monkeypatch.setenv("SF_BASE_URL", server.base_url)
    sheet, mapping = write_inputs(tmp_path / "in", ROWS)
    state = str(tmp_path / "state.sqlite")
    found: dict[str, Any] = {}
    common = ["--quiet", "--rate", "1000", "--state", state]

    def run(name: str, reports: str, *args: str) -> Path:
        main(["run", str(sheet), "-m", str(mapping), "--report-dir", str(tmp_path / reports), *common, *args])
        folder = newest(tmp_path / reports)
        found[name] = summary_of(folder)
        return folder

    run("dry run offline", "dry", "--dry-run", "--offline")
    run("dry run", "dry", "--dry-run")
    plan = run("plan", "plans", "--plan")
    main(["apply", str(plan), "--report-dir", str(tmp_path / "applied"), "--quiet", "--rate", "1000"])
    applied = newest(tmp_path / "applied")
    found["apply"] = summary_of(applied)
    main(["undo", str(applied), "--report-dir", str(tmp_path / "undo"), "--quiet", "--rate", "1000", "--dry-run"])
    found["undo dry run"] = summary_of(newest(tmp_path / "undo"))
    main(["undo", str(applied), "--report-dir", str(tmp_path / "undo"), "--quiet", "--rate", "1000"])
    found["undo"] = summary_of(newest(tmp_path / "undo"))
    run("real run", "runs", "--fresh")
    run("dry run of a sync", "dry", "--dry-run")
    fewer, _ = write_inputs(tmp_path / "fewer", ROWS[1:])
    assert main(["run", str(fewer), "-m", str(mapping), "--report-dir", str(tmp_path / "runs"), *common,
                 "--on-missing", "label:Cold", "--max-missing", "100", "--keep-runs", "5", "--allow-shrink"]) == 1
    found["real run with missing leads"] = summary_of(newest(tmp_path / "runs"))
    main(["verify", str(sheet), "-m", str(mapping), "--report-dir", str(tmp_path / "verify"), "--quiet",
          "--rate", "1000"])
    found["verify"] = summary_of(newest(tmp_path / "verify"))
    stop = Stop()
    stop.request("asked", "asked on the page")
    options = RunOptions(api_key=server.api_key, base_url=server.base_url, report_dir=tmp_path / "stopped",
                         state=state, rate=1000, fresh=True)
    Importer(sheet, mapping, options, kind=Send(), stop=stop).run()
    found["stopped run"] = summary_of(newest(tmp_path / "stopped"))
    Importer(sheet, mapping, options, kind=DryRun(), stop=stop).run()
    found["stopped dry run"] = summary_of(newest(tmp_path / "stopped"))
    return found


def test_summary_json_keeps_its_keys_and_shapes(fresh_sandbox: SandboxServer, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = json.loads(SHAPES.read_text(encoding="utf-8"))
    found = {name: shape(summary) for name, summary in scenarios(fresh_sandbox, tmp_path, monkeypatch).items()}
    assert sorted(found) == sorted(recorded)
    for name, summary in found.items():
        assert summary == recorded[name], name
