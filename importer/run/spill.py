"""A temporary, append-then-replay store of checked rows between the two passes of a run.

Cross-row verdicts (which duplicate is kept) are known only after the last row, so pass one writes each row's
result here and pass two replays it in sheet order. Records are pickled a batch at a time: memory stays flat.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from typing import Generic, NamedTuple, TypeVar

from importer.checks.parallel import RowResult

T = TypeVar("T")


class Spilled(NamedTuple):
    """One row as replayed in pass two: the check result and, for real runs, the row's original cells."""

    result: RowResult
    values: tuple[str, ...] | None


class Spill(Generic[T]):
    """Records of type ``T`` written in order, then replayed in the same order."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="superfone-import-")

    def write(self, records: list[T]) -> None:
        pickle.dump(records, self._file, protocol=pickle.HIGHEST_PROTOCOL)

    def replay(self) -> Iterator[T]:
        self._file.flush()
        self._file.seek(0)
        while True:
            try:
                records: list[T] = pickle.load(self._file)
            except EOFError:
                return
            yield from records

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Spill[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
