"""--profile (or SF_PROFILE=1) writes a profile of the run, its checking processes included, into its report."""

from __future__ import annotations

import pstats
from pathlib import Path

import pytest

from importer.cli.commands import main
from importer.profiling import PROFILE_FILES

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "leads.csv"
EXAMPLE = ROOT / "mappings" / "example.yaml"


def validate(capsys: pytest.CaptureFixture[str], tmp_path: Path, *extra: str) -> Path:
    code = main(["validate", str(SAMPLE), "-m", str(EXAMPLE), "--offline", "--quiet",
                 "--report-dir", str(tmp_path), *extra])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1 and lines[-1].startswith("report: ")  # the sample has invalid rows on purpose
    return Path(lines[-1].removeprefix("report: "))


def test_profile_flag_writes_the_profile_of_every_process(capsys, tmp_path: Path) -> None:
    folder = validate(capsys, tmp_path, "--profile", "--workers", "2")
    stats = pstats.Stats(str(folder / "profile.pstats"))
    functions = {name for _, _, name in stats.stats}  # type: ignore[attr-defined]
    assert {"_journey", "check_unit"} <= functions  # the run's process, and a checking process
    text = (folder / "profile.txt").read_text(encoding="utf-8")
    assert text.startswith("profile of a run: ") and "and 1 checking process(es)" in text  # one unit of rows
    assert "check_unit" in text and "tottime" in text and "cumtime" in text


def test_a_real_run_records_its_sending_threads(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SF_HOME", str(tmp_path / "home"))
    code = main(["run", str(SAMPLE), "-m", str(EXAMPLE), "--sandbox", "--quiet", "--report-dir", str(tmp_path),
                 "--profile"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1 and lines[-1].startswith("report: ")
    stats = pstats.Stats(str(Path(lines[-1].removeprefix("report: ")) / "profile.pstats"))
    functions = {name for _, _, name in stats.stats}  # type: ignore[attr-defined]
    assert "upsert" in functions  # called in the sender's threads only


def test_sf_profile_asks_for_it_too(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SF_PROFILE", "1")
    folder = validate(capsys, tmp_path)
    assert all((folder / name).is_file() for name in PROFILE_FILES)
    assert "0 checking process(es)" in (folder / "profile.txt").read_text(encoding="utf-8")


def test_no_profile_unless_asked(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SF_PROFILE", "0")
    folder = validate(capsys, tmp_path)
    assert not any((folder / name).exists() for name in PROFILE_FILES)
