"""The output and misses files: appended, and what they already hold is what a second pull skips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from importer.errors import InputError
from importer.pull.output import KEY_FIELD, PullOutput, misses_path_for


def test_lines_and_misses_are_appended_and_read_back_as_done(tmp_path: Path) -> None:
    out = tmp_path / "leads.jsonl"
    assert misses_path_for(out) == tmp_path / "leads.misses.csv"
    with PullOutput(out, misses_path_for(out)) as output:
        output.write_lead("919845000000", {"FirstName": "Asha", "Phone": "9845000000"}, None)
        output.write_miss(3, "=919999999999", "no LeadSquared lead has this phone")
    with PullOutput(out, misses_path_for(out)) as output:
        assert output.pulled == {"919845000000"} and output.missed == {"=919999999999"}
        output.write_lead("919845000001", {"FirstName": "Ravi"}, None)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines == [{"FirstName": "Asha", "Phone": "9845000000", KEY_FIELD: "919845000000"},
                     {"FirstName": "Ravi", KEY_FIELD: "919845000001"}]
    misses = misses_path_for(out).read_text(encoding="utf-8").splitlines()
    assert misses == ["_row,key,reason", "3,'=919999999999,no LeadSquared lead has this phone"]  # never a formula


def test_a_line_cut_short_by_a_kill_is_dropped_and_asked_again(tmp_path: Path) -> None:
    out = tmp_path / "leads.jsonl"
    out.write_text(json.dumps({"id": "lead_a1", KEY_FIELD: "lead_a1"}) + '\n{"id": "lead_b2", "na', encoding="utf-8")
    with PullOutput(out, tmp_path / "m.csv") as output:
        assert output.done == {"lead_a1"}
        output.write_lead("lead_b2", {"id": "lead_b2"}, "lead_b2")
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == ["lead_a1", "lead_b2"]


@pytest.mark.parametrize("content", ["not json\n", '{"id": "lead_a1"}\n'])
def test_a_file_pull_did_not_write_is_refused(tmp_path: Path, content: str) -> None:
    out = tmp_path / "export.jsonl"
    out.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match="export.jsonl: line 1 .*not a file pull wrote"):
        PullOutput(out, tmp_path / "m.csv")
    assert out.read_text(encoding="utf-8") == content
