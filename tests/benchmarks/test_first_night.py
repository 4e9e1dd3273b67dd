"""The first night ``benchmarks/bench_sync.py --first-night built`` measures against is the one a real run leaves:
the same leads (digests, values, added names) and notes, and its second night sees every row unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import make_data
from benchmarks.first_night import FirstNight, same_state
from importer.run.context.options import RunOptions
from importer.run.journey.pipeline import Importer
from importer.sandbox import SandboxServer

MAPPING = Path(__file__).resolve().parents[2] / "benchmarks" / "leads.yaml"


def state_of(home: Path) -> Path:
    (state,) = (home / "states").glob("*.sqlite")
    return state


LEAD = "/enterprise/api/lead"


def lead_requests(server: SandboxServer) -> int:
    """get-leads and upserts since the log was cleared."""
    counts: dict[str, int] = server.request_counts()["by_endpoint"]
    return counts.get(f"GET {LEAD}", 0) + counts.get(f"POST {LEAD}", 0)


def test_a_built_first_night_is_a_real_one(fresh_sandbox: SandboxServer, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    sheet = make_data.make_csv(tmp_path / "leads.csv", 300, seed=5)
    options = RunOptions(base_url=fresh_sandbox.base_url, api_key=fresh_sandbox.api_key,
                         report_dir=tmp_path / "reports", rate=1000.0)
    monkeypatch.setenv("SF_HOME", str(tmp_path / "real"))
    real = Importer(sheet, MAPPING, options).run()
    assert real.summary["succeeded"] == 300 and lead_requests(fresh_sandbox) == 600
    fresh_sandbox.clear_requests()
    monkeypatch.setenv("SF_HOME", str(tmp_path / "built"))
    built = Importer(sheet, MAPPING, options, kind=FirstNight()).run()
    assert (built.summary["succeeded"], built.exit_code, lead_requests(fresh_sandbox)) == (300, 0, 0)
    same, line = same_state(state_of(tmp_path / "real"), state_of(tmp_path / "built"))
    assert same, line
    second = Importer(sheet, MAPPING, options).run()  # the second night, on the built state
    assert (second.summary["unchanged"], second.summary["sent"], lead_requests(fresh_sandbox)) == (300, 0, 0)
