"""What a run keeps on disk or in a database, and how it is opened.

    database   opening an SQLite file of ours: one way, one kind of refusal (damaged, foreign, newer)
    journal    per run folder: what each row's requests did, so a killed run resumes (and before-images)
    state      per account: what each job confirmed for each lead, the notes delivered, every run
    home       where an account's state lives (the per-user data folder, --state, SF_STATE)
    postgres   the same state in PostgreSQL, for a team's machines
    lock       one run at a time per state
    upkeep     merging a state an earlier version kept elsewhere; backups, checks and exports
"""
