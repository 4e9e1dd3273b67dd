"""The state of the account a run writes to, as the run opens it: located (:mod:`.home`), opened, and with what an
earlier version kept in the run's report folder merged in (:mod:`.merge`).

Every kind of run goes through here: a real run, a dry run or plan that says what a sync would send, ``apply``,
``undo``, ``history``, the page and the library. So "unchanged" and "already delivered" are decided from one
ledger per account, whatever the working folder.
"""

from __future__ import annotations

from pathlib import Path

from importer.run.stores.home import StateLocation, locate
from importer.run.stores.merge import merge_state
from importer.run.stores.state import SyncState

__all__ = ["LEGACY_NAME", "AccountState", "legacy_states"]

#: The state's name in a report folder, where versions before the per-account home kept it.
LEGACY_NAME = "state.sqlite"


def legacy_states(report_dir: Path) -> list[Path]:
    """Where earlier versions kept a state for runs reporting into ``report_dir`` (the page's work folder's
    ``reports`` included: it is the page's report folder)."""
    found = report_dir / LEGACY_NAME
    return [found] if found.is_file() else []


class AccountState:
    """``with AccountState(state, account, report_dir) as opened:`` the account's :class:`SyncState`
    (``opened.state``), and the lines saying what was merged into it (``opened.merged``)."""

    def __init__(self, state: str | Path | None, account: str, report_dir: Path) -> None:
        self.location: StateLocation = locate(state, account)
        self.account = account
        self.report_dir = report_dir
        self.merged: list[str] = []
        self._state: SyncState | None = None

    def exists(self) -> bool:
        """A run that does not write reads a state only where one was written (here, or by an earlier version)."""
        return self.location.exists() or bool(legacy_states(self.report_dir))

    @property
    def state(self) -> SyncState:
        assert self._state is not None, "open the AccountState first"
        return self._state

    def open(self) -> SyncState:
        self._state = SyncState(self.location)
        try:
            for source in legacy_states(self.report_dir):
                merged = merge_state(self._state, source, self.account)
                if merged is not None and merged.anything:
                    self.merged.append(merged.line())
        except BaseException:
            self._state.close()
            raise
        return self._state

    def close(self) -> None:
        if self._state is not None:
            self._state.close()

    def __enter__(self) -> AccountState:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
