"""One group-commit transaction on PostgreSQL, in a fixed number of round trips.

Every writing transaction - of any replica - first takes the *feed lock*, a transaction-level
advisory lock keyed by the schema, and only then reads the last sequence and numbers its
versions after it. The lock is released after the commit is visible (PostgreSQL removes a
committing transaction from the proc array before it releases its locks), so:

* sequences are dense and committed in increasing order, across every replica;
* a reader's snapshot that sees sequence ``n`` sees every sequence below ``n``: the visible
  versions are always a prefix of the feed, and a cursor never skips a version that commits late
  (decision 0019 gives the proof and the measurements);
* the decisions made in Python (duplicate, conflict, next version) read the latest committed
  state: no other writer can commit in between.

The unique constraints (``(record_id, version)``, ``(record_id, content_sha256)``) stay the last
word: a transaction that would break them fails and stores nothing.

New records take one round trip (:mod:`.fresh`). Otherwise a transaction is one pipeline and two
round trips: what it reads travels first (the lock, the tail of the feed, the heads, stored
versions and retention dates of its records); it then decides in Python and sends every table's
writes and the ``NOTIFY`` waking the other replicas' feeds with the sync that commits (one
implicit transaction, see :meth:`PostgresTransactions._pipelined`). The lock is held for those
two round trips only.

Transactions of one store may overlap (the writer keeps a second one waiting at the lock while
the first commits), so what one transaction learns about itself is kept in its own
:class:`Attempt`, not in the shared :class:`PostgresTransactions`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import psycopg
from psycopg import pq

from gateway.store.base import (
    Ingestion,
    IngestOutcome,
    RecordWithdrawn,
    StoredRecord,
    StoredVersion,
    VersionConflict,
    VersionSigner,
    WriteItem,
    WriteOutcome,
)
from gateway.store.postgresql import fresh
from gateway.store.postgresql.columns import (
    columns,
    document_columns,
    name_columns,
    version_columns,
)
from gateway.store.postgresql.plan import Head, Plan, Snapshot, plan_transaction
from gateway.store.schema import split_releasable
from gateway.store.transaction import OriginConflictError, RecordWithdrawnError, TransactionResult
from liaison.rules.lifecycle import RetentionDefaults

__all__ = ["Attempt", "PostgresTransactions", "feed_channel", "feed_lock_key"]

_Connection = psycopg.AsyncConnection[Any]


def feed_lock_key(schema: str) -> str:
    """The text whose hash is the feed lock of ``schema``."""
    return f"liaison-feed:{schema}"


def feed_channel(schema: str) -> str:
    """The ``NOTIFY`` channel that wakes the feed followers of ``schema``."""
    return f"liaison_feed_{schema}"


_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"
# Everything the decisions read, in one statement (one snapshot, taken after the lock: the lock
# is a statement of its own, since a statement's snapshot is taken before it runs). One row per
# fact, told apart by ``part``: 0 the feed's tail, 1 a head, 2 a stored version, 3 retention dates.
_READ = """
(SELECT 0 AS part, NULL::text AS record_id, sequence AS a, committed_at_us AS b, NULL::bigint AS c,
    NULL::bytea AS sha, NULL::text AS origin, NULL::text AS releasable, NULL::text AS kind,
    NULL::integer AS code
 FROM versions ORDER BY sequence DESC LIMIT 1)
UNION ALL
SELECT 1, h.record_id, h.version, NULL, NULL, NULL, h.originating_centre, v.releasable_to, h.kind,
    v.handling_code
