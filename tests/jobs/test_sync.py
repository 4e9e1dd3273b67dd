"""``sync JOB.yaml``: a job runs exactly as ``run`` with the same flags; each file of a folder once; archived after
a finished run; several jobs give the worst exit code."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from importer.cli.commands import run_parser
from importer.jobs import RunFlags, load_job, run_namespace, worst
from importer.sandbox import SandboxServer
from tests.jobs.conftest import KEY_ENV, Result, drop, job_text, sheet

PHONES = ("+919700000501", "+919700000502", "+919700000503")
VOLATILE = {"started_at", "finished_at", "duration_s", "state", "state_backup"}


def report_of(result: Result) -> Path:
    last = [line for line in result.lines if line.startswith("report: ")]
    assert last, result.out + result.err
    return Path(last[-1].removeprefix("report: "))


def comparable(folder: Path) -> dict[str, Any]:
    """A run folder's files, minus times and paths."""
    files: dict[str, Any] = {}
    for path in sorted(folder.iterdir()):
        if path.name == "summary.json":
            summary = json.loads(path.read_text(encoding="utf-8"))
            summary["requests"].pop("latency_ms")
            files[path.name] = {key: value for key, value in summary.items() if key not in VOLATILE}
        elif path.suffix in (".csv", ".jsonl") and path.name != "requests.csv":  # requests.csv: times
            files[path.name] = sorted(path.read_text(encoding="utf-8").splitlines())  # rows end in any order
        else:
            files[path.name] = None
    return files


def requests_of(server: SandboxServer) -> list[tuple[Any, ...]]:
    return sorted((entry["method"], entry["path"], entry["status"], entry["customer_phone"], entry["has_note"],
                   tuple(entry["fields"] or ())) for entry in server.requests())


