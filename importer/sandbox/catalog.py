"""The account's catalogue held in memory: list endpoints (filter + paging) and the lookups upsert needs.

The API can only list the catalogue, so it never changes while the sandbox runs; it comes from the seed.
Rows are rendered once, exactly as the reference's list examples show them, sorted by id.
Upsert matches names against ACTIVE items only: a DISABLED label, product, stage or group behaves as unknown
(open question 3 of the reference; the sandbox's choice).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from importer.models import LIST_KINDS
from importer.sandbox.seed import Seed

#: List endpoint name (the last path segment) → attribute of :class:`Seed`.
LIST_ENDPOINTS: dict[str, str] = dict(
    zip(LIST_KINDS, ("labels", "lead_stages", "lead_groups", "products", "source_types"), strict=True)
)


@dataclass(frozen=True, slots=True)
class TeamUser:
    id: int
    phone: str
    first_name: str | None
    last_name: str | None
    active: bool


class Catalog:
    """Catalogue rows by endpoint, plus title/phone/id lookups for upsert and get-lead."""

    def __init__(self, seed: Seed) -> None:
        self.org_id = seed.org_id
        owner = seed.owner_user_id
        self._rows: dict[str, list[dict[str, Any]]] = {}
        for endpoint, attribute in LIST_ENDPOINTS.items():
            items = sorted(getattr(seed, attribute), key=lambda item: item.id)
            self._rows[endpoint] = [self._render(endpoint, item.model_dump(), owner) for item in items]
        self._by_id = {endpoint: {row["id"]: row for row in rows} for endpoint, rows in self._rows.items()}
        self.users_by_phone = {
            user.phone: TeamUser(user.id, user.phone, user.first_name, user.last_name, user.active)
            for user in seed.users
        }
        self.users_by_id = {user.id: user for user in self.users_by_phone.values()}

    def _render(self, endpoint: str, item: dict[str, Any], owner: int | None) -> dict[str, Any]:
        if endpoint == "source-type":
            return item
        if item.get("created_by") is None:
            item["created_by"] = owner
        if endpoint == "product":
            item["price"] = plain_number(item["price"])
        order = ROW_FIELDS[endpoint]
        return {"id": item["id"], "org_id": self.org_id, **{key: item[key] for key in order}}

    def page(self, endpoint: str, text: str | None, page: int, page_size: int) -> dict[str, Any]:
        """One page of a list endpoint, in the paging envelope's ``data`` shape."""
        rows = self._rows[endpoint]
        if text:
            needle = text.casefold()
            rows = [row for row in rows if needle in row["title"].casefold()]
        total = len(rows)
        start = (page - 1) * page_size
        return {
            "rows": rows[start : start + page_size],
            "total_pages": math.ceil(total / page_size),
            "current_page": page,
            "page_size": page_size,
            "total_items": total,
        }

    def active_by_title(self, endpoint: str, title: str) -> list[dict[str, Any]]:
        """Every ACTIVE row of ``endpoint`` whose title is exactly ``title``."""
        return [row for row in self._rows[endpoint] if row["title"] == title and row["status"] == "ACTIVE"]

    def title(self, endpoint: str, row_id: int) -> str | None:
        row = self._by_id[endpoint].get(row_id)
        return None if row is None else str(row["title"])

    def id_by_title(self, endpoint: str, title: str) -> int:
        """The id of the (first) row titled ``title``, ACTIVE or not; KeyError when none is."""
        for row in self._rows[endpoint]:
            if row["title"] == title:
                return int(row["id"])
        raise KeyError(title)

    # The *_ref methods expand an id as get-lead shows it; an id the catalogue lacks (a --db file written
    # with another seed) reads as absent rather than failing the request.

    def label_ref(self, label_id: int) -> dict[str, Any] | None:
        return _pick(self._by_id["label"].get(label_id), "id", "title", "colour", "text_colour", "status")

    def stage_ref(self, stage_id: int | None) -> dict[str, Any] | None:
        row = self._by_id["lead-stage"].get(stage_id) if stage_id is not None else None
        return _pick(row, "id", "title", "org_id", "status", "type", "position")

    def group_ref(self, group_id: int | None) -> dict[str, Any] | None:
        row = self._by_id["lead-group"].get(group_id) if group_id is not None else None
        return _pick(row, "id", "title", "org_id", "status", "type")

    def assignee_ref(self, user_id: int | None) -> dict[str, Any] | None:
        user = self.users_by_id.get(user_id) if user_id is not None else None
        if user is None:
            return None
        return {"id": user.id, "first_name": user.first_name, "last_name": user.last_name}


def _pick(row: dict[str, Any] | None, *keys: str) -> dict[str, Any] | None:
    return None if row is None else {key: row[key] for key in keys}


def plain_number(value: float | None) -> float | int | None:
    """``50000.0`` → ``50000``, as the API's JSON shows whole numbers; other values unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_STAMPS = ("created_by", "updated_by", "created_at", "updated_at")

#: Field order of each list endpoint's row after ``id`` and ``org_id`` (reference §3).
ROW_FIELDS: dict[str, tuple[str, ...]] = {
    "label": ("title", "colour", "text_colour", "status", *_STAMPS),
    "lead-stage": ("title", "status", "type", "position", "is_editable", "identifier", *_STAMPS),
    "lead-group": ("title", "status", "type", *_STAMPS),
    "product": ("title", "description", "status", "price", "currency", "link", "images", *_STAMPS),
}