FROM heads AS h JOIN versions AS v ON v.sequence = h.sequence
WHERE h.record_id = ANY(%(ids)b::text[])
UNION ALL
SELECT 2, record_id, version, sequence, committed_at_us, content_sha256, NULL, NULL, NULL, NULL
FROM versions WHERE record_id = ANY(%(ids)b::text[])
UNION ALL
SELECT 3, record_id, review_due_us, expires_at_us, NULL, NULL, NULL, NULL, NULL, NULL
FROM lifecycle WHERE record_id = ANY(%(ids)b::text[])
"""
# Many rows per statement: one array per column, unnest()ed - one round of parsing and planning
# per table and transaction instead of one per row. Arrays go as binary parameters (%b): their
# text form is quoted and escaped element by element, which cost the writer about half of its
# CPU per record (bench/README.md, "postgresql").
# Retention dates, set or moved: every record's in one statement (the defaults stamp new records
# of most kinds, so a Submit transaction has as many as it has records). Also part of
# _INSERT_VERSIONS, for transactions that store versions.
_SET_DATES = """
INSERT INTO lifecycle (record_id, review_due_us, expires_at_us)
SELECT * FROM unnest(%b::text[], %b::bigint[], %b::bigint[])
ON CONFLICT (record_id) DO UPDATE SET
    review_due_us = excluded.review_due_us,
    expires_at_us = excluded.expires_at_us
