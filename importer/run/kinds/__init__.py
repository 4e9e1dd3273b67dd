"""The kinds of run: what each does with the rows that pass the checks (:mod:`~importer.run.kinds.dry`,
:mod:`~importer.run.kinds.send`, :mod:`~importer.run.kinds.plan`, :mod:`~importer.run.kinds.verify`,
:mod:`~importer.run.kinds.apply`, :mod:`~importer.run.kinds.undo`). A new kind is a module here with a class that
follows :class:`~importer.run.context.kind.RunKind`."""
