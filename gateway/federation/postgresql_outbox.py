"""The outbox in PostgreSQL, shared by every gateway replica of one centre.

Same rules as the SQLite outbox (:mod:`gateway.federation.delivery_policy`), same tables (schema
version 2 of the store, decision 0024), plus a **lease** on each delivery in flight:

* :meth:`PostgresOutbox.due` claims the oldest due deliveries of a peer with
  ``FOR UPDATE SKIP LOCKED`` and stamps them ``lease_owner = <this replica>``,
  ``lease_until = now + lease_seconds`` in the same statement. Two replicas asking at once get
  disjoint batches (this replica's one sender per peer gets its own unsettled ones again, e.g.
  after the task restarted); a delivery stays this replica's until it is settled (delivered, failed,
  dead-lettered: the lease is cleared) or its lease runs out - then another replica takes it
  over (this one was killed mid-delivery). The receiver deduplicates by record id and version,
  so a delivery resent after a takeover is acknowledged as a duplicate, never stored twice.
* A version is claimed only when no earlier version of the same record to the same peer is
  still due: a correction never overtakes the version it corrects, whichever replica sends.
* Settling never undoes another replica's outcome: a failure is recorded only on a delivery
  still due (a late failure report cannot turn a delivered row back into a failed one).
* Audit notes are leased the same way (on the database clock), so each is written to the audit
  log by one replica.
* Routing is serialized by an advisory lock: every replica's router routes every commit (it is
  idempotent), one transaction at a time.

The class runs on the gateway's event loop with a small connection pool of its own. Each
operation runs to its end even when its caller is cancelled (a stopping forwarder): a
transaction cut off between statements would keep its row locks until the pool noticed.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

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
from gateway.store.postgresql import migrate
from liaison.v1 import exchange_pb2, federation_pb2

__all__ = ["DEFAULT_LEASE_SECONDS", "PostgresOutbox"]

DEFAULT_LEASE_SECONDS = 120.0
"""How long a claimed delivery stays one replica's: longer than a ``Deliver`` call may take
(its deadline is 30 s), short enough that a killed replica's deliveries move on soon."""

_Connection = psycopg.AsyncConnection[Any]
_DUE = list(policy.DUE_STATES)
_PENDING_COLUMNS = "peer, record_id, version, sequence, attempts, queued_at, trace_context"

_CLAIM = """
UPDATE deliveries AS d SET lease_owner = %(owner)s, lease_until = %(until)s
FROM (
    SELECT c.peer, c.record_id, c.version FROM deliveries AS c
    WHERE c.peer = %(peer)s AND c.state = ANY(%(due)s) AND c.next_attempt_at <= %(now)s
      AND (c.lease_until <= %(now)s OR c.lease_owner = %(owner)s)
      AND NOT EXISTS (
          SELECT 1 FROM deliveries AS e
          WHERE e.peer = c.peer AND e.record_id = c.record_id AND e.version < c.version
            AND e.state = ANY(%(due)s))
    ORDER BY c.sequence LIMIT %(limit)s
    FOR UPDATE OF c SKIP LOCKED
) AS picked
WHERE d.peer = picked.peer AND d.record_id = picked.record_id AND d.version = picked.version
RETURNING d.peer, d.record_id, d.version, d.sequence, d.attempts, d.queued_at, d.trace_context
"""

# A due delivery can be attempted once its own time has come, its lease (another replica's) has
# run out, and every earlier version of its record to the peer can be too.
_NEXT_DUE = """
SELECT min(greatest(c.next_attempt_at, c.lease_until, coalesce((
    SELECT max(greatest(e.next_attempt_at, e.lease_until)) FROM deliveries AS e
    WHERE e.peer = c.peer AND e.record_id = c.record_id AND e.version < c.version
      AND e.state = ANY(%(due)s)), 0)))
FROM deliveries AS c WHERE c.peer = %(peer)s AND c.state = ANY(%(due)s)
"""

_DB_NOW = "extract(epoch FROM clock_timestamp())::double precision"

_P = ParamSpec("_P")
_T = TypeVar("_T")


