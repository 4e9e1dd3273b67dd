"""The mapping as the page writes it: YAML a person reads and the mapping loader reads back exactly.

The page reads a mapping as :func:`importer.mapping.document.read_document` does: every scalar is the text typed
(``1``, ``true`` and ``2024-01-20`` are text; only ``null`` is nothing). So text is written plain wherever it reads
back as the same text (``version: 1``, ``strict: true``), quoted only where it would read as null or cannot be
plain; written, read and written again, a mapping is the same text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from yaml.nodes import ScalarNode

_NULL = "tag:yaml.org,2002:null"


class _Dumper(yaml.SafeDumper):
    """Text written plain when YAML would read it as a number, a boolean or a date (the mapping reads text)."""


def _text(dumper: _Dumper, data: str) -> ScalarNode:
    tag = dumper.resolve(ScalarNode, data, (True, False))
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    if tag == _NULL:
        return dumper.represent_str(data)
    return dumper.represent_scalar(tag, data)


_Dumper.add_representer(str, _text)


def dump_yaml(data: Any) -> str:
    """YAML a person reads and the mapping loader reads back exactly."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)


def mapping_yaml(data: Mapping[str, Any], source_name: str) -> str:
    return f"# Mapping for {' '.join(source_name.split())}, edited on the superfone-import page.\n" + dump_yaml(
        dict(data))
