"""``full_name``: one name cell split into first_name and last_name.

    split_full_name("Arjun Lakshmi Rao")   → ("Arjun", "Lakshmi Rao")    the first word, then the rest
    split_full_name("Rao, Arjun")          → ("Arjun", "Rao")            "last, first"
    split_full_name("Dr. Meena")           → ("Meena", "")               one word: first_name only
    split_full_name("SMT Lakshmi Iyer")    → ("Lakshmi", "Iyer")         a leading honorific is dropped

"Rao, Arjun Kumar" reads as "Arjun Kumar Rao" (Arjun / Kumar Rao), the same lead whichever way it was written.
Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from importer.mapping.plans import ScalarPlan
from importer.models import Issue

#: Titles dropped from the front of a name, with or without a dot, in any case (never when nothing follows).
HONORIFICS = ("Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Shri", "Smt")
_HONORIFIC = re.compile(r"(?:" + "|".join(HONORIFICS) + r")(?:\.\s*|\s+)(?=\S)", re.IGNORECASE)


def split_full_name(text: str) -> tuple[str, str]:
    """(first_name, last_name) of a full name; either may be "" (both for a blank one)."""
    name = " ".join(text.split())
    if "," in name:
        last, _, given = name.partition(",")
        given = _without_honorific(" ".join(given.replace(",", " ").split()))
        name = f"{given} {_without_honorific(last.strip())}".strip()
    name = _without_honorific(name)
    first, _, rest = name.partition(" ")
    return first, rest


def _without_honorific(name: str) -> str:
    while match := _HONORIFIC.match(name):
        name = name[match.end() :]
    return name


class NamePlan(ScalarPlan):
    """``full_name``: read like any text field (column, columns or template; map, lookup, default), then split
    into ``first_name`` and ``last_name``; a part that comes out empty is left out of the request."""

    __slots__ = ()

    def fill(self, cells: Mapping[str, str], out: dict[str, Any], issues: list[Issue], number: int) -> None:
        found: dict[str, Any] = {}
        super().fill(cells, found, issues, number)
        text = found.get(self.key)
        if not text:
            return
        first, last = split_full_name(text)
        if first:
            out["first_name"] = first
        if last:
            out["last_name"] = last
