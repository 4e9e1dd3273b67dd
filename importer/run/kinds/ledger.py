"""What a sync run reads from and writes to the sync state: the decide stage of a real run, and its record.

Per row that passed the checks (see :mod:`importer.run.rules.sync` for the rules): a row whose requests are byte for
byte those this job last confirmed for its lead is ``unchanged``; any other is decided field by field. A note
this tool delivered to the lead (or may have) is never sent again, unless ``--repeat-notes``. An outcome confirms
what was sent only when it succeeded; a failed or in-doubt row is decided afresh by the next run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from importer.checks.row import split_labels
from importer.checks.spill import CheckedBatch, CheckedRow
from importer.errors import ConfigError
from importer.fields import NOTE
from importer.issues import issue
from importer.models import Issue
from importer.report.records import SyncFacts
from importer.run.context.options import RunOptions
from importer.run.kinds.prior import BeforeWrite, PriorRead
from importer.run.rules.sync import Confirmed, confirmed_after, decide
from importer.run.stores.account import AccountState
from importer.run.stores.home import account_key
from importer.run.stores.journal import Journal
from importer.run.stores.state import NoteStatus, StoredLead, SyncState

__all__ = ["Decide", "GuardError", "Pending", "SyncDecide", "SyncLedger", "account_key", "account_state"]

#: The invalid share of rows may grow by this many points over the job's last run before the guard stops a run.
INVALID_MARGIN = 20.0


class GuardError(ConfigError):
    """A nightly file looks broken (far fewer rows, far more invalid ones): nothing is sent, exit 2."""


@dataclass(frozen=True, slots=True)
class Pending:
    """What a row sent, so that its outcome can be confirmed: the requests decided, the whole row (sent instead
    when the lead is gone), what was confirmed before, and the row's digest and note."""

    phone: str
    digest: bytes
    request: dict[str, Any]
    whole: dict[str, Any]
    before: Confirmed | None
    note: str | None


@dataclass
class Decided:
    """The decide stage's answer for one row: ``unchanged``, or a job's requests, fallback and pending record."""

    unchanged: bool
    requests: tuple[dict[str, Any], ...] = ()
    fallback: tuple[dict[str, Any], ...] = ()
    pending: Pending | None = None
    issues: tuple[Issue, ...] = ()
    #: Not sent, and the row fails with this message (apply: a row its plan found in conflict).
    refused: str = ""


def account_state(options: RunOptions, org_id: int | None) -> AccountState:
    """The state of the account a run with ``options`` writes to (not yet opened)."""
    return AccountState(options.state, account_key(options.base_url, org_id), options.report_dir)


def sync_state_exists(options: RunOptions, org_id: int | None) -> bool:
    """A run that does not write uses the sync's state only when a real run has written one (and not ``--full``)."""
    return not options.full and account_state(options, org_id).exists()


@contextmanager
def reading_ledger(options: RunOptions, org_id: int | None, mapping_path: Path,
                   online: bool) -> Iterator[SyncLedger | None]:
    """The job's ledger for a run that only says what a real run would send (a dry run, a plan): None when the
    account is not known (offline), with ``--full``, or when no real run has written a state yet."""
    if not online or not sync_state_exists(options, org_id):
        yield None
        return
    with account_state(options, org_id) as opened:
        ledger = SyncLedger.of(opened.state, options, org_id, mapping_path)
        ledger.merged = opened.merged
        yield ledger


