"""Checks across rows: the same lead twice in one sheet, and a phone claimed by two leads.

Rows are fed in sheet order; verdicts are known once every row has been seen (``--on-duplicate last`` cannot be
decided earlier). The index keeps each phone as an integer, sorted, with its row: about 40 MB for a million
phones (a dict of their strings took 120 MB).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Literal, NamedTuple

from importer.issues import issue
from importer.models import Issue

OnDuplicate = Literal["last", "first", "error"]
ON_DUPLICATE_CHOICES: tuple[str, ...] = ("last", "first", "error")


@dataclass
class CrossRowVerdicts:
    """What the cross-row checks decided: rows not to send, and issues to add to rows."""

    skipped: set[int] = field(default_factory=set)
    invalid: set[int] = field(default_factory=set)
    issues: dict[int, list[Issue]] = field(default_factory=dict)

    def add(self, issue: Issue) -> None:
        assert issue.row is not None
        self.issues.setdefault(issue.row, []).append(issue)
        if issue.is_error:
            self.invalid.add(issue.row)


class PhoneClaims(NamedTuple):
    """The phones of a unit's valid rows, in sheet order, as a checking process sends them back: each row's
    number, how many phones it has, and the phones themselves (primary first) as the integers of their E.164
    digits. Three arrays pickle as their bytes: the strings of 1,400,000 phones cost this process 0.30 s to
    unpickle, these arrays nothing measurable (``benchmarks/bench_validate.py``)."""

    rows: array[int]
    counts: array[int]
    phones: array[int]

    @classmethod
    def of(cls, rows: Iterable[int], phones: Iterable[tuple[str, ...]]) -> PhoneClaims:
        """The claims of ``rows`` whose E.164 ``phones`` (``+`` and digits, no leading zero) are these."""
        phones = list(phones)
        return cls(array("q", rows), array("i", map(len, phones)), array("q", map(int, chain.from_iterable(phones))))


#: No claims: what a unit keeps once the index has its claims.
NO_CLAIMS = PhoneClaims(array("q"), array("i"), array("q"))


class _Unit:
    """One unit's claims as arrays, with its phones sorted once (while the checking processes still work)."""

    def __init__(self, claims: PhoneClaims) -> None:
        import numpy as np

        self.rows = np.frombuffer(claims.rows, dtype=np.int64)
        self.counts = np.frombuffer(claims.counts, dtype=np.int32)
        self.phones = np.frombuffer(claims.phones, dtype=np.int64)
        self.order = np.argsort(self.phones, kind="stable")
        self.sorted = self.phones[self.order]
        self.starts = np.cumsum(self.counts) - self.counts  # where each row's phones start
        self.involved = np.zeros(len(self.rows), dtype=bool)

    def mark_involved(self, repeated: Any) -> bool:
        """Mark the rows holding any of the ``repeated`` phones (sorted); whether there are any."""
        import numpy as np

        at = np.minimum(np.searchsorted(repeated, self.sorted), len(repeated) - 1)
        hit = repeated[at] == self.sorted
        if not hit.any():
            return False
        owners = np.repeat(np.arange(len(self.rows)), self.counts)  # each phone's row
        self.involved[owners[self.order[hit]]] = True
        return True

    def involved_rows(self) -> Iterator[tuple[int, tuple[str, ...]]]:
        for index in self.involved.nonzero()[0].tolist():
            start = int(self.starts[index])
            phones = self.phones[start:start + int(self.counts[index])].tolist()
            yield int(self.rows[index]), tuple(f"+{phone}" for phone in phones)

    def uninvolved_primaries(self) -> list[str]:
        return [f"+{phone}" for phone in self.phones[self.starts[~self.involved]].tolist()]


