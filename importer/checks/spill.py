"""Checked rows on disk, between the two passes of a run.

Cross-row verdicts (which of two rows with one phone is sent) are known only after the last row, so pass one
writes each row's result to a part file and pass two reads the parts back in sheet order. A part holds pickled
lists of :class:`CheckedResult`, one list per batch of rows: memory stays flat whatever the input's size.

A request is serialised to JSON once, here, where its row is checked: a dry run writes that text to
payloads.jsonl and a real run posts it as is.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from importer.models import Issue


class CheckedResult(NamedTuple):
    """One checked row. ``requests`` is the JSON text of each request to send (none: the row is invalid);
    ``phones`` every phone of the row in E.164, primary first; ``cells`` the row's cells in column order, when
    the run keeps them. A named tuple: a million of them are pickled, and tuples pickle fastest."""

    number: int
    requests: tuple[str, ...]
    phones: tuple[str, ...]
    issues: tuple[Issue, ...]
    cells: tuple[str, ...] | None


def request_json(payload: dict[str, Any]) -> str:
    """A request's body as compact JSON text, non-ASCII characters kept."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def write_part(path: str, batches: Iterable[list[CheckedResult]]) -> None:
    with open(path, "wb") as stream:
        for batch in batches:
            pickle.dump(batch, stream, protocol=pickle.HIGHEST_PROTOCOL)


def read_part(path: str) -> Iterator[CheckedResult]:
    with open(path, "rb") as stream:
        while True:
            try:
                batch: list[CheckedResult] = pickle.load(stream)
            except EOFError:
                return
            yield from batch
