"""The report folder: summary.json, issues.csv, payloads.jsonl, successes.csv, failures.csv/.xlsx.

cells    neutralise / restore (formula injection), CSV lines, XLSX-safe text
summary  summary.json in contract order, the Summary helper
writer   ReportWriter: creates the run folder and streams rows into it
"""

from importer.report.cells import TRIGGERS, neutralise, restore
from importer.report.summary import SUMMARY_KEYS, Summary
from importer.report.writer import ISSUE_COLUMNS, ReportWriter, run_folder_name

__all__ = [
    "ISSUE_COLUMNS",
    "SUMMARY_KEYS",
    "TRIGGERS",
    "ReportWriter",
    "Summary",
    "neutralise",
    "restore",
    "run_folder_name",
]
