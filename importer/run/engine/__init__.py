"""The sending engine: workers sharing one rate limiter, one retry policy and one client, the stop every part of a
run checks, the heartbeat that says what a run waits for, and the follow-up tasks created after each upsert."""