def test_a_job_runs_exactly_as_run_with_the_same_flags(workdir: Path, fresh_sandbox: SandboxServer,
                                                        cli: Callable[..., Result],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    drop(workdir / "exports", "leads-1.csv", sheet(*PHONES) + "12345,Bad\r\n")
    flags = ["--rate", "50", "--on-duplicate", "first", "--no-undo", "--max-wait", "120"]
    monkeypatch.setenv("SF_API_KEY", fresh_sandbox.api_key)  # run reads SF_API_KEY; the job names its variable
    ran = cli("run", "exports/leads-1.csv", "-m", "nightly.mapping.yaml", "--job", "nightly", "--base-url",
              fresh_sandbox.base_url, "--report-dir", "by-run", "--state", "run.sqlite", *flags)
    monkeypatch.delenv("SF_API_KEY")
    by_run = requests_of(fresh_sandbox)
    fresh_sandbox.reset()
    (workdir / "nightly.yaml").write_text(job_text(fresh_sandbox, "exports/leads-1.csv", report_dir="by-job",
                                                   state="job.sqlite", options="{rate: 50, on_duplicate: first, "
                                                   "no_undo: true, max_wait: 120}"), encoding="utf-8")
    synced = cli("sync", "nightly.yaml")
    assert (ran.code, synced.code) == (1, 1)
    assert requests_of(fresh_sandbox) == by_run and len(by_run) == 5 + 3  # the catalog, three upserts
    assert comparable(report_of(synced)) == comparable(report_of(ran))
    assert ran.lines[:-1] == synced.lines[:-1]
    history = cli("history", "--job", "nightly", "--state", "job.sqlite")
    assert history.code == 0 and "nightly" in history.out and "leads-1.csv" in history.out


def test_flags_on_the_command_line_win_over_the_file(workdir: Path) -> None:
    (workdir / "nightly.yaml").write_text(job_text(None, report_dir="from-file", options="{rate: 5, dry_run: true}",
                                                   alerts="[mailto:ops@example.com]"), encoding="utf-8")
    parser = run_parser()
    job = load_job(workdir / "nightly.yaml", RunFlags.of(parser))
    namespace = run_namespace(job, parser, {"rate": 40.0, "notify": ["mailto:desk@example.com"]})
    assert (namespace.rate, namespace.dry_run, namespace.report_dir) == (40.0, True, workdir / "from-file")
    assert namespace.notify == ["mailto:desk@example.com"] and namespace.job == "nightly"
    assert run_namespace(job, parser, {}).notify == ["mailto:ops@example.com"]


def test_a_flag_given_to_sync_reaches_the_run(workdir: Path, fresh_sandbox: SandboxServer,
                                              cli: Callable[..., Result]) -> None:
    drop(workdir / "exports", "leads-1.csv", sheet(PHONES[0]))
    (workdir / "nightly.yaml").write_text(job_text(fresh_sandbox, report_dir="from-file"), encoding="utf-8")
    result = cli("sync", "nightly.yaml", "--report-dir", "from-flag", "--dry-run")
    assert result.code == 0, result.err
    assert report_of(result).parent == Path("from-flag") and not (workdir / "from-file").exists()
    assert [entry["method"] for entry in fresh_sandbox.requests()] == ["GET"] * 5  # a dry run: the catalog only


def test_a_folder_job_imports_each_file_once(workdir: Path, fresh_sandbox: SandboxServer,
                                             cli: Callable[..., Result]) -> None:
    drop(workdir / "exports", "leads-1.csv", sheet(PHONES[0]), age=7200)
    drop(workdir / "exports", "leads-2.csv", sheet(*PHONES[:2]), age=3600)
    (workdir / "nightly.yaml").write_text(job_text(fresh_sandbox, options="{rate: 50}"), encoding="utf-8")
    first = cli("sync", "nightly.yaml")
    assert first.code == 0 and first.lines[0].startswith("leads-2.csv: 2 rows: 2 succeeded"), first.out + first.err
    fresh_sandbox.clear_requests()
    second = cli("sync", "nightly.yaml")
    assert second.code == 0 and fresh_sandbox.requests() == []
    assert len(second.lines) == 1 and second.lines[0].startswith("no new file for job nightly since ")
    assert "exports/leads-2.csv" in second.lines[0]
    again = cli("sync", "nightly.yaml", "--again")
    assert again.code == 0 and "2 unchanged" in again.lines[0] and fresh_sandbox.requests()
    drop(workdir / "exports", "leads-3.csv", sheet(*PHONES), age=600)
    fresh_sandbox.clear_requests()
    third = cli("sync", "nightly.yaml")
    assert third.code == 0 and third.lines[0].startswith("leads-3.csv: 3 rows: 1 succeeded")
    assert sum(entry["path"].endswith("/lead") and entry["method"] == "POST" for entry in fresh_sandbox.requests()) == 1


def test_a_file_still_being_written_is_not_picked(workdir: Path, fresh_sandbox: SandboxServer,
                                                  cli: Callable[..., Result]) -> None:
    drop(workdir / "exports", "leads-1.csv", sheet(PHONES[0]), age=3600)
    drop(workdir / "exports", "leads-2.csv", sheet(PHONES[1]), age=1)
    (workdir / "nightly.yaml").write_text(job_text(fresh_sandbox, settle="120"), encoding="utf-8")
    result = cli("sync", "nightly.yaml")
    assert result.code == 3 and fresh_sandbox.requests() == []
    assert len(result.lines) == 1 and result.lines[0].startswith(
        "nightly: exports/: leads-2.csv changed 1 s ago and may still be being written; it is read once it has not "
        "changed for 120 s; nothing sent: the next sync reads it")


def test_a_file_is_moved_after_exit_1_never_after_exit_2(workdir: Path, fresh_sandbox: SandboxServer,
                                                         cli: Callable[..., Result]) -> None:
    exports = workdir / "exports"
    drop(exports, "leads-1.csv", "Phone,Surname\r\n+919700000511,Rao\r\n", age=7200)  # no Name column: exit 2
    (workdir / "nightly.yaml").write_text(job_text(fresh_sandbox, after="{move_to: done}"), encoding="utf-8")
    broken = cli("sync", "nightly.yaml")
    assert broken.code == 2 and "column 'Name' is not in leads-1.csv" in broken.err
    assert (exports / "leads-1.csv").exists() and not (workdir / "done").exists()
    assert cli("sync", "nightly.yaml").code == 2  # not recorded as imported: tried again
    (exports / "leads-1.csv").unlink()
    drop(exports, "leads-2.csv", sheet(PHONES[0]) + "12345,Bad\r\n", age=3600)  # one invalid row: exit 1
    partial = cli("sync", "nightly.yaml")
    assert partial.code == 1
    assert partial.lines[-1] == f"moved {Path('exports/leads-2.csv')} to {Path('done/leads-2.csv')}"
    assert sorted(path.name for path in (workdir / "done").iterdir()) == ["leads-2.csv"]
    quiet = cli("sync", "nightly.yaml")
    assert quiet.code == 0 and quiet.lines[0].startswith("no new file for job nightly since ")
    assert "(exports/ is empty)" in quiet.lines[0]


def test_several_jobs_run_in_turn_and_exit_with_the_worst_code(workdir: Path, fresh_sandbox: SandboxServer,
                                                                cli: Callable[..., Result]) -> None:
    drop(workdir / "exports", "good.csv", sheet(PHONES[0]))
    drop(workdir / "exports", "partly.csv", sheet(PHONES[1]) + "12345,Bad\r\n")
    for name, source in (("good", "exports/good.csv"), ("partly", "exports/partly.csv"), ("gone", "exports/no.csv")):
        (workdir / f"{name}.yaml").write_text(job_text(fresh_sandbox, source), encoding="utf-8")
    both = cli("sync", "good.yaml", "partly.yaml")
    assert both.code == 1 and [line.split(":")[0] for line in both.lines if "rows" in line] == ["good.csv",
                                                                                              "partly.csv"]
    every = cli("sync", "gone.yaml", "good.yaml", "partly.yaml")
    assert every.code == 2 and "exports/no.csv: file not found" in every.err
    assert sum(line.startswith("report: ") for line in every.lines) == 2  # the others still ran
    assert worst([0, 1, 3, 0]) == 3 and worst([3, 2, 1]) == 2 and worst([]) == 0


def test_a_bad_job_file_stops_every_job_before_anything_is_sent(workdir: Path, fresh_sandbox: SandboxServer,
                                                                 cli: Callable[..., Result]) -> None:
    drop(workdir / "exports", "good.csv", sheet(PHONES[0]))
    (workdir / "good.yaml").write_text(job_text(fresh_sandbox, "exports/good.csv"), encoding="utf-8")
    (workdir / "bad.yaml").write_text(job_text(fresh_sandbox, options="{rate: fast}"), encoding="utf-8")
    result = cli("sync", "good.yaml", "bad.yaml")
    assert result.code == 2 and result.out == "" and fresh_sandbox.requests() == []
    assert result.err == "superfone-import: error: bad.yaml:5: options.rate: expected a number, got 'fast'\n"


def test_the_jobs_key_appears_nowhere(workdir: Path, cli: Callable[..., Result],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from importer.sandbox import SandboxConfig

    canary = "sk-CANARY-job-7f3a9c1e5b"
    drop(workdir / "exports", "leads-1.csv", sheet(PHONES[0]) + "12345,Bad\r\n")
    with SandboxServer(SandboxConfig(api_key=canary), host="127.0.0.1", port=0) as server:
        (workdir / "nightly.yaml").write_text(job_text(server, log_file="logs/sync.log", options="{verbose: true}"),
                                              encoding="utf-8")
        monkeypatch.setenv(KEY_ENV, canary)
        result = cli("sync", "nightly.yaml")
    assert result.code == 1, result.err
    assert canary not in result.out + result.err
    written = [path for path in workdir.rglob("*") if path.is_file()]
    home = Path(os.environ["SF_HOME"])
    written += [path for path in home.rglob("*") if path.is_file()]
    assert any(path.suffix == ".sqlite" for path in written) and (workdir / "logs/sync.log").is_file()
    for path in written:
        assert canary.encode() not in path.read_bytes(), path

