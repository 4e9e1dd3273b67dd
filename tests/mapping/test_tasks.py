"""The mapping's tasks: list: compiled with the fields' machinery, drafted per row (pure), errors with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.errors import ConfigError
from importer.mapping import Mapping, load_mapping
from importer.mapping.tasks import task_type
from importer.models import Issue, Row

HEAD = "version: 1\ndefaults: {timezone: Asia/Kolkata}\nfields:\n  customer_phone: Phone\ntasks:\n"


def mapping_of(tmp_path: Path, tasks: str) -> Mapping:
    path = tmp_path / "m.yaml"
    path.write_text(HEAD + tasks, encoding="utf-8")
    return load_mapping(path)


def error_of(tmp_path: Path, tasks: str) -> str:
    with pytest.raises(ConfigError) as caught:
        mapping_of(tmp_path, tasks)
    return str(caught.value).removeprefix(f"{tmp_path / 'm.yaml'}:")


def drafts(mapping: Mapping, **cells: str) -> tuple[list[dict], list[tuple[str, str, str]]]:
    issues: list[Issue] = []
    found = mapping.task_drafts(Row(2, {key.replace("_", "-"): value for key, value in cells.items()}), issues)
    return [draft.request for draft in found], [(issue.code, issue.column, issue.value) for issue in issues]


def test_a_task_from_columns_and_a_template(tmp_path: Path) -> None:
    mapping = mapping_of(tmp_path, '  - {type: follow-up call, due: Follow-up, notify_at: Remind,\n'
                                   '     note: {template: "Call {Name}"}}\n')
    assert mapping.has_tasks
    found, issues = drafts(mapping, Phone="1", Name="Asha", Follow_up="2031-05-20 15:00", Remind="2031-05-20T14:50")
    assert found == [{"type": "FOLLOW_UP_CALL", "due_date": "2031-05-20T09:30:00Z",
                      "notify_at": "2031-05-20T09:20:00Z", "customer_note": "Call Asha"}] and issues == []
    assert drafts(mapping, Phone="1", Name="Asha", Follow_up=" ", Remind="2031-05-20T14:50") == ([], [])


def test_a_type_read_from_the_sheet(tmp_path: Path) -> None:
    mapping = mapping_of(tmp_path, "  - type: {column: Kind, map: {Visit: SITE_VISIT}}\n    due: When\n")
    assert drafts(mapping, Kind="Visit", When="2031-05-20T10:00:00Z")[0][0]["type"] == "SITE_VISIT"
    assert drafts(mapping, Kind="booking", When="2031-05-20T10:00:00Z")[0][0]["type"] == "BOOKING"
    assert drafts(mapping, Kind="Meeting", When="2031-05-20T10:00:00Z") == (
        [], [("unknown-task-type", "Kind", "Meeting")])


def test_a_due_day_is_due_at_its_due_time_in_the_mapping_s_zone(tmp_path: Path) -> None:
    mapping = mapping_of(tmp_path, "  - {type: FIRST_CALL, due: {column: Day, type: date}}\n"
                                   "  - {type: REMINDER, due: {column: Day, type: date}, due_time: '18:45'}\n")
    assert [task["due_date"] for task in drafts(mapping, Day="2027-01-04")[0]] == [
        "2027-01-04T04:30:00Z", "2027-01-04T13:15:00Z"]  # 10:00 (the default) and 18:45 in Asia/Kolkata


def test_an_unreadable_due_time_is_the_row_s_issue(tmp_path: Path) -> None:
    mapping = mapping_of(tmp_path, "  - {type: REMINDER, due: When}\n")
    found, issues = drafts(mapping, When="next Tuesday")
    assert found == [] and [code for code, _, _ in issues] == ["invalid-date"]


def test_tasks_are_part_of_the_mapping_digest(tmp_path: Path) -> None:
    first = mapping_of(tmp_path, "  - {type: REMINDER, due: When}\n").digest
    assert mapping_of(tmp_path, "  - {type: REMINDER, due: When, past_due: create}\n").digest != first


@pytest.mark.parametrize(("tasks", "expected"), [
    ("  - {type: CALL_BACK, due: When}\n", "6: tasks[0].type: unknown task type 'CALL_BACK'; did you mean "
                                          "'CALLBACK_REQUEST'?"),
    ("  - {type: REMINDER}\n", "6: tasks[0].due: required; expected a column name, or {column: Follow-up, "
                               "type: datetime}"),
    ("  - {type: REMINDER, due: {column: When, type: number}}\n",
     "6: tasks[0].due.type: a task's due is a moment: expected type: datetime, or type: date with due_time"),
    ("  - {type: REMINDER, due: When, notify_at: {column: At, type: date}}\n",
     "6: tasks[0].notify_at.type: a task's notify_at is a moment: expected type: datetime"),
    ("  - {type: REMINDER, due: When, due_time: '10:00'}\n",
     "6: tasks[0].due_time: due_time is for a due day: due: {column: …, type: date}"),
    ("  - {type: REMINDER, due: {column: When, type: date}, due_time: 25:00}\n",
     '6: tasks[0].due_time: expected a time of day such as "10:00", got \'25:00\''),
    ("  - {type: REMINDER, due: When, past_due: later}\n", "6: tasks[0].past_due: expected skip or create"),
    ("  - {type: REMINDER, due: When, when: x}\n", "6: tasks[0].when: unknown key 'when'; expected one of: type, "
                                                   "due, notify_at, note, past_due, due_time"),
    ("  - {type: REMINDER, due: {column: _row}}\n", "6: tasks[0].due.column: column '_row' starts with '_': such "
                                                    "columns are written by the importer and never mapped"),
    ("  - REMINDER\n", "6: tasks[0]: expected a task: an object with type, due and optionally notify_at, note, "
                       "past_due"),
])
def test_mapping_errors_name_the_line_and_key(tmp_path: Path, tasks: str, expected: str) -> None:
    assert error_of(tmp_path, tasks) == expected


def test_a_task_column_missing_from_the_sheet_is_named(tmp_path: Path) -> None:
    mapping = mapping_of(tmp_path, "  - {type: REMINDER, due: When}\n")
    with pytest.raises(ConfigError, match=r"m.yaml:6: tasks\[0\]\.due: column 'When' is not in leads.csv"):
        mapping.check_columns(["Phone"], "leads.csv")


def test_task_type_names() -> None:
    assert [task_type(text) for text in ("reminder", "First Call", "callback_request", "site-visit", "Call")] == [
        "REMINDER", "FIRST_CALL", "CALLBACK_REQUEST", "SITE_VISIT", None]
