"""The outbox in a SQLite file of its own, beside one gateway (the embedded default).

The rules are :mod:`gateway.federation.delivery_policy`'s; this module holds the SQL. Every
operation is a short transaction with ``synchronous = FULL``; the class is used from one event
loop, each call running in a worker thread under a lock. Only one gateway uses the file, so a
due delivery is simply the oldest: nothing is leased.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from gateway.federation import delivery_policy as policy
from gateway.federation.delivery_policy import NoteDraft
from gateway.federation.outbox import (
    DEAD_LETTERED,
    DELIVERED,
    FAILED,
    QUEUED,
    WITHHELD,
    AuditNote,
    Backoff,
    Delivery,
    Outbox,
    PendingDelivery,
)
from liaison.v1 import exchange_pb2, federation_pb2

__all__ = ["SqliteOutbox"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    routed_through INTEGER NOT NULL
) STRICT;
INSERT OR IGNORE INTO cursor (id, routed_through) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS deliveries (
    peer TEXT NOT NULL,
    record_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    state INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    receiver_ack BLOB,
    reason TEXT NOT NULL DEFAULT '',
    trace_context TEXT NOT NULL DEFAULT '',
    queued_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    next_attempt_at REAL NOT NULL,
    PRIMARY KEY (peer, record_id, version)
) STRICT;
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (peer, state, next_attempt_at, sequence);
CREATE INDEX IF NOT EXISTS deliveries_record ON deliveries (record_id);
CREATE TABLE IF NOT EXISTS audit_pending (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    record_ids TEXT NOT NULL,
    detail TEXT NOT NULL,
    noted_at REAL NOT NULL
) STRICT;
"""

_LIST_QUERY = (
    "SELECT " + policy.STATUS_COLUMNS + " FROM deliveries"  # noqa: S608 (fixed text)
    " WHERE {where} ORDER BY sequence DESC, peer LIMIT ?"
)


