"""Phone numbers: E.164 checks (shared with the sandbox) and normalisation of what people type."""

from __future__ import annotations

import re

import phonenumbers

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def is_e164(value: object) -> bool:
    """True when ``value`` is a string in strict E.164 form (``+`` and digits) and a valid number."""
    if not isinstance(value, str) or not _E164.match(value):
        return False
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)
