"""The decide stage of a sync: only what changed since the last confirmed sync, never a known note again."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from importer.run.rules.sync import confirmed_after, decide

PHONE = "+919845012345"
ROW = {
    "customer_phone": PHONE,
    "create_customer_if_customer_phone_not_found": True,
    "first_name": "Asha",
    "city": "Pune",
    "deal_value": 5000.0,
    "add_labels": ["Hot", "Demo"],
    "customer_note": "Call after 6",
}


def test_a_lead_seen_for_the_first_time_is_sent_whole() -> None:
    decision = decide(ROW, None)
    assert decision.verdict == "send" and decision.whole and decision.request == ROW


def test_the_same_row_again_is_unchanged() -> None:
    confirmed = confirmed_after(None, ROW)
    assert decide(ROW, confirmed, note_known=True).verdict == "unchanged"


def test_only_changed_fields_are_sent_with_the_create_flag_off() -> None:
    confirmed = confirmed_after(None, ROW)
    edited = {**ROW, "city": "Nashik", "add_labels": ["Hot", "Demo", "VIP"]}
    decision = decide(edited, confirmed, note_known=True)
    assert decision.verdict == "send" and not decision.whole
    assert decision.request == {"customer_phone": PHONE, "create_customer_if_customer_phone_not_found": False,
                                "city": "Nashik", "add_labels": ["VIP"]}


def test_a_new_note_text_is_sent_and_a_known_one_never() -> None:
    confirmed = confirmed_after(None, ROW)
    assert decide({**ROW, "customer_note": "Met at the fair"}, confirmed).request == {
        "customer_phone": PHONE, "create_customer_if_customer_phone_not_found": False,
        "customer_note": "Met at the fair"}
    assert "customer_note" not in (decide(ROW, None, note_known=True).request or {})


def test_a_field_cleared_with_null_is_a_change() -> None:
    confirmed = confirmed_after(None, ROW)
    assert decide({**ROW, "city": None}, confirmed, note_known=True).request == {
        "customer_phone": PHONE, "create_customer_if_customer_phone_not_found": False, "city": None}


def test_confirming_adds_up() -> None:
    first = confirmed_after(None, ROW)
    second = confirmed_after(first, {"customer_phone": PHONE, "city": "Nashik", "add_labels": ["VIP"]})
    assert second.fields["city"] == "Nashik" and second.fields["first_name"] == "Asha"
    assert second.added["add_labels"] == frozenset({"Hot", "Demo", "VIP"})
    assert "customer_note" not in second.fields and "customer_phone" not in second.fields


values = st.one_of(st.none(), st.text(max_size=5), st.integers(), st.lists(st.sampled_from("abc"), max_size=3))
payloads = st.dictionaries(st.sampled_from(["first_name", "city", "deal_value", "add_labels", "add_products"]),
                           values).map(lambda fields: {"customer_phone": PHONE, **fields})


@given(old=payloads, new=payloads)
def test_what_is_sent_then_confirmed_makes_the_row_unchanged(old: dict, new: dict) -> None:
    for name in ("add_labels", "add_products"):  # the mapping gives these as lists of names
        for row in (old, new):
            if name in row and not isinstance(row[name], list):
                row[name] = []
    confirmed = confirmed_after(None, old)
    decision = decide(new, confirmed)
    after = confirmed_after(confirmed, decision.request) if decision.request is not None else confirmed
    assert decide(new, after).verdict == "unchanged"
