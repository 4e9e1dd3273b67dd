"""The phones of a batch's rows as one text in a spilled part (:mod:`importer.checks.spill`), and back."""

from __future__ import annotations

from itertools import repeat

#: Between the phones of a row, and between rows, in a part's text of a batch's phones (:func:`pack_phones`).
PHONE_SEPARATOR, ROW_SEPARATOR = "\x1f", "\x1e"


def pack_phones(phones: list[tuple[str, ...]]) -> str | list[tuple[str, ...]]:
    """The phones of a batch's rows as one text, when :func:`unpack_phones` gives them back exactly (else as they
    are). One object instead of one a row: reading a part back makes no object a row (the garbage collector then
    has nothing to scan) and a dry run, which does not look at the phones, never splits it (pass two of the
    1,000,000-row dry run of ``benchmarks/bench_validate.py``: 0.44-0.52 s of CPU → 0.26-0.27 s)."""
    if not phones or ("",) in phones:
        return phones  # no row, or a lone empty phone: its text would read back as a row without phones
    try:
        packed = ROW_SEPARATOR.join(map(PHONE_SEPARATOR.join, phones))
    except TypeError:
        return phones
    if (packed.count(ROW_SEPARATOR) != len(phones) - 1
            or packed.count(PHONE_SEPARATOR) != sum(map(len, phones)) - len(phones) + phones.count(())):
        return phones  # a phone holds a separator
    return packed


def unpack_phones(packed: str) -> list[tuple[str, ...]]:
    """The phones :func:`pack_phones` packed."""
    rows = packed.split(ROW_SEPARATOR)
    phones: list[tuple[str, ...]] = list(map(tuple, map(str.split, rows, repeat(PHONE_SEPARATOR))))
    if "" in rows:
        return [phone if row else () for row, phone in zip(rows, phones, strict=True)]
    return phones


def primary_phones(packed: str) -> list[str]:
    """The first phone of each row :func:`pack_phones` packed ("" for a row without phones)."""
    rows = packed.split(ROW_SEPARATOR)
    if PHONE_SEPARATOR not in packed:
        return rows
    return [row.partition(PHONE_SEPARATOR)[0] for row in rows]
