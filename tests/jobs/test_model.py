"""Job files are checked like mappings: every problem is one line naming the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.cli.commands import run_parser
from importer.errors import ConfigError
from importer.jobs import JobFile, RunFlags, load_job
from importer.mapping.loader import Mapping
from tests.jobs.conftest import MAPPING

FLAGS = RunFlags.of(run_parser())


def load(folder: Path, text: str) -> JobFile:
    (folder / "nightly.mapping.yaml").write_text(MAPPING, encoding="utf-8")
    path = folder / "nightly.yaml"
    path.write_text(text, encoding="utf-8")
    return load_job(path, FLAGS)


def refused(folder: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(folder, text)
    message = str(caught.value)
    assert "\n" not in message
    return message.replace(str(folder / "nightly.yaml"), "nightly.yaml")


BASE = "version: 1\nsource: exports/\nmapping: nightly.mapping.yaml\n"


def test_a_job_file_with_every_key(tmp_path: Path) -> None:
    job = load(tmp_path, BASE + """name: nightly-crm
pick: name
settle: 30
account: {base_url: 'http://127.0.0.1:9/superfone', api_key_env: ACME_KEY}
report_dir: out/reports
state: state/acme.sqlite
log_file: logs/sync.log
keep_runs: 7
options: {rate: 5, on_missing: 'label:Gone', max_wait: 120, no_undo: true, full: false, sheet: Leads, verbose: yes}
alerts: {targets: ['mailto:ops@example.com'], on: always}
after: {move_to: done}
""")
    assert (job.name, job.source, job.pick, job.settle, job.api_key_env) == (
        "nightly-crm", f"{tmp_path}/exports/", "name", 30.0, "ACME_KEY")
    assert job.mapping == tmp_path / "nightly.mapping.yaml" and job.picks_among
    assert job.move_to == str(tmp_path / "done")
    assert job.alerts.targets == ("mailto:ops@example.com",)
    assert job.flags == {
        "base_url": "http://127.0.0.1:9/superfone", "report_dir": tmp_path / "out/reports",
        "state": str(tmp_path / "state/acme.sqlite"), "log_file": tmp_path / "logs/sync.log", "keep_runs": 7,
        "rate": 5.0, "on_missing": "label:Gone", "max_wait": 120.0, "no_undo": True, "full": False,
        "sheet_name": "Leads", "verbose": True, "notify_on": "always"}


def test_the_defaults_and_an_inline_mapping(tmp_path: Path) -> None:
    inline = "mapping:\n  version: 1\n  fields:\n    customer_phone: Phone\n"
    job = load(tmp_path, "version: 1\nsource: leads.csv\n" + inline)
    assert job.name == "nightly" and job.api_key_env == "SF_API_KEY" and (job.pick, job.settle) == ("mtime", 60.0)
    assert isinstance(job.mapping, Mapping) and job.mapping.fields == ("customer_phone",)
    assert not job.picks_among and job.flags == {}


@pytest.mark.parametrize(("text", "expected"), [
    (BASE + "nmae: x\n", "nightly.yaml:4: nmae: unknown key; did you mean 'name'? expected one of: version, "),
    (BASE + "options:\n  rate: fast\n", "nightly.yaml:5: options.rate: expected a number, got 'fast'"),
    (BASE + "options:\n  no_undo: maybe\n", "nightly.yaml:5: options.no_undo: expected true or false"),
    (BASE + "options:\n  on_duplicate: newest\n",
     "nightly.yaml:5: options.on_duplicate: expected one of last, first, error, got 'newest'"),
    (BASE + "options:\n  rates: 5\n", "nightly.yaml:5: options.rates: not a run flag; did you mean 'rate'?"),
    (BASE + "options:\n  job: other\n", "nightly.yaml:5: options.job: set it with the job's own key name"),
    (BASE + "settle: soon\n", "nightly.yaml:4: settle: expected a number of seconds (0 or more), got 'soon'"),
    (BASE + "pick: newest\n", "nightly.yaml:4: pick: expected one of mtime, name, got 'newest'"),
    ("version: 1\nsource: exports/\nmapping: missing.yaml\n",
     "nightly.yaml:3: mapping: mapping file "),
    ("version: 1\nsource: exports/\n", "nightly.yaml:1: mapping: required"),
    ("version: 2\nsource: x.csv\nmapping: nightly.mapping.yaml\n",
     "nightly.yaml:1: version: this importer reads job files of version 1, not '2'"),
    ("version: 1\nsource: x.csv\nmapping:\n  version: 1\n  fields:\n    customer_phone: Phone\n    frist_name: Name\n",
     "nightly.yaml:7: mapping.fields.frist_name: unknown API field 'frist_name'"),
    ("- a list\n", "nightly.yaml:1: expected a mapping with version, name, source"),
])
def test_each_kind_of_mistake_names_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    assert refused(tmp_path, text).startswith(expected)


@pytest.mark.parametrize(("text", "expected"), [
    (BASE + "account:\n  api_key: sk-CANARY-1234\n",
     "nightly.yaml:5: account.api_key: the API key is never written in a job file: put SF_API_KEY=… in secrets.env"),
    (BASE + "account:\n  api_key_env: sk-CANARY-1234\n",
     "nightly.yaml:5: account.api_key_env: expected the NAME of the environment variable holding the key"),
    (BASE + "state: postgresql://sales:CANARY-pw@db.internal/crm\n",
     "nightly.yaml:4: state: a URL with a password: leave the password out"),
    ("version: 1\nsource: sftp://ops:CANARY-pw@files.example.com/drop/\nmapping: nightly.mapping.yaml\n",
     "nightly.yaml:2: source: a URL with a password"),
    ("version: 1\nsource: https://files.example.com/leads.csv?token=CANARY\nmapping: nightly.mapping.yaml\n",
     "nightly.yaml:2: source: a URL whose query carries a value"),
    (BASE + "alerts: ['https://hooks.slack.com/services/T0000/B0000/CANARYCANARYCANARY']\n",
     "nightly.yaml:4: alerts[0]: a webhook URL holds its token: write ${NAME}"),
    (BASE + "options:\n  password: CANARY\n", "nightly.yaml:5: options.password: a secret is never written"),
    (BASE + "extra:\n  aws_secret_access_key: CANARY\n", "nightly.yaml:5: extra.aws_secret_access_key: a secret"),
])
def test_a_secret_is_refused_and_never_repeated(tmp_path: Path, text: str, expected: str) -> None:
    message = refused(tmp_path, text)
    assert message.startswith(expected)
    assert "CANARY" not in message


def test_an_alert_target_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from importer.jobs import expand_target

    job = load(tmp_path, BASE + "alerts: {targets: ['${SLACK_URL}'], on: failure}\n")
    with pytest.raises(ConfigError, match=r"alerts.targets\[0\]: \$\{SLACK_URL\} is not set: put SLACK_URL="):
        expand_target(job.alerts.targets[0], "nightly.yaml: alerts.targets[0]")
    monkeypatch.setenv("SLACK_URL", "https://hooks.example.com/x")
    assert expand_target(job.alerts.targets[0], "") == "https://hooks.example.com/x"


def test_every_run_flag_can_be_set(tmp_path: Path) -> None:
    """The keys are the run parser's own flags: a flag added to run is a job option at once."""
    assert {"rate", "concurrency", "on_missing", "max_wait", "time_limit", "no_undo", "full", "dry_run", "plan",
            "allow_shrink", "repeat_notes", "offline", "sheet", "workers", "max_missing"} <= set(FLAGS)


def test_a_group_and_alert_rules_in_a_job_file(tmp_path: Path) -> None:
    job = load(tmp_path, BASE + "shared_group: sales-ops\nalerts: {targets: ['mailto:ops@example.com'], "
                                "if: ['failed>0', 'invalid>2%']}\n")
    assert job.flags["shared_group"] == "sales-ops"
    assert [rule.text for rule in job.flags["alert_if"]] == ["failed>0", "invalid>2%"]
    assert refused(tmp_path, BASE + "alerts: {targets: ['mailto:a@example.com'], if: ['failed>lots']}").startswith(
        "nightly.yaml:4: alerts.if")
