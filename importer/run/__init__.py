"""A run of the importer, in rooms that say what they hold (each room imports only the rooms listed after it):

- :mod:`importer.run.journey`: the row journey itself (read → map → check → decide → act → record), the
  :class:`~importer.run.journey.pipeline.Importer`;
- :mod:`importer.run.kinds`: what a run does with the rows that pass — a dry run, a real run (``Send``), a plan, a
  verify, an apply, an undo — and what those kinds share (the sync's decide stage and its record, the read before
  a write, the leads gone from the input);
- :mod:`importer.run.context`: what every kind is handed (the options, the checked rows, the room on disk, the
  :class:`~importer.run.context.kind.RunKind` protocol and its context);
- :mod:`importer.run.engine`: the sending engine (workers, rate limit, retries, stop, heartbeat, follow-up tasks);
- :mod:`importer.run.stores`: what a run keeps on disk or in PostgreSQL (the journal, the account's sync state);
- :mod:`importer.run.rules`: pure rules with no I/O (sync decisions, field policies, undo's restore rules, a lead
  held against a row).
"""
