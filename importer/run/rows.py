"""The rows of a run after the check stage: each one with all its issues and its verdict, in sheet order.

Pass one (:func:`check_rows`) maps and checks every row, spills the results and feeds the cross-row index;
:meth:`CheckedRows.replay` then walks the rows again with the cross-row verdicts. The replay is pure: it writes
nothing and counts nothing; the importer records each row, and the kind of run acts on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Literal, NamedTuple

from importer.checks.crossrow import CrossRowIndex, CrossRowVerdicts
from importer.checks.parallel import CheckedPart, check_table
from importer.checks.row import RowChecker
from importer.checks.spill import read_part
from importer.models import Issue, Row
from importer.run.options import NullProgress, Progress
from importer.sources import Table

#: What the check stage decided for a row: ``send`` it, ``skipped`` (another row with the same customer phone is
#: sent instead) or ``invalid`` (an error of its own or across rows).
Verdict = Literal["send", "skipped", "invalid"]


class CheckedRow(NamedTuple):
    """One row on its way: its number, the JSON text of each request (none when invalid), its phones (primary
    first), every issue (its own, then the cross-row ones), its verdict, and its cells when the run keeps them."""

    number: int
    requests: tuple[str, ...]
    phones: tuple[str, ...]
    issues: tuple[Issue, ...]
    verdict: Verdict
    cells: tuple[str, ...] | None

    def row(self, columns: list[str]) -> Row:
        """The row as read, for successes.csv and failures.csv (its cells must have been kept)."""
        return Row(self.number, dict(zip(columns, self.cells or (), strict=False)))

    def first_error(self) -> str:
        """The row's errors in one line, for failures.csv."""
        errors = [f"{issue.code}: {issue.message}" for issue in self.issues if issue.is_error]
        return "; ".join(errors) if errors else "invalid row"


class CheckedRows:
    """Pass one's output: the spilled parts, the cross-row verdicts and the counts. Close it to remove the parts."""

    def __init__(self, parts: list[CheckedPart], verdicts: CrossRowVerdicts, spill: TemporaryDirectory[str]) -> None:
        self.parts = parts
        self.verdicts = verdicts
        self._spill = spill
        self.total = sum(part.rows for part in parts)
        self.invalid_alone = sum(part.invalid for part in parts)

    @property
    def to_send(self) -> int:
        """Rows that pass every check and are not skipped as duplicates."""
        dropped = self.verdicts.invalid | self.verdicts.skipped
        return self.total - self.invalid_alone - len(dropped)

    def replay(self) -> Iterator[CheckedRow]:
        """Every row in sheet order with its issues and verdict. Pure: may be called again."""
        invalid, skipped, extra = self.verdicts.invalid, self.verdicts.skipped, self.verdicts.issues
        for part in self.parts:
            for number, requests, phones, issues, cells in read_part(part.path):
                if number in extra:
                    issues = issues + tuple(extra[number])
                verdict: Verdict = ("invalid" if not requests or number in invalid
                                    else "skipped" if number in skipped else "send")
                yield CheckedRow(number, requests, phones, issues, verdict, cells)

    def close(self) -> None:
        self._spill.cleanup()

    def __enter__(self) -> CheckedRows:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_rows(table: Table, checker: RowChecker, index: CrossRowIndex, *, workers: int = 1,
               keep_cells: bool = False, progress: Progress | None = None) -> CheckedRows:
    """Pass one: check every row (in ``workers`` processes), spill the results, settle the cross-row checks."""
    progress = progress or NullProgress()
    spill = TemporaryDirectory(prefix="superfone-import-")
    parts: list[CheckedPart] = []
    progress.start("checking", None)
    try:
        for part in check_table(table, checker, Path(spill.name), workers=workers, keep_cells=keep_cells):
            for number, phones in part.phones:
                index.add(number, phones)
            parts.append(part._replace(phones=[]))  # the index has them now
            progress.advance(part.rows)
    except BaseException:
        spill.cleanup()
        raise
    finally:
        progress.finish()
    return CheckedRows(parts, index.finish(), spill)
