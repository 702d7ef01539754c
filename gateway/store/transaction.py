"""One group-commit transaction: the write semantics of the embedded store.

Everything here runs on the writer thread, on its one connection. The items of a transaction
are decided in order in Python (duplicate, conflict or new version, each seeing the decisions
before it), and the rows are then written with one ``executemany`` per table: per-item SQL
round trips are what limits SQLite throughput from Python, not the B-tree work.

An ingestion (:meth:`Transactions.ingest`) is a transaction of its own: one payload's items with
the row that makes a repeat of that payload write nothing.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import TypeVar

from gateway.errors import FailedPreconditionError, PermissionDeniedError
from gateway.store.base import (
    Ingestion,
    IngestOutcome,
    OriginConflict,
    RecordWithdrawn,
    StoredRecord,
    StoredVersion,
    VersionConflict,
    VersionSigner,
    WriteItem,
    WriteOutcome,
)
from gateway.store.schema import join_releasable, split_releasable
from liaison.rules.lifecycle import TOMBSTONE_KIND, RetentionDefaults

__all__ = ["OriginConflictError", "RecordWithdrawnError", "TransactionResult", "Transactions"]

# Keeps each IN (...) list far below SQLite's bound-parameter limit (32766 since 3.32).
_LOOKUP_CHUNK = 500

_LAST_SEQUENCE = """
SELECT max(
    coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'versions'), 0),
    coalesce((SELECT max(sequence) FROM versions), 0)
)
"""
_LAST_COMMITTED_AT = "SELECT committed_at_us FROM versions ORDER BY sequence DESC LIMIT 1"
_STORED_DUPLICATE = """
SELECT version, sequence, committed_at_us FROM versions
WHERE record_id = ? AND content_sha256 = ?
"""
_VERSION_EXISTS = "SELECT 1 FROM versions WHERE record_id = ? AND version = ?"
_INSERT_VERSION = """
INSERT INTO versions (
    sequence, record_id, version, kind, originating_centre, committed_at_us, content_sha256, blob,
    handling_code, releasable_to, signature
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_UPSERT_HEAD = """
INSERT INTO heads (record_id, version, sequence, kind, originating_centre, committed_at_us)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (record_id) DO UPDATE SET
    version = excluded.version,
    sequence = excluded.sequence,
    kind = excluded.kind,
    originating_centre = excluded.originating_centre,
    committed_at_us = excluded.committed_at_us
"""
_DELETE_DOCUMENT_KEYS = "DELETE FROM document_keys WHERE record_id = ?"
_DELETE_NAME_KEYS = "DELETE FROM name_keys WHERE record_id = ?"
# OR IGNORE: a record may list the same key twice (a person with two identical aliases).
_INSERT_DOCUMENT_KEY = (
    "INSERT OR IGNORE INTO document_keys (record_id, number, issuing_state) VALUES (?, ?, ?)"
)
_INSERT_NAME_KEY = """
INSERT OR IGNORE INTO name_keys (record_id, family, birth_year, birth_month, birth_day)
VALUES (?, ?, ?, ?, ?)
"""
_FIND_INGESTION = (
    "SELECT id, ingested_at_us FROM ingestions WHERE adapter = ? AND payload_sha256 = ?"
)
# Column order is StoredVersion's, up to its duplicate flag.
_INGESTION_ACKS = """
SELECT v.record_id, v.version, v.sequence, v.committed_at_us, v.content_sha256
FROM ingestion_acks AS a JOIN versions AS v ON v.sequence = a.sequence
WHERE a.ingestion_id = ? ORDER BY a.position
"""
_INSERT_INGESTION = (
    "INSERT INTO ingestions (adapter, payload_sha256, ingested_at_us) VALUES (?, ?, ?)"
)
_INSERT_INGESTION_ACK = (
    "INSERT INTO ingestion_acks (ingestion_id, position, sequence) VALUES (?, ?, ?)"
)

_UPSERT_LIFECYCLE = """
INSERT INTO lifecycle (record_id, review_due_us, expires_at_us) VALUES (?, ?, ?)
ON CONFLICT (record_id) DO UPDATE SET
    review_due_us = excluded.review_due_us,
    expires_at_us = excluded.expires_at_us
"""
_DELETE_LIFECYCLE = "DELETE FROM lifecycle WHERE record_id = ?"

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class TransactionResult:
    """What one committed transaction did."""

    outcomes: list[list[WriteOutcome]]
    """One outcome list per item group given, in the same order."""
    records: list[StoredRecord]
    """The new versions, in sequence order (the commit listeners' argument)."""


@dataclass(frozen=True, slots=True)
class _Head:
    version: int
    originating_centre: str
    handling_code: int
    releasable_to: tuple[str, ...]
    kind: str


@dataclass(frozen=True, slots=True)
class _NewVersion:
    item: WriteItem
    version: int
    sequence: int
    signature: bytes


class Transactions:
    """Runs group-commit transactions on the writer connection."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        signer: VersionSigner | None = None,
        retention: RetentionDefaults | None = None,
    ) -> None:
        """Wrap the writer connection (autocommit mode, owned by the calling thread).

        With ``signer``, every new version of a record of the signer's centre is signed as it
        is numbered, in the same transaction; other centres' versions (replicas) keep the
        signature they arrived with. ``retention`` stamps the retention dates of a new record
        of this centre that arrives without them (replicas keep their origin's).
        """
        self._connection = connection
        self._signer = signer
        self._retention = retention if retention is not None else RetentionDefaults()
        row = connection.execute(_LAST_COMMITTED_AT).fetchone()
        self._last_committed_us: int = 0 if row is None else row[0]
        self.last_seconds = 0.0
        """How long the last committed transaction took, from ``BEGIN`` to ``COMMIT``."""

    def run(self, groups: Sequence[Sequence[WriteItem]]) -> TransactionResult:
        """Apply every group's items, in order, in one ``BEGIN IMMEDIATE … COMMIT``.

        Raises:
            Exception: whatever failed; the transaction is rolled back and nothing is kept.
        """
        return self._in_transaction(lambda committed_at_us: self._apply(groups, committed_at_us))

    def ingest(self, ingestion: Ingestion) -> tuple[IngestOutcome, list[StoredRecord]]:
        """Store one payload's items and its ingestion record in one transaction, or find that
        the payload was ingested before and write nothing.

        Returns:
            The outcome, and the new versions (the commit listeners' argument; empty for a
            payload ingested before).

        Raises:
            Exception: whatever failed; the transaction is rolled back and nothing is kept.
        """
        try:
            return self._in_transaction(
                lambda committed_at_us: self._ingest(ingestion, committed_at_us)
            )
        except OriginConflictError as error:
            return IngestOutcome((), False, 0, error.conflict), []
        except RecordWithdrawnError as error:
            return IngestOutcome((), False, 0, error.withdrawn), []

    def _in_transaction(self, work: Callable[[int], _T]) -> _T:
        """Run ``work(commit time)`` in one ``BEGIN IMMEDIATE … COMMIT``; roll back on failure."""
        connection = self._connection
        started = perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Never behind the previous transaction, so that commit times follow sequence order
            # even when the wall clock steps back (a time-range search must agree with the feed).
            committed_at_us = max(time.time_ns() // 1000, self._last_committed_us)
            result = work(committed_at_us)
            connection.execute("COMMIT")
        except BaseException:
            # SQLite rolls back by itself after some errors (a full disk); ROLLBACK would fail.
            # A failing ROLLBACK must not hide the error that caused it.
            if connection.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
            raise
        self._last_committed_us = committed_at_us
        self.last_seconds = perf_counter() - started
        return result

    def _ingest(
        self, ingestion: Ingestion, committed_at_us: int
    ) -> tuple[IngestOutcome, list[StoredRecord]]:
        connection = self._connection
        key = (ingestion.adapter, ingestion.payload_sha256)
        row = connection.execute(_FIND_INGESTION, key).fetchone()
        if row is not None:
            ingestion_id, ingested_at_us = row
            acks = tuple(
                StoredVersion(record_id, version, sequence, committed_at, sha, duplicate=True)
                for record_id, version, sequence, committed_at, sha in connection.execute(
                    _INGESTION_ACKS, (ingestion_id,)
                )
            )
            return IngestOutcome(acks, duplicate=True, ingested_at_us=ingested_at_us), []
        result = self._apply([ingestion.items], committed_at_us)
        [outcomes] = result.outcomes
        acks = tuple(_acknowledged(outcome) for outcome in outcomes)
        cursor = connection.execute(_INSERT_INGESTION, (*key, committed_at_us))
        connection.executemany(
            _INSERT_INGESTION_ACK,
            [(cursor.lastrowid, position, ack.sequence) for position, ack in enumerate(acks)],
        )
        return IngestOutcome(acks, duplicate=False, ingested_at_us=committed_at_us), result.records

    def _apply(
        self, groups: Sequence[Sequence[WriteItem]], committed_at_us: int
    ) -> TransactionResult:
        stored = self._load_heads({item.record_id for group in groups for item in group})
        existing = {record_id: head.version for record_id, head in stored.items()}
        origins = {record_id: head.originating_centre for record_id, head in stored.items()}
        latest = dict(existing)
        # Versions written earlier in this transaction, by (record_id, hash), for duplicates.
        written: dict[tuple[str, bytes], tuple[int, int, int]] = {}
        # (record_id, version) pairs written earlier in this transaction (replicas).
        taken: set[tuple[str, int]] = set()
        new_versions: list[_NewVersion] = []
        head_kinds = {record_id: head.kind for record_id, head in stored.items()}
        # Only records stored before can have dates yet (new ones get theirs below).
        dates = self._load_lifecycle(set(existing))
        dates_before = dict(dates)
        sequence = self._last_sequence()
        outcomes: list[list[WriteOutcome]] = []
        for group in groups:
            group_outcomes: list[WriteOutcome] = []
            for item in group:
                record_id = item.record_id
                sha = item.content_sha256
                origin = origins.setdefault(record_id, item.keys.originating_centre)
                if origin != item.keys.originating_centre:
                    # Checked before duplicates: the answer must not depend on content the
                    # caller may not know.
                    group_outcomes.append(OriginConflict(record_id, origin))
                    continue
                previous = written.get((record_id, sha))
                if previous is None and record_id in existing:
                    previous = self._stored_duplicate(record_id, sha)
                if previous is not None:
                    # (version, sequence, committed_at_us) of the version holding this content.
                    # Dates given with it move the record's (an extension: no new version).
                    if head_kinds.get(record_id) != TOMBSTONE_KIND:
                        self._date(dates, item, committed_at_us, new_record=False)
                    group_outcomes.append(StoredVersion(record_id, *previous, sha, duplicate=True))
                    continue
                current = latest.get(record_id, 0)
                if head_kinds.get(record_id) == TOMBSTONE_KIND and not item.replica_version:
                    # No version follows a tombstone. (A late replica is stored as history: the
                    # withdrawal that arrived before it still wins.)
                    group_outcomes.append(RecordWithdrawn(record_id, current))
                    continue
                if item.expected_version and item.expected_version != current:
                    group_outcomes.append(
                        VersionConflict(record_id, item.expected_version, current)
                    )
                    continue
                version = item.replica_version or current + 1
                if item.replica_version and (
                    (record_id, version) in taken or self._version_exists(record_id, version)
                ):
                    # Other content already holds the origin's version number here.
                    group_outcomes.append(VersionConflict(record_id, version, current))
                    continue
                sequence += 1
                taken.add((record_id, version))
                if version >= current:
                    head_kinds[record_id] = item.keys.kind
                    if item.keys.kind == TOMBSTONE_KIND:
                        dates[record_id] = (0, 0)
                    else:
                        self._date(dates, item, committed_at_us, new_record=current == 0)
                latest[record_id] = max(current, version)
                written[(record_id, sha)] = (version, sequence, committed_at_us)
                new_versions.append(
                    _NewVersion(item, version, sequence, self._sign(item, version, committed_at_us))
                )
                group_outcomes.append(
                    StoredVersion(record_id, version, sequence, committed_at_us, sha, False)
                )
            outcomes.append(group_outcomes)
        if new_versions:
            self._write_versions(new_versions, committed_at_us)
            # A replica older than the record's latest version is history, not the head.
            heads = [
                new
                for new in _heads(new_versions)
                if new.version >= existing.get(new.item.record_id, 0)
            ]
            self._write_heads(heads, committed_at_us)
            self._write_index(heads, existing)
        self._write_lifecycle(dates, dates_before)
        # The handling every new version obeys: its record's latest version's, after this
        # transaction (a replica older than the head obeys the head's).
        latest_handling = {
            record_id: (head.handling_code, head.releasable_to)
            for record_id, head in stored.items()
        }
        for new in _heads(new_versions):
            if new.version >= existing.get(new.item.record_id, 0):
                keys = new.item.keys
                latest_handling[new.item.record_id] = (keys.handling_code, keys.releasable_to)
        records = [
            StoredRecord(
                new.item.record_id,
                new.version,
                new.sequence,
                committed_at_us,
                new.item.content_sha256,
                new.item.keys.kind,
                new.item.keys.originating_centre,
                new.item.blob,
                latest[new.item.record_id],
                new.item.keys.handling_code,
                new.item.keys.releasable_to,
                new.signature,
                *latest_handling[new.item.record_id],
                head_kinds[new.item.record_id],
                *dates.get(new.item.record_id, (0, 0)),
            )
            for new in new_versions
        ]
        return TransactionResult(outcomes, records)

    def _date(
        self,
        dates: dict[str, tuple[int, int]],
        item: WriteItem,
        committed_at_us: int,
        *,
        new_record: bool,
    ) -> None:
        """Set the record's retention dates after ``item``: the dates it gives, else those the
        record has, else (a new record of this centre) the defaults for its kind."""
        if not (new_record or item.replica_version or item.moves_retention):
            # This centre's later versions and resubmissions keep the record's dates: only
            # ExtendRetention moves them (within its limits, never for an expired record).
            return
        current = dates.get(item.record_id)
        if current is None and new_record and not item.replica_version:
            current = self._retention.stamp(item.keys.kind, committed_at_us)
        review, expires = current if current is not None else (0, 0)
        review = item.review_due_us or review
        expires = item.expires_at_us or expires
        if expires and review > expires:
            review = expires
        if review or expires or item.record_id in dates:
            dates[item.record_id] = (review, expires)

    def _load_lifecycle(self, record_ids: set[str]) -> dict[str, tuple[int, int]]:
        """The stored retention dates of the records that have some."""
        found: dict[str, tuple[int, int]] = {}
        ids = list(record_ids)
        for start in range(0, len(ids), _LOOKUP_CHUNK):
            chunk = ids[start : start + _LOOKUP_CHUNK]
            placeholders = ",".join("?" * len(chunk))
            rows = self._connection.execute(
                "SELECT record_id, review_due_us, expires_at_us FROM lifecycle "  # noqa: S608
                f"WHERE record_id IN ({placeholders})",
                chunk,
            )
            for record_id, review, expires in rows:
                found[record_id] = (review, expires)
        return found

    def _write_lifecycle(
        self, dates: dict[str, tuple[int, int]], before: dict[str, tuple[int, int]]
    ) -> None:
        changed = [(r, *d) for r, d in dates.items() if d != before.get(r) and d != (0, 0)]
        removed = [(r,) for r, d in dates.items() if d == (0, 0) and r in before]
        if changed:
            self._connection.executemany(_UPSERT_LIFECYCLE, changed)
        if removed:
            self._connection.executemany(_DELETE_LIFECYCLE, removed)

    def _sign(self, item: WriteItem, version: int, committed_at_us: int) -> bytes:
        signer = self._signer
        if item.replica_version or signer is None or item.keys.originating_centre != signer.centre:
            return item.signature
        seconds, micros = divmod(committed_at_us, 1_000_000)
        return signer.sign_version(
            item.record_id,
            version,
            item.content_sha256,
            item.received_at,
            (seconds, micros * 1000),
        )

    def _load_heads(self, record_ids: set[str]) -> dict[str, _Head]:
        """The latest stored version of each record that exists, before this transaction."""
        found: dict[str, _Head] = {}
        ids = list(record_ids)
        for start in range(0, len(ids), _LOOKUP_CHUNK):
            chunk = ids[start : start + _LOOKUP_CHUNK]
            placeholders = ",".join("?" * len(chunk))
            # Only the placeholder count varies, so SQLite's statement cache keeps working.
            rows = self._connection.execute(
                "SELECT h.record_id, h.version, h.originating_centre, v.handling_code, "  # noqa: S608
                "v.releasable_to, h.kind FROM heads AS h "
                "JOIN versions AS v ON v.sequence = h.sequence "
                f"WHERE h.record_id IN ({placeholders})",
                chunk,
            )
            for record_id, version, origin, code, releasable, kind in rows:
                found[record_id] = _Head(version, origin, code, split_releasable(releasable), kind)
        return found

    def _last_sequence(self) -> int:
        # sqlite_sequence holds the highest sequence ever handed out, so new explicit sequences
        # continue AUTOINCREMENT's guarantee: never reused.
        value: int = self._connection.execute(_LAST_SEQUENCE).fetchone()[0]
        return value

    def _version_exists(self, record_id: str, version: int) -> bool:
        row = self._connection.execute(_VERSION_EXISTS, (record_id, version)).fetchone()
        return row is not None

    def _stored_duplicate(self, record_id: str, sha: bytes) -> tuple[int, int, int] | None:
        row: tuple[int, int, int] | None = self._connection.execute(
            _STORED_DUPLICATE, (record_id, sha)
        ).fetchone()
        return row

    def _write_versions(self, new_versions: list[_NewVersion], committed_at_us: int) -> None:
        self._connection.executemany(
            _INSERT_VERSION,
            [
                (
                    new.sequence,
                    new.item.record_id,
                    new.version,
                    new.item.keys.kind,
                    new.item.keys.originating_centre,
                    committed_at_us,
                    new.item.content_sha256,
                    new.item.blob,
                    new.item.keys.handling_code,
                    join_releasable(new.item.keys.releasable_to),
                    new.signature,
                )
                for new in new_versions
            ],
        )

    def _write_heads(self, heads: list[_NewVersion], committed_at_us: int) -> None:
        self._connection.executemany(
            _UPSERT_HEAD,
            [
                (
                    new.item.record_id,
                    new.version,
                    new.sequence,
                    new.item.keys.kind,
                    new.item.keys.originating_centre,
                    committed_at_us,
                )
                for new in heads
            ],
        )

    def _write_index(self, heads: list[_NewVersion], existing: dict[str, int]) -> None:
        """Replace the search keys of every record that got a new version by its latest keys."""
        connection = self._connection
        # A record new in this transaction has no keys to delete: skip the DELETE round trips.
        replaced = [(new.item.record_id,) for new in heads if new.item.record_id in existing]
        if replaced:
            connection.executemany(_DELETE_DOCUMENT_KEYS, replaced)
            connection.executemany(_DELETE_NAME_KEYS, replaced)
        documents = [
            (new.item.record_id, key.number, key.issuing_state)
            for new in heads
            for key in new.item.keys.documents
        ]
        if documents:
            connection.executemany(_INSERT_DOCUMENT_KEY, documents)
        names = [
            (new.item.record_id, key.family, key.birth_year, key.birth_month, key.birth_day)
            for new in heads
            for key in new.item.keys.names
        ]
        if names:
            connection.executemany(_INSERT_NAME_KEY, names)


def _acknowledged(outcome: WriteOutcome) -> StoredVersion:
    if isinstance(outcome, RecordWithdrawn):
        raise RecordWithdrawnError(outcome)
    if isinstance(outcome, VersionConflict):
        # The store refuses such items before queueing them; reaching this is a bug, and raising
        # rolls the whole ingestion back.
        raise TypeError("an ingested item carried an expected version")
    if isinstance(outcome, OriginConflict):
        raise OriginConflictError(outcome)
    return outcome


class OriginConflictError(PermissionDeniedError):
    """An ingested record names another originating centre than its stored versions: the whole
    ingestion is rolled back (decoded records are stored all or nothing)."""

    def __init__(self, conflict: OriginConflict) -> None:
        super().__init__(
            f"record {conflict.record_id} originates at another centre "
            f"({conflict.originating_centre}); nothing of the payload was stored"
        )
        self.conflict = conflict


class RecordWithdrawnError(FailedPreconditionError):
    """An ingested record was withdrawn at this centre: the whole ingestion is rolled back (no
    version follows a tombstone)."""

    def __init__(self, withdrawn: RecordWithdrawn) -> None:
        super().__init__(
            f"record {withdrawn.record_id} was withdrawn (version {withdrawn.version}) and takes "
            "no new version; nothing of the payload was stored"
        )
        self.withdrawn = withdrawn


def _heads(new_versions: list[_NewVersion]) -> list[_NewVersion]:
    """The highest new version of each record: the only one whose head and keys are kept.

    For submits that is the last one written; replicas may arrive in any version order.
    """
    last: dict[str, _NewVersion] = {}
    for new in new_versions:
        kept = last.get(new.item.record_id)
        if kept is None or new.version > kept.version:
            last[new.item.record_id] = new
    return list(last.values())