"""
# The new versions, the heads they become, their search keys and the NOTIFY are one statement: a
# statement costs the gateway and the database about as much as a few records, and a Submit
# transaction holds tens of records. The heads are copied from the versions inserted (their
# RETURNING rows), by sequence: one array of numbers instead of six columns again.
_INSERT_VERSIONS = """
WITH new_versions AS (
    INSERT INTO versions (
        sequence, record_id, version, kind, originating_centre, committed_at_us, content_sha256,
        blob, handling_code, releasable_to, signature
    ) SELECT * FROM unnest(
        %b::bigint[], %b::text[], %b::bigint[], %b::text[], %b::text[], %b::bigint[],
        %b::bytea[], %b::bytea[], %b::integer[], %b::text[], %b::bytea[]
    )
    RETURNING record_id, version, sequence, kind, originating_centre, committed_at_us
), new_heads AS (
    INSERT INTO heads (record_id, version, sequence, kind, originating_centre, committed_at_us)
    SELECT record_id, version, sequence, kind, originating_centre, committed_at_us
    FROM new_versions WHERE sequence = ANY(%b::bigint[])
    ON CONFLICT (record_id) DO UPDATE SET
        version = excluded.version,
        sequence = excluded.sequence,
        kind = excluded.kind,
        originating_centre = excluded.originating_centre,
        committed_at_us = excluded.committed_at_us
), new_document_keys AS (
    -- ON CONFLICT DO NOTHING: a record may list the same key twice (two identical aliases).
    INSERT INTO document_keys (record_id, number, issuing_state)
    SELECT * FROM unnest(%b::text[], %b::text[], %b::text[])
    ON CONFLICT DO NOTHING
), new_name_keys AS (
    INSERT INTO name_keys (record_id, family, birth_year, birth_month, birth_day)
    SELECT * FROM unnest(%b::text[], %b::text[], %b::integer[], %b::integer[], %b::integer[])
    ON CONFLICT DO NOTHING
), new_dates AS (
    -- _SET_DATES
    INSERT INTO lifecycle (record_id, review_due_us, expires_at_us)
    SELECT * FROM unnest(%b::text[], %b::bigint[], %b::bigint[])
    ON CONFLICT (record_id) DO UPDATE SET
        review_due_us = excluded.review_due_us,
        expires_at_us = excluded.expires_at_us
)
-- Delivered at commit, to every replica's feed follower: only a wake-up call, the versions are
-- read from the table.
SELECT pg_notify(%s, %s)
"""
# Before the keys of the new heads are inserted, in a statement of its own: in one statement the
# insert would still see the rows the delete removes (and skip an unchanged key).
_DELETE_DOCUMENT_KEYS = "DELETE FROM document_keys WHERE record_id = ANY(%b::text[])"
_DELETE_NAME_KEYS = "DELETE FROM name_keys WHERE record_id = ANY(%b::text[])"
_DELETE_LIFECYCLE = "DELETE FROM lifecycle WHERE record_id = ANY(%b::text[])"
_FIND_INGESTION = (
    "SELECT id, ingested_at_us FROM ingestions WHERE adapter = %s AND payload_sha256 = %s"
)
_INGESTION_ACKS = """
SELECT v.record_id, v.version, v.sequence, v.committed_at_us, v.content_sha256
FROM ingestion_acks AS a JOIN versions AS v ON v.sequence = a.sequence
WHERE a.ingestion_id = %s ORDER BY a.position
"""
_INSERT_INGESTION = """
INSERT INTO ingestions (adapter, payload_sha256, ingested_at_us) VALUES (%s, %s, %s)
RETURNING id
"""
_INSERT_INGESTION_ACK = (
    "INSERT INTO ingestion_acks (ingestion_id, position, sequence) VALUES (%s, %s, %s)"
)


@dataclass(slots=True)
class Attempt:
    """What one attempt at a transaction learnt about itself."""

    decided: Callable[[], None] | None = None
    """Told once the transaction has decided (before it is committed)."""
    reached_commit: bool = False
    """Whether the commit was sent: if the transaction then failed, whether it was stored is
    unknown; before that, nothing of it was."""
    seconds: float = 0.0
    """How long the committed transaction took, from its first statement to its commit."""


LOCKED_AFTER_FRESH_FAILED = 8
"""Transactions decided under the lock after new records turned out to be stored already."""


class PostgresTransactions:
    """Runs group-commit transactions; one instance per store, on the event loop."""

    def __init__(
        self,
        schema: str,
        signer: VersionSigner | None = None,
        retention: RetentionDefaults | None = None,
    ) -> None:
        self._lock_key = feed_lock_key(schema)
        self._channel = feed_channel(schema)
        self._signer = signer
        self._retention = retention if retention is not None else RetentionDefaults()
        self._last_committed_us = 0
        """The latest commit time this store's transactions chose."""
        self._locked_before_fresh = 0
        """Transactions to decide under the lock before trying new records again."""

    async def run(
        self, connection: _Connection, groups: Sequence[Sequence[WriteItem]], attempt: Attempt
    ) -> TransactionResult:
        """Apply every group's items, in order, in one transaction.

        Raises:
            psycopg.Error: the transaction failed and was rolled back; nothing was kept (unless
                ``attempt.reached_commit``: then the outcome is unknown).
        """
        if self._locked_before_fresh:
            self._locked_before_fresh -= 1
            chosen_us = None
        elif fresh.is_fresh_candidate(groups):
            result, chosen_us = await self._run_fresh(connection, groups, attempt)
            if result is not None:
                return result
        else:
            chosen_us = None
        started = perf_counter()
        async with self._pipelined(connection, attempt) as cursor:
            plan = await self._decide(cursor, groups, chosen_us=chosen_us)
            _decided(attempt)
            await self._write(cursor, plan, None)
        attempt.seconds = perf_counter() - started
        return TransactionResult(plan.outcomes, plan.records)

    async def _run_fresh(
        self, connection: _Connection, groups: Sequence[Sequence[WriteItem]], attempt: Attempt
    ) -> tuple[TransactionResult | None, int]:
        """Store the items as new records in one round trip (:mod:`.fresh`); ``None`` when
        they were not all new, or the feed's clock is ahead: nothing was stored. Also returns
        the commit time chosen, which the transaction deciding the items again keeps (unless
        the feed's is later): a transaction decided after this one chose a time no earlier."""
        started = perf_counter()
        plan = fresh.plan_fresh(groups, self._last_committed_us, self._signer, self._retention)
        self._last_committed_us = plan.committed_at_us
        _decided(attempt)
        inserting = connection.cursor()
        try:
            async with self._pipelined(connection, attempt) as cursor:
                await cursor.execute(_LOCK, (self._lock_key,))
                await inserting.execute(
                    fresh.FRESH_INSERT, fresh.fresh_parameters(plan, self._channel)
                )
            row = await inserting.fetchone()
        except fresh.FRESH_FAILURES:
            attempt.reached_commit = False  # the statement failed: nothing was committed
            # Some record was stored already: the next transactions (a client's retries, a
            # batch of corrections) are likely alike, and each failed guess costs a round trip.
            self._locked_before_fresh = LOCKED_AFTER_FRESH_FAILED
            return None, plan.committed_at_us
        finally:
            await inserting.close()
        if row is None:
            # The feed's last commit time is after ours: nothing was written.
            return None, plan.committed_at_us
        outcomes, plan = fresh.numbered(plan, int(row[0]))
        attempt.seconds = perf_counter() - started
        return TransactionResult(outcomes, plan.records), plan.committed_at_us

    async def ingest(
        self, connection: _Connection, ingestion: Ingestion, attempt: Attempt
    ) -> tuple[IngestOutcome, list[StoredRecord]]:
        """Store one payload's items and its ingestion row in one transaction, or find that the
        payload was ingested before and write nothing.

        Raises:
            psycopg.Error: the transaction failed and was rolled back; nothing was kept (unless
                ``attempt.reached_commit``: then the outcome is unknown).
        """
        started = perf_counter()
        try:
            async with self._pipelined(connection, attempt, explicit=True) as cursor:
                key = (ingestion.adapter, ingestion.payload_sha256)
                # The feed lock first: it also serializes two replicas ingesting one payload.
                await cursor.execute(_LOCK, (self._lock_key,))
                await cursor.execute(_FIND_INGESTION, key)
                row = await cursor.fetchone()
                if row is not None:
                    ingestion_id, ingested_at_us = row
                    await cursor.execute(_INGESTION_ACKS, (ingestion_id,))
                    acks = tuple(
                        StoredVersion(record_id, version, sequence, at, bytes(sha), duplicate=True)
                        for record_id, version, sequence, at, sha in await cursor.fetchall()
                    )
                    outcome = IngestOutcome(acks, True, int(ingested_at_us))
                    _decided(attempt)
                    return outcome, []
                plan = await self._decide(cursor, [ingestion.items], locked=True)
                [outcomes] = plan.outcomes
                acks = tuple(_acknowledged(outcome) for outcome in outcomes)
                committed_at_us = plan.committed_at_us
                _decided(attempt)
                await self._write(cursor, plan, (key, committed_at_us, acks))
        except OriginConflictError as error:
            return IngestOutcome((), False, 0, error.conflict), []
        except RecordWithdrawnError as error:
            return IngestOutcome((), False, 0, error.withdrawn), []
        attempt.seconds = perf_counter() - started
        return IngestOutcome(acks, False, committed_at_us), plan.records

    @asynccontextmanager
    async def _pipelined(
        self, connection: _Connection, attempt: Attempt, *, explicit: bool = False
    ) -> AsyncIterator[psycopg.AsyncCursor[Any]]:
        """One transaction in one pipeline, on a cursor: nothing waits for the server but a
        fetch (the reads, a flush) and the end (the sync, which commits).

        Without ``explicit``, no ``BEGIN`` or ``COMMIT`` is sent: on an autocommit connection
        the statements between two syncs of a pipeline are one implicit transaction, committed
        at the sync and rolled back whole when one fails - two statements less for the gateway
        and the database. ``explicit`` (``BEGIN`` … ``COMMIT``) is for work that calls
        ``executemany``, which psycopg may sync on its own. psycopg's ``transaction()`` inside a
        pipeline syncs at its start and before its ``COMMIT``: two more round trips, with the
        feed lock held for one of them.
        """
        attempt.reached_commit = False
        try:
            async with connection.pipeline(), connection.cursor() as cursor:
                if explicit:
                    await cursor.execute("BEGIN")
                yield cursor
                if explicit:
                    await cursor.execute("COMMIT")
                # The commit goes with the pipeline's sync, as the block ends.
                attempt.reached_commit = True
        except BaseException:
            await _roll_back(connection)
            raise

    async def _decide(
        self,
        cursor: psycopg.AsyncCursor[Any],
        groups: Sequence[Sequence[WriteItem]],
        *,
        locked: bool = False,
        chosen_us: int | None = None,
    ) -> Plan:
        """Read what the decisions need (one round trip, the lock first) and decide; commit
        at ``chosen_us`` when given (else now), or at the feed's last commit time if later."""
        ids = sorted({item.record_id for group in groups for item in group})
        if not locked:
            await cursor.execute(_LOCK, (self._lock_key,))
        reading = await cursor.connection.execute(_READ, {"ids": ids})
        last_sequence = last_committed_us = 0
        snapshot = Snapshot(0)
        for (
            part,
            record_id,
            a,
            b,
            c,
            sha,
            origin,
            releasable,
            kind,
            code,
        ) in await reading.fetchall():
            if part == 0:
                last_sequence, last_committed_us = a, b
            elif part == 1:
                snapshot.heads[record_id] = Head(
                    a, origin, code, split_releasable(releasable), kind
                )
            elif part == 2:
                snapshot.by_content[(record_id, bytes(sha))] = (a, b, c)
                snapshot.taken.add((record_id, a))
            else:
                snapshot.dates[record_id] = (a, b)
        snapshot.last_sequence = int(last_sequence)
        # Never behind the feed's last commit, so that commit times follow sequence order even
        # when replicas' clocks disagree (a time-range search must agree with the feed).
        # Never before a commit time this store chose either: a new-records transaction
        # decided next (before the lock) must not choose one before it (module fresh).
        if chosen_us is None:
            chosen_us = max(time.time_ns() // 1000, self._last_committed_us)
        committed_at_us = max(chosen_us, int(last_committed_us))
        self._last_committed_us = max(self._last_committed_us, committed_at_us)
        return plan_transaction(groups, snapshot, committed_at_us, self._signer, self._retention)

    async def _write(
        self,
        cursor: psycopg.AsyncCursor[Any],
        plan: Plan,
        ingestion: tuple[tuple[str, bytes], int, tuple[StoredVersion, ...]] | None,
    ) -> None:
        """Queue every write of ``plan`` (sent with the commit)."""
        committed_at_us = plan.committed_at_us
        if plan.replaced_keys:
            await cursor.execute(_DELETE_DOCUMENT_KEYS, (plan.replaced_keys,))
            await cursor.execute(_DELETE_NAME_KEYS, (plan.replaced_keys,))
        if plan.new_versions:
            versions = version_columns(plan.new_versions, committed_at_us)
            documents = document_columns(plan.heads)
            names = name_columns(plan.heads)
            await cursor.execute(
                _INSERT_VERSIONS,
                (
                    *versions,
                    [new.sequence for new in plan.heads],
                    *documents,
                    *names,
                    *columns(plan.changed_dates, 3),
                    self._channel,
                    str(plan.records[-1].sequence),
                ),
            )
        elif plan.changed_dates:
            await cursor.execute(_SET_DATES, columns(plan.changed_dates, 3))
        if plan.removed_dates:
            await cursor.execute(_DELETE_LIFECYCLE, (plan.removed_dates,))
        if ingestion is not None:
            key, ingested_at_us, acks = ingestion
            await cursor.execute(_INSERT_INGESTION, (*key, ingested_at_us))
            row = await cursor.fetchone()
            assert row is not None
            if acks:
                await cursor.executemany(
                    _INSERT_INGESTION_ACK,
                    [(row[0], position, ack.sequence) for position, ack in enumerate(acks)],
                )


def _acknowledged(outcome: WriteOutcome) -> StoredVersion:
    if isinstance(outcome, RecordWithdrawn):
        raise RecordWithdrawnError(outcome)
    if isinstance(outcome, VersionConflict):
        raise TypeError("an ingested item carried an expected version")
    if not isinstance(outcome, StoredVersion):
        raise OriginConflictError(outcome)
    return outcome


def _decided(attempt: Attempt) -> None:
    if attempt.decided is not None:
        attempt.decided()


async def _roll_back(connection: _Connection) -> None:
    """End a failed pipelined transaction, so that the connection goes back to the pool idle.

    After an error the pipeline skips everything up to its sync, the ``COMMIT`` included, and an
    explicit transaction is left open and aborted (an implicit one ends at the sync); a broken
    connection has nothing to end.
    """
    if connection.closed or connection.info.transaction_status not in (
        pq.TransactionStatus.INTRANS,
        pq.TransactionStatus.INERROR,
    ):
        return
    with suppress(psycopg.Error):
        await connection.execute("ROLLBACK")