class SyncLedger:
    """One job's sync state for the length of one run."""

    def __init__(self, state: SyncState, account: str, job_name: str, options: RunOptions) -> None:
        self.state = state
        self.account = account
        self.job_name = job_name
        self.job = state.job(account, job_name)
        self.options = options
        self.run_id = 0
        #: What was merged into the state as it was opened (one line each), for the run's summary.
        self.merged: list[str] = []
        self._unknown: set[str] = set()  # the current batch's phones the job has not confirmed
        #: Commits what the run recorded of its rows (the journal's grouped writes) before a note is forgotten.
        self.before_forgetting: Callable[[], None] = lambda: None

    def describe(self) -> SyncFacts:
        """The summary's lines about the job and its state (where it lives, what was merged into it)."""
        return SyncFacts(self.job_name, self.state.where, list(self.merged))

    @classmethod
    def of(cls, state: SyncState, options: RunOptions, org_id: int | None, mapping_path: Path) -> SyncLedger:
        """The ledger of the job a run belongs to (``--job``, by default the mapping file's stem)."""
        return cls(state, account_key(options.base_url, org_id), options.job or mapping_path.stem, options)

    # --- guards -------------------------------------------------------------------------------------------

    def guard(self, input_name: str, rows: int, invalid: int) -> None:
        """Refuse a nightly file that looks broken next to the job's last run (before anything is sent)."""
        last = self.state.last_finished(self.job)
        if last is None or not last.get("rows_total"):
            return
        before = int(last["rows_total"])
        if rows < before / 2 and not self.options.allow_shrink:
            raise GuardError(f"{input_name}: {rows} rows, fewer than half of the {before} rows of the last run of "
                             f"job '{self.job_name}': nothing sent (--allow-shrink imports it anyway)")
        share, was = 100.0 * invalid / rows, 100.0 * int(last.get("invalid", 0)) / before
        if share > was + INVALID_MARGIN and not self.options.allow_invalid:
            raise GuardError(f"{input_name}: {share:.0f}% of the rows are invalid, against {was:.0f}% in the last "
                             f"run of job '{self.job_name}' (a renamed column? phones turned into numbers?): "
                             "nothing sent (--allow-invalid imports it anyway)")

    # --- decide -------------------------------------------------------------------------------------------

    def unchanged(self, batch: CheckedBatch) -> set[int]:
        """The indices of the batch's rows to send whose requests are byte for byte those the job last confirmed
        (the common case of a nightly run: told by one lookup a batch, without reading the rows back)."""
        if self.options.full:
            return set()
        primaries, digests = batch.primaries, batch.digests
        if batch.verdicts and batch.verdicts.count("send") == len(batch.verdicts):  # a nightly batch: all to send
            stored = self.state.digests(self.job, primaries)
            # the batch's leads this job never confirmed: decide() has nothing to look up for them
            self._unknown = set(primaries) - stored.keys()
            found = stored.get
            return {index for index, (phone, digest) in enumerate(zip(primaries, digests, strict=True))
                    if found(phone) == digest}
        sent = [index for index, verdict in enumerate(batch.verdicts) if verdict == "send"]
        stored = self.state.digests(self.job, [primaries[index] for index in sent])
        self._unknown = {primaries[index] for index in sent} - stored.keys()
        return {index for index in sent if stored.get(primaries[index]) == digests[index]}

    def decide(self, row: CheckedRow, digest: bytes) -> Decided:
        """A row to send whose requests differ from those last confirmed (or that the job has never sent)."""
        payload = {key: value for request in row.requests for key, value in request.items()}
        phone = str(payload["customer_phone"])
        note = payload.get(NOTE)
        known, issues = self._note_known(row.number, phone, note)
        before = None if self.options.full or phone in self._unknown else self._stored(phone)
        decision = decide(payload, before.confirmed if before is not None else None, known)
        if decision.request is None:
            return Decided(unchanged=True, issues=issues)
        whole = {key: value for key, value in payload.items() if not (key == NOTE and known)}
        fallback = split_labels(whole) if not decision.whole else ()
        pending = Pending(phone, digest, decision.request, whole, before.confirmed if before else None,
                          decision.request.get(NOTE))
        return Decided(False, split_labels(decision.request), fallback, pending, issues)

    def _stored(self, phone: str) -> StoredLead | None:
        return self.state.leads(self.job, [phone]).get(phone)

    def _note_known(self, number: int, phone: str, note: Any) -> tuple[bool, tuple[Issue, ...]]:
        if note is None or self.options.repeat_notes:
            return False, ()
        status = self.state.note_status(self.account, phone, str(note))
        if status in ("in_doubt", "sending"):
            message = ("this note may already be on the lead (an earlier delivery is in doubt): not sent again "
                       "(--repeat-notes sends it)")
            return True, (issue("note-in-doubt", number, NOTE, message, str(note)[:60]),)
        return status is not None, ()

    # --- record -------------------------------------------------------------------------------------------

    def remember_file(self, digest: str, location: str, at: str) -> None:
        """The run finished: the job imported the file whose content has ``digest`` (a job's sync skips it next)."""
        self.state.remember_file(self.job, digest, location, at, self.run_id)

    def sending(self, pending: Pending) -> None:
        """Just before a row's first request: its note counts as perhaps delivered from now on (on disk once
        :meth:`commit` returns: before the request goes)."""
        if pending.note is not None:
            self.state.set_note(self.account, pending.phone, pending.note, "sending", self.run_id)

    def commit(self) -> None:
        """What the run recorded in the sync state so far, on disk."""
        self.state.commit()

    def outcome(self, pending: Pending, status: str, fell_back: bool) -> None:
        """A row's outcome: on success the whole row is what the lead now holds (the fields not sent were
        confirmed before; a re-created lead holds exactly the row); its note is delivered, in doubt, or — refused
        — forgotten, so that the next run sends it."""
        if status == "succeeded":
            before = None if fell_back else pending.before
            self.state.confirm(self.job, self.run_id, pending.phone, pending.digest,
                               confirmed_after(before, pending.whole))
        note = (pending.whole if fell_back else pending.request).get(NOTE)
        final: NoteStatus | None = "delivered" if status == "succeeded" else "in_doubt" if status == "in_doubt" \
            else None
        texts = {pending.note, note} - {None}
        if final is None and texts:  # forgotten, so that the next run sends it: the row's own record (refused, or
            self.before_forgetting()  # put back unsent) on disk first, then the note's, at once
        for text in texts:
            self.state.set_note(self.account, pending.phone, str(text), final, self.run_id)
        if final is None and texts:
            self.state.commit()


