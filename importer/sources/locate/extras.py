"""The optional extras remote sources need (``pip install 'superfone-importer[s3,sftp,gsheets]'``)."""

from __future__ import annotations

import warnings
from importlib import import_module

from importer.errors import ConfigError

SCHEMES = {"s3": "s3://", "sftp": "sftp://", "gsheets": "gsheets://"}


def require(extra: str, *modules: str) -> None:
    """Import ``modules``, or say in one line which extra to install."""
    for name in modules:
        try:
            with warnings.catch_warnings():
                # asyncssh still declares DSA key types, which cryptography deprecates at import time: a warning
                # about code this package never runs, shown on every run otherwise.
                warnings.filterwarnings("ignore", message="DSA is deprecated")
                import_module(name)
        except ImportError:
            raise ConfigError(f"{SCHEMES.get(extra, extra)} sources need the {extra} extra: "
                              f"pip install 'superfone-importer[{extra}]'") from None
