"""What a run keeps: the resume journal beside its report (:mod:`~importer.run.stores.journal`) and the account's
sync state (:mod:`~importer.run.stores.state`, found by :mod:`~importer.run.stores.home`, in SQLite or PostgreSQL),
with their lock, upkeep (check, backups, export, ``--keep-runs``) and ``state forget``."""
