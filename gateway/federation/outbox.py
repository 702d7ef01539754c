"""The outbox: durable delivery state per record and peer, in a SQLite file of its own.

The record store's commit sequence is the source of truth for *what* must be forwarded: the
router reads committed records after ``routed_through`` (a durable cursor), asks the routing
rules where each goes, and records one delivery row per (peer, record id, version) — queued, or
withheld when handling forbids it — and advances the cursor **in the same transaction**. A crash
at any point either leaves the cursor behind (the records are routed again, and the rows'
primary key makes that idempotent) or after the rows (nothing left to do). Records are never
copied here: the sender reads them from the store when it sends.

Delivery rows then move ``queued → delivered``, or ``queued → failed → ... → dead_lettered``,
and back to ``queued`` on replay. What dead-letters depends on the failure:

* the peer refused the record itself (it answered, with an error for that record): at once;
* the peer could not be reached (down, a refused handshake, no answer, a failed Identify):
  only ``max_age`` since queueing - an outage shorter than that never dead-letters, however many
  attempts it took (:meth:`Outbox.unavailable`; the sender backs off per peer);
* any other failure (the peer answered with a malformed response): ``max_attempts`` attempts, or
  ``max_age`` (:meth:`Outbox.failed`).

The audit entries a state change implies (a delivery made, a delivery withheld, dead letters)
are kept in the ``audit_pending`` table **in the same transaction** as the change, when the
caller asks for them (``audited=True``), and written to the audit log later by the forwarder
(:meth:`Outbox.audit_notes`, :meth:`Outbox.audit_written`): the delivery state is the truth, and
an audit log that cannot be written (disk full) neither stops deliveries nor loses their entries.

Every operation is a short transaction with ``synchronous = FULL``; the class is used from one
event loop, each call running in a worker thread under a lock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from gateway.federation.routing import RouteDecision
from liaison.v1 import exchange_pb2, federation_pb2

__all__ = ["AuditNote", "Backoff", "Delivery", "Outbox", "PendingDelivery"]

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
    """Exponential backoff with jitter, and when to give up (``[delivery]``)."""

    initial_seconds: float = 0.5
    """Upper bound of the first retry delay."""
    max_seconds: float = 300.0
    """Cap of the delay: a peer that is down is tried again at least this often."""
    max_attempts: int = 10
    """Attempts before a delivery is dead-lettered, for failures other than an unreachable peer
    (a peer that cannot be reached is waited for until ``max_age_seconds``)."""
    max_age_seconds: float = 24 * 3600.0
    """Age (since queueing) after which a delivery still failing is dead-lettered."""

    def delay(self, attempts: int, rng: random.Random) -> float:
        """The wait before the next attempt after ``attempts`` failures (full jitter)."""
        return rng.uniform(0, self._ceiling(attempts))

    def peer_delay(self, failures: int, rng: random.Random) -> float:
        """The wait before the next attempt to a peer that could not be reached ``failures``
        times in a row: doubling up to the cap, with jitter over its upper half (never near 0,
        so a peer that is down is not hammered)."""
        ceiling = self._ceiling(failures)
        return rng.uniform(ceiling / 2, ceiling)

    def _ceiling(self, attempts: int) -> float:
        doublings = min(max(attempts - 1, 0), 62)
        return float(min(self.max_seconds, self.initial_seconds * 2.0**doublings))


@dataclass(frozen=True, slots=True)
class AuditNote:
    """An audit entry a delivery state change implies, kept until the audit log has it."""

    id: int
    """Its row (delete it with :meth:`Outbox.audit_written` once written)."""
    action: str
    outcome: str
    record_ids: tuple[str, ...]
    detail: Mapping[str, str | int]
    noted_at: float
    """When the state changed (the entry may be written later)."""


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
                if cursor.rowcount and state == WITHHELD and audited:
                    _note(
                        db,
                        "deny",
                        "withheld",
                        [item.record_id],
                        {"peer": item.decision.peer, "reason": item.decision.reason},
                        now,
                    )
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
                (*chunk, QUEUED, DELIVERED, FAILED),
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
                _note(db, "forward", "ok", [d.record_id for d, _ in acks], {"peer": peer}, now)
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
            if audited and dead:
                _note(db, "dead-letter", "failed", [d.record_id for d in dead], {"peer": peer}, now)
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
        error = error[:500]
        max_age = self.backoff.max_age_seconds
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
                    (peer, QUEUED, FAILED, now - max_age),
                )
            ]
            if dead:
                gave_up = (
                    f"{error}; dead-lettered: still undelivered after max_age_seconds "
                    f"({max_age:g} s)"
                )[:500]
                db.executemany(
                    "UPDATE deliveries SET state = ?, last_error = ?, updated_at = ?,"
                    " next_attempt_at = ? WHERE peer = ? AND record_id = ? AND version = ?",
                    [
                        (DEAD_LETTERED, gave_up, now, now, peer, d.record_id, d.version)
                        for d in dead
                    ],
                )
                if audited:
                    _note(
                        db,
                        "dead-letter",
                        "failed",
                        [d.record_id for d in dead],
                        {"peer": peer},
                        now,
                    )
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
        return [_status(row) for row in rows]

    async def counts(self) -> dict[int, int]:
        """Deliveries per state."""
        result: dict[int, int] = await self._run(self._counts)
        return result

    def _counts(self) -> dict[int, int]:
        rows = self._db().execute("SELECT state, count(*) FROM deliveries GROUP BY state")
        return {int(state): int(count) for state, count in rows}


def _note(
    db: sqlite3.Connection,
    action: str,
    outcome: str,
    record_ids: list[str],
    detail: Mapping[str, str | int],
    now: float,
) -> None:
    """Keep an audit entry in the caller's transaction."""
    db.execute(
        "INSERT INTO audit_pending (action, outcome, record_ids, detail, noted_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (action, outcome, json.dumps(record_ids), json.dumps(dict(detail)), now),
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