class SqliteOutbox(Outbox):
    """The outbox in a SQLite file beside one gateway (``<store>.outbox.db``)."""

    def __init__(self, path: Path, backoff: Backoff | None = None, *, seed: int | None = None):
        self.path = path
        self.backoff = backoff or Backoff()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    async def open(self) -> None:
        await asyncio.to_thread(self._open)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        connection.executescript(_SCHEMA)
        self._connection = connection

    async def close(self) -> None:
        await self._run(self._close)

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def _run(self, function: Any, *args: Any) -> Any:
        def locked() -> Any:
            with self._lock:
                return function(*args)

        return await asyncio.to_thread(locked)

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            raise RuntimeError("the outbox is not open")
        return self._connection

    # -- routing ---------------------------------------------------------------------------

    async def routed_through(self) -> int:
        """The highest store sequence already routed."""
        result: int = await self._run(self._routed_through)
        return result

    def _routed_through(self) -> int:
        row = self._db().execute("SELECT routed_through FROM cursor").fetchone()
        return int(row[0])

    async def record_routing(
        self,
        deliveries: Sequence[Delivery],
        routed_through: int,
        now: float,
        *,
        audited: bool = False,
    ) -> int:
        """Store the deliveries of the records up to ``routed_through`` and advance the cursor,
        atomically (with an audit note per new withheld delivery when ``audited``). Returns how
        many new queued deliveries were added."""
        added: int = await self._run(self._record_routing, deliveries, routed_through, now, audited)
        return added

    def _record_routing(
        self, deliveries: Sequence[Delivery], routed_through: int, now: float, audited: bool
    ) -> int:
        db = self._db()
        added = 0
        db.execute("BEGIN IMMEDIATE")
        try:
            for item in deliveries:
                state = policy.initial_state(item)
                cursor = db.execute(
                    "INSERT OR IGNORE INTO deliveries (peer, record_id, version, sequence, state,"
                    " reason, trace_context, queued_at, updated_at, next_attempt_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        item.decision.peer,
                        item.record_id,
                        item.version,
                        item.sequence,
                        state,
                        item.decision.reason,
                        item.trace_context,
                        now,
                        now,
                        now,
                    ),
                )
                if cursor.rowcount and state == QUEUED:
                    added += 1
                if cursor.rowcount and state == WITHHELD and audited:
                    _note(db, policy.withheld_note(item, now))
            db.execute(
                "UPDATE cursor SET routed_through = max(routed_through, ?)", (routed_through,)
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return added

    async def recipients(self, record_ids: Sequence[str]) -> dict[str, set[str]]:
        """The recipient ledger: for each record, the peers that received one of its versions
        or have one queued (a delivery delivered, queued or failed; not withheld, not dead)."""
        found: dict[str, set[str]] = await self._run(self._recipients, list(record_ids))
        return found

    def _recipients(self, record_ids: list[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for start in range(0, len(record_ids), 500):
            chunk = record_ids[start : start + 500]
            rows = self._db().execute(
                "SELECT DISTINCT record_id, peer FROM deliveries"  # noqa: S608
                f" WHERE record_id IN ({','.join('?' * len(chunk))}) AND state IN (?, ?, ?)",
                (*chunk, *policy.RECIPIENT_STATES),
            )
            for record_id, peer in rows:
                found.setdefault(record_id, set()).add(peer)
        return found

    # -- sending ---------------------------------------------------------------------------

    async def due(self, peer: str, now: float, limit: int) -> list[PendingDelivery]:
        """Deliveries to ``peer`` whose attempt is due, oldest commit first."""
        result: list[PendingDelivery] = await self._run(self._due, peer, now, limit)
        return result

    def _due(self, peer: str, now: float, limit: int) -> list[PendingDelivery]:
        rows = self._db().execute(
            "SELECT peer, record_id, version, sequence, attempts, queued_at, trace_context"
            " FROM deliveries WHERE peer = ? AND state IN (?, ?) AND next_attempt_at <= ?"
            " ORDER BY sequence LIMIT ?",
            (peer, QUEUED, FAILED, now, limit),
        )
        return [PendingDelivery(*row) for row in rows]

    async def next_due_at(self, peer: str) -> float | None:
        """When the earliest queued or failed delivery to ``peer`` is due, if any."""
        result: float | None = await self._run(self._next_due_at, peer)
        return result

    def _next_due_at(self, peer: str) -> float | None:
        row = (
            self._db()
            .execute(
                "SELECT min(next_attempt_at) FROM deliveries WHERE peer = ? AND state IN (?, ?)",
                (peer, QUEUED, FAILED),
            )
            .fetchone()
        )
        return None if row[0] is None else float(row[0])

    async def delivered(
        self,
        peer: str,
        acks: Iterable[tuple[PendingDelivery, exchange_pb2.SubmitAck]],
        now: float,
        *,
        audited: bool = False,
    ) -> None:
        """Mark deliveries acknowledged by the peer, with the receiver's ack (and note their
        ``forward`` audit entry when ``audited``)."""
        await self._run(self._delivered, peer, list(acks), now, audited)

    def _delivered(
        self,
        peer: str,
        acks: list[tuple[PendingDelivery, exchange_pb2.SubmitAck]],
        now: float,
        audited: bool,
    ) -> None:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "UPDATE deliveries SET state = ?, attempts = attempts + 1, last_error = '',"
                " receiver_ack = ?, updated_at = ? WHERE peer = ? AND record_id = ?"
                " AND version = ?",
                [
                    (DELIVERED, ack.SerializeToString(), now, peer, d.record_id, d.version)
                    for d, ack in acks
                ],
            )
            if audited and acks:
                _note(db, policy.forward_note(peer, [d.record_id for d, _ in acks], now))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    async def failed(
        self,
        peer: str,
        failures: Iterable[tuple[PendingDelivery, str]],
        now: float,
        *,
        permanent: bool = False,
        audited: bool = False,
    ) -> list[PendingDelivery]:
        """Record failed attempts that count toward ``max_attempts``; returns those that became
        dead letters (noted for the audit log when ``audited``).

        ``permanent`` failures (the peer refused the record itself) are dead-lettered at once:
        sending the same record again cannot succeed. A peer that could not be reached is
        :meth:`unavailable` instead.
        """
        result: list[PendingDelivery] = await self._run(
            self._failed, peer, list(failures), now, permanent, audited
        )
        return result

    def _failed(
        self,
        peer: str,
        failures: list[tuple[PendingDelivery, str]],
        now: float,
        permanent: bool,
        audited: bool,
    ) -> list[PendingDelivery]:
        db = self._db()
        settled, dead = policy.settle_failures(
            self.backoff, self._rng, failures, now, permanent=permanent
        )
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "UPDATE deliveries SET state = ?, attempts = ?, last_error = ?,"
                " updated_at = ?, next_attempt_at = ? WHERE peer = ? AND record_id = ?"
                " AND version = ?",
                [
                    (
                        item.state,
                        item.attempts,
                        item.error,
                        now,
                        item.next_attempt_at,
                        peer,
                        item.delivery.record_id,
                        item.delivery.version,
                    )
                    for item in settled
                ],
            )
            if audited and dead:
                _note(db, policy.dead_letter_note(peer, [d.record_id for d in dead], now))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return dead

    async def unavailable(
        self,
        peer: str,
        attempted: Sequence[PendingDelivery],
        error: str,
        now: float,
        retry_at: float,
        *,
        audited: bool = False,
    ) -> list[PendingDelivery]:
        """The peer could not be reached: the ``attempted`` deliveries failed one more attempt,
        and every delivery due to ``peer`` now waits for ``retry_at`` with ``error`` as its last
        error (it was not sent because the peer is down). These failures never count toward
        ``max_attempts``: only deliveries older than ``max_age`` are dead-lettered (all of the
        peer's, attempted or not). Returns the new dead letters (noted when ``audited``)."""
        result: list[PendingDelivery] = await self._run(
            self._unavailable, peer, list(attempted), error, now, retry_at, audited
        )
        return result

    def _unavailable(
        self,
        peer: str,
        attempted: list[PendingDelivery],
        error: str,
        now: float,
        retry_at: float,
        audited: bool,
    ) -> list[PendingDelivery]:
        db = self._db()
        error = error[: policy.MAX_ERROR_CHARS]
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "UPDATE deliveries SET attempts = attempts + 1 WHERE peer = ? AND record_id = ?"
                " AND version = ? AND state IN (?, ?)",
                [(peer, d.record_id, d.version, QUEUED, FAILED) for d in attempted],
            )
            db.execute(
                "UPDATE deliveries SET state = ?, last_error = ?, updated_at = ?,"
                " next_attempt_at = ? WHERE peer = ? AND state IN (?, ?) AND next_attempt_at <= ?",
                (FAILED, error, now, retry_at, peer, QUEUED, FAILED, now),
            )
            dead = [
                PendingDelivery(*row)
                for row in db.execute(
                    "SELECT peer, record_id, version, sequence, attempts, queued_at, trace_context"
                    " FROM deliveries WHERE peer = ? AND state IN (?, ?) AND queued_at <= ?"
                    " ORDER BY sequence",
                    (peer, QUEUED, FAILED, policy.unavailable_dead_before(self.backoff, now)),
                )
            ]
            if dead:
                gave_up = policy.gave_up_error(error, self.backoff)
                db.executemany(
                    "UPDATE deliveries SET state = ?, last_error = ?, updated_at = ?,"
                    " next_attempt_at = ? WHERE peer = ? AND record_id = ? AND version = ?",
                    [
                        (DEAD_LETTERED, gave_up, now, now, peer, d.record_id, d.version)
                        for d in dead
                    ],
                )
                if audited:
                    _note(db, policy.dead_letter_note(peer, [d.record_id for d in dead], now))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return dead

    # -- audit notes -----------------------------------------------------------------------

    async def audit_notes(self, limit: int = 256) -> list[AuditNote]:
        """The audit entries noted and not written yet, oldest first."""
        result: list[AuditNote] = await self._run(self._audit_notes, limit)
        return result

    def _audit_notes(self, limit: int) -> list[AuditNote]:
        rows = self._db().execute(
            "SELECT id, action, outcome, record_ids, detail, noted_at FROM audit_pending"
            " ORDER BY id LIMIT ?",
            (limit,),
        )
        return [
            AuditNote(
                id=row[0],
                action=row[1],
                outcome=row[2],
                record_ids=tuple(json.loads(row[3])),
                detail=json.loads(row[4]),
                noted_at=row[5],
            )
            for row in rows
        ]

    async def audit_written(self, ids: Sequence[int]) -> None:
        """Forget the notes ``ids``: the audit log has their entries."""
        await self._run(self._audit_written, list(ids))

    def _audit_written(self, ids: list[int]) -> None:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("DELETE FROM audit_pending WHERE id = ?", [(i,) for i in ids])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    async def audit_pending(self) -> int:
        """How many audit notes wait for the audit log."""
        result: int = await self._run(self._audit_pending)
        return result

    def _audit_pending(self) -> int:
        row = self._db().execute("SELECT count(*) FROM audit_pending").fetchone()
        return int(row[0])

    # -- operators -------------------------------------------------------------------------

    async def replay(
        self, peer: str, record_ids: Sequence[str], now: float
    ) -> list[federation_pb2.DeliveryStatus]:
        """Re-queue dead letters (of ``peer`` or all peers; of ``record_ids`` or all)."""
        result: list[federation_pb2.DeliveryStatus] = await self._run(
            self._replay, peer, list(record_ids), now
        )
        return result

    def _replay(
        self, peer: str, record_ids: list[str], now: float
    ) -> list[federation_pb2.DeliveryStatus]:
        db = self._db()
        where, args = _filters(peer, record_ids, [DEAD_LETTERED])
        db.execute("BEGIN IMMEDIATE")
        try:
            keys = db.execute(
                f"SELECT peer, record_id, version FROM deliveries WHERE {where}",  # noqa: S608
                args,
            ).fetchall()
            db.executemany(
                "UPDATE deliveries SET state = ?, attempts = 0, queued_at = ?, updated_at = ?,"
                " next_attempt_at = ? WHERE peer = ? AND record_id = ? AND version = ?",
                [(QUEUED, now, now, now, *key) for key in keys],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return [s for key in keys for s in self._statuses(key[0], key[1], [], 1, version=key[2])]

    async def statuses(
        self,
        *,
        peer: str = "",
        record_id: str = "",
        states: Sequence[int] = (),
        limit: int = 1000,
    ) -> list[federation_pb2.DeliveryStatus]:
        """Delivery states, newest first (metadata only)."""
        result: list[federation_pb2.DeliveryStatus] = await self._run(
            self._statuses, peer, record_id, list(states), limit
        )
        return result

    def _statuses(
        self,
        peer: str,
        record_id: str,
        states: list[int],
        limit: int,
        version: int | None = None,
    ) -> list[federation_pb2.DeliveryStatus]:
        where, args = _filters(peer, [record_id] if record_id else [], states)
        if version is not None:
            where += " AND version = ?"
            args.append(version)
        # ``where`` holds fixed clauses with ``?`` placeholders, never values.
        query = _LIST_QUERY.format(where=where)
        rows = self._db().execute(query, [*args, limit])
        return [policy.status_of(policy.StatusRow.of(row)) for row in rows]

    async def counts(self) -> dict[int, int]:
        """Deliveries per state."""
        result: dict[int, int] = await self._run(self._counts)
        return result

    def _counts(self) -> dict[int, int]:
        rows = self._db().execute("SELECT state, count(*) FROM deliveries GROUP BY state")
        return {int(state): int(count) for state, count in rows}


def _note(db: sqlite3.Connection, note: NoteDraft) -> None:
    """Keep an audit entry in the caller's transaction."""
    db.execute(
        "INSERT INTO audit_pending (action, outcome, record_ids, detail, noted_at)"
        " VALUES (?, ?, ?, ?, ?)",
        note.columns(),
    )


def _filters(peer: str, record_ids: Sequence[str], states: Sequence[int]) -> tuple[str, list[Any]]:
    clauses = ["1 = 1"]
    args: list[Any] = []
    if peer:
        clauses.append("peer = ?")
        args.append(peer)
    if record_ids:
        clauses.append(f"record_id IN ({', '.join('?' * len(record_ids))})")
        args.extend(record_ids)
    if states:
        clauses.append(f"state IN ({', '.join('?' * len(states))})")
        args.extend(states)
    return " AND ".join(clauses), args
