"""The row journey: :class:`~importer.run.journey.pipeline.Importer` reads, maps and checks, then hands the rows to
a kind of run (:mod:`importer.run.kinds`)."""
