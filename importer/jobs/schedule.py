"""How a job is run every night: a crontab line, a systemd service and timer, a Windows scheduled task.

Each names the executable by its absolute path (cron's PATH is ``/usr/bin:/bin``: a tool installed in a virtual
environment or ``~/.local/bin`` is not found by its name) and reads the secrets from ``secrets.env``: the shell
with ``set -a; . ./secrets.env`` (every ``KEY=value`` line exported), systemd with ``EnvironmentFile=`` (which
takes ``KEY=value`` lines and ignores nothing else: no ``export``).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

__all__ = ["SECRETS_FILE", "Schedule", "executable"]

SECRETS_FILE = "secrets.env"
_UNIT_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def executable() -> list[str]:
    """The command that runs this tool, by absolute path: ``superfone-import`` where it is installed (found on
    the PATH, else beside this Python), else this Python with ``-m importer``."""
    beside = Path(sys.executable).with_name("superfone-import" + (".exe" if os.name == "nt" else ""))
    for found in (shutil.which("superfone-import"), str(beside) if beside.is_file() else None):
        if found:
            return [str(Path(found).resolve())]
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name.startswith("superfone-import") and script.is_file():
        return [str(script.resolve())]
    return [str(Path(sys.executable).resolve()), "-m", "importer"]


@dataclass(frozen=True)
class Schedule:
    """The job file ``job`` (in ``folder``, an absolute path) run every night at ``at`` (HH:MM) by ``command``."""

    name: str
    folder: Path
    job: str
    command: tuple[str, ...]
    at: str = "01:30"

    @property
    def sync(self) -> str:
        return " ".join([*map(_quoted, self.command), "sync", _quoted(self.job), "--quiet"])

    def cron(self) -> str:
        hour, minute = self.at.split(":")
        return (f"{int(minute)} {int(hour)} * * * cd {_quoted(str(self.folder))} && set -a && . ./{SECRETS_FILE} && "
                f"set +a && {self.sync}")

    def systemd(self) -> list[str]:
        unit = f"superfone-{_UNIT_UNSAFE.sub('-', self.name)}"
        return [
            f"# /etc/systemd/system/{unit}.service", "[Unit]", f"Description=Lead sync into Superfone: {self.name}",
            "", "[Service]", "Type=oneshot", f"WorkingDirectory={self.folder}",
            f"EnvironmentFile={self.folder / SECRETS_FILE}", f"ExecStart={self.sync}", "",
            f"# /etc/systemd/system/{unit}.timer", "[Unit]", f"Description=Run {unit} every night", "", "[Timer]",
            f"OnCalendar=*-*-* {self.at}", "Persistent=true", "", "[Install]", "WantedBy=timers.target", "",
            f"# systemctl daemon-reload && systemctl enable --now {unit}.timer",
        ]

    def schtasks(self) -> str:
        """Task Scheduler reads no secrets.env: the key lives in the user's environment (``setx``)."""
        folder = str(PureWindowsPath(self.folder)) if os.name == "nt" else str(self.folder)
        run = f"cmd /c cd /d \\\"{folder}\\\" && {self.sync}"
        return f'schtasks /Create /TN "superfone {self.name}" /SC DAILY /ST {self.at} /TR "{run}"'


def _quoted(text: str) -> str:
    return f"'{text}'" if re.search(r"[^\w@%+=:,./-]", text) else text