def _to_the_end(
    method: Callable[Concatenate[PostgresOutbox, _P], Coroutine[Any, Any, _T]],
) -> Callable[Concatenate[PostgresOutbox, _P], Coroutine[Any, Any, _T]]:
    """Run the operation as a task of its own that a cancelled caller does not interrupt (as a
    SQLite operation in its thread); :meth:`PostgresOutbox.close` waits for those in flight."""

    async def run(self: PostgresOutbox, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        task = asyncio.ensure_future(method(self, *args, **kwargs))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        return await asyncio.shield(task)

    return run


class PostgresOutbox(Outbox):
    """The outbox in a PostgreSQL schema that the replicas of one centre share."""

    def __init__(
        self,
        dsn: str,
        backoff: Backoff | None = None,
        *,
        schema: str = "liaison",
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        pool_size: int = 2,
        seed: int | None = None,
    ) -> None:
        """Configure; nothing is opened before :meth:`open`.

        Args:
            dsn: The database (with its password resolved, as the store's).
            backoff: When to retry and give up (``[delivery]``).
            schema: The centre's schema (the store's; migrated at open when behind).
            lease_seconds: How long a claimed delivery (or audit note) stays this replica's.
            pool_size: Connections this outbox opens.
            seed: Seeds the backoff jitter (tests).
        """
        self.backoff = backoff or Backoff()
        self.owner = f"{uuid.uuid4().hex[:16]}"
        """This replica's name on the leases it holds (new at every start)."""
        self._dsn = dsn
        self._schema = schema
        self._lease = lease_seconds
        self._pool_size = pool_size
        self._rng = random.Random(seed)
        self._pool: AsyncConnectionPool[Any] | None = None
        self._in_flight: set[asyncio.Future[Any]] = set()

    async def open(self) -> None:
        schema = self._schema

        async def configure(connection: _Connection) -> None:
            await connection.execute(
                sql.SQL("SET search_path TO {}").format(sql.Identifier(schema))
            )

        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            self._dsn,
            min_size=1,
            max_size=self._pool_size,
            kwargs={"autocommit": True},
            configure=configure,
            open=False,
            name=f"liaison-outbox-{schema}",
        )
        try:
            await pool.open(wait=True, timeout=10.0)
            async with pool.connection() as connection:
                await migrate(connection, schema)
        except BaseException:
            await pool.close()
            raise
        self._pool = pool

    async def close(self) -> None:
        if self._in_flight:
            await asyncio.wait(set(self._in_flight))
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            # Stopping gracefully: what this replica holds is due again for the others now.
            async with pool.connection() as connection:
                await connection.execute(
                    "UPDATE deliveries SET lease_owner = '', lease_until = 0"
                    " WHERE lease_owner = %s",
                    (self.owner,),
                )
                await connection.execute(
                    "UPDATE outbox_audit_pending SET lease_owner = '', lease_until = 0"
                    " WHERE lease_owner = %s",
                    (self.owner,),
                )
        except psycopg.Error:
            pass  # the leases run out by themselves
        finally:
            await pool.close()

    def _connection(self) -> Any:
        if self._pool is None:
            raise RuntimeError("the outbox is not open")
        return self._pool.connection()

    async def _fetch(self, query: Any, args: Any = None) -> list[tuple[Any, ...]]:
        async with self._connection() as connection:
            cursor = await connection.execute(query, args)
            return list(await cursor.fetchall())

    # -- routing ---------------------------------------------------------------------------

    @_to_the_end
    async def routed_through(self) -> int:
        (row,) = await self._fetch("SELECT routed_through FROM outbox_cursor")
        return int(row[0])

    @_to_the_end
    async def record_routing(
        self,
        deliveries: Sequence[Delivery],
        routed_through: int,
        now: float,
        *,
        audited: bool = False,
    ) -> int:
        states = [policy.initial_state(item) for item in deliveries]
        async with self._connection() as connection, connection.transaction():
            await connection.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                (f"liaison-route:{self._schema}",),
            )
            cursor = await connection.execute(
                "INSERT INTO deliveries (peer, record_id, version, sequence, state, reason,"
                " trace_context, queued_at, updated_at, next_attempt_at)"
                " SELECT peer, record_id, version, sequence, state, reason, trace_context,"
                " %(now)s, %(now)s, %(now)s FROM unnest("
                "%(peer)s::text[], %(record_id)s::text[], %(version)s::bigint[],"
                " %(sequence)s::bigint[], %(state)s::integer[], %(reason)s::text[],"
                " %(trace)s::text[]) AS t(peer, record_id, version, sequence, state, reason,"
                " trace_context)"
                " ON CONFLICT (peer, record_id, version) DO NOTHING"
                " RETURNING peer, record_id, version, state",
                {
                    "now": now,
                    "peer": [d.decision.peer for d in deliveries],
                    "record_id": [d.record_id for d in deliveries],
                    "version": [d.version for d in deliveries],
                    "sequence": [d.sequence for d in deliveries],
                    "state": states,
                    "reason": [d.decision.reason for d in deliveries],
                    "trace": [d.trace_context for d in deliveries],
                },
            )
            inserted = {(peer, rid, int(v)): int(s) for peer, rid, v, s in await cursor.fetchall()}
            if audited:
                withheld = [
                    policy.withheld_note(item, now)
                    for item in deliveries
                    if inserted.get((item.decision.peer, item.record_id, item.version)) == WITHHELD
                ]
                await _note(connection, withheld)
            await connection.execute(
                "UPDATE outbox_cursor SET routed_through = greatest(routed_through, %s)",
                (routed_through,),
            )
        return sum(1 for state in inserted.values() if state == QUEUED)

    @_to_the_end
    async def recipients(self, record_ids: Sequence[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        if not record_ids:
            return found
        rows = await self._fetch(
            "SELECT DISTINCT record_id, peer FROM deliveries"
            " WHERE record_id = ANY(%s) AND state = ANY(%s)",
            (list(record_ids), list(policy.RECIPIENT_STATES)),
        )
        for record_id, peer in rows:
            found.setdefault(record_id, set()).add(peer)
        return found

    # -- sending ---------------------------------------------------------------------------

    @_to_the_end
    async def due(self, peer: str, now: float, limit: int) -> list[PendingDelivery]:
        rows = await self._fetch(
            _CLAIM,
            {
                "owner": self.owner,
                "until": now + self._lease,
                "peer": peer,
                "due": _DUE,
                "now": now,
                "limit": limit,
            },
        )
        claimed = [_pending(row) for row in rows]
        claimed.sort(key=lambda d: d.sequence)
        return claimed

    @_to_the_end
    async def next_due_at(self, peer: str) -> float | None:
        (row,) = await self._fetch(_NEXT_DUE, {"peer": peer, "due": _DUE})
        return None if row[0] is None else float(row[0])

    @_to_the_end
    async def delivered(
        self,
        peer: str,
        acks: Iterable[tuple[PendingDelivery, exchange_pb2.SubmitAck]],
        now: float,
        *,
        audited: bool = False,
    ) -> None:
        acked = list(acks)
        if not acked:
            return
        async with self._connection() as connection, connection.transaction():
            await connection.execute(
                "UPDATE deliveries AS d SET state = %(state)s, attempts = d.attempts + 1,"
                " last_error = '', receiver_ack = t.ack, updated_at = %(now)s,"
                " lease_owner = '', lease_until = 0"
                " FROM unnest(%(record_id)s::text[], %(version)s::bigint[], %(ack)s::bytea[])"
                " AS t(record_id, version, ack)"
                " WHERE d.peer = %(peer)s AND d.record_id = t.record_id"
                " AND d.version = t.version",
                {
                    "state": DELIVERED,
                    "now": now,
                    "peer": peer,
                    "record_id": [d.record_id for d, _ in acked],
                    "version": [d.version for d, _ in acked],
                    "ack": [ack.SerializeToString() for _, ack in acked],
                },
            )
            if audited:
                await _note(
                    connection, [policy.forward_note(peer, [d.record_id for d, _ in acked], now)]
                )

    @_to_the_end
    async def failed(
        self,
        peer: str,
        failures: Iterable[tuple[PendingDelivery, str]],
        now: float,
        *,
        permanent: bool = False,
        audited: bool = False,
    ) -> list[PendingDelivery]:
        settled, _ = policy.settle_failures(
            self.backoff, self._rng, list(failures), now, permanent=permanent
        )
        if not settled:
            return []
        async with self._connection() as connection, connection.transaction():
            cursor = await connection.execute(
                "UPDATE deliveries AS d SET state = t.state, attempts = t.attempts,"
                " last_error = t.error, updated_at = %(now)s, next_attempt_at = t.next_at,"
                " lease_owner = '', lease_until = 0"
                " FROM unnest(%(record_id)s::text[], %(version)s::bigint[],"
                " %(state)s::integer[], %(attempts)s::integer[], %(error)s::text[],"
                " %(next_at)s::double precision[])"
                " AS t(record_id, version, state, attempts, error, next_at)"
                " WHERE d.peer = %(peer)s AND d.record_id = t.record_id"
                " AND d.version = t.version AND d.state = ANY(%(due)s)"
                " RETURNING d.record_id, d.version, d.state",
                {
                    "now": now,
                    "peer": peer,
                    "due": _DUE,
                    "record_id": [s.delivery.record_id for s in settled],
                    "version": [s.delivery.version for s in settled],
                    "state": [s.state for s in settled],
                    "attempts": [s.attempts for s in settled],
                    "error": [s.error for s in settled],
                    "next_at": [s.next_attempt_at for s in settled],
                },
            )
            # Only what this call dead-lettered (another replica may have settled the rest).
            died = {
                (rid, int(v)) for rid, v, state in await cursor.fetchall() if state == DEAD_LETTERED
            }
            dead = [
                s.delivery for s in settled if (s.delivery.record_id, s.delivery.version) in died
            ]
            if audited and dead:
                await _note(
                    connection, [policy.dead_letter_note(peer, [d.record_id for d in dead], now)]
                )
        return dead

    @_to_the_end
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
        error = error[: policy.MAX_ERROR_CHARS]
        # Deliveries another replica holds in flight are its own to settle.
        free = "(lease_owner = %(owner)s OR lease_until <= %(now)s)"
        args = {
            "owner": self.owner,
            "now": now,
            "peer": peer,
            "due": _DUE,
            "error": error,
            "retry_at": retry_at,
            "record_id": [d.record_id for d in attempted],
            "version": [d.version for d in attempted],
        }
        async with self._connection() as connection, connection.transaction():
            await connection.execute(
                "UPDATE deliveries AS d SET attempts = d.attempts + 1"
                " FROM unnest(%(record_id)s::text[], %(version)s::bigint[])"
                " AS t(record_id, version)"
                " WHERE d.peer = %(peer)s AND d.record_id = t.record_id AND d.version = t.version"
                " AND d.state = ANY(%(due)s) AND d.lease_owner = %(owner)s",
                args,
            )
            await connection.execute(
                "UPDATE deliveries SET state = %(failed)s, last_error = %(error)s,"  # noqa: S608 (fixed text)
                " updated_at = %(now)s, next_attempt_at = %(retry_at)s,"
                " lease_owner = '', lease_until = 0"
                " WHERE peer = %(peer)s AND state = ANY(%(due)s) AND next_attempt_at <= %(now)s"
                f" AND {free}",
                {**args, "failed": FAILED},
            )
            cursor = await connection.execute(
                "UPDATE deliveries SET state = %(dead)s, last_error = %(gave_up)s,"  # noqa: S608 (fixed text)
                " updated_at = %(now)s, next_attempt_at = %(now)s,"
                " lease_owner = '', lease_until = 0"
                " WHERE peer = %(peer)s AND state = ANY(%(due)s) AND queued_at <= %(before)s"
                f" AND {free}"
                f" RETURNING {_PENDING_COLUMNS}",
                {
                    **args,
                    "dead": DEAD_LETTERED,
                    "gave_up": policy.gave_up_error(error, self.backoff),
                    "before": policy.unavailable_dead_before(self.backoff, now),
                },
            )
            dead = sorted((_pending(row) for row in await cursor.fetchall()), key=_by_sequence)
            if audited and dead:
                await _note(
                    connection, [policy.dead_letter_note(peer, [d.record_id for d in dead], now)]
                )
        return dead

    # -- audit notes -----------------------------------------------------------------------

    @_to_the_end
    async def audit_notes(self, limit: int = 256) -> list[AuditNote]:
        rows = await self._fetch(
            "UPDATE outbox_audit_pending AS p SET lease_owner = %(owner)s,"  # noqa: S608 (fixed text)
            f" lease_until = {_DB_NOW} + %(lease)s"
            " FROM (SELECT id FROM outbox_audit_pending"
            f" WHERE lease_owner = %(owner)s OR lease_until <= {_DB_NOW}"
            " ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED) AS q WHERE p.id = q.id"
            " RETURNING p.id, p.action, p.outcome, p.record_ids, p.detail, p.noted_at",
            {"owner": self.owner, "lease": self._lease, "limit": limit},
        )
        notes = [
            AuditNote(
                id=int(row[0]),
                action=row[1],
                outcome=row[2],
                record_ids=tuple(json.loads(row[3])),
                detail=json.loads(row[4]),
                noted_at=float(row[5]),
            )
            for row in rows
        ]
        notes.sort(key=lambda note: note.id)
        return notes

    @_to_the_end
    async def audit_written(self, ids: Sequence[int]) -> None:
        async with self._connection() as connection:
            await connection.execute(
                "DELETE FROM outbox_audit_pending WHERE id = ANY(%s)", (list(ids),)
            )

    @_to_the_end
    async def audit_pending(self) -> int:
        (row,) = await self._fetch("SELECT count(*) FROM outbox_audit_pending")
        return int(row[0])

    # -- operators -------------------------------------------------------------------------

    @_to_the_end
    async def replay(
        self, peer: str, record_ids: Sequence[str], now: float
    ) -> list[federation_pb2.DeliveryStatus]:
        where, args = _filters(peer, record_ids, [DEAD_LETTERED])
        rows = await self._fetch(
            sql.SQL(
                "UPDATE deliveries SET state = %(queued)s, attempts = 0, queued_at = %(now)s,"  # noqa: S608 (fixed text)
                " updated_at = %(now)s, next_attempt_at = %(now)s, lease_owner = '',"
                " lease_until = 0 WHERE {where} RETURNING sequence, " + policy.STATUS_COLUMNS
            ).format(where=sql.SQL(where)),
            {**args, "queued": QUEUED, "now": now},
        )
        rows.sort(key=lambda row: (-int(row[0]), row[3]))
        return [policy.status_of(policy.StatusRow.of(row[1:])) for row in rows]

    @_to_the_end
    async def statuses(
        self,
        *,
        peer: str = "",
        record_id: str = "",
        states: Sequence[int] = (),
        limit: int = 1000,
    ) -> list[federation_pb2.DeliveryStatus]:
        where, args = _filters(peer, [record_id] if record_id else [], states)
        rows = await self._fetch(
            sql.SQL(
                "SELECT " + policy.STATUS_COLUMNS + " FROM deliveries WHERE {where}"  # noqa: S608 (fixed text)
                " ORDER BY sequence DESC, peer LIMIT %(limit)s"
            ).format(where=sql.SQL(where)),
            {**args, "limit": limit},
        )
        return [policy.status_of(policy.StatusRow.of(row)) for row in rows]

    @_to_the_end
    async def counts(self) -> dict[int, int]:
        rows = await self._fetch("SELECT state, count(*) FROM deliveries GROUP BY state")
        return {int(state): int(count) for state, count in rows}


async def _note(connection: _Connection, notes: Sequence[NoteDraft]) -> None:
    """Keep audit entries in the caller's transaction."""
    if not notes:
        return
    columns = [note.columns() for note in notes]
    await connection.execute(
        "INSERT INTO outbox_audit_pending (action, outcome, record_ids, detail, noted_at)"
        " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[],"
        " %s::double precision[])",
        tuple(list(column) for column in zip(*columns, strict=True)),
    )


def _filters(
    peer: str, record_ids: Sequence[str], states: Sequence[int]
) -> tuple[str, dict[str, Any]]:
    """A WHERE clause of fixed text with named placeholders, and its values."""
    clauses = ["true"]
    args: dict[str, Any] = {}
    if peer:
        clauses.append("peer = %(f_peer)s")
        args["f_peer"] = peer
    if record_ids:
        clauses.append("record_id = ANY(%(f_ids)s)")
        args["f_ids"] = list(record_ids)
    if states:
        clauses.append("state = ANY(%(f_states)s)")
        args["f_states"] = list(states)
    return " AND ".join(clauses), args


def _pending(row: Sequence[Any]) -> PendingDelivery:
    peer, record_id, version, sequence, attempts, queued_at, trace_context = row
    return PendingDelivery(
        peer, record_id, int(version), int(sequence), int(attempts), float(queued_at), trace_context
    )


def _by_sequence(delivery: PendingDelivery) -> int:
    return delivery.sequence
