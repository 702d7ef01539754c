"""The group-commit writer of a PostgreSQL store: one task on the event loop.

Callers queue requests; the task takes what has arrived (by the same rules as the embedded
store's writers, :class:`~gateway.store.batching.GroupCommit`), commits it in one transaction on
a pooled connection, tells the listeners and then answers the callers. While a transaction is in
flight the next requests pile up, so that under load many callers share one commit.

Up to ``lanes`` transactions are in flight at once (three by default): once one has decided (under
the feed lock, or before it for new records), the next - its records already prepared - is sent
and waits at the lock in the database, so the lock passes from one to the next without a round
trip to the gateway in between. Decisions under the lock read what the previous transaction
committed; guesses made before it are checked by the database (decision 0027). Callers are
answered, and versions published, in commit order.

A transaction whose connection broke *before* its ``COMMIT`` was sent stored nothing: it is
tried once more on a fresh connection (a pooled connection whose backend was terminated must not
fail a caller). A failure during the ``COMMIT`` itself leaves the outcome unknown, so the callers
are told it failed; a retried write is then answered as a duplicate if it was in fact stored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from gateway.store.base import (
    PreparationRefused,
    PreparedWrite,
    StoreError,
    WriteItem,
)
from gateway.store.batching import GroupCommit
from gateway.store.health import WriteHealth
from gateway.store.postgresql.publication import FeedPublisher
from gateway.store.postgresql.transaction import Attempt, PostgresTransactions
from gateway.store.preparation import prepare_submission
from gateway.store.transaction import TransactionResult
from gateway.store.writer import (
    IngestRequest,
    PrepareRequest,
    WriteRequest,
    describe_failure,
    ingestion_wrote,
)

__all__ = ["PostgresWriter", "describe_database_failure"]

logger = logging.getLogger(__name__)

_Request = WriteRequest | IngestRequest | PrepareRequest

CONNECTION_TIMEOUT_SECONDS = 5.0
"""How long a transaction waits for a pooled connection before it fails."""

LANES = 3
"""Transactions in flight at once: one committing, the next ones waiting at the feed lock or on
their way to it. New records hold the lock only for the database's work, so the round trips
through the gateway's event loop are what a replica waits for: measured at 64 Submits in
flight, three lanes did 1,300-1,700 calls/s where two did 1,200-1,250 (bench/README.md)."""


class PostgresWriter:
    """Owns the writer task."""

    def __init__(
        self,
        pool: AsyncConnectionPool[Any],
        transactions: PostgresTransactions,
        max_batch_records: int,
        publisher: FeedPublisher,
        timed: Callable[[float], None],
        health: WriteHealth,
        lanes: int = LANES,
    ) -> None:
        """Args:
        pool: Where the transactions get their connection.
        transactions: Runs one transaction.
        max_batch_records: Most records per transaction (a larger request goes alone).
        publisher: Tells the listeners about a transaction's new versions, before the callers.
        timed: Told each committed transaction's duration in seconds.
        health: Told what became of each transaction.
        lanes: Most transactions in flight at once (at most the pool's connections).
        """
        if lanes < 1:
            raise ValueError(f"lanes must be at least 1, got {lanes}")
        self._pool = pool
        self._transactions = transactions
        self._max_batch_records = max_batch_records
        self._publisher = publisher
        self._timed = timed
        self._health = health
        self._lanes = asyncio.Semaphore(lanes)
        self._queue: asyncio.Queue[_Request | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self.transactions_committed = 0

    def start(self) -> None:
        """Start the writer task."""
        self._task = asyncio.ensure_future(self._serve())

    def submit(self, request: _Request) -> None:
        """Queue a request (never blocks)."""
        self._queue.put_nowait(request)

    async def stop(self) -> None:
        """Commit every request queued so far, then end the task."""
        self._queue.put_nowait(None)
        if self._task is not None:
            await self._task

    async def _serve(self) -> None:
        commit: GroupCommit[_Request] = GroupCommit(
            max_records=self._max_batch_records, size_of=_size, alone=_alone
        )
        stopping = False
        # Done when the previous transaction has answered its callers: the next one waits for
        # it, so that listeners and callers hear commits in order.
        previous: asyncio.Future[None] | None = None
        try:
            while True:
                # A free lane first: what arrives meanwhile joins the next transaction.
                await self._lanes.acquire()
                if not commit.pending:
                    first = None if stopping else await self._queue.get()
                    if first is None:
                        self._lanes.release()
                        return
                    commit.add([first])
                stopping = await self._gather(commit) or stopping
                batch = commit.take()
                done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                decided = asyncio.Event()
                self._publisher.own_commit_started()
                task = asyncio.ensure_future(self._handle(batch, previous, done, decided))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
                previous = done
                # The next transaction is gathered once this one has decided: it then waits at
                # the lock while this one commits, and takes what arrived meanwhile (sent
                # earlier, it would wait as long with fewer records).
                await decided.wait()
        finally:
            if self._in_flight:
                await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _handle(
        self,
        batch: list[_Request],
        previous: asyncio.Future[None] | None,
        done: asyncio.Future[None],
        decided: asyncio.Event,
    ) -> None:
        try:
            if isinstance(batch[0], IngestRequest):
                await self._commit_ingestion(batch[0], previous, decided)
            else:
                requests = [r for r in batch if not isinstance(r, IngestRequest)]
                await self._commit(requests, previous, decided)
        except Exception:  # never let one batch end the writer
            logger.exception("store writer: a batch could not be handled")
            _fail(batch, "internal error")
        finally:
            decided.set()
            done.set_result(None)
            self._lanes.release()
            read_others = self._publisher.own_commit_ended()
        if read_others:
            try:
                await self._publisher.woken()
            except Exception:  # the follower's next notification or poll reads them
                logger.warning("store writer: reading other replicas' commits failed")

    async def _gather(self, commit: GroupCommit[_Request]) -> bool:
        deadline = time.monotonic() + commit.linger()
        while True:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                try:
                    async with asyncio.timeout(remaining):
                        item = await self._queue.get()
                except TimeoutError:
                    return False
            if item is None:
                return True
            commit.add([item])

    async def _commit(
        self,
        requests: list[WriteRequest | PrepareRequest],
        previous: asyncio.Future[None] | None,
        decided: asyncio.Event,
    ) -> None:
        prepare = [r for r in requests if isinstance(r, PrepareRequest)]
        prepared_items: dict[int, tuple[WriteItem | PreparationRefused, tuple[int, int]]] = {}
        if prepare:
            # Parsing, validating and hashing is CPU work: off the event loop (and while the
            # previous transaction is in flight).
            for asked, result in zip(
                prepare, await asyncio.to_thread(_prepare_all, prepare), strict=True
            ):
                prepared_items[id(asked)] = result
        written: list[WriteRequest | PrepareRequest] = []
        groups: list[Sequence[WriteItem]] = []
        when: list[tuple[int, int] | None] = []
        for request in requests:
            if isinstance(request, PrepareRequest):
                item, span = prepared_items[id(request)]
                if isinstance(item, PreparationRefused):
                    if not request.future.done():
                        request.future.set_result(item)
                    continue
                groups.append((item,))
                when.append(span)
            else:
                groups.append(request.items)
                when.append(None)
            written.append(request)
        if not written:
            return
        try:
            result, seconds = await self._attempt(
                lambda connection, attempt: self._transactions.run(connection, groups, attempt),
                decided,
            )
        except Exception as error:
            await _after(previous)
            self._failed(written, error)
            return
        await _after(previous)
        self.transactions_committed += 1
        self._timed(seconds)
        self._health.committed(wrote=bool(result.records))
        await self._publisher.committed(result.records)
        _resolve(written, result, when)

    async def _commit_ingestion(
        self,
        request: IngestRequest,
        previous: asyncio.Future[None] | None,
        decided: asyncio.Event,
    ) -> None:
        try:
            (outcome, records), seconds = await self._attempt(
                lambda connection, attempt: self._transactions.ingest(
                    connection, request.ingestion, attempt
                ),
                decided,
            )
        except Exception as error:
            await _after(previous)
            self._failed([request], error)
            return
        await _after(previous)
        self.transactions_committed += 1
        self._timed(seconds)
        self._health.committed(wrote=ingestion_wrote(outcome))
        await self._publisher.committed(records)
        if not request.future.done():
            request.future.set_result(outcome)

    async def _attempt(
        self,
        work: Callable[[psycopg.AsyncConnection[Any], Attempt], Awaitable[Any]],
        decided: asyncio.Event,
    ) -> tuple[Any, float]:
        """Run ``work`` on a pooled connection; once more on another when the connection broke
        before anything could have been committed. Returns its result and its duration;
        ``decided`` is set once it has decided."""

        for number in (1, 2):
            attempt = Attempt(decided=decided.set)
            async with self._pool.connection(timeout=CONNECTION_TIMEOUT_SECONDS) as connection:
                try:
                    return await work(connection, attempt), attempt.seconds
                except BaseException as error:
                    if (
                        not isinstance(error, psycopg.OperationalError)
                        or number == 2
                        or attempt.reached_commit
                    ):
                        raise
                    logger.warning("store writer: connection lost before commit; retrying")
            # Drop the idle connections that broke with it before the second attempt.
            await self._pool.check()
        raise AssertionError("unreachable")

    def _failed(self, requests: Sequence[_Request], error: Exception) -> None:
        reason = describe_database_failure(error)
        self._health.failed(reason, len(requests))
        _fail(requests, reason)


async def _after(previous: asyncio.Future[None] | None) -> None:
    """Wait until the previous transaction has answered its callers (it never fails)."""
    if previous is not None:
        await asyncio.shield(previous)


def _prepare_all(
    requests: list[PrepareRequest],
) -> list[tuple[WriteItem | PreparationRefused, tuple[int, int]]]:
    prepared: list[tuple[WriteItem | PreparationRefused, tuple[int, int]]] = []
    for request in requests:
        started = time.time_ns()
        item = prepare_submission(request.request, request.centre_id)
        prepared.append((item, (started, time.time_ns())))
    return prepared


def _resolve(
    requests: list[WriteRequest | PrepareRequest],
    result: TransactionResult,
    when: list[tuple[int, int] | None],
) -> None:
    for request, outcomes, span in zip(requests, result.outcomes, when, strict=True):
        if request.future.done():
            continue  # a cancelled caller's items are committed all the same
        if isinstance(request, PrepareRequest):
            assert span is not None
            [outcome] = outcomes
            request.future.set_result(PreparedWrite(outcome, span))
        else:
            request.future.set_result(outcomes)


def _fail(requests: Sequence[_Request], reason: str) -> None:
    for request in requests:
        if not request.future.done():
            request.future.set_exception(
                StoreError(
                    f"the store transaction failed and was rolled back ({reason}); "
                    "nothing of it was stored"
                )
            )


def describe_database_failure(error: BaseException) -> str:
    """Why a database call failed, without anything that could carry record content: the
    SQLSTATE and PostgreSQL's primary message (which names constraints, never values)."""
    if isinstance(error, psycopg.Error):
        state = error.sqlstate or "-"
        primary = error.diag.message_primary if error.sqlstate else str(error).splitlines()[0]
        return f"{type(error).__name__} [{state}]: {primary}"
    if isinstance(error, Exception):
        return describe_failure(error)
    return type(error).__name__


def _size(request: _Request) -> int:
    if isinstance(request, WriteRequest):
        return len(request.items)
    return 1 if isinstance(request, PrepareRequest) else len(request.ingestion.items)


def _alone(request: _Request) -> bool:
    return isinstance(request, IngestRequest)
