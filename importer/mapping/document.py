"""Read a mapping file into plain data, remembering the line of every key so errors can point at it.

YAML is composed with PyYAML's SafeLoader (no object construction, ever) and turned into plain data by hand:
mappings, lists, text and ``None``. Scalars stay the text that was typed (``007`` stays "007", ``yes``
stays "yes"), so column names, map keys and defaults mean exactly what the file says; pydantic converts the
few typed keys (``version``, ``strict``, ``create_if_missing``) afterwards.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from importer.errors import ConfigError

KeyPath = tuple[str | int, ...]

_NULL_TAG = "tag:yaml.org,2002:null"
_TEXT_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "timestamp"))
_KEY_TAGS = _TEXT_TAGS | {_NULL_TAG}  # a key is the text typed: ``null: x`` maps the cell text "null"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
_MAX_DEPTH = 40
#: Values a mapping may hold once aliases are expanded; far above any real mapping, far below a YAML alias bomb.
_MAX_VALUES = 250_000


def format_path(path: KeyPath) -> str:
    """``("fields", "add_phones", 1)`` → ``fields.add_phones[1]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``name`` most likely meant: same text ignoring case and spaces first, then difflib."""
    options = list(candidates)
    folded = {_fold(option): option for option in reversed(options)}
    if _fold(name) in folded:
        return folded[_fold(name)]
    close = difflib.get_close_matches(_fold(name), list(folded), n=1, cutoff=0.6)
    return folded[close[0]] if close else None


def _fold(text: str) -> str:
    return "".join(text.split()).replace("_", "").replace("-", "").casefold()


class Document:
    """Plain data of a mapping file and the line of each key path, for ``file:12: fields.x: …`` messages."""

    def __init__(self, path: Path, data: Any, lines: dict[KeyPath, int], prefix: KeyPath = ()) -> None:
        self.path = path
        self.data = data
        self.lines = lines
        #: Where ``data`` sits in the file: ``("mapping",)`` for a mapping written inside a job file.
        self.prefix = prefix

    def part(self, key: str) -> Document:
        """The document of the value under ``key`` (a mapping written inline in a job file): its errors still name
        this file, the line and the whole key path."""
        return Document(self.path, self.data[key], self.lines, (*self.prefix, key))

    def line_of(self, path: KeyPath) -> int:
        """Line of ``path``, or of its nearest ancestor that is in the file (1 for the top level)."""
        path = (*self.prefix, *path)
        for end in range(len(path), 0, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 1

    def written(self, path: KeyPath) -> KeyPath:
        """The key path as the file spells it: ``fields.x.column`` is ``fields.x`` when x is a column name,
        ``fields.x.columns[1]`` is ``fields.x[1]`` when x is a plain list of columns."""
        if len(path) >= 3 and path[0] == "fields" and path[2] in ("column", "columns"):
            fields = self.data.get("fields")
            entry = fields.get(path[1]) if isinstance(fields, dict) else None
            shape = str if path[2] == "column" else list
            if isinstance(entry, shape):
                return path[:2] + path[3:]
        if len(path) >= 4 and path[0] == "tasks" and path[3] in ("column", "columns"):  # tasks[0].due: Column
            tasks, index = self.data.get("tasks"), path[1]
            task = tasks[index] if isinstance(tasks, list) and isinstance(index, int) and index < len(tasks) else None
            entry = task.get(path[2]) if isinstance(task, dict) else None
            if isinstance(entry, str if path[3] == "column" else list):
                return path[:3] + path[4:]
        return path

    def error(self, path: KeyPath, message: str) -> ConfigError:
        path = self.written(path)
        return ConfigError(f"{self.path}:{self.line_of(path)}: {format_path((*self.prefix, *path))}: {message}")


def read_document(path: Path, what: str = "mapping file", expected: str = "version, defaults and fields") -> Document:
    """Parse the YAML file at ``path`` (a ``what``: a mapping file, a job file); any problem is a one-line
    :class:`ConfigError`."""
    text = _read_text(path, what)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = str(exc.problem or exc.context or "invalid YAML")
        if exc.context and problem.startswith("but "):
            problem = f"{exc.context}, {problem}"
        problem = " ".join(problem.split())
        raise ConfigError(f"{where}: YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: YAML syntax error: {' '.join(str(exc).split())}") from None
    if root is None:
        raise ConfigError(f"{path}: the {what} is empty; expected {expected}")
    if not isinstance(root, MappingNode):
        raise ConfigError(f"{path}:{root.start_mark.line + 1}: expected a mapping with {expected} at the top level")
    builder = _Builder(path)
    data = builder.build(root, (), 0)
    return Document(path, data, builder.lines)


def _read_text(path: Path, what: str) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, expected a {what} (.yaml)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: the {what} is not UTF-8 text (bad byte at offset {exc.start})") from None


def _unsupported(tag: str) -> str:
    return f"unsupported YAML tag {_short(tag)}; only plain values, lists and mappings are allowed"


def _short(tag: str) -> str:
    """``tag:yaml.org,2002:python/object`` → ``!!python/object`` (as it was written)."""
    return tag.replace("tag:yaml.org,2002:", "!!", 1)


class _Builder:
    """Turns composed YAML nodes into plain data, recording the line of every key and list item."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: dict[KeyPath, int] = {}
        self.values = 0

    def _error(self, node: Node, path: KeyPath, message: str) -> ConfigError:
        return ConfigError(f"{self.path}:{node.start_mark.line + 1}: {format_path(path)}: {message}")

    def build(self, node: Node, path: KeyPath, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise self._error(node, path, "nested too deeply (a recursive YAML alias?)")
        self.values += 1
        if self.values > _MAX_VALUES:
            raise self._error(node, path, f"more than {_MAX_VALUES:,} values (YAML aliases repeating each other?)")
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if isinstance(node, SequenceNode):
            if node.tag != _SEQ_TAG:
                raise self._error(
                    node,
                    path,
                    _unsupported(node.tag),
                )
            items = []
            for index, child in enumerate(node.value):
                self.lines[(*path, index)] = child.start_mark.line + 1
                items.append(self.build(child, (*path, index), depth + 1))
            return items
        if isinstance(node, MappingNode) and node.tag == _MAP_TAG:
            return self._mapping(node, path, depth)
        raise self._error(
            node,
            path,
            _unsupported(node.tag),
        )

    def _scalar(self, node: ScalarNode, path: KeyPath) -> str | None:
        if node.tag == _NULL_TAG:
            return None
        if node.tag in _TEXT_TAGS:
            return str(node.value)
        raise self._error(
            node,
            path,
            _unsupported(node.tag),
        )

    def _mapping(self, node: MappingNode, path: KeyPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag not in _KEY_TAGS:
                what = (
                    "a merge key (<<)" if key_node.tag.endswith(":merge") else f"a {_short(key_node.tag)} key"
                )
                raise self._error(key_node, path, f"unsupported key: {what}; keys must be plain text")
            key = str(key_node.value)
            key_path = (*path, key)
            if key in result:
                first = self.lines[key_path]
                raise self._error(key_node, key_path, f"duplicate key (first given on line {first})")
            self.lines[key_path] = key_node.start_mark.line + 1
            result[key] = self.build(value_node, key_path, depth + 1)
        return result
