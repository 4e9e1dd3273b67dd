"""Each distinct value of a stage, group, label, product or assignee column → what it becomes in the account.

A value's choice is one of: a name of the account (``to:<name>``), :data:`KEEP` (sent as it is), :data:`EMPTY`
(left empty: the lead keeps what it has), :data:`SKIP` (the row is not imported) or :data:`CLEAR` (the lead's value
is cleared; offered only where the mapping already says so). They are written in the field's ``map``, the way the
mapping has always said it: ``Prospect: New Lead``, ``Other: ""`` (empty), ``Junk: null`` (cleared). "Don't import
the row" is a value left out of the map of a ``strict`` field: a value a strict map does not know keeps its row
from being sent (an ``unmapped-value`` error of that row), so with one such value, any value the wizard did not
list does the same.

A value the map does not mention is sent as it is; the wizard preselects the account's name it most probably
means (the catalog's own suggestion: the same letters in another case or spacing, else the closest spelling).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from importer.mapping.values import ValueMap, fold
from importer.ui.wizard.roles import WORDS, short_form, spec_columns, spec_object

if TYPE_CHECKING:
    from importer.api.catalog import Catalog, NameSet

#: Fields whose values are names of the account (the catalog's kind), or free (assignee: a user's phone).
VALUE_FIELDS: dict[str, str] = {"lead_stage_name": "stages", "lead_group_name": "groups", "add_labels": "labels",
                                "remove_labels": "labels", "add_products": "products", "assignee_user_phone": ""}
KEEP, EMPTY, SKIP, CLEAR, TO = "keep", "empty", "skip", "clear", "to:"
#: The most frequent values listed per column; the others are counted and said to be left out.
MAX_VALUES = 50
_DROP: Any = object()


@dataclass
class ValueChoice:
    """One distinct value: how many rows hold it, what the mapping does with it (``meaning``), what the wizard
    preselects (``choice``: the meaning, or the best guess for a value the map does not mention) and the
    options, ``(key, words)``."""

    value: str
    count: int
    meaning: str
    choice: str
    options: list[tuple[str, str]] = field(default_factory=list)

    @property
    def guessed(self) -> bool:
        return canonical(self.choice, self.value) != canonical(self.meaning, self.value)


@dataclass
class ValueField:
    """A field whose values are named one by one: its values (the most frequent first) and how many more."""

    field: str
    words: str
    columns: list[str]
    choices: list[ValueChoice]
    more: int = 0
    names_known: bool = False


def canonical(key: str, value: str) -> str:
    """A choice compared as what it does: the account's name equal to the value is :data:`KEEP`."""
    return KEEP if key == TO + value else key


def value_field_names(data: Mapping[str, Any]) -> list[str]:
    """The mapped fields whose values the wizard lists: those of :data:`VALUE_FIELDS` that read columns directly
    (a lookup table already names their values)."""
    fields = data.get("fields") if isinstance(data.get("fields"), dict) else {}
    return [name for name, spec in (fields or {}).items() if name in VALUE_FIELDS and spec_columns(spec)[0]
            and not (isinstance(spec, dict) and "lookup" in spec)]


def names_for(field_name: str, catalog: Catalog | None) -> NameSet | None:
    """The account's names a field's values are matched to (None: unknown, or a field of free values)."""
    kind = VALUE_FIELDS.get(field_name, "")
    return getattr(catalog, kind) if catalog is not None and kind else None


def value_field(name: str, spec: Any, counted: Sequence[tuple[str, int]], names: NameSet | None) -> ValueField:
    """The wizard's view of field ``name``: ``counted`` are its distinct values with their rows, most first."""
    shown = counted[:MAX_VALUES]
    choices = [_choice(value, count, spec, names) for value, count in shown]
    words = WORDS.get(name, name)
    return ValueField(name, words, spec_columns(spec)[1], choices, len(counted) - len(shown), names is not None)


