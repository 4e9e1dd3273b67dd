"""The command line: ``superfone-import`` (also ``python -m importer``)."""

from importer.cli.commands import main

__all__ = ["main"]
