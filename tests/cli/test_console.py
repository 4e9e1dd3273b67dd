"""The progress bar: counts, failures, and what the run waits for beside them."""

from __future__ import annotations

import io

from importer.cli.console import BarProgress


def test_the_bar_shows_a_servers_wait_beside_the_failures_until_cleared() -> None:
    stream = io.StringIO()
    bar = BarProgress(stream)
    bar.start("sending", 10)
    bar.advance(3, failed=1)
    bar.status("waiting 30 s (server asked)")
    assert "failed=1, waiting 30 s (server asked)" in stream.getvalue().split("\r")[-1]
    bar.status("")
    last = stream.getvalue().split("\r")[-1]
    assert "failed=1" in last and "waiting" not in last
    bar.finish()
    bar.status("waiting 5 s (server asked)")  # no bar: nothing to show, nothing fails
