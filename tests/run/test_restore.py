"""The pure rules of undoing one lead: field by field, labels, the assignee, created and gone leads."""

from __future__ import annotations

from typing import Any

from importer.report.before import BeforeImage
from importer.run.rules.restore import undo_lead

PHONE = "+919000000002"


def lead(**values: Any) -> dict[str, Any]:
    labels = [{"title": title} for title in values.pop("labels", [])]
    return {"id": 7, "phones": [{"phone": PHONE}], "labels": labels, **values}


def image(sent: dict[str, Any], before: dict[str, Any], existed: bool | None = True) -> BeforeImage:
    return BeforeImage(3, PHONE, 7 if existed else None, existed, before, sent, "succeeded")


def outcomes(undo: Any) -> list[tuple[str, str]]:
    return [(line.what, line.outcome) for line in undo.lines]


def test_each_field_is_restored_only_where_the_lead_holds_what_the_run_wrote() -> None:
    undo = undo_lead(image({"city": "Mumbai", "first_name": "B", "deal_value": 5, "email": ["a@x.in"]},
                           {"city": "Pune", "first_name": "A", "deal_value": None, "email": None}),
                     lead(city="Mumbai", first_name="Z", deal_value=5.0, email=["A@X.IN"]))
    assert outcomes(undo) == [("city", "restored"), ("first_name", "edited-since"), ("deal_value", "restored"),
                              ("email", "restored")]
    assert undo.requests == ({"customer_phone": PHONE, "create_customer_if_customer_phone_not_found": False,
                              "city": "Pune", "deal_value": None, "email": None},)
    edited = undo.lines[1]
    assert (edited.run_wrote, edited.now, edited.before) == ("B", "Z", "A")


def test_a_lead_already_as_before_needs_no_request() -> None:
    undo = undo_lead(image({"city": "Mumbai"}, {"city": "Pune"}), lead(city="Pune"))
    assert outcomes(undo) == [("city", "already")] and undo.requests == ()


def test_labels_added_are_removed_and_labels_removed_are_added_back_in_two_requests() -> None:
    undo = undo_lead(image({"add_labels": ["Hot", "VIP"], "remove_labels": ["Cold", "Warm"]}, {}),
                     lead(labels=["Hot", "Warm"]))
    assert outcomes(undo) == [("labels", "label-removed"), ("labels", "label-gone"), ("labels", "label-added-back"),
                              ("labels", "already")]
    base = {"customer_phone": PHONE, "create_customer_if_customer_phone_not_found": False}
    assert undo.requests == ({**base, "add_labels": ["Cold"]}, {"customer_phone": PHONE, "remove_labels": ["Hot"]})


def test_the_assignee_goes_back_to_no_one_but_a_previous_person_cannot_be_named() -> None:
    ravi = {"id": 678, "first_name": "Ravi", "last_name": "Patel"}
    priya = {"id": 679, "first_name": "Priya", "last_name": "Sharma"}
    sent = {"assignee_user_phone": "+919876543210"}
    assert undo_lead(image(sent, {"assignee_user_phone": None}), lead(assignee_user=ravi)).requests[0][
        "assignee_user_phone"] is None
    kept = undo_lead(image(sent, {"assignee_user_phone": priya}), lead(assignee_user=ravi))
    assert outcomes(kept) == [("assignee_user_phone", "not-restorable")] and kept.requests == ()
    assert kept.lines[0].before == "Priya Sharma"
    unassigned = undo_lead(image(sent, {"assignee_user_phone": None}), lead(assignee_user=None))
    assert outcomes(unassigned) == [("assignee_user_phone", "already")]
    assert outcomes(undo_lead(image(sent, {"assignee_user_phone": priya}), lead(assignee_user=None))) == [
        ("assignee_user_phone", "edited-since")]


def test_created_gone_and_not_removable() -> None:
    created = undo_lead(image({"first_name": "N", "customer_note": True, "add_phones": ["+919000000009"]}, {},
                              existed=False), lead(), label_created="Do Not Call")
    assert outcomes(created) == [("lead", "created"), ("labels", "labelled"), ("customer_note", "not-removable"),
                                 ("add_phones", "not-removable")]
    assert created.requests[0]["add_labels"] == ["Do Not Call"]
    gone = undo_lead(image({"city": "X"}, {"city": None}), None)
    assert outcomes(gone) == [("lead", "gone")] and gone.requests == ()
    other = undo_lead(image({"city": "X"}, {"city": None}), {**lead(), "id": 99})
    assert outcomes(other) == [("lead", "gone")]


def test_an_address_goes_back_key_by_key() -> None:
    sent = {"address": {"text": "12 Marina Road"}}
    undo = undo_lead(image(sent, {"address": None}),
                     lead(address={"text": "12 Marina Road", "additional": "Floor 2", "initials": None,
                                   "latitude": None, "longitude": None}))
    assert outcomes(undo) == [("address", "restored")]
    assert undo.requests[0]["address"] == {"text": None}  # "Floor 2" was not the run's: it stays
