"""The mapping as a form: each API field ← a column (or columns, a constant, a template) with its transform.

Pure: mapping data (as :func:`importer.mapping.document.read_document` reads a file) → :class:`FieldRow` s for the
page, and the posted form + the saved data → new mapping data → YAML. What the form does not show (a ``lookup``,
a ``policy``, ``tasks``, a ``description`` …) is kept as the saved mapping had it; a field whose shape the form
cannot show (a list constant, a map to numbers) is shown as its YAML, kept as is, and edited in the YAML view.
The mapping loader stays the only judge of what is valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

SOURCES = ("column", "columns", "value", "template")
#: The transform keys the form edits; any other key of a field is kept as it is.
OPTIONS = ("type", "split", "default", "map", "strict")
TYPES = ("", "string", "number", "phone", "email", "bool")
#: A blank row is offered under the others, to add a field.
NEW_ROW = "new"


@dataclass
class FieldRow:
    """One API field as the form shows it. ``editable`` False: shown as ``yaml`` and kept as is."""

    name: str
    source: str = "column"
    column: str = ""
    columns: list[str] = field(default_factory=list)
    text: str = ""
    type: str = ""
    split: str = ""
    default: str = ""
    map_text: str = ""
    strict: bool = False
    kept: list[str] = field(default_factory=list)
    editable: bool = True
    yaml: str = ""


def form_rows(data: Mapping[str, Any]) -> list[FieldRow]:
    """The rows of the form for a mapping's data (``fields:`` in file order), then a blank row to add one."""
    fields = data.get("fields") if isinstance(data.get("fields"), dict) else {}
    rows = [field_row(str(name), spec) for name, spec in (fields or {}).items()]
    return [*rows, FieldRow(name="")]


def field_row(name: str, spec: Any) -> FieldRow:
    if isinstance(spec, str):
        return FieldRow(name, "column", column=spec)
    if isinstance(spec, list) and all(isinstance(item, str) for item in spec):
        return FieldRow(name, "columns", columns=list(spec))
    if not isinstance(spec, dict) or not _fits(spec):
        return FieldRow(name, editable=False, yaml=dump_yaml({name: spec}).strip())
    source = next((key for key in SOURCES if key in spec), "column")
    value = spec.get(source)
    row = FieldRow(name, source, kept=[key for key in spec if key not in SOURCES and key not in OPTIONS])
    if source == "column":
        row.column = value or ""
    elif source == "columns":
        row.columns = list(value or [])
    else:
        row.text = "" if value is None else str(value)
    row.type, row.split, row.default = spec.get("type") or "", spec.get("split") or "", spec.get("default") or ""
    row.map_text = map_text(spec.get("map") or {})
    row.strict = str(spec.get("strict", "")).lower() == "true"
    return row


def _fits(spec: dict[str, Any]) -> bool:
    """Whether the form can show ``spec`` without losing anything."""
    if sum(key in spec for key in SOURCES) != 1:
        return False
    if "value" in spec and not isinstance(spec["value"], str):
        return False
    if "columns" in spec and not (isinstance(spec["columns"], list)
                                  and all(isinstance(c, str) for c in spec["columns"])):
        return False
    for key in ("column", "template", "type", "split", "default"):
        if key in spec and not isinstance(spec[key], str):
            return False
    if spec.get("type", "") not in TYPES:
        return False
    table = spec.get("map")
    if table is not None and not (isinstance(table, dict) and all(
            isinstance(k, str) and "=" not in k and "\n" not in k and (v is None or isinstance(v, str))
            for k, v in table.items())):
        return False
    return True


def map_text(table: Mapping[str, str | None]) -> str:
    """A ``map`` as lines ``cell value = replacement`` (nothing after ``=``: null, the field is cleared)."""
    return "\n".join(f"{key} = {'' if value is None else value}" for key, value in table.items())


def parse_map(text: str) -> dict[str, str | None]:
    """Lines ``cell value = replacement`` → a ``map`` (blank lines ignored; an empty replacement is null)."""
    table: dict[str, str | None] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, _, value = line.partition("=")
        table[key.strip()] = value.strip() or None
    return table


def mapping_from_form(form: Mapping[str, Any], saved: Mapping[str, Any]) -> dict[str, Any]:
    """New mapping data from the posted form, keeping what the form does not show from ``saved``.

    ``form`` maps a name to its value, or to a list for the multiple select ``columns-N``.
    """
    data: dict[str, Any] = {key: value for key, value in saved.items() if key not in ("version", "defaults",
                                                                                       "fields")}
    data = {"version": 1, **data, "defaults": _defaults(form, saved.get("defaults"))}
    saved_fields = saved.get("fields") if isinstance(saved.get("fields"), dict) else {}
    fields: dict[str, Any] = {}
    for index in range(int(_text(form, "rows") or 0)):
        name = _text(form, f"field-{index}").strip()
        if not name or _text(form, f"remove-{index}"):
            continue
        before = (saved_fields or {}).get(_text(form, f"orig-{index}"))
        fields[name] = before if _text(form, f"keep-{index}") else _spec(form, index, before)
    data["fields"] = fields
    return {key: data[key] for key in ("version", *[k for k in data if k != "version"])}


def _defaults(form: Mapping[str, Any], saved: Any) -> dict[str, Any]:
    defaults = dict(saved) if isinstance(saved, dict) else {}
    defaults["region"] = _text(form, "region").strip().upper() or "IN"
    defaults["create_if_missing"] = bool(_text(form, "create_if_missing"))
    region_column = _text(form, "region_column").strip()
    if region_column:
        defaults["region_column"] = region_column
    else:
        defaults.pop("region_column", None)
    return defaults


def _spec(form: Mapping[str, Any], index: int, before: Any) -> Any:
    source = _text(form, f"source-{index}")
    source = source if source in SOURCES else "column"
    spec: dict[str, Any] = {}
    if isinstance(before, dict):  # keys the form does not edit (lookup, policy, …) stay
        spec = {key: value for key, value in before.items() if key not in SOURCES and key not in OPTIONS}
    if source == "column":
        spec["column"] = _text(form, f"column-{index}")
    elif source == "columns":
        chosen = form.get(f"columns-{index}") or []
        spec["columns"] = [chosen] if isinstance(chosen, str) else list(chosen)
    else:
        spec[source] = _text(form, f"text-{index}")
    for key in ("type", "split", "default"):
        value = _text(form, f"{key}-{index}")
        if value:
            spec[key] = value
    table = parse_map(_text(form, f"map-{index}"))
    if table:
        spec["map"] = table
    if _text(form, f"strict-{index}"):
        spec["strict"] = True
    return _short(spec)


def _short(spec: dict[str, Any]) -> Any:
    """``{column: X}`` is written ``X``, ``{columns: [A, B]}`` ``[A, B]``, as people write them."""
    if list(spec) == ["column"]:
        return spec["column"]
    if list(spec) == ["columns"]:
        return spec["columns"]
    return spec


def _text(form: Mapping[str, Any], key: str) -> str:
    value = form.get(key, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value)


def dump_yaml(data: Any) -> str:
    """YAML a person reads and the mapping loader reads back exactly (text that looks like a number is quoted)."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)


def mapping_yaml(data: Mapping[str, Any], source_name: str) -> str:
    return f"# Mapping for {' '.join(source_name.split())}, edited on the superfone-import page.\n" + dump_yaml(
        dict(data))
