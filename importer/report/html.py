"""report.html: the run folder's summary for people — what happened to the rows, issues by code, the first issues —
in one self-contained page with inline SVG charts (importer.report.charts) and a print stylesheet. It loads
nothing: no script, no stylesheet, no font or image from anywhere. Every value is HTML-escaped; the CSV files
stay the complete record.

The same page serves every kind of run: a dry run, a real run, a plan and a verify (``mode`` in summary.json
names the counts of a kind that reads leads back), and any later kind that writes its counts the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import quote

from importer.api.timeline import RequestRecord
from importer.models import Issue
from importer.report.charts import Bar, Series, bar_chart, duration_label, escape_text, histogram, number, time_series

#: How many issues the page lists; issues.csv has them all.
SHOWN_ISSUES = 500
#: How many issue codes the chart shows (the table lists every one).
CHARTED_CODES = 30

#: The counts the page lists, in this order, in words.
_COUNTS = {"rows_total": "Rows", "valid": "Valid", "invalid": "Invalid", "unchanged": "Unchanged", "sent": "Sent",
           "succeeded": "Succeeded", "failed": "Failed", "in_doubt": "In doubt", "skipped": "Skipped (duplicates)",
           "warnings": "Warnings"}
#: What the files of a run folder hold (a file not named here is listed by its name only).
_FILES = {"summary.json": "the counts, for programs", "issues.csv": "every issue: row, column, code, message",
          "failures.csv": "the rows that did not succeed: fix them and import the file again, same mapping",
          "failures.xlsx": "the same, as a workbook", "successes.csv": "the rows that succeeded",
          "unchanged.csv": "the rows the account already held", "payloads.jsonl": "what a run would send, row by row",
          "requests.csv": "the requests of every second", "plan.csv": "what a send would do, row by row",
          "tasks.csv": "the mapping's tasks", "tasks.jsonl": "the tasks a run would create",
          "before.jsonl": "each lead before the run wrote to it (what undo puts back)",
          "undo.csv": "what undo did, lead by lead", "verify.csv": "each lead read back"}
_STYLE = """body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}
.error{color:#b00020}.warning{color:#8a5a00}.num{text-align:right}
figure{margin:1em 0}svg.chart{max-width:100%;height:auto;display:block}.charts{max-width:640px}
@media print{body{margin:0;font-size:10pt;color:#000}h1{font-size:15pt}h2{break-after:avoid}
figure,svg,tr{break-inside:avoid}th{background:none}td,th{border-color:#888}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}@page{margin:14mm}"""

#: Styles of the outcome bars a kind of run may count (anything else is drawn neutral).
_OUTCOME_STYLES = {
    "succeeded": "good", "would be sent": "good", "ok": "good",
    "failed": "bad", "invalid": "bad", "conflict": "bad", "missing": "bad", "different": "bad",
    "in doubt": "doubt",
    "skipped (duplicate)": "muted", "unchanged": "muted", "unchanged since the last run": "muted",
    "not sent (stopped)": "muted",
}
#: Counts of a kind that are a part of another of its counts, not an outcome of their own.
_SUBSETS = frozenset({"would_fail"})


def _cell(value: Any, css: str = "") -> str:
    attribute = f' class="{escape_text(css)}"' if css else ""
    return f"<td{attribute}>{escape_text(str(value))}</td>"


def _table(header: Iterable[str], rows: Iterable[str]) -> str:
    head = "".join(f"<th>{escape_text(name)}</th>" for name in header)
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def input_name(text: str) -> str:
    """The input's (or mapping's) own name, without the folder it was read from (a temporary one for the page's
    uploads) or a URL's query."""
    name = text.split("?", 1)[0].rstrip("/\\")
    return name.replace("\\", "/").rsplit("/", 1)[-1] or text


def local_time(text: str, zone: tzinfo | None = None) -> str:
    """An ISO time as people read it: in the local time zone (or ``zone``), to the second, with the zone's name;
    text that is not a time is shown as it is."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname() or local.strftime('%z')}"


def _facts(summary: Mapping[str, Any]) -> str:
    facts = []
    if "mapping" in summary:
        facts.append(f"mapping {input_name(str(summary['mapping']))}")
    for key, words in (("started_at", "started"), ("finished_at", "finished")):
        if key in summary:
            facts.append(f"{words} {local_time(str(summary[key]))}")
    duration = summary.get("duration_s")
    if isinstance(duration, int | float) and not isinstance(duration, bool):
        facts.append(f"took {duration_label(round(duration, 1))}")
    elif duration is not None:
        facts.append(f"took {duration}")
    return " · ".join(escape_text(fact) for fact in facts)


def _files(names: Iterable[str]) -> str:
    """A link to each file of the run folder, relative (the folder may be moved or mailed as a whole)."""
    items = "".join(f'<li><a href="{escape_text(quote(name))}">{escape_text(name)}</a>'
                    + (f": {escape_text(_FILES[name])}" if name in _FILES else "") + "</li>"
                    for name in names)
    return f"<h2>Files</h2><ul>{items}</ul>" if items else ""


def _count(summary: Mapping[str, Any], key: str) -> int:
    value = summary.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def kind_of(summary: Mapping[str, Any]) -> str:
    """What the page calls the run: ``plan``, ``verify`` (its ``mode``), ``undo``, ``apply``, ``dry run`` or
    ``import``."""
    mode = summary.get("mode")
    if isinstance(mode, str) and mode:
        return mode
    if "undo_of" in summary:
        return "undo (dry run)" if summary.get("dry_run") else "undo"
    if "plan_dir" in summary:
        return "apply"
    return "dry run" if summary.get("dry_run") else "import"


def outcome_bars(summary: Mapping[str, Any]) -> list[Bar]:
    """What became of every row, in bars that add up to ``rows_total``: a real run's outcomes, a dry run's
    verdicts, or the counts of a kind that reads leads back (``summary[mode]``), then the rows none of them saw."""
    mode = summary.get("mode")
    counts = summary.get(mode) if isinstance(mode, str) else None
    if isinstance(counts, Mapping):
        named = [(str(name).replace("_", " "), n) for name, n in counts.items()
                 if name not in _SUBSETS and isinstance(n, int)]
        named += [("skipped (duplicate)", _count(summary, "skipped")), ("invalid", _count(summary, "invalid"))]
        if _count(summary, "unchanged"):
            named.append(("unchanged since the last run", _count(summary, "unchanged")))
    elif summary.get("dry_run"):
        unchanged, skipped = _count(summary, "unchanged"), _count(summary, "skipped")
        named = [("would be sent", max(0, _count(summary, "valid") - skipped - unchanged)),
                 ("skipped (duplicate)", skipped), ("invalid", _count(summary, "invalid"))]
        if "unchanged" in summary:
            named.insert(1, ("unchanged", unchanged))
    else:
        named = [(name.replace("_", " "), _count(summary, name)) for name in ("succeeded", "failed", "in_doubt")]
        named += [("skipped (duplicate)", _count(summary, "skipped")), ("invalid", _count(summary, "invalid")),
                  ("unchanged", _count(summary, "unchanged"))]
    if "rows_left" in summary:
        named.append(("not sent (stopped)", _count(summary, "rows_left")))
    return [Bar(name, n, _OUTCOME_STYLES.get(name, "neutral")) for name, n in named]


def code_bars(summary: Mapping[str, Any]) -> list[Bar]:
    """One bar per issue code: errors first, then warnings, each most frequent first."""
    bars = [Bar(str(code), n, "bad", "error") for code, n in _codes(summary, "errors_by_code")]
    bars += [Bar(str(code), n, "warning", "warning") for code, n in _codes(summary, "warnings_by_code")]
    return bars


def _codes(summary: Mapping[str, Any], key: str) -> list[tuple[str, int]]:
    counts = summary.get(key) or {}
    return [(code, n) for code, n in counts.items() if isinstance(n, int)] if isinstance(counts, Mapping) else []


def _outcomes_figure(summary: Mapping[str, Any]) -> str:
    bars = outcome_bars(summary)
    total = _count(summary, "rows_total")
    desc = f"{number(total)} rows: " + ", ".join(f"{number(bar.value)} {bar.label}" for bar in bars) + "."
    return f"<figure>{bar_chart('outcomes', 'What became of the rows', desc, bars)}</figure>"


def _codes_figure(bars: list[Bar]) -> str:
    shown = bars[:CHARTED_CODES]
    desc = "; ".join(f"{bar.label} ({bar.note}): {number(bar.value)}" for bar in shown) + "."
    more = (f"<figcaption>The {len(shown)} most frequent codes of {len(bars)}; the table lists every one."
            "</figcaption>" if len(bars) > len(shown) else "")
    return f"<figure>{bar_chart('issues', 'Issues by code', desc, shown)}{more}</figure>"


# --- requests ----------------------------------------------------------------------------------------------------

_REQUEST_COUNTS = (("sent", "total"), ("retried", "retried"), ("answered 2xx", "ok"), ("answered 429", "throttled"),
                   ("answered another 4xx", "client_error"), ("answered 5xx", "server_error"),
                   ("no answer (connection failed, timed out or dropped)", "no_answer"))


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{number(value)} ms"


def _requests_section(record: RequestRecord) -> str:
    """Requests over time (sent, retried, 429), their latency over time and as a histogram, and their totals."""
    totals = record.summary()
    latency = totals["latency_ms"]
    buckets = record.buckets()
    per = "second" if buckets.step_s == 1 else duration_label(buckets.step_s)
    counts = buckets.counts
    lines = [Series("sent", counts["sent"], "sent", number(totals["total"])),
             Series("retried", counts["retried"], "retried", number(totals["retried"])),
             Series("429", counts["throttled"], "throttled", number(totals["throttled"]))]
    peak = max(counts["sent"], default=0)
    desc = (f"{number(totals['total'])} requests over {duration_label(record.seconds)}: {number(totals['retried'])} "
            f"retried, {number(totals['throttled'])} answered 429; at most {number(peak)} in one {per}.")
    over_time = time_series("requests", f"Requests per {per}", desc, lines, step_s=buckets.step_s,
                            y_title=f"requests per {per}")
    speed = [Series("average", buckets.latency_avg_ms, "sent"),
             Series("longest", buckets.latency_max_ms, "max", f"max {_ms(latency['max'])}")]
    overall = f"p50 {_ms(latency['p50'])}, p95 {_ms(latency['p95'])}"
    speed_desc = f"Time to answer, per {per}: {overall}, max {_ms(latency['max'])}."
    speed_chart = time_series("latency", f"Latency per {per} ({overall})", speed_desc, speed,
                              step_s=buckets.step_s, y_title="milliseconds")
    bins = [Bar(_range(low, high), count) for low, high, count in record.latency_bins()]
    spread = histogram("latency-histogram", "How long the answers took", speed_desc + " " + "; ".join(
        f"{bar.label}: {number(bar.value)}" for bar in bins) + ".", bins, x_title="time to answer",
        y_title="answers")
    rows = [f"<tr><th>{escape_text(label)}</th>{_cell(number(totals[key]), 'num')}</tr>" for label, key in
            _REQUEST_COUNTS]
    rows += [f"<tr><th>latency {name}</th>{_cell(_ms(latency[name]), 'num')}</tr>" for name in ("p50", "p95", "max")]
    kinds = _table(("kind", "requests"), (f"<tr>{_cell(kind)}{_cell(number(n), 'num')}</tr>"
                                          for kind, n in totals["by_kind"].items()))
    figures = "".join(f"<figure>{chart}</figure>" for chart in (over_time, speed_chart, spread))
    return (f'<h2>Requests</h2><div class="charts">{figures}</div>{_table(("", "requests"), rows)}{kinds}'
            "<p>requests.csv has the counts and latencies of every second.</p>")


def _range(low: float, high: float) -> str:
    """A latency bin's label: ``1–2 ms``, ``500 ms–1 s``, ``< 10 µs``, ``≥ 1,000 s``."""
    if low == 0:
        return f"< {_duration(high)}"
    if high == float("inf"):
        return f"≥ {_duration(low)}"
    low_text, high_text = _duration(low), _duration(high)
    low_number, _, low_unit = low_text.partition(" ")
    return f"{low_number}–{high_text}" if high_text.endswith(" " + low_unit) else f"{low_text}–{high_text}"


def _duration(seconds: float) -> str:
    for unit, size in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= size * (1 - 1e-9):
            return f"{number(round(seconds / size, 6))} {unit}"
    return f"{number(round(seconds / 1e-6, 6))} µs"


def render_html(summary: Mapping[str, Any], issues: list[Issue], issues_total: int,
                requests: RequestRecord | None = None, files: Iterable[str] = ()) -> str:
    """The page for one run: ``issues`` are the first ones written, ``issues_total`` how many there are;
    ``requests``, the run's requests (a run that sent or read leads); ``files``, the run folder's files (linked)."""
    title = f"{kind_of(summary)}: {input_name(str(summary.get('input', '')))}"
    counts = _table(("", "rows"), (f"<tr><th>{escape_text(words)}</th>{_cell(summary.get(key, 0), 'num')}</tr>"
                                   for key, words in _COUNTS.items() if key in summary))
    tasks = summary.get("tasks") or {}
    if tasks:  # the mapping's tasks: created, already there, failed, in doubt (a dry run: planned, skipped)
        counts += "<h2>Tasks</h2>" + _table(("", "tasks"), (
            f"<tr><th>{escape_text(str(key).replace('_', ' ').capitalize())}</th>{_cell(n, 'num')}</tr>"
            for key, n in tasks.items()))
    by_code = code_bars(summary)
    codes = _table(("code", "severity", "rows"),
                   (f"<tr>{_cell(b.label, b.note)}{_cell(b.note)}{_cell(number(b.value), 'num')}</tr>"
                    for b in by_code))
    listed = _table(("row", "column", "severity", "code", "message", "value"), (
        f"<tr>{_cell('' if i.row is None else i.row)}{_cell(i.column)}{_cell(i.severity, i.severity)}"
        f"{_cell(i.code)}{_cell(i.message)}{_cell(i.value)}</tr>" for i in issues))
    more = (f"<p>The first {len(issues)} of {issues_total} issues; issues.csv has every one.</p>"
            if issues_total > len(issues) else "")
    facts = _facts(summary)
    listed_files = list(files)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape_text(title)}</title>'
            f"<style>{_STYLE}</style></head><body><h1>{escape_text(title)}</h1><p>{facts}</p>"
            f'<h2>Rows</h2><div class="charts">{_outcomes_figure(summary)}</div>{counts}'
            "<h2>Issues by code</h2>"
            + (f'<div class="charts">{_codes_figure(by_code)}</div>{codes}' if by_code else "<p>None.</p>")
            + (_requests_section(requests) if requests is not None else "")
            + f"<h2>Issues</h2>{more}{listed if issues else '<p>None.</p>'}"
            + _files(listed_files) + "</body></html>\n")
