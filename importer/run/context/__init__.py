"""What every kind of run is handed: its options, its checked rows, room on disk for its report, and the
:class:`~importer.run.context.kind.RunKind` protocol with its :class:`~importer.run.context.kind.RunContext`."""
