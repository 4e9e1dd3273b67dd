"""before.jsonl: its one writer and reader, and a lead's values in the upsert's terms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from importer.report.before import (
    BEFORE_FILE,
    BeforeImage,
    before_line,
    is_empty,
    lead_labels,
    lead_phones,
    lead_values,
    merge_images,
    read_before_images,
    write_before_images,
)

LEAD = {
    "id": 12345,
    "first_name": "Asha",
    "last_name": "",
    "email": [],
    "city": "Pune",
    "deal_value": 50000,
    "address": {"text": "MG Road", "additional": None, "initials": None, "latitude": 12.9, "longitude": None},
    "phones": [{"phone": "+918000000001", "customer_id": 12345}, {"phone": "+918000000002", "customer_id": 12345}],
    "labels": [{"id": 17, "title": "Hot"}],
    "lead_stage": {"id": 9, "title": "New Lead"},
    "lead_group": None,
    "assignee_user": {"id": 678, "first_name": "Ravi", "last_name": "Patel"},
}


def test_a_line_is_the_agreed_json_object() -> None:
    image = BeforeImage(7, "+919812345678", 1234, True, {"city": "Pune", "lead_stage_name": None},
                        {"city": "Mumbai", "add_labels": ["Hot"], "customer_note": True}, "succeeded")
    line = before_line(image)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {
        "_row": 7, "phone": "+919812345678", "lead_id": 1234, "existed": True,
        "before": {"city": "Pune", "lead_stage_name": None},
        "sent": {"city": "Mumbai", "add_labels": ["Hot"], "customer_note": True}, "status": "succeeded"}


def test_images_round_trip_through_the_run_folder(tmp_path: Path) -> None:
    images = [
        BeforeImage(2, "+919812345678", None, False, {"first_name": None}, {"first_name": "Zoë"}, "succeeded"),
        BeforeImage(None, "+919812345679", 5, True, {"lead_stage_name": "Won"}, {"lead_stage_name": "Lost"},
                    "failed"),
        BeforeImage(9, "+919812345670", None, None, {}, {"city": "Goa"}, "in_doubt"),
    ]
    assert write_before_images(tmp_path / BEFORE_FILE, images) == 3
    assert "Zoë" in (tmp_path / BEFORE_FILE).read_text(encoding="utf-8")
    assert list(read_before_images(tmp_path)) == images


def test_an_image_from_the_sync_state_says_so_and_round_trips(tmp_path: Path) -> None:
    image = BeforeImage(4, "+919812345678", None, True, {"city": "Pune"}, {"city": "Goa"}, "succeeded",
                        from_state=True)
    assert json.loads(before_line(image))["before_from"] == "state"
    write_before_images(tmp_path / BEFORE_FILE, [image])
    assert list(read_before_images(tmp_path)) == [image]


def test_a_lead_imaged_twice_keeps_the_first_values_and_says_where_they_came_from() -> None:
    read = BeforeImage(4, "+919812345678", 7, True, {"city": "Pune"}, {"city": "Goa"})
    known = BeforeImage(4, "+919812345678", None, True, {"city": "Goa", "first_name": "Asha"},
                        {"city": "Goa", "first_name": "Zoya"}, "succeeded", from_state=True)
    merged = merge_images(read, known)
    assert (merged.before, merged.lead_id, merged.from_state) == ({"city": "Pune", "first_name": "Asha"}, 7, True)
    assert merge_images(read, BeforeImage(4, "+919812345678", None, True, {"city": "Goa"}, {"city": "Goa"},
                                          from_state=True)).from_state is False


def test_a_broken_line_is_named_by_its_number(tmp_path: Path) -> None:
    good = before_line(BeforeImage(2, "+919812345678", 1, True, {}, {}, "succeeded"))
    (tmp_path / BEFORE_FILE).write_bytes(good + b"\n" + b'{"_row": 3}\n')
    with pytest.raises(ValueError, match=r"before\.jsonl:3: not a before-image line"):
        list(read_before_images(tmp_path))


def test_a_folder_without_images_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(read_before_images(tmp_path))


def test_lead_values_name_fields_as_the_upsert_does() -> None:
    sent = {"first_name": "A", "last_name": "B", "email": ["a@x.in"], "city": "Goa", "deal_value": 1,
            "address": {"text": "X", "initials": "Y"}, "lead_stage_name": "Won", "lead_group_name": "Inbound",
            "assignee_user_phone": None, "add_labels": ["Hot"], "customer_note": True}
    assert lead_values(LEAD, sent) == {
        "first_name": "Asha", "last_name": None, "email": None, "city": "Pune", "deal_value": 50000,
        "address": {"text": "MG Road", "initials": None}, "lead_stage_name": "New Lead", "lead_group_name": None,
        "assignee_user_phone": {"id": 678, "first_name": "Ravi", "last_name": "Patel"}}


def test_no_lead_means_every_value_empty() -> None:
    assert lead_values(None, {"city": "Goa", "address": {"text": "X"}, "add_labels": ["Hot"]}) == {
        "city": None, "address": {"text": None}}


def test_emptiness() -> None:
    assert all(is_empty(value) for value in (None, "", "  ", [], {}, {"text": None, "latitude": None}))
    assert not any(is_empty(value) for value in ("x", 0, 0.0, False, ["a"], {"text": "x"}))


def test_labels_and_phones_of_a_lead() -> None:
    assert lead_labels(LEAD) == ["Hot"]
    assert lead_phones(LEAD) == ["+918000000001", "+918000000002"]
    assert lead_labels(None) == [] and lead_phones(None) == []
