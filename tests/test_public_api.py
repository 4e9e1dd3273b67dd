"""The library's public API: what ``import importer`` offers, and imports from a DataFrame or from dicts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import importer
from importer.sandbox import SandboxServer
from importer.sources import open_source

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "leads.csv"
EXAMPLE = ROOT / "mappings" / "example.yaml"

EXPORTED = [
    "ApiError",
    "AuthError",
    "ConfigError",
    "DryRun",
    "Importer",
    "ImporterError",
    "InputError",
    "Issue",
    "Mapping",
    "Phone",
    "PhoneProblem",
    "Plan",
    "Progress",
    "RejectedError",
    "RetryPolicy",
    "Row",
    "RunKind",
    "RunOptions",
    "RunResult",
    "Send",
    "SourceFile",
    "SourceNotReady",
    "SuperfoneClient",
    "TransientError",
    "UncertainError",
    "Verify",
    "__version__",
    "load_mapping",
    "locate_source",
    "move_source",
    "normalise_phone",
]


def test_exported_members() -> None:
    assert importer.__all__ == EXPORTED
    for name in EXPORTED:
        value = getattr(importer, name)
        if name != "__version__":
            assert value.__module__.startswith("importer."), name
    assert dir(importer) == EXPORTED
    with pytest.raises(AttributeError, match="no attribute 'Pipeline'"):
        importer.Pipeline  # noqa: B018
    assert issubclass(importer.TransientError, importer.ApiError)
    assert importer.normalise_phone("098450 12345").e164 == "+919845012345"


def sheet_as_text() -> pd.DataFrame:
    return pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)


def dry_run(source: object, tmp_path: Path, name: str) -> tuple[list[str], str, dict]:
    options = importer.RunOptions(dry_run=True, offline=True, report_dir=tmp_path / name)
    result = importer.Importer(source, importer.load_mapping(EXAMPLE), options).run()
    payloads = (result.folder / "payloads.jsonl").read_text(encoding="utf-8").splitlines()
    issues = (result.folder / "issues.csv").read_text(encoding="utf-8-sig")
    return payloads, issues, result.summary


def test_a_dataframe_and_dicts_check_exactly_like_the_file(tmp_path: Path) -> None:
    from_file = dry_run(SAMPLE, tmp_path, "file")
    from_frame = dry_run(sheet_as_text(), tmp_path, "frame")
    from_dicts = dry_run(sheet_as_text().to_dict("records"), tmp_path, "dicts")
    assert from_file[0] == from_frame[0] == from_dicts[0] and len(from_file[0]) == 21  # 22 valid, 1 skipped
    assert from_file[1] == from_frame[1] == from_dicts[1]
    assert from_frame[2]["input"] == "dataframe" and from_dicts[2]["input"] == "records"


def test_frame_values_become_the_text_a_sheet_would_show() -> None:
    frame = pd.DataFrame({"Phone": [9845012345, None], "Value": [5.0, float("nan")],
                          "When": [pd.Timestamp("2024-05-01 09:30"), pd.NaT]})
    table = open_source(frame)
    rows = [row for batch in table.batches() for row in batch]
    assert table.columns == ["Phone", "Value", "When"]
    # the all-blank second record is skipped like a blank sheet row
    assert [(row.number, row.cells) for row in rows] == [
        (2, {"Phone": "9845012345", "Value": "5", "When": "2024-05-01T09:30:00"})]


def test_records_with_different_keys_and_other_sources() -> None:
    table = open_source(iter([{"Phone": "1"}, {"Name": "Asha", "Phone": "2"}]))
    assert table.columns == ["Phone", "Name"]
    assert [row.cells for batch in table.batches() for row in batch] == [
        {"Phone": "1", "Name": ""}, {"Phone": "2", "Name": "Asha"}]
    with pytest.raises(TypeError, match="give a file path, a pandas DataFrame or an iterable of dicts"):
        open_source(42)
    with pytest.raises(importer.InputError, match="record 2 is a str, not a dict"):
        open_source([{"Phone": "1"}, "oops"])


def test_a_dataframe_imports_into_the_sandbox_and_syncs(fresh_sandbox: SandboxServer, tmp_path: Path) -> None:
    options = importer.RunOptions(base_url=fresh_sandbox.base_url, api_key=fresh_sandbox.api_key, rate=1000,
                                  report_dir=tmp_path)
    first = importer.Importer(sheet_as_text(), EXAMPLE, options).run()
    # row 22's "1.5L" is an amount; row 24's stage and the ambiguous group "Partners" are left out, not the leads
    assert first.exit_code == 1 and first.summary["succeeded"] == 18 and first.summary["invalid"] == 2
    lead = fresh_sandbox.leads()
    assert any(entry.get("first_name") == "Rahul" for entry in lead)
    sent = len(fresh_sandbox.requests())
    again = importer.Importer(sheet_as_text(), EXAMPLE, options).run()  # the same data: only the refused rows go
    assert again.summary["unchanged"] == 18 and again.summary["sent"] == 3 and again.summary["failed"] == 3
    # the catalog lists, then the three refused rows again, each read once for its before-image, then sent
    assert len(fresh_sandbox.requests()) == sent + 5 + 3 + 3


def documented_example() -> str:
    """The first Python block of docs/library.md, the page "Use it from Python"."""
    text = (ROOT / "docs" / "library.md").read_text(encoding="utf-8")
    section = text.split("# Use it from Python\n", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_documented_example_runs(tmp_path: Path) -> None:
    for folder in ("sample_data", "mappings"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    done = subprocess.run([sys.executable, "-c", documented_example()], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("1 18 reports/") and lines[1] == "21 would be sent, 2 invalid"
    summary = json.loads((tmp_path / lines[0].split()[2] / "summary.json").read_text(encoding="utf-8"))
    assert summary["input"] == "dataframe" and summary["succeeded"] == 18
