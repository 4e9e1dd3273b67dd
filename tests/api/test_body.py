"""The one encoder of request bodies writes what the standard library writes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.api.body import request_body


def _stdlib(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_text = st.text(st.characters(exclude_categories=("Cs",)))
_floats = st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x == 0 or abs(x) >= 1e-4)
_scalars = st.none() | st.booleans() | st.integers() | _floats | _text
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
                       max_leaves=12)


@given(st.dictionaries(_text, _values, max_size=8))
def test_same_text_as_the_standard_library(payload: dict[str, Any]) -> None:
    assert request_body(payload) == _stdlib(payload)


def test_a_typical_payload() -> None:
    payload = {"customer_phone": "+919876543210", "first_name": "Zoë \u2028 \"Ravi\"\t\x01", "deal_value": 150000,
               "add_labels": ["Hot", "VIP"], "amount": 1200.5, "create_customer_if_customer_phone_not_found": True,
               "email": None}
    assert request_body(payload) == _stdlib(payload)


def test_numbers_beyond_64_bits_are_written_as_the_standard_library_writes_them() -> None:
    assert request_body({"n": 2**70, "m": -(2**64)}) == b'{"n":1180591620717411303424,"m":-18446744073709551616}'


def test_text_that_is_not_unicode_is_refused() -> None:
    with pytest.raises(UnicodeEncodeError):
        request_body({"first_name": "\ud800"})


def test_tiny_floats_are_the_same_number() -> None:
    assert json.loads(request_body({"x": 1e-05})) == {"x": 1e-05}
