"""``superfone-import catalog``: the account's labels, stages, groups, products and source types, for people
(aligned text) or programs (one JSON object).

Each section is sorted the way the dashboard shows it: stages by pipeline position, source types by id, the
rest by title. Titles that several items share are flagged (an upsert naming a duplicated stage or group
fails with 400), and so are DISABLED items (upserts ignore or refuse them).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from importer.api.catalog import Catalog, NameSet
from importer.api.client import SuperfoneClient
from importer.errors import ConfigError

__all__ = ["DUPLICATED_FLAG", "SECTIONS", "catalog_document", "catalog_json", "catalog_text", "fetch_catalog"]

DUPLICATED_FLAG = "DUPLICATED: upserts naming it fail"
#: Labels and products: the API does not say what a duplicated title does (the sandbox attaches all of them).
SHARED_FLAG = "DUPLICATED: several items share this title"
DISABLED_FLAG = "DISABLED"

#: (JSON key, heading, list kind, fields shown per item)
SECTIONS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("labels", "Labels", "label", ("id", "title", "status", "colour", "text_colour")),
    ("lead_stages", "Lead stages", "lead-stage", ("id", "title", "type", "position", "status")),
    ("lead_groups", "Lead groups", "lead-group", ("id", "title", "type", "status")),
    ("products", "Products", "product", ("id", "title", "price", "currency", "status")),
    ("source_types", "Source types", "source-type", ("id", "title")),
)


def fetch_catalog(base_url: str, api_key: str | None) -> Catalog:
    """Read the account's catalog (every page of the five lists). ConfigError when there is no key."""
    if not api_key:
        raise ConfigError("SF_API_KEY is not set: reading the catalog needs the account's API key "
                          "(or use --sandbox to see the local sandbox's)")
    with SuperfoneClient(base_url, api_key) as client:
        return Catalog.fetch(client)


def _title_key(item: dict[str, Any]) -> tuple[str, str, int]:
    title = str(item.get("title", ""))
    return title.casefold(), title, _int(item.get("id"))


def _position_key(item: dict[str, Any]) -> tuple[int, float, tuple[str, str, int]]:
    position = item.get("position")
    if isinstance(position, int | float) and not isinstance(position, bool):
        return 0, float(position), _title_key(item)
    return 1, 0.0, _title_key(item)


def _id_key(item: dict[str, Any]) -> tuple[int, tuple[str, str, int]]:
    return _int(item.get("id")), _title_key(item)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


_ORDER: dict[str, Callable[[dict[str, Any]], Any]] = {
    "lead-stage": _position_key,
    "source-type": _id_key,
}


def _names(catalog: Catalog, kind: str) -> NameSet:
    return {
        "label": catalog.labels, "lead-stage": catalog.stages, "lead-group": catalog.groups,
        "product": catalog.products, "source-type": catalog.source_types,
    }[kind]


def _items(catalog: Catalog, kind: str) -> list[dict[str, Any]]:
    """The list's rows in display order (source types: the seven documented ones, ids 1–7, if none came)."""
    rows = catalog.rows.get(kind)
    if not rows and kind == "source-type":
        rows = [{"id": n, "title": title} for n, title in enumerate(catalog.source_types.counts, start=1)]
    return sorted(rows or [], key=_ORDER.get(kind, _title_key))


def catalog_document(catalog: Catalog) -> dict[str, Any]:
    """``{labels: [...], lead_stages: [...], ..., duplicated: {labels: [...], ...}}``."""
    document: dict[str, Any] = {}
    for key, _, kind, fields in SECTIONS:
        document[key] = [{name: item.get(name) for name in fields} for item in _items(catalog, kind)]
    document["duplicated"] = {key: _names(catalog, kind).duplicated() for key, _, kind, _ in SECTIONS[:4]}
    return document


def catalog_json(catalog: Catalog) -> str:
    return json.dumps(catalog_document(catalog), ensure_ascii=False, indent=2) + "\n"


def _cells(kind: str, item: dict[str, Any]) -> list[str]:
    """The text columns of one item after its title."""
    if kind == "label":
        return [f"{item.get('colour') or '-'} on {item.get('text_colour') or '-'}"]
    if kind == "lead-stage":
        return [str(item.get("type") or "-")]
    if kind == "lead-group":
        return [str(item.get("type") or "-")]
    if kind == "product":
        return [f"{_amount(item.get('price'))} {item.get('currency') or ''}".strip()]
    return []


def _amount(price: Any) -> str:
    if isinstance(price, float) and price.is_integer():
        return str(int(price))
    return "-" if price is None else str(price)


def _flags(kind: str, item: dict[str, Any], duplicated: set[str]) -> list[str]:
    flags = []
    if str(item.get("status") or "ACTIVE").upper() == "DISABLED":
        flags.append(DISABLED_FLAG)
    if item.get("title") in duplicated:
        flags.append(DUPLICATED_FLAG if kind in ("lead-stage", "lead-group") else SHARED_FLAG)
    return flags


def _section(catalog: Catalog, heading: str, kind: str) -> list[str]:
    items = _items(catalog, kind)
    duplicated = set(_names(catalog, kind).duplicated()) if kind != "source-type" else set()
    rows = []
    for item in items:
        lead = [f"{item['position']:>3}" if kind == "lead-stage" and item.get("position") is not None else ""]
        rows.append([*lead, str(item.get("title", "")), *_cells(kind, item), "  ".join(
            _flags(kind, item, duplicated))])
    lines = [f"{heading} ({len(items)})"]
    if not rows:
        return [*lines, "  (none)"]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True) if width]
        lines.append(("  " + "  ".join(cells)).rstrip())
    return lines


def catalog_text(catalog: Catalog) -> str:
    """The catalog as aligned text, one section per list, flags at the end of each line."""
    blocks = ["\n".join(_section(catalog, heading, kind)) for _, heading, kind, _ in SECTIONS]
    return "\n\n".join(blocks) + "\n"
