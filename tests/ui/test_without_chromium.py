"""Without Chromium, a test run still passes and says in one line which tests it left out and what to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_browser_tests_are_left_out_in_one_line_without_chromium(tmp_path: Path) -> None:
    env = {**os.environ, "SF_TEST_CHROMIUM": str(tmp_path / "no-chromium"), "PYTHONPATH": str(ROOT)}
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:benchmark", "-p", "no:cacheprovider",
         "tests/ui/test_browser.py", "tests/ui/test_results.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    lines = [line for line in finished.stdout.splitlines() if "test_browser.py" in line]
    assert lines == [f"skipped tests/ui/test_browser.py (the browser tests): {tmp_path / 'no-chromium'} not found; "
                     "to run them: apt-get install chromium chromium-driver"]
    assert "2 passed" in finished.stdout and "deselected" in finished.stdout
