"""The report folder: summary.json, issues.csv, payloads.jsonl, successes.csv, failures.csv/.xlsx.

cells     neutralise / restore (formula injection), CSV lines, XLSX-safe text
payloads  payloads.jsonl: its one writer and its one reader
summary   Summary: the run's counts and their invariant; summary.json in contract order
writer    ReportWriter: creates the run folder and streams rows into it
html      report.html
"""

from importer.report.cells import TRIGGERS, neutralise, restore
from importer.report.payloads import parse_payload_lines, payload_line, read_payloads
from importer.report.summary import SUMMARY_KEYS, Summary
from importer.report.writer import ISSUE_COLUMNS, ReportWriter, run_folder_name

__all__ = [
    "ISSUE_COLUMNS",
    "SUMMARY_KEYS",
    "TRIGGERS",
    "ReportWriter",
    "Summary",
    "neutralise",
    "parse_payload_lines",
    "payload_line",
    "read_payloads",
    "restore",
    "run_folder_name",
]
