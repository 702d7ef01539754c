"""The embedded SQLite implementation of :class:`~gateway.store.base.RecordStore`.

One writer thread owns the only read-write connection and commits queued writes in groups
(:mod:`gateway.store.writer`); reads run on a small thread pool, each worker with its own
read-only connection (:mod:`gateway.store.reads`). The event loop never waits on the database.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal, ParamSpec, TypeVar

from gateway.signing import SigningKeySource
from gateway.store import reads
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
from gateway.store.process_writer import ProcessWriter
from gateway.store.schema import open_reader
from gateway.store.writer import IngestRequest, PrepareRequest, Writer, WriteRequest
from liaison.rules.lifecycle import RetentionDefaults

__all__ = ["SqliteRecordStore"]

logger = logging.getLogger(__name__)

READER_THREADS = 2
"""Reads are short indexed lookups; two threads keep both cores busy without oversubscribing."""

_P = ParamSpec("_P")
_T = TypeVar("_T")


class SqliteRecordStore(RecordStore):
    """Record store in one SQLite file (WAL mode), with group commit.

    The writer thread is not a daemon, so that queued writes are never cut off at exit:
    :meth:`close` must be awaited before the process can end.
    """

    def __init__(
        self,
        path: Path,
        *,
        synchronous: Literal["full", "normal"] = "full",
        max_batch_records: int = 2048,
        writer: Literal["process", "thread"] = "process",
        signing_key: SigningKeySource | None = None,
        unhealthy_after_seconds: float = 30.0,
        retention: RetentionDefaults | None = None,
    ) -> None:
        """Configure the store; nothing is opened before :meth:`open`.

        Args:
            path: The database file; its folder is created when missing.
            synchronous: ``"full"`` survives power loss, ``"normal"`` only process crashes.
            max_batch_records: Most records one transaction takes from the queue; a single
                write with more items is committed alone, never split.
            writer: Where the group commit runs: ``"process"``, a writer process of its own
                (the default: the event loop never waits for the interpreter lock held by the
                writer; decision 0013), or ``"thread"``, a thread of this process.
            signing_key: The key the centre's own new versions are signed with.
            unhealthy_after_seconds: How long write failures must persist (with no write
                succeeding) before the unavailable listeners hear of them.
            retention: The retention dates stamped on this centre's records that arrive
                without them (``[lifecycle]``); none by default.

        Raises:
            ValueError: ``synchronous``, ``max_batch_records`` or ``unhealthy_after_seconds`` is
                out of range.
        """
        if synchronous not in ("full", "normal"):
            raise ValueError(f'synchronous must be "full" or "normal", got {synchronous!r}')
        if max_batch_records < 1:
            raise ValueError(f"max_batch_records must be at least 1, got {max_batch_records}")
        if writer not in ("process", "thread"):
            raise ValueError(f'writer must be "process" or "thread", got {writer!r}')
        self._health = WriteHealth(unhealthy_after_seconds)
        self._writer_kind: Literal["process", "thread"] = writer
        self._signing_key = signing_key
        self._retention = retention if retention is not None else RetentionDefaults()
        self._path = path
        self._synchronous: Literal["full", "normal"] = synchronous
        self._max_batch_records = max_batch_records
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writer: Writer | ProcessWriter | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._reader_local = threading.local()
        self._reader_connections: list[sqlite3.Connection] = []
        self._spare_readers: list[sqlite3.Connection] = []
        """Reader connections opened with the store, not yet taken by a reader thread."""
        self._reader_connections_lock = threading.Lock()
        self._listeners: list[CommitListener] = []
        self._timers: list[Callable[[float], None]] = []
        self._accepting = False
        self._opened = False
        self._closing: asyncio.Future[None] | None = None

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def writer_process_id(self) -> int | None:
        """The writer process's id while open with ``writer="process"`` (for monitoring)."""
        writer = self._writer
        return writer.pid if isinstance(writer, ProcessWriter) else None

    @property
    def write_health(self) -> WriteHealth:
        """What the store knows about whether its writes work."""
        return self._health

    @property
    def transactions_committed(self) -> int:
        """Transactions committed since :meth:`open`; fewer than writes when commits are grouped."""
        return 0 if self._writer is None else self._writer.transactions_committed

    async def open(self) -> None:
        """Create or open the database, migrate it and start the writer and readers.

        Must be called on the event loop that will use the store.

        Raises:
            StoreError: the file cannot be opened or migrated (e.g. it was written by a newer
                Liaison); the store stays closed.
            StoreClosedError: the store was opened or closed before.
        """
        if self._opened or self._closing is not None:
            raise StoreClosedError("a store can be opened only once")
        self._opened = True
        loop = asyncio.get_running_loop()
        arguments = (self._path, self._synchronous, self._max_batch_records, loop, self._publish)
        writer = (
            ProcessWriter(*arguments, self._signing_key, self._health, self._retention)
            if self._writer_kind == "process"
            else Writer(*arguments, self._signing_key, self._health, self._retention)
        )
        await writer.start()
        self._loop = loop
        self._writer = writer
        self._readers = ThreadPoolExecutor(
            max_workers=READER_THREADS, thread_name_prefix="liaison-store-reader"
        )
        # Every reader connection is opened now, on the file the writer opened: a reader thread
        # that started after the file was deleted or replaced would otherwise open whatever is at
        # the path then - a new, empty database that SQLite creates - and answer from it.
        spare = [
            await asyncio.to_thread(_open_warm_reader, self._path) for _ in range(READER_THREADS)
        ]
        with self._reader_connections_lock:
            self._reader_connections.extend(spare)
            self._spare_readers = spare
        self._accepting = True

    async def close(self) -> None:
        """Commit the writes already queued, then stop the threads and close every connection.

        New writes and reads are refused from the moment this is called. Idempotent; concurrent
        calls all return once the store is fully closed.
        """
        self._accepting = False
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._shut_down())
        # Shielded: a cancelled caller must not leave the writer half stopped.
        await asyncio.shield(self._closing)

    async def write(self, items: Sequence[WriteItem]) -> list[WriteOutcome]:
        """Store the items in order; see :meth:`RecordStore.write`.

        Raises:
            StoreClosedError: the store is not open, or is closing.
            StoreError: the transaction failed; nothing of it was stored.
        """
        writer = self._writer
        if not self._accepting or writer is None or self._loop is None:
            raise StoreClosedError("the store is closed")
        if not items:
            return []
        future: asyncio.Future[list[WriteOutcome]] = self._loop.create_future()
        writer.submit(WriteRequest(tuple(items), future))
        return await future

    async def prepare_and_write(
        self, request: bytes, centre_id: str
    ) -> PreparedWrite | PreparationRefused:
        """Prepare one Submit's request in the writer (its thread or its process) and write
        it; see :meth:`RecordStore.prepare_and_write`.

        Raises:
            StoreClosedError: the store is not open, or is closing.
            StoreError: the transaction failed; nothing of it was stored.
        """
        writer = self._writer
        if not self._accepting or writer is None or self._loop is None:
            raise StoreClosedError("the store is closed")
        future: asyncio.Future[PreparedWrite | PreparationRefused] = self._loop.create_future()
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
        writer = self._writer
        if not self._accepting or writer is None or self._loop is None:
            raise StoreClosedError("the store is closed")
        future: asyncio.Future[IngestOutcome] = self._loop.create_future()
        writer.submit(IngestRequest(ingestion, future))
        return await future

    async def get(self, record_id: str, version: int = 0) -> StoredRecord | None:
        """The latest version (``version`` 0) or the given one; ``None`` when absent.

        Raises:
            StoreClosedError: the store is not open.
            StoreError: the database could not be read.
        """
        return await self._read(self._get, record_id, version)

    async def get_versions(self, keys: Sequence[tuple[str, int]]) -> list[StoredRecord | None]:
        """The versions asked for, read in one hop to a reader thread.

        Raises:
            StoreClosedError: the store is not open.
            StoreError: the database could not be read.
        """
        return await self._read(self._get_versions, list(keys))

    async def retention_due(
        self, *, review_before_us: int = 0, expires_before_us: int = 0, limit: int = 1000
    ) -> list[RetentionRow]:
        """Records due for review or expiring (see :meth:`RecordStore.retention_due`).

        Raises:
            StoreClosedError: the store is not open.
            StoreError: the database could not be read.
        """
        _check_limit(limit)
        return await self._read(self._retention_due, review_before_us, expires_before_us, limit)

    async def search(
        self, query: SearchQuery, after_sequence: int, limit: int
    ) -> list[StoredRecord]:
        """Up to ``limit`` latest versions matching ``query`` with a sequence above
        ``after_sequence``, in sequence order.

        Raises:
            ValueError: ``limit`` is less than 1.
            StoreClosedError: the store is not open.
            StoreError: the database could not be read.
        """
        _check_limit(limit)
        return await self._read(self._search, query, after_sequence, limit)

    async def read_since(
        self,
        after_sequence: int,
        limit: int,
        kinds: frozenset[str] = frozenset(),
        originating_centres: frozenset[str] = frozenset(),
    ) -> list[StoredRecord]:
        """Up to ``limit`` versions with a sequence above ``after_sequence``, in order.

        Raises:
            ValueError: ``limit`` is less than 1.
            StoreClosedError: the store is not open.
            StoreError: the database could not be read.
        """
        _check_limit(limit)
        return await self._read(self._read_since, after_sequence, limit, kinds, originating_centres)

    async def read_before(self, before_sequence: int, limit: int) -> list[StoredRecord]:
        """Up to ``limit`` versions with a sequence below ``before_sequence``, newest first.

        Raises:
            ValueError: ``limit`` is less than 1.
            StoreClosedError: the store is not open.
            StoreError: the database could not be read.
        """
        _check_limit(limit)
        return await self._read(self._read_before, before_sequence, limit)

    async def last_sequence(self) -> int:
        """The highest committed sequence number (0 when empty).

        Raises:
            StoreClosedError: the store is not open.
            StoreError: the database could not be read.
        """
        return await self._read(self._last_sequence)

    def add_commit_listener(self, listener: CommitListener) -> Callable[[], None]:
        """Call ``listener`` on the event loop with each transaction's new versions.

        Returns:
            A function that unregisters the listener (calling it again does nothing).
        """
        return _register(self._listeners, listener)

    def add_unavailable_listener(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call ``listener`` on the event loop with the reason when writes stop working while
        the store is open: write failures persisted for ``unhealthy_after_seconds``, or - for
        good, every write refused until a restart - the database file was deleted or replaced,
        or the writer process ended. Reads go on.

        Returns:
            A function that unregisters the listener (calling it again does nothing).
        """
        return self._health.on_unhealthy(listener)

    def add_recovered_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` on the event loop when writes work again after the unavailable
        listeners heard they did not (the first transaction that stores something).

        Returns:
            A function that unregisters the listener (calling it again does nothing).
        """
        return self._health.on_recovered(listener)

    def add_commit_timer(self, timer: Callable[[float], None]) -> Callable[[], None]:
        """Call ``timer`` on the event loop with each committed transaction's duration in
        seconds (``BEGIN`` to ``COMMIT``; many writes share a transaction).

        Returns:
            A function that unregisters the timer (calling it again does nothing).
        """
        return _register(self._timers, timer)

    def _publish(self, records: list[StoredRecord], seconds: float) -> None:
        for timer in tuple(self._timers):
            try:
                timer(seconds)
            except Exception:
                logger.exception("store commit timer %r failed", timer)
        if not records:
            return
        # A copy: a listener may unregister itself (or another) while being called.
        for listener in tuple(self._listeners):
            try:
                listener(records)
            except Exception:
                # The message names no record: the traceback shows where the listener failed.
                logger.exception("store commit listener %r failed", listener)

    async def _shut_down(self) -> None:
        if self._writer is not None:
            await self._writer.stop()
        if self._readers is not None:
            # In a worker thread: shutdown waits for the reads in progress, which need the loop
            # to stay responsive until they hand back their results.
            await asyncio.to_thread(self._readers.shutdown, wait=True)
        with self._reader_connections_lock:
            connections, self._reader_connections = self._reader_connections, []
        for connection in connections:
            connection.close()

    async def _read(self, function: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        readers = self._readers
        if not self._accepting or readers is None or self._loop is None:
            raise StoreClosedError("the store is closed")

        def run() -> _T:
            try:
                return function(*args, **kwargs)
            except sqlite3.Error as error:
                # SQLite's messages name tables and constraints, never the values read.
                raise StoreError(f"store read failed: {error}") from error

        return await self._loop.run_in_executor(readers, run)

    def _connection(self) -> sqlite3.Connection:
        """This reader thread's connection, opened on its first read."""
        connection: sqlite3.Connection | None = getattr(self._reader_local, "connection", None)
        if connection is None:
            with self._reader_connections_lock:
                connection = self._spare_readers.pop() if self._spare_readers else None
            if connection is None:
                connection = open_reader(self._path)
                with self._reader_connections_lock:
                    self._reader_connections.append(connection)
            self._reader_local.connection = connection
        return connection

    def _get(self, record_id: str, version: int) -> StoredRecord | None:
        return reads.get(self._connection(), record_id, version)

    def _get_versions(self, keys: Sequence[tuple[str, int]]) -> list[StoredRecord | None]:
        connection = self._connection()
        return [reads.get(connection, record_id, version) for record_id, version in keys]

    def _search(self, query: SearchQuery, after_sequence: int, limit: int) -> list[StoredRecord]:
        return reads.search(self._connection(), query, after_sequence, limit)

    def _read_since(
        self,
        after_sequence: int,
        limit: int,
        kinds: frozenset[str],
        originating_centres: frozenset[str],
    ) -> list[StoredRecord]:
        return reads.read_since(
            self._connection(), after_sequence, limit, kinds, originating_centres
        )

    def _read_before(self, before_sequence: int, limit: int) -> list[StoredRecord]:
        return reads.read_before(self._connection(), before_sequence, limit)

    def _last_sequence(self) -> int:
        return reads.last_sequence(self._connection())

    def _retention_due(
        self, review_before_us: int, expires_before_us: int, limit: int
    ) -> list[RetentionRow]:
        return reads.retention_due(self._connection(), review_before_us, expires_before_us, limit)


def _check_limit(limit: int) -> None:
    # SQLite reads a negative LIMIT as "no limit": refuse it rather than return everything.
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")


def _register(registry: list[_T], item: _T) -> Callable[[], None]:
    """Add ``item`` to ``registry``; return the function that takes it out (once)."""
    registry.append(item)

    def unregister() -> None:
        if item in registry:
            registry.remove(item)

    return unregister


def _open_warm_reader(path: Path) -> sqlite3.Connection:
    """A reader connection that has read once: its schema and the WAL index are mapped from the
    files as they are now, so that it goes on reading them if the path is later unlinked."""
    connection = open_reader(path)
    connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return connection
