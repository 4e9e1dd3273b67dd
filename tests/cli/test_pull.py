"""``superfone-import pull``: its lines, files and exit codes against the sandbox's source CRMs."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.cli.commands import main


@pytest.fixture
def env(fresh_sandbox, monkeypatch) -> None:
    monkeypatch.setattr("importer.pull.sources.LEADSQUARED_RATE", 1000.0)  # pacing: tests/pull
    for name, value in (("LSQ_HOST", fresh_sandbox.leadsquared_url), ("LSQ_ACCESS_KEY", "demo-access-key"),
                        ("LSQ_SECRET_KEY", "demo-secret-key"), ("POLLYBOT_BASE_URL", fresh_sandbox.pollybot_url),
                        ("POLLYBOT_API_KEY", "sk-workspace_demo")):
        monkeypatch.setenv(name, value)


def test_a_complete_pull_exits_0_and_a_second_one_pulls_nothing(env, tmp_path, capsys) -> None:
    sheet = tmp_path / "ids.csv"
    sheet.write_text("Lead,Owner\nlead_aa49d53c31e4598b,x\nlead_7a659b3697e91a96,y\n", encoding="utf-8")
    argv = ["pull", "pollybot", "--ids", str(sheet), "--column", "Lead", "--out", str(tmp_path / "polly.jsonl"),
            "--report-dir", str(tmp_path / "reports")]
    assert main(argv) == 0
    first = capsys.readouterr().out.splitlines()
    assert first[0] == "ids.csv: 2 rows: 2 pulled, 0 missed, 0 failed, 0 refused, 0 repeated, 0 done before; " \
                       "0 warnings"
    assert first[-2] == f"leads: {tmp_path / 'polly.jsonl'}   misses: {tmp_path / 'polly.misses.csv'}"
    assert first[-1].startswith(f"report: {tmp_path / 'reports'}/") and first[-1].endswith("-pull-pollybot")
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("ids.csv: 2 rows: 0 pulled, 0 missed, 0 failed, 0 refused, 0 repeated, "
                                              "2 done before")


def test_misses_and_refusals_exit_1(env, tmp_path, capsys) -> None:
    sheet = tmp_path / "phones.csv"
    sheet.write_text("Phone\n9845000000\n9999999999\nabc\n98450 40012\n", encoding="utf-8")
    argv = ["pull", "leadsquared", "--phones", str(sheet), "--out", str(tmp_path / "lsq.jsonl"),
            "--report-dir", str(tmp_path / "reports")]
    assert main(argv) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "phones.csv: 4 rows: 2 pulled, 1 missed, 0 failed, 1 refused, 0 repeated, 0 done before; " \
                     "1 warnings"
    assert out[1] == "issues: invalid-phone ×1, several-leads-match ×1"


@pytest.mark.parametrize(("argv", "unset", "message"), [
    (["pull", "leadsquared", "--phones", "{sheet}", "--out", "{out}"], "LSQ_SECRET_KEY", "LSQ_SECRET_KEY is not set"),
    (["pull", "pollybot", "--ids", "{sheet}", "--out", "{out}"], "POLLYBOT_BASE_URL", "POLLYBOT_BASE_URL is not set"),
    (["pull", "pollybot", "--ids", "{sheet}", "--column", "Nope", "--out", "{out}"], None,
     "ids.csv: no column 'Nope' (columns: 'id')"),
    (["pull", "pollybot", "--ids", "{missing}", "--out", "{out}"], None, "gone.csv: file not found"),
])
def test_what_cannot_run_is_one_line_and_exit_2(env, tmp_path, capsys, monkeypatch, argv, unset, message) -> None:
    if unset:
        monkeypatch.delenv(unset)
    sheet = tmp_path / "ids.csv"
    sheet.write_text("id\nlead_aa49d53c31e4598b\n", encoding="utf-8")
    names = {"sheet": str(sheet), "out": str(tmp_path / "o.jsonl"), "missing": str(tmp_path / "gone.csv")}
    assert main([part.format(**names) for part in argv] + ["--report-dir", str(tmp_path / "r")]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"superfone-import: error: {message}\n" and captured.out == ""
    assert not Path(names["out"]).exists()


def test_a_time_limit_stops_the_pull_with_exit_3_and_the_same_command_goes_on(env, tmp_path, capsys,
                                                                               monkeypatch) -> None:
    monkeypatch.setattr("importer.pull.sources.LEADSQUARED_RATE", 4.0)  # a call every 0.25 s
    sheet = tmp_path / "phones.csv"
    sheet.write_text("Phone\n" + "\n".join(f"98450000{n:02d}" for n in range(12)) + "\n", encoding="utf-8")
    argv = ["pull", "leadsquared", "--phones", str(sheet), "--out", str(tmp_path / "lsq.jsonl"),
            "--report-dir", str(tmp_path / "reports")]
    assert main([*argv, "--time-limit", "1s"]) == 3
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("stopped (time-limit): the time limit of 1s is spent; ") and \
        out[1].endswith(" left: run the same command again to pull the rest")
    assert main([*argv, "--max-wait", "10"]) == 1  # the rest (the phones are in no lead: misses)
    assert "0 refused, 0 repeated, " in capsys.readouterr().out
    misses = (tmp_path / "lsq.misses.csv").read_text(encoding="utf-8").splitlines()
    assert len(misses) == 1 + 11  # every phone asked once over the two runs (9845000000 is Varun's lead)
