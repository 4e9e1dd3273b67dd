"""Pure rules, no I/O: what a sync run still has to send (:mod:`~importer.run.rules.sync`), the field write
policies (:mod:`~importer.run.rules.policy`), what undoing a lead takes (:mod:`~importer.run.rules.restore`), and a
lead as the API returns it held against what a row asks (:mod:`~importer.run.rules.compare`: field by field;
:mod:`~importer.run.rules.snapshot`: a lead's values of the fields a request sets)."""
