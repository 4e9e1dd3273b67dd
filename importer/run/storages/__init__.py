"""What a run keeps on disk or in a database, and how it is opened.

    database   opening an SQLite file of ours: one way, one kind of refusal (damaged, foreign, newer)
    journal    per report folder: what each row's requests did, so a killed run resumes (and before-images)
    schema     the sync state's tables, declared once for SQLite and PostgreSQL
    state      per account: what each job confirmed for each lead, the notes delivered, every run
    home       where an account's state lives (the per-user data folder, --state, SF_STATE)
    postgres   the same state in PostgreSQL, for a team's machines
    account    the state a run opens: located, with what an earlier version kept merged in (merge)
    lock       one run at a time per state file (a PostgreSQL state locks in the database)
    upkeep     a state's check, backups and export; --keep-runs and --keep-payloads after a run
    forget     a person's data out of the state, its backups and the journals
"""
