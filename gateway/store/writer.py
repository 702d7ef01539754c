"""The writer thread of the embedded store: one connection, group commit.

Callers on the event loop enqueue :class:`WriteRequest` values. The thread blocks for the first
request, takes whatever else is already queued (up to the batch limit, never splitting one
request), commits them all in one transaction and then hands the results back to the loop in a
single ``call_soon_threadsafe``. Under load many callers share one fsync; when idle a lone
caller is committed at once. An :class:`IngestRequest` (one payload's records) is always
committed in a transaction of its own.

Before each transaction the thread checks that the database file is still the one it opened
(:mod:`gateway.store.watch`); from the first difference on it refuses every write. What became
of each transaction is reported, on the loop, to the store's :class:`WriteHealth`, which logs
failures (rate-limited) and decides what health says about writes.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gateway.signing import SigningKeyError, SigningKeySource
from gateway.store.base import (
    Ingestion,
    IngestOutcome,
    PreparationRefused,
    PreparedWrite,
    StoredRecord,
    StoreError,
    WriteItem,
    WriteOutcome,
)
from gateway.store.batching import GroupCommit
from gateway.store.health import WriteHealth
from gateway.store.preparation import prepare_submission
from gateway.store.schema import open_writer
from gateway.store.transaction import TransactionResult, Transactions
from gateway.store.watch import DatabaseFile
from liaison.rules.lifecycle import RetentionDefaults

__all__ = [
    "IngestRequest",
    "PrepareRequest",
    "WriteRequest",
    "Writer",
    "describe_failure",
    "ingestion_wrote",
]

logger = logging.getLogger(__name__)

THREAD_NAME = "liaison-store-writer"


@dataclass(frozen=True, slots=True)
class WriteRequest:
    """One caller's items and the future that receives their outcomes."""

    items: Sequence[WriteItem]
    future: asyncio.Future[list[WriteOutcome]]


@dataclass(frozen=True, slots=True)
class PrepareRequest:
    """One Submit's request, as received (a serialized ``SubmitRequest``), for the writer to
    prepare and write, and the future that receives what became of it."""

    request: bytes
    centre_id: str
    future: asyncio.Future[PreparedWrite | PreparationRefused]


@dataclass(frozen=True, slots=True)
class IngestRequest:
    """One payload's records, stored in a transaction of their own, and the future that receives
    the outcome."""

    ingestion: Ingestion
    future: asyncio.Future[IngestOutcome]