class CrossRowIndex:
    """Who owns which phone, decided once every row has been seen.

    A phone no other row (and no other place in its own row) has cannot take part in any cross-row verdict, so
    only the rows holding a repeated phone are walked, in sheet order, by the rules (:meth:`_claim`); the repeated
    phones are found by sorting every phone once. ``benchmarks/bench_validate.py``'s 1,400,000 phones, profiled:
    1.04 s of this process's CPU with a dict of every phone fed a row at a time; now 0.03 s sorting each unit's
    phones as it comes (while the checking processes work) and 0.07 s finding the repeated ones at the end.
    numpy is imported with the first unit, while the checking processes work, not when the importer starts."""

    def __init__(self, on_duplicate: OnDuplicate = "last", phone_column: str = "customer_phone",
                 add_phones_column: str = "add_phones") -> None:
        self.on_duplicate = on_duplicate
        self.phone_column = phone_column
        self.add_phones_column = add_phones_column
        self._units: list[_Unit] = []
        self._loose: tuple[list[int], list[tuple[str, ...]]] = ([], [])
        #: The owners of the phones of the rows that hold a repeated phone. Positive values: the row whose
        #: primary phone it is; negative: an add_phones owner.
        self._owner: dict[str, int] = {}
        self._duplicates: dict[int, list[int]] = {}
        self._verdicts = CrossRowVerdicts()
        self._finished = False

    def add(self, row: int, phones: tuple[str, ...], valid: bool = True) -> None:
        """Feed one row in sheet order: its phones (E.164), primary first. Invalid rows claim nothing."""
        if valid and phones:
            self._loose[0].append(row)
            self._loose[1].append(phones)

    def add_claims(self, claims: PhoneClaims) -> None:
        """The claims of the valid rows of the next unit, in sheet order."""
        self._flush()
        if claims.rows:
            self._units.append(_Unit(claims))

    def _flush(self) -> None:
        rows, phones = self._loose
        if rows:
            self._loose = ([], [])
            self.add_claims(PhoneClaims.of(rows, phones))

    def primaries(self) -> set[str]:
        """Every customer phone fed so far."""
        self._flush()
        claimed = {phone for phone, owner in self._owner.items() if owner > 0}
        for unit in self._units:
            claimed.update(unit.uninvolved_primaries())
        return claimed

    def finish(self) -> CrossRowVerdicts:
        """Decide duplicates once every row has been seen."""
        if self._finished:
            return self._verdicts
        self._flush()
        self._finished = True
        for row, phones in self._involved_rows():
            self._claim(row, phones)
        for rows in self._duplicates.values():
            self._settle_duplicates(rows)
        return self._verdicts

    def _involved_rows(self) -> Iterator[tuple[int, tuple[str, ...]]]:
        """The rows holding a phone that is somewhere else too (another row, or the same row), in sheet order."""
        import numpy as np

        if not self._units:
            return
        merged = np.sort(np.concatenate([unit.sorted for unit in self._units]), kind="stable")  # sorted runs
        repeated = np.unique(merged[1:][merged[1:] == merged[:-1]])
        if not len(repeated):
            return
        for unit in self._units:
            if unit.mark_involved(repeated):
                yield from unit.involved_rows()

    def _claim(self, row: int, phones: tuple[str, ...]) -> None:
        """One row's claims, in sheet order, by the rules the verdicts follow."""
        primary, extra = phones[0], phones[1:]
        owner = self._owner.get(primary)
        if owner is not None and owner < 0:
            message = f"customer phone {primary} is already an additional phone of row {-owner}"
            self._verdicts.add(issue("phone-owned-by-other-row", row, self.phone_column, message, primary))
            return
        group = owner if owner is not None else row
        for phone in extra:
            other = self._owner.get(phone)
            if other is not None and abs(other) != group:
                message = f"phone {phone} in add_phones is already a phone of row {abs(other)}"
                self._verdicts.add(issue("phone-owned-by-other-row", row, self.add_phones_column, message, phone))
                return
        if owner is None:
            self._owner[primary] = row
        else:
            self._duplicates.setdefault(group, [group]).append(row)
        for phone in extra:
            self._owner.setdefault(phone, -group)

    def _settle_duplicates(self, rows: list[int]) -> None:
        listed = ", ".join(str(r) for r in rows)
        if self.on_duplicate == "error":
            for row in rows:
                message = f"the same customer phone is on rows {listed} (--on-duplicate error)"
                self._verdicts.add(issue("duplicate-phone", row, self.phone_column, message, severity="error"))
            return
        kept = rows[-1] if self.on_duplicate == "last" else rows[0]
        for row in rows:
            if row == kept:
                message = f"the same customer phone is on rows {listed}: this row is sent (--on-duplicate " \
                          f"{self.on_duplicate})"
            else:
                message = f"the same customer phone is on rows {listed}: row {kept} is sent instead " \
                          f"(--on-duplicate {self.on_duplicate})"
                self._verdicts.skipped.add(row)
            self._verdicts.add(issue("duplicate-phone", row, self.phone_column, message))
