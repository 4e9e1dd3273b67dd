"""Rebuild the committed workbook fixtures (needs xlsxwriter, and LibreOffice for .xls/.ods).

    python tests/data/sources/make_fixtures.py

leads.xlsx is written by xlsxwriter; leads.xls and leads.ods are LibreOffice conversions of it, so the
three files hold the same cells. Tests never run this: they read the committed files.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
from pathlib import Path

import xlsxwriter  # type: ignore[import-untyped]

HERE = Path(__file__).resolve().parent
HEADER = ["Name", "Phone", "Value", "Joined", "Active", "Deal"]


def write_xlsx(path: Path) -> None:
    workbook = xlsxwriter.Workbook(str(path))
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    stamp = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    config = workbook.add_worksheet("Config")
    config.write_row(0, 0, ["Setting", "Value"])
    leads = workbook.add_worksheet("Leads")
    archive = workbook.add_worksheet("Archive")
    leads.activate()
    config.hide()
    leads.write_row(0, 0, HEADER)
    leads.write_string(1, 0, "Text phone")
    leads.write_string(1, 1, "09876543210")
    leads.write_string(1, 2, "9.87654E+09")
    leads.write_datetime(1, 3, dt.datetime(2024, 1, 31), date)
    leads.write_boolean(1, 4, True)
    leads.write_number(1, 5, 0.1)
    leads.write_string(2, 0, "Number phone")
    leads.write_number(2, 1, 9876543210)
    leads.write_number(2, 2, 9876543210.5)
    leads.write_datetime(2, 3, dt.datetime(2024, 1, 31, 10, 30), stamp)
    leads.write_boolean(2, 4, False)
    leads.write_formula(2, 5, "=2*3", None, 6)
    leads.merge_range(4, 0, 4, 1, "Merged")
    leads.write_string(5, 0, " padded ")
    leads.write_string(5, 1, "007")
    leads.write_formula(5, 2, '="98"&"76"', None, "9876")
    archive.write_row(0, 0, ["Name", "Phone"])
    archive.write_row(1, 0, ["Old lead", "0801234567"])
    workbook.close()


def convert(source: Path, target_suffix: str, filter_name: str) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("LibreOffice is needed to write .xls and .ods fixtures")
    with tempfile.TemporaryDirectory() as out:
        command = [soffice, "--headless", "--convert-to", f"{target_suffix}:{filter_name}"]
        subprocess.run([*command, "--outdir", out, str(source)], check=True, capture_output=True)
        shutil.move(Path(out) / f"{source.stem}.{target_suffix}", HERE / f"{source.stem}.{target_suffix}")


def main() -> None:
    source = HERE / "leads.xlsx"
    write_xlsx(source)
    convert(source, "xls", "MS Excel 97")
    convert(source, "ods", "calc8")


if __name__ == "__main__":
    main()
