"""What every kind of run returns, the command line's and the page's runs, apply and undo alike."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from importer.run.engine.stop import REASONS

__all__ = ["RunResult"]


@dataclass
class RunResult:
    """What a run returns: its report folder, the content of its summary.json and its exit code."""

    folder: Path
    summary: dict[str, Any]
    exit_code: int

    @property
    def stopped(self) -> str | None:
        """Why the run stopped before its end (``signal``, ``quota``, ``time-limit``, ``disk-full``), or None."""
        reason = self.summary.get("stopped")
        return reason if reason in REASONS else None
