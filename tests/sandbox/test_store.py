"""The lead store on its own: deleting a lead leaves nothing of it behind, and its id is never handed out again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from importer.sandbox.catalog import Catalog
from importer.sandbox.seed import load_seed
from importer.sandbox.store import LeadChange, Store

ASHA, ASHA_SECOND = "+918000000001", "+918000000002"
LAST_SEEDED = "+919000000002"  # the seed's highest id, 12348


def open_store(db: Path | None = None) -> Store:
    seed = load_seed()
    return Store(seed, Catalog(seed), db)


@pytest.fixture
def store() -> Iterator[Store]:
    opened = open_store()
    yield opened
    opened.close()


def rows_of(store: Store, lead_id: int) -> dict[str, int]:
    """How many rows of each table belong to ``lead_id``."""
    counts = {}
    for table, column in (("lead", "id"), ("lead_phone", "lead_id"), ("lead_label", "lead_id"),
                          ("lead_product", "lead_id"), ("lead_note", "lead_id")):
        query = f"SELECT COUNT(*) FROM {table} WHERE {column} = ?"
        counts[table] = store._conn.execute(query, (lead_id,)).fetchone()[0]
    return counts


def create(store: Store, phone: str) -> int:
    with store.transaction():
        return store.apply(LeadChange(customer_phone=phone))


def test_delete_takes_the_lead_with_its_phones_labels_products_and_notes(store: Store) -> None:
    seeded = {"lead": 1, "lead_phone": 2, "lead_label": 1, "lead_product": 1, "lead_note": 1}
    assert rows_of(store, 12345) == seeded
    assert store.delete_lead(ASHA_SECOND) == 12345
    assert rows_of(store, 12345) == dict.fromkeys(seeded, 0)
    assert store.find_lead(ASHA) is None and store.find_lead(ASHA_SECOND) is None
    assert [lead["id"] for lead in store.dump()] == [12346, 12347, 12348]


def test_delete_of_an_unknown_phone_changes_nothing(store: Store) -> None:
    before = store.dump()
    assert store.delete_lead("+919999999999") is None
    assert store.dump() == before


def test_ids_are_not_reused_after_a_delete(store: Store) -> None:
    assert store.delete_lead(LAST_SEEDED) == 12348
    assert create(store, LAST_SEEDED) == 12349
    assert store.delete_lead(LAST_SEEDED) == 12349
    assert create(store, "+919111111111") == 12350
    assert create(store, "+919111111112") == 12351


def test_reset_forgets_deleted_ids(store: Store) -> None:
    store.delete_lead(LAST_SEEDED)
    create(store, "+919111111111")
    store.reset()
    assert [lead["id"] for lead in store.dump()] == [12345, 12346, 12347, 12348]
    assert create(store, "+919111111111") == 12349


def test_a_db_file_remembers_deleted_ids_across_restarts(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    first = open_store(db)
    assert first.delete_lead(LAST_SEEDED) == 12348
    first.close()
    again = open_store(db)
    try:
        assert again.find_lead(LAST_SEEDED) is None
        assert create(again, LAST_SEEDED) == 12349
    finally:
        again.close()
