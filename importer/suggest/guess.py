"""Guess a mapping for an unknown sheet.

Each header's field comes from :mod:`importer.suggest.headers` and is confirmed by a sample of its values; the
most phone-like column becomes customer_phone, the other phone columns add_phones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import phonenumbers

from importer.errors import ConfigError
from importer.mapping.amounts import parse_number
from importer.mapping.values import fold, is_email
from importer.models import SOURCE_TYPES, Row
from importer.phones.normalise import Phone, normalise_phone
from importer.suggest.headers import guess_header, header_words
from importer.suggest.render import GROUP_HINT, STAGE_HINT, Draft, Entry, flow, wrap

if TYPE_CHECKING:
    from importer.api.catalog import NameSet

#: Field order in the suggested YAML.
FIELD_ORDER: tuple[str, ...] = (
    "customer_phone", "add_phones", "first_name", "last_name", "email", "business_name", "website", "city",
    "address.text", "address.additional", "source", "source_type", "deal_value", "lead_stage_name",
    "lead_group_name", "add_labels", "add_products", "assignee_user_phone", "additional_info",
    "customer_note",
)  # fmt: skip
LIST_FIELDS = frozenset({"email", "add_labels", "add_products"})
MAX_MAP_VALUES = 25
_SECONDARY_WORDS = frozenset(
    {"whatsapp", "alternate", "alt", "other", "secondary", "2", "landline", "office", "work", "home",
     "business", "fax", "tel", "telephone"}
)  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    """A column and the field (or role) it probably fills."""

    column: str
    index: int
    field: str
    score: float
    how: str
    values: tuple[str, ...]

    @property
    def certain(self) -> bool:
        """An exact synonym (no comment needed to explain the guess)."""
        return self.how == "synonym" and self.score >= 1.0

    def origin(self) -> str:
        extra = {"fuzzy": " (close spelling)", "words": " (a word in it)", "values": " (its values)"}
        return f"from {self.column!r}{extra.get(self.how, '')}"


def sample_values(rows: Sequence[Row], column: str) -> tuple[str, ...]:
    """The non-blank cells of ``column`` in ``rows``, stripped."""
    return tuple(text for row in rows if (text := row.cells.get(column, "").strip()))


def share(values: Sequence[str], test: Any) -> float:
    """The share of ``values`` passing ``test`` (0 for no values)."""
    return sum(1 for value in values if test(value)) / len(values) if values else 0.0


def is_phone(value: str, region: str = "IN") -> bool:
    return isinstance(normalise_phone(value, region), Phone)


def guess_draft(columns: Sequence[str], sample: Sequence[Row], region: str = "IN",
                names: Mapping[str, NameSet] | None = None) -> Draft:
    """A :class:`Draft` for a sheet no preset recognised. ``names``: the account's titles by field
    (``lead_stage_name`` → its stages, …); a stage or group column then maps each value to the title it means."""
    candidates = find_candidates(columns, sample, region)
    draft = Draft(description="guessed from the headers", region=region)
    _phones(draft, candidates, columns, sample, region)
    by_field: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_field.setdefault(candidate.field, []).append(candidate)
    _names(draft, by_field)
    for name in FIELD_ORDER:
        found = sorted(by_field.get(name, []), key=lambda c: (-c.score, c.index))
        if name in ("customer_phone", "add_phones", "first_name") or not found:
            continue
        draft.entries.append(_entry(name, found, (names or {}).get(name)))
    if draft.entry("source_type") is None:
        draft.entries.append(Entry("source_type", {"value": "CSV_UPLOAD"},
                                   f"how the leads came in: one of {', '.join(SOURCE_TYPES)}"))
    _extras(draft, by_field)
    rank = {name: index for index, name in enumerate(FIELD_ORDER)}
    draft.entries.sort(key=lambda entry: rank.get(entry.name, len(rank)))
    return draft


def find_candidates(columns: Sequence[str], sample: Sequence[Row], region: str) -> list[Candidate]:
    """Every column whose header (or, for phones, values) says which field it fills."""
    candidates: list[Candidate] = []
    for index, column in enumerate(columns):
        if column.startswith("_"):
            continue
        values = sample_values(sample, column)
        guess = guess_header(column)
        field = _confirm(guess.field, values, region) if guess else None
        if guess and field:
            candidates.append(Candidate(column, index, field, guess.score, guess.how, values))
    if not any(c.field == "phone" for c in candidates):
        taken = {c.column for c in candidates}
        for index, column in enumerate(columns):
            values = sample_values(sample, column)
            if column not in taken and not column.startswith("_") and share(values, is_phone) >= 0.8:
                candidates.append(Candidate(column, index, "phone", 0.5, "values", values))
    return candidates


def _confirm(field: str, values: Sequence[str], region: str) -> str | None:
    """``field`` if the values do not contradict it (blank columns are trusted), a better role, or None."""
    if field in ("phone", "assignee_user_phone"):
        return field if not values or share(values, lambda v: is_phone(v, region)) >= 0.5 else None
    if field == "email":
        return field if not values or share(values, is_email) >= 0.5 else None
    if field == "deal_value":
        return field if not values or share(values, lambda v: parse_number(v) is not None) >= 0.5 else None
    if field == "owner" and values and share(values, lambda v: is_phone(v, region)) >= 0.8:
        return "assignee_user_phone"
    if field == "country":
        codes = {value.upper() for value in values}
        return "country" if codes and codes <= phonenumbers.SUPPORTED_REGIONS else None
    if field == "source_type":
        return field if values and {v.upper() for v in values} <= set(SOURCE_TYPES) else None
    return field


def _phones(draft: Draft, candidates: list[Candidate], columns: Sequence[str], sample: Sequence[Row],
            region: str) -> None:
    """customer_phone from the most phone-like column (the others as fallbacks), the rest as add_phones."""
    phones = [c for c in candidates if c.field == "phone"]
    total = max(len(sample), 1)

    def rank(c: Candidate) -> tuple[float, bool, int]:
        filled = share(c.values, lambda v: is_phone(v, region)) * len(c.values) / total
        secondary = bool(_SECONDARY_WORDS & set(header_words(c.column)))
        return (-round(filled, 1), secondary, c.index)

    phones.sort(key=rank)
    if not phones:
        usable = [column for column in columns if not column.startswith("_")]
        if not usable:
            raise ConfigError("the sheet has no column that could hold the phone")
        draft.entries.append(Entry("customer_phone", usable[0], "NO phone-like column found: set the column "
                                   "with each lead's phone", (usable[0],)))
        return
    best, rest = phones[0], phones[1:]
    filled = share(best.values, lambda v: is_phone(v, region))
    comment = f"{best.origin()}: {filled:.0%} of its sampled cells are phone numbers"
    if rest:
        spec: Any = {"columns": [c.column for c in phones]}
        comment += "; the others stand in when it is blank"
    else:
        spec = best.column
    draft.entries.append(Entry("customer_phone", spec, comment, tuple(c.column for c in phones)))
    if rest:
        draft.entries.append(Entry("add_phones", [c.column for c in rest], "extra numbers of the same lead",
                                   tuple(c.column for c in rest)))


def _names(draft: Draft, by_field: dict[str, list[Candidate]]) -> None:
    firsts = sorted(by_field.get("first_name", []), key=lambda c: (-c.score, c.index))
    fulls = sorted(by_field.get("full_name", []), key=lambda c: (-c.score, c.index))
    if firsts:
        draft.entries.append(_entry("first_name", firsts))
    elif fulls:
        best = fulls[0]
        comment = f"{best.origin()}: the whole name, split into first_name and last_name"
        draft.entries.append(Entry("full_name", best.column, comment, (best.column,)))


def _entry(name: str, found: list[Candidate], names: NameSet | None = None) -> Entry:
    """The entry for field ``name`` from its candidates (best first)."""
    best = found[0]
    chosen = found if name in LIST_FIELDS else [best]
    columns = [c.column for c in chosen]
    source = ", ".join(repr(c) for c in columns)
    comment = f"from {source}" if len(chosen) > 1 else ("" if best.certain else best.origin())
    notes = [f"also looked like {name}: {c.column!r} (left unmapped)" for c in found[1:] if c not in chosen]
    spec: Any = columns[0] if len(columns) == 1 else columns
    if name in ("add_labels", "add_products"):
        values = [value for c in chosen for value in c.values]
        separator = next((sep for sep in (";", "|", ",") if any(sep in v for v in values)), ";")
        spec = {("column" if len(columns) == 1 else "columns"): spec, "split": separator}
    elif name == "deal_value":
        spec = {"column": best.column, "type": "number"}
    elif name in ("lead_stage_name", "lead_group_name"):
        spec, comment = _named(best, STAGE_HINT if name == "lead_stage_name" else GROUP_HINT, names)
    elif name == "customer_note":
        comment = "appended to the lead's timeline every time the row is sent"
    return Entry(name, spec, comment, tuple(columns), notes)


def _named(best: Candidate, hint: str, names: NameSet | None = None) -> tuple[Any, str]:
    """A stage/group column with a map scaffold of its values (left: as in the sheet; right: to be edited); with
    the account's ``names``, a map of the values that are not a title to the closest title."""
    distinct: dict[str, str] = {}
    for value in best.values:
        distinct.setdefault(fold(value), value)
    if names is not None:
        table = {value: found for value in distinct.values() if (found := names.best(value)) not in (None, value)}
        spec = {"column": best.column, "map": table} if table else best.column
        return spec, f"{best.origin()}; values matched to the account's {names.kind.replace('-', ' ')} titles"
    if not distinct or len(distinct) > MAX_MAP_VALUES:
        return best.column, f"{best.origin()}; {hint}"
    scaffold = {value: value for value in distinct.values()}
    return {"column": best.column, "map": scaffold}, f"{best.origin()}; {hint} (edit the right-hand side)"


def _extras(draft: Draft, by_field: dict[str, list[Candidate]]) -> None:
    countries = by_field.get("country", [])
    if countries:
        draft.region_column = countries[0].column
    owners = by_field.get("owner", [])
    if owners and draft.entry("assignee_user_phone") is None:
        owner = owners[0]
        key = "email" if share(owner.values, is_email) >= 0.5 else "name"
        draft.extras += wrap(f"{owner.column!r} names the lead owner; to assign leads, list each owner's "
                             f"{key} and Superfone user phone in owners.csv (columns: {key},phone) next to "
                             "this file and enable:")
        lookup = {"column": owner.column, "lookup": {"file": "owners.csv", "key": key, "value": "phone"}}
        draft.extras.append(f"assignee_user_phone: {flow(lookup)}")
