"""The mapping as the page writes it: YAML a person reads and the mapping loader reads back exactly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml


def dump_yaml(data: Any) -> str:
    """YAML a person reads and the mapping loader reads back exactly (text that looks like a number is quoted)."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)


def mapping_yaml(data: Mapping[str, Any], source_name: str) -> str:
    return f"# Mapping for {' '.join(source_name.split())}, edited on the superfone-import page.\n" + dump_yaml(
        dict(data))
