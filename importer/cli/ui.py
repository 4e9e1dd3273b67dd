"""``superfone-import ui [--port 8766] [--sandbox]``: the local web page (importer.ui), on 127.0.0.1 only."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from importer.ui import DEFAULT_MAX_UPLOAD_MB, DEFAULT_PORT


def add_command(commands: Any) -> None:
    """``superfone-import ui``, registered on the CLI's subcommands."""
    command = commands.add_parser("ui", help="a local web page to check a sheet and send it (127.0.0.1 only)")
    add_arguments(command)
    command.set_defaults(handler=run)


def add_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="PORT",
                         help=f"port on 127.0.0.1 (default: {DEFAULT_PORT}; 0: any free port)")
    command.add_argument("--sandbox", action="store_true",
                         help="import into a local sandbox started with the page (no account needed)")
    command.add_argument("--base-url", default=os.environ.get("SF_BASE_URL") or None, metavar="URL",
                         help="API base URL (env SF_BASE_URL; default: the production URL)")
    command.add_argument("--work-dir", type=Path, default=Path("superfone-ui"), metavar="DIR",
                         help="where uploaded sheets and run folders go (default: superfone-ui)")
    command.add_argument("--max-upload-mb", type=float, default=DEFAULT_MAX_UPLOAD_MB, metavar="MB",
                         help=f"largest sheet the page accepts (default: {DEFAULT_MAX_UPLOAD_MB:g})")


def run(args: argparse.Namespace) -> int:
    from importer.api.client import DEFAULT_BASE_URL
    from importer.errors import ConfigError
    from importer.ui.server import HOST, listen, uvicorn_server
    from importer.ui.settings import Account, UiSettings

    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, got {args.port}")
    if args.max_upload_mb <= 0:
        raise ConfigError(f"--max-upload-mb must be greater than 0, got {args.max_upload_mb:g}")
    with ExitStack() as stack:
        key = os.environ.get("SF_API_KEY") or None
        account = Account(args.base_url or DEFAULT_BASE_URL, key, "from SF_API_KEY" if key else "")
        settings = UiSettings(args.work_dir, account, max_upload_bytes=int(args.max_upload_mb * 1_000_000))
        if args.sandbox:
            from importer.sandbox import SandboxConfig, SandboxServer

            server = stack.enter_context(SandboxServer(SandboxConfig()))
            settings.account = Account(server.base_url, server.api_key, "the sandbox's")
            settings.sandbox, settings.rate = True, 50.0
            settings.state = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "state.sqlite"
            print(f"sandbox: {server.base_url} (in-process, fresh state)")
        sock = listen(args.port)
        stack.callback(sock.close)
        port = sock.getsockname()[1]
        print(f"superfone-import page: http://{HOST}:{port}/ (work folder: {args.work_dir}; Ctrl-C to stop)",
              flush=True)
        try:
            uvicorn_server(settings).run(sockets=[sock])
        except KeyboardInterrupt:
            pass
    sys.stdout.flush()
    return 0
