"""The ``run`` flags a job file may set, read from the run command's own parser so the two never drift.

A job's ``options:`` key is a flag's long name with ``_`` for ``-`` (``on_missing`` is ``--on-missing``); its value
is converted and checked by the flag's own ``type`` and ``choices``, as the command line would: a switch
(``--no-undo``) takes true or false, a repeatable flag (``--notify``) one value or a list.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["TRUE_WORDS", "FALSE_WORDS", "FlagError", "RunFlags"]

TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0"})


class FlagError(ValueError):
    """A value a flag does not take (the message says what it expected)."""


@dataclass(frozen=True)
class RunFlags:
    """The ``run`` parser's flags by key (``max_wait``), each with its argparse action."""

    actions: Mapping[str, argparse.Action]

    @classmethod
    def of(cls, parser: argparse.ArgumentParser) -> RunFlags:
        found: dict[str, argparse.Action] = {}
        for action in parser._actions:  # argparse keeps its actions here; there is no public accessor
            longs = [text for text in action.option_strings if text.startswith("--")]
            if longs and not isinstance(action, argparse._HelpAction):
                found[longs[0][2:].replace("-", "_")] = action
        return cls(found)

    def __contains__(self, key: object) -> bool:
        return key in self.actions

    def __iter__(self) -> Iterator[str]:
        return iter(self.actions)

    def dest(self, key: str) -> str:
        return self.actions[key].dest

    def flag(self, key: str) -> str:
        return "--" + key.replace("_", "-")

    def convert(self, key: str, value: Any, folder: Path) -> Any:
        """``value`` (plain YAML data: text, a list, None) as the flag ``key`` would parse it; relative paths
        are relative to ``folder`` (the job file's). FlagError says what was expected."""
        action = self.actions[key]
        if action.nargs == 0:  # a switch: --no-undo
            return _switch(value, bool(action.const))
        if isinstance(action, argparse._AppendAction):
            items = value if isinstance(value, list) else [value]
            return [self._one(action, item, folder) for item in items]
        return self._one(action, value, folder)

    def _one(self, action: argparse.Action, value: Any, folder: Path) -> Any:
        if value is None or isinstance(value, (list, dict)):
            raise FlagError(f"expected {'a ' + action.metavar if isinstance(action.metavar, str) else 'one value'}")
        text = str(value)
        try:
            converted = action.type(text) if callable(action.type) else text
        except (argparse.ArgumentTypeError, ValueError, TypeError) as exc:
            raise FlagError(str(exc) or f"not a valid value: {text!r}") from None
        if action.choices is not None and converted not in action.choices:
            raise FlagError(f"expected one of {', '.join(map(str, action.choices))}, got {text!r}")
        if isinstance(converted, Path) and not converted.is_absolute():
            converted = folder / converted.expanduser()
        return converted


def _switch(value: Any, when_set: bool) -> bool:
    text = str(value).strip().lower() if isinstance(value, str) else None
    if text in TRUE_WORDS:
        return when_set
    if text in FALSE_WORDS:
        return not when_set
    raise FlagError("expected true or false")
