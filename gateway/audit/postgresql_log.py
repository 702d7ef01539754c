"""The audit log in PostgreSQL: one keyed hash chain per centre, appended by every replica.

The chain is the table ``audit`` of the centre's schema (schema version 2 of the store,
decision 0024). Appends are group-committed like the SQLite log's, by one writer task per
replica on the event loop; what makes many replicas one chain is the database: each commit
takes the advisory lock ``liaison-audit:<schema>`` for its transaction, reads the last entry
(whichever replica wrote it), checks that it verifies under this replica's key - a replica
never chains onto an entry it cannot vouch for - chains its batch onto it and inserts it. The
lock is held from that read to the commit, so no two replicas chain onto the same head;
``position`` (the sequence) is the primary key, so even a bug could not store two entries at
one place in the chain.

Opening checks the stored log exactly as the SQLite log does (keyed from its first entry or not
at all, the last entry verifies), with the same messages. Checkpoints are kept in the SQLite
file at :attr:`PostgresAuditLog.path`, beside the replica (see the decision record).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from gateway.audit.chain import Anchor, AuditEntry, ChainHead, VerifyReport, next_entry
from gateway.audit.keys import AuditKeyError, read_key_file
from gateway.audit.log import AuditLog, AuditLogError
from gateway.audit.postgresql_read import verify_database
from gateway.store.postgresql import migrate

__all__ = ["PostgresAuditLog", "audit_lock_key"]

logger = logging.getLogger(__name__)

_MAX_BATCH = 1024
_OPEN_TIMEOUT_SECONDS = 10.0
_Connection = psycopg.AsyncConnection[Any]
_Pending = tuple[str, str, str, tuple[str, ...], dict[str, str | int], "asyncio.Future[AuditEntry]"]


def audit_lock_key(schema: str) -> str:
    """The advisory lock (``hashtextextended`` of this text) that serializes the chain."""
    return f"liaison-audit:{schema}"


class PostgresAuditLog(AuditLog):
    """The centre's audit chain in its PostgreSQL schema, shared by its replicas."""

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "liaison",
        key_path: Path | None = None,
        path: Path,
    ) -> None:
        """Args:
        dsn: The database (password resolved, as the store's).
        schema: The centre's schema (migrated at open when behind).
        key_path: The audit key file (``[audit] key_file``); every replica needs the same.
        path: The SQLite file of this replica's checkpoint book (no entries are kept there).
        """
        super().__init__(path, key_path)
        self._dsn = dsn
        self._schema = schema
        self._pool: AsyncConnectionPool[Any] | None = None
        self._pending: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    @property
    def location(self) -> str:
        return f"in PostgreSQL schema {self._schema}"

    @property
    def verify_command(self) -> str:
        return "liaison audit verify --config CENTRE.toml"

    async def verify(self, anchors: Iterable[Anchor] = ()) -> VerifyReport:
        """Verify the chain as stored in the database now (every replica's entries, under this
        log's key), in a thread with a connection of its own: appends go on meanwhile."""
        return await asyncio.to_thread(
            verify_database, self._dsn, self._schema, key=self._key, anchors=anchors
        )

    async def open(self) -> None:
        """Connect, migrate the schema when behind, check the stored chain, start the writer.

        Raises:
            AuditLogError: the database or the key cannot be used, or the stored chain cannot
                be continued with this key (see :class:`AuditLog`).
        """
        if self.key_path is not None:
            try:
                self._key = read_key_file(self.key_path)
            except AuditKeyError as error:
                raise AuditLogError(str(error)) from None
        schema = self._schema

        async def configure(connection: _Connection) -> None:
            await connection.execute(
                sql.SQL("SET search_path TO {}").format(sql.Identifier(schema))
            )

        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            self._dsn,
            min_size=1,
            max_size=2,
            kwargs={"autocommit": True},
            configure=configure,
            open=False,
            name=f"liaison-audit-{schema}",
        )
        try:
            await pool.open(wait=True, timeout=_OPEN_TIMEOUT_SECONDS)
            async with pool.connection() as connection:
                await migrate(connection, schema)
                first = await _row(connection, "ORDER BY position LIMIT 1")
                last = await _row(connection, "ORDER BY position DESC LIMIT 1")
            self._head = self._continue_from(first, last)
        except AuditLogError:
            await pool.close()
            raise
        except Exception as error:
            await pool.close()
            raise AuditLogError(
                f"cannot open the audit log {self.location}: {type(error).__name__}"
            ) from None
        self._pool = pool
        self._loop = asyncio.get_running_loop()
        self._writer = asyncio.create_task(self._serve_async(), name="liaison-audit-writer")

    async def append(
        self,
        *,
        actor: str,
        action: str,
        outcome: str,
        record_ids: Iterable[str] = (),
        detail: Mapping[str, str | int] | None = None,
    ) -> AuditEntry:
        """Append one entry and return it once it is durable (in the shared chain)."""
        if self._closed or self._writer is None or self._loop is None:
            raise AuditLogError("the audit log is closed")
        future: asyncio.Future[AuditEntry] = self._loop.create_future()
        self._pending.put_nowait(
            (actor, action, outcome, tuple(record_ids), dict(detail or {}), future)
        )
        return await future

    async def close(self) -> None:
        """Commit everything queued, then stop the writer and close the connections."""
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            self._pending.put_nowait(None)
            await self._writer
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def stored_entry(self, sequence: int) -> object | None:
        if self._pool is None:
            raise AuditLogError("the audit log is closed")
        async with self._pool.connection() as connection:
            cursor = await connection.execute(
                "SELECT entry FROM audit WHERE position = %s", (sequence,)
            )
            row = await cursor.fetchone()
        return None if row is None else row[0]

    async def _serve_async(self) -> None:
        while True:
            first = await self._pending.get()
            batch = [first] if first is not None else []
            stopping = first is None
            while not stopping and len(batch) < _MAX_BATCH and not self._pending.empty():
                more = self._pending.get_nowait()
                if more is None:
                    stopping = True
                else:
                    batch.append(more)
            if batch:
                await self._commit_batch([item for item in batch if item is not None])
            if stopping:
                while not self._pending.empty():
                    item = self._pending.get_nowait()
                    if item is not None and not item[5].done():
                        item[5].set_exception(AuditLogError("the audit log is closed"))
                return

    async def _commit_batch(self, batch: list[_Pending]) -> None:
        assert self._pool is not None
        try:
            async with self._pool.connection() as connection, connection.transaction():
                await connection.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                    (audit_lock_key(self._schema),),
                )
                last = await _row(connection, "ORDER BY position DESC LIMIT 1")
                # Another replica appended since: its last entry must verify under our key.
                head = (
                    self._head
                    if last is not None and last[0] == self._head.sequence
                    else self._continue_from(None, last)
                )
                entries: list[AuditEntry] = []
                for actor, action, outcome, record_ids, detail, _ in batch:
                    entry = next_entry(
                        head,
                        actor=actor,
                        action=action,
                        outcome=outcome,
                        record_ids=record_ids,
                        detail=detail,
                        key=self._key,
                    )
                    entries.append(entry)
                    head = ChainHead(entry.sequence, entry.hash)
                await connection.execute(
                    "INSERT INTO audit (position, entry)"
                    " SELECT * FROM unnest(%s::bigint[], %s::text[])",
                    ([e.sequence for e in entries], [e.to_json() for e in entries]),
                )
        except (psycopg.Error, AuditLogError) as error:
            logger.error("audit log write failed: %s", type(error).__name__)
            failure = (
                error
                if isinstance(error, AuditLogError)
                else AuditLogError(f"the audit log could not be written: {type(error).__name__}")
            )
            for item in batch:
                if not item[5].done():
                    item[5].set_exception(failure)
            return
        self._head = head
        for item, entry in zip(batch, entries, strict=True):
            if not item[5].done():
                item[5].set_result(entry)
        if self._listeners:
            self._notify(head)


async def _row(connection: _Connection, order: str) -> tuple[int, object] | None:
    cursor = await connection.execute(
        sql.SQL("SELECT position, entry FROM audit ").format() + sql.SQL(order)  # fixed text
    )
    row = await cursor.fetchone()
    return None if row is None else (int(row[0]), row[1])