class Decide(Protocol):
    """How a real run decides what to send. A run: the sync's rules (:class:`SyncDecide`); apply: its plan.

    ``key_extras`` set the run apart in the journal; :meth:`before_write` is what sees each job just before its
    first write (:class:`~importer.run.engine.sending.Sender`'s ``prepare``) and when it ends."""

    @property
    def key_extras(self) -> tuple[str, ...]: ...

    def before_write(self, journal: Journal, key: str, policies: Mapping[str, str], undo: bool) -> BeforeWrite:
        """The look at each lead before its first write (``undo``: keep before-images)."""
        ...

    def unchanged(self, batch: CheckedBatch, ledger: SyncLedger) -> set[int]:
        """Indices of the batch's rows to send that are not sent: their leads hold them already."""
        ...

    def decide(self, row: CheckedRow, digest: bytes, ledger: SyncLedger) -> Decided:
        """What one of the other rows sends."""
        ...


class SyncDecide:
    """The sync's rules (:mod:`importer.run.kinds.ledger`): only what changed since the job's last confirmed run."""

    key_extras: tuple[str, ...] = ()

    def before_write(self, journal: Journal, key: str, policies: Mapping[str, str], undo: bool) -> BeforeWrite:
        return PriorRead(journal, key, policies, undo)

    def unchanged(self, batch: CheckedBatch, ledger: SyncLedger) -> set[int]:
        return ledger.unchanged(batch)

    def decide(self, row: CheckedRow, digest: bytes, ledger: SyncLedger) -> Decided:
        return ledger.decide(row, digest)
