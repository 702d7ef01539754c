"""Withdraw, ExtendRetention and ListReviews: the originating centre's hold on its records.

The request/status layer of the lifecycle RPCs of ``liaison.v1.RecordExchange`` (the servicer in
:mod:`gateway.services.exchange` delegates here). Every call reads the record through the gate
first, so a record the caller may not see is NOT_FOUND exactly as an absent one; then only a
caller acting for this centre, on a record that originates here, may change it
(PERMISSION_DENIED otherwise).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.errors import (
    FailedPreconditionError,
    FieldViolation,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from gateway.lifecycle.keeper import RetentionKeeper
from gateway.lifecycle.receipts import RECEIPT_KIND
from gateway.lifecycle.settings import LifecycleSettings
from gateway.lifecycle.threads import ThreadBook
from gateway.security.gate import RecordGate
from gateway.security.visibility import facts_of
from gateway.services.statuses import ack_of
from gateway.services.streaming import UnknownThread, conflict_error, unknown_thread_message
from gateway.store.base import RecordStore, StoredRecord, StoredVersion
from gateway.telemetry import Telemetry
from liaison.rules.ids import RECORD_ID_PATTERN, namespace_of
from liaison.rules.indexing import KIND_BY_BODY
from liaison.rules.intake import WriteItem, prepare_record
from liaison.rules.lifecycle import DAY_US, TOMBSTONE_KIND, parse_period, tombstone_of
from liaison.rules.text import describe, forbidden_in
from liaison.v1 import exchange_pb2, record_pb2

__all__ = ["MAX_EXTENSION_US", "MAX_REVIEWS", "LifecycleCalls"]

MAX_EXTENSION_US = parse_period("10y")
"""The longest one extension may keep a record (from now)."""
MAX_REVIEWS = 1000
"""The most records one ListReviews answer lists."""
_NOTE_LENGTH = 2000


class LifecycleCalls:
    """The lifecycle RPCs of one gateway."""

    def __init__(
        self,
        *,
        store: RecordStore,
        gate: RecordGate,
        centre_id: str,
        settings: LifecycleSettings,
        clock: Callable[[], int],
        keeper: RetentionKeeper | None = None,
        telemetry: Telemetry | None = None,
        threads: ThreadBook | None = None,
    ) -> None:
        """Serve on ``store`` through ``gate``; ``clock`` is the time in microseconds."""
        self.threads = threads
        self._store = store
        self._gate = gate
        self._centre = centre_id
        self._settings = settings
        self._clock = clock
        self._keeper = keeper
        self._telemetry = telemetry if telemetry is not None else Telemetry.disabled()

    async def withdraw(
        self, request: exchange_pb2.WithdrawRequest
    ) -> exchange_pb2.WithdrawResponse:
        """Store a tombstone for one of this centre's records.

        Raises:
            InvalidArgumentError: a malformed id, no reason, EXPIRED, or a note too long.
            NotFoundError: no such record, or the caller may not see it.
            PermissionDeniedError: the caller acts for another centre, or the record
                originates elsewhere.
            ConflictError: a correction was stored meanwhile (withdraw again after reading it).
            FailedPreconditionError: a screening hit or a thread receipt (the gateway's own).
        """
        violations = _id_violations(request.record_id)
        known = set(record_pb2.WithdrawalReason.values())
        if (
            request.reason not in known
            or request.reason == record_pb2.WITHDRAWAL_REASON_UNSPECIFIED
        ):
            violations.append(FieldViolation("reason", "a WithdrawalReason is required"))
        elif request.reason == record_pb2.WITHDRAWAL_REASON_EXPIRED:
            violations.append(
                FieldViolation("reason", "EXPIRED is the gateway's own, at expires_at")
            )
        elif request.reason == record_pb2.WITHDRAWAL_REASON_OTHER and not request.note.strip():
            violations.append(FieldViolation("note", "is required with reason OTHER"))
        violations += _note_violations(request.note)
        if violations:
            raise InvalidArgumentError("invalid withdrawal", violations)
        stored = await self._own_record(request.record_id, "withdraw")
        _refuse_gateway_owned(stored, "withdrawn")
        if stored.kind == TOMBSTONE_KIND:
            # Withdrawing again changes nothing: the tombstone's acknowledgement, as a duplicate.
            return exchange_pb2.WithdrawResponse(
                ack=ack_of(
                    StoredVersion(
                        stored.record_id,
                        stored.version,
                        stored.sequence,
                        stored.committed_at_us,
                        stored.content_sha256,
                        duplicate=True,
                    )
                )
            )
        tombstone = tombstone_of(stored.to_message(), request.reason, request.note, self._clock())
        tombstone.version = stored.version  # withdraws what the caller was shown, or nothing
        item = prepare_record(tombstone, self._centre, tombstone=True)
        [outcome] = await self._store.write([item])
        if not isinstance(outcome, StoredVersion):
            raise conflict_error(outcome)
        reason = record_pb2.WithdrawalReason.Name(request.reason)
        self._telemetry.metrics.withdrawn(1, reason.removeprefix("WITHDRAWAL_REASON_"))
        return exchange_pb2.WithdrawResponse(ack=ack_of(outcome))

    async def extend(
        self, request: exchange_pb2.ExtendRetentionRequest
    ) -> exchange_pb2.ExtendRetentionResponse:
        """Move one of this centre's records' review date and expiry later.

        Raises:
            InvalidArgumentError: a malformed id, or a period out of range.
            NotFoundError: no such record, or the caller may not see it.
            PermissionDeniedError: as for :meth:`withdraw`.
            FailedPreconditionError: the record is withdrawn (or expired: it is being withdrawn),
                or is a screening hit or a thread receipt (the gateway's own).
        """
        violations = _id_violations(request.record_id)
        extend_us = _micros(request.extend_by)
        if not DAY_US <= extend_us <= MAX_EXTENSION_US:
            violations.append(FieldViolation("extend_by", "must be from one day to 10 years"))
        violations += _note_violations(request.note)
        if violations:
            raise InvalidArgumentError("invalid extension", violations)
        stored = await self._own_record(request.record_id, "extend")
        _refuse_gateway_owned(stored, "extended")
        if stored.kind == TOMBSTONE_KIND or self._gate.expired(stored):
            raise FailedPreconditionError(
                f"record {request.record_id} is withdrawn or expired: its retention cannot be "
                "extended; publish it again under a new id if it is still needed"
            )
        now = self._clock()
        expires = max(stored.expires_at_us, now + extend_us)
        # The review keeps its distance before the expiry (none: at the expiry).
        lead = stored.expires_at_us - stored.review_due_us if stored.review_due_us else 0
        review = max(stored.review_due_us, expires - lead)
        record = stored.to_message()
        record.version = 0
        _set_micros(record.review_due, review)
        _set_micros(record.expires_at, expires)
        item = replace(prepare_record(record, self._centre), moves_retention=True)
        [outcome] = await self._store.write([item])
        if not isinstance(outcome, StoredVersion):
            raise conflict_error(outcome)
        return exchange_pb2.ExtendRetentionResponse(
            retention=_retention(stored.record_id, stored.kind, review, expires)
        )

    async def reviews(
        self, request: exchange_pb2.ListReviewsRequest
    ) -> exchange_pb2.ListReviewsResponse:
        """This centre's records whose review is due within ``within`` (default: the reminder
        lead), soonest first.

        Raises:
            InvalidArgumentError: a negative period.
            PermissionDeniedError: the caller acts for another centre.
        """
        within = _micros(request.within)
        if not _valid_duration(request.within):
            raise InvalidArgumentError(
                "invalid review listing", [FieldViolation("within", _INVALID_DURATION)]
            )
        if within < 0:
            raise InvalidArgumentError(
                "invalid review listing", [FieldViolation("within", "must not be negative")]
            )
        self._require_local("list the reviews of")
        limit = min(request.page_size or MAX_REVIEWS, MAX_REVIEWS)
        before = self._clock() + (within or self._settings.review_reminder_us)
        rows = await self._store.retention_due(review_before_us=before, limit=limit)
        return exchange_pb2.ListReviewsResponse(
            reviews=[
                _retention(row.record_id, row.kind, row.review_due_us, row.expires_at_us)
                for row in rows
                if row.originating_centre == self._centre
            ]
        )

    async def list_threads(
        self, request: exchange_pb2.ListThreadsRequest
    ) -> exchange_pb2.ListThreadsResponse:
        """The threads whose request record the caller may see; a caller acting for another
        centre sees only the threads it takes part in (asking or addressed).

        Raises:
            FailedPreconditionError: this gateway keeps no thread book.
        """
        if self.threads is None:
            raise FailedPreconditionError("this gateway keeps no request/reply threads")
        entries = self.threads.entries(open_only=request.open_only)
        reader = self._gate.reader()
        if reader != self._centre:
            # Another addressee's states and replies come from its receipt, which is
            # releasable to the requester only: seeing the request does not show them.
            entries = [e for e in entries if reader in (e.addressed_centre, e.requesting_centre)]
        shown = await self._gate.get_versions(
            [(entry.request_record_id, 0) for entry in entries], content=False
        )
        return exchange_pb2.ListThreadsResponse(
            threads=[
                self.threads.to_message(entry)
                for entry, stored in zip(entries, shown, strict=True)
                if stored is not None
            ]
        )

    def check_reply(self, record: record_pb2.Record) -> None:
        """Refuse a reply that would answer nothing (Submit): to a thread no request addressed to
        this centre opened, or that its requester may not read.

        Raises:
            FailedPreconditionError: an unknown thread, or a reply not releasable to the
                requester.
        """
        if self.threads is None or record.WhichOneof("body") != "reply":
            return
        problem = self._reply_problem(record)
        if problem is not None:
            raise FailedPreconditionError(problem)

    def unknown_threads(self, items: Sequence[WriteItem]) -> dict[int, UnknownThread]:
        """The replies among prepared ``items`` (SubmitStream, Ingest) that would answer
        nothing (as :meth:`check_reply`), by position. Only replies are parsed."""
        if self.threads is None:
            return {}
        refused: dict[int, UnknownThread] = {}
        for index, item in enumerate(items):
            if item.keys.kind != "reply":
                continue
            record = record_pb2.Record.FromString(item.blob)
            problem = self._reply_problem(record, item.record_id)
            if problem is not None:
                refused[index] = UnknownThread(item.record_id, record.reply.thread_id, problem)
        return refused

    def _reply_problem(self, record: record_pb2.Record, record_id: str = "") -> str | None:
        """Why ``record`` (a reply) would answer nothing; None when it answers its thread.

        A reply its requester may not read (its handling keeps it from the centre whose
        namespace holds the thread id) would mark the thread answered at both ends while the
        requester never receives it: refused, so the replying analyst can fix its handling."""
        assert self.threads is not None
        thread_id = record.reply.thread_id
        if not self.threads.addressed_here(thread_id):
            return unknown_thread_message(thread_id, record_id)
        requester = namespace_of(thread_id)
        if requester is None:
            return None
        refusal = self._gate.need_to_know.refusal(facts_of(record), requester)
        if refusal is None:
            return None
        which = f"reply {record_id}" if record_id else "the reply"
        return (
            f"{which} to thread {thread_id} would answer nothing: its requester {requester} may "
            f"not read it ({refusal}); release it to {requester} or answer without the "
            "restricted content"
        )

    def _require_local(self, what: str) -> None:
        reader = self._gate.reader()
        if reader != self._centre:
            raise PermissionDeniedError(
                f"a caller acting for {reader} may not {what} {self._centre}'s records: only "
                f"{self._centre} manages them"
            )

    async def _own_record(self, record_id: str, what: str) -> StoredRecord:
        stored = await self._gate.get(record_id)
        if stored is None:
            raise NotFoundError(f"record {record_id} not found")
        self._require_local(what)
        if stored.originating_centre != self._centre:
            raise PermissionDeniedError(
                f"record {record_id} originates at {stored.originating_centre}: only that centre "
                f"may {what} it"
            )
        return stored


_GATEWAY_OWNED = {
    "screening_hit": (
        "a screening hit is the screening desk's: decide on it with Screening.Decide; it is "
        "withdrawn when its entry or subject is, and expires with them"
    ),
    RECEIPT_KIND: (
        "a thread receipt is the thread book's: it states what happened to a request here, and "
        "ends with its request"
    ),
}
"""Kinds this gateway writes for itself (clients cannot submit them), and who handles them."""


def _refuse_gateway_owned(stored: StoredRecord, what: str) -> None:
    """Refuse to withdraw or extend a record the gateway wrote for itself: a client that could
    withdraw a hit would silence an alert without a decision; one that could withdraw a receipt
    would hide a thread's states from its requester.

    Raises:
        FailedPreconditionError: ``stored`` is a screening hit or a thread receipt.
    """
    why = _GATEWAY_OWNED.get(stored.kind)
    if why is not None:
        raise FailedPreconditionError(f"record {stored.record_id} is not {what} by callers: {why}")


def _id_violations(record_id: str) -> list[FieldViolation]:
    if RECORD_ID_PATTERN.fullmatch(record_id):
        return []
    return [FieldViolation("record_id", "must be a valid record id")]


_MAX_DURATION_SECONDS = 315_576_000_000
"""google.protobuf.Duration's documented range: about +-10,000 years."""
_INVALID_DURATION = (
    "is not a valid Duration: seconds within +-315,576,000,000, nanos within +-999,999,999 "
    "and of the same sign"
)


def _valid_duration(duration: Duration) -> bool:
    seconds, nanos = int(duration.seconds), int(duration.nanos)
    return (
        abs(seconds) <= _MAX_DURATION_SECONDS
        and abs(nanos) < 1_000_000_000
        and not (seconds and nanos and (seconds > 0) != (nanos > 0))
    )


def _micros(duration: Duration) -> int:
    return int(duration.seconds) * 1_000_000 + int(duration.nanos) // 1000


def _set_micros(stamp: Timestamp, micros: int) -> None:
    seconds, rest = divmod(micros, 1_000_000)
    stamp.seconds, stamp.nanos = seconds, rest * 1000


def _retention(record_id: str, kind: str, review: int, expires: int) -> exchange_pb2.Retention:
    retention = exchange_pb2.Retention(record_id=record_id, kind=KIND_BY_BODY.get(kind, 0))  # type: ignore[arg-type]
    if review:
        _set_micros(retention.review_due, review)
    if expires:
        _set_micros(retention.expires_at, expires)
    return retention


def _note_violations(note: str) -> list[FieldViolation]:
    """A request's note: free text (lines allowed) of a bounded length, named ``note`` - not the
    tombstone's field it becomes, which the caller never wrote."""
    if len(note) > _NOTE_LENGTH:
        return [FieldViolation("note", f"must be {_NOTE_LENGTH} chars or fewer")]
    forbidden = forbidden_in(note, free_text=True)
    return [] if forbidden is None else [FieldViolation("note", describe(forbidden))]
