"""A lead as the API returns it, held against what a row asks: pure rules (no I/O), shared by the kinds that read
leads back (importer.readback: plan, verify) and those that restore them (importer.run: apply, undo).

    compare    whether a lead holds what a row's requests set, field by field (Mismatch)
    snapshot   a lead's values of the fields a request sets, and which of them a request would change
"""
