"""The account's catalog (labels, stages, groups, products, source types) and name resolution against it.

The upsert endpoint takes names, not ids, and treats them differently: a stage or group name must match exactly one
title (unknown → 404, duplicated → 400), while unknown label and product names are silently dropped. Checking names
before sending turns those into row issues with suggestions instead of failed requests or silent data loss.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, Protocol

from importer.api.retry import Retrying
from importer.models import LIST_KINDS, SOURCE_TYPES

Verdict = Literal["ok", "unknown", "duplicated"]


class CatalogSource(Protocol):
    def list_all(self, kind: str) -> list[dict[str, Any]]: ...


def _squash(text: str) -> str:
    """Comparison key for suggestions: case, spacing, dashes and underscores ignored."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


@dataclass(frozen=True)
class NameSet:
    """The titles of one catalog kind, with how many items carry each title."""

    kind: str
    counts: dict[str, int]
    disabled: frozenset[str] = frozenset()
    _squashed: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, kind: str, titles: Iterable[str], disabled: Iterable[str] = ()) -> NameSet:
        """``disabled`` titles are not usable (the API treats them as unknown) but are named in messages."""
        counts = dict(Counter(titles))
        squashed: dict[str, list[str]] = {}
        for title in counts:
            squashed.setdefault(_squash(title), []).append(title)
        return cls(kind, counts, frozenset(disabled) - counts.keys(), squashed)

    def verdict(self, name: str) -> Verdict:
        count = self.counts.get(name, 0)
        return "ok" if count == 1 else "unknown" if count == 0 else "duplicated"

    def duplicated(self) -> list[str]:
        return sorted(title for title, count in self.counts.items() if count > 1)

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Closest titles: the same letters in another case or spacing first, then by edit distance."""
        same = [t for t in self._squashed.get(_squash(name), []) if t != name]
        folded = {title.casefold(): title for title in self.counts}
        close = difflib.get_close_matches(name.casefold(), list(folded), n=limit, cutoff=0.6)
        picks = same + [folded[c] for c in close if folded[c] not in same and folded[c] != name]
        return picks[:limit]

    def best(self, name: str) -> str | None:
        """The title ``name`` means: itself when it is one, else the closest title (as :meth:`suggest`), else
        None."""
        if name in self.counts:
            return name
        found = self.suggest(name, 1)
        return found[0] if found else None


@dataclass(frozen=True)
class Catalog:
    """Titles of everything an upsert can name. Built from the list endpoints, or from fixed data in tests."""

    labels: NameSet
    stages: NameSet
    groups: NameSet
    products: NameSet
    source_types: NameSet
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_rows(cls, rows: dict[str, list[dict[str, Any]]]) -> Catalog:
        def names(kind: str) -> NameSet:
            items = rows.get(kind, [])
            active = (str(item["title"]) for item in items if item.get("status", "ACTIVE") != "DISABLED")
            disabled = (str(item["title"]) for item in items if item.get("status", "ACTIVE") == "DISABLED")
            return NameSet.of(kind, active, disabled)

        return cls(
            labels=names("label"),
            stages=names("lead-stage"),
            groups=names("lead-group"),
            products=names("product"),
            source_types=names("source-type") if rows.get("source-type") else NameSet.of("source-type", SOURCE_TYPES),
            rows=rows,
        )

    @property
    def org_id(self) -> int | None:
        """The account's id as its list rows carry it (labels, stages, groups, products), if any row does."""
        for kind in LIST_KINDS:
            for row in self.rows.get(kind, []):
                if isinstance(row.get("org_id"), int):
                    return int(row["org_id"])
        return None

    @classmethod
    def fetch(cls, client: CatalogSource, retrying: Retrying | None = None) -> Catalog:
        """Read every page of the five list endpoints once; 429 / 5xx / connect errors are retried like sends."""
        retrying = retrying or Retrying()
        return cls.from_rows({kind: retrying.call(partial(client.list_all, kind)) for kind in LIST_KINDS})

    @classmethod
    def offline(cls) -> Catalog:
        """Only what is fixed by the system (the seven source types); names cannot be checked."""
        return cls.from_rows({})


def suggestion_text(names: list[str]) -> str:
    if not names:
        return ""
    quoted = " or ".join(f"'{n}'" for n in names)
    return f"; did you mean {quoted}?"