def _choice(value: str, count: int, spec: Any, names: NameSet | None) -> ValueChoice:
    table = _table(spec)
    found = table.get(value, _DROP) if table is not None else _DROP
    meaning = _meaning(value, found, spec)
    choice = meaning
    if meaning == KEEP and names is not None:
        best = value if value in names.counts else names.best(value) if found is _DROP else None
        choice = TO + best if best else meaning
    return ValueChoice(value, count, meaning, choice, _options(value, {meaning, choice}, names))


def _meaning(value: str, found: Any, spec: Any) -> str:
    if found is None:
        return CLEAR
    if found is not _DROP:
        return EMPTY if not found else KEEP if found == value else TO + found
    strict = isinstance(spec, dict) and str(spec.get("strict", "")).lower() == "true"
    if strict:
        return SKIP if spec.get("on_invalid") != "drop" else EMPTY
    return KEEP


def _options(value: str, current: set[str], names: NameSet | None) -> list[tuple[str, str]]:
    titles = list(names.counts) if names is not None else []
    options = [(TO + title, title if names is None or names.counts[title] == 1
                else f"{title} ({names.counts[title]} {names.kind.replace('-', ' ')}s of the account have this name)")
               for title in titles]
    options += [(key, f"{key.removeprefix(TO)} (not a name of the account)" if names is not None
                 else key.removeprefix(TO)) for key in sorted(current)
                if key.startswith(TO) and key.removeprefix(TO) not in titles]
    if value not in titles:
        options.append((KEEP, f"as in the sheet: {value}"))
    options += [(EMPTY, "leave empty"), (SKIP, "don't import the row")]
    if CLEAR in current:
        options.append((CLEAR, "clear the lead's value"))
    return options


def with_choices(data: Mapping[str, Any], view: ValueField, posted: Mapping[str, str]) -> dict[str, Any]:
    """``data`` with the values of ``view.field`` chosen as ``posted`` says (value → option key; a value not
    posted keeps its preselected choice). A copy; ``data`` itself when nothing changes what the mapping does."""
    after = {c.value: canonical(str(posted.get(c.value, c.choice)), c.value) for c in view.choices}
    if all(after[c.value] == canonical(c.meaning, c.value) and not c.guessed for c in view.choices):
        return dict(data)  # a guess shown is written, taken or not, so the page shows what the mapping does
    result = copy.deepcopy(dict(data))
    spec = spec_object(result["fields"][view.field])
    table: dict[str, Any] = dict(spec["map"]) if isinstance(spec.get("map"), dict) else {}
    skip = SKIP in after.values()
    for choice in view.choices:
        key = _key_of(table, choice.value)
        target = _target(after[choice.value], choice, key is not None, skip)
        if target is _DROP:
            if key is not None:
                del table[key]
        else:
            table[key if key is not None else choice.value] = target
    if table or skip:
        spec["map"] = table
    else:
        spec.pop("map", None)
    if skip:
        spec["strict"] = True
        if spec.get("on_invalid") == "drop":
            del spec["on_invalid"]
    elif any(choice.meaning == SKIP for choice in view.choices):
        spec.pop("strict", None)
    result["fields"][view.field] = short_form(spec)
    return result


def _target(key: str, choice: ValueChoice, listed: bool, strict: bool) -> Any:
    """What the map says for a value chosen ``key`` (``_DROP``: nothing)."""
    if key.startswith(TO):
        return key.removeprefix(TO)
    if key == EMPTY:
        return ""
    if key == CLEAR:
        return None
    if key == SKIP:
        return _DROP
    # kept as it is: said in the map when a strict map must know it, or to stand against a guess
    return choice.value if strict or listed or choice.guessed else _DROP


def _key_of(table: Mapping[str, Any], value: str) -> str | None:
    if value in table:
        return value
    return next((key for key in table if fold(str(key)) == fold(value)), None)


def _table(spec: Any) -> ValueMap | None:
    table = spec.get("map") if isinstance(spec, dict) else None
    if not isinstance(table, dict):
        return None
    return ValueMap({str(key): (None if target is None else str(target)) for key, target in table.items()})