class Writer:
    """Owns the writer thread and its connection."""

    def __init__(
        self,
        path: Path,
        synchronous: Literal["full", "normal"],
        max_batch_records: int,
        loop: asyncio.AbstractEventLoop,
        publish: Callable[[list[StoredRecord], float], None],
        signing_key: SigningKeySource | None = None,
        health: WriteHealth | None = None,
        retention: RetentionDefaults | None = None,
    ) -> None:
        """Prepare the writer; nothing runs before :meth:`start`.

        Args:
            path: The database file.
            synchronous: SQLite ``synchronous`` level.
            max_batch_records: Most records per transaction (a larger request goes alone).
            loop: The event loop that owns the callers' futures.
            publish: Called on ``loop`` after each transaction with its new versions (maybe
                none) and how long it took in seconds, before the callers are resolved.
            signing_key: The key the centre's own new versions are signed with.
            health: Told, on ``loop``, what became of each transaction, and when the database
                file is gone (then every write is refused).
            retention: The retention dates stamped on the centre's own records without them.
        """
        self._health = health if health is not None else WriteHealth(30.0)
        self._lost: str | None = None
        self._path = path
        self._signing_key = signing_key
        self._retention = retention if retention is not None else RetentionDefaults()
        self._synchronous: Literal["full", "normal"] = synchronous
        self._max_batch_records = max_batch_records
        self._loop = loop
        self._publish = publish
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._ready: asyncio.Future[None] = loop.create_future()
        self._stopped: asyncio.Future[None] = loop.create_future()
        self._thread = threading.Thread(target=self._main, name=THREAD_NAME, daemon=False)
        self._transactions_committed = 0

    @property
    def transactions_committed(self) -> int:
        """Number of transactions committed since the start (written by the writer thread)."""
        return self._transactions_committed

    async def start(self) -> None:
        """Start the thread and wait until the database is open and migrated.

        Raises:
            StoreError: the database cannot be opened or migrated; the thread has ended.
        """
        self._thread.start()
        try:
            await self._ready
        except BaseException:
            # Failed (the thread has ended) or cancelled (it must not serve on unseen): the
            # sentinel ends it in both cases.
            self._queue.put(None)
            await self._stopped
            self._thread.join()
            raise

    def submit(self, request: _Request) -> None:
        """Queue a request (event loop thread only; never blocks)."""
        self._queue.put(request)

    async def stop(self) -> None:
        """Commit every request queued so far, then end the thread and close the connection."""
        self._queue.put(None)
        await self._stopped
        # The thread has signalled its very last step, so this join returns at once.
        self._thread.join()

    def _main(self) -> None:
        try:
            signer = None if self._signing_key is None else self._signing_key.load()
            connection = open_writer(self._path, self._synchronous)
            transactions = Transactions(connection, signer, self._retention)
            watch = DatabaseFile(self._path)
        except BaseException as error:
            self._call_on_loop(_settle, self._ready, _as_store_error(error, self._path))
            self._call_on_loop(_settle, self._stopped, None)
            return
        self._call_on_loop(_settle, self._ready, None)
        try:
            self._serve(transactions, watch)
        finally:
            connection.close()
            self._call_on_loop(_settle, self._stopped, None)

    def _serve(self, transactions: Transactions, watch: DatabaseFile) -> None:
        commit: GroupCommit[_Request] = GroupCommit(
            max_records=self._max_batch_records, size_of=_size, alone=_alone
        )
        stopping = False
        while True:
            if not commit.pending:
                if stopping:
                    return  # everything queued before the sentinel is committed
                first = self._queue.get()
                if first is None:
                    return
                commit.add([first])
            stopping = self._gather(commit) or stopping
            batch = commit.take()
            if self._lost is None:
                self._lost = watch.change()
                if self._lost is not None:
                    self._call_on_loop(self._health.lose, self._lost)
            if self._lost is not None:
                self._call_on_loop(self._refuse, batch, self._lost)
            elif isinstance(batch[0], IngestRequest):
                self._commit_ingestion(transactions, batch[0])
            else:
                self._commit(transactions, [r for r in batch if not isinstance(r, IngestRequest)])

    def _gather(self, commit: GroupCommit[_Request]) -> bool:
        """Take what else has arrived (waiting ``commit.linger()`` for more when busy); return
        whether the stop sentinel came."""
        deadline = time.monotonic() + commit.linger()
        while True:
            remaining = deadline - time.monotonic()
            try:
                item = (
                    self._queue.get(timeout=remaining)
                    if remaining > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                return False
            if item is None:
                return True
            commit.add([item])

    def _commit(
        self, transactions: Transactions, requests: list[WriteRequest | PrepareRequest]
    ) -> None:
        written: list[WriteRequest | PrepareRequest] = []
        groups: list[Sequence[WriteItem]] = []
        prepared: list[tuple[int, int] | None] = []
        for request in requests:
            if isinstance(request, PrepareRequest):
                started = time.time_ns()
                item = prepare_submission(request.request, request.centre_id)
                if isinstance(item, PreparationRefused):
                    self._call_on_loop(_settle_refusal, request, item)
                    continue
                groups.append((item,))
                prepared.append((started, time.time_ns()))
            else:
                groups.append(request.items)
                prepared.append(None)
            written.append(request)
        if not written:
            return  # every record of the batch was refused
        try:
            result = transactions.run(groups)
        except Exception as error:
            self._call_on_loop(self._fail, written, describe_failure(error))
            return
        self._transactions_committed += 1
        self._call_on_loop(self._resolve, written, result, prepared, transactions.last_seconds)

    def _commit_ingestion(self, transactions: Transactions, request: IngestRequest) -> None:
        try:
            outcome, records = transactions.ingest(request.ingestion)
        except Exception as error:
            self._call_on_loop(self._fail, [request], describe_failure(error))
            return
        self._transactions_committed += 1
        seconds = transactions.last_seconds
        self._call_on_loop(self._resolve_ingestion, request, outcome, records, seconds)

    def _resolve_ingestion(
        self,
        request: IngestRequest,
        outcome: IngestOutcome,
        records: list[StoredRecord],
        seconds: float,
    ) -> None:
        # On the loop; listeners first, as in _resolve.
        self._health.committed(wrote=ingestion_wrote(outcome))
        self._publish(records, seconds)
        if not request.future.done():
            request.future.set_result(outcome)

    def _resolve(
        self,
        requests: list[WriteRequest | PrepareRequest],
        result: TransactionResult,
        prepared: list[tuple[int, int] | None],
        seconds: float,
    ) -> None:
        # On the loop. Listeners first, so that a subscriber has the new versions queued before
        # the submitter's acknowledgement can make anyone look for them.
        self._health.committed(wrote=bool(result.records))
        self._publish(result.records, seconds)
        for request, outcomes, when in zip(requests, result.outcomes, prepared, strict=True):
            # A cancelled caller's items are committed all the same; only the answer is dropped.
            if request.future.done():
                continue
            if isinstance(request, PrepareRequest):
                assert when is not None
                [outcome] = outcomes
                request.future.set_result(PreparedWrite(outcome, when))
            else:
                request.future.set_result(outcomes)

    def _fail(self, requests: Sequence[_Request], reason: str) -> None:
        self._health.failed(reason, len(requests))
        for request in requests:
            if not request.future.done():
                # A fresh exception per caller: raising one instance in many tasks would chain
                # their tracebacks together.
                request.future.set_exception(
                    StoreError(
                        f"the store transaction failed and was rolled back ({reason}); "
                        "nothing of it was stored"
                    )
                )

    def _refuse(self, requests: Sequence[_Request], reason: str) -> None:
        # On the loop: the store lost its file; nothing was tried.
        for request in requests:
            if not request.future.done():
                request.future.set_exception(StoreError(reason))

    def _call_on_loop(self, callback: Callable[..., None], *args: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:
            # The loop was closed without closing the store: nobody is left to tell.
            logger.warning("store writer: event loop closed, %s not delivered", callback.__name__)


_Request = WriteRequest | IngestRequest | PrepareRequest


def _size(request: _Request) -> int:
    if isinstance(request, WriteRequest):
        return len(request.items)
    return 1 if isinstance(request, PrepareRequest) else len(request.ingestion.items)


def _alone(request: _Request) -> bool:
    return isinstance(request, IngestRequest)


def ingestion_wrote(outcome: IngestOutcome) -> bool:
    """Whether the transaction of an ingestion with this outcome wrote anything (a payload seen
    before, or refused for another centre's record, writes nothing)."""
    return not outcome.duplicate and outcome.origin_conflict is None


def _settle_refusal(request: PrepareRequest, refusal: PreparationRefused) -> None:
    if not request.future.done():
        request.future.set_result(refusal)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


def _as_store_error(error: BaseException, path: Path) -> BaseException:
    if isinstance(error, sqlite3.Error | OSError | SigningKeyError):
        return StoreError(f"store {path}: cannot open: {error}")
    return error


def describe_failure(error: Exception) -> str:
    """Why a transaction failed, without anything that could carry record content.

    SQLite's messages name tables, columns and constraints, never bound values; any other
    exception's message could quote a record, so only its type and where it was raised are kept.
    """
    if isinstance(error, sqlite3.Error):
        name = getattr(error, "sqlite_errorname", None) or type(error).__name__
        return f"{name}: {error}"
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return type(error).__name__
    last = frames[-1]
    return f"{type(error).__name__} at {Path(last.filename).name}:{last.lineno} in {last.name}"
