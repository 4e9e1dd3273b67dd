"""Checks across rows: the same lead twice in one sheet, and a phone claimed by two leads.

Rows are fed in sheet order; verdicts are known once every row has been seen (``--on-duplicate last`` cannot be
decided earlier). The index keeps one row number per phone: about 120 MB for a million phones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

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


class CrossRowIndex:
    """Who owns which phone. Positive values: the row whose primary phone it is; negative: an add_phones owner."""

    def __init__(self, on_duplicate: OnDuplicate = "last", phone_column: str = "customer_phone",
                 add_phones_column: str = "add_phones") -> None:
        self.on_duplicate = on_duplicate
        self.phone_column = phone_column
        self.add_phones_column = add_phones_column
        self._owner: dict[str, int] = {}
        self._duplicates: dict[int, list[int]] = {}
        self._verdicts = CrossRowVerdicts()

    def add(self, row: int, phones: tuple[str, ...], valid: bool = True) -> None:
        """Feed one row in sheet order: its phones, primary first. Invalid rows claim nothing."""
        if not valid or not phones:
            return
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

    def add_rows(self, rows: list[int], phones: list[tuple[str, ...]]) -> None:
        """:meth:`add` for the valid rows of a unit, in sheet order. A row whose phones (one or two) no row
        claimed yet (most rows) takes a dict lookup a phone here: feeding the 1,000,000 rows of
        ``benchmarks/bench_validate.py`` one call each cost this process 0.8 s while the checking processes
        worked."""
        owner = self._owner
        for row, row_phones in zip(rows, phones, strict=True):
            primary = row_phones[0]
            if primary not in owner:
                size = len(row_phones)
                if size == 1:
                    owner[primary] = row
                    continue
                if size == 2:
                    extra = row_phones[1]
                    if extra not in owner and extra != primary:
                        owner[primary], owner[extra] = row, -row
                        continue
            self.add(row, row_phones)

    def primaries(self) -> set[str]:
        """Every customer phone fed so far."""
        return {phone for phone, owner in self._owner.items() if owner > 0}

    def finish(self) -> CrossRowVerdicts:
        """Decide duplicates once every row has been seen."""
        for rows in self._duplicates.values():
            self._settle_duplicates(rows)
        return self._verdicts

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
