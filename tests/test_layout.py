"""The layout holds: no import cycle between modules, none between packages, no module over 400 lines, and no
module named like the package it sits in."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

import importer

ROOT = Path(importer.__file__).parent
#: The facade re-exports the public API and ``python -m importer`` starts the command line: both sit above all.
ENTRY_POINTS = {"importer", "importer.__main__"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in ROOT.rglob("*.py")}


def package_of(name: str) -> str:
    return name if MODULES[name].name == "__init__.py" else name.rsplit(".", 1)[0]


def imports(name: str) -> set[str]:
    """The project's modules ``name`` imports, at any place in it (``TYPE_CHECKING`` and function bodies too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in MODULES:
            for alias in node.names:
                found.add(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in MODULES)
    return found - {name}


def graph(level) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for name in MODULES:
        if name in ENTRY_POINTS:
            continue
        for target in imports(name):
            if level(name) != level(target):
                edges[level(name)].add(level(target))
    return edges


def a_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, or None (depth-first search, colouring nodes)."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle():
    assert a_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert a_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_cycle_between_modules():
    assert a_cycle(graph(lambda name: name)) is None


def test_no_cycle_between_packages():
    """A package is the modules directly in its folder: a sub-package is a package of its own, so a parent's
    modules and its sub-packages must not import each other both ways either."""
    assert a_cycle(graph(package_of)) is None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_over_400_lines(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= 400, f"{MODULES[name]}: {lines} lines"


def test_no_name_stutters():
    stutters = [name for name in MODULES if "." in name and name.rsplit(".", 2)[-1] == name.rsplit(".", 2)[-2]]
    assert stutters == []
