"""One SubmitStream call as a pipeline: prepare messages, write them in order, answer in order.

Messages arrive as bytes and are prepared by a :class:`~gateway.store.preparation.MessagePreparer`
(in a worker process when they are large), several at a time. As soon as the oldest message in
preparation is ready - never a later one first - its records get their result slots and its valid
records are queued for the store, so the store commits them in stream order while the next
messages are still being prepared and the loop reads further ones. Acknowledgements are filled in
once each write has committed.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.errors import (
    ConflictError,
    FailedPreconditionError,
    GatewayError,
    LimitExceededError,
    PermissionDeniedError,
)
from gateway.security.guard import report_refused
from gateway.services.statuses import fill_ack, record_error
from gateway.store.base import (
    OriginConflict,
    RecordStore,
    RecordWithdrawn,
    StoredVersion,
    StoreError,
    VersionConflict,
    WriteItem,
    WriteOutcome,
)
from gateway.store.preparation import PreparedEntry, Refused, write_item
from gateway.store.preparation_pool import MessagePreparer
from liaison.rules.errors import LiaisonError
from liaison.rules.ids import RECORD_ID_PATTERN
from liaison.v1 import exchange_pb2

__all__ = [
    "HELD_RECORDS",
    "MESSAGES_IN_PREPARATION",
    "WRITES_IN_FLIGHT",
    "WRITES_OUTSTANDING",
    "StreamOutcome",
    "StreamSubmission",
    "UnknownThread",
    "conflict_error",
]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UnknownThread:
    """The outcome of a reply to a thread no request addressed to this centre opened: refused
    before it was written (FAILED_PRECONDITION)."""

    record_id: str
    thread_id: str
    message: str = ""
    """Why it answers nothing, when not an unknown thread (e.g. its requester may not read it)."""


StreamOutcome = WriteOutcome | UnknownThread
"""What one record of a stream came to."""

MESSAGES_IN_PREPARATION = 3
"""Messages a stream may have in preparation before the loop reads the next one: enough to keep
the worker busy while the loop writes, few enough to bound a stream's memory."""

WRITES_IN_FLIGHT = 4
"""Batches a stream may have queued in the store before the loop reads the next message."""

WRITES_OUTSTANDING = 2
"""Writes of a stream the store has not finished before the next prepared records are held back:
one committing and one queued behind it keep the writer busy, and what arrives meanwhile goes
into the next write together - fewer, larger transactions, which cost SQLite less per record."""

HELD_RECORDS = 2048
"""Held-back records are written at once when this many have gathered."""


