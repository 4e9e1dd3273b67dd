"""Write a suggested mapping as commented YAML (contract v1) that the mapping loader reads back as is."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

_WIDTH = 110
_FLOW_UNSAFE = frozenset(",[]{}#:\"'\n")
STAGE_HINT = "map your stage names to the account's stages: run `superfone-import catalog`"
GROUP_HINT = "map your group names to the account's lead groups: run `superfone-import catalog`"


@dataclass
class Entry:
    """One line (or block) under ``fields:``: the API field, its spec, and a comment on where it came from."""

    name: str
    spec: Any
    comment: str = ""
    columns: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)  # comment lines written above the entry


@dataclass
class Draft:
    """A mapping being suggested: header comments, defaults, field entries and commented-out extras."""

    title: list[str] = field(default_factory=list)
    description: str = ""
    region: str = "IN"
    region_column: str | None = None
    create_if_missing: bool = True
    timezone: str | None = None
    entries: list[Entry] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)  # items of ``tasks:``, as a preset writes them
    task_columns: set[str] = field(default_factory=set)
    extras: list[str] = field(default_factory=list)  # commented-out field lines the user may enable
    unmapped: list[str] = field(default_factory=list)

    def entry(self, name: str) -> Entry | None:
        return next((entry for entry in self.entries if entry.name == name), None)

    def mapped_columns(self) -> set[str]:
        columns = {column for entry in self.entries for column in entry.columns} | self.task_columns
        if self.region_column:
            columns.add(self.region_column)
        return columns


def flow(value: Any) -> str:
    """``value`` as one line of YAML (flow style); text is double-quoted (JSON style) unless plain is safe."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{flow(key)}: {flow(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(item) for item in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    plain = yaml.safe_dump(text, allow_unicode=True, width=2**20).removesuffix("\n...\n").strip()
    if plain == text and any(char.isalnum() for char in text) and not _FLOW_UNSAFE & set(text):
        return text
    return json.dumps(text, ensure_ascii=False)


def wrap(text: str, width: int = 104) -> list[str]:
    """``text`` cut into lines of at most ``width`` characters at spaces."""
    return _wrapped(text, "", width)


def render(draft: Draft) -> str:
    """The YAML text of ``draft``."""
    lines = [f"# {line}" if line else "#" for line in draft.title]
    lines += ["version: 1"]
    if draft.description:
        lines.append(f"description: {flow(draft.description)}")
    lines += ["defaults:", f"  region: {flow(draft.region)}  # country for numbers typed without +"]
    if draft.region_column:
        lines.append(f"  region_column: {flow(draft.region_column)}  # each row's country (ISO code)")
    lines.append(f"  create_if_missing: {'true' if draft.create_if_missing else 'false'}")
    if draft.timezone:
        lines.append(f"  timezone: {flow(draft.timezone)}  # naive dates and times are wall times here")
    lines.append("fields:")
    for entry in draft.entries:
        lines.extend(_entry_lines(entry))
    for extra in draft.extras:
        lines.append(f"  # {extra}")
    if draft.tasks:
        lines.append("tasks:")
        for task in draft.tasks:
            lines += [f"{'  - ' if index == 0 else '    '}{key}: {flow(value)}"
                      for index, (key, value) in enumerate(task.items())]
    if draft.unmapped:
        lines.append("# Columns not mapped (add them by hand if they matter):")
        lines.extend(_wrapped(", ".join(draft.unmapped), "#   "))
    return "\n".join(lines) + "\n"


def _entry_lines(entry: Entry) -> list[str]:
    lines = [f"  # {note}" for note in entry.notes]
    comment = f"  # {entry.comment}" if entry.comment else ""
    spec = entry.spec
    block = isinstance(spec, dict) and isinstance(spec.get("map"), dict)
    head = f"  {entry.name}:" if block else f"  {entry.name}: {flow(spec)}"
    if len(head) + len(comment) > _WIDTH:
        lines += [f"  # {line}" for line in wrap(entry.comment)]
        comment = ""
    if not block:
        return [*lines, head + comment]
    lines.append(head + comment)
    for key, value in spec.items():
        if key == "map":
            lines.append(f"    {key}:")
            lines.extend(f"      {flow(source)}: {flow(target)}" for source, target in value.items())
        else:
            lines.append(f"    {key}: {flow(value)}")
    return lines


def _wrapped(text: str, prefix: str, width: int = 110) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        if line and len(prefix) + len(line) + 1 + len(word) > width:
            lines.append(prefix + line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(prefix + line)
    return lines
