"""A sheet and its mapping written for a test, and the newest run folder of a report folder."""

from __future__ import annotations

import csv
from pathlib import Path


def write_inputs(folder: Path, header: list[str], rows: list[list[str]], mapping: str) -> tuple[Path, Path]:
    """``folder/leads.csv`` (``header`` then ``rows``) and ``folder/mapping.yaml`` (``mapping``)."""
    folder.mkdir(parents=True, exist_ok=True)
    sheet = folder / "leads.csv"
    with open(sheet, "w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows([header, *rows])
    path = folder / "mapping.yaml"
    path.write_text(mapping, encoding="utf-8")
    return sheet, path


def newest(reports: Path) -> Path:
    """The newest run folder in ``reports`` (their names start with the time of the run)."""
    return max((folder for folder in reports.iterdir() if folder.is_dir()), key=lambda folder: folder.name)
