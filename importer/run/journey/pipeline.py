"""The import, end to end, as one row journey: read → map → check (row, then cross-row) → decide → act → record.

    read    open the source (a file, a pandas DataFrame or dicts) as a Table        importer.sources
    map     load the mapping that turns a row into a payload draft               importer.mapping
    check   each row (phones, names against the catalog), then across rows      importer.checks
    decide  what to do with each row that passes                                 the kind of run
    act     write payloads, send, or read leads back                             the kind of run
    record  issues and counts as each row passes; outcomes; the report folder    here, importer.report

What differs between a dry run, a real run, a plan and a verify is the :class:`~importer.run.context.kind.RunKind`
handed in; the journey is the same for all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

from importer.api.catalog import Catalog
from importer.api.client import SuperfoneClient
from importer.api.retry import Retrying
from importer.api.timeline import RequestTimeline
from importer.checks.crossrow import CrossRowIndex
from importer.checks.parallel import Keep, default_workers
from importer.checks.row import RowChecker
from importer.errors import ApiError, ConfigError, InputError, StopRequested
from importer.mapping import Mapping, load_mapping
from importer.mapping.dates import Order
from importer.mapping.profile import DateProfiles, date_orders, profile_dates
from importer.outcomes import StopReason
from importer.private import check_group, give_to_group, owner_only, warn_if_readable
from importer.profiling import RunProfile
from importer.report import ReportWriter, Summary
from importer.report.records import ReadFacts
from importer.run.context.kind import Access, RunContext, RunKind
from importer.run.context.options import NullProgress, Progress, RunOptions
from importer.run.context.result import RunResult
from importer.run.context.room import Reserve, check_room, disk_full
from importer.run.context.rows import CheckedBatch, CheckedRows, check_rows
from importer.run.engine.heartbeat import Heartbeat
from importer.run.engine.stop import Stop
from importer.run.kinds.dry import DryRun
from importer.run.kinds.ledger import sync_state_exists
from importer.run.kinds.send import Send
from importer.sources import Source, Table, open_source
from importer.sources.locate import DEFAULT_SETTLE

#: A column only the importer's own report files have: such an input is a failures file being re-imported.
REPORT_ROW_COLUMN = "_row"
OFFLINE_NOTE = ("catalog checks skipped (offline or no API key): stage, group, label and product names were "
                "not checked against the account")


def utcnow() -> datetime:
    return datetime.now(UTC).astimezone()


class Importer:
    """One run of one source with one mapping; ``run()`` returns the report folder, summary and exit code.

    ``source``: a file path, a glob or folder (its newest file: ``pick`` ``mtime`` or ``name``, once unchanged for
    ``settle`` seconds), a URI (``https://``, ``s3://``, ``sftp://``, ``gsheets://``), a located
    :class:`~importer.sources.SourceFile`, a pandas DataFrame or an iterable of dicts (column → cell). ``kind``:
    what the run does with the checked rows; by default a real run, or a dry run when ``options.dry_run`` is set.
    ``stop``: the run's :class:`~importer.run.engine.stop.Stop` (the CLI's signal handlers request it); a run that stops
    writes its report, with summary.json ``stopped`` and ``rows_left``. ``StopRequested`` escapes only a run stopped
    before it began its report (a quota-length Retry-After while reading the catalog).
    """

    def __init__(self, source: Source, mapping: str | Path | Mapping, options: RunOptions | None = None,
                 progress: Progress | None = None, *, kind: RunKind | None = None, stop: Stop | None = None,
                 pick: str = "mtime", settle: float = DEFAULT_SETTLE) -> None:
        self.source = source
        self.pick, self.settle = pick, settle
        self.mapping = mapping
        self.options = options or RunOptions()
        self.progress = progress or NullProgress()
        self.kind = kind or (DryRun() if self.options.dry_run else Send())
        self.stop = stop if stop is not None else Stop()
        self._reserve: Reserve | None = None
        #: ``options.profile``: where the checking processes leave their profiles.
        self._profile_dir: str | None = None
        #: The date orders the sheet's first rows show (:meth:`_date_orders`).
        self._first_orders: dict[int, Order] = {}
        self._first_dates: DateProfiles | None = None  # the profile of the sheet's first rows

    def run(self) -> RunResult:
        group = self.options.shared_group
        if group:
            check_group(group)
        if self.options.time_limit is not None:
            self.stop.limit_time(self.options.time_limit)
        try:
            with owner_only(group), Heartbeat() as heartbeat:  # what the run writes is its owner's (and group's)
                if self.options.report_dir.is_dir():
                    warn_if_readable(self.options.report_dir)
                result = self._profiled(heartbeat) if self.options.profile else self._run(heartbeat)
            if group:
                give_to_group(result.folder, group)
            return result
        finally:
            self.stop.close()

    def _profiled(self, heartbeat: Heartbeat) -> RunResult:
        """:meth:`_run`, recorded with cProfile (here and in the checking processes) into the report folder."""
        profile = RunProfile()
        try:
            self._profile_dir = profile.workers
            with profile:
                result = self._run(heartbeat)
            profile.write(result.folder)
            return result
        finally:
            profile.close()

    def _run(self, heartbeat: Heartbeat) -> RunResult:
        started = utcnow()
        table = open_source(self.source, self.options.sheet, pick=self.pick, settle=self.settle)   # read
        with table:  # a downloaded copy is removed once the run is over
            return self._journey(table, heartbeat, started)

    def _journey(self, table: Table, heartbeat: Heartbeat, started: datetime) -> RunResult:
        mapping = self.mapping if isinstance(self.mapping, Mapping) else load_mapping(self.mapping)   # map
        mapping.check_columns(table.columns, source=table.path.name)
        mapping = self._date_orders(table, mapping)                               # dd/mm or mm/dd, per column
        with ExitStack() as stack:
            client = self._client()
            if client is not None:
                stack.callback(client.close)
            heartbeat.doing("reading the account's catalog")
            catalog = self._catalog(client)
            heartbeat.doing("checking rows")
            checked, mapping = self._check(table, mapping, catalog, client is not None)           # check
            stack.enter_context(checked)
            if checked.total == 0:
                raise InputError(f"{table.path.name}: no data rows below the header: nothing to import")
            writer = stack.enter_context(ReportWriter(
                self.options.report_dir, table.path, columns=table.columns, workbook=table.is_workbook,
                dry_run=not self.kind.access.writes, started_at=started))
            self._reserve = self._keep_room(writer, table, checked.total)
            stack.callback(self._reserve.release)
            summary = self._new_summary(table, mapping, catalog, started)
            run = RunContext(self.options, client, catalog, table, mapping, checked, writer, summary,
                             self.progress, started, self.stop, heartbeat)
            self._act(run)                                                             # decide, act
            folder = self._finish(run)                                                 # record
        return RunResult(folder, summary.as_dict(), self.kind.exit_code(summary))

    # --- the journey --------------------------------------------------------------------------------------

    def _check(self, table: Table, mapping: Mapping, catalog: Catalog | None,
               online: bool) -> tuple[CheckedRows, Mapping]:
        """Pass one, and the mapping it checked with. A mapping whose date orders are decided per input comes with
        the orders its first rows show; every row's date cells, profiled as they are checked, then decide them: pass
        one runs again only for an input whose first rows did not show its orders. A read of the whole sheet
        before the checks cost the 1,000,000-row CSV of ``benchmarks/bench_validate.py`` with two date columns
        6.9 s of CPU in the checking processes (5.1 s in this one before that); profiling the cells as they are
        checked costs 1.3 s (1.3 µs a row)."""
        checked = self._check_rows(table, mapping, catalog, online, self._first_dates)
        if checked.dates is None:
            return checked, mapping
        try:
            orders = date_orders(mapping, checked.dates, table.path.name)
        except ConfigError:
            checked.close()
            raise
        if orders == self._first_orders:
            return checked, mapping
        checked.close()
        decided = mapping.with_date_orders(orders)
        return self._check_rows(table, decided, catalog, online), decided

    def _check_rows(self, table: Table, mapping: Mapping, catalog: Catalog | None, online: bool,
                    first_dates: DateProfiles | None = None) -> CheckedRows:
        checker = RowChecker(mapping, catalog, restore_cells=REPORT_ROW_COLUMN in table.columns)
        index = CrossRowIndex(self.options.on_duplicate, mapping.column_for("customer_phone"),
                              mapping.column_for("add_phones"))
        workers = self.options.workers or default_workers(table)
        # A real run writes the cells to its report files; it, and a run that says what a sync would send,
        # tell unchanged rows by their digests.
        org_id = catalog.org_id if catalog is not None else None
        digests = self.kind.access.writes or (online and sync_state_exists(self.options, org_id))
        keep = Keep(table.columns if self.kind.access.writes else None, digests)
        return check_rows(table, checker, index, workers=workers, keep=keep, progress=self.progress,
                          profile_dir=self._profile_dir, first_dates=first_dates)

    def _date_orders(self, table: Table, mapping: Mapping) -> Mapping:
        """The mapping with the day/month order of each date column as the sheet's first rows show it (ConfigError
        when they already contradict each other); :meth:`_check` holds it against every row."""
        if not mapping.date_sources:
            return mapping
        first = profile_dates(mapping, islice(table.batches(), 1))
        self._first_orders = date_orders(mapping, first, table.path.name, final=False)
        self._first_dates = first
        return mapping.with_date_orders(self._first_orders)

    def _act(self, run: RunContext) -> None:
        try:
            self.kind.act(recorded(run.checked.replay(), run.writer, run.summary), run)
        except ConfigError as exc:
            if run.summary.sent == 0:
                run.writer.discard()  # refused before anything was sent (a guard, another run holding the state)
                raise
            # A file of the run found damaged after rows were sent: the report keeps what was done.
            run.summary.stop_by_error(str(exc))
            exc.report_folder = self._finish(run)
            raise
        except StopRequested:
            pass  # the stop was requested (the summary says why, below)
        except OSError as exc:
            if not disk_full(exc):
                raise
            self.stop.request(StopReason.DISK_FULL, f"no space left on the disk of {self.options.report_dir}")
        except (ApiError, KeyboardInterrupt) as exc:
            # The run stops (401, Ctrl-C): keep the report of what was done; the journal resumes the rest.
            run.summary.stop_by_error(str(exc) if isinstance(exc, ApiError) else "interrupted")
            folder = self._finish(run)
            if isinstance(exc, ApiError):
                exc.report_folder = folder
            raise

    def _finish(self, run: RunContext) -> Path:
        summary = run.summary
        summary.finished_at = utcnow()
        stopped = self.stop.requested or summary.stopped is not None
        counted = not stopped or summary.rows_left is not None  # a stopped run's rows, counted by the kind itself
        self._mark_stopped(run)
        if self.kind.access.writes and counted:
            summary.check_invariant()
        if run.writer.workbook_truncated:
            summary.failures_xlsx_truncated = True
        if self._reserve is not None:
            self._reserve.release()  # its room is for what follows: a full disk must not cost the report
        timeline = run.client.observer if run.client is not None else None
        requests = timeline.record() if isinstance(timeline, RequestTimeline) else None
        try:
            return run.writer.finish(summary, finished_at=summary.finished_at, requests=requests)
        except OSError as exc:
            raise ConfigError(f"cannot write the report in {run.writer.folder}: {exc.strerror or exc}") from None

    def _mark_stopped(self, run: RunContext) -> None:
        """A run whose stop was requested says so: why, and how many rows it did not get to (a kind that sends
        counts its own ``rows_left``; others did not reach the rows after the last one they recorded)."""
        if self.stop.reason is not None:  # (the first stop recorded wins)
            run.summary.stop(self.stop.reason, self.stop.detail, run.checked.total - run.summary.rows_total)

    def _keep_room(self, writer: ReportWriter, table: Table, rows: int) -> Reserve:
        """Room for the whole report, checked before the run acts; a reserve held in the run folder (exit 2)."""
        try:
            size = table.path.stat().st_size
        except OSError:  # a DataFrame or dicts: no file
            size = 0
        try:
            check_room(writer.folder, size, rows, self.kind.access.writes)
            return Reserve(writer.folder)
        except ConfigError:
            writer.discard()
            raise

    # --- set-up -------------------------------------------------------------------------------------------

    def _client(self) -> SuperfoneClient | None:
        """The account's client; None for a dry run without a key or with ``--offline`` (names go unchecked)."""
        key, kind = self.options.api_key, self.kind
        if kind.access.needs_key and not key:
            raise ConfigError(_needs_key(kind))
        if kind.access is Access.READS and self.options.offline:
            raise ConfigError(_needs_key(kind))
        if not key or (self.options.offline and not kind.access.writes):
            return None
        # A run that sends or reads leads records its requests for the report (requests.csv, the charts).
        timeline = RequestTimeline() if kind.access.needs_key else None
        return SuperfoneClient(self.options.base_url, key, timeout=self.options.timeout,
                               pool_size=self.options.concurrency, observer=timeline)

    def _catalog(self, client: SuperfoneClient | None) -> Catalog | None:
        if client is None:
            return None
        self.progress.start("catalog", None)
        catalog = Catalog.fetch(client, Retrying(self.options.retry, stop=self.stop, max_wait=self.options.max_wait))
        self.progress.finish()
        return catalog

    def _new_summary(self, table: Table, mapping: Mapping, catalog: Catalog | None,
                     started: datetime) -> Summary:
        summary = Summary(str(self._input_name(table)), str(self._mapping_name(mapping)), not self.kind.access.writes,
                          started_at=started)
        summary.read = ReadFacts(catalog is not None, table.sheet_name,
                                 table.origin.describe() if table.origin is not None else None,
                                 OFFLINE_NOTE if catalog is None else None)
        return summary

    def _input_name(self, table: Table) -> str | Path:
        if table.origin is not None:
            return table.origin.display  # as the user wrote it, minus secrets
        return self.source if isinstance(self.source, str | Path) else table.path

    def _mapping_name(self, mapping: Mapping) -> str | Path:
        return self.mapping if isinstance(self.mapping, str | Path) else mapping.path


def recorded(batches: Iterable[CheckedBatch], writer: ReportWriter, summary: Summary) -> Iterator[CheckedBatch]:
    """The record stage of the check's results: each row's issues are written and counted as it passes."""
    for batch in batches:
        issues = batch.all_issues()
        summary.count_rows(batch.verdicts, issues)
        if issues:
            writer.add_issues(issues)
        yield batch


def _needs_key(kind: RunKind) -> str:
    if kind.access.writes:
        return ("SF_API_KEY is not set: a real import needs the account's API key "
                "(use --dry-run to check the sheet without it, or --sandbox to try it locally)")
    return f"{kind.name} reads the account: set SF_API_KEY (or use --sandbox), and do not combine it with --offline"