class StreamSubmission:
    """The state of one SubmitStream call; every method runs on the event loop."""

    def __init__(
        self,
        *,
        store: RecordStore,
        preparer: MessagePreparer,
        max_records: int,
        store_failed: LiaisonError,
        write: Callable[[list[WriteItem]], Awaitable[Sequence[StreamOutcome]]] | None = None,
        on_prepare: Callable[[asyncio.Future[list[PreparedEntry]]], None] | None = None,
    ) -> None:
        """Start an empty stream.

        Args:
            store: Where the records go.
            write: Writes one batch (default ``store.write``); the service passes one that
                records the store span and metrics.
            on_prepare: Called with each message's preparation future as it starts (tracing).
            preparer: Prepares each message.
            max_records: Most records the stream may carry.
            store_failed: The per-record error of records whose transaction failed.
        """
        self.response = exchange_pb2.SubmitStreamResponse()
        self._store = store
        self._write = write if write is not None else store.write
        self._on_prepare = on_prepare
        self._preparer = preparer
        self._max_records = max_records
        self._store_failed = store_failed
        self._received = 0
        self._preparing: collections.deque[asyncio.Future[list[PreparedEntry]]] = (
            collections.deque()
        )
        self._writing: collections.deque[
            tuple[asyncio.Future[Sequence[StreamOutcome]], list[exchange_pb2.SubmitResult]]
        ] = collections.deque()
        self._held_items: list[WriteItem] = []
        self._held_slots: list[exchange_pb2.SubmitResult] = []
        self._outstanding = 0
        self._failure: LiaisonError | None = None
        self._failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._closed = False

    async def next_message(self, messages: AsyncIterator[bytes]) -> bytes | None:
        """The next message of the stream, ``None`` at its end.

        While messages are being prepared in a worker, the read races their refusal, so that a
        refusal (a dead worker, a malformed message) ends the call at once, however long the
        client takes to send its next message.

        Raises:
            GatewayError: as for :meth:`add`.
        """
        self._raise_failure()
        if not self._preparing:
            # Nothing can fail meanwhile: a plain read, without a task.
            return await anext(messages, None)
        read = asyncio.ensure_future(_read(messages))
        try:
            await asyncio.wait((read, self._failed), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            read.cancel()  # the call was cancelled: nobody reads its messages any more
            raise
        if self._failure is not None:
            read.cancel()
            raise self._failure
        return await read

    async def add(self, data: bytes) -> None:
        """Take the next message; wait while too much of the stream is still in progress.

        Raises:
            GatewayError: a message so far was refused (malformed, over the stream's record
                limit, or its preparation failed); the records before it were processed.
        """
        self._raise_failure()
        future = self._preparer.prepare(data)
        if self._on_prepare is not None:
            self._on_prepare(future)
        self._preparing.append(future)
        future.add_done_callback(self._advance)
        # After a refusal nothing leaves the queue any more: stop waiting and report it.
        while len(self._preparing) > MESSAGES_IN_PREPARATION and self._failure is None:
            await asyncio.wait((self._preparing[0],))
        self._raise_failure()
        while len(self._writing) > WRITES_IN_FLIGHT:
            await self._settle_oldest()

    async def finish(self) -> exchange_pb2.SubmitStreamResponse:
        """Wait for every message to be prepared and written; the complete response.

        Raises:
            GatewayError: as for :meth:`add`.
        """
        while self._preparing:
            await asyncio.wait((self._preparing[0],))
            self._raise_failure()
        self._raise_failure()
        self._release()
        while self._writing:
            await self._settle_oldest()
        self.response.received = self._received
        return self.response

    def close(self) -> None:
        """Stop taking prepared messages; what is queued in the store still commits, unobserved."""
        self._closed = True
        self._release()
        for future in self._preparing:
            future.cancel()
        for write, _ in self._writing:
            write.add_done_callback(_consume_outcome)
        self._preparing.clear()
        self._writing.clear()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _advance(self, _: object) -> None:
        """Queue the writes of every prepared message at the head of the stream, in order."""
        preparing = self._preparing
        while preparing and preparing[0].done() and self._failure is None and not self._closed:
            future = preparing.popleft()
            if future.cancelled():
                continue
            error = future.exception()
            if error is None:
                try:
                    self._queue_write(future.result())
                except LiaisonError as refused:
                    self._failure = refused
            elif isinstance(error, LiaisonError):
                self._failure = error
            else:
                # A bug, not bad input: only the exception's type is logged, since its message
                # could quote a record.
                _log.error("preparing a stream message failed: %s", type(error).__name__)
                self._failure = GatewayError("the records could not be prepared")
        if self._failure is not None and not self._failed.done():
            # What came before the refused message is written; nothing after it, and its
            # preparation is not awaited.
            self._failed.set_result(None)
            self._release()
            for future in preparing:
                future.add_done_callback(_consume_outcome)

    def _queue_write(self, entries: list[PreparedEntry]) -> None:
        if self._received + len(entries) > self._max_records:
            raise LimitExceededError(
                f"a SubmitStream call may carry at most {self._max_records} records; the "
                f"records before number {self._received} were processed, split the rest over "
                "more streams"
            )
        response = self.response
        results = response.results
        items: list[WriteItem] = []
        slots: list[exchange_pb2.SubmitResult] = []
        index = self._received
        for entry in entries:
            slot = results.add(index=index)
            index += 1
            if isinstance(entry, Refused):
                slot.error.MergeFromString(entry.error)
                if entry.record_id:
                    report_refused([entry.record_id])
                response.rejected += 1
                continue
            items.append(write_item(entry))
            slots.append(slot)
        self._received = index
        self._held_items += items
        self._held_slots += slots
        if self._outstanding < WRITES_OUTSTANDING or len(self._held_items) >= HELD_RECORDS:
            self._release()

    def _release(self) -> None:
        """Queue the held-back records in the store as one write."""
        if not self._held_items:
            return
        items, self._held_items = self._held_items, []
        slots, self._held_slots = self._held_slots, []
        write = asyncio.ensure_future(self._write(items))
        self._outstanding += 1
        write.add_done_callback(self._written)
        self._writing.append((write, slots))

    def _written(self, _: object) -> None:
        self._outstanding -= 1
        self._release()

    async def _settle_oldest(self) -> None:
        """Fill the result slots of the oldest queued write once it has committed (or failed)."""
        future, slots = self._writing[0]
        try:
            outcomes = await future
        except StoreError:
            failure = record_error(self._store_failed)
            for slot in slots:
                slot.error.CopyFrom(failure)
            self.response.rejected += len(slots)
            self._writing.popleft()
            return
        self._writing.popleft()
        _fill_results(self.response, slots, outcomes)


def _fill_results(
    response: exchange_pb2.SubmitStreamResponse,
    slots: Sequence[exchange_pb2.SubmitResult],
    outcomes: Sequence[StreamOutcome],
) -> None:
    stored = duplicates = rejected = 0
    for slot, outcome in zip(slots, outcomes, strict=True):
        if not isinstance(outcome, StoredVersion):
            slot.error.CopyFrom(record_error(conflict_error(outcome)))
            report_refused([outcome.record_id])
            rejected += 1
            continue
        fill_ack(slot.ack, outcome)
        if outcome.duplicate:
            duplicates += 1
        else:
            stored += 1
    response.stored += stored
    response.duplicates += duplicates
    response.rejected += rejected


def conflict_error(
    conflict: VersionConflict | OriginConflict | RecordWithdrawn | UnknownThread,
) -> GatewayError:
    """The refusal of a write whose expected version was not the latest, that names another
    originating centre than the record's stored versions, that follows a withdrawal, or that
    replies to an unknown thread."""
    if isinstance(conflict, UnknownThread):
        return FailedPreconditionError(
            conflict.message or unknown_thread_message(conflict.thread_id, conflict.record_id)
        )
    if isinstance(conflict, RecordWithdrawn):
        return FailedPreconditionError(
            f"record {conflict.record_id} was withdrawn (version {conflict.version}): no version "
            "follows a withdrawal; publish the content under a new record id"
        )
    if isinstance(conflict, OriginConflict):
        return PermissionDeniedError(
            f"record {conflict.record_id} originates at {conflict.originating_centre}: only that "
            "centre publishes its versions"
        )
    return ConflictError(
        f"record {conflict.record_id} is at version {conflict.latest_version}, "
        f"the submit expected version {conflict.expected_version}; read it again and resubmit"
    )


def unknown_thread_message(thread_id: str, record_id: str = "") -> str:
    """Why a reply to ``thread_id`` is refused (the id is shown only when it is a valid one)."""
    shown = thread_id if RECORD_ID_PATTERN.fullmatch(thread_id) else "(invalid id)"
    which = f"reply {record_id}: " if record_id else ""
    return (
        f"{which}no request of thread {shown} addressed to this centre is known here: a reply "
        "answers a request this centre received"
    )


async def _read(messages: AsyncIterator[bytes]) -> bytes | None:
    return await anext(messages, None)


def _consume_outcome(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved, so asyncio does not warn about it
