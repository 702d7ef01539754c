"""What the gateway and its store writer process say to each other over a pipe.

Frames are a 4-byte little-endian length followed by a ``marshal``-encoded tuple of plain values
(``marshal`` is the cheapest serializer of tuples, strings, bytes and ints in CPython, and both
ends are the same interpreter: the writer process is started from ``sys.executable``). The
store's dataclasses are turned into tuples here and back, field by field, so that nothing but
plain data crosses the pipe.

Requests (gateway → writer): ``(WRITE, call, items)``, ``(PREPARE, call, centre_id,
record_bytes)`` (one record the writer prepares itself) and ``(INGEST, call, adapter,
payload_sha256, items)``. Answers (writer → gateway): ``(READY,)`` or ``(OPEN_FAILED, message)``
once at the start; ``(REFUSED, call, message, violations, prepared_ns, foreign_centre)`` for a
record its preparation refused; then per transaction ``(COMMITTED, records, calls, outcomes,
prepared_ns, seconds)`` (``prepared_ns`` per call: ``None``, or when its preparation started and
ended; ``seconds``: the transaction's duration), ``(INGESTED, call, outcome, records, seconds)``
or ``(FAILED, calls, reason)``, in commit order; ``(LOST, reason)`` when the database file was
deleted or replaced, after which the writer answers nothing more and ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.pipe_frames import frame, take_messages
from gateway.store.base import (
    DocumentKey,
    IndexKeys,
    IngestOutcome,
    NameKey,
    OriginConflict,
    RecordWithdrawn,
    StoredRecord,
    StoredVersion,
    VersionConflict,
    WriteItem,
    WriteOutcome,
)

__all__ = [
    "COMMITTED",
    "FAILED",
    "INGEST",
    "INGESTED",
    "LOST",
    "OPEN_FAILED",
    "PREPARE",
    "READY",
    "REFUSED",
    "WRITE",
    "frame",
    "ingest_outcome_from_wire",
    "ingest_outcome_to_wire",
    "item_from_wire",
    "item_to_wire",
    "items_from_wire",
    "items_to_wire",
    "outcomes_from_wire",
    "outcomes_to_wire",
    "records_from_wire",
    "records_to_wire",
    "take_messages",
]

WRITE, INGEST, PREPARE = "write", "ingest", "prepare"
READY, OPEN_FAILED, COMMITTED, INGESTED, FAILED = "ready", "open-failed", "ok", "ingested", "failed"
REFUSED, LOST = "refused", "lost"

_VERSION, _CONFLICT, _ORIGIN_CONFLICT, _WITHDRAWN = 0, 1, 2, 3


def item_to_wire(item: WriteItem) -> tuple[Any, ...]:
    """One write item as a plain tuple: the one form a prepared record crosses a process
    boundary in (to the store's writer process, back from a preparation worker)."""
    keys = item.keys
    return (
        item.record_id,
        item.content_sha256,
        item.blob,
        keys.kind,
        keys.originating_centre,
        tuple([(key.number, key.issuing_state) for key in keys.documents]),
        tuple([(key.family, key.birth_year, key.birth_month, key.birth_day) for key in keys.names]),
        item.expected_version,
        item.replica_version,
        keys.handling_code,
        keys.releasable_to,
        item.signature,
        item.received_at,
        item.review_due_us,
        item.expires_at_us,
        item.moves_retention,
    )


def item_from_wire(row: Sequence[Any]) -> WriteItem:
    """The write item :func:`item_to_wire` encoded."""
    (
        record_id,
        sha,
        blob,
        kind,
        centre,
        documents,
        names,
        expected_version,
        replica_version,
        handling_code,
        releasable_to,
        signature,
        received_at,
        review_due_us,
        expires_at_us,
        moves_retention,
    ) = row
    return WriteItem(
        record_id,
        sha,
        blob,
        IndexKeys(
            kind,
            centre,
            tuple([DocumentKey(*key) for key in documents]),
            tuple([NameKey(*key) for key in names]),
            handling_code,
            tuple(releasable_to),
        ),
        expected_version,
        replica_version,
        signature,
        tuple(received_at),
        review_due_us,
        expires_at_us,
        moves_retention,
    )


def items_to_wire(items: Sequence[WriteItem]) -> list[tuple[Any, ...]]:
    """Write items as plain tuples."""
    return [item_to_wire(item) for item in items]


def items_from_wire(wire: Sequence[Sequence[Any]]) -> tuple[WriteItem, ...]:
    """The write items :func:`items_to_wire` encoded."""
    return tuple(item_from_wire(row) for row in wire)


def outcomes_to_wire(outcomes: Sequence[WriteOutcome]) -> list[tuple[Any, ...]]:
    """Write outcomes as plain tuples."""
    return [_outcome_to_wire(outcome) for outcome in outcomes]


def _outcome_to_wire(outcome: WriteOutcome) -> tuple[Any, ...]:
    if isinstance(outcome, StoredVersion):
        return (
            _VERSION,
            outcome.record_id,
            outcome.version,
            outcome.sequence,
            outcome.committed_at_us,
            outcome.content_sha256,
            outcome.duplicate,
        )
    if isinstance(outcome, VersionConflict):
        return (_CONFLICT, outcome.record_id, outcome.expected_version, outcome.latest_version)
    if isinstance(outcome, RecordWithdrawn):
        return (_WITHDRAWN, outcome.record_id, outcome.version)
    return (_ORIGIN_CONFLICT, outcome.record_id, outcome.originating_centre)


def outcomes_from_wire(wire: Sequence[tuple[Any, ...]]) -> list[WriteOutcome]:
    """The outcomes :func:`outcomes_to_wire` encoded."""
    kinds: dict[int, type[WriteOutcome]] = {
        _VERSION: StoredVersion,
        _CONFLICT: VersionConflict,
        _ORIGIN_CONFLICT: OriginConflict,
        _WITHDRAWN: RecordWithdrawn,
    }
    return [kinds[tag](*fields) for tag, *fields in wire]


def records_to_wire(records: Sequence[StoredRecord]) -> list[tuple[Any, ...]]:
    """Stored records (a transaction's new versions) as plain tuples."""
    return [
        (
            record.record_id,
            record.version,
            record.sequence,
            record.committed_at_us,
            record.content_sha256,
            record.kind,
            record.originating_centre,
            record.blob,
            record.latest_version,
            record.handling_code,
            record.releasable_to,
            record.signature,
            record.latest_handling_code,
            record.latest_releasable_to,
            record.latest_kind,
            record.review_due_us,
            record.expires_at_us,
        )
        for record in records
    ]


def records_from_wire(wire: Sequence[tuple[Any, ...]]) -> list[StoredRecord]:
    """The stored records :func:`records_to_wire` encoded."""
    return [StoredRecord(*fields) for fields in wire]


def ingest_outcome_to_wire(outcome: IngestOutcome) -> tuple[Any, ...]:
    """An ingestion's outcome as a plain tuple."""
    conflict = outcome.origin_conflict
    return (
        outcomes_to_wire(outcome.acks),
        outcome.duplicate,
        outcome.ingested_at_us,
        None if conflict is None else _outcome_to_wire(conflict),
    )


def ingest_outcome_from_wire(wire: tuple[Any, ...]) -> IngestOutcome:
    """The outcome :func:`ingest_outcome_to_wire` encoded."""
    acks, duplicate, ingested_at_us, conflict = wire
    stored = outcomes_from_wire(acks)
    [origin_conflict] = outcomes_from_wire([conflict]) if conflict is not None else [None]
    assert origin_conflict is None or isinstance(origin_conflict, OriginConflict | RecordWithdrawn)
    return IngestOutcome(
        tuple(ack for ack in stored if isinstance(ack, StoredVersion)),
        duplicate,
        ingested_at_us,
        origin_conflict,
    )
