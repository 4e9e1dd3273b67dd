"""A page's run as the page reads it: its progress in words, and what it says once it ended."""

from __future__ import annotations

from importer.ui.progress import Job, LiveProgress, time_left


def test_time_left_reads_as_words() -> None:
    assert [time_left(s) for s in (None, 7.4, 125, 7800)] == ["…", "about 7 s", "about 2 min 5 s",
                                                             "about 2 h 10 min"]


def test_an_ended_job_says_so_and_has_no_time_left() -> None:
    now = [0.0]
    progress = LiveProgress(clock=lambda: now[0])
    progress.start("sending", 10)
    progress.advance(4)
    now[0] = 2.0
    job = Job("j1", "send", "/", progress)
    running = job.snapshot()
    assert (running["phase_text"], running["eta_text"]) == ("sending", "about 3 s")
    job.state = "done"
    assert (job.snapshot()["phase_text"], job.snapshot()["eta_text"]) == ("done", "none")
    job.state = "failed"
    assert job.snapshot()["phase_text"] == "stopped by an error"
