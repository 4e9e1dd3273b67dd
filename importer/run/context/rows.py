"""The rows of a run after the check stage: each one with all its issues and its verdict, in sheet order.

Rows travel in batches (lists of rows, a few thousand at a time) from the spill to the kind of run: one code path
at any size, whose per-batch steps (writing a dry run's payloads, counting) cost nothing per row.

Pass one (:func:`check_rows`) maps and checks every row, spills the results and feeds the cross-row index;
:meth:`CheckedRows.replay` then walks the rows again with the cross-row verdicts. The replay is pure: it writes
nothing and counts nothing; the importer records each row, and the kind of run acts on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from tempfile import TemporaryDirectory

from importer.checks.crossrow import NO_CLAIMS, CrossRowIndex, CrossRowVerdicts
from importer.checks.parallel import CheckedPart, Keep, check_table
from importer.checks.row import RowChecker
from importer.checks.spill import CheckedBatch, CheckedRow, Verdict, read_part
from importer.mapping.profile import DateProfiles
from importer.run.context.options import NullProgress, Progress
from importer.sources import Table

__all__ = ["CheckedBatch", "CheckedRow", "CheckedRows", "Verdict", "check_rows"]

class CheckedRows:
    """Pass one's output: the spilled parts, the cross-row verdicts and the counts. Close it to remove the parts."""

    def __init__(self, parts: list[CheckedPart], verdicts: CrossRowVerdicts, spill: TemporaryDirectory[str],
                 present: Callable[[], set[str]] = set, dates: DateProfiles | None = None) -> None:
        self.parts = parts
        #: What every row's date cells allow, when the mapping decides its date orders per input.
        self.dates = dates
        self.present = present  #: every customer phone of the input (valid rows or not), computed when asked
        self.verdicts = verdicts
        self._spill = spill
        self.total = sum(part.rows for part in parts)
        self.invalid_alone = sum(part.invalid for part in parts)

    @property
    def to_send(self) -> int:
        """Rows that pass every check and are not skipped as duplicates."""
        dropped = self.verdicts.invalid | self.verdicts.skipped
        return self.total - self.invalid_alone - len(dropped)

    def replay(self) -> Iterator[CheckedBatch]:
        """Every row in sheet order with its issues and verdict, in batches. Pure: may be called again."""
        verdicts = self.verdicts
        settled = verdicts.invalid | verdicts.skipped | verdicts.issues.keys()
        for part in self.parts:
            for batch in read_part(part.path):
                if settled and not settled.isdisjoint(batch.numbers):
                    batch = batch.settled(verdicts)
                yield batch

    def close(self) -> None:
        self._spill.cleanup()

    def __enter__(self) -> CheckedRows:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_rows(table: Table, checker: RowChecker, index: CrossRowIndex, *, workers: int = 1,
               keep: Keep | None = None, progress: Progress | None = None,
               profile_dir: str | None = None, first_dates: DateProfiles | None = None) -> CheckedRows:
    """Pass one: check every row (in ``workers`` processes), spill the results, settle the cross-row checks.
    ``profile_dir``: where the worker processes leave their profiles (:mod:`importer.profiling`);
    ``first_dates``: the profile of the sheet's first rows, whose orders the checker's mapping reads dates in
    (the profiles of every row then merge into it, and the checks profile only what they must:
    :class:`~importer.mapping.profile.DateProfiles`)."""
    progress = progress or NullProgress()
    spill = TemporaryDirectory(prefix="superfone-import-")
    parts: list[CheckedPart] = []
    others: list[str] = []
    dates: DateProfiles | None = first_dates
    progress.start("checking", None)
    try:
        for part in check_table(table, checker, Path(spill.name), workers=workers, keep=keep or Keep(),
                                profile_dir=profile_dir, after_first_rows=first_dates is not None):
            index.add_claims(part.claims)
            others.extend(part.others)
            if part.dates is not None and dates is not None:
                dates.merge(part.dates)  # in sheet order
            elif part.dates is not None:
                dates = part.dates
            parts.append(part._replace(claims=NO_CLAIMS, others=[], dates=None))  # the index has them now
            progress.advance(part.rows)
    except BaseException:
        spill.cleanup()
        raise
    finally:
        progress.finish()
    return CheckedRows(parts, index.finish(), spill, lambda: index.primaries() | set(others), dates)
