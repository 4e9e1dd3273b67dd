"""The mapping wizard, column first: what each column becomes, what each of its values means in the account, and
how each field meets a lead. Every step reads the saved mapping (YAML, contract v1) and writes it back changed
only where the person changed something, so the YAML view and the wizard edit one and the same mapping.

    roles      each column → what it becomes in Superfone, in words (pure)
    choices    each distinct value of a stage, group, label, product or assignee column → a name (pure)
    fields     per field: overwrite / fill blanks only / only on new leads; the day/month order of dates (pure)
    sheet      what the wizard reads from the sheet: samples, distinct values, date profiles

The page's side lives beside the page's other modules: the steps (:mod:`importer.ui.wizard_pages`) and the
account's names read once a minute at most (:mod:`importer.ui.catalog_names`).
"""
