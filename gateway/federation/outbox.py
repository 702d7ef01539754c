"""The outbox: durable delivery state per record and peer, in a SQLite file of its own.

The record store's commit sequence is the source of truth for *what* must be forwarded: the
router reads committed records after ``routed_through`` (a durable cursor), asks the routing
rules where each goes, and records one delivery row per (peer, record id, version) — queued, or
withheld when handling forbids it — and advances the cursor **in the same transaction**. A crash
at any point either leaves the cursor behind (the records are routed again, and the rows'
primary key makes that idempotent) or after the rows (nothing left to do). Records are never
copied here: the sender reads them from the store when it sends.

Delivery rows then move ``queued → delivered``, or ``queued → failed → ... → dead_lettered``
after ``max_attempts`` attempts or ``max_age`` since queueing, and back to ``queued`` on replay.
Every operation is a short transaction with ``synchronous = FULL``; the class is used from one
event loop, each call running in a worker thread under a lock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from gateway.federation.routing import RouteDecision
from liaison.v1 import exchange_pb2, federation_pb2

__all__ = ["Backoff", "Delivery", "Outbox", "PendingDelivery"]

_T = TypeVar("_T")

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
"""

_LIST_QUERY = (
    "SELECT record_id, version, peer, state, attempts, last_error, receiver_ack,"
    " queued_at, updated_at, next_attempt_at, reason FROM deliveries"
    " WHERE {where} ORDER BY sequence DESC, peer LIMIT ?"
)

QUEUED = federation_pb2.DELIVERY_STATE_QUEUED
DELIVERED = federation_pb2.DELIVERY_STATE_DELIVERED
FAILED = federation_pb2.DELIVERY_STATE_FAILED
DEAD_LETTERED = federation_pb2.DELIVERY_STATE_DEAD_LETTERED
WITHHELD = federation_pb2.DELIVERY_STATE_WITHHELD


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter, and when to give up."""

    initial_seconds: float = 0.5
    """Upper bound of the first retry delay."""
    max_seconds: float = 60.0
    """Cap of the delay."""
    max_attempts: int = 10
    """Attempts before a delivery is dead-lettered."""
    max_age_seconds: float = 24 * 3600.0
    """Age (since queueing) after which a failing delivery is dead-lettered."""

    def delay(self, attempts: int, rng: random.Random) -> float:
        """The wait before the next attempt after ``attempts`` failures (full jitter)."""
        ceiling = min(self.max_seconds, self.initial_seconds * (2 ** max(attempts - 1, 0)))
        return rng.uniform(0, ceiling)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One record's routing to one peer, as routed (before it is stored here)."""

    decision: RouteDecision
    record_id: str
    version: int
    sequence: int
    trace_context: str = ""
    """W3C ``traceparent`` of the submission, carried to the peer."""


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    """A delivery due for an attempt."""

    peer: str
    record_id: str
    version: int
    sequence: int
    attempts: int
    queued_at: float
    trace_context: str


class Outbox:
    """The durable delivery state of one centre."""

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
        self, deliveries: Sequence[Delivery], routed_through: int, now: float
    ) -> int:
        """Store the deliveries of the records up to ``routed_through`` and advance the cursor,
        atomically. Returns how many new queued deliveries were added."""
        added: int = await self._run(self._record_routing, deliveries, routed_through, now)
        return added

    def _record_routing(
        self, deliveries: Sequence[Delivery], routed_through: int, now: float
    ) -> int:
        db = self._db()
        added = 0
        db.execute("BEGIN IMMEDIATE")
        try:
            for item in deliveries:
                state = QUEUED if item.decision.allowed else WITHHELD
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
            db.execute(
                "UPDATE cursor SET routed_through = max(routed_through, ?)", (routed_through,)
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return added

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
    ) -> None:
        """Mark deliveries acknowledged by the peer, with the receiver's ack."""
        await self._run(self._delivered, peer, list(acks), now)

    def _delivered(
        self,
        peer: str,
        acks: list[tuple[PendingDelivery, exchange_pb2.SubmitAck]],
        now: float,
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
    ) -> list[PendingDelivery]:
        """Record failed attempts; returns those that became dead letters.

        ``permanent`` failures (the peer refused the record itself) are dead-lettered at once:
        sending the same record again cannot succeed.
        """
        result: list[PendingDelivery] = await self._run(
            self._failed, peer, list(failures), now, permanent
        )
        return result

    def _failed(
        self,
        peer: str,
        failures: list[tuple[PendingDelivery, str]],
        now: float,
        permanent: bool,
    ) -> list[PendingDelivery]:
        db = self._db()
        dead: list[PendingDelivery] = []
        db.execute("BEGIN IMMEDIATE")
        try:
            for delivery, error in failures:
                attempts = delivery.attempts + 1
                too_old = now - delivery.queued_at >= self.backoff.max_age_seconds
                if permanent or attempts >= self.backoff.max_attempts or too_old:
                    state, next_at = DEAD_LETTERED, now
                    dead.append(delivery)
                else:
                    state = FAILED
                    next_at = now + self.backoff.delay(attempts, self._rng)
                db.execute(
                    "UPDATE deliveries SET state = ?, attempts = ?, last_error = ?,"
                    " updated_at = ?, next_attempt_at = ? WHERE peer = ? AND record_id = ?"
                    " AND version = ?",
                    (
                        state,
                        attempts,
                        error[:500],
                        now,
                        next_at,
                        peer,
                        delivery.record_id,
                        delivery.version,
                    ),
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return dead

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
        return [_status(row) for row in rows]

    async def counts(self) -> dict[int, int]:
        """Deliveries per state."""
        result: dict[int, int] = await self._run(self._counts)
        return result

    def _counts(self) -> dict[int, int]:
        rows = self._db().execute("SELECT state, count(*) FROM deliveries GROUP BY state")
        return {int(state): int(count) for state, count in rows}


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


def _status(row: tuple[Any, ...]) -> federation_pb2.DeliveryStatus:
    (record_id, version, peer, state, attempts, error, ack, queued, updated, due, reason) = row
    status = federation_pb2.DeliveryStatus(
        record_id=record_id,
        version=version,
        peer=peer,
        state=state,
        attempts=attempts,
        last_error=error,
        reason=reason,
    )
    if ack:
        status.receiver_ack.ParseFromString(ack)
    status.queued_at.FromDatetime(_utc(queued))
    status.updated_at.FromDatetime(_utc(updated))
    if state in (QUEUED, FAILED):
        status.next_attempt_at.FromDatetime(_utc(due))
    return status


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)
