"""report.html: the run folder's summary for people — counts, issues by code, the first issues — in one
self-contained page. Every value is HTML-escaped; the CSV files stay the complete record."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from importer.models import Issue

#: How many issues the page lists; issues.csv has them all.
SHOWN_ISSUES = 500

_COUNTS = ("rows_total", "valid", "invalid", "sent", "succeeded", "failed", "in_doubt", "skipped", "warnings")
_STYLE = """body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}
.error{color:#b00020}.warning{color:#8a5a00}.num{text-align:right}"""


def _cell(value: Any, css: str = "") -> str:
    attribute = f' class="{css}"' if css else ""
    return f"<td{attribute}>{escape(str(value))}</td>"


def _table(header: Iterable[str], rows: Iterable[str]) -> str:
    head = "".join(f"<th>{escape(name)}</th>" for name in header)
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def render_html(summary: Mapping[str, Any], issues: list[Issue], issues_total: int) -> str:
    """The page for one run: ``issues`` are the first ones written, ``issues_total`` how many there are."""
    kind = "dry run" if summary.get("dry_run") else "import"
    title = f"{kind}: {summary.get('input', '')}"
    counts = _table(("", "rows"), (f"<tr><th>{escape(key)}</th>{_cell(summary.get(key, 0), 'num')}</tr>"
                                   for key in _COUNTS if key in summary))
    by_code = [(code, n, "error") for code, n in (summary.get("errors_by_code") or {}).items()]
    by_code += [(code, n, "warning") for code, n in (summary.get("warnings_by_code") or {}).items()]
    codes = _table(("code", "severity", "rows"),
                   (f"<tr>{_cell(code, css)}{_cell(css)}{_cell(n, 'num')}</tr>" for code, n, css in by_code))
    listed = _table(("row", "column", "severity", "code", "message", "value"), (
        f"<tr>{_cell('' if i.row is None else i.row)}{_cell(i.column)}{_cell(i.severity, i.severity)}"
        f"{_cell(i.code)}{_cell(i.message)}{_cell(i.value)}</tr>" for i in issues))
    more = (f"<p>The first {len(issues)} of {issues_total} issues; issues.csv has every one.</p>"
            if issues_total > len(issues) else "")
    facts = " · ".join(escape(f"{key}: {summary[key]}") for key in ("mapping", "started_at", "duration_s")
                       if key in summary)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1><p>{facts}</p>{counts}"
            f"<h2>Issues by code</h2>{codes if by_code else '<p>None.</p>'}"
            f"<h2>Issues</h2>{more}{listed if issues else '<p>None.</p>'}"
            "<p>Files: summary.json, issues.csv, failures.csv, successes.csv, payloads.jsonl (dry run).</p>"
            "</body></html>\n")
