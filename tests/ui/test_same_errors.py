"""A run's settings are read and checked once (importer.run.context.settings): the same bad value given on the
command line, in a job file, on the page or to the library is refused with the same words, each saying where."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from importer.cli.commands import main, run_parser
from importer.errors import ConfigError
from importer.jobs import RunFlags, load_job
from importer.run.context.options import RunOptions
from importer.run.context.settings import DEFAULT_CONCURRENCY, DEFAULT_RATE, RunSettings
from tests.ui.client import PageClient

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "example.yaml"

BAD = [
    ("rate", "0", "must be greater than 0, got 0"),
    ("rate", "-1", "must be greater than 0, got -1"),
    ("rate", "fast", "expected a number, got 'fast'"),
    ("concurrency", "0", "must be greater than 0, got 0"),
    ("time_limit", "5x", "expected a duration like 6h, 45m, 90s or 1h30m, got '5x'"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD)
def test_a_bad_value_is_refused_alike_everywhere(name: str, value: str, message: str, tmp_path: Path,
                                                 page: PageClient, capsys: pytest.CaptureFixture[str]) -> None:
    flag = "--" + name.replace("_", "-")
    # the command line: one line, exit 2, nothing run
    code = main(["run", str(SAMPLE / "leads.csv"), "-m", str(MAPPING), "--dry-run", "--offline", "--report-dir",
                 str(tmp_path / "reports"), flag, value])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.endswith(f"error: argument {flag}: {message}\n")
    assert not (tmp_path / "reports").exists()
    # a job file: its file, line and key
    job = tmp_path / "nightly.yaml"
    job.write_text(f"version: 1\nname: nightly\nsource: {SAMPLE / 'leads.csv'}\nmapping: {MAPPING}\n"
                   f"options:\n  {name}: {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_job(job, RunFlags.of(run_parser()))
    assert str(refused.value) == f"{job}:6: options.{name}: {message}"
    # the page: the import page again, with the line
    upload = page.upload(SAMPLE / "leads.csv")
    answer = page.post(f"/imports/{upload}/run", {"kind": "dry-run", name: value})
    assert answer.status_code == 400
    shown = html.unescape(re.sub(r"\s+", " ", answer.text))
    assert f"{name.replace('_', ' ')}: {message}" in shown
    assert page.get("/").text.count("/runs/") == 0
    # the library
    with pytest.raises(ConfigError, match=re.escape(f"{name}: {message}")):
        RunOptions(**{name: value})  # type: ignore[arg-type]


def test_settings_left_out_are_the_defaults_declared_once() -> None:
    settings = RunSettings.read({"rate": None, "time_limit": "1h30m", "concurrency": "4"})
    assert (settings.rate, settings.concurrency, settings.time_limit) == (DEFAULT_RATE, 4, 5400.0)
    options = RunOptions.of(settings, report_dir=Path("elsewhere"))
    assert (options.rate, options.concurrency, options.time_limit, options.report_dir) == (
        DEFAULT_RATE, 4, 5400.0, Path("elsewhere"))
    assert (RunOptions().rate, RunOptions().concurrency) == (DEFAULT_RATE, DEFAULT_CONCURRENCY)
    help_text = run_parser().format_help()
    assert f"(default: {DEFAULT_RATE:g})" in help_text and f"(default: {DEFAULT_CONCURRENCY})" in help_text
