"""The PostgreSQL implementation of :class:`~gateway.store.base.RecordStore`.

Any number of gateway replicas of one centre open a store on the same database schema. Each
has a connection pool (psycopg 3, asyncio), a group-commit writer task
(:mod:`~gateway.store.postgresql.writer`), and a feed follower that listens for the other
replicas' commits and watches the connection (:mod:`~gateway.store.postgresql.follower`).
Writers of every replica number their versions under one advisory lock, so the sequence is the
same dense commit order everywhere and a cursor from one replica resumes on any other
(decision 0019).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ParamSpec, TypeVar

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from gateway.signing import SigningKeyError, SigningKeySource
from gateway.store.base import (
    CommitListener,
    Ingestion,
    IngestOutcome,
    PreparationRefused,
    PreparedWrite,
    RecordStore,
    RetentionRow,
    SearchQuery,
    StoreClosedError,
    StoredRecord,
    StoreError,
    WriteItem,
    WriteOutcome,
)
from gateway.store.health import WriteHealth
from gateway.store.postgresql import reads
from gateway.store.postgresql.follower import FeedFollower
from gateway.store.postgresql.link import DatabaseLink
from gateway.store.postgresql.publication import FeedPublisher
from gateway.store.postgresql.schema import migrate
from gateway.store.postgresql.transaction import PostgresTransactions, feed_channel
from gateway.store.postgresql.writer import LANES, PostgresWriter, describe_database_failure
from gateway.store.writer import IngestRequest, PrepareRequest, WriteRequest
from liaison.rules.lifecycle import RetentionDefaults

__all__ = ["PostgresRecordStore"]

logger = logging.getLogger(__name__)

OPEN_TIMEOUT_SECONDS = 10.0
"""How long :meth:`PostgresRecordStore.open` waits for the database."""

READ_TIMEOUT_SECONDS = 5.0
"""How long a read waits for a pooled connection."""

_P = ParamSpec("_P")
_T = TypeVar("_T")
_Connection = psycopg.AsyncConnection[Any]


class PostgresRecordStore(RecordStore):
    """Record store in a PostgreSQL schema, shared by the replicas of one centre."""

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "liaison",
        pool_size: int = 8,
        max_batch_records: int = 2048,
        signing_key: SigningKeySource | None = None,
        unhealthy_after_seconds: float = 30.0,
        retention: RetentionDefaults | None = None,
    ) -> None:
        """Configure the store; nothing is opened before :meth:`open`.

        Args:
            dsn: libpq connection string (with its password, if any; never logged).
            schema: The schema of the centre's tables, a checked identifier.
            pool_size: Most connections, the follower's included.
            max_batch_records: Most records one transaction takes from the queue.
            signing_key: The key the centre's own new versions are signed with.
            unhealthy_after_seconds: How long write failures must persist before the store is
                reported unavailable (a lost connection is reported at once).
            retention: The retention dates stamped on this centre's records without them.

        Raises:
            ValueError: a setting is out of range.
        """
        if max_batch_records < 1:
            raise ValueError(f"max_batch_records must be at least 1, got {max_batch_records}")
        if pool_size < 2:
            raise ValueError(f"pool_size must be at least 2, got {pool_size}")
        self._dsn = dsn
        self._schema = schema
        self._pool_size = pool_size
        self._max_batch_records = max_batch_records
        self._signing_key = signing_key
        self._retention = retention if retention is not None else RetentionDefaults()
        self._health = WriteHealth(unhealthy_after_seconds)
        self._link = DatabaseLink(self._health)
        self._pool: AsyncConnectionPool[Any] | None = None
        self._writer: PostgresWriter | None = None
        self._follower: FeedFollower | None = None
        self._listeners: list[CommitListener] = []
        self._timers: list[Callable[[float], None]] = []
        self._accepting = False
        self._opened = False
        self._closing: asyncio.Future[None] | None = None

    @property
    def schema(self) -> str:
        """The schema holding the centre's tables."""
        return self._schema

    @property
    def link(self) -> DatabaseLink:
        """Whether the database is reachable and writes work."""
        return self._link

    @property
    def write_health(self) -> WriteHealth:
        """What the store knows about whether its writes work."""
        return self._health

    @property
    def transactions_committed(self) -> int:
        """Transactions this replica committed since :meth:`open`."""
        return 0 if self._writer is None else self._writer.transactions_committed

    @property
    def listener_backend_pid(self) -> int | None:
        """The backend pid of the feed follower's connection (for tests and monitoring)."""
        return None if self._follower is None else self._follower.backend_pid

    async def open(self) -> None:
        """Connect, migrate the schema, and start the writer and the feed follower.

        Raises:
            StoreError: the database cannot be reached or migrated (e.g. its schema is newer
                than this Liaison); the store stays closed.
            StoreClosedError: the store was opened or closed before.
        """
        if self._opened or self._closing is not None:
            raise StoreClosedError("a store can be opened only once")
        self._opened = True
        try:
            signer = None if self._signing_key is None else self._signing_key.load()
        except SigningKeyError as error:
            raise StoreError(f"store: cannot load the signing key: {error}") from error
        schema = self._schema

        async def configure(connection: _Connection) -> None:
            await connection.execute(
                sql.SQL("SET search_path TO {}").format(sql.Identifier(schema))
            )

        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            self._dsn,
            min_size=1,
            max_size=self._pool_size - 1,  # the follower holds one of its own
            kwargs={"autocommit": True},
            configure=configure,
            open=False,
            name=f"liaison-{schema}",
        )
        try:
            await pool.open(wait=True, timeout=OPEN_TIMEOUT_SECONDS)
            async with pool.connection() as connection:
                await migrate(connection, schema)
                published = await reads.last_sequence(connection)
        except PoolTimeout:
            await pool.close()
            raise StoreError(
                f"store: the PostgreSQL database did not answer within {OPEN_TIMEOUT_SECONDS:g} s"
            ) from None
        except psycopg.Error as error:
            await pool.close()
            raise StoreError(f"store: cannot open: {describe_database_failure(error)}") from None
        except BaseException:
            await pool.close()
            raise
        self._pool = pool
        publisher = FeedPublisher(self._read_since_raw, self._emit, published)
        follower = FeedFollower(self._follower_dsn(), feed_channel(schema), publisher, self._link)
        try:
            await follower.start()
        except psycopg.Error as error:
            await pool.close()
            raise StoreError(f"store: cannot listen: {describe_database_failure(error)}") from None
        self._follower = follower
        writer = PostgresWriter(
            pool,
            PostgresTransactions(schema, signer, self._retention),
            self._max_batch_records,
            publisher,
            self._time,
            self._health,
            lanes=min(LANES, self._pool_size - 1),
        )
        writer.start()
        self._writer = writer
        self._accepting = True

    async def close(self) -> None:
        """Commit the writes already queued, then stop the tasks and close every connection.

        Idempotent; concurrent calls all return once the store is fully closed.
        """
        self._accepting = False
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._shut_down())
        await asyncio.shield(self._closing)

    async def write(self, items: Sequence[WriteItem]) -> list[WriteOutcome]:
        """Store the items in order; see :meth:`RecordStore.write`.

        Raises:
            StoreClosedError: the store is not open, or is closing.
            StoreError: the transaction failed; nothing of it was stored.
        """
        writer = self._open_writer()
        if not items:
            return []
        future: asyncio.Future[list[WriteOutcome]] = asyncio.get_running_loop().create_future()
        writer.submit(WriteRequest(tuple(items), future))
        return await future

    async def prepare_and_write(
        self, request: bytes, centre_id: str
    ) -> PreparedWrite | PreparationRefused:
        """Prepare one Submit's request (off the event loop) and write it with the others.

        Raises:
            StoreClosedError: the store is not open, or is closing.
            StoreError: the transaction failed; nothing of it was stored.
        """
        writer = self._open_writer()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[PreparedWrite | PreparationRefused] = loop.create_future()
        writer.submit(PrepareRequest(request, centre_id, future))
        return await future

    async def ingest(self, ingestion: Ingestion) -> IngestOutcome:
        """Store one payload's items in a transaction of their own; see :meth:`RecordStore.ingest`.

        Raises:
            ValueError: an item carries an ``expected_version``.
            StoreClosedError: the store is not open, or is closing.
            StoreError: the transaction failed; nothing of it was stored.
        """
        if any(item.expected_version for item in ingestion.items):
            raise ValueError("ingested items must not carry an expected version")
        writer = self._open_writer()
        future: asyncio.Future[IngestOutcome] = asyncio.get_running_loop().create_future()
        writer.submit(IngestRequest(ingestion, future))
        return await future

    async def get(self, record_id: str, version: int = 0) -> StoredRecord | None:
        """The latest version (``version`` 0) or the given one; ``None`` when absent."""
        if _NUL in record_id:
            return None  # PostgreSQL text holds no NUL: no record has this id
        return await self._read(reads.get, record_id, version)

    async def get_versions(self, keys: Sequence[tuple[str, int]]) -> list[StoredRecord | None]:
        """The versions asked for, on one connection."""
        wanted = list(keys)

        async def read_all(connection: _Connection) -> list[StoredRecord | None]:
            return [
                None if _NUL in record_id else await reads.get(connection, record_id, v)
                for record_id, v in wanted
            ]

        return await self._read(read_all)

    async def retention_due(
        self, *, review_before_us: int = 0, expires_before_us: int = 0, limit: int = 1000
    ) -> list[RetentionRow]:
        """Records due for review or expiring (see :meth:`RecordStore.retention_due`)."""
        _check_limit(limit)
        return await self._read(reads.retention_due, review_before_us, expires_before_us, limit)

    async def search(
        self, query: SearchQuery, after_sequence: int, limit: int
    ) -> list[StoredRecord]:
        """Up to ``limit`` latest versions matching ``query`` after ``after_sequence``."""
        _check_limit(limit)
        if _holds_nul(query):
            return []  # PostgreSQL text holds no NUL: nothing stored matches such a term
        return await self._read(reads.search, query, after_sequence, limit)

    async def read_since(
        self,
        after_sequence: int,
        limit: int,
        kinds: frozenset[str] = frozenset(),
        originating_centres: frozenset[str] = frozenset(),
    ) -> list[StoredRecord]:
        """Up to ``limit`` versions with a sequence above ``after_sequence``, in order: a prefix
        of the feed, never one with a gap (the feed lock)."""
        _check_limit(limit)
        if any(_NUL in value for value in (*kinds, *originating_centres)):
            # PostgreSQL text holds no NUL: such a filter value matches nothing stored.
            kept_kinds = frozenset(v for v in kinds if _NUL not in v)
            kept_centres = frozenset(v for v in originating_centres if _NUL not in v)
            if (kinds and not kept_kinds) or (originating_centres and not kept_centres):
                return []
            kinds, originating_centres = kept_kinds, kept_centres
        return await self._read(reads.read_since, after_sequence, limit, kinds, originating_centres)

    async def read_before(self, before_sequence: int, limit: int) -> list[StoredRecord]:
        """Up to ``limit`` versions with a sequence below ``before_sequence``, newest first."""
        _check_limit(limit)
        return await self._read(reads.read_before, before_sequence, limit)

    async def last_sequence(self) -> int:
        """The highest committed sequence number (0 when empty)."""
        return await self._read(reads.last_sequence)

    def add_commit_listener(self, listener: CommitListener) -> Callable[[], None]:
        """Call ``listener`` with every replica's new versions, each once, in sequence order."""
        return _register(self._listeners, listener)

    def add_unavailable_listener(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call ``listener`` when the database is unreachable, or writes fail persistently."""
        return self._link.on_unavailable(listener)

    def add_recovered_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` when the database works again (no restart needed)."""
        return self._link.on_recovered(listener)

    def add_commit_timer(self, timer: Callable[[float], None]) -> Callable[[], None]:
        """Call ``timer`` with each of this replica's committed transactions' duration."""
        return _register(self._timers, timer)

    def _open_writer(self) -> PostgresWriter:
        writer = self._writer
        if not self._accepting or writer is None:
            raise StoreClosedError("the store is closed")
        return writer

    def _follower_dsn(self) -> str:
        return self._dsn

    def _time(self, seconds: float) -> None:
        for timer in tuple(self._timers):
            try:
                timer(seconds)
            except Exception:
                logger.exception("store commit timer %r failed", timer)

    def _emit(self, records: Sequence[StoredRecord]) -> None:
        for listener in tuple(self._listeners):
            try:
                listener(records)
            except Exception:
                logger.exception("store commit listener %r failed", listener)

    async def _read_since_raw(self, after_sequence: int, limit: int) -> list[StoredRecord]:
        # The feed follower reads even while the store is closing (until it is stopped).
        return await self._with_connection(
            reads.read_since, after_sequence, limit, frozenset(), frozenset()
        )

    async def _shut_down(self) -> None:
        if self._writer is not None:
            await self._writer.stop()
        if self._follower is not None:
            await self._follower.stop()
        if self._pool is not None:
            await self._pool.close()

    async def _read(
        self,
        function: Callable[..., Awaitable[_T]],
        *args: Any,
    ) -> _T:
        if not self._accepting or self._pool is None:
            raise StoreClosedError("the store is closed")
        return await self._with_connection(function, *args)

    async def _with_connection(self, function: Callable[..., Awaitable[_T]], *args: Any) -> _T:
        pool = self._pool
        if pool is None:
            raise StoreClosedError("the store is closed")
        for attempt in (1, 2):
            try:
                async with pool.connection(timeout=READ_TIMEOUT_SECONDS) as connection:
                    return await function(connection, *args)
            except PoolTimeout:
                raise StoreError("store read failed: no database connection available") from None
            except psycopg.OperationalError as error:
                # A pooled connection whose backend went away (and likely its idle siblings):
                # drop the broken ones, then try once more - reads are safe to repeat.
                if attempt == 2:
                    raise StoreError(
                        f"store read failed: {describe_database_failure(error)}"
                    ) from None
                await pool.check()
            except psycopg.Error as error:
                raise StoreError(f"store read failed: {describe_database_failure(error)}") from None
        raise AssertionError("unreachable")


_NUL = "\x00"


def _holds_nul(query: SearchQuery) -> bool:
    """Whether a term of ``query`` holds a NUL, which PostgreSQL text cannot (it would refuse
    the query: a caller's term must not turn into a store failure)."""
    terms = (query.document_number, query.issuing_state, query.family_name)
    return any(_NUL in term for term in (*terms, query.originating_centre, *query.kinds))


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")


def _register(registry: list[_T], item: _T) -> Callable[[], None]:
    registry.append(item)

    def unregister() -> None:
        if item in registry:
            registry.remove(item)

    return unregister
